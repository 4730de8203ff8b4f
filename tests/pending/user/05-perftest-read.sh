#!/bin/sh
# perftest ib_read_bw with --odp and --odp_implicit, each --odp_prefetch mode
# and --odp_refault: see perftest-odp.inc.
. "$TOP/tests/pending/user/perftest-odp.inc"
verb_matrix read 65536 100 25
exit $rc
