#!/bin/sh
# tests/progs/odp-ops.c: RC WRITE and SEND from explicit and implicit ODP
# MRs with a local ACK timeout of one jiffy, so that the requester
# retransmits while the responder faults its buffer in, and a completion can
# overtake a retransmission; each source buffer goes PROT_NONE right after
# its completion.  Every transfer succeeds with exact data (a requester that
# read on from a completed WQE would flush the next one), and the device
# retransmitted.
. "$TOP/tests/lib.sh"
bin=$BUILD/progs/odp-ops
[ -x "$bin" ] || fail "$bin not built (make userspace)"
sh "$TOP/tests/tap2result.sh" "$bin" _retransmit_
