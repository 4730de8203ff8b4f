#!/bin/sh
# tests/progs/odp-ops.c: UC SEND/RECV and WRITE, UD SEND/RECV, UD and RC
# SRQ receives, RC ATOMIC WRITE, RC FLUSH (global visibility; a FLUSH WQE
# built in the send queue, since rdma-core 44 has no verb for it), and RC
# WRITE into pages first faulted by a READ, through pinned, explicit and
# implicit ODP MRs, on never-touched memory and after MADV_DONTNEED,
# munmap+mmap and mprotect of both sides and fork (copy-on-write broken by
# the parent, the child's copy checked), with data checked byte for byte.
# FLUSH also after munmap+mmap, mprotect and fork.
. "$TOP/tests/lib.sh"
bin=$BUILD/progs/odp-ops
[ -x "$bin" ] || fail "$bin not built (make userspace)"
rc=0
for t in uc_ ud_ rc_srq rc_atomic_write rc_flush rc_read_then_write; do
	sh "$TOP/tests/tap2result.sh" "$bin" $t || rc=1
done
exit $rc
