#!/bin/bash
# Scan a kernel log for reports that fail a run.  Prints each offending line
# with a little context and exits 1 when there is one, 0 when the log is clean.
#
# With -c, prints only the number of offending lines (0 for a clean log).
#
# usage: check-klog.sh [-c] LOGFILE
set -u
count=
[ "${1:-}" = -c ] && { count=1; shift; }
log=${1:?usage: check-klog.sh [-c] LOGFILE}
[ -r "$log" ] || { echo "check-klog: cannot read $log"; exit 2; }

# Each pattern is an extended regular expression matched against the log.
patterns=(
	'BUG:'                                # KASAN, sleeping in atomic, bad page, NULL deref...
	'kernel BUG at'
	'WARNING:'                            # WARN_ON, lockdep reports
	'Oops'
	'KASAN:'
	'general protection fault'
	'Kernel panic'
	'possible circular locking'
	'inconsistent lock state'
	'possible recursive locking'
	'suspicious RCU usage'
	'sleeping function called from invalid context'
	'blocked for more than [0-9]+ seconds' # hung task
	'soft lockup'
	'hard LOCKUP'
	'rcu: INFO: rcu_.* detected stalls'
	'UBSAN:'
	'list_(add|del) corruption'
	'unreferenced object'                 # kmemleak
	'Bad page (state|map)'
)
re=$(IFS='|'; echo "${patterns[*]}")
if [ -n "$count" ]; then
	grep -c -E "$re" "$log"
	exit 0
fi
if grep -n -E "$re" "$log" > /dev/null; then
	grep -n -E -A8 "$re" "$log" | head -200
	exit 1
fi
exit 0
