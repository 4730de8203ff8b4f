#!/bin/sh
# rxe0 was added on eth0 at boot and its port is ACTIVE.
. "$TOP/tests/lib.sh"
[ "$(cat "$OUT/rxe-add.status" 2>/dev/null)" = 0 ] ||
	fail "rdma link add rxe0 type rxe netdev eth0: $(cat "$OUT/rxe-add.txt" 2>/dev/null)"
rdma link show || fail "rdma link show"
rdma link show $DEV/1 | grep -q "state ACTIVE" || fail "rxe0/1 is not ACTIVE"
rdma link show $DEV/1 | grep -q "netdev eth0" || fail "rxe0/1 is not on eth0"
[ -c /dev/infiniband/uverbs0 ] || fail "/dev/infiniband/uverbs0 missing"
idx=$(gid_index) || fail "no RoCE v2 GID for 10.0.2.15 on rxe0"
note "RoCE v2 GID index $idx"
