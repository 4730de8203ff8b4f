#!/bin/bash
# The main job: boot the kernel, add rxe, run perftest over rxe, show the
# results.  usage: demo/run.sh BZIMAGE OUTDIR
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
kernel=${1:?usage: run.sh BZIMAGE OUTDIR}
out=${2:?usage: run.sh BZIMAGE OUTDIR}
"$top/tests/vm/run-guest.sh" -k "$kernel" -o "$out" -t 900 -- \
	"BUILD=${BUILD:-$top/build} sh $top/demo/guest-demo.sh"
rc=$?
echo
cat "$out/output.txt" 2>/dev/null
exit $rc
