#!/bin/sh
# Runs inside the guest (bench kernel): where the time of a device fault
# goes, against the CPU's own page fault.  function_graph traces
# hmm_mirror_fault() (rxe's fault through the mirror) and exc_page_fault()
# (the CPU's) while odp-bench's fault measurement runs once, and prints the
# mean time of each function called from them, per call of the parent.
# Output: $OUT/trace-fault.txt
. "$TOP/tests/lib.sh"
B=${ODP_BENCH:-$BUILD/bench/odp-bench}
T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs tracefs $T 2>/dev/null
[ -w $T/current_tracer ] || fail "no tracefs"
echo 0 > $T/tracing_on
echo function_graph > $T/current_tracer || fail "no function_graph tracer"
echo 'hmm_mirror_fault exc_page_fault' > $T/set_graph_function
echo 3 > $T/max_graph_depth
echo funcgraph-tail > $T/trace_options
echo nofuncgraph-irqs > $T/trace_options 2>/dev/null
echo 30000 > $T/buffer_size_kb
: > $T/trace
echo 1 > $T/tracing_on
"$B" fault -r 1 > /dev/null || echo "odp-bench fault failed"
echo 0 > $T/tracing_on
# Lines: "CPU) [duration us |] {indent}name() {" or "} /* name */";
# depth from the indentation.  Sum each function's time per parent.
awk -F'|' '
	NF < 2 { next }
	{
		d = $1; body = $2
		gsub(/[^0-9.]/, "", d)
		match(body, /^ */); ind = RLENGTH
		name = body; sub(/^ */, "", name)
		if (name ~ /^}/) { sub(/^} \/\* /, "", name); sub(/ \*\/.*/, "", name) }
		else { sub(/\(.*/, "", name) }
		if (d == "" || name == "") next
		depth = int((ind - 1) / 2)
		if (depth == 0) { top = name; n[top]++; t[top] += d; next }
		k = top " > " name
		sub_n[k]++; sub_t[k] += d
	}
	END {
		for (p in n) {
			printf "%-28s %8d calls  mean %9.2f us\n", p, n[p], t[p] / n[p]
			for (k in sub_n) if (index(k, p " > ") == 1)
				printf "    %-40s %8d calls  %9.2f us per %s\n", k, sub_n[k], sub_t[k] / n[p], p
		}
	}' $T/trace > "$OUT/trace-fault.txt"
cat "$OUT/trace-fault.txt"
echo nop > $T/current_tracer
