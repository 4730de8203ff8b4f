#!/bin/sh
# tests/progs/rxe-access.c: what an rkey reaches and what it must not, with
# exact completion statuses (memory windows, ODP errors), and ODP MRs
# following a new mapping at the same address.
. "$TOP/tests/lib.sh"
bin=$BUILD/progs/rxe-access
[ -x "$bin" ] || fail "$bin not built (make userspace)"
sh "$TOP/tests/tap2result.sh" "$bin"
