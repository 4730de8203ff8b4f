#!/bin/bash
# Run the kernel's checkpatch.pl --strict over every patch of the series,
# and kernel-doc -Wall over every C file and header the series touches.
#
# checkpatch asks "does MAINTAINERS need updating?" of any patch that adds a
# file, without knowing whether an existing entry covers it.  This script
# answers that precisely: a new file must belong to a MAINTAINERS section
# other than THE REST (scripts/get_maintainer.pl); the question is then
# dropped for that patch, and an uncovered file is reported instead.
#
# The Fixes: tags of kernel/rxe-fixes name upstream commits, which the tree
# (Debian's source tarball, one commit) does not have: checkpatch cannot look
# them up, so UNKNOWN_COMMIT_ID is not checked.
#
# usage: checkpatch.sh BUILD_DIR
set -uo pipefail
# Debian's python3 (with python3-ply and python3-git for the SPDX check),
# not another one that may come first on PATH
export PATH=/usr/bin:/bin:$PATH
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: checkpatch.sh BUILD_DIR}
tree=$build/linux
n=0 bad=0
files=()
for dir in rxe-fixes mm rdma; do
	while read -r p; do
		case "$p" in '' | \#*) continue ;; esac
		n=$((n + 1))
		patch=$top/kernel/$dir/$p
		ignore=
		uncovered=
		added=$(awk '/^diff --git / { f = substr($4, 3) } /^new file mode/ { print f }' "$patch")
		for f in $added; do
			sections=$(cd "$tree" && ./scripts/get_maintainer.pl --no-git --no-git-fallback \
				--no-email --no-l --subsystem --no-rolestats -f "$f" 2>/dev/null | grep -v '^THE REST$')
			[ -n "$sections" ] || uncovered="$uncovered $f"
		done
		if [ -n "$added" ] && [ -z "$uncovered" ]; then
			ignore="--ignore FILE_PATH_CHANGES"
		fi
		out=$(cd "$tree" && ./scripts/checkpatch.pl --strict --quiet --no-summary \
			--show-types --ignore UNKNOWN_COMMIT_ID $ignore "$patch" 2>&1)
		[ -z "$uncovered" ] || out="$out
MAINTAINERS: no section covers:$uncovered"
		if [ -n "$out" ]; then
			bad=$((bad + 1))
			echo "== kernel/$dir/$p"
			echo "$out"
		else
			echo "ok kernel/$dir/$p"
		fi
		while read -r f; do
			case "$f" in *.c | *.h) files+=("$f") ;; esac
		done < <(awk '/^diff --git / { print substr($4, 3) }' "$patch")
	done < "$top/kernel/$dir/series"
done
# kernel-doc: report only what the series adds (files it touches may have
# old warnings of their own): compare with the file as it was at "base".
kdoc=
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in $(printf '%s\n' "${files[@]}" | sort -u); do
	[ -f "$tree/$f" ] || continue
	strip() { sed -e 's/^[^:]*:[0-9]*: //' | sort -u; }
	(cd "$tree" && ./scripts/kernel-doc -Wall -none "$f" 2>&1) | strip > "$tmp/new"
	: > "$tmp/old"
	if git -C "$tree" cat-file -e "base:$f" 2>/dev/null; then
		mkdir -p "$tmp/base/$(dirname "$f")"
		git -C "$tree" show "base:$f" > "$tmp/base/$f"
		(cd "$tree" && ./scripts/kernel-doc -Wall -none "$tmp/base/$f" 2>&1) | strip > "$tmp/old"
	fi
	added=$(comm -13 "$tmp/old" "$tmp/new")
	[ -z "$added" ] || kdoc="$kdoc$f: $added
"
done
if [ -n "$kdoc" ]; then
	bad=$((bad + 1))
	echo "== kernel-doc"
	echo "$kdoc"
fi
echo "checkpatch: $n patches, $bad with reports"
[ $bad = 0 ]
