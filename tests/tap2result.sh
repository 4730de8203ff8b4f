#!/bin/sh
# Run a kselftest-harness (TAP) program and turn each "ok"/"not ok" line into
# a RESULT line for run-suites.sh.  Exits with the program's status.
# usage: tap2result.sh PROGRAM [ARGS]...
tmp=$(mktemp)
"$@" > "$tmp" 2>&1
rc=$?
cat "$tmp"
awk '/^(not )?ok [0-9]+ / {
	st = ($1 == "not") ? "FAIL" : "PASS"
	name = (st == "FAIL") ? $4 : $3
	if ($0 ~ /# SKIP/) st = "SKIP"
	if ($0 ~ /# XFAIL/) st = "PASS"
	print "RESULT " st " " name
}' "$tmp"
n=$(grep -c -E '^(not )?ok [0-9]+ ' "$tmp")
rm -f "$tmp"
[ "$n" -gt 0 ] || { echo "RESULT FAIL no-tap-output"; exit 1; }
exit $rc
