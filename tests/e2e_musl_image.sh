#!/bin/bash
# e2e_musl_image.sh: end-to-end test of the offline musllinux build image
# (docker/musl/build.sh). It builds or loads the image (cached by recipe
# hash), then, in containers with --network none as the image's unprivileged
# user:
#   - builds the wwdemo-cext C-extension sdist (tests/fixtures) with
#     pip wheel --no-build-isolation --no-index, and again with build
#     isolation from the image's own /usr/share/python-wheels;
#   - checks on the host with readelf that the extension needs libc.so only,
#     defines no libc function such as memcpy or strlen (libc.a not linked
#     in) and has no glibc symbol versions, and that the check itself catches an extension linked the
#     wrong way (against libc.a, as in a rootfs without libc.so);
#   - installs the wheel into a fresh venv inside the image, imports it,
#     runs its C code and checks that the process mapped musl, not glibc;
#   - checks that pip's top tag is musllinux_1_2_<arch> and that sysconfig's
#     CC is the image's musl gcc.
# WW_MUSL_ARCH=aarch64 runs the same test on the arm64 image under QEMU (by
# hand; CI runs x86_64 only). WW_MUSL_IMAGE=REF tests an existing image
# instead of building one.
set -euo pipefail

src=${WW_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
tmp=${WW_TEST_TMP:-${TMPDIR:-/tmp}}
arch=${WW_MUSL_ARCH:-x86_64}
policy=musllinux_1_2_$arch
fixture=$src/tests/fixtures/projects/wwdemo-cext

fail() { echo "e2e_musl_image: FAIL: $*" >&2; exit 1; }
say() { echo "e2e_musl_image: $*" >&2; }

[ "$(id -u)" -eq 0 ] || fail "needs root (podman image store, image build)"
command -v podman >/dev/null || fail "podman missing: run .ci/install-deps"
command -v readelf >/dev/null || fail "readelf missing: run .ci/install-deps"
export CONTAINERS_CONF=${CONTAINERS_CONF:-$src/docker/containers.conf}

mkdir -p "$tmp"
work=$(mktemp -d "$tmp/e2e_musl.XXXXXX")
label=wheelwright.testenv=e2e-musl-$$-$(date +%s%N)
cleanup() {
	local ids
	ids=$(podman ps -a -q --filter "label=$label" 2>/dev/null || true)
	# shellcheck disable=SC2086
	[ -z "$ids" ] || podman rm -f $ids >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

t0=$(date +%s)
if [ -n "${WW_MUSL_IMAGE:-}" ]; then
	ref=$WW_MUSL_IMAGE
	podman image exists "$ref" || fail "WW_MUSL_IMAGE=$ref: no such image"
else
	ref=$("$src/docker/musl/build.sh" "$arch") ||
	    fail "docker/musl/build.sh $arch failed"
fi
say "image $ref ready after $(($(date +%s) - t0)) s"

# Containers: no network, the image's own unprivileged user (uid 10001).
# --platform: an arm64 image on an amd64 host otherwise draws a warning.
case $arch in aarch64) platform=linux/arm64 ;; *) platform=linux/amd64 ;; esac
run() {
	podman run --rm --network none --platform "$platform" --label "$label" "$@"
}

# --- the sdist -----------------------------------------------------------
mkdir -p "$work/src" "$work/out" "$work/out-iso"
sdist=$("$src/tests/lib/make_sdist.sh" "$fixture" "$work/src") ||
    fail "cannot make the wwdemo-cext sdist"
sdist=${sdist##*/}
case $sdist in
wwdemo[-_]cext-0.3.1.tar.gz) ;;
*) fail "unexpected sdist $sdist" ;;
esac
chown 10001:10001 "$work/out" "$work/out-iso"

