#!/bin/sh
# tests/progs/odp-verbs-tests.c, odp variant: WRITE, READ, SEND and the
# two atomics through explicit ODP MRs into/from never-touched memory and
# after munmap+mmap, MADV_DONTNEED, mprotect and fork, without re-registering;
# ODP access errors with exact statuses; VmPin 0; a 64 GiB sparse range.
. "$TOP/tests/lib.sh"
bin=$BUILD/progs/odp-verbs-tests
[ -x "$bin" ] || fail "$bin not built (make userspace)"
sh "$TOP/tests/tap2result.sh" "$bin" -v odp
