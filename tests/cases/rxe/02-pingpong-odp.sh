#!/bin/sh
# ibv_rc_pingpong over rxe0 with explicit (-o) and implicit (-O) ODP
# memory, received data validated (-c); the ODP counters move.
. "$TOP/tests/lib.sh"
g=$(gid_index) || fail "no RoCE v2 GID"
n=100 s=8192 bad=0
for mode in -o -O; do
	f0=$(counter page_faults)
	if pair 120 /tmp/pp ibv_rc_pingpong -d $DEV -g "$g" -s $s -n $n -c $mode -- \
		ibv_rc_pingpong -d $DEV -g "$g" -s $s -n $n -c $mode $IP &&
	   grep -q "$((2 * n * s)) bytes in" /tmp/pp.server &&
	   grep -q "$((2 * n * s)) bytes in" /tmp/pp.client; then
		f1=$(counter page_faults)
		if [ "$f1" -gt "$f0" ]; then
			result PASS "rc_pingpong$mode"
		else
			note "page_faults did not move ($f0 -> $f1)"; result FAIL "rc_pingpong$mode"; bad=1
		fi
	else
		result FAIL "rc_pingpong$mode"; bad=1
	fi
done
exit $bad
