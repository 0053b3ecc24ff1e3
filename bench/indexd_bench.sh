#!/bin/sh
# indexd_bench.sh: indexd vs nginx serving `indexctl export-static` of the
# same catalog (wrk on loopback, same run; ratios to nginx). See
# bench/indexd_bench.py for what is measured and the knobs (BENCH_*).
#   bench/indexd_bench.sh            # builds ./build (RelWithDebInfo) first
#   WW_BUILD_DIR=/path/to/build bench/indexd_bench.sh
# nginx's configuration, with PEP 691 negotiation: bench/nginx-simple.conf.
set -eu
cd "$(dirname "$0")/.."
for tool in wrk nginx cmake; do
	command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || {
		echo "indexd_bench: $tool is missing (run .ci/install-deps)" >&2
		exit 1
	}
done
: "${WW_BUILD_DIR:=$PWD/build}"
export WW_BUILD_DIR
if [ ! -x "$WW_BUILD_DIR/indexd/indexd" ] || [ -z "${BENCH_NO_BUILD:-}" ]; then
	cmake -S . -B "$WW_BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$WW_BUILD_DIR" -j2 --target indexd indexctl >/dev/null
fi
exec /usr/bin/python3 bench/indexd_bench.py "$@"
