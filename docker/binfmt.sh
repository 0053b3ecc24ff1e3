#!/bin/sh
# binfmt.sh: makes sure the kernel runs binaries of a foreign architecture
# through QEMU user emulation (binfmt_misc), so the same container engine can
# build wheels for it. Uses the handler definitions that qemu-user-static
# installs in /usr/lib/binfmt.d (there is no update-binfmts on these hosts).
#
# Usage: docker/binfmt.sh ARCH [--check]
#   ARCH: arm64|aarch64, armhf|arm, ppc64el|ppc64le, s390x, riscv64 (Debian or
#         kernel names). The host's own architecture is a no-op.
#   --check: only report; exit 1 if the handler is missing or disabled.
# Registering needs root (it changes kernel state for the whole host).
set -eu

die() { echo "binfmt.sh: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: binfmt.sh ARCH [--check]"
arch=$1
check=0
[ "${2:-}" = "--check" ] && check=1

case "$arch" in
arm64|aarch64)		q=aarch64 ;;
armhf|armel|arm)	q=arm ;;
ppc64el|ppc64le)	q=ppc64le ;;
s390x)			q=s390x ;;
riscv64)		q=riscv64 ;;
amd64|x86_64)		q=x86_64 ;;
i386|i686)		q=i386 ;;
*)			die "unknown architecture '$arch'" ;;
esac

host=$(uname -m)
if [ "$q" = "$host" ]; then
	exit 0
fi

dir=/proc/sys/fs/binfmt_misc
entry=$dir/qemu-$q

if [ ! -e "$dir/register" ]; then
	[ $check -eq 1 ] && die "binfmt_misc is not mounted at $dir"
	mount -t binfmt_misc binfmt_misc "$dir" ||
	    die "cannot mount binfmt_misc at $dir (need root)"
fi

if [ -e "$entry" ]; then
	if ! head -n 1 "$entry" | grep -qx enabled; then
		[ $check -eq 1 ] && die "qemu-$q handler is registered but disabled"
		echo 1 > "$entry" || die "cannot enable $entry"
	fi
	# Without the F flag the interpreter is looked up inside the container's
	# root filesystem, where it does not exist.
	if ! grep -q '^flags:.*F' "$entry"; then
		echo "binfmt.sh: warning: qemu-$q has no F flag; containers may" \
		    "fail to exec (remove it and rerun to re-register)" >&2
	fi
	exit 0
fi

[ $check -eq 1 ] && die "no binfmt_misc handler for $q (run docker/binfmt.sh $arch as root)"

conf=/usr/lib/binfmt.d/qemu-$q.conf
[ -r "$conf" ] || die "$conf missing: install qemu-user-static"
# Registration can race with another process doing the same: EEXIST then
# just means it is done.
if ! grep -v '^#' "$conf" | head -n 1 > "$dir/register" 2>/dev/null; then
	[ -e "$entry" ] || die "registering $conf failed"
fi
[ -e "$entry" ] || die "registering $conf did not create $entry"
echo "binfmt.sh: registered qemu-$q" >&2
