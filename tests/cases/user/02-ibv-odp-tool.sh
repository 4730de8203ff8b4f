#!/bin/sh
# The ibv-odp tool against rxe0: caps, stats (and --watch), probe (data
# verified, faults counted; with --prefetch none in the transfer), and the
# documented exit statuses for bad arguments (2), no such device (3) and an
# unsupported feature (4, through a test double of the capabilities).
. "$TOP/tests/lib.sh"
B=$BUILD/ibv-odp
T=$B/bin/ibv-odp
[ -x "$T" ] || fail "$T not built (make userspace)"
rc=0
pass() { result PASS "$1"; }
flunk() { result FAIL "$1"; rc=1; }

# expect STATUS NAME CMD...: CMD exits with STATUS.
expect() {
	want=$1 name=$2; shift 2
	"$@" > /tmp/out 2>&1
	st=$?
	if [ $st = "$want" ]; then pass "$name"; else
		note "$*: exit $st, want $want"; cat /tmp/out; flunk "$name"; fi
}

expect 0 help "$T" --help
grep -q "^usage: ibv-odp COMMAND" /tmp/out || { note "help text"; flunk help-text; }
expect 2 usage-no-command "$T"
expect 2 usage-bad-command "$T" frobnicate
expect 2 usage-bad-option "$T" caps -x
expect 2 usage-option-not-for-command "$T" caps -s 4096
expect 2 usage-bad-size "$T" probe -s 0
expect 2 usage-bad-port "$T" stats -p 300
expect 2 usage-watch-options "$T" stats -i 2
expect 2 usage-stray-argument "$T" caps extra
expect 2 usage-run-no-command "$T" run --
grep -q "Try 'ibv-odp --help'" /tmp/out || flunk usage-message
expect 3 no-such-device-caps "$T" caps -d nosuch0
grep -q "no RDMA device named nosuch0" /tmp/out || flunk no-such-device-message
expect 3 no-such-device-stats "$T" stats -d nosuch0
expect 3 no-such-device-probe "$T" probe -d nosuch0
expect 3 no-such-port "$T" stats -d $DEV -p 2

# caps: the capabilities the rxe series advertises, by name.
"$T" caps -d $DEV > /tmp/caps; st=$?
cat /tmp/caps
cat > /tmp/caps.want <<EOC
$DEV:
odp: yes
implicit: yes
RC: SEND RECV WRITE READ ATOMIC SRQ_RECV FLUSH ATOMIC_WRITE
UC: SEND RECV WRITE
UD: SEND RECV SRQ_RECV
XRC: none
EOC
[ $st = 0 ] && cmp -s /tmp/caps /tmp/caps.want && pass caps || flunk caps
# Without -d: every device (the guest has one).
"$T" caps > /tmp/caps-all && cmp -s /tmp/caps-all /tmp/caps.want && pass caps-all || flunk caps-all

# A device without ODP (test double): caps says so, with status 4.
fake() { LD_PRELOAD=$B/tests/libfake-odp-caps.so FAKE_ODP_CAPS=$1; export LD_PRELOAD FAKE_ODP_CAPS; }
(fake none; expect 4 caps-no-odp "$T" caps -d $DEV; grep -q "^odp: no" /tmp/out) || flunk caps-no-odp-text
(fake none; expect 4 probe-no-odp "$T" probe -d $DEV; grep -q "does not support On-Demand Paging" /tmp/out) ||
	flunk probe-no-odp-message
(fake noimplicit; expect 4 probe-no-implicit "$T" probe -d $DEV)

# stats: the six counters, equal to sysfs.
"$T" stats -d $DEV > /tmp/stats; st=$?
cat /tmp/stats
ok=1
[ $st = 0 ] || ok=0
head -1 /tmp/stats | grep -qx "$DEV port 1:" || ok=0
for c in odp_faults page_faults odp_invalidations page_invalidations odp_prefetches page_prefetch; do
	v=$(awk -v c=$c '$1 == c { print $2 }' /tmp/stats)
	s=$(cat /sys/class/infiniband/$DEV/ports/1/hw_counters/$c)
	[ -n "$v" ] && [ "$v" = "$s" ] || { note "$c: tool '$v' sysfs '$s'"; ok=0; }
done
[ $ok = 1 ] && pass stats || flunk stats

# probe: WRITE and READ into memory never touched, verified; faults counted.
"$T" probe -d $DEV -s 256K > /tmp/probe; st=$?
cat /tmp/probe
pf=$(sed -n 's/^counters:.* page_faults +\([0-9]*\).*/\1/p' /tmp/probe)
# 64 pages read from the source, 64 written at the destination, 64 written
# by the READ response.
if [ $st = 0 ] && grep -qx "data: verified" /tmp/probe && [ "${pf:-0}" -ge 192 ] &&
   grep -q "^rdma write: [0-9]* us" /tmp/probe; then pass probe; else flunk probe; fi

# probe --prefetch: synchronous prefetch of the three buffers, then no fault
# in the transfer.
"$T" probe -d $DEV -s 256K --prefetch > /tmp/probe; st=$?
cat /tmp/probe
pf=$(sed -n 's/^counters:.* page_faults +\([0-9]*\).*/\1/p' /tmp/probe)
pp=$(sed -n 's/^prefetch counters:.* page_prefetch +\([0-9]*\).*/\1/p' /tmp/probe)
if [ $st = 0 ] && grep -qx "data: verified" /tmp/probe && [ "$pf" = 0 ] &&
   [ "${pp:-0}" = 192 ]; then pass probe-prefetch; else
	note "page_faults '$pf' (0), page_prefetch '$pp' (192)"; flunk probe-prefetch; fi

# stats --watch while a probe runs: one line per interval with the changes.
"$T" stats -d $DEV --watch -i 2 -c 4 > /tmp/watch 2>&1 &
wpid=$!
# The probe once the first reading is out (starting a verbs program takes
# a while under TCG).
n=0
while ! grep -q "^  page_prefetch" /tmp/watch && [ $n -lt 150 ]; do sleep 0.2; n=$((n + 1)); done
"$T" probe -d $DEV -s 64K > /dev/null 2>&1
wait $wpid; st=$?
cat /tmp/watch
lines=$(grep -c "^$DEV/1 +[0-9]*s: odp_faults +[0-9]* page_faults +[0-9]* odp_invalidations +[0-9]* page_invalidations +[0-9]* odp_prefetches +[0-9]* page_prefetch +[0-9]*$" /tmp/watch)
sum=$(grep "^$DEV/1 +" /tmp/watch | sed 's/.* page_faults +\([0-9]*\) .*/\1/' | awk '{ s += $1 } END { print s + 0 }')
# 16 pages read, 16 written, 16 written back.
if [ $st = 0 ] && [ "$lines" = 4 ] && [ "$sum" -ge 48 ]; then pass stats-watch; else
	note "watch: $lines lines, page_faults +$sum (>= 48)"; flunk stats-watch; fi
exit $rc
