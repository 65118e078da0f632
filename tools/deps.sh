#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh - install everything usched needs to build and test, with apt.
#
# Idempotent: every step first checks whether its result is already there,
# and a run that finds nothing to do says so and exits 0.  It installs:
#   * build tools, sparse, liburing-dev, QEMU, a static busybox, cpio,
#     dkms and gdb (tools/dkms-check, tools/tools-check), groff and man-db
#     (tools/man-check);
#   * the headers of Debian's cloud kernels 6.1 (bookworm) and 6.12
#     (bookworm-backports, whose apt source is added if missing), and of
#     its PREEMPT_RT kernel 6.12 (bookworm-backports);
#   * the matching kernel images, unpacked into the cache (the host never
#     boots them, only QEMU does; 6.12's headers depend on their image, so
#     apt also installs those into /boot, and they are copied from there);
#   * kselftest's headers and checkpatch.pl, taken from linux-source-6.12.
#
# Usage: tools/deps.sh [--bench]      (--bench also installs Go and gnuplot)
# Env:   USCHED_CACHE  cache folder (default: ~/.cache/usched)

set -euo pipefail

CACHE=${USCHED_CACHE:-$HOME/.cache/usched}
BPO=/etc/apt/sources.list.d/usched-bookworm-backports.sources
did=0
want_bench=0
[ "${1:-}" = "--bench" ] && want_bench=1

say() { printf 'deps: %s\n' "$*"; }
die() { printf 'deps: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (apt-get install)"

apt_updated=0
apt_update() {
	[ $apt_updated = 1 ] && return
	say "apt-get update"
	apt-get update -q >/dev/null || die "apt-get update failed"
	apt_updated=1
}

has_backports() {
	grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/
}

if ! has_backports; then
	say "adding bookworm-backports to apt's sources ($BPO)"
	cat > "$BPO" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	did=1
	apt_update
fi

# The kernel flavours: resolve the newest 6.1 and 6.12 cloud kernels that the
# metapackage linux-image-cloud-amd64 points to in bookworm and backports.
kernel_releases() {
	apt-cache show linux-image-cloud-amd64 2>/dev/null |
		sed -n 's/^Depends: linux-image-\([^ ]*\) .*/\1/p' | sort -uV
}
rels=$(kernel_releases)
if [ -z "$rels" ]; then
	apt_update
	rels=$(kernel_releases)
fi
k61=$(echo "$rels" | grep '^6\.1\.' | tail -1)
k612=$(echo "$rels" | grep '^6\.12\.' | grep -v -- '-rt-' | tail -1)
[ -n "$k61" ] || die "no 6.1 cloud kernel found in apt (bookworm)"
[ -n "$k612" ] || die "no 6.12 cloud kernel found in apt (bookworm-backports)"
# The PREEMPT_RT kernel: the newest 6.12 that linux-image-rt-amd64 points
# to (bookworm-backports).
rt_releases() {
	apt-cache show linux-image-rt-amd64 2>/dev/null |
		sed -n 's/^Depends: linux-image-\([^ ]*-rt-amd64\) .*/\1/p' | sort -uV
}
krt=$(rt_releases | grep '^6\.12\.' | tail -1)
if [ -z "$krt" ]; then
	apt_update
	krt=$(rt_releases | grep '^6\.12\.' | tail -1)
fi
[ -n "$krt" ] || die "no 6.12 PREEMPT_RT kernel found in apt (bookworm-backports)"

pkgs=(build-essential bc bison flex libelf-dev libssl-dev kmod cpio xz-utils
      busybox-static liburing-dev sparse pkg-config file cppcheck dkms gdb groff-base man-db
      linux-source-6.12 "linux-headers-$k61" "linux-headers-$k612"
      "linux-headers-$krt")
[ $want_bench = 1 ] && pkgs+=(golang-1.23-go gnuplot-nox)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt_update
	say "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >/dev/null || die "apt-get install failed"
	did=1
fi

# QEMU from bookworm-backports: bookworm's 7.2 computes EFLAGS wrongly under
# TCG now and then (garbage in the upper bits), and about one boot in eight
# of either kernel dies in early init with random corruption; 10.0 boots
# cleanly (and 6.12 also with -cpu max there).
qemu_ver=$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null || true)
if [ -z "$qemu_ver" ] || dpkg --compare-versions "$qemu_ver" lt 1:8; then
	apt_update
	say "installing qemu-system-x86 from bookworm-backports (have: ${qemu_ver:-none})"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		-t bookworm-backports qemu-system-x86 >/dev/null ||
		die "apt-get install qemu-system-x86 from bookworm-backports failed"
	did=1
