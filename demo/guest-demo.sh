#!/bin/sh
# Runs inside the guest: perftest over rxe0, server and client in one guest.
. "$TOP/tests/lib.sh"
g=$(gid_index) || fail "rxe0 has no RoCE v2 GID for $IP"
echo "== rxe0"
rdma link show $DEV/1
ibv_devinfo -d $DEV | grep -E 'hca_id|transport|state|active_mtu|link_layer'
mode="pinned memory (rxe has no On-Demand Paging in this kernel yet)"
echo
echo "== ib_write_bw over rxe0, $mode"
args="-d $DEV -x $g -F -s 65536 -n 500"
timeout 300 ib_write_bw $args > /tmp/server.txt 2>&1 &
sleep 1
timeout 300 ib_write_bw $args $IP
rc=$?
wait
exit $rc
