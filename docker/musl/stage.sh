#!/bin/bash
# stage.sh: the inside half of docker/musl/build.sh. It runs as root inside a
# throw-away Debian bookworm build environment of the TARGET architecture
# (native, or an arm64 chroot under QEMU user emulation), so every path it
# builds is the path the image will have. It
#   1. fetches the upstream sources of zlib, libffi, OpenSSL and CPython 3.11
#      from Debian (`apt-get source --download-only`, the .orig tarball only:
#      apt checks it against the signed Sources index; the .dsc and
#      .debian.tar.xz may 404 and are not needed),
#   2. builds them for musl with the image's own gcc wrapper: zlib, libffi and
#      OpenSSL static and -fPIC into /usr/local, then CPython 3.11 into
#      /usr/local with ensurepip (pip, setuptools) and the wheel package,
#   3. assembles the image's root filesystem in OUT/rootfs from Debian debs
#      unpacked with dpkg-deb (gcc-12, binutils, musl, musl-dev, kernel
#      headers, busybox-static, ...) on a merged-/usr layout, plus /usr/local,
#   4. checks the result inside that root filesystem: a shared object links
#      libc.so dynamically (never libc.a), and pip's first tag is
#      musllinux_1_2_<arch>.
# Usage (build.sh does this): stage.sh RECIPE_DIR OUT_DIR
# Environment: WW_MIRROR (Debian mirror URL), WW_SECURITY_MIRROR (may be
# empty), WW_JOBS (make -j, default 2), WW_RECIPE_HASH (recorded only).
set -euo pipefail
shopt -s inherit_errexit

die() { echo "stage.sh: error: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: stage.sh RECIPE_DIR OUT_DIR"
recipe=$1
out=$2
[ -f "$recipe/gcc.in" ] && [ -f "$recipe/packages.txt" ] ||
    die "$recipe is not the docker/musl recipe directory"
[ -n "${WW_MIRROR:-}" ] || die "WW_MIRROR is not set"
jobs=${WW_JOBS:-2}
case $jobs in ''|*[!0-9]*) die "WW_JOBS must be a number, not '$jobs'" ;; esac

march=$(uname -m)
case $march in
x86_64)		ossl_target=linux-x86_64 archflags= ;;
aarch64)	ossl_target=linux-aarch64 archflags=-mno-outline-atomics ;;
*)		die "unsupported architecture $march" ;;
esac
triplet=$march-linux-musl
gnu=$march-linux-gnu
specs=/usr/lib/$triplet/wheelwright.specs
kinc=/usr/lib/wheelwright-musl/include
policy=musllinux_1_2_$march
src=/ww/src
debs=/ww/debs
rootfs=$out/rootfs
info=$out/info
export LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive
export PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INDEX=1
apt_opts=(-o APT::Sandbox::User=root -o Acquire::Retries=3)

t0=$(date +%s)
tstep=$t0
step() {
	local now
	now=$(date +%s)
	echo "== [$(date +%T), +$((now - t0)) s] $*"
	tstep=$now
}
timing() {
	echo "time_$1=$(($(date +%s) - tstep))" >> "$info"
}

mkdir -p "$out" "$src" "$debs"
rm -rf "$rootfs"
: > "$info"
echo "arch=$march" >> "$info"
echo "recipe=${WW_RECIPE_HASH:-unknown}" >> "$info"

