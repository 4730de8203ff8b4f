#!/bin/sh
# The guest is what the tests assume: 2 vCPUs, two NUMA nodes, 2 MiB huge
# pages reserved, a working /proc (multidevs=remap on the 9p root).
. "$TOP/tests/lib.sh"
[ -r /proc/cpuinfo ] || fail "/proc/cpuinfo missing: the 9p root confuses /proc"
[ "$(grep -c ^processor /proc/cpuinfo)" = 2 ] || fail "expected 2 CPUs"
[ -d /sys/devices/system/node/node0 ] && [ -d /sys/devices/system/node/node1 ] ||
	fail "expected NUMA nodes 0 and 1"
hp=$(awk '/^HugePages_Total:/ { print $2 }' /proc/meminfo)
[ "$hp" -ge 16 ] || fail "expected >= 16 huge pages reserved, have $hp"
[ "$(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo)" = 2048 ] || fail "huge page size is not 2 MiB"
grep -q ' /tmp tmpfs' /proc/mounts || fail "/tmp is not tmpfs"
touch /tmp/x /root/x || fail "tmpfs not writable"
! touch /usr/.guest-write-test 2>/dev/null || fail "the host root is writable"
note "cpus 2, nodes 2, huge pages $hp"
