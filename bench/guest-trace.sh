#!/bin/sh
# Runs inside the guest (bench kernel): the kernel's own timing of a device
# fault against the CPU's page fault, free of the user-space polling and
# scheduling noise around each work request.  function_graph times
# mmu_mirror_fault() (every rxe access to an ODP MR goes through it: a
# lookup when the pages are mirrored, a fault when not) and exc_page_fault()
# (the CPU's), outermost calls only, while odp-bench's fault measurement
# runs over 4 KiB pages, then over 2 MiB THPs; then the kernel's part of an
# implicit registration (ib_uverbs_write()).
# Output: $OUT/trace-fault.txt, $OUT/trace-reg.txt (quantiles and
# breakdown, us)
. "$TOP/tests/lib.sh"
B=${ODP_BENCH:-$BUILD/bench/odp-bench}
T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs tracefs $T 2>/dev/null
[ -w $T/current_tracer ] || fail "no tracefs"

# Durations (us) of the outermost calls of each traced function:
# count, sum, quantiles, and the median of the slower half.
quantiles() {
	awk -F'|' 'NF >= 2 {
		d = $1; sub(/^ *[0-9]+\)/, "", d); gsub(/[^0-9.]/, "", d)
		name = $2; sub(/^ */, "", name)
		if (name ~ /^}/) { sub(/^} \/\* /, "", name); sub(/ \*\/.*/, "", name) }
		else sub(/\(.*/, "", name)
		if (d != "" && name != "") print name, d
	}' | sort -k1,1 -k2,2n | awk '
	function flush() {
		if (!n) return
		m = int((n + 1) / 2)
		s2 = 0; for (i = m + 1; i <= n; i++) s2 += v[i]
		printf "%-18s n=%6d sum=%10.0f p10=%8.2f p25=%8.2f p50=%8.2f p75=%8.2f p90=%8.2f slower-half-median=%8.2f\n",
			cur, n, sum, v[int(n*0.1)+1], v[int(n*0.25)+1], v[m], v[int(n*0.75)+1], v[int(n*0.9)+1], v[m + int((n - m + 1) / 2)]
	}
	$1 != cur { flush(); cur = $1; n = 0; sum = 0 }
	{ v[++n] = $2; sum += $2 }
	END { flush() }'
}

# Start function_graph on the calls of the functions $1 and what they call,
# $2 levels deep, with an empty buffer.
graph_on() {
	echo 0 > $T/tracing_on
	echo nop > $T/current_tracer
	echo function_graph > $T/current_tracer || fail "no function_graph tracer"
	echo "$1" > $T/set_graph_function
	echo "$2" > $T/max_graph_depth
	echo funcgraph-tail > $T/trace_options
	echo nofuncgraph-irqs > $T/trace_options 2>/dev/null
	echo 40000 > $T/buffer_size_kb
	: > $T/trace
	echo 1 > $T/tracing_on
}

# What the stopped tracer holds: the quantiles of the outermost calls (no
# indentation beyond the first level), then what the calls of each spend
# their time in (mean per outer call).
graph_report() {
	grep -v '^#' $T/trace > /tmp/trace.txt
	awk -F'|' 'NF >= 2 { b = $2; match(b, /^ */); if (RLENGTH <= 2) print }' /tmp/trace.txt | quantiles
	breakdown < /tmp/trace.txt
}

trace_fault() {
	# exc_page_fault() cannot be traced (noinstr): the CPU's fault is
	# handle_mm_fault() called outside mmu_mirror_fault(), i.e. at depth 0.
	graph_on 'mmu_mirror_fault handle_mm_fault' 3
	"$B" fault -s "$1" -r "$2" > "$OUT/trace-fault-$1.csv" || echo "odp-bench fault failed"
	echo 0 > $T/tracing_on
	echo "== odp-bench fault -s $1 -r $2: $(grep -c . "$OUT/trace-fault-$1.csv") results"
	graph_report
}

# The kernel's part of an implicit registration and its deregistration:
# the uverbs entry points (rdma-core's ibv_reg_mr() and ibv_dereg_mr() go
# through ib_uverbs_ioctl() or ib_uverbs_write()) and what they call, over
# 200 registrations, against the whole ibv_reg_mr() as the program times
# it.
trace_reg() {
	graph_on 'ib_uverbs_ioctl ib_uverbs_write' 5
	"$B" reg-implicit -r 200 > "$OUT/trace-reg.csv" || echo "odp-bench reg-implicit failed"
	echo 0 > $T/tracing_on
	echo "== odp-bench reg-implicit -r 200: ibv_reg_mr() as timed by the program, us"
	awk -F, '$2 == "reg" { print "ibv_reg_mr", $7 }' "$OUT/trace-reg.csv" | sort -k2,2n |
		awk '{ v[++n] = $2 } END { if (n) printf "ibv_reg_mr         n=%6d p10=%8.2f p50=%8.2f p90=%8.2f\n", n, v[int(n*0.1)+1], v[int((n+1)/2)], v[int(n*0.9)+1] }'
	graph_report
}

breakdown() {
	awk -F'|' 'NF >= 2 {
		d = $1; sub(/^ *[0-9]+\)/, "", d); gsub(/[^0-9.]/, "", d)
		b = $2; match(b, /^ */); ind = RLENGTH
		open = b ~ /\{ *$/
		name = b; sub(/^ */, "", name)
		if (name ~ /^}/) { sub(/^} \/\* /, "", name); sub(/ \*\/.*/, "", name) }
		else sub(/\(.*/, "", name)
		if (name == "") next
		depth = int((ind - 2) / 2)
		if (depth <= 0) {
			if (open) top = name
			else if (d != "") { if (b !~ /}/) top = name; n[top]++ }
			next
		}
		if (d == "") next
		k = top " > " substr("                ", 1, 2 * depth) name
		t[k] += d; c[k]++
	}
	END {
		for (k in t) { split(k, a, " > "); p = a[1]
			if (n[p]) printf "  %-56s %7d calls %9.2f us each %9.2f us per %s\n", k, c[k], t[k] / c[k], t[k] / n[p], p }
	}' | sort
}

# Turning a tracer on or off rewrites the call at the entry of every
# function.  Under TCG, a vCPU running kernel code while another rewrites it
# has hit a breakpoint of that rewrite after it was over ("Oops: int3" in
# cpu_util()): only CPU 0 stays online while the tracer is switched and
# runs, and the others come back after it.
others=$(ls -d /sys/devices/system/cpu/cpu[1-9]* 2>/dev/null)
for c in $others; do echo 0 > $c/online; done
{
	echo "(CPUs online while traced: $(cat /sys/devices/system/cpu/online))"
	trace_fault 4K 2
	trace_fault 2M 1
} > "$OUT/trace-fault.txt" 2>&1
trace_reg > "$OUT/trace-reg.txt" 2>&1

echo nop > $T/current_tracer
for c in $others; do echo 1 > $c/online; done
cat "$OUT/trace-fault.txt" "$OUT/trace-reg.txt"
