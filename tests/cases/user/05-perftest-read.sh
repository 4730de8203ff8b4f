#!/bin/sh
# perftest ib_read_bw with --odp and --odp_implicit, --odp_prefetch=async
# (--odp) and sync (--odp_implicit), --odp_refault (--odp_implicit): see
# perftest-odp.inc.
. "$TOP/tests/cases/user/perftest-odp.inc"
ITERS=64 ARGS="-s 8192 -t 8"
matrix read 16 odp:async odp_implicit:sync odp_implicit:refault
exit $rc