fi

# Kernel images, unpacked into the cache for QEMU.
for k in "$k61" "$k612" "$krt"; do
	dst=$CACHE/kernels/$k
	[ -s "$dst/vmlinuz" ] && continue
	mkdir -p "$dst"
	if [ -s "/boot/vmlinuz-$k" ]; then
		# Installed by apt with its headers: the same file as in the .deb.
		say "copying kernel image $k from /boot"
		cp "/boot/vmlinuz-$k" "$dst/vmlinuz.tmp"
		mv "$dst/vmlinuz.tmp" "$dst/vmlinuz"
		did=1
		continue
	fi
	apt_update
	say "fetching kernel image $k"
	tmp=$(mktemp -d)
	chmod 755 "$tmp"	# apt's _apt user downloads into it
	(cd "$tmp" && apt-get download -q "linux-image-$k" >/dev/null) ||
		die "apt-get download linux-image-$k failed"
	mkdir -p "$tmp/x" "$dst"
	dpkg-deb -x "$tmp"/linux-image-*.deb "$tmp/x"
	cp "$tmp/x/boot/vmlinuz-$k" "$dst/vmlinuz.tmp"
	mv "$dst/vmlinuz.tmp" "$dst/vmlinuz"
	rm -rf "$tmp"
	did=1
done
# Each kernel id is a folder: vmlinuz (what QEMU boots), build (the KDIR).
for k in "$k61" "$k612" "$krt"; do
	[ -L "$CACHE/kernels/$k/build" ] && continue
	ln -sfn "/usr/src/linux-headers-$k" "$CACHE/kernels/$k/build"
	did=1
done

# kselftest headers and checkpatch from the kernel source package.
KS=$CACHE/kselftest
if [ ! -s "$KS/kselftest_harness.h" ] || [ ! -s "$CACHE/checkpatch/checkpatch.pl" ]; then
	tarball=$(ls /usr/src/linux-source-6.12*.tar.xz 2>/dev/null | head -1)
	[ -n "$tarball" ] || die "linux-source-6.12 tarball not found in /usr/src"
	say "extracting kselftest headers and checkpatch from $tarball"
	tmp=$(mktemp -d)
	tar -xJf "$tarball" -C "$tmp" --wildcards \
		'*/tools/testing/selftests/kselftest.h' \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
	src=$(echo "$tmp"/linux-source-*)
	mkdir -p "$KS" "$CACHE/checkpatch"
	cp "$src"/tools/testing/selftests/kselftest*.h "$KS/"
	cp "$src"/scripts/checkpatch.pl "$src"/scripts/spelling.txt \
	   "$src"/scripts/const_structs.checkpatch "$CACHE/checkpatch/"
	rm -rf "$tmp"
	did=1
fi

# Record what was resolved, for the Makefile and the VM runner.
mkdir -p "$CACHE"
printf '%s\n%s\n' "$k612" "$k61" > "$CACHE/kernels.list.tmp"
if ! cmp -s "$CACHE/kernels.list.tmp" "$CACHE/kernels.list" 2>/dev/null; then
	mv "$CACHE/kernels.list.tmp" "$CACHE/kernels.list"
	did=1
else
	rm -f "$CACHE/kernels.list.tmp"
fi
# The PREEMPT_RT kernel id, for tools/check's rt lane (not in kernels.list:
# `make modules` and the lint's per-kernel builds stay on the cloud kernels).
echo "$krt" > "$CACHE/kernels.rt.tmp"
if ! cmp -s "$CACHE/kernels.rt.tmp" "$CACHE/kernels.rt" 2>/dev/null; then
	mv "$CACHE/kernels.rt.tmp" "$CACHE/kernels.rt"
	did=1
else
	rm -f "$CACHE/kernels.rt.tmp"
fi

if [ $did = 0 ]; then
	say "all dependencies present; nothing to do (kernels: $k61, $k612, $krt)"
else
	say "done (kernels: $k61, $k612, $krt; cache: $CACHE)"
fi
