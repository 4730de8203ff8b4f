#!/bin/sh
# tools/testing/selftests/mm/mmu-mirror-tests of the kernel series: memory
# read and written through an address-space mirror (/dev/mmu_mirror_test),
# checked byte by byte across munmap, mremap, madvise, mprotect, fork/COW,
# NUMA migration, reclaim, THP, hugetlb, process exit, a sparse 64 GiB
# implicit mirror, threads racing munmap/remap, and no page pinned.
#
# The guest has everything a test of the program may skip for (the test
# driver, two NUMA nodes, THP in madvise mode, 2 MiB huge pages, a file to
# page out): here a skipped test is a failed one.
. "$TOP/tests/lib.sh"
bin=$BUILD/progs/mmu-mirror-tests
[ -x "$bin" ] || fail "$bin not built (make userspace)"
[ -c /dev/mmu_mirror_test ] || fail "/dev/mmu_mirror_test missing (CONFIG_TEST_MMU_MIRROR)"
out=$(mktemp)
sh "$TOP/tests/tap2result.sh" "$bin" > "$out"
rc=$?
awk '/^RESULT SKIP / { print "# " $3 " was skipped"; print "RESULT FAIL " $3; next }
	{ print }' "$out"
grep -q '^RESULT SKIP ' "$out" && rc=1
rm -f "$out"
exit $rc
