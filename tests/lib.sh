# Helpers for test cases running inside the guest.  Source it: . "$TOP/tests/lib.sh"
# shellcheck shell=sh

IP=10.0.2.15
DEV=rxe0

fail() { echo "FAIL: $*"; exit 1; }
note() { echo "# $*"; }
result() { echo "RESULT $1 $2"; }   # result PASS|FAIL name: one sub-result

# The GID index of rxe0 port 1 that carries the IPv4 address (RoCE v2).
gid_index() {
	for g in /sys/class/infiniband/$DEV/ports/1/gids/*; do
		case "$(cat "$g" 2>/dev/null)" in
		0000:0000:0000:0000:0000:ffff:0a00:020f)
			idx=${g##*/}
			if [ "$(cat /sys/class/infiniband/$DEV/ports/1/gid_attrs/types/$idx 2>/dev/null)" = "RoCE v2" ]; then
				echo "$idx"; return 0
			fi ;;
		esac
	done
	return 1
}

# A port counter of rxe0 (rdma statistic), e.g. counter sent_pkts
counter() {
	rdma statistic show link $DEV/1 | tr ' ' '\n' | awk -v n="$1" 'p { print; exit } $0 == n { p = 1 }'
}

# Run a server and a client of a two-sided program; both must succeed.
# usage: pair TIMEOUT LOGPREFIX SERVER_CMD... -- CLIENT_CMD...
pair() {
	tmo=$1 pfx=$2; shift 2
	scmd=""; while [ "$1" != "--" ]; do scmd="$scmd $1"; shift; done; shift
	timeout "$tmo" $scmd > "$pfx.server" 2>&1 &
	spid=$!
	sleep 1
	timeout "$tmo" "$@" > "$pfx.client" 2>&1
	crc=$?
	wait $spid
	src=$?
	echo "--- server ($src):"; cat "$pfx.server"
	echo "--- client ($crc):"; cat "$pfx.client"
	[ $src = 0 ] && [ $crc = 0 ]
}

# Largest VmPin (kB) among processes named NAME, sampled every 0.2 s until
# the file DONE exists.  One grep per sample: forks are slow under TCG.
max_vmpin() {
	m=0
	while [ ! -e "$2" ]; do
		v=$(grep -s -E '^(Name|VmPin):' /proc/[0-9]*/status |
		    awk -F '[:[:space:]]+' -v n="$1" -v m="$m" '
			$2 == "Name" { name[$1] = $3 }
			$2 == "VmPin" && name[$1] == n && $3 + 0 > m + 0 { m = $3 + 0 }
			END { print m }')
		m=$v
		sleep 0.2
	done
	echo $m
}
