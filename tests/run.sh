#!/bin/bash
# Boot the test kernel and run test suites in it, then summarise.
#
# usage: tests/run.sh BZIMAGE OUTDIR [SUITE | SUITE/CASE]...
# Environment: GUEST_TIMEOUT (seconds, default 2400), LOWMEM_TIMEOUT (the
# memory-pressure guest, default 900), GUEST_ENV / LOWMEM_ENV (variables for
# the cases of each guest: STRESS_SECS=600 ...), GUEST_APPEND (kernel command
# line additions for the main guest; LOWMEM_APPEND for the memory-pressure
# one), BUILD (build directory)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
kernel=${1:?usage: run.sh BZIMAGE OUTDIR [SUITE]...}
out=${2:?usage: run.sh BZIMAGE OUTDIR [SUITE]...}
shift 2
build=${BUILD:-$top/build}

# Host-side tests of the harness itself.
mkdir -p "$out/host"
touch "$out/host/host-only"
"$top/tests/host/klog-check.sh" > "$out/host/results.txt"

# Suites of tests/cases run in one guest; those of tests/cases-lowmem
# (memory pressure) in a second one, with 512 MiB and a disk for swap, when
# named (make stress does; T=pressure): filling more memory than the guest
# has, through swap, takes minutes under TCG.
rm -rf "$out/main" "$out/lowmem"
main= low=
for sel in "$@"; do
	if [ -d "$top/tests/cases-lowmem/${sel%%/*}" ]; then
		low="$low $sel"
	else
		main="$main $sel"
	fi
done
runs=()
if [ $# = 0 ] || [ -n "$main" ]; then
	# A small disk for the cases that need swap (rxe/26).
	"$top/tests/vm/run-guest.sh" -k "$kernel" -o "$out/main" -s 512M -t "${GUEST_TIMEOUT:-2400}" \
		${GUEST_APPEND:+-a "$GUEST_APPEND"} -- \
		"BUILD=$build ${GUEST_ENV:-} sh $top/tests/run-suites.sh $main"
	runs+=("main=$out/main")
fi
if [ -n "$low" ]; then
	"$top/tests/vm/run-guest.sh" -k "$kernel" -o "$out/lowmem" -m 512M -s 4G \
		-t "${LOWMEM_TIMEOUT:-900}" ${LOWMEM_APPEND:+-a "$LOWMEM_APPEND"} -- \
		"BUILD=$build CASES=$top/tests/cases-lowmem ${LOWMEM_ENV:-} sh $top/tests/run-suites.sh $low"
	runs+=("lowmem=$out/lowmem")
fi
# The summary decides: it counts the boot, the kernel log and every case.
for f in "$out"/main/logs/*.log "$out"/lowmem/logs/*.log; do
	[ -f "$f" ] || continue
	if grep -q "^FAIL\|^RESULT FAIL\|: exit [1-9]" "$f"; then
		echo "---- ${f##*/} (tail)"
		tail -25 "$f"
	fi
done
"$top/tests/summary.sh" "host=$out/host" "${runs[@]}"
