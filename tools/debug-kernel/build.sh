#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh - build usched's debug kernel (KASAN, lockdep, debugobjects,
# kmemleak, fault injection, full preemption) from Debian's
# linux-source-6.12, and install it as the kernel id "debug":
#
#   $USCHED_CACHE/kernels/debug/vmlinuz   what tools/vm-run boots
#   $USCHED_CACHE/kernels/debug/build     the KDIR (`make module KVER=debug`)
#
# The config is `allnoconfig` plus tools/debug-kernel/debug.config
# (KCONFIG_ALLCONFIG), then `olddefconfig`; every option of the fragment is
# then checked in the final .config, and the build fails listing any that
# did not stick.  The kernel is built outside this tree, in
# $USCHED_CACHE/debug-kernel/<key>/ (src/ and out/), where <key> hashes the
# fragment, this script, the source package's version and the compiler.  A
# second run with the same key only says that the kernel is cached; a new
# key builds anew (about 5-10 minutes on 2 cores) and then removes the
# older builds.  tools/check runs this script before its VM lanes.
#
# Usage: tools/debug-kernel/build.sh [-f]     (-f: rebuild even if cached)
# Env:   USCHED_CACHE  cache folder (default: ~/.cache/usched)
#        JOBS          parallel make jobs (default: nproc)

set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${USCHED_CACHE:-$HOME/.cache/usched}
FRAG=$HERE/debug.config
TARBALL=/usr/src/linux-source-6.12.tar.xz
SRCPKG=linux-source-6.12
KID=debug
DST=$CACHE/kernels/$KID
JOBS=${JOBS:-$(nproc)}
force=0

say() { printf 'debug-kernel: %s\n' "$*"; }
die() { printf 'debug-kernel: error: %s\n' "$*" >&2; exit 1; }

case ${1:-} in
-f) force=1 ;;
"") ;;
*) sed -n '3,/^$/s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac

[ -r "$FRAG" ] || die "no config fragment $FRAG"
[ -r "$TARBALL" ] || die "no $TARBALL (run 'make deps': it installs $SRCPKG)"
srcver=$(dpkg-query -W -f='${Version}' "$SRCPKG" 2>/dev/null) ||
	srcver=$(stat -c '%s %Y' "$TARBALL")
# The kernel's Makefile compiles with gcc whatever $CC says.
ccver=$(gcc --version | head -n 1)
key=$( { cat "$FRAG" "$0"; printf '%s\n%s\n' "$srcver" "$ccver"; } |
	sha256sum | cut -c1-16)

cached() {
	[ "$(cat "$DST/key" 2>/dev/null)" = "$key" ] && [ -s "$DST/vmlinuz" ] &&
		[ -r "$DST/build/Makefile" ] && [ -r "$DST/build/Module.symvers" ]
}
if [ $force = 0 ] && cached; then
	say "cached: $DST ($SRCPKG $srcver, key $key)"
	exit 0
fi

mkdir -p "$CACHE/debug-kernel"
# One build at a time (tools/check and a `make check-vm` may race).
exec 9> "$CACHE/debug-kernel/lock"
flock 9
if [ $force = 0 ] && cached; then
	say "cached: $DST ($SRCPKG $srcver, key $key; built meanwhile)"
	exit 0
fi

WORK=$CACHE/debug-kernel/$key
SRC=$WORK/src
OUT=$WORK/out
LOG=$WORK/build.log
mkdir -p "$WORK"
t0=$(date +%s)
elapsed() { echo "$(( $(date +%s) - t0 ))s"; }

# ---- extract ----
if [ ! -e "$SRC/.usched-extracted" ]; then
	say "extracting $TARBALL ($SRCPKG $srcver) into $SRC (about 30 s)"
	rm -rf "$SRC"
	mkdir -p "$SRC"
	tar -xJf "$TARBALL" -C "$SRC" --strip-components=1
	touch "$SRC/.usched-extracted"
fi

# ---- configure ----
say "configuring: allnoconfig + $(basename "$FRAG"), olddefconfig ($(elapsed))"
mkdir -p "$OUT"
kmake() { make -C "$SRC" O="$OUT" "$@"; }
kmake -s KCONFIG_ALLCONFIG="$FRAG" allnoconfig > "$WORK/config.log" 2>&1 ||
	{ cat "$WORK/config.log" >&2; die "allnoconfig failed"; }
kmake -s olddefconfig >> "$WORK/config.log" 2>&1 ||
	{ cat "$WORK/config.log" >&2; die "olddefconfig failed"; }

# Every line of the fragment must hold in the final .config:
# CONFIG_X=val exactly, "# CONFIG_X is not set" as unset.
bad=()
while read -r line; do
	case $line in
	CONFIG_*=*)
		grep -qxF -- "$line" "$OUT/.config" ||
			bad+=("$line (got: $(grep -m1 "^${line%%=*}=" "$OUT/.config" ||
				echo "${line%%=*} not set"))")
		;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }
		opt=${opt%% *}
		if grep -q "^$opt=" "$OUT/.config"; then
			bad+=("$line (got: $(grep -m1 "^$opt=" "$OUT/.config"))")
		fi
		;;
	esac
done < "$FRAG"
if [ ${#bad[@]} -gt 0 ]; then
	printf 'debug-kernel: error: option did not stick: %s\n' "${bad[@]}" >&2
	die "${#bad[@]} option(s) of $FRAG did not stick after olddefconfig (see $OUT/.config)"
fi
say "config checked: every option of the fragment holds ($(grep -c '=y$' "$OUT/.config") options =y)"

# ---- build ----
say "building the kernel with $JOBS jobs (about 5-10 minutes; log: $LOG)"
kmake -j"$JOBS" all > "$LOG" 2>&1 &
pid=$!
# A line of progress every minute: the build is long and otherwise silent.
last=$(date +%s)
while kill -0 $pid 2>/dev/null; do
	sleep 2
	[ $(( $(date +%s) - last )) -ge 60 ] || continue
	last=$(date +%s)
	say "... building ($(elapsed), $(grep -c '^  CC ' "$LOG") files compiled)"
done
if ! wait $pid; then
	echo "---- last lines of $LOG ----" >&2
	tail -n 40 "$LOG" >&2
	die "kernel build failed"
fi
[ -s "$OUT/arch/x86/boot/bzImage" ] || die "no bzImage after the build"
[ -s "$OUT/Module.symvers" ] || die "no Module.symvers after the build"

# ---- install: the kernel id folder ----
mkdir -p "$DST"
rm -f "$DST/key"	# not cached while half installed
cp "$OUT/arch/x86/boot/bzImage" "$DST/vmlinuz.tmp"
mv "$DST/vmlinuz.tmp" "$DST/vmlinuz"
ln -sfn "$OUT" "$DST/build"
cp "$OUT/.config" "$DST/config"
echo "$key" > "$DST/key"

# Older builds (other keys) are no longer referenced.
for d in "$CACHE"/debug-kernel/*/; do
	[ "$(basename "$d")" = "$key" ] && continue
	say "removing the older build $d"
	rm -rf "$d"
done
say "done in $(elapsed): $DST ($(cat "$OUT/include/config/kernel.release"))"
