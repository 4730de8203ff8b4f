#!/bin/bash
# The figures of a stress run (make stress, or make test's short stress
# suite), read back from the logs of its guests: for each part, the cases
# and their results, the iterations, the bytes verified and the mismatches;
# then the kernel reports (splats) of each guest, the kmemleak scan and the
# memory-pressure guest's RAM, swap use and data checks.  A figure that is
# missing from a log (a part that did not run, or died) prints as "-".
#
# usage: stress-table.sh OUTDIR    (the OUTDIR of tests/run.sh)
set -u
out=${1:?usage: stress-table.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
main=$out/main lowmem=$out/lowmem

# KEY=VALUE out of the line of LOG that starts with TAG, or "-".
kv() {
	local v
	v=$(grep -s "^$2 " "$1" | tail -1 | tr ' ' '\n' | sed -n "s/^$3=//p")
	echo "${v:--}"
}
# Results of CASE (suite/name) in a results.txt: "cases passed failed".
counts() {
	awk -v c="$2" 'index($2, c) == 1 { n++; if ($1 == "PASS") p++; else if ($1 != "SKIP") f++ }
		END { printf "%d %d %d\n", n, p, f }' "$1" 2>/dev/null || echo "0 0 0"
}
row() { printf '%-24s %6s %6s %6s %12s %16s %10s\n' "$@"; }
# A part's row, added to the totals.
tn=0 tp=0 tf=0 tb=0 tm=0
part() {
	row "$@"
	tn=$((tn + $2)) tp=$((tp + $3)) tf=$((tf + $4))
	[ "$6" = - ] || tb=$((tb + $6))
	[ "$7" = - ] || tm=$((tm + $7))
}

log() { echo "$main/logs/stress.$1.log"; }
res=$main/results.txt

echo
echo "==== stress figures ($out)"
row part cases passed failed iterations "bytes verified" mismatches

# Bad input: one iteration per case, exact errno or status.
read -r n p f < <(counts "$res" stress/01-badinput)
[ "$n" -gt 0 ] && part "bad input" "$n" "$p" "$f" \
	"$(grep -s '^# bad-input cases:' "$(log 01-badinput)" | awk '{ print $4 + 0 }')" - -

# The invalidation storm: transfers and payload bytes checked word by word.
l=$(log 02-storm)
read -r n p f < <(counts "$res" stress/02-storm)
secs=$(kv "$l" STORM seconds)
[ "$n" -gt 0 ] && part "storm ${secs} s" "$n" "$p" "$f" "$(kv "$l" STORM transfers)" \
	"$(kv "$l" STORM bytes_verified)" "$(kv "$l" STORM mismatches)"

# Deregistration under WRITEs: one MR per iteration.
l=$(log 03-dereg)
read -r n p f < <(counts "$res" stress/03-dereg)
[ "$n" -gt 0 ] && part "dereg under writes" "$n" "$p" "$f" "$(kv "$l" DEREG iterations)" - \
	"$(kv "$l" DEREG failures)"

# SIGKILL during traffic, and rdma link delete with live ODP MRs: rounds.
l=$(log 04-kill)
read -r n p f < <(counts "$res" stress/04-kill)
[ "$n" -gt 0 ] && part "sigkill" "$n" "$p" "$f" "$(grep -s -c '^# round .*: killed after' "$l")" - -
l=$(log 05-link-delete)
read -r n p f < <(counts "$res" stress/05-link-delete)
[ "$n" -gt 0 ] && part "rdma link delete" "$n" "$p" "$f" "$(grep -s -c '^RESULT PASS link-delete-' "$l")" - -

read -r n p f < <(counts "$res" stress/09-kmemleak)
[ "$n" -gt 0 ] && part "kmemleak scan" "$n" "$p" "$f" - - -

# Memory pressure: RDMA READs and WRITEs of 64 KiB blocks, each checked,
# and the whole arena checked by the CPU at the end.
l=$lowmem/logs/pressure.01-swap-odp.log
read -r n p f < <(counts "$lowmem/results.txt" pressure/01-swap-odp)
if [ "$n" -gt 0 ]; then
	r=$(kv "$l" PRESSURE rdma_reads) w=$(kv "$l" PRESSURE rdma_writes)
	it=-
	[ "$r" != - ] && [ "$w" != - ] && it=$((r + w))
	part "pressure" "$n" "$p" "$f" "$it" "$(kv "$l" PRESSURE bytes_verified)" \
		"$(kv "$l" PRESSURE mismatches)"
fi
row total "$tn" "$tp" "$tf" - "$tb" "$tm"

echo
for d in "$main" "$lowmem"; do
	[ -d "$d" ] || continue
	k=$d/dmesg.txt
	[ -s "$k" ] || k=$d/console.log
	if [ -r "$k" ]; then
		s=$("$here/vm/check-klog.sh" -c "$k")
	else
		s="- (no kernel log)"
	fi
	printf '%-32s %s\n' "kernel splats (${d##*/} guest)" "$s"
	c=$(grep -a -s -o 'smp: Brought up .*' "$k" | sed 's/smp: Brought up //')
	printf '%-32s %s\n' "CPUs online (${d##*/} guest)" "${c:--}"
done
l=$(log 09-kmemleak)
if grep -qs '^RESULT SKIP kmemleak' "$l"; then
	km="not run (kmemleak off in this boot)"
else
	km=$(grep -s '^# kmemleak: ' "$l" | sed 's/^# kmemleak: //')
fi
printf '%-32s %s\n' "kmemleak" "${km:--}"
l=$(log 02-storm)
if [ -s "$l" ]; then
	printf '%-32s %s\n' "storm transfers" "exact $(kv "$l" STORM exact), disturbed $(kv "$l" STORM disturbed), retried $(kv "$l" STORM retried)"
	printf '%-32s %s\n' "storm disturbers" "$(awk '/^disturber/ { on = 1; next } on && NF { n = $NF; $NF = ""; sub(/ +$/, ""); printf "%s%s %s", sep, $0, n; sep = ", " } on && !NF { exit }' "$l")"
	printf '%-32s %s\n' "storm rxe counters" "$(sed -n 's/^# rxe0 //p' "$l")"
fi
l=$lowmem/logs/pressure.01-swap-odp.log
if [ -s "$l" ]; then
	printf '%-32s %s\n' "pressure guest" "$(sed -n 's/^# MemTotal \([0-9]*\) MiB, arena \([0-9]*\) MiB, \([0-9]*\) s.*/RAM (MemTotal) \1 MiB, arena \2 MiB, \3 s of traffic/p' "$l")"
	printf '%-32s %s\n' "pressure swap" "largest use $(awk '/^largest swap use/ { print $NF }' "$l") MiB"
	printf '%-32s %s\n' "pressure data checks" "$(kv "$l" PRESSURE rdma_reads) READs, $(kv "$l" PRESSURE rdma_writes) WRITEs, $(kv "$l" PRESSURE cpu_touches) CPU reads, $(kv "$l" PRESSURE final_pages_checked) pages checked at the end"
	printf '%-32s %s\n' "pressure rxe counters" "$(awk '/^rxe odp_/ { printf "%s%s %s", sep, $2, $3; sep = ", " }' "$l")"
fi
