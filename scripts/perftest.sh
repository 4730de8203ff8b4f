#!/bin/bash
# Fetch perftest 25.01.0 (Debian's "perftest" source package from the newer
# suite, trixie), apply perftest-patches/series, and build it.  Apt's state
# lives in BUILD_DIR/apt: the machine's apt configuration is not touched.
#
# usage: perftest.sh BUILD_DIR
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: perftest.sh BUILD_DIR}
version=25.01.0+0.80
suite=trixie
apt=$build/apt
src=$build/perftest
die() { echo "perftest: error: $*" >&2; exit 1; }

tarball=$apt/perftest_$version.orig.tar.gz
if [ ! -f "$tarball" ]; then
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/etc/parts"
	echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
		> "$apt/etc/sources.list"
	opts=(-q -o "Dir::Etc::SourceList=$apt/etc/sources.list"
	      -o "Dir::Etc::SourceParts=$apt/etc/parts"
	      -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
	      -o "APT::Sandbox::User=root")
	echo "perftest: fetching Debian's perftest $version source ($suite)"
	apt-get "${opts[@]}" update >/dev/null
	# The archive has the tarballs but may answer 404 for the .dsc, which
	# makes apt-get fail after it fetched (and hash-checked) them: judge by
	# the tarball, not by apt's status.
	(cd "$apt" && apt-get "${opts[@]}" source --download-only "perftest=$version-1" \
		> "$apt/source.log" 2>&1) || true
	[ -f "$tarball" ] || { cat "$apt/source.log" >&2; die "could not fetch $tarball"; }
fi

# The tree is re-made from the tarball whenever the patches change.
stamp=$( { sha1sum "$tarball"; for p in $(grep -v '^#' "$top/perftest-patches/series" 2>/dev/null); do
	sha1sum "$top/perftest-patches/$p"; done; } | sha1sum | cut -d' ' -f1)
if [ ! -f "$src/.stamp" ] || [ "$(cat "$src/.stamp")" != "$stamp" ]; then
	rm -rf "$src"
	mkdir -p "$src"
	tar -xzf "$tarball" -C "$src" --strip-components=1
	git -C "$src" init -q
	git -C "$src" add -A -f .
	git -C "$src" -c user.name=perftest -c user.email=perftest@localhost commit -q -m "perftest $version"
	git -C "$src" tag upstream
	for p in $(grep -v '^#' "$top/perftest-patches/series" 2>/dev/null); do
		git -C "$src" -c user.name=perftest -c user.email=perftest@localhost am -q "$top/perftest-patches/$p" ||
			die "patch does not apply to perftest $version: perftest-patches/$p"
	done
	(cd "$src" && ./autogen.sh > build.log 2>&1 && ./configure -q >> build.log 2>&1) ||
		{ tail -20 "$src/build.log" >&2; die "configure failed"; }
	echo "$stamp" > "$src/.stamp"
fi
make -s -C "$src" -j"$(nproc)" >> "$src/build.log" 2>&1 || { tail -30 "$src/build.log" >&2; die "build failed"; }
[ -x "$src/ib_write_bw" ] || die "no ib_write_bw after the build"
