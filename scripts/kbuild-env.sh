# shellcheck shell=bash
# How the project's kernels are compiled, sourced by kernel-build.sh and
# bisect-check.sh: gcc through ccache when there is one, with the build
# directory ($build) as ccache's base so that the trees under it share the
# cache, and JOBS (nproc + 1) jobs.  Sets cc and jobs.
cc=gcc
if command -v ccache >/dev/null; then
	cc="ccache gcc"
	export CCACHE_BASEDIR=$build
	export CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime
fi
jobs=${JOBS:-$(($(nproc) + 1))}
