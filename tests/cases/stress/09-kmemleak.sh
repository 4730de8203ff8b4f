#!/bin/sh
# Runs after the other stress cases (and every suite before this one): a
# kmemleak scan must find no unreferenced object.  Each report is also
# written to the kernel log, where the harness's log check sees it.
. "$TOP/tests/lib.sh"
f=/sys/kernel/debug/kmemleak
[ -e $f ] || fail "$f missing (CONFIG_DEBUG_KMEMLEAK, debugfs)"
# The test kernel leaves kmemleak off unless booted with kmemleak=on (make
# stress does): say so, as a skip, rather than pass.
if ! grep -qw 'kmemleak=on' /proc/cmdline; then
	note "kmemleak is off in this boot (no kmemleak=on; make stress turns it on)"
	result SKIP kmemleak-clean
	exit 0
fi
# Objects younger than 5 s are not reported; let deferred frees run too.
sleep 6
echo scan > $f || fail "kmemleak scan"
sleep 1
echo scan > $f || fail "kmemleak scan"
n=$(grep -c 'unreferenced object' $f)
note "kmemleak: $n unreferenced objects"
if [ "$n" != 0 ]; then
	cat $f
	grep 'unreferenced object' $f | while read -r l; do
		echo "kmemleak: $l" > /dev/kmsg
	done
	result FAIL kmemleak-clean
	exit 1
fi
result PASS kmemleak-clean
