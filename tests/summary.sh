#!/bin/bash
# Summarise one or more guest runs (run-guest.sh output directories) into a
# per-suite table and the closing line "N passed, M failed[, K skipped]".
# Counted, for each run: the guest booted and ran the tests (vm/boot), the
# kernel log is clean (vm/kernel-log), every KUnit case in the log, and every
# result in results.txt.  Exits 1 when anything failed or could not run.
#
# usage: summary.sh RUN_LABEL=OUTDIR...
set -u
all=$(mktemp)
trap 'rm -f "$all"' EXIT

for arg in "$@"; do
	label=${arg%%=*} dir=${arg#*=}
	# Results of host-side tests only: no guest to account for.
	if [ -f "$dir/host-only" ]; then
		cat "$dir/results.txt"
		continue
	fi
	if [ -f "$dir/exit-status" ]; then
		echo "PASS vm/boot[$label]"
		# The test runner itself must have worked, and run something.
		rc=$(cat "$dir/exit-status")
		if [ "$rc" != 0 ]; then
			echo "FAIL vm/runner[$label] exit $rc: $(tail -3 "$dir/output.txt" 2>/dev/null | tr '\n' ' ')"
		elif [ ! -s "$dir/results.txt" ]; then
			echo "FAIL vm/runner[$label] no test ran"
		else
			echo "PASS vm/runner[$label]"
		fi
	else
		echo "FAIL vm/boot[$label] $(cat "$dir/verdict" 2>/dev/null || echo 'no verdict')"
	fi
	if [ -s "$dir/klog-problems.txt" ] || [ ! -f "$dir/klog-problems.txt" ]; then
		echo "FAIL vm/kernel-log[$label] see $dir/klog-problems.txt"
	else
		echo "PASS vm/kernel-log[$label]"
	fi
	# KUnit results printed at boot (KTAP).
	log=$dir/dmesg.txt
	[ -s "$log" ] || log=$dir/console.log
	sed -e 's/^\[[^]]*\] //' "$log" 2>/dev/null | awk -v label="$label" '
		/^KTAP version/ && !top { top = 1; next }
		top && /^1\.\.[0-9]+$/ && !plan { plan = substr($0, 4) + 0; next }
		/^    # Subtest: / { suite = $3; next }
		/^    (not )?ok [0-9]+ / {
			st = ($1 == "not") ? "FAIL" : "PASS"
			name = (st == "FAIL") ? $4 : $3
			if ($0 ~ /# SKIP/) st = "SKIP"
			printf "%s kunit/%s.%s\n", st, suite, name
			next
		}
		/^(not )?ok [0-9]+ / { done++ }
		END {
			if (plan && done < plan)
				printf "FAIL kunit/plan[%s] %d of %d suites finished\n", label, done, plan
		}'
	if [ -f "$dir/results.txt" ]; then
		cat "$dir/results.txt"
	fi
done > "$all"

printf '\n%-28s %7s %7s %7s\n' suite passed failed skipped
awk '{ split($2, p, "/"); s = p[1]; sub(/\[.*/, "", s); suites[s] = 1
       if ($1 == "PASS") ps[s]++; else if ($1 == "SKIP") sk[s]++; else fl[s]++ }
     END { for (s in suites) printf "%-28s %7d %7d %7d\n", s, ps[s], fl[s], sk[s] }' "$all" | sort
if grep -q '^FAIL' "$all"; then
	echo
	echo "failed:"
	grep '^FAIL' "$all" | sed 's/^FAIL /  /'
fi
if grep -q '^SKIP' "$all"; then
	echo
	echo "skipped:"
	grep '^SKIP' "$all" | sed 's/^SKIP /  /'
fi
p=$(grep -c '^PASS' "$all") f=$(grep -c '^FAIL' "$all") s=$(grep -c '^SKIP' "$all")
echo
if [ "$s" -gt 0 ]; then
	echo "$p passed, $f failed, $s skipped"
else
	echo "$p passed, $f failed"
fi
[ "$f" = 0 ] && [ "$p" -gt 0 ]
