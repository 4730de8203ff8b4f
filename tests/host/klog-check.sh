#!/bin/bash
# Host-side test of tests/vm/check-klog.sh: every kind of report it must
# catch, taken from real kernel output, fails a log; a clean boot log of the
# test kernel (KASAN, lockdep and KUnit announcing themselves) passes.
# Prints one "PASS|FAIL host/klog.NAME" line per case.
here=$(cd "$(dirname "$0")" && pwd)
check=$here/../vm/check-klog.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
clean='[    0.000000] Linux version 6.12.57 (odp@build)
[    0.913245] KernelAddressSanitizer initialized (generic)
[    1.024402] Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar
[    1.024888] ... MAX_LOCKDEP_SUBCLASSES:  8
[   33.132810] # mmu_mirror: pass:6 fail:0 skip:0 total:6
[   34.001000] rdma_rxe: loaded
[   35.100000] infiniband rxe0: set active'
i=0
while IFS='|' read -r name line; do
	[ -n "$name" ] || continue
	printf '%s\n%s\n' "$clean" "[   40.000000] $line" > "$tmp/log"
	if "$check" "$tmp/log" > /dev/null; then
		echo "FAIL host/klog.$name not caught: $line"
	else
		echo "PASS host/klog.$name"
	fi
	i=$((i + 1))
done <<'EOF2'
warn|WARNING: CPU: 1 PID: 224 at drivers/infiniband/sw/rxe/rxe_verbs.c:1300 rxe_reg_user_mr+0x2a1/0x3c0
bug|kernel BUG at mm/mmu_mirror.c:120!
kasan|BUG: KASAN: slab-use-after-free in mmu_mirror_invalidate+0x1c/0x1f0
lockdep-circular|WARNING: possible circular locking dependency detected
lockdep-inconsistent|WARNING: inconsistent lock state
atomic-sleep|BUG: sleeping function called from invalid context at kernel/locking/mutex.c:585
hung-task|INFO: task kworker/u4:2:57 blocked for more than 61 seconds.
oops|Oops: general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] SMP KASAN
softlockup|watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [ib_write_bw:230]
rcu-stall|rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:
list-corruption|list_add corruption. prev->next should be next (ffff888003a1c0d8), but was 0000000000000000.
kmemleak|unreferenced object 0xffff888004b3e000 (size 4096):
bad-page|BUG: Bad page state in process ib_write_bw  pfn:0a1b2
panic|Kernel panic - not syncing: Fatal exception
EOF2
echo "$clean" > "$tmp/log"
if "$check" "$tmp/log" > /dev/null; then
	echo "PASS host/klog.clean-log-passes"
else
	echo "FAIL host/klog.clean-log-passes"
fi
