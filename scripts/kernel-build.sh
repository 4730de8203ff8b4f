#!/bin/bash
# Configure and build one kernel flavour out of tree.
#
# usage: kernel-build.sh BUILD_DIR FLAVOUR      (FLAVOUR: test | bench)
#
# The configuration is tinyconfig + kernel/config/base.config +
# kernel/config/FLAVOUR.config.  Every option the fragments name must end up
# with the value they give it, or the build stops: a silently dropped option
# (a missing dependency) would make the tests test less than they say.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: kernel-build.sh BUILD_DIR FLAVOUR}" && pwd)
flavour=${2:?usage: kernel-build.sh BUILD_DIR FLAVOUR}
tree=$build/linux
out=$build/kbuild-$flavour
frags="$top/kernel/config/base.config $top/kernel/config/$flavour.config"

die() { echo "kernel-build: error: $*" >&2; exit 1; }
[ -f "$top/kernel/config/$flavour.config" ] || die "no such flavour: $flavour"
[ -d "$tree" ] || die "$tree missing (make kernel-tree)"

. "$top/scripts/kbuild-env.sh"
export KBUILD_BUILD_USER=odp KBUILD_BUILD_HOST=build
export KBUILD_BUILD_TIMESTAMP="$(git -C "$tree" log -1 --format=%cd)"
kmake() { make -s -C "$tree" O="$out" ARCH=x86_64 CC="$cc" "$@"; }

mkdir -p "$out"
[ -f "$out/.config" ] && cp -p "$out/.config" "$out/.config.prev"
kmake tinyconfig >/dev/null
"$tree/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" $frags >/dev/null
kmake olddefconfig >/dev/null

bad=0
for f in $frags; do
	while IFS='=' read -r opt val; do
		case "$opt" in CONFIG_*) ;; *) continue ;; esac
		if [ "$val" = n ]; then
			if grep -q "^$opt=" "$out/.config"; then
				echo "kernel-build: $opt=n in ${f##*/} but the config has $(grep "^$opt=" "$out/.config")" >&2
				bad=1
			fi
		elif ! grep -qx "$opt=$val" "$out/.config"; then
			echo "kernel-build: $opt=$val in ${f##*/} did not stick (a dependency is missing)" >&2
			bad=1
		fi
	done < "$f"
done
[ $bad = 0 ] || die "the $flavour configuration is not what kernel/config asks for"

if [ -f "$out/.config.prev" ] && cmp -s "$out/.config" "$out/.config.prev"; then
	cp -p "$out/.config.prev" "$out/.config"
fi
rm -f "$out/.config.prev"

echo "kernel-build: building the $flavour kernel in ${out#"$top"/} (-j$jobs, CC=$cc)"
start=$(date +%s)
if ! kmake -j"$jobs" bzImage > "$out/build.log" 2>&1; then
	tail -40 "$out/build.log" >&2
	die "the $flavour kernel did not build (log: $out/build.log)"
fi
grep -E 'warning:' "$out/build.log" >&2 || true
cp "$out/arch/x86/boot/bzImage" "$build/bzImage-$flavour"
cp "$out/.config" "$build/config-$flavour"
echo "kernel-build: $build/bzImage-$flavour ($(($(date +%s) - start)) s)"
