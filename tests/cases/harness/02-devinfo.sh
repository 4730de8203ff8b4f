#!/bin/sh
# libibverbs sees rxe0 with an active Ethernet port.
. "$TOP/tests/lib.sh"
ibv_devices | tee /tmp/devices || fail "ibv_devices"
grep -qw $DEV /tmp/devices || fail "ibv_devices does not list $DEV"
ibv_devinfo -d $DEV | tee /tmp/devinfo || fail "ibv_devinfo -d $DEV"
grep -q "state:[[:space:]]*PORT_ACTIVE" /tmp/devinfo || fail "port 1 is not PORT_ACTIVE"
grep -q "link_layer:[[:space:]]*Ethernet" /tmp/devinfo || fail "link layer is not Ethernet"
grep -q "transport:[[:space:]]*InfiniBand" /tmp/devinfo || fail "transport is not InfiniBand"
