#!/bin/sh
# Runs inside the guest (bench kernel): every measurement of `make bench`,
# in one boot.  Raw numbers go to $OUT/bench.csv as
#   CSV,test,metric,variant,param,rep,value,unit
# and progress to the console.  REPS (default 5) repetitions of each.
# BENCH_ONLY="steady reg ..." runs a subset.
. "$TOP/tests/lib.sh"
REPS=${REPS:-5}
ONLY=${BENCH_ONLY:-"steady reg cold fault inval scale profile swap"}
B=${ODP_BENCH:-$BUILD/bench/odp-bench}
PT=$BUILD/perftest
CSV=$OUT/bench.csv
: > "$CSV"
status=0

say() { echo "[bench] $*" > /dev/console 2>/dev/null; echo "# $*"; }
want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }
emit() { echo "CSV,$*" >> "$CSV"; }

g=$(gid_index) || fail "rxe0 has no RoCE v2 GID for $IP"
[ -x "$B" ] || fail "$B not built"
[ -x "$PT/ib_write_bw" ] || fail "$PT/ib_write_bw not built (make perftest)"

{
	echo "kernel: $(uname -r)"
	echo "version: $(cat /proc/version)"
	echo "cpus: $(nproc)"
	echo "memtotal_kb: $(awk '/MemTotal/ { print $2 }' /proc/meminfo)"
	echo "cpu_model: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "thp: $(cat /sys/kernel/mm/transparent_hugepage/enabled)"
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
} > "$OUT/guest-env.txt"
cat "$OUT/guest-env.txt"

# Sum of VmPin (kB) of the perftest processes and the system's pinned pages,
# sampled every half second until $2 exists; the largest seen goes to
# $2.max.  No fork per sample: reads are shell built-ins.
sample_pins() {
	done=$1 vmax=0 smax=0
	while [ ! -e "$done" ]; do
		v=0
		for f in /proc/[0-9]*/status; do
			while read -r k n _; do
				case $k in
				Name:) case $n in ib_*_bw) ;; *) break ;; esac ;;
				VmPin:) v=$((v + n)); break ;;
				esac
			done < "$f" 2>/dev/null
		done
		acq=0 rel=0
		while read -r k n; do
			case $k in
			nr_foll_pin_acquired) acq=$n ;;
			nr_foll_pin_released) rel=$n ;;
			esac
		done < /proc/vmstat
		[ $v -gt $vmax ] && vmax=$v
		[ $((acq - rel)) -gt $smax ] && smax=$((acq - rel))
		sleep 0.5
	done
	echo "$vmax $smax" > "$done.max"
}

# One perftest run: server and client in this guest; prints the client's
# average bandwidth (MB/s), or nothing on failure.
perftest_run() {
	verb=$1 size=$2 iters=$3 mode=$4 tag=$5
	case $mode in
	pinned) m= ;;
	odp) m=--odp ;;
	implicit) m=--odp_implicit ;;
	esac
	args="-d $DEV -x $g -F -s $size -n $iters $m"
	# Each side stays on one vCPU: perftest times with the TSC, and a
	# process moving between vCPUs under TCG sometimes reported 0.00 MB/s.
	timeout 120 taskset -c 0 "$PT/ib_${verb}_bw" $args > /tmp/pt.server 2>&1 &
	spid=$!
	sleep 1.5
	timeout 120 taskset -c 1 "$PT/ib_${verb}_bw" $args $IP > /tmp/pt.client 2>&1 &
	cpid=$!
	rm -f /tmp/pt.done /tmp/pt.done.max
	sample_pins /tmp/pt.done &
	smp=$!
	wait $cpid; crc=$?
	wait $spid; src=$?
	touch /tmp/pt.done
	wait $smp
	read -r vmax smax < /tmp/pt.done.max
	emit "mem,vmpin,steady-$verb-$mode,$size,$tag,$vmax,kB"
	emit "mem,sys_pinned,steady-$verb-$mode,$size,$tag,$smax,pages"
	if [ $crc != 0 ] || [ $src != 0 ]; then
		echo "--- ib_${verb}_bw $args: server $src, client $crc" >&2
		cat /tmp/pt.server /tmp/pt.client >&2
		return 1
	fi
	bw=$(awk -v s="$size" -v n="$iters" '$1 == s && $2 == n { print $4; exit }' /tmp/pt.client)
	if [ "$bw" = 0.00 ]; then
		# keep what perftest printed, for the record
		{ echo "--- ib_${verb}_bw $args $mode rep $tag reported 0.00"
		  cat /tmp/pt.server /tmp/pt.client; } >> "$OUT/perftest-zero.txt"
	fi
	echo "$bw"
}

# Each transfer moves about 8 MB: about a second at rxe's speed under
# TCG.  Modes are interleaved within a repetition, in an order that rotates
# from one repetition to the next, so that drift in the host's load and
# whatever one run leaves to the next hit them alike.
if want steady; then
	say "steady state: perftest write/read/send x 4K/64K/1M x pinned/odp/implicit, $REPS reps"
	for verb in write read send; do
		for sz in 4096:2000 65536:128 1048576:8; do
			size=${sz%:*} iters=${sz#*:}
			r=0
			while [ $r -lt "$REPS" ]; do
				line=
				# each mode goes first in a third of the repetitions
				case $((r % 3)) in
				0) modes="pinned odp implicit" ;;
				1) modes="odp implicit pinned" ;;
				2) modes="implicit pinned odp" ;;
				esac
				for mode in $modes; do
					bw=$(perftest_run $verb $size $iters $mode $r)
					if [ -z "$bw" ]; then
						say "ib_${verb}_bw $size $mode failed"
						status=1
						continue
					fi
					emit "steady,bw,$verb-$mode,$size,$r,$bw,MB/s"
					line="$line $mode=$bw"
				done
				say "steady $verb $size rep $((r + 1))/$REPS MB/s:$line"
				r=$((r + 1))
			done
		done
	done
