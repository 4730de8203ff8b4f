#!/bin/bash
# Install what the project needs from Debian's archive.  Quiet and quick when
# everything is already there.
set -euo pipefail
pkgs=(
	# the kernel
	linux-source-6.12 build-essential bc bison flex libelf-dev libssl-dev
	cpio xz-utils kmod ccache git perl python3 python3-ply python3-git
	# the guest
	qemu-system-x86 procps iproute2 util-linux coreutils
	# RDMA user space (rdma-core 44) and benchmarks
	rdma-core ibverbs-utils ibverbs-providers libibverbs-dev librdmacm-dev
	rdmacm-utils libibumad-dev perftest libnuma-dev
	# building perftest from source
	autoconf automake libtool libpci-dev dpkg-dev pkg-config
	# make bench: the plot, and kernel profiles in the guest
	gnuplot-nox linux-perf
)
missing=()
for p in "${pkgs[@]}"; do
	case "$p" in \#*) continue ;; esac
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages: ${missing[*]} (run make deps as root)" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
