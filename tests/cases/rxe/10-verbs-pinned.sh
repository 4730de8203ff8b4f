#!/bin/sh
# tests/progs/odp-verbs-tests.c, pinned variant: WRITE, READ, SEND and the
# two atomics through pinned MRs into/from never-touched memory and after
# munmap+mmap, MADV_DONTNEED, mprotect and fork; VmPin of a pinned MR.
. "$TOP/tests/lib.sh"
bin=$BUILD/progs/odp-verbs-tests
[ -x "$bin" ] || fail "$bin not built (make userspace)"
sh "$TOP/tests/tap2result.sh" "$bin" -v pinned
