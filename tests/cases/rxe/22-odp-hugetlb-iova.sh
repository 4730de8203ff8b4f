#!/bin/sh
# tests/progs/odp-ops.c: IBV_ACCESS_HUGETLB on explicit ODP over MAP_HUGETLB
# (WRITE/READ across the 2 MiB boundary, MADV_DONTNEED), refused with EINVAL
# for implicit ODP and for normal pages; ibv_reg_mr_iova with an iova other
# than the address; registrations and accesses whose range wraps refused.
. "$TOP/tests/lib.sh"
bin=$BUILD/progs/odp-ops
[ -x "$bin" ] || fail "$bin not built (make userspace)"
echo "HugePages_Free: $(awk '/HugePages_Free/ { print $2 }' /proc/meminfo)"
rc=0
for t in hugetlb_ reg_mr_iova_ wrapping_lengths; do
	sh "$TOP/tests/tap2result.sh" "$bin" $t || rc=1
done
exit $rc
