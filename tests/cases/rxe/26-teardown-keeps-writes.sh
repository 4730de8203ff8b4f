#!/bin/sh
# tests/progs/odp-teardown.c, teardown fixture: pages the device wrote
# through an ODP MR (explicit and implicit) that the mm held for clean (in
# the swap cache, mapped writable) are paged out with the RDMA data after the
# MR is deregistered, not dropped.  Swap on the guest's disk (/dev/vda).
. "$TOP/tests/lib.sh"
bin=$BUILD/progs/odp-teardown
[ -x "$bin" ] || fail "$bin not built (make userspace)"
[ -b /dev/vda ] || fail "no disk for swap at /dev/vda (run-guest.sh -s)"
mkswap /dev/vda > /dev/null && swapon /dev/vda || fail "swapon /dev/vda"
sh "$TOP/tests/tap2result.sh" "$bin" -f teardown
rc=$?
swapoff /dev/vda
exit $rc
