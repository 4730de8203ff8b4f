#!/bin/sh
# perftest ib_write_bw with --odp and --odp_implicit, --odp_prefetch=sync
# (--odp) and nofault (--odp_implicit), --odp_refault (--odp): see
# perftest-odp.inc; and the options' misuses refused.
. "$TOP/tests/cases/user/perftest-odp.inc"
ITERS=64 ARGS="-s 8192 -t 8"
matrix write 16 odp:sync odp_implicit:nofault odp:refault
# Bad uses are refused with a message.
"$pt/ib_write_bw" --odp_prefetch=sync > /tmp/out 2>&1
grep -q -- "--odp_prefetch needs --odp" /tmp/out && result PASS prefetch-needs-odp || flunk prefetch-needs-odp
"$pt/ib_write_bw" --odp --odp_prefetch=later > /tmp/out 2>&1
grep -q "Invalid --odp_prefetch mode later" /tmp/out && result PASS prefetch-bad-mode || flunk prefetch-bad-mode
"$pt/ib_write_bw" --odp_refault=10 > /tmp/out 2>&1
grep -q -- "--odp_refault needs --odp" /tmp/out && result PASS refault-needs-odp || flunk refault-needs-odp
"$pt/ib_write_lat" --odp --odp_refault=10 > /tmp/out 2>&1
grep -q -- "--odp_refault is supported by the unidirectional bandwidth tests" /tmp/out &&
	result PASS refault-bw-only || flunk refault-bw-only
exit $rc
