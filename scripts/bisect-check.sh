#!/bin/bash
# Build every step of the series on its own: for each commit of the kernel
# tree from "base" to HEAD, check it out in a work tree of its own and build
# the bench kernel there (no debug options: the configuration a user builds),
# with W=1 for the files that commit touches.  A step that does not build,
# or adds a warning in the files it touches, fails the check.  Incremental
# (one out-of-tree build directory, ccache): a step costs what it changes.
#
# usage: bisect-check.sh BUILD_DIR
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: bisect-check.sh BUILD_DIR}" && pwd)
tree=$build/linux
wt=$build/bisect-tree
out=$build/kbuild-bisect
die() { echo "bisect-check: error: $*" >&2; exit 1; }
[ -d "$tree/.git" ] || die "no kernel tree at $tree (make kernel-tree)"

. "$top/scripts/kbuild-env.sh"
kmake() { make -s -C "$wt" O="$out" ARCH=x86_64 CC="$cc" "$@"; }

git -C "$tree" worktree remove --force "$wt" 2>/dev/null
rm -rf "$wt"
git -C "$tree" worktree prune
git -C "$tree" worktree add -q --detach "$wt" base || die "worktree"
trap 'git -C "$tree" worktree remove --force "$wt" 2>/dev/null' EXIT

# The configuration of the whole series, so that every step builds what the
# series ends up building (options of later steps are dropped by olddefconfig
# where their symbols do not exist yet).
mkdir -p "$out"
frags="$top/kernel/config/base.config $top/kernel/config/bench.config"
n=0 bad=0
for c in $(git -C "$tree" rev-list --reverse base..HEAD); do
	n=$((n + 1))
	subj=$(git -C "$tree" log -1 --format=%s "$c")
	git -C "$wt" checkout -q --detach "$c" || die "checkout $c"
	kmake tinyconfig >/dev/null
	"$wt/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" $frags >/dev/null
	kmake olddefconfig >/dev/null
	start=$(date +%s)
	if ! kmake -j"$jobs" bzImage > "$out/step.log" 2>&1; then
		echo "FAIL $n $subj: does not build"
		tail -20 "$out/step.log"
		bad=$((bad + 1))
		continue
	fi
	# W=1 over the C files the step touches that this config builds.
	objs=
	for f in $(git -C "$tree" diff --name-only "$c~1" "$c" -- '*.c'); do
		o=${f%.c}.o
		[ -f "$out/$o" ] && objs="$objs $o"
	done
	warn=
	if [ -n "$objs" ]; then
		touch $(for o in $objs; do echo "$wt/${o%.o}.c"; done)
		warn=$(kmake -j"$jobs" W=1 $objs 2>&1 | grep -E 'warning:|error:')
	fi
	if [ -n "$warn" ]; then
		echo "FAIL $n $subj: W=1 warnings"
		echo "$warn"
		bad=$((bad + 1))
	else
		echo "ok $n $subj ($(($(date +%s) - start)) s)"
	fi
done
echo "bisect-check: $n steps, $bad failed"
[ $bad = 0 ]
