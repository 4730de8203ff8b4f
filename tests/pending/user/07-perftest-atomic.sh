#!/bin/sh
# perftest ib_atomic_bw with --odp and --odp_implicit, each --odp_prefetch mode
# and --odp_refault: see perftest-odp.inc.
. "$TOP/tests/pending/user/perftest-odp.inc"
verb_matrix atomic 8 1000 250
exit $rc
