#!/bin/sh
# SIGKILL of a process at random points of ODP traffic (the invalidation
# storm, with its forks and remaps), repeated: every MR of the killed process
# is gone afterwards, and the device still moves data.
. "$TOP/tests/lib.sh"
bin=$BUILD/progs/odp-stress
[ -x "$bin" ] || fail "$bin not built (make userspace)"
rounds=4
[ "${STRESS_SECS:-25}" -ge 120 ] && rounds=40
rnd_ms() { echo $(( $(od -An -N2 -tu2 /dev/urandom) % $1 + $2 )); }

ok=0
i=1
while [ $i -le $rounds ]; do
	"$bin" -t 120 -l 4 > /tmp/kill.$i.log 2>&1 &
	pid=$!
	ms=$(rnd_ms 2500 300)
	sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
	if ! kill -0 $pid 2>/dev/null; then
		cat /tmp/kill.$i.log
		wait $pid
		result FAIL "kill-round-$i"
		note "the traffic ended on its own before the kill (exit $?)"
		i=$((i + 1)); continue
	fi
	kill -9 $pid
	wait $pid
	st=$?
	if [ $st = 137 ]; then
		ok=$((ok + 1))
		note "round $i: killed after ${ms} ms"
	else
		cat /tmp/kill.$i.log
		result FAIL "kill-round-$i"
		note "exit status $st, want 137"
	fi
	i=$((i + 1))
done
[ $ok = $rounds ] && result PASS "sigkill-$rounds-rounds"

# Nothing of the killed processes stays registered.
sleep 1
left=$(rdma resource show mr 2>/dev/null | grep -c 'comm odp-stress')
if [ "$left" = 0 ]; then
	result PASS no-mr-left
else
	rdma resource show mr
	result FAIL no-mr-left
fi
# And the device still works: a short storm, exact data.
if "$bin" -t 4 -l 4; then
	result PASS traffic-after-kills
else
	result FAIL traffic-after-kills
fi
