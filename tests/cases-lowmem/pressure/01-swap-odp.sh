#!/bin/sh
# Memory pressure: in a guest with little RAM (run-guest.sh -m 512M) and swap
# on a virtio-blk disk (-s), odp-stress -P fills an arena larger than the
# RAM, so most of it is swapped out, and reads and writes it at random
# through an implicit ODP MR: pages are reclaimed and faulted back while
# transfers run, and every block is checked.
# PRESSURE_MIB sets the arena, STRESS_SECS the duration of the traffic.
. "$TOP/tests/lib.sh"
bin=$BUILD/progs/odp-stress
[ -x "$bin" ] || fail "$bin not built (make userspace)"
[ -b /dev/vda ] || fail "no disk for swap at /dev/vda (run-guest.sh -s)"
mem=$(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo)
mib=${PRESSURE_MIB:-448}
secs=${STRESS_SECS:-25}
note "MemTotal ${mem} MiB, arena ${mib} MiB, ${secs} s of traffic"
[ "$mib" -gt "$mem" ] || fail "the arena (${mib} MiB) fits in RAM (${mem} MiB)"
mkswap /dev/vda > /dev/null && swapon /dev/vda || fail "swapon /dev/vda"
# The kernel has no VM event counters (pswpin/pswpout): sample the swap in
# use, in MiB, every 2 s, and keep the largest.
swapused() { awk '/^SwapTotal/ { t = $2 } /^SwapFree/ { f = $2 } END { print int((t - f) / 1024) }' /proc/meminfo; }
( m=0; while [ ! -e /tmp/pressure.done ]; do u=$(swapused); [ "$u" -gt "$m" ] && m=$u && echo $m > /tmp/pressure.max; sleep 2; done ) &
f0=$(counter odp_faults) i0=$(counter odp_invalidations)
"$bin" -P "$mib" -t "$secs"
rc=$?
f1=$(counter odp_faults) i1=$(counter odp_invalidations)
touch /tmp/pressure.done
wait
max=$(cat /tmp/pressure.max 2>/dev/null || echo 0)
swapoff /dev/vda
printf '\n%-26s %12s\n' "during the run" "count"
printf '%-26s %12d\n' "largest swap use (MiB)" "$max" \
	"rxe odp_faults" $((f1 - f0)) "rxe odp_invalidations" $((i1 - i0))
[ $rc = 0 ] && result PASS pressure-data-intact || result FAIL pressure-data-intact
# The test tested something: part of the arena was in swap, and ODP
# mappings were invalidated and faulted again.
if [ "$max" -gt 32 ] && [ $((i1 - i0)) -gt 0 ] && [ $((f1 - f0)) -gt 0 ]; then
	result PASS pressure-swapped-and-refaulted
else
	result FAIL pressure-swapped-and-refaulted
fi
exit $rc
