#!/bin/bash
# Boot the test kernel once and run test suites in it, then summarise.
#
# usage: tests/run.sh BZIMAGE OUTDIR [SUITE | SUITE/CASE]...
# Environment: GUEST_TIMEOUT (seconds, default 2400), BUILD (build directory)
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

"$top/tests/vm/run-guest.sh" -k "$kernel" -o "$out/main" -t "${GUEST_TIMEOUT:-2400}" -- \
	"BUILD=$build sh $top/tests/run-suites.sh $*"
# The summary decides: it counts the boot, the kernel log and every case.
for f in "$out"/main/logs/*.log; do
	[ -f "$f" ] || continue
	if grep -q "^FAIL\|^RESULT FAIL\|: exit [1-9]" "$f"; then
		echo "---- ${f##*/} (tail)"
		tail -25 "$f"
	fi
done
"$top/tests/summary.sh" "host=$out/host" "main=$out/main"
