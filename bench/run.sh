#!/bin/bash
# make bench: boot the bench kernel once, run every measurement
# (bench/guest-bench.sh), then turn the raw CSV into ratios, a table and a
# plot.
#
# usage: bench/run.sh BZIMAGE OUTDIR [RESULTS_DIR]
#   OUTDIR       the guest's output (console, dmesg, raw CSV, profiles)
#   RESULTS_DIR  where results.md, results.png, results.csv and ratios.csv
#                go (default: bench/ in the repository)
# Environment: REPS (default 5), BENCH_ONLY (a subset of the measurements:
# steady reg cold fault inval scale profile swap), BENCH_TIMEOUT (s),
# BENCH_NOTE (a Markdown file: how the run was taken, where the time goes;
# it goes into results.md above the table).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
kernel=${1:?usage: run.sh BZIMAGE OUTDIR [RESULTS_DIR]}
out=${2:?usage: run.sh BZIMAGE OUTDIR [RESULTS_DIR]}
results=${3:-$top/bench}
build=${BUILD:-$top/build}
reps=${REPS:-5}
only=${BENCH_ONLY:-}

command -v gnuplot >/dev/null || { echo "bench: gnuplot missing (make deps)" >&2; exit 2; }

echo "bench: one boot of ${kernel#"$top"/}, $reps repetitions; progress follows (about an hour under TCG on a busy host)"
start=$(date +%s)
"$top/tests/vm/run-guest.sh" -k "$kernel" -o "$out" -t "${BENCH_TIMEOUT:-5400}" -- \
	"BUILD=$build REPS=$reps BENCH_ONLY='$only' sh $top/bench/guest-bench.sh" &
guest=$!
# The console carries the guest's progress lines.
sleep 2
tail -n +1 -F --pid=$guest "$out/console.log" 2>/dev/null | grep --line-buffered -E '^\[bench\]' |
	while IFS= read -r l; do
		printf '%5ds %s\n' $(($(date +%s) - start)) "$l"
	done &
tailer=$!
wait $guest
rc=$?
sleep 1
kill $tailer 2>/dev/null
wait $tailer 2>/dev/null

if [ ! -s "$out/bench.csv" ]; then
	echo "bench: no measurements came back (see $out/console.log, $out/output.txt)" >&2
	exit 1
fi
cp "$build/config-bench" "$out/config-bench" 2>/dev/null
python3 "$top/bench/report.py" "$out/bench.csv" "$out/guest-env.txt" \
	"$build/config-bench" "$results" ${BENCH_NOTE:+"$BENCH_NOTE"} || exit 1
gnuplot -e "datafile='$results/plot.dat'; outfile='$results/results.png'" \
	"$top/bench/plot.gp" || exit 1
rm -f "$results/plot.dat"
for f in "$out"/perf-*.txt "$out"/trace-fault.txt "$out"/trace-reg.txt; do
	[ -f "$f" ] && cp "$f" "$results/"
done
echo "bench: $results/results.md, results.png, results.csv, ratios.csv ($(($(date +%s) - start)) s)"
[ $rc = 0 ] || echo "bench: the guest run reported failures (exit $rc): see $out/output.txt" >&2
exit $rc