# --- 1. apt sources (this environment's own apt; the host's is untouched) ---
step "apt sources: $WW_MIRROR ${WW_SECURITY_MIRROR:-}"
{
	for t in deb deb-src; do
		echo "$t $WW_MIRROR bookworm main"
		echo "$t $WW_MIRROR bookworm-updates main"
		if [ -n "${WW_SECURITY_MIRROR:-}" ]; then
			echo "$t $WW_SECURITY_MIRROR bookworm-security main"
		fi
	done
} > /etc/apt/sources.list
rm -f /etc/apt/sources.list.d/*
apt-get "${apt_opts[@]}" -q update

# --- 2. upstream sources -------------------------------------------------
step "fetching sources"
cd "$src"
orig() {
	local f n
	n=0
	for f in "$1"_*.orig.tar.*; do
		case $f in *.asc|*.FAILED) continue ;; esac
		[ -f "$f" ] || continue
		n=$((n + 1))
		echo "$f"
	done
	[ $n -eq 1 ] || die "expected one verified $1 .orig tarball in $src, found $n"
}
for p in python3.11 zlib libffi openssl; do
	# The .dsc and .debian.tar.xz often 404 on this mirror; apt still
	# verifies and keeps what it did fetch, so only the .orig is judged.
	apt-get "${apt_opts[@]}" -q source --download-only "$p" || true
	f=$(orig "$p")
	echo "source_$p=$f" >> "$info"
	echo "   $f"
done

unpack() {
	local d
	rm -rf "$src/build-$1"
	mkdir -p "$src/build-$1"
	tar -C "$src/build-$1" -xf "$(orig "$1")"
	d=$(find "$src/build-$1" -mindepth 1 -maxdepth 1 -type d)
	[ "$(echo "$d" | wc -l)" -eq 1 ] || die "$1: unexpected tarball layout"
	echo "$d"
}

# --- 3. the musl toolchain (identical here and in the image) -------------
step "musl toolchain: specs, kernel headers, gcc wrapper"
install_toolchain() {
	local root=$1 d
	# musl-gcc's specs, plus /usr/local (where the static libraries and
	# Python live) and kernel headers after everything else.
	sed -e "s|-nostdinc -isystem /usr/include/$triplet|-nostdinc -isystem /usr/local/include -isystem /usr/include/$triplet|g" \
	    -e "s|-isystem include%s|-isystem include%s -idirafter $kinc|g" \
	    -e "s|^-L/usr/lib/$triplet |-L/usr/local/lib -L/usr/lib/$triplet |" \
	    "$root/usr/lib/$triplet/musl-gcc.specs" > "$root$specs.tmp"
	[ "$(grep -c -- "-isystem /usr/local/include" "$root$specs.tmp")" -eq 2 ] &&
	    [ "$(grep -c -- "-idirafter $kinc" "$root$specs.tmp")" -eq 2 ] &&
	    grep -q -- "^-L/usr/local/lib -L/usr/lib/$triplet " "$root$specs.tmp" ||
	    die "musl-gcc.specs has an unexpected shape; cannot derive $specs"
	mv "$root$specs.tmp" "$root$specs"

	# Only the kernel's uapi headers, not glibc's /usr/include.
	mkdir -p "$root$kinc"
	for d in linux asm-generic drm misc mtd rdma sound video xen; do
		[ -d "$root/usr/include/$d" ] && ln -sfn "/usr/include/$d" "$root$kinc/$d"
	done
	[ -d "$root/usr/include/$gnu/asm" ] || die "no kernel asm headers in $root"
	ln -sfn "/usr/include/$gnu/asm" "$root$kinc/asm"

	mkdir -p "$root/usr/local/bin"
	sed -e "s|@TRIPLET@|$triplet|g" -e "s|@GNU_TRIPLET@|/usr/bin/$gnu|g" \
	    -e "s|@SPECS@|$specs|g" -e "s|@ARCHFLAGS@|$archflags|g" \
	    "$recipe/gcc.in" > "$root/usr/local/bin/gcc"
	chmod 0755 "$root/usr/local/bin/gcc"
	for d in cc cpp musl-gcc "$triplet-gcc"; do
		ln -sfn gcc "$root/usr/local/bin/$d"
	done
}
install_toolchain ""
hash -r
[ "$(command -v gcc)" = /usr/local/bin/gcc ] || die "gcc is not the musl wrapper"
[ "$(gcc --print-multiarch)" = "$triplet" ] || die "gcc --print-multiarch"
timing toolchain

# --- 4. static zlib, libffi, OpenSSL (-fPIC: they end up in .so files) ---
export CC=gcc CFLAGS="-O2 -fPIC"
step "zlib"
d=$(unpack zlib)
(cd "$d" && ./configure --static --prefix=/usr/local && make -j"$jobs" libz.a &&
    make install) > "$src/zlib.log" 2>&1 || { tail -n 40 "$src/zlib.log"; die "zlib build failed"; }
timing zlib

step "libffi"
d=$(unpack libffi)
(cd "$d" && ./configure --build="$march-pc-linux-musl" --prefix=/usr/local \
    --disable-shared --enable-static --with-pic --disable-docs \
    --disable-multi-os-directory && make -j"$jobs" && make install) \
    > "$src/libffi.log" 2>&1 || { tail -n 40 "$src/libffi.log"; die "libffi build failed"; }
timing libffi

step "OpenSSL (libraries only)"
d=$(unpack openssl)
(cd "$d" && ./Configure "$ossl_target" --prefix=/usr/local --libdir=lib \
    --openssldir=/etc/ssl no-shared no-tests no-afalgeng -fPIC &&
    make -j"$jobs" build_libs && make install_dev) \
    > "$src/openssl.log" 2>&1 || { tail -n 40 "$src/openssl.log"; die "OpenSSL build failed"; }
timing openssl
unset CFLAGS

# --- 5. CPython 3.11 -----------------------------------------------------
step "CPython"
d=$(unpack python3.11)
# OPT without -g: sysconfig hands these flags to every extension build, and
# wheels should not carry debug info by default.
(cd "$d" && OPT="-DNDEBUG -fwrapv -O2 -Wall" ./configure \
    --build="$march-pc-linux-musl" --prefix=/usr/local \
    --with-ensurepip=install --disable-test-modules \
    --with-openssl=/usr/local --with-system-ffi) \
    > "$src/python.log" 2>&1 || { tail -n 60 "$src/python.log"; die "CPython configure failed"; }
# The modules this image exists for must be configured, or stop now rather
# than after the (long, under QEMU) build. (_ctypes is not decided by
# configure in 3.11: setup.py builds it; the import check below covers it.)
for m in _ssl _hashlib zlib; do
	if ! grep -q "checking for stdlib extension module $m\.\.\. yes" "$src/python.log"; then
		grep -E "checking for stdlib extension module|OpenSSL|openssl" "$src/python.log" || true
		grep -B2 -A30 -i -E "openssl|ssl.h" "$d/config.log" | tail -n 80 || true
		die "CPython configure: module $m would not be built"
	fi
done
(cd "$d" && make -j"$jobs" && make install) >> "$src/python.log" 2>&1 ||
    { tail -n 60 "$src/python.log"; die "CPython build failed"; }
grep -A3 -E "modules (were not found|failed)|could not build|missing" "$src/python.log" || true
ln -sfn python3 /usr/local/bin/python
ln -sfn pip3 /usr/local/bin/pip
wheel=$(find /usr/share/python-wheels -name 'wheel-*.whl' 2>/dev/null | head -n 1)
[ -n "$wheel" ] || die "no wheel-*.whl in /usr/share/python-wheels (python3-wheel-whl)"
python3 -m pip install -q --no-index --no-deps "$wheel"
# setuptools before pip: once pip is imported, setuptools' distutils shim
# steps aside (by design) and a later setuptools import fails.
python3 - <<'EOF'
import ctypes, hashlib, ssl, sysconfig, zlib, _ctypes, pyexpat, _decimal
import setuptools, pip, wheel
assert sysconfig.get_config_var("CC").split()[0] == "gcc", sysconfig.get_config_var("CC")
print("   python", sysconfig.get_python_version(), ssl.OPENSSL_VERSION,
      "zlib", zlib.ZLIB_VERSION, "pip", pip.__version__,
      "setuptools", setuptools.__version__, "wheel", wheel.__version__)
print("   EXT_SUFFIX", sysconfig.get_config_var("EXT_SUFFIX"))
EOF
python3 -c 'import sys; print("python=" + sys.version.split()[0])' >> "$info"
timing python

# --- 6. the image's root filesystem --------------------------------------
step "root filesystem: Debian packages"
mkdir -p "$rootfs/usr/bin" "$rootfs/usr/sbin" "$rootfs/usr/lib"
ln -s usr/bin "$rootfs/bin"
ln -s usr/sbin "$rootfs/sbin"
ln -s usr/lib "$rootfs/lib"
if [ "$march" = x86_64 ]; then
	mkdir -p "$rootfs/usr/lib64"
	ln -s usr/lib64 "$rootfs/lib64"
fi
want=$(awk '$1 == "image" { for (i = 2; i <= NF; i++) print $i }' "$recipe/packages.txt")
skip=$(awk '$1 == "exclude" { for (i = 2; i <= NF; i++) print $i }' "$recipe/packages.txt" |
    paste -sd' ' -)
[ -n "$want" ] || die "packages.txt names no image packages"
# The dependency closure against an EMPTY package database: everything the
# image needs, and nothing that only this build environment has.
: > /ww/empty-status
# shellcheck disable=SC2086
apt-get "${apt_opts[@]}" -s -o Dir::State::status=/ww/empty-status \
    --no-install-recommends install $want > /ww/closure.txt ||
    { cat /ww/closure.txt; die "cannot resolve the image packages"; }
sel=$(awk -v skip="$skip" '
	BEGIN { n = split(skip, a, " "); for (i = 1; i <= n; i++) drop[a[i]] = 1 }
	$1 == "Inst" && !($2 in drop) { v = $3; gsub(/[()]/, "", v); print $2 "=" v }
    ' /ww/closure.txt)
[ -n "$sel" ] || die "empty package selection"
rm -f "$debs"/*.deb
# shellcheck disable=SC2086
(cd "$debs" && apt-get "${apt_opts[@]}" -q download $sel)
echo "packages=$(echo "$sel" | paste -sd, -)" >> "$info"
for f in "$debs"/*.deb; do
	# --keep-directory-symlink: /lib, /bin, /sbin stay links into /usr.
	dpkg-deb --fsys-tarfile "$f" | tar -x --keep-directory-symlink -C "$rootfs"
done
[ -L "$rootfs/lib" ] && [ -L "$rootfs/bin" ] || die "merged /usr was undone by a package"
rm -rf "$rootfs/usr/share/doc" "$rootfs/usr/share/man" "$rootfs/usr/share/info" \
    "$rootfs/usr/share/locale" "$rootfs/usr/share/lintian" "$rootfs/usr/share/bug" \
    "$rootfs/usr/share/bash-completion"
# GCC's runtime libraries are glibc builds (their packages are excluded
# above; libgcc-12-dev still ships their archives and dangling .so links):
# keep only libatomic.a, which is libc-neutral and sometimes needed on
# aarch64. lto-dump is a 30 MB debugging tool.
gccdir=$rootfs/usr/lib/gcc/$gnu/12
rm -f "$gccdir"/lib*san* "$gccdir"/libsanitizer.spec "$gccdir"/libgomp.* \
    "$gccdir"/libitm.* "$gccdir"/libquadmath.* "$gccdir"/libatomic.so \
    "$rootfs"/usr/bin/*lto-dump*
timing debs

step "root filesystem: toolchain, Python, busybox, users"
# musl's libc.so must sit where the linker looks (-L/usr/lib/$triplet), next
# to libc.a: without it ld silently links libc.a into every extension. On a
# merged /usr, musl's /lib/$triplet/libc.so is that file; say so explicitly
# so a layout change cannot lose it.
if [ ! -e "$rootfs/usr/lib/$triplet/libc.so" ]; then
	ln -s "../../../lib/$triplet/libc.so" "$rootfs/usr/lib/$triplet/libc.so"
fi
[ -e "$rootfs/usr/lib/$triplet/libc.so" ] || die "no musl libc.so in the image"
[ -e "$rootfs/lib/ld-musl-$march.so.1" ] || die "no musl dynamic loader in the image"

cp -a /usr/local/. "$rootfs/usr/local/"
rm -rf "$rootfs/usr/local/share/man" "$rootfs/usr/local/share/doc"
install_toolchain "$rootfs"
# libpython3.11.a only serves embedding; extensions never link it.
rm -f "$rootfs"/usr/local/lib/python3.11/config-3.11-*/libpython3.11.a \
    "$rootfs"/usr/local/lib/libpython3.11.a \
    "$rootfs"/usr/local/lib/*.la
find "$rootfs/usr/local/lib/python3.11" -name '*.opt-[12].pyc' -delete
strip --strip-unneeded "$rootfs/usr/local/bin/python3.11" \
    "$rootfs"/usr/local/lib/python3.11/lib-dynload/*.so
strip --strip-debug "$rootfs"/usr/local/lib/*.a

# Wheels for isolated builds with no index: pip wheel --no-index
# --find-links /usr/share/python-wheels. setuptools is CPython's bundled one:
# Debian's is patched for Debian's python and fails here.
mkdir -p "$rootfs/usr/share/python-wheels"
cp /usr/local/lib/python3.11/ensurepip/_bundled/*.whl "$wheel" \
    "$rootfs/usr/share/python-wheels/"

# busybox for everything the Debian packages do not provide (sh, ls, tar...).
"$rootfs/usr/bin/busybox" --list-full > /ww/applets
# Relative links, so they resolve the same here and in the image.
while IFS= read -r a; do
	[ -e "$rootfs/$a" ] || [ -L "$rootfs/$a" ] && continue
	case $a in
	bin/*|usr/bin/*)	ln -s busybox "$rootfs/$a" ;;
	sbin/*|usr/sbin/*)	ln -s ../bin/busybox "$rootfs/$a" ;;
	linuxrc)		;;	# an init for initramfs, not a command
	*)			die "unexpected busybox applet path $a" ;;
	esac
done < /ww/applets
[ -x "$rootfs/bin/sh" ] || die "no /bin/sh in the image"

mkdir -p "$rootfs/etc" "$rootfs/root" "$rootfs/tmp" "$rootfs/var/tmp" \
    "$rootfs/dev" "$rootfs/proc" "$rootfs/sys" "$rootfs/ww/src" "$rootfs/ww/out" \
    "$rootfs/ww/index" "$rootfs/home/wwbuild"
chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
chmod 0700 "$rootfs/root"
# The same unprivileged build user as the Debian builder images (uid 10001),
# so the engine treats both kinds of image alike.
cat > "$rootfs/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
wwbuild:x:10001:10001:Wheelwright build user:/home/wwbuild:/bin/sh
EOF
cat > "$rootfs/etc/group" <<EOF
root:x:0:
nogroup:x:65534:
wwbuild:x:10001:
EOF
chown 10001:10001 "$rootfs/home/wwbuild"
# musl's loader run bare prints its version (and exits 1); packaging reads
# it the same way.
musl_version=$({ "$rootfs/lib/ld-musl-$march.so.1" 2>&1 || true; } |
    sed -n 's/^Version //p')
[ -n "$musl_version" ] || die "cannot read the musl version"
cat > "$rootfs/etc/os-release" <<EOF
NAME="Wheelwright musllinux build image"
ID=wheelwright-musl
PRETTY_NAME="Wheelwright musllinux_1_2 build image (musl $musl_version, Debian bookworm toolchain)"
EOF
{
	echo "recipe=${WW_RECIPE_HASH:-unknown}"
	echo "arch=$march"
	echo "libc=musl"
	echo "musl=$musl_version"
	echo "policy=$policy"
	grep -E '^(python|source_|packages)' "$info"
} > "$rootfs/etc/wheelwright-image"
echo "musl=$musl_version" >> "$info"
timing assemble

# --- 7. check the result inside the root filesystem ----------------------
step "checking the root filesystem"
mkdir -p "$rootfs/tmp/check"
cat > "$rootfs/tmp/check/t.c" <<'EOF'
#include <string.h>
#include <stdio.h>
#include <linux/version.h>
int ww_copy(char *d, const char *s, size_t n) { memcpy(d, s, n); return (int)n; }
int ww_inc(int *p) { return __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST); }
int main(void) { char b[8]; int c = 0; printf("ok %d %d\n", ww_copy(b, "musl", 5), ww_inc(&c)); return 0; }
EOF
chroot "$rootfs" /bin/sh -ec '
	cd /tmp/check
	gcc -O2 -fPIC -shared -o t.so t.c
	gcc -O2 -o t t.c
	./t
	readelf -d t.so | grep NEEDED
	readelf -l t | grep -q "ld-musl"
'
needed=$(chroot "$rootfs" readelf -d /tmp/check/t.so | awk '/NEEDED/ { print $NF }')
[ "$needed" = "[libc.so]" ] || die "test .so has NEEDED '$needed', want [libc.so] only"
if chroot "$rootfs" readelf -W --dyn-syms /tmp/check/t.so |
    awk '$7 != "UND" && $8 == "memcpy"' | grep -q .; then
	die "test .so defines memcpy: libc.a was linked in"
fi
# glibc-only symbols the toolchain could drag in (aarch64 outline atomics).
if chroot "$rootfs" readelf -W --dyn-syms /tmp/check/t.so |
    awk '$7 == "UND" && $8 ~ /^__getauxval/' | grep -q .; then
	die "test .so needs __getauxval (glibc only): outline atomics"
fi
top=$(chroot "$rootfs" env HOME=/root /usr/local/bin/python3 -c \
    'from pip._vendor.packaging import tags; print(next(iter(tags.sys_tags())))')
echo "   top tag: $top"
[ "$top" = "cp311-cp311-$policy" ] || die "pip's top tag is $top, want cp311-cp311-$policy"
rm -rf "$rootfs/tmp/check"
timing check
step "done"
echo "time_stage=$(($(date +%s) - t0))" >> "$info"
