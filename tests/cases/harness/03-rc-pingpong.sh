#!/bin/sh
# ibv_rc_pingpong between two processes over rxe0, received data validated (-c).
. "$TOP/tests/lib.sh"
g=$(gid_index) || fail "no RoCE v2 GID"
n=200 s=4096
pair 120 /tmp/pp ibv_rc_pingpong -d $DEV -g "$g" -s $s -n $n -c -- \
	ibv_rc_pingpong -d $DEV -g "$g" -s $s -n $n -c $IP || fail "ibv_rc_pingpong failed"
for side in server client; do
	grep -q "$((2 * n * s)) bytes in .* seconds" /tmp/pp.$side ||
		fail "$side did not report $((2 * n * s)) bytes"
	grep -q "$n iters in" /tmp/pp.$side || fail "$side did not complete $n iterations"
done
