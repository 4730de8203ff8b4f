#!/bin/sh
# Runs inside the guest: perftest over rxe0, server and client in one guest,
# each registering its whole address space once with implicit On-Demand
# Paging (perftest 25.01 with perftest-patches, --odp_implicit).
. "$TOP/tests/lib.sh"
g=$(gid_index) || fail "rxe0 has no RoCE v2 GID for $IP"
pt=$BUILD/perftest
[ -x "$pt/ib_write_bw" ] || fail "$pt/ib_write_bw not built (make perftest)"
odp=$BUILD/ibv-odp/bin/ibv-odp
[ -x "$odp" ] || fail "$odp not built (make userspace)"
echo "== rxe0"
rdma link show $DEV/1
ibv_devinfo -d $DEV | grep -E 'hca_id|transport|state|active_mtu|link_layer'
echo
echo "== ODP capabilities (ibv-odp caps)"
"$odp" caps -d $DEV
echo
echo "== ODP counters before (ibv-odp stats)"
"$odp" stats -d $DEV
status=0
for t in write read send; do
	echo
	echo "== ib_${t}_bw over rxe0, whole address space registered with implicit ODP (--odp_implicit)"
	args="-d $DEV -x $g -F -s 65536 -n 300 --odp_implicit"
	timeout 300 "$pt/ib_${t}_bw" $args > /tmp/server.txt 2>&1 &
	sleep 1
	timeout 300 "$pt/ib_${t}_bw" $args $IP || status=1
	wait $! || status=1
done
echo
echo "== ODP counters after (ibv-odp stats)"
"$odp" stats -d $DEV
exit $status
