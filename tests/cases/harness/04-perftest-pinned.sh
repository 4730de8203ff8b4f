#!/bin/sh
# Debian's perftest over rxe0 with pinned memory: write, read and send
# bandwidth.  Each run must complete its iterations with a non-zero bandwidth,
# and rxe's own packet counters must show the data crossing the device.
. "$TOP/tests/lib.sh"
g=$(gid_index) || fail "no RoCE v2 GID"
size=65536 iters=100
mtu=$(ibv_devinfo -d $DEV | sed -n 's/.*active_mtu:[[:space:]]*\([0-9]*\).*/\1/p')
[ -n "$mtu" ] || fail "no active_mtu"
bad=0
for t in write read send; do
	before=$(counter rcvd_pkts)
	if pair 180 /tmp/bw-$t ib_${t}_bw -d $DEV -x "$g" -s $size -n $iters -F -- \
		ib_${t}_bw -d $DEV -x "$g" -s $size -n $iters -F $IP; then
		after=$(counter rcvd_pkts)
		# The row under the header: bytes iterations peak avg rate
		row=$(awk '$1 == '$size' && NF >= 5' /tmp/bw-$t.client | head -1)
		set -- $row
		pkts=$((after - before)) need=$((size / mtu * iters))
		if [ "$2" != "$iters" ]; then
			result FAIL "ib_${t}_bw"; note "ib_${t}_bw: no result row for $iters iterations: '$row'"; bad=1
		elif ! awk -v bw="$4" 'BEGIN { exit !(bw > 0) }'; then
			result FAIL "ib_${t}_bw"; note "ib_${t}_bw: average bandwidth $4"; bad=1
		elif [ $pkts -lt $need ]; then
			result FAIL "ib_${t}_bw"; note "ib_${t}_bw: rxe received $pkts packets, expected >= $need"; bad=1
		else
			result PASS "ib_${t}_bw"; note "ib_${t}_bw: $4 MB/s, $pkts packets"
		fi
	else
		result FAIL "ib_${t}_bw"; bad=1
	fi
done
exit $bad
