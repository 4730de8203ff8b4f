#!/bin/bash
# Write the commits of the kernel tree (build/linux, from the "base" tag to
# HEAD) back into the series: the commits before the first one whose subject
# starts with "RDMA/" or "IB/" go to kernel/mm, that one and all after it to
# kernel/rdma, in order.  The series
# files and kernel/BASE are rewritten; uncommitted changes are refused.
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

rm -f "$top"/kernel/mm/[0-9]*.patch "$top"/kernel/rdma/[0-9]*.patch
printf '# kernel/mm series: applied in this order on linux-source-6.12\n' > "$top/kernel/mm/series"
printf '# kernel/rdma series: applied in this order after kernel/mm\n' > "$top/kernel/rdma/series"
nmm=0 nrdma=0
for p in "$tmp"/*.patch; do
	[ -f "$p" ] || continue
	subject=$(sed -n 's/^Subject: \(\[PATCH[^]]*\] \)\{0,1\}//p' "$p" | head -1)
	# The RDMA series starts at the first RDMA patch; all that follows is
	# RDMA's too (its documentation, say).
	case "$subject" in
	RDMA/* | IB/*) dir=rdma ;;
	*) if [ "$nrdma" -gt 0 ]; then dir=rdma; else dir=mm; fi ;;
	esac
	if [ $dir = rdma ]; then nrdma=$((nrdma + 1)); n=$nrdma; else nmm=$((nmm + 1)); n=$nmm; fi
	name=$(printf '%04d-%s' "$n" "${p##*/[0-9][0-9][0-9][0-9]-}")
	cp "$p" "$top/kernel/$dir/$name"
	echo "$name" >> "$top/kernel/$dir/series"
done
echo "linux-source-6.12 $(dpkg-query -W -f='${Version}' linux-source-6.12)" > "$top/kernel/BASE"

# The tree now is what the series describes: record it, so that the next
# make does not re-apply the series over it.
"$top/scripts/kernel-tree.sh" "$build" --stamp-only
echo "kernel-export: $nmm patches in kernel/mm, $nrdma in kernel/rdma"