# --- the image's compiler is musl's, and sysconfig uses it ---------------
facts=$(run "$ref" sh -ec '
	command -v gcc
	gcc -dumpmachine
	python3 -c "import sysconfig as s; print(s.get_config_var(\"CC\")); print(s.get_config_var(\"EXT_SUFFIX\"))"
	id -u
') || fail "cannot query the image"
expected="/usr/local/bin/gcc
$arch-linux-musl
gcc
.cpython-311-$arch-linux-musl.so
10001"
[ "$facts" = "$expected" ] || fail "image facts differ: got
$facts
want
$expected"

# --- build the wheel: no build isolation, no index ------------------------
t1=$(date +%s)
run -v "$work/src:/ww/src:ro" -v "$work/out:/ww/out" "$ref" \
    pip wheel --no-build-isolation --no-index --no-deps -w /ww/out \
    "/ww/src/$sdist" > "$work/build.log" 2>&1 ||
    { cat "$work/build.log" >&2; fail "pip wheel failed in the image"; }
say "pip wheel (no isolation) took $(($(date +%s) - t1)) s"
whl=$work/out/wwdemo_cext-0.3.1-cp311-cp311-linux_$arch.whl
[ -f "$whl" ] || { ls -l "$work/out" >&2; fail "no $(basename "$whl")"; }

# The same with build isolation, from the wheels the image carries.
run -v "$work/src:/ww/src:ro" -v "$work/out-iso:/ww/out" "$ref" \
    pip wheel --no-index --find-links /usr/share/python-wheels --no-deps \
    -w /ww/out "/ww/src/$sdist" > "$work/build-iso.log" 2>&1 ||
    { cat "$work/build-iso.log" >&2; fail "isolated pip wheel failed in the image"; }
[ -f "$work/out-iso/$(basename "$whl")" ] || fail "isolated build made no wheel"

# --- ELF checks on the host ----------------------------------------------
# elf_problems FILE: prints what is wrong with a musl extension, if anything.
elf_problems() {
	local f=$1 needed defs
	needed=$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | paste -sd' ' -)
	[ "$needed" = libc.so ] || echo "NEEDED is '$needed', want 'libc.so' only"
	defs=$(readelf -W --dyn-syms "$f" | awk '$7 != "UND" {
		sub(/@.*/, "", $8)
		if ($8 ~ /^(memcpy|memmove|memset|strlen|strcmp|malloc|free|printf)$/)
			print $8
	    }' | sort -u | paste -sd, -)
	[ -z "$defs" ] || echo "defines libc functions ($defs): libc.a was linked in"
	if readelf -W -V "$f" | grep -q 'GLIBC_'; then
		echo "has glibc symbol versions"
	fi
	case $arch in
	x86_64)  readelf -h "$f" | grep -q 'Machine:.*X86-64' || echo "not x86-64" ;;
	aarch64) readelf -h "$f" | grep -q 'Machine:.*AArch64' || echo "not AArch64" ;;
	esac
}
mkdir -p "$work/unz"
python3 -m zipfile -e "$whl" "$work/unz"
so=$work/unz/wwdemo_cext/_native.cpython-311-$arch-linux-musl.so
[ -f "$so" ] || { find "$work/unz" >&2; fail "wheel has no $(basename "$so")"; }
problems=$(elf_problems "$so")
[ -z "$problems" ] || fail "$(basename "$so"): $problems"
say "$(basename "$so"): NEEDED libc.so only, no libc functions defined"

# The check must catch the real mistake: the same extension linked where the
# linker finds only libc.a (a rootfs without the libc.so link).
run -v "$fixture:/ww/src:ro" -v "$work/out:/ww/out" "$ref" sh -ec "
	mkdir -p /tmp/onlya
	ln -s /usr/lib/$arch-linux-musl/libc.a /tmp/onlya/libc.a
	inc=\$(python3 -c 'import sysconfig; print(sysconfig.get_paths()[\"include\"])')
	gcc -O2 -fPIC -shared -I\$inc -L/tmp/onlya -o /ww/out/static-libc.so \\
	    /ww/src/src/wwdemo_cext/_native.c
" || fail "could not link the libc.a negative control"
bad=$(elf_problems "$work/out/static-libc.so")
echo "$bad" | grep -q "libc.a was linked in" ||
    fail "the ELF check missed an extension with libc.a linked in (got '$bad')"
say "negative control caught: $(echo "$bad" | paste -sd';' -)"

# --- install into a fresh venv in the image, import, run the C code -------
out=$(run -v "$work/out:/ww/out:ro" "$ref" sh -ec "
	python3 -m venv /tmp/venv
	/tmp/venv/bin/pip install -q --no-index --no-deps /ww/out/$(basename "$whl")
	cd /tmp
	/tmp/venv/bin/python -c '
import wwdemo_cext as m
assert m.length(\"musl\") == 4, m.length(\"musl\")
assert m.crc32(b\"123456789\") == 0xCBF43926, hex(m.crc32(b\"123456789\"))
assert m._native.__file__.startswith(\"/tmp/venv/\"), m._native.__file__
maps = open(\"/proc/self/maps\").read()
assert \"/$arch-linux-musl/libc.so\" in maps and \"libc.so.6\" not in maps, maps
print(\"import ok\")
'
	/tmp/venv/bin/python -m pip debug --verbose 2>/dev/null |
	    sed -n '/^Compatible tags/{n;s/^ *//;p;q}'
	/tmp/venv/bin/python -c 'from pip._vendor.packaging import tags; print(next(iter(tags.sys_tags())))'
") || fail "installing or importing the wheel in a fresh venv failed"
expected="import ok
cp311-cp311-$policy
cp311-cp311-$policy"
[ "$out" = "$expected" ] || fail "venv results differ: got
$out
want
$expected"
say "wheel installs and runs in a fresh venv; pip's top tag is cp311-cp311-$policy"
say "PASS ($(($(date +%s) - t0)) s)"
