#!/bin/bash
# Boot a kernel under QEMU (TCG) on the host's root filesystem, run one
# command inside the guest, and bring back its output and the kernel log.
#
# usage: run-guest.sh -k BZIMAGE -o OUTDIR [-m MEM] [-c CPUS] [-t TIMEOUT]
#                     [-a EXTRA_CMDLINE] [-s DISK_SIZE] [--no-rxe] -- COMMAND...
#
# The guest mounts the host's / read-only over virtio-9p, gets tmpfs on /tmp,
# /run, /var/tmp, /root and /dev/shm, this repository (read-only) at its host
# path again, so that a checkout under /tmp stays visible, and OUTDIR
# (writable) on /mnt/out.  With -s, the guest also gets an empty virtio-blk
# disk of that size (truncate(1) sizes: 2G) as /dev/vda, for swap, say; its
# image lives in OUTDIR only while the guest runs.  Its
# init (init.sh beside this script) brings up eth0, adds rxe0 on it, runs
# COMMAND with its output in OUTDIR/output.txt, saves dmesg in
# OUTDIR/dmesg.txt and powers off.
#
# Exit status: COMMAND's exit status when the run completed and the kernel
# log is clean; otherwise non-zero, with the reason in OUTDIR/verdict:
#   124 the timeout expired        125 the guest never ran COMMAND
#   126 the kernel log has a BUG/WARNING/lockdep/KASAN/... report
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
kernel= out= mem=2G cpus=2 tmo=900 extra= rxe=1 disk=
usage() { sed -n '2,21s/^# \{0,1\}//p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	-k) kernel=$2; shift 2 ;;
	-o) out=$2; shift 2 ;;
	-m) mem=$2; shift 2 ;;
	-c) cpus=$2; shift 2 ;;
	-t) tmo=$2; shift 2 ;;
	-a) extra="$extra $2"; shift 2 ;;
	-s) disk=$2; shift 2 ;;
	--no-rxe) rxe=0; shift ;;
	--) shift; break ;;
	*) usage ;;
	esac
done
[ -n "$kernel" ] && [ -n "$out" ] && [ $# -gt 0 ] || usage
[ -r "$kernel" ] || { echo "run-guest: no kernel at $kernel" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null ||
	{ echo "run-guest: qemu-system-x86_64 missing (make deps)" >&2; exit 2; }

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
# The command and its environment travel through the results share.
{
	echo "TOP='$top'"
	echo "RXE=$rxe"
	printf 'CMD=%q\n' "$*"
} > "$out/guest.env"

drive=()
if [ -n "$disk" ]; then
	truncate -s "$disk" "$out/disk.img" || exit 2
	drive=(-drive "file=$out/disk.img,format=raw,if=virtio,cache=unsafe")
fi

# Two NUMA nodes (split evenly), 2 MiB huge pages reserved at boot.
cmdline="console=ttyS0 panic=-1 oops=panic loglevel=6 numa=fake=2 hugepages=32"
cmdline="$cmdline root=hostroot rootfstype=9p ro"
cmdline="$cmdline rootflags=trans=virtio,version=9p2000.L,cache=loose,msize=262144"
# An RCU stall is reported after 120 s rather than 21: under TCG on a busy
# host a vCPU can go without host CPU for tens of seconds (seen at boot, in
# ACPI's interpreter under KASAN), which is no stall of the guest kernel;
# one that lasts is still reported, and fails the run.
cmdline="$cmdline rcupdate.rcu_cpu_stall_timeout=120"
cmdline="$cmdline init=$here/init.sh$extra"

echo "run-guest: booting ${kernel#"$top"/} (${mem}, ${cpus} vCPUs, timeout ${tmo}s)"
start=$(date +%s)
timeout -k 15 "$tmo" qemu-system-x86_64 \
	-accel tcg -cpu max -m "$mem" -smp "$cpus" \
	-nographic -no-reboot -vga none -nodefaults -serial stdio \
	-kernel "$kernel" -append "$cmdline" \
	-fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=root,mount_tag=hostroot \
	-fsdev local,id=top,path="$top",security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=top,mount_tag=top \
	-fsdev local,id=out,path="$out",security_model=none \
	-device virtio-9p-pci,fsdev=out,mount_tag=out \
	-netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,romfile= \
	-device virtio-rng-pci "${drive[@]}" \
	</dev/null > "$out/console.log" 2>&1
qrc=$?
rm -f "$out/disk.img"
took=$(($(date +%s) - start))

verdict() { echo "$1" > "$out/verdict"; echo "run-guest: $1 (${took}s)"; }

# The kernel log: dmesg as the guest saved it, or the console when the guest
# died before it could save it.
log=$out/dmesg.txt
[ -s "$log" ] || log=$out/console.log
"$here/check-klog.sh" "$log" > "$out/klog-problems.txt"
klog_bad=$?

if [ $qrc = 124 ] || [ $qrc = 137 ]; then
	verdict "timed out after ${tmo}s"
	tail -20 "$out/console.log" | sed 's/^/  console| /'
	exit 124
fi
if [ ! -f "$out/exit-status" ]; then
	verdict "the guest did not run the command (qemu exit $qrc)"
	tail -30 "$out/console.log" | sed 's/^/  console| /'
	exit 125
fi
rc=$(cat "$out/exit-status")
if [ $klog_bad != 0 ]; then
	verdict "kernel log has problems (command exit $rc)"
	sed 's/^/  klog| /' "$out/klog-problems.txt" | head -40
	exit 126
fi
verdict "command exit $rc, kernel log clean"
exit "$rc"
