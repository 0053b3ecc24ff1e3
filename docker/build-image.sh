#!/bin/bash
# build-image.sh: makes the Debian bookworm builder image that wheel builds
# run in, without any registry: debootstrap a minbase root filesystem with
# Python, a C/C++ toolchain and pip/setuptools/wheel wheels, then
# `podman import` it. Foreign architectures (arm64) are bootstrapped under
# QEMU user emulation (docker/binfmt.sh).
#
# The image is keyed by a hash of its recipe (this script and
# builder-packages.txt): the tag is
#     localhost/wheelwright-builder:bookworm-ARCH-HASH
# and the alias localhost/wheelwright-builder:bookworm-ARCH points at the
# newest build. The root filesystem tarball is cached outside the repo in
# $WW_IMAGE_CACHE (default /var/cache/wheelwright/images), so a rerun is
# instant when the image exists, takes seconds when only the tarball does,
# and a new machine builds from nothing.
#
# Usage: docker/build-image.sh [--print-tag|--rebuild] ARCH   (amd64|arm64)
# Prints the image reference on stdout; progress goes to stderr.
# Environment: WW_IMAGE_CACHE, WW_DEBIAN_MIRROR, CONTAINERS_CONF.
set -euo pipefail

die() { echo "build-image.sh: $*" >&2; exit 1; }
say() { echo "build-image.sh: $*" >&2; }

mode=build
case "${1:-}" in
--print-tag)	mode=print; shift ;;
--rebuild)	mode=rebuild; shift ;;
esac
[ $# -eq 1 ] || die "usage: build-image.sh [--print-tag|--rebuild] amd64|arm64"
case "$1" in
amd64|x86_64)	arch=amd64 ;;
arm64|aarch64)	arch=arm64 ;;
*)		die "unsupported architecture '$1' (amd64 or arm64)" ;;
esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pkgfile=$here/builder-packages.txt
suite=bookworm
hash=$(cat "$here/build-image.sh" "$pkgfile" | sha256sum | cut -c1-12)
repo=localhost/wheelwright-builder
ref=$repo:$suite-$arch-$hash
alias=$repo:$suite-$arch

if [ "$mode" = print ]; then
	echo "$ref"
	exit 0
fi

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, podman image store)"
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}
command -v podman >/dev/null || die "podman missing: run .ci/install-deps"

# Foreign images are useless without the QEMU handler, which a reboot
# forgets: make sure it is there even when the image is cached.
if [ "$arch" != amd64 ] || [ "$(uname -m)" != x86_64 ]; then
	"$here/binfmt.sh" "$arch"
fi

if [ "$mode" = build ] && podman image exists "$ref"; then
	podman tag "$ref" "$alias"
	echo "$ref"
	exit 0
fi

cache=${WW_IMAGE_CACHE:-/var/cache/wheelwright/images}
mkdir -p "$cache"
tarball=$cache/$suite-$arch-$hash.tar

# One builder per architecture at a time; others wait and then find the
# image made.
exec 9>"$cache/.lock-$arch"
flock 9
if [ "$mode" = build ] && podman image exists "$ref"; then
	podman tag "$ref" "$alias"
	echo "$ref"
	exit 0
fi
[ "$mode" = rebuild ] && rm -f "$tarball"

work=
# debootstrap mounts /proc, /sys (and in containers binds /dev) inside the
# target. Unmount everything below a directory, deepest first, and check
# that nothing is left before anything there is deleted.
unmount_below() {
	local m
	for m in $(awk -v w="$1/" 'index($2, w) == 1 { print $2 }' \
	    /proc/self/mounts | sort -r); do
		umount -l "$m" || true
	done
	if awk -v w="$1/" 'index($2, w) == 1 { found = 1 } END { exit !found }' \
	    /proc/self/mounts; then
		die "mounts remain below $1; not deleting it"
	fi
}

cleanup() {
	[ -n "$work" ] && [ -d "$work" ] || return 0
	unmount_below "$work"
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT

mirror() {
	local m
	if [ -n "${WW_DEBIAN_MIRROR:-}" ]; then
		echo "$WW_DEBIAN_MIRROR"
		return
	fi
	m=$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' \
	    /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
	if [ -z "$m" ]; then
		m=$(awk '$1 == "deb" && $0 !~ /security/ {
		    for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' \
		    /etc/apt/sources.list 2>/dev/null || true)
	fi
	echo "${m:-http://deb.debian.org/debian}"
}

if [ ! -s "$tarball" ]; then
	command -v debootstrap >/dev/null || die "debootstrap missing: run .ci/install-deps"
	pkgs=$(sed -e 's/#.*//' "$pkgfile" | tr -s ' \t\n' '\n' | grep -v '^$' |
	    paste -sd, -)
	work=$(mktemp -d "$cache/work-$arch.XXXXXX")
	rootfs=$work/rootfs
	start=$(date +%s)
	say "debootstrap $suite $arch from $(mirror) (a few minutes the first time)"
	if ! debootstrap --variant=minbase --arch="$arch" --include="$pkgs" \
	    "$suite" "$rootfs" "$(mirror)" > "$work/debootstrap.log" 2>&1; then
		tail -n 30 "$work/debootstrap.log" >&2
		[ -f "$rootfs/debootstrap/debootstrap.log" ] &&
		    tail -n 30 "$rootfs/debootstrap/debootstrap.log" >&2
		die "debootstrap failed for $arch"
	fi
	# Nothing debootstrap mounted may stay mounted inside the tree.
	unmount_below "$rootfs"

	# An unprivileged build user with a fixed uid, so the engine's callers
	# can give it a writable output directory (chown 10001) without
	# knowing the image. HOME is a writable place for pip's caches.
	echo "wwbuild:x:10001:10001:Wheelwright build user:/home/wwbuild:/bin/sh" \
	    >> "$rootfs/etc/passwd"
	echo "wwbuild:x:10001:" >> "$rootfs/etc/group"
	echo "wwbuild:*:19000:0:99999:7:::" >> "$rootfs/etc/shadow"
	install -d -m 0755 -o 10001 -g 10001 "$rootfs/home/wwbuild"
	# Conventional mount points for builds (sdist, output, wheel index).
	install -d -m 0755 "$rootfs/ww" "$rootfs/ww/src" "$rootfs/ww/out" \
	    "$rootfs/ww/index"

	# Shrink: package caches and lists are useless without a network.
	rm -rf "$rootfs"/var/cache/apt/archives/*.deb \
	    "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log \
	    "$rootfs"/debootstrap
	rm -rf "$rootfs"/dev/* "$rootfs"/proc/* "$rootfs"/sys/* 2>/dev/null || true
	cat > "$rootfs/etc/wheelwright-image" <<EOT
recipe=$hash
suite=$suite
arch=$arch
packages=$pkgs
EOT
	tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" .
	sync "$tarball.tmp"
	mv "$tarball.tmp" "$tarball"
	say "root filesystem for $arch built in $(( $(date +%s) - start )) s"
	cleanup
	work=
fi

say "importing $tarball as $ref"
podman import -q --arch "$arch" \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV LANG=C.UTF-8" \
    --change "ENV HOME=/home/wwbuild" \
    --change "ENV PIP_DISABLE_PIP_VERSION_CHECK=1" \
    --change "WORKDIR /home/wwbuild" \
    --change "USER 10001:10001" \
    --change "CMD [\"/bin/bash\"]" \
    --change "LABEL org.wheelwright.recipe=$hash" \
    --change "LABEL org.wheelwright.suite=$suite" \
    "$tarball" "$ref" >/dev/null
podman tag "$ref" "$alias"
echo "$ref"
