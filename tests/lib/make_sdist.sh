#!/bin/sh
# make_sdist.sh: builds the sdist of a fixture project (tests/fixtures/
# projects/NAME) offline with Debian's python3 -m build --no-isolation, from
# a copy so that the source tree never gets build debris (egg-info).
# Prints the path of the .tar.gz.
#
# Usage: tests/lib/make_sdist.sh PROJECT_DIR OUT_DIR
set -eu
[ $# -eq 2 ] || { echo "usage: make_sdist.sh PROJECT_DIR OUT_DIR" >&2; exit 2; }
proj=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
work=$(mktemp -d "$out/.sdist.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -R "$proj" "$work/src"
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
export SOURCE_DATE_EPOCH
/usr/bin/python3 -m build --sdist --no-isolation --outdir "$work/dist" \
    "$work/src" >"$work/build.log" 2>&1 || {
	cat "$work/build.log" >&2
	echo "make_sdist.sh: building the sdist of $proj failed" >&2
	exit 1
}
set -- "$work"/dist/*.tar.gz
[ $# -eq 1 ] && [ -f "$1" ] || { echo "make_sdist.sh: no sdist made" >&2; exit 1; }
mv "$1" "$out/"
echo "$out/$(basename "$1")"
