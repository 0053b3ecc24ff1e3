#!/bin/bash
# musl_libyaml_image.sh: the musllinux build image (docker/musl/build.sh)
# plus libyaml, a shared library outside every musllinux policy, built from
# Debian's source with the image's own musl compiler. It plays the part the
# Debian builder image's libyaml-dev plays for manylinux: a build links it,
# and the wheel only works elsewhere once repair has bundled it. The demo
# (.ci/demo) and e2e_builderd_musl_repair use it as their musllinux target.
#
#   tests/lib/musl_libyaml_image.sh BASE_REF
# prints localhost/wheelwright-musl-libyaml:KEY on stdout (progress on
# stderr), KEY a hash of the base image's id, this script and the source.
# A rerun with the image present is instant. The source tarball (85 KB,
# sha256 pinned below) is fetched once from the Debian mirror into
#     $WW_SOURCE_CACHE (default /var/cache/wheelwright/sources)
# Environment: WW_DEBIAN_MIRROR, WW_SOURCE_CACHE, CONTAINERS_CONF.
set -euo pipefail

die() { echo "musl_libyaml_image: error: $*" >&2; exit 1; }
say() { echo "musl_libyaml_image: $*" >&2; }

[ $# -eq 1 ] || die "usage: musl_libyaml_image.sh BASE_REF"
base=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/../../docker/containers.conf}

src_name=libyaml_0.2.5.orig.tar.gz
src_path=pool/main/liby/libyaml/$src_name
src_sha256=fa240dbf262be053f3898006d502d514936c818e422afdcf33921c63bed9bf2e
cache=${WW_SOURCE_CACHE:-/var/cache/wheelwright/sources}

mirror=${WW_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$({ awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' \
	    /etc/apt/sources.list.d/*.sources 2>/dev/null
	  awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; break } }' \
	    /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
	} | grep -E '/debian/?$' | head -n 1 || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}

podman image exists "$base" || die "no image $base (docker/musl/build.sh makes it)"
base_id=$(podman image inspect --format '{{.Id}}' "$base")
user=$(podman image inspect --format '{{.Config.User}}' "$base")
key=$({ echo "$base_id"; echo "$src_sha256"; cat "${BASH_SOURCE[0]}"; } |
    sha256sum | cut -c1-12)
ref=localhost/wheelwright-musl-libyaml:$key
if podman image exists "$ref"; then
	echo "$ref"
	exit 0
fi

mkdir -p "$cache"
if [ ! -f "$cache/$src_name" ] ||
    ! echo "$src_sha256  $cache/$src_name" | sha256sum -c --status; then
	say "fetching $mirror/$src_path"
	tmp=$(mktemp "$cache/.$src_name.XXXXXX")
	if ! curl -fsSL --retry 2 --max-time 120 -o "$tmp" "${mirror%/}/$src_path"; then
		rm -f "$tmp"
		die "cannot fetch ${mirror%/}/$src_path"
	fi
	if ! echo "$src_sha256  $tmp" | sha256sum -c --status; then
		rm -f "$tmp"
		die "$src_name: sha256 is not $src_sha256"
	fi
	mv "$tmp" "$cache/$src_name"
fi

say "building libyaml 0.2.5 in $base"
# Where the musl loader and linker look (/etc/ld-musl-ARCH.path lists only
# the multiarch directories, not /usr/local/lib); headers go where the
# image's compiler specs look first.
script='
arch=$(uname -m)
libdir=/usr/lib/$arch-linux-musl
test -e /lib/ld-musl-$arch.so.1 && test -d "$libdir"
mkdir -p /tmp/yaml /usr/local/include
cd /tmp/yaml
tar -xzf "/ww/src/$1"
cd libyaml-0.2.5
cc -O2 -fPIC -shared -Iinclude -DYAML_VERSION_MAJOR=0 -DYAML_VERSION_MINOR=2 \
    -DYAML_VERSION_PATCH=5 -DYAML_VERSION_STRING=\"0.2.5\" \
    -Wl,-soname,libyaml-0.so.2 -o "$libdir/libyaml-0.so.2.0.9" src/*.c
ln -sf libyaml-0.so.2.0.9 "$libdir/libyaml-0.so.2"
ln -sf libyaml-0.so.2 "$libdir/libyaml.so"
cp include/yaml.h /usr/local/include/
cd / && rm -rf /tmp/yaml
'
name=ww-musl-libyaml-$$
podman rm -f "$name" >/dev/null 2>&1 || true
if ! out=$(podman run --name "$name" --user 0:0 --network none \
    -v "$cache:/ww/src:ro" "$base" /bin/sh -ec "$script" sh "$src_name" 2>&1); then
	podman rm -f "$name" >/dev/null 2>&1 || true
	echo "$out" >&2
	die "building libyaml in $base failed"
fi
changes=(--change "LABEL org.wheelwright.extra=libyaml-0.2.5")
[ -n "$user" ] && changes+=(--change "USER $user")
podman commit -q "${changes[@]}" "$name" "$ref" >/dev/null
podman rm -f "$name" >/dev/null 2>&1 || true
say "made $ref"
echo "$ref"
