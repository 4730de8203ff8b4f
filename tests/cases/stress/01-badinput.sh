#!/bin/sh
# tests/progs/odp-badinput.c: bad input to registration, advise_mr and RDMA
# access, each case with its exact errno or completion status, pinned and ODP
# alike, and the memory a refused peer aimed at checked byte for byte.
. "$TOP/tests/lib.sh"
bin=$BUILD/progs/odp-badinput
[ -x "$bin" ] || fail "$bin not built (make userspace)"
sh "$TOP/tests/tap2result.sh" "$bin"
