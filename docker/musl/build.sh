#!/bin/bash
# build.sh: makes the musllinux_1_2 build image without any registry, from
# Debian's packages and sources alone, and imports it into podman as
#     localhost/wheelwright-musl:1.2-ARCH-HASH   (alias …:1.2-ARCH)
# ARCH is x86_64 or aarch64 (Debian's amd64/arm64 are accepted too). HASH is
# the first 12 hex digits of a SHA-256 over the recipe: the names and contents
# of every file directly in docker/musl/ except *.md.
#
# How: debootstrap a throw-away Debian bookworm build environment of the
# target architecture (arm64 runs under QEMU user emulation), run stage.sh in
# it (musl builds of zlib, libffi, OpenSSL and CPython 3.11, then the image's
# root filesystem from unpacked debs), tar that root filesystem and
# `podman import` it. The tarball, the build log and a summary are cached in
#     $WW_MUSL_CACHE/HASH/ARCH/   (default /var/cache/wheelwright/musl)
# so a rerun is instant when the image exists, takes seconds when only the
# tarball does, and a fresh machine builds everything from nothing.
#
# Usage: docker/musl/build.sh [--print-tag|--rebuild|--keep-work] [ARCH]
#   --print-tag   print the image reference only
#   --rebuild     ignore the cached tarball and image
#   --keep-work   keep the build environment (in the cache dir) for debugging,
#                 until the next build of that architecture
# Prints the image reference on stdout; progress goes to stderr.
# Environment: WW_MUSL_CACHE, WW_DEBIAN_MIRROR, WW_DEBIAN_SECURITY_MIRROR
# ("none" for no security suite), WW_JOBS (default 2), CONTAINERS_CONF.
# Needs root (debootstrap, chroot, podman's image store).
set -euo pipefail

die() { echo "musl/build.sh: error: $*" >&2; exit 1; }
say() { echo "musl/build.sh: $*" >&2; }

mode=build
keep=0
while [ $# -gt 0 ]; do
	case $1 in
	--print-tag)	mode=print ;;
	--rebuild)	mode=rebuild ;;
	--keep-work)	keep=1 ;;
	-*)		die "unknown option $1" ;;
	*)		break ;;
	esac
	shift
done
[ $# -le 1 ] || die "usage: build.sh [--print-tag|--rebuild|--keep-work] [x86_64|aarch64]"
case ${1:-$(uname -m)} in
x86_64|amd64)	arch=x86_64 debarch=amd64 ;;
aarch64|arm64)	arch=aarch64 debarch=arm64 ;;
*)		die "unsupported architecture '$1' (x86_64 or aarch64)" ;;
esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
recipe_files() {
	local f
	for f in "$here"/*; do
		[ -f "$f" ] || continue
		case ${f##*/} in *.md) continue ;; esac
		echo "$f"
	done | LC_ALL=C sort
}
hash=$(recipe_files | while IFS= read -r f; do
	printf '%s\n' "${f##*/}"
	sha256sum < "$f"
done | sha256sum | cut -c1-12)
repo=localhost/wheelwright-musl
ref=$repo:1.2-$arch-$hash
alias=$repo:1.2-$arch

if [ "$mode" = print ]; then
	echo "$ref"
	exit 0
fi

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, podman image store)"
# The project's podman configuration, never /etc/containers.
export CONTAINERS_CONF=${CONTAINERS_CONF:-$(cd "$here/.." && pwd)/containers.conf}
[ -f "$CONTAINERS_CONF" ] || die "CONTAINERS_CONF=$CONTAINERS_CONF: no such file"
command -v podman >/dev/null || die "podman missing: run .ci/install-deps"

# A foreign image is useless without its QEMU handler, which a reboot
# forgets: make sure it is there even when the image is cached.
if [ "$arch" != "$(uname -m)" ]; then
	if [ "$arch" != aarch64 ] || [ "$(uname -m)" != x86_64 ]; then
		die "cannot build $arch on $(uname -m)"
	fi
	"$here/../binfmt.sh" "$debarch"
fi

tag_alias() {
	podman tag "$ref" "$alias"
	echo "$ref"
}
if [ "$mode" = build ] && podman image exists "$ref"; then
	tag_alias
	exit 0
fi

base=${WW_MUSL_CACHE:-/var/cache/wheelwright/musl}
cache=$base/$hash/$arch
mkdir -p "$cache"
tarball=$cache/rootfs.tar
log=$cache/build.log
info=$cache/info

# One build per architecture at a time; a waiting run then finds the image.
exec 9>"$base/.lock-$arch"
flock 9
if [ "$mode" = build ] && podman image exists "$ref"; then
	tag_alias
	exit 0
fi
[ "$mode" = rebuild ] && rm -f "$tarball"

