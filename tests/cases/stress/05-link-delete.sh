#!/bin/sh
# `rdma link delete rxe0` while a process has ODP MRs (explicit and implicit)
# registered and traffic running.  rxe cannot disassociate a user context:
# the deletion waits for the process, which cannot create new QPs meanwhile
# (it may end on that error) and is killed 2 s into the wait.  The deletion
# must then complete, rxe0 come back with `rdma link add`, and carry exact
# data again.
. "$TOP/tests/lib.sh"
bin=$BUILD/progs/odp-stress
[ -x "$bin" ] || fail "$bin not built (make userspace)"

readd() {
	rdma link add rxe0 type rxe netdev eth0 || return 1
	i=0
	while [ $i -lt 20 ] && ! gid_index > /dev/null; do sleep 0.5; i=$((i + 1)); done
	gid_index > /dev/null
}

rounds=1
[ "${STRESS_SECS:-25}" -ge 120 ] && rounds=4
r=1
while [ $r -le $rounds ]; do
	"$bin" -t 120 -l 4 > /tmp/link.$r.log 2>&1 &
	pid=$!
	sleep 4
	mrs=$(rdma resource show mr | grep -c 'comm odp-stress')
	note "round $r: $mrs MRs of the traffic registered"
	if [ "$mrs" -lt 2 ] || ! kill -0 $pid 2>/dev/null; then
		cat /tmp/link.$r.log
		result FAIL "link-delete-$r"; note "no traffic to delete the link under"
	fi
	timeout 90 rdma link delete rxe0 &
	dpid=$!
	sleep 2
	kill -9 $pid 2>/dev/null
	wait $pid
	prc=$?
	wait $dpid
	drc=$?
	tail -4 /tmp/link.$r.log
	note "round $r: traffic exit $prc (137: killed), rdma link delete exit $drc"
	if [ $drc = 0 ] && [ ! -e /sys/class/infiniband/rxe0 ]; then
		result PASS "link-delete-$r"
	else
		result FAIL "link-delete-$r"
	fi
	if readd; then result PASS "link-readd-$r"; else result FAIL "link-readd-$r"; fi
	r=$((r + 1))
done
if "$bin" -t 4 -l 4; then
	result PASS traffic-after-readd
else
	result FAIL traffic-after-readd
fi
