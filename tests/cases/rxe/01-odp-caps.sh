#!/bin/sh
# rxe0 advertises On-Demand Paging: implicit ODP and, per transport, exactly
# the operations the ODP data path supports.
. "$TOP/tests/lib.sh"
ibv_devinfo -v -d $DEV > /tmp/devinfo-v || fail "ibv_devinfo -v"
# The block of one capability word: the lines after its name up to the next name.
caps() { awk -v k="$1:" '$1 == k { p = 1; next } p && /:/ && !/Unknown/ { exit } p { print $1 }' /tmp/devinfo-v | tr '\n' ' '; }
check() {
	got=$(caps "$1")
	[ "$got" = "$2" ] || { echo "$1: got '$got', want '$2'"; bad=1; }
}
bad=0
check general_odp_caps "ODP_SUPPORT ODP_SUPPORT_IMPLICIT "
check rc_odp_caps "SUPPORT_SEND SUPPORT_RECV SUPPORT_WRITE SUPPORT_READ SUPPORT_ATOMIC SUPPORT_SRQ Unknown "
check uc_odp_caps "SUPPORT_SEND SUPPORT_RECV SUPPORT_WRITE "
check ud_odp_caps "SUPPORT_SEND SUPPORT_RECV SUPPORT_SRQ "
# rdma-core 44 does not name FLUSH (bit 6) and ATOMIC_WRITE (bit 7).
awk '$1 == "rc_odp_caps:" { p = 1 } p && /Unknown flags/ { print; exit }' /tmp/devinfo-v | grep -q '0xC0' ||
	{ echo "rc_odp_caps lacks FLUSH and ATOMIC_WRITE (0xC0)"; bad=1; }
sed -n '/general_odp_caps/,/xrc_odp_caps/p' /tmp/devinfo-v
exit $bad
