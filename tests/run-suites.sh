#!/bin/sh
# Runs test cases inside the guest.  Each case is an executable under
# tests/cases/SUITE/.  Its output goes to $OUT/logs/SUITE.NAME.log and its
# results to $OUT/results.txt, one line each:
#     PASS|FAIL SUITE/NAME[.SUB] [reason]
# A case reports one result by its exit status, or several by printing
# "RESULT PASS|FAIL|SKIP SUB" lines (a non-zero exit without any failed sub-result
# still fails the case).
#
# usage: run-suites.sh [SUITE | SUITE/NAME]...    (default: every suite)
# Environment: TOP (the repository), OUT (results directory),
#              BUILD (the build directory), CASE_TIMEOUT (seconds, default 600),
#              CASES (the directory of suites, default $TOP/tests/cases)
: "${TOP:?}" "${OUT:?}"
BUILD=${BUILD:-$TOP/build}
CASES=${CASES:-$TOP/tests/cases}
export TOP OUT BUILD
mkdir -p "$OUT/logs"
: > "$OUT/results.txt"

cases=""
if [ $# = 0 ]; then set -- $(cd "$CASES" && ls -d */ | tr -d /); fi
for sel in "$@"; do
	case "$sel" in
	*/*) cases="$cases $CASES/$sel"* ;;
	*) cases="$cases $(ls -d "$CASES/$sel"/* 2>/dev/null)" ;;
	esac
done

for c in $cases; do
	[ -x "$c" ] || continue
	suite=$(basename "$(dirname "$c")")
	name=$(basename "$c"); name=${name%.sh}
	log=$OUT/logs/$suite.$name.log
	echo "[guest] $suite/$name" > /dev/console
	t0=$(date +%s)
	timeout -k 10 "${CASE_TIMEOUT:-600}" "$c" > "$log" 2>&1
	rc=$?
	t=$(($(date +%s) - t0))
	subs=$(grep -c '^RESULT ' "$log")
	sfail=$(grep -c '^RESULT FAIL' "$log")
	grep '^RESULT ' "$log" | while read -r _ r sub; do
		echo "$r $suite/$name.$sub" >> "$OUT/results.txt"
	done
	if [ "$subs" = 0 ] || { [ $rc != 0 ] && [ "$sfail" = 0 ]; }; then
		if [ $rc = 0 ]; then
			echo "PASS $suite/$name" >> "$OUT/results.txt"
		elif [ $rc = 124 ] || [ $rc = 137 ]; then
			echo "FAIL $suite/$name timed out" >> "$OUT/results.txt"
		else
			echo "FAIL $suite/$name exit $rc" >> "$OUT/results.txt"
		fi
	fi
	echo "# $suite/$name: exit $rc, ${t}s" >> "$log"
done
exit 0
