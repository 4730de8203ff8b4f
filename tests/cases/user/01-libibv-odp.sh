#!/bin/sh
# libibv-odp against rxe0: every library function, with its results checked
# (capabilities, counters against sysfs, data moved through implicit MRs,
# prefetch by counters and residency) and its error paths
# (libibv-odp-test); the error for a device without implicit ODP (through a
# test double of the capabilities); and the installed library: header,
# pkg-config file, shared and static library, man pages.
. "$TOP/tests/lib.sh"
B=$BUILD/ibv-odp
[ -x "$B/tests/libibv-odp-test" ] || fail "$B not built (make userspace)"
"$B/tests/libibv-odp-test" $DEV
rc=$?

# A device without IBV_ODP_SUPPORT_IMPLICIT: ibv_odp_reg_implicit fails
# with EOPNOTSUPP, as the tool reports it (exit 4).
out=$(LD_PRELOAD=$B/tests/libfake-odp-caps.so FAKE_ODP_CAPS=noimplicit \
	"$B/bin/ibv-odp" probe -d $DEV 2>&1)
st=$?
echo "$out"
if [ $st = 4 ] && echo "$out" | grep -q "does not support implicit On-Demand Paging"; then
	result PASS no-implicit-device
else
	result FAIL no-implicit-device; rc=1
fi

# Install into a staging directory; build a program against the installed
# header with pkg-config, linked to the shared and to the static library.
inst=/tmp/ibv-odp-inst
rm -rf $inst
if make -s -C "$TOP/userspace/ibv-odp" BUILD="$BUILD" install DESTDIR=$inst > /tmp/install.log 2>&1; then
	cat > /tmp/pc-test.c <<'EOC'
#include <stdio.h>
#include <ibv_odp.h>
int main(void)
{
	struct ibv_device **l = ibv_get_device_list(NULL);
	struct ibv_context *c = l && l[0] ? ibv_open_device(l[0]) : NULL;
	struct ibv_odp_dev_caps caps;

	if (!c || ibv_odp_query_caps(c, &caps))
		return 1;
	printf("%s implicit=%d\n", ibv_get_device_name(l[0]), caps.implicit);
	return 0;
}
EOC
	export PKG_CONFIG_SYSROOT_DIR=$inst PKG_CONFIG_PATH=$inst/usr/local/lib/pkgconfig
	libdir=$inst/usr/local/lib
	ok=1
	gcc -Wall -Wextra -Werror -o /tmp/pc-shared /tmp/pc-test.c \
		$(pkg-config --cflags --libs libibv-odp) -Wl,-rpath,$libdir || ok=0
	gcc -Wall -Wextra -Werror -o /tmp/pc-static /tmp/pc-test.c \
		$(pkg-config --cflags libibv-odp) $libdir/libibv-odp.a \
		$(pkg-config --libs-only-l libibverbs) || ok=0
	for p in /tmp/pc-shared /tmp/pc-static; do
		o=$($p) || ok=0
		note "$p: $o"
		[ "$o" = "$DEV implicit=1" ] || ok=0
	done
	ldd /tmp/pc-shared | grep -q "$libdir/libibv-odp.so.1" || { note "pc-shared does not use the installed .so"; ok=0; }
	ldd /tmp/pc-static | grep -q libibv-odp && { note "pc-static uses the .so"; ok=0; }
	[ $ok = 1 ] && result PASS install-pkg-config || { result FAIL install-pkg-config; rc=1; }
	# The man pages are installed and render without warnings.
	ok=1
	for m in man1/ibv-odp.1 man3/libibv-odp.3 man3/ibv_odp_query_caps.3 \
		 man3/ibv_odp_reg_implicit.3 man3/ibv_odp_prefetch.3 \
		 man3/ibv_odp_read_counters.3 man3/libibv-odp-preload.3; do
		f=$inst/usr/local/share/man/$m
		[ -f "$f" ] || { note "missing $m"; ok=0; continue; }
		w=$(groff -man -ww -z "$f" 2>&1)
		[ -z "$w" ] || { note "$m: $w"; ok=0; }
	done
	[ $ok = 1 ] && result PASS man-pages || { result FAIL man-pages; rc=1; }
else
	cat /tmp/install.log
	result FAIL install-pkg-config; result FAIL man-pages; rc=1
fi
exit $rc
