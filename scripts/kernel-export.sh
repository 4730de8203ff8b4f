#!/bin/bash
# Write the commits of the kernel tree (build/linux, from the "base" tag to
# HEAD) back into the three series, in order: the RDMA fixes that come first
# (subjects starting with "RDMA/" or "IB/", before any other commit) go to
# kernel/rxe-fixes, the commits from the first other one on to kernel/mm, and
# the commits from the first RDMA one after those on to kernel/rdma.  The
# series files and kernel/BASE are rewritten; uncommitted changes are refused.
#
# usage: kernel-export.sh BUILD_DIR
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: kernel-export.sh BUILD_DIR}
tree=$build/linux
die() { echo "kernel-export: error: $*" >&2; exit 1; }

[ -d "$tree/.git" ] || die "no kernel tree at $tree (make kernel-tree)"
[ -z "$(git -C "$tree" status --porcelain --untracked-files=no)" ] ||
	die "$tree has uncommitted changes: commit them first"
untracked=$(git -C "$tree" status --porcelain | grep '^??' || true)
[ -z "$untracked" ] || die "$tree has untracked files: add or remove them first
$untracked"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$tree" format-patch -q --no-signature --zero-commit --no-numbered \
	-o "$tmp" base..HEAD

dirs="rxe-fixes mm rdma"
declare -A count
for dir in $dirs; do
	mkdir -p "$top/kernel/$dir"
	rm -f "$top/kernel/$dir"/[0-9]*.patch
	count[$dir]=0
done
printf '# kernel/rxe-fixes series: rxe fixes, applied first on linux-source-6.12\n' > "$top/kernel/rxe-fixes/series"
printf '# kernel/mm series: applied in this order after kernel/rxe-fixes\n' > "$top/kernel/mm/series"
printf '# kernel/rdma series: applied in this order after kernel/mm\n' > "$top/kernel/rdma/series"
dir=rxe-fixes
for p in "$tmp"/*.patch; do
	[ -f "$p" ] || continue
	subject=$(sed -n 's/^Subject: \(\[PATCH[^]]*\] \)\{0,1\}//p' "$p" | head -1)
	# Each series starts at its first patch; all that follows is that
	# series' too (the RDMA series' documentation, say).
	case "$dir:$subject" in
	rxe-fixes:RDMA/* | rxe-fixes:IB/*) ;;
	rxe-fixes:*) dir=mm ;;
	mm:RDMA/* | mm:IB/*) dir=rdma ;;
	esac
	count[$dir]=$((count[$dir] + 1))
	name=$(printf '%04d-%s' "${count[$dir]}" "${p##*/[0-9][0-9][0-9][0-9]-}")
	cp "$p" "$top/kernel/$dir/$name"
	echo "$name" >> "$top/kernel/$dir/series"
done
echo "linux-source-6.12 $(dpkg-query -W -f='${Version}' linux-source-6.12)" > "$top/kernel/BASE"

# The tree now is what the series describes: record it, so that the next
# make does not re-apply the series over it.
"$top/scripts/kernel-tree.sh" "$build" --stamp-only
echo "kernel-export: ${count[rxe-fixes]} patches in kernel/rxe-fixes, ${count[mm]} in kernel/mm, ${count[rdma]} in kernel/rdma"
