#!/bin/sh
# build_dep_wheels.sh: copies the build-dependency wheels a hermetic build
# needs (setuptools and wheel, what pip installs for a PEP 517 setuptools
# build) into OUT_DIR, from what this machine has without PyPI:
#  - setuptools: the one CPython bundles for ensurepip (65.5.0 in 3.11),
#    from any installed interpreter that still has its _bundled wheels
#    (pyenv builds do; Debian strips them). It works in every Python.
#    Otherwise Debian's python3-setuptools-whl (66.1.1), which works only
#    under Debian's own python3 (AttributeError: install_layout elsewhere),
#    so it serves the Debian builder images but not a musl image.
#  - wheel: Debian's python3-wheel-whl (0.38.4), which works everywhere.
# Prints the paths copied.
#
# Usage: tests/lib/build_dep_wheels.sh OUT_DIR
set -eu
[ $# -eq 1 ] || { echo "usage: build_dep_wheels.sh OUT_DIR" >&2; exit 2; }
out=$1
mkdir -p "$out"

st=
for cand in \
    "${HOME:-/root}"/.pyenv/versions/3.11*/lib/python3.11/ensurepip/_bundled/setuptools-*-py3-none-any.whl \
    "${HOME:-/root}"/.pyenv/versions/3.1*/lib/python3.1*/ensurepip/_bundled/setuptools-*-py3-none-any.whl \
    /usr/local/lib/python3*/ensurepip/_bundled/setuptools-*-py3-none-any.whl \
    /usr/lib/python3*/ensurepip/_bundled/setuptools-*-py3-none-any.whl; do
	if [ -f "$cand" ]; then
		st=$cand
		break
	fi
done
if [ -z "$st" ]; then
	for cand in /usr/share/python-wheels/setuptools-*-py3-none-any.whl; do
		[ -f "$cand" ] && st=$cand
	done
	[ -n "$st" ] && echo "build_dep_wheels.sh: no ensurepip setuptools;" \
	    "using Debian's $(basename "$st") (works in Debian images only)" >&2
fi
[ -n "$st" ] || { echo "build_dep_wheels.sh: no setuptools wheel found" \
    "(install python3-setuptools-whl)" >&2; exit 1; }

wh=
for cand in /usr/share/python-wheels/wheel-*-py3-none-any.whl \
    /usr/share/python-wheels/wheel-*-py2.py3-none-any.whl; do
	[ -f "$cand" ] && wh=$cand
done
[ -n "$wh" ] || { echo "build_dep_wheels.sh: no wheel wheel found" \
    "(install python3-wheel-whl)" >&2; exit 1; }

for f in "$st" "$wh"; do
	cp "$f" "$out/"
	echo "$out/$(basename "$f")"
done
