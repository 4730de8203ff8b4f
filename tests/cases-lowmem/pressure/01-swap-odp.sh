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
vm() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }
in0=$(vm pswpin) out0=$(vm pswpout) f0=$(counter odp_faults) i0=$(counter odp_invalidations)
"$bin" -P "$mib" -t "$secs"
rc=$?
in1=$(vm pswpin) out1=$(vm pswpout) f1=$(counter odp_faults) i1=$(counter odp_invalidations)
swapoff /dev/vda
printf '\n%-22s %12s\n' "during the run" "count"
printf '%-22s %12d\n' "pages swapped out" $((out1 - out0)) "pages swapped in" $((in1 - in0)) \
	"rxe odp_faults" $((f1 - f0)) "rxe odp_invalidations" $((i1 - i0))
[ $rc = 0 ] && result PASS pressure-data-intact || result FAIL pressure-data-intact
# The test tested something: pages went out to swap and came back, and ODP
# mappings were invalidated and faulted again.
if [ $((out1 - out0)) -gt 0 ] && [ $((in1 - in0)) -gt 0 ] &&
   [ $((i1 - i0)) -gt 0 ] && [ $((f1 - f0)) -gt 0 ]; then
	result PASS pressure-swapped-and-refaulted
else
	result FAIL pressure-swapped-and-refaulted
fi
exit $rc
