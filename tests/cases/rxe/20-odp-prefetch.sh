#!/bin/sh
# tests/progs/odp-ops.c: prefetch through the uverbs ADVISE_MR method
# (PREFETCH, PREFETCH_WRITE, PREFETCH_NO_FAULT; synchronous and asynchronous;
# explicit and implicit ODP MRs) with the transfer after it taking no page
# fault, and advise_mr's errors (EPERM, EFAULT, EINVAL, EOPNOTSUPP).
. "$TOP/tests/lib.sh"
bin=$BUILD/progs/odp-ops
[ -x "$bin" ] || fail "$bin not built (make userspace)"
sh "$TOP/tests/tap2result.sh" "$bin" advise_
