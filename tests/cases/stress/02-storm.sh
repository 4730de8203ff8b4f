#!/bin/sh
# Invalidation storm (tests/progs/odp-stress.c): RC WRITE, READ, SEND and
# atomics through explicit and implicit ODP MRs while other threads munmap
# and remap, MADV_DONTNEED, mprotect, fork and move_pages the same buffers.
# STRESS_SECS sets the duration (make stress: 600).
. "$TOP/tests/lib.sh"
bin=$BUILD/progs/odp-stress
[ -x "$bin" ] || fail "$bin not built (make userspace)"
secs=${STRESS_SECS:-25}
lanes=4
[ "$secs" -ge 120 ] && lanes=8
f0=$(counter odp_faults) i0=$(counter odp_invalidations)
"$bin" -t "$secs" -l "$lanes"
rc=$?
f1=$(counter odp_faults) i1=$(counter odp_invalidations)
note "rxe0 odp_faults +$((f1 - f0)), odp_invalidations +$((i1 - i0))"
[ $rc = 0 ] && result PASS storm || result FAIL storm
# The storm must really have invalidated and re-faulted ODP mappings.
if [ $((i1 - i0)) -gt 0 ] && [ $((f1 - f0)) -gt 0 ]; then
	result PASS storm-invalidated-and-refaulted
else
	result FAIL storm-invalidated-and-refaulted
fi
exit $rc
