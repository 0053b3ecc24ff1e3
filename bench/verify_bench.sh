#!/bin/sh
# verify_bench.sh: verify+hash throughput on a large wheel (>= 100 MB, made
# by bench/make_big_wheel.py and cached outside the repo), against peers
# measured in the same run:
#   - python3 -m wheel unpack   (extracts and checks every RECORD hash)
#   - sha256sum + unzip -t      (whole-file hash + CRC test of every member)
# Each command runs $WW_BENCH_RUNS times (default 5) on a hot page cache;
# the best wall time and the best CPU time (user+sys) count, since these
# machines are shared and noisy. Prints the ratios and the targets:
# >= 5x faster than the Python tool, within 1.5x of sha256sum + unzip -t.
#
#   bench/verify_bench.sh [BUILD_DIR]    (default: build)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${WW_BUILD_DIR:-$top/build}}
tool=$build/tests/tool_verify
cache=${WW_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wheelwright-bench}
runs=${WW_BENCH_RUNS:-5}
mb=${WW_BENCH_MB:-110}

if [ ! -x "$tool" ]; then
	echo "verify_bench: $tool missing; build first (cmake --build $build)" >&2
	exit 1
fi
for t in sha256sum unzip /usr/bin/python3; do
	command -v "$t" >/dev/null || { echo "verify_bench: need $t" >&2; exit 1; }
done
/usr/bin/python3 -c 'import wheel' 2>/dev/null ||
	{ echo "verify_bench: need python3-wheel" >&2; exit 1; }

# Cache key: the generator's own hash, so a changed recipe makes a new file.
key=$(sha256sum "$top/bench/make_big_wheel.py" | cut -c1-16)
dir=$cache/$key-$mb
whl=$(/usr/bin/python3 "$top/bench/make_big_wheel.py" "$dir" "$mb")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT INT TERM

exec /usr/bin/python3 - "$tool" "$whl" "$runs" "$scratch" <<'EOF'
import json, os, resource, shutil, subprocess, sys, time

tool, whl, runs, scratch = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
size = os.path.getsize(whl)


def measure(label, cmds, cleanup=None):
    best_wall = best_cpu = None
    for _ in range(runs):
        wall = cpu = 0.0
        for cmd in cmds:
            t0 = time.perf_counter()
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            p = subprocess.run(cmd, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall += time.perf_counter() - t0
            cpu += (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
            if p.returncode != 0:
                sys.exit("%s failed: %s" % (" ".join(cmd),
                                            p.stderr.decode()[-500:]))
            last = p.stdout
        if cleanup:
            cleanup()
        best_wall = wall if best_wall is None else min(best_wall, wall)
        best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
    print("%-26s wall %6.3f s  cpu %6.3f s  %7.1f MB/s" % (
        label, best_wall, best_cpu, size / best_wall / 1e6))
    return best_wall, best_cpu, last


# Warm the page cache so every tool reads from memory.
with open(whl, "rb") as f:
    while f.read(1 << 24):
        pass
unp = os.path.join(scratch, "unpack")
print("wheel: %s (%.1f MB)" % (whl, size / 1e6))
ours = measure("wheelwright verify", [[tool, whl]])
res = json.loads(ours[2])
if not res.get("ok"):
    sys.exit("verify failed: %s" % res)
print("  %d members, %.1f MB unpacked, sha256 %s" % (
    res["members"], res["uncompressed"] / 1e6, res["sha256"][:16]))
py = measure("python3 -m wheel unpack",
             [["/usr/bin/python3", "-m", "wheel", "unpack", "-d", unp, whl]],
             lambda: shutil.rmtree(unp, ignore_errors=True))
peer = measure("sha256sum + unzip -t",
               [["sha256sum", whl], ["unzip", "-tq", whl]])
print()
for what, i in (("wall", 0), ("cpu", 1)):
    r_py = py[i] / ours[i]
    r_peer = ours[i] / peer[i]
    print("%-4s  wheel unpack / ours = %5.2fx (target >= 5x: %s)   "
          "ours / (sha256sum+unzip -t) = %4.2fx (target <= 1.5x: %s)" % (
              what, r_py, "met" if r_py >= 5 else "MISSED",
              r_peer, "met" if r_peer <= 1.5 else "MISSED"))
EOF
