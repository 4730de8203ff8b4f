#!/bin/sh
# The ODP counters in `rdma statistic show link rxe0/1`: each exists, and
# each moves across tests/progs/odp-ops.c's counter tests, which check the
# exact amounts through the same counters in sysfs (a first access faults,
# a second does not, MADV_DONTNEED invalidates, a prefetch prefetches).
. "$TOP/tests/lib.sh"
bin=$BUILD/progs/odp-ops
[ -x "$bin" ] || fail "$bin not built (make userspace)"
names="odp_faults page_faults odp_invalidations page_invalidations odp_prefetches page_prefetch"
rdma statistic show link $DEV/1
before=""
for n in $names; do
	v=$(counter $n)
	case "$v" in
	[0-9]*) result PASS "rdma-statistic-has-$n" ;;
	*) result FAIL "rdma-statistic-has-$n" ;;
	esac
	before="$before $v"
done
sh "$TOP/tests/tap2result.sh" "$bin" counters_
rc=$?
set -- $before
for n in $names; do
	v=$(counter $n)
	note "$n: $1 -> $v"
	if [ -n "$1" ] && [ -n "$v" ] && [ "$v" -gt "$1" ]; then
		result PASS "rdma-statistic-$n-moved"
	else
		result FAIL "rdma-statistic-$n-moved"
	fi
	shift
done
exit $rc
