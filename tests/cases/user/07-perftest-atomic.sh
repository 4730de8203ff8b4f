#!/bin/sh
# perftest ib_atomic_bw with --odp and --odp_implicit, --odp_prefetch=sync
# (--odp_implicit), --odp_refault (--odp): see perftest-odp.inc.
. "$TOP/tests/cases/user/perftest-odp.inc"
ITERS=256 ARGS="-t 8"
matrix atomic 64 odp_implicit:sync odp:refault
exit $rc