mirror=${WW_DEBIAN_MIRROR:-}
secmirror=${WW_DEBIAN_SECURITY_MIRROR:-}
uris() {
	{ awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' \
	    /etc/apt/sources.list.d/*.sources 2>/dev/null
	  awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; break } }' \
	    /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
	} | grep -E '/debian(-security)?/?$' || true
}
[ -n "$mirror" ] || mirror=$(uris | grep -v security | head -n 1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
[ -n "$secmirror" ] || secmirror=$(uris | grep security | head -n 1)
[ "$secmirror" = none ] && secmirror=

work=
# debootstrap mounts /proc and /sys inside the target; stage.sh runs in a
# private mount namespace, so its mounts vanish with it. Refuse to delete a
# tree that still has anything mounted below it.
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
	if [ "$keep" -eq 1 ]; then
		say "kept the build environment in $work"
		return 0
	fi
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# We hold the lock: any other build environment of this architecture is
# left over from a killed run (or a --keep-work one, kept until the next
# build), and is about 1 GB.
for old in "$base"/work-"$arch".*; do
	[ -d "$old" ] || continue
	say "removing the stale build environment $old"
	unmount_below "$old"
	rm -rf --one-file-system "$old"
done

# Everything slow runs at the lowest priority: the machine is shared.
slow=(nice -n 19)
command -v ionice >/dev/null && slow+=(ionice -c 3)

if [ ! -s "$tarball" ]; then
	command -v debootstrap >/dev/null || die "debootstrap missing: run .ci/install-deps"
	start=$(date +%s)
	work=$(mktemp -d "$base/work-$arch.XXXXXX")
	env=$work/env
	: > "$log"
	say "building the $arch image from Debian sources (log: $log)"
	say "debootstrap bookworm $debarch from $mirror"
	# The build environment: a C toolchain to run gcc-12 with musl's specs,
	# perl for OpenSSL's Configure, and Debian's wheel wheel for CPython.
	if ! "${slow[@]}" debootstrap --variant=minbase --arch="$debarch" \
	    --include=build-essential,musl,musl-dev,linux-libc-dev,perl,xz-utils,bzip2,python3-wheel-whl \
	    bookworm "$env" "$mirror" >> "$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "debootstrap failed for $debarch"
	fi
	unmount_below "$env"
	tdeboot=$(($(date +%s) - start))
	mkdir -p "$env/ww/recipe"
	recipe_files | while IFS= read -r f; do cp "$f" "$env/ww/recipe/"; done
	cp /etc/resolv.conf /etc/hosts "$env/etc/"

	say "stage.sh in the build environment (nice 19; ~10 min native, an hour or more under QEMU)"
	if ! "${slow[@]}" unshare --mount --propagation private --fork -- \
	    /bin/bash -c 'set -e
		mount -t proc proc "$1/proc"
		mount --rbind /dev "$1/dev"
		exec chroot "$1" /usr/bin/env -i HOME=/root TERM=dumb \
		    WW_MIRROR="$2" WW_SECURITY_MIRROR="$3" WW_JOBS="$4" \
		    WW_RECIPE_HASH="$5" \
		    /bin/bash /ww/recipe/stage.sh /ww/recipe /ww/out' \
	    _ "$env" "$mirror" "$secmirror" "${WW_JOBS:-2}" "$hash" >> "$log" 2>&1; then
		# Keep each step's own log and configure's config.log: the
		# build environment goes, and a rerun under QEMU takes hours.
		rm -rf "$cache/logs"
		mkdir -p "$cache/logs"
		cp "$env"/ww/src/*.log "$cache/logs/" 2>/dev/null || true
		for f in "$env"/ww/src/build-*/*/config.log; do
			[ -f "$f" ] || continue
			p=${f#"$env"/ww/src/build-}
			cp "$f" "$cache/logs/${p%%/*}-config.log"
		done
		tail -n 40 "$log" >&2
		die "stage.sh failed for $arch (log: $log, step logs: $cache/logs)"
	fi
	unmount_below "$env"
	tar --numeric-owner -C "$env/ww/out/rootfs" -cf "$tarball.tmp" .
	sync "$tarball.tmp"
	cp "$env/ww/out/info" "$info.tmp"
	{
		echo "time_debootstrap=$tdeboot"
		echo "time_total=$(($(date +%s) - start))"
		echo "rootfs_bytes=$(stat -c %s "$tarball.tmp")"
		echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	} >> "$info.tmp"
	mv "$info.tmp" "$info"
	mv "$tarball.tmp" "$tarball"
	say "root filesystem built in $(($(date +%s) - start)) s"
	cleanup
	work=
fi

say "importing $tarball as $ref"
musl=$(sed -n 's/^musl=//p' "$info" 2>/dev/null || true)
podman import -q --arch "$debarch" \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV LANG=C.UTF-8" \
    --change "ENV HOME=/home/wwbuild" \
    --change "ENV PIP_DISABLE_PIP_VERSION_CHECK=1" \
    --change "WORKDIR /home/wwbuild" \
    --change "USER 10001:10001" \
    --change "CMD [\"/bin/sh\"]" \
    --change "LABEL org.wheelwright.recipe=$hash" \
    --change "LABEL org.wheelwright.libc=musl" \
    --change "LABEL org.wheelwright.musl=${musl:-unknown}" \
    --change "LABEL org.wheelwright.policy=musllinux_1_2_$arch" \
    "$tarball" "$ref" >/dev/null

# The image must start and know what it is before anyone may use it.
# --platform: without it podman warns on stderr that an arm64 image does not
# match an amd64 host, and the warning would land in $out.
if ! out=$(podman run --rm --network none --platform "linux/$debarch" "$ref" python3 -c \
    'from pip._vendor.packaging import tags; import ssl, zlib, ctypes; print(next(iter(tags.sys_tags())))' 2>&1) ||
    [ "$out" != "cp311-cp311-musllinux_1_2_$arch" ]; then
	podman rmi -f "$ref" >/dev/null 2>&1 || true
	die "imported image fails its check (got '$out'); remove $tarball to rebuild"
fi
size=$(podman image inspect --format '{{.Size}}' "$ref")
grep -q '^image_bytes=' "$info" 2>/dev/null || echo "image_bytes=$size" >> "$info"
tag_alias
