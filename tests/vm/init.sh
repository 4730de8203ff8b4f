#!/bin/sh
# Guest init (PID 1), started by run-guest.sh on the host's read-only root.
# Sets up a minimal system, adds the soft-RoCE device rxe0 on eth0, runs the
# command found in the results share, saves the kernel log and powers off.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH HOME=/root TERM=dumb LANG=C.UTF-8

say() { echo "[guest] $*" > /dev/console 2>/dev/null || echo "[guest] $*"; }

mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /dev/hugepages
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
for d in /tmp /run /var/tmp /root /dev/shm; do
	mount -t tmpfs -o mode=1777 tmpfs "$d"
done
chmod 700 /root
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t hugetlbfs -o pagesize=2M hugetlbfs /dev/hugepages 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null

OUT=/mnt/out
mkdir -p $OUT 2>/dev/null || true
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out $OUT 2>/dev/null; then
	OUT=/tmp/out-fallback
	mkdir -p $OUT
	mount -t 9p -o trans=virtio,version=9p2000.L out $OUT
fi
export OUT

# shellcheck disable=SC1091
. $OUT/guest.env
export TOP RXE

# The repository at its host path, also when that is under one of the
# tmpfs mounts above (a checkout in /tmp, say).
mkdir -p "$TOP" 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose,ro top "$TOP" ||
	say "cannot mount the repository at $TOP"

hostname guest 2>/dev/null
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
if [ "$RXE" = 1 ]; then
	if rdma link add rxe0 type rxe netdev eth0 > $OUT/rxe-add.txt 2>&1; then
		echo 0 > $OUT/rxe-add.status
	else
		echo $? > $OUT/rxe-add.status
		say "rdma link add rxe0 failed: $(cat $OUT/rxe-add.txt)"
	fi
fi

say "running: $CMD"
cd /tmp || true
sh -c "$CMD" > $OUT/output.txt 2>&1 < /dev/null
rc=$?
echo $rc > $OUT/exit-status.tmp
say "command exited with $rc"

# Let deferred work (RCU callbacks, rxe cleanup, hung-task checks) report
# before the log is saved.
sync
dmesg > $OUT/dmesg.txt 2>&1
mv $OUT/exit-status.tmp $OUT/exit-status
sync
umount $OUT 2>/dev/null
reboot -f
