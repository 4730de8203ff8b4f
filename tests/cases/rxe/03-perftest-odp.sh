#!/bin/sh
# perftest with --odp over rxe0: Debian's perftest for write, read and send,
# perftest 25.01 (built from Debian's source) for atomics and, with
# --odp_implicit, for all four.  Each run
# completes its iterations, the ODP fault counter moves, and neither process
# pins memory (VmPin 0) during the transfer, where the same pinned run does.
. "$TOP/tests/lib.sh"
g=$(gid_index) || fail "no RoCE v2 GID"
pt=$BUILD/perftest
[ -x "$pt/ib_atomic_bw" ] || fail "$pt/ib_atomic_bw not built (make perftest)"
bad=0

run() {	# name binary size iters odp-flag...
	name=$1 bin=$2 size=$3 iters=$4; shift 4
	flags=" $* "
	f0=$(counter page_faults)
	rm -f /tmp/done.srv /tmp/done.cli
	(timeout 180 $bin -d $DEV -x "$g" -s "$size" -n "$iters" -F "$@" > /tmp/srv.txt 2>&1
	 echo $? > /tmp/done.srv) &
	sleep 1
	(timeout 180 $bin -d $DEV -x "$g" -s "$size" -n "$iters" -F "$@" $IP > /tmp/cli.txt 2>&1
	 echo $? > /tmp/done.cli) &
	pin=$(max_vmpin "${bin##*/}" /tmp/done.cli)
	wait
	src=$(cat /tmp/done.srv) crc=$(cat /tmp/done.cli)
	f1=$(counter page_faults)
	row=$(awk '$1 == '"$size"' && NF >= 5' /tmp/cli.txt | head -1)
	note "$name: server $src client $crc, VmPin max ${pin} kB, page_faults +$((f1 - f0)), row: $row"
	ok=1
	[ $src = 0 ] && [ $crc = 0 ] || ok=0
	set -- $row
	[ "${2:-}" = "$iters" ] || ok=0
	case "$flags" in
	*" --odp "* | *" --odp_implicit "*)
		[ "$pin" = 0 ] || { note "$name pinned memory"; ok=0; }
		[ $((f1 - f0)) -gt 0 ] || { note "$name: no ODP faults counted"; ok=0; } ;;
	*)
		[ "$pin" -gt 0 ] || { note "$name: pinned run shows no VmPin"; ok=0; } ;;
	esac
	if [ $ok = 1 ]; then result PASS "$name"; else
		result FAIL "$name"; bad=1; tail -5 /tmp/srv.txt /tmp/cli.txt; fi
}

# Long enough to be sampled: VmPin is read every 0.2 s.
run ib_write_bw-odp ib_write_bw 65536 300 --odp
run ib_read_bw-odp ib_read_bw 65536 300 --odp
run ib_send_bw-odp ib_send_bw 65536 300 --odp
run ib_atomic_bw-odp "$pt/ib_atomic_bw" 8 3000 --odp
run ib_atomic_bw-fetch_add-odp "$pt/ib_atomic_bw" 8 3000 --odp -A FETCH_AND_ADD
# perftest 25.01 with --odp_implicit (perftest-patches): the whole address
# space registered once.
run ib_write_bw-implicit "$pt/ib_write_bw" 65536 300 --odp_implicit
run ib_read_bw-implicit "$pt/ib_read_bw" 65536 300 --odp_implicit
run ib_send_bw-implicit "$pt/ib_send_bw" 65536 300 --odp_implicit
run ib_atomic_bw-implicit "$pt/ib_atomic_bw" 8 3000 --odp_implicit
# The control: pinned memory shows in VmPin.
run ib_write_bw-pinned ib_write_bw 65536 300
exit $bad
