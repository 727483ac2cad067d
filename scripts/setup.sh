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
	libsystemd-dev libbpf-dev libkmod-dev libblkid-dev libcmocka-dev liblzo2-dev libsnappy-dev
	python3 clang-format git)
test_pkgs=(qemu-system-x86 makedumpfile e2fsprogs python3-libkdumpfile
	kmod busybox-static hyperfine time file ovmf debootstrap crash python3-drgn gdb zstd)

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

# Unpacks linux-image package $1 (fetched with apt-get options $2...) into
# the cache as kernel-<release>, with modules.dep, and links kernel-<series>.
unpack_kernel() {
	local series=$1 pkg=$2
	shift 2
	local release=${pkg#linux-image-}
	local dest="$cache/kernel-$release"
	if [ ! -f "$dest/.unpacked" ]; then
		say "fetching guest kernel $pkg"
		local tmp
		tmp=$(mktemp -d)
		(cd "$tmp" && apt-get -o APT::Sandbox::User=root "$@" download -q "$pkg" >/dev/null)
		rm -rf "$dest"
		dpkg -x "$tmp"/*.deb "$dest"
		rm -rf "$tmp"
		# Debian's package ships no modules.dep: its postinst runs depmod.
		depmod -b "$dest" "$release"
		touch "$dest/.unpacked"
	fi
	ln -sfn "kernel-$release" "$cache/kernel-$series"
	say "guest kernel $series: $release"
}

# The package linux-image-amd64 points at, with these apt-get options.
kernel_package() {
	apt-cache "$@" depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}

# Debian 12's own kernel (6.1).
pkg=$(kernel_package)
if [ -z "$pkg" ]; then
	apt-get update -q >/dev/null
	pkg=$(kernel_package)
fi
[ -n "$pkg" ] || { say "cannot find the linux-image package for amd64"; exit 1; }
unpack_kernel 6.1 "$pkg"

# The cloud flavour of kernel package $2 (a linux-image-* name), unpacked
# as kernel-$1-cloud, and from its -dbg package only the vmlinux with debug
# info that crash and drgn need (the package is ~280 MB; the vmlinux is
# kept, the .deb is not). $3...: apt-get options. The tests dump the cloud
# flavour because its -dbg package is a third of the standard one's. (Not
# for 6.12: its cloud kernel double-faults early in boot under QEMU TCG.)
unpack_cloud_kernel() {
	local series=$1 cloud=${2%-amd64}-cloud-amd64
	shift 2
	unpack_kernel "$series-cloud" "$cloud" "$@"
	local release=${cloud#linux-image-}
	local vmlinux="$cache/kernel-$release/usr/lib/debug/boot/vmlinux-$release"
	[ -s "$vmlinux" ] && return 0
	say "fetching $cloud-dbg (~280 MB, once)"
	local tmp start=$SECONDS
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get -o APT::Sandbox::User=root "$@" download -q "$cloud-dbg" >/dev/null)
	dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" --wildcards './usr/lib/debug/boot/vmlinux-*'
	mkdir -p "$(dirname "$vmlinux")"
	mv "$tmp/usr/lib/debug/boot/vmlinux-$release" "$vmlinux.part"
	# A .gdb_index halves the time crash (gdb inside) takes to start on it.
	gdb-add-index "$vmlinux.part" >/dev/null
	mv "$vmlinux.part" "$vmlinux"
	rm -rf "$tmp"
	say "debug vmlinux $release ready in $((SECONDS - start)) s"
}
unpack_cloud_kernel 6.1 "$pkg"

# The bookworm-backports kernel (6.12) through a private apt configuration:
# its own sources list and lists folder, from the same mirror this machine
# already uses for bookworm. The machine's apt sources stay as they are.
bpo="$cache/apt-backports"
mkdir -p "$bpo/lists/partial"
if [ ! -s "$bpo/sources.list" ]; then
	mirror=$(apt-cache policy 2>/dev/null |
		awk '$3 == "bookworm/main" && $2 ~ /^https?:/ {print $2; exit}')
	[ -n "$mirror" ] || { say "no Debian bookworm mirror in this machine's apt sources"; exit 1; }
	echo "deb $mirror bookworm-backports main" >"$bpo/sources.list"
fi
apt_bpo=(-o APT::Sandbox::User=root -o Dir::Etc::SourceList="$bpo/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o Dir::State::Lists="$bpo/lists")
pkg=""
[ -n "$(ls "$bpo/lists" 2>/dev/null | grep -v partial)" ] && pkg=$(kernel_package "${apt_bpo[@]}")
if [ -z "$pkg" ] || [ ! -f "$cache/kernel-${pkg#linux-image-}/.unpacked" ]; then
	apt-get "${apt_bpo[@]}" update -q >/dev/null
	pkg=$(kernel_package "${apt_bpo[@]}")
fi
[ -n "$pkg" ] || { say "cannot find the bookworm-backports kernel package"; exit 1; }
unpack_kernel 6.12 "$pkg" "${apt_bpo[@]}"
say "ready"
