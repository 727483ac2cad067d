#!/usr/bin/env bash
# Installs what crashcap needs to build, test and run its demo, then fetches
# the Debian guest kernel the QEMU tests boot. Safe to run again: a second
# run only checks and returns in seconds.
#
#   scripts/setup.sh [--build-only]
#
# --build-only installs the build and unit-test dependencies and skips the
# QEMU tools and the guest kernel.
#
# The guest kernel is unpacked with dpkg -x into the cache folder
# ($CRASHCAP_CACHE, default ~/.cache/crashcap, linked as build/cache) and is
# never installed on this machine.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${CRASHCAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/crashcap}
build_only=0
[ "${1:-}" = "--build-only" ] && build_only=1

say() { printf 'setup: %s\n' "$*"; }

build_pkgs=(build-essential pkg-config libelf-dev libzstd-dev zlib1g-dev
	libsystemd-dev libbpf-dev libkmod-dev libblkid-dev libcmocka-dev
	python3 clang-format git)
test_pkgs=(qemu-system-x86 makedumpfile e2fsprogs python3-libkdumpfile
	kmod busybox-static hyperfine time file)

missing=()
want=("${build_pkgs[@]}")
[ $build_only = 1 ] || want+=("${test_pkgs[@]}")
for p in "${want[@]}"; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		say "missing Debian packages: ${missing[*]}"
		say "run this script as root (or: sudo apt-get install ${missing[*]})"
		exit 1
	fi
	say "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p "$cache" "$here/build"
if [ ! -e "$here/build/cache" ]; then
	ln -s "$cache" "$here/build/cache"
fi

[ $build_only = 1 ] && { say "build dependencies ready"; exit 0; }

# The guest kernel: Debian 12's default amd64 flavour, whatever release
# linux-image-amd64 points at today.
fetch_kernel() {
	local pkg dest stamp
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	if [ -z "$pkg" ]; then
		apt-get update -q >/dev/null
		pkg=$(apt-cache depends linux-image-amd64 |
			awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	fi
	[ -n "$pkg" ] || { say "cannot find the linux-image package for amd64"; exit 1; }
	local release=${pkg#linux-image-}
	dest="$cache/kernel-$release"
	stamp="$dest/.unpacked"
	if [ ! -f "$stamp" ]; then
		say "fetching guest kernel $pkg"
		local tmp
		tmp=$(mktemp -d)
		chmod 755 "$tmp" # apt downloads as _apt
		(cd "$tmp" && apt-get download -q "$pkg" >/dev/null)
		rm -rf "$dest"
		dpkg -x "$tmp"/*.deb "$dest"
		rm -rf "$tmp"
		# Debian's package ships no modules.dep: its postinst runs depmod.
		depmod -b "$dest" "$release"
		touch "$stamp"
	fi
	ln -sfn "kernel-$release" "$cache/kernel-6.1"
	say "guest kernel $release in $dest"
}
fetch_kernel
say "ready"
