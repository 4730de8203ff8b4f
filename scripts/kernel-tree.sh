#!/bin/bash
# Prepare the kernel tree: Debian's linux-source-6.12 unpacked as a git
# repository (the tarball as it is, tagged "pristine"; one commit that makes
# git see new files, tagged "base"), then the series in kernel/rxe-fixes/,
# kernel/mm/ and kernel/rdma/ applied on top as commits, in that order.
#
# usage: kernel-tree.sh BUILD_DIR [--reset | --stamp-only]
#
# The tree is re-created from the series only when it is safe: when the tree
# still sits at the commit this script last produced and has no uncommitted
# changes.  A tree with local work is left alone (built as it is); --reset
# throws that work away and applies the series again.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: kernel-tree.sh BUILD_DIR [--reset]}
reset=${2:-}
tarball=${LINUX_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
tree=$build/linux
stamp=$build/linux.stamp

msg() { echo "kernel-tree: $*"; }
die() { echo "kernel-tree: error: $*" >&2; exit 1; }

[ -r "$tarball" ] || die "$tarball not found (make deps installs linux-source-6.12)"

installed=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo unknown)
recorded=$(sed -n 's/^linux-source-6.12 //p' "$top/kernel/BASE" 2>/dev/null || true)
if [ "$installed" != "$recorded" ]; then
	msg "NOTE: installed linux-source-6.12 is $installed; the series was last applied to ${recorded:-nothing} (kernel/BASE)"
fi

series_files() {
	local dir s
	for dir in rxe-fixes mm rdma; do
		s=$top/kernel/$dir/series
		[ -f "$s" ] || continue
		{ grep -v -e "^#" -e "^[[:space:]]*$" "$s" || true; } | while read -r p; do
			echo "$top/kernel/$dir/$p"
		done
	done
}

patches=$(series_files)
for f in $patches; do
	[ -f "$f" ] || die "a series file names ${f#"$top"/}, which does not exist"
done
want=$( { echo "$installed"; for f in $patches; do sha1sum "$f"; done; } |
	sha1sum | cut -d' ' -f1)

git_t() { git -C "$tree" -c user.name="linux-source" -c user.email="linux-source@localhost" "$@"; }

if [ "$reset" = "--stamp-only" ]; then
	echo "$want $(git_t rev-parse HEAD)" > "$stamp"
	exit 0
fi

if [ -d "$tree/.git" ] && [ -f "$stamp" ]; then
	read -r have_want have_head < "$stamp" || true
	head=$(git_t rev-parse HEAD)
	dirty=$(git_t status --porcelain --untracked-files=no | head -1)
	if [ "$reset" != "--reset" ] && { [ "$head" != "$have_head" ] || [ -n "$dirty" ]; }; then
		if [ "$have_want" != "$want" ]; then
			die "$tree has local work and the series in kernel/ changed too: export it (make kernel-export) or drop it (make kernel-reset)"
		fi
		msg "$tree has local commits or changes: building it as it is (make kernel-export saves them)"
		exit 0
	fi
	if [ "$have_want" = "$want" ] && [ "$reset" != "--reset" ]; then
		exit 0
	fi
	msg "series changed: re-applying on the pristine tree"
	git_t am --abort >/dev/null 2>&1 || true
	git_t checkout -q -f -B series base
	git_t clean -q -fdx
elif [ -d "$tree/.git" ] && git_t rev-parse -q --verify pristine >/dev/null; then
	git_t am --abort >/dev/null 2>&1 || true
	git_t checkout -q -f -B series "$(git_t rev-parse -q --verify base || echo pristine)"
	git_t clean -q -fdx
else
	rm -rf "$tree" "$stamp"
	mkdir -p "$build"
	msg "unpacking $tarball ($installed)"
	tmp=$build/linux.unpack
	rm -rf "$tmp"; mkdir -p "$tmp"
	tar -xJf "$tarball" -C "$tmp"
	mv "$tmp/linux-source-6.12" "$tree"
	rmdir "$tmp"
	git -C "$tree" init -q -b series
	git_t add -A -f .
	git_t commit -q -m "linux-source-6.12 $installed (pristine)"
	git_t tag -f pristine >/dev/null
fi
if ! git_t rev-parse -q --verify base >/dev/null; then
	# Debian's .gitignore ignores every top-level path ("/*"), which would
	# hide new files from git add and git format-patch: drop that rule in a
	# commit of its own, under the series.
	sed -i -e '\|^/\*$|d' -e '\|^!/debian/$|d' "$tree/.gitignore"
	git_t commit -q -a -m "Track new files (drop Debian's top-level ignore rule)"
	git_t tag -f base >/dev/null
fi

n=0
while read -r p; do
	[ -n "$p" ] || continue
	if ! git_t am -q --keep-cr "$p" >/dev/null 2>"$build/linux.am.log"; then
		git_t am --abort >/dev/null 2>&1 || true
		cat "$build/linux.am.log" >&2
		die "patch does not apply to linux-source-6.12 $installed: ${p#"$top"/}"
	fi
	n=$((n + 1))
done < <(printf '%s\n' $patches)
git_t tag -f series-applied >/dev/null
echo "$want $(git_t rev-parse HEAD)" > "$stamp"
msg "$n patches applied on linux-source-6.12 $installed"
