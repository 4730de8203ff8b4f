#!/bin/sh
# tests/progs/odp-ops.c: an ODP MR deregistered while the peer writes into
# it (remote access error, no splat), QP and PD destroy with ODP MRs live,
# and processes that close the device, exit or are SIGKILLed with live ODP
# MRs and traffic in flight: every MR is gone afterwards (rdma resource).
. "$TOP/tests/lib.sh"
bin=$BUILD/progs/odp-ops
[ -x "$bin" ] || fail "$bin not built (make userspace)"
rc=0
for t in dereg_under_traffic qp_pd_destroy_live _live_odp; do
	sh "$TOP/tests/tap2result.sh" "$bin" $t || rc=1
done
rdma resource show $DEV
exit $rc