fi

# odp-bench TEST ARGS...: CSV to the file, progress to the console; killed
# after PROG_TIMEOUT seconds.
prog() {
	say "odp-bench $*"
	rm -f /tmp/prog.rc
	{ timeout "${PROG_TIMEOUT:-1200}" "$B" "$@" -r "$REPS" 2>&1 >> "$CSV"
	  echo $? > /tmp/prog.rc; } |
		while IFS= read -r l; do say "$1: $l"; done
	rc=$(cat /tmp/prog.rc)
	[ "$rc" = 0 ] || { say "odp-bench $1 failed ($rc)"; status=1; }
}

want reg && prog reg
want cold && prog cold -s 8M
want fault && prog fault
want inval && prog inval -s 1G
want scale && prog scale

# An implicit-ODP run over 4x the guest's RAM, swapped to zram.
if want swap; then
	mem_kb=$(awk '/MemTotal/ { print $2 }' /proc/meminfo)
	len=$((4 * mem_kb / 1024 / 1024 + 1))G
	say "swap: zram swap, implicit ODP over $len (4x MemTotal ${mem_kb} kB)"
	if [ -e /sys/block/zram0/disksize ] &&
	   echo $(( (4 * mem_kb / 1024 / 1024 + 3) ))G > /sys/block/zram0/disksize &&
	   mkswap /dev/zram0 > /dev/null && swapon /dev/zram0; then
		cat /proc/swaps
		REPS=1 PROG_TIMEOUT=${SWAP_TIMEOUT:-2400} prog swap -s "$len"
		grep -E '^(pswp|nr_foll_pin)' /proc/vmstat
		cat /sys/block/zram0/mm_stat 2>/dev/null
		swapoff /dev/zram0 2>/dev/null
	else
		say "swap: no zram swap in this kernel"
		emit "swap,intact,implicit,${len},0,0,bool"
		status=1
	fi
fi

# Where the time goes: kernel profiles of the fault and invalidation
# paths (perf's software clock; TCG has no hardware counters).
if want profile; then
	say "profiles: perf record of odp-bench fault, cold and inval, and of ib_write_bw"
	echo -1 > /proc/sys/kernel/perf_event_paranoid 2>/dev/null
	echo 0 > /proc/sys/kernel/kptr_restrict 2>/dev/null
	for t in fault cold inval; do
		case $t in
		inval) a="-s 256M" ;;
		cold) a="-s 4M" ;;
		*) a= ;;
		esac
		if perf record -q -e cpu-clock -F 2000 -a -g -o /tmp/perf.$t \
			"$B" $t -r 1 $a > /dev/null 2> "$OUT/perf-$t.err"; then
			perf report -q -i /tmp/perf.$t --stdio --no-children \
				--sort sym --percent-limit 1.5 -g none \
				> "$OUT/perf-$t.txt" 2>> "$OUT/perf-$t.err"
			say "perf $t: $(head -3 "$OUT/perf-$t.txt" | tr -s ' ' | tr '\n' ';')"
		else
			say "perf record of $t failed: $(tail -2 "$OUT/perf-$t.err")"
		fi
	done
	# The steady state: ib_write_bw of 1 MiB messages, each MR kind,
	# the whole guest sampled while it runs.
	for mode in pinned odp implicit; do
		perf record -q -e cpu-clock -F 2000 -a -g \
			-o /tmp/perf.steady-$mode > /dev/null 2>> "$OUT/perf-steady.err" &
		pp=$!
		sleep 1
		csv=$CSV CSV=/tmp/perf-steady.csv
		perftest_run write 1048576 32 "$mode" 0 > /dev/null
		CSV=$csv
		kill -INT $pp
		wait $pp
		perf report -q -i /tmp/perf.steady-$mode --stdio --no-children \
			--sort sym --percent-limit 0.25 -g none \
			> "$OUT/perf-steady-$mode.txt" 2>> "$OUT/perf-steady.err"
		say "perf steady $mode: $(head -3 "$OUT/perf-steady-$mode.txt" | tr -s ' ' | tr '\n' ';')"
	done
	# and function_graph's timing of the device fault against the CPU's
	say "profiles: function_graph of odp-bench fault (trace-fault.txt)"
	sh "$TOP/bench/guest-trace.sh" > /dev/null 2>&1 ||
		say "function_graph timing failed: $(tail -2 "$OUT/trace-fault.txt")"
	say "trace: $(sed -n 's/^\(handle_mm_fault\|mmu_mirror_fault\) .*\(p50= *[0-9.]*\).*/\1 \2/p' "$OUT/trace-fault.txt" | tr -s ' ' | tr '\n' ';')"
	say "trace: $(grep -E '^(ibv_reg_mr|ib_uverbs_write|ib_uverbs_ioctl) ' "$OUT/trace-reg.txt" | sed 's/ *n=.*p50= */ p50 /; s/ p75.*//' | tr -s ' ' | tr '\n' ';')"
fi

say "done (status $status)"
exit $status
