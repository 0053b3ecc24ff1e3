#!/bin/sh
# indexd_render_bench.sh: CPU time of rendering the 2000-version project
# page after a change, many times (issue 3: under 5 ms), with a same-run
# ratio to Python doing the same. See bench/indexd_render_bench.py.
#   bench/indexd_render_bench.sh     # builds ./build (RelWithDebInfo) first
#   WW_BUILD_DIR=/path/to/build BENCH_ROUNDS=100 bench/indexd_render_bench.sh
set -eu
cd "$(dirname "$0")/.."
: "${WW_BUILD_DIR:=$PWD/build}"
export WW_BUILD_DIR
if [ ! -x "$WW_BUILD_DIR/indexd/indexd" ] || [ -z "${BENCH_NO_BUILD:-}" ]; then
	cmake -S . -B "$WW_BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$WW_BUILD_DIR" -j2 --target indexd indexctl >/dev/null
fi
exec /usr/bin/python3 bench/indexd_render_bench.py "$@"
