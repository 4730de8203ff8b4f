#!/bin/sh
# `rdma link delete rxe0` while a process has explicit and implicit ODP MRs,
# an asynchronous prefetch, RDMA WRITEs in flight and invalidations racing
# them.  rxe cannot take resources away from a process, so the delete
# waits for the process; once it is killed, the delete completes within
# seconds, the device is gone with no MR left behind, and the kernel log
# stays clean (the harness checks it).  The link is added back afterwards so
# that later cases still have rxe0.
. "$TOP/tests/lib.sh"
bin=$BUILD/progs/odp-ops
[ -x "$bin" ] || fail "$bin not built (make userspace)"
bad=0
"$bin" hold > /tmp/hold.out 2>&1 &
hpid=$!
i=0
while [ "$(cat /tmp/hold.out 2>/dev/null)" != r ] && [ $i -lt 300 ]; do
	sleep 0.1; i=$((i + 1))
done
[ "$(cat /tmp/hold.out)" = r ] || { kill -9 $hpid; fail "hold did not start: $(cat /tmp/hold.out)"; }
rdma resource show $DEV
c0=$(counter page_faults)
sleep 2
c1=$(counter page_faults)
note "page_faults while holding: $c0 -> $c1"
[ "$c1" -gt "$c0" ] && result PASS hold-traffic-faulting || { result FAIL hold-traffic-faulting; bad=1; }

timeout 120 rdma link delete $DEV &
dpid=$!
sleep 3
kill -9 $hpid
wait $hpid 2>/dev/null
t0=$(date +%s)
wait $dpid
drc=$?
note "rdma link delete: exit $drc, $(($(date +%s) - t0)) s after the holder was killed"
if [ $drc = 0 ] && [ ! -e /sys/class/infiniband/$DEV ]; then
	result PASS link-delete-with-live-odp-mrs
else
	result FAIL link-delete-with-live-odp-mrs; bad=1
fi

rdma link add $DEV type rxe netdev eth0 || { result FAIL link-re-add; exit 1; }
# The port turns ACTIVE and its GID table fills in after `rdma link add`
# returns: wait for both before the next program looks the GID up.
i=0
until ibv_devinfo -d $DEV 2>/dev/null | grep -q PORT_ACTIVE &&
    gid_index > /dev/null || [ $i -ge 100 ]; do
	sleep 0.1; i=$((i + 1))
done
if ibv_devinfo -d $DEV | grep -q PORT_ACTIVE && gid_index > /dev/null; then
	result PASS link-re-add
else
	result FAIL link-re-add; bad=1
fi
# The new device works with ODP at once.
sh "$TOP/tests/tap2result.sh" "$bin" counters_explicit || bad=1
exit $bad
