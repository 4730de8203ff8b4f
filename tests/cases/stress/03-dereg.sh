#!/bin/sh
# Deregistration of an MR (pinned, explicit ODP, implicit ODP) while a peer
# keeps RDMA WRITEs to it in flight: WRITEs succeed up to the deregistration,
# then fail with a remote access error, and nothing lands afterwards.
. "$TOP/tests/lib.sh"
bin=$BUILD/progs/odp-stress
[ -x "$bin" ] || fail "$bin not built (make userspace)"
n=6
[ "${STRESS_SECS:-25}" -ge 120 ] && n=90
"$bin" -D "$n"
rc=$?
[ $rc = 0 ] && result PASS dereg-under-writes || result FAIL dereg-under-writes
exit $rc
