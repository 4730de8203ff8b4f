#!/bin/sh
# perftest ib_send_bw with --odp and --odp_implicit, --odp_prefetch=nofault
# (--odp) and async (--odp_implicit), --odp_refault (--odp): see
# perftest-odp.inc.
. "$TOP/tests/cases/user/perftest-odp.inc"
ITERS=64 ARGS="-s 8192 -t 8"
matrix send 16 odp:nofault odp_implicit:async odp:refault
exit $rc
