#!/bin/sh
# tools/testing/selftests/mm/hmm-mirror-tests (from the kernel series) through
# /dev/hmm_mirror_test: one result per kselftest case.
. "$TOP/tests/lib.sh"
bin=$BUILD/progs/hmm-mirror-tests
[ -x "$bin" ] || fail "$bin not built (make userspace)"
[ -c /dev/hmm_mirror_test ] || fail "/dev/hmm_mirror_test missing: CONFIG_TEST_HMM_MIRROR not in this kernel"
sh "$TOP/tests/tap2result.sh" "$bin"
