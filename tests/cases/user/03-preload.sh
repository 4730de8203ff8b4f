#!/bin/sh
# The preload shim: a plain verbs program (shim-test) behaves as expected
# with pinned MRs alone and with `ibv-odp run`; a device without implicit
# ODP makes the shim pass everything to libibverbs; ibv_rc_pingpong checks
# its data under the shim; Debian's ib_write_bw, ib_read_bw and ib_send_bw
# (no --odp) run under the shim with VmPin 0, ODP faults counted and their
# data through rxe, where the same run without the shim pins its buffers;
# `ibv-odp run` errors.
. "$TOP/tests/lib.sh"
B=$BUILD/ibv-odp
T=$B/bin/ibv-odp
[ -x "$T" ] || fail "$T not built (make userspace)"
g=$(gid_index) || fail "no RoCE v2 GID"
rc=0
flunk() { result FAIL "$1"; rc=1; }

# shim-test checks itself (RESULT lines); prefix its results.
sub() {	# prefix CMD...
	pfx=$1; shift
	"$@" > /tmp/sub.out 2>&1
	st=$?
	sed "s/^RESULT \([A-Z]*\) /RESULT \1 $pfx-/" /tmp/sub.out
	n=$(grep -c "^RESULT PASS" /tmp/sub.out)
	[ $st = 0 ] && [ "$n" -gt 0 ] || flunk "$pfx-exit"
}
sub plain "$B/tests/shim-test" plain
sub shim "$T" run -- "$B/tests/shim-test" shim
# The shim on a device without implicit ODP: everything falls through.
sub noimplicit env LD_PRELOAD="$B/tests/libfake-odp-caps.so" FAKE_ODP_CAPS=noimplicit \
	"$T" run -- "$B/tests/shim-test" plain

# -v: the shim says what it serves.
"$T" run -v -- "$B/tests/shim-test" shim > /tmp/v.out 2>&1
if grep -q "^ibv-odp-preload: reg .* implicit lkey" /tmp/v.out &&
   grep -q "passed to libibverbs (iova differs from the address)" /tmp/v.out &&
   grep -q "passed to libibverbs (access flags" /tmp/v.out &&
   grep -q "registrations served by implicit MRs" /tmp/v.out; then
	result PASS run-verbose
else
	cat /tmp/v.out; flunk run-verbose
fi

# ibv_rc_pingpong validates what it receives (-c), both sides under the shim.
# (pair splits its two commands at "--": run needs none before CMD.)
if pair 120 /tmp/pp "$T" run -v ibv_rc_pingpong -d $DEV -g "$g" -c -n 50 -s 8192 -- \
	"$T" run -v ibv_rc_pingpong -d $DEV -g "$g" -c -n 50 -s 8192 $IP &&
   grep -q "ibv-odp-preload: reg .* implicit lkey" /tmp/pp.server &&
   grep -q "ibv-odp-preload: reg .* implicit lkey" /tmp/pp.client &&
   grep -q " bytes in " /tmp/pp.client; then
	result PASS rc_pingpong
else
	flunk rc_pingpong
fi

# Debian's perftest, not built for ODP and run without --odp: 100 messages
# of 64 KiB, long enough for the VmPin sampler (every 0.2 s).
iters=100
perf() {	# name binary shim(0|1)
	name=$1 bin=$2 shim=$3
	run=""
	[ $shim = 1 ] && run="$T run --"
	f0=$(counter page_faults) r0=$(counter rcvd_pkts)
	rm -f /tmp/done.srv /tmp/done.cli
	(timeout 180 $run $bin -d $DEV -x "$g" -s 65536 -n $iters -F > /tmp/srv.txt 2>&1
	 echo $? > /tmp/done.srv) &
	sleep 1
	(timeout 180 $run $bin -d $DEV -x "$g" -s 65536 -n $iters -F $IP > /tmp/cli.txt 2>&1
	 echo $? > /tmp/done.cli) &
	pin=$(max_vmpin "${bin##*/}" /tmp/done.cli)
	wait
	src=$(cat /tmp/done.srv) crc=$(cat /tmp/done.cli)
	f1=$(counter page_faults) r1=$(counter rcvd_pkts)
	row=$(awk '$1 == 65536 && NF >= 5' /tmp/cli.txt | head -1)
	note "$name: server $src client $crc, VmPin max $pin kB, page_faults +$((f1 - f0)), rcvd_pkts +$((r1 - r0)), row: $row"
	ok=1
	[ "$src" = 0 ] && [ "$crc" = 0 ] || ok=0
	set -- $row
	[ "${2:-}" = $iters ] || ok=0
	# Every byte went through rxe: $iters messages of 64 KiB in packets of
	# the path MTU at most (1024 on eth0's 1500).
	[ $((r1 - r0)) -ge $((iters * 65536 / 1024)) ] ||
		{ note "$name: rxe received $((r1 - r0)) packets"; ok=0; }
	if [ $shim = 1 ]; then
		[ "$pin" = 0 ] || { note "$name pinned memory under the shim"; ok=0; }
		[ $((f1 - f0)) -gt 0 ] || { note "$name: no ODP faults counted"; ok=0; }
	else
		[ "$pin" -gt 0 ] || { note "$name: pinned run shows no VmPin"; ok=0; }
		[ $((f1 - f0)) = 0 ] || { note "$name: ODP faults without the shim"; ok=0; }
	fi
	if [ $ok = 1 ]; then result PASS "$name"; else
		flunk "$name"; tail -n 5 /tmp/srv.txt /tmp/cli.txt; fi
}
perf ib_write_bw-shim /usr/bin/ib_write_bw 1
perf ib_write_bw-noshim /usr/bin/ib_write_bw 0
perf ib_read_bw-shim /usr/bin/ib_read_bw 1
perf ib_send_bw-shim /usr/bin/ib_send_bw 1

# run: errors.
"$T" run -- /nonexistent/program > /tmp/out 2>&1
st=$?
[ $st = 127 ] && grep -q "cannot run /nonexistent/program" /tmp/out && result PASS run-no-such-command ||
	{ cat /tmp/out; flunk run-no-such-command; }
IBV_ODP_PRELOAD=/nonexistent.so "$T" run -- true > /tmp/out 2>&1
st=$?
[ $st = 1 ] && grep -q "cannot find libibv-odp-preload.so" /tmp/out && result PASS run-no-shim ||
	{ cat /tmp/out; flunk run-no-shim; }
"$T" run -- sh -c 'echo "$LD_PRELOAD"; exit 7' > /tmp/out 2>&1
st=$?
[ $st = 7 ] && grep -q "libibv-odp-preload.so$" /tmp/out && result PASS run-status ||
	{ cat /tmp/out; flunk run-status; }
exit $rc
