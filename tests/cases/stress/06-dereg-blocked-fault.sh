#!/bin/sh
# tests/progs/odp-teardown.c, blocked_fault fixture: an RDMA WRITE's fault
# sleeps in a FUSE read held by the test's own server while the MR is
# deregistered (and the responder's QP and PD destroyed); once the read is
# answered the requester gets REM_ACCESS_ERR, nothing was written, and the
# kernel log stays clean (run-level check); under make stress, kmemleak's
# scan (stress/09) finds nothing left behind.  HOLD_SECS: how long the read
# is held (1 s).
. "$TOP/tests/lib.sh"
bin=$BUILD/progs/odp-teardown
[ -x "$bin" ] || fail "$bin not built (make userspace)"
[ -c /dev/fuse ] || fail "/dev/fuse missing (CONFIG_FUSE_FS)"
sh "$TOP/tests/tap2result.sh" "$bin" -f blocked_fault
