#!/bin/sh
# verify_bench.sh: verify+hash throughput on a large wheel (>= 100 MB, made
# by bench/make_big_wheel.py and cached outside the repo), against peers
# measured in the same run (issue 2):
#   - python3 -m wheel unpack   (extracts every member and checks its RECORD
#                                hash; its output goes to a fresh temp dir on
#                                the wheel's filesystem, and the writes are
#                                timed, since extracting is what it does)
#   - sha256sum + unzip -t      (whole-file hash, then a CRC test of every
#                                member; the two run one after the other)
# Targets: >= 5x faster than the Python tool, within 1.5x of sha256sum +
# unzip -t, both in wall-clock time.
#
# How it measures: $WW_BENCH_RUNS rounds (default 7) on a hot page cache;
# each round runs every contender once, in a rotated order, so load
# changes on a shared machine hit all of them alike (hyperfine runs each
# command's repetitions back to back, which is why it is not used here).
# Reported: the median wall time and the median CPU time (user+sys of the
# children) of each contender, and the ratios of those medians; the spread
# of the per-round wall ratios shows how noisy the run was. Our verifier
# runs with its default threads; a single-thread run is shown too.
#
#   bench/verify_bench.sh [BUILD_DIR]    (default: build)
#
# Results (111 MB wheel, 7931 members, 254 MB unpacked; Debian 12, 2 cores
# shared with other engineers' builds; 4 runs of 5-7 rounds at load
# averages between 4.7 and 13, 25 Nov, after the libdeflate data pass):
#                      ours          wheel unpack     sha256sum+unzip -t
#   wall (median)      0.74-2.46 s   12.2-20.5 s      3.6-5.6 s
#   cpu (user+sys)     0.60-0.61 s   5.3-6.0 s        1.66-1.69 s
#   wall ratios        wheel unpack / ours 7.8-17.2x (target >= 5x: met)
#                      ours / (sha256sum+unzip -t) 0.21-0.44x (target
#                      <= 1.5x: met)
# Honest caveats. (1) wheel unpack's time is mostly the kernel writing its
# 7931 files (sys 3.9-4.3 s of its 5.3-6.0 s under this load; 0.6 s sys in
# a calmer moment, when it took 4.2 s wall, 1.6 s CPU); in user time alone
# it is 2.6-3.1x slower than us, and 5x there is out of reach: our floor is
# SHA-256 of 365 MB (the file plus every member, ~0.2 s with SHA-NI) plus
# inflating 254 MB (libdeflate, ~0.28 s). (2) The two data threads help
# only when a core is free: 0.74 s against 1.72 s for one thread at load
# 5-7, no gain at load 10-13. Before this change (zlib through
# libarchive, 3 rounds, load 5-7): ours 1.74 s wall, 0.97 s cpu; wheel
# unpack 2.4x slower in wall time, 1.7x in cpu.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${WW_BUILD_DIR:-$top/build}}
tool=$build/tests/tool_verify
cache=${WW_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wheelwright-bench}
runs=${WW_BENCH_RUNS:-7}
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
# wheel unpack writes here: same filesystem as the wheel, removed at exit.
scratch=$(mktemp -d "$dir/unpack.XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM

# Not exec: the trap must run to remove the scratch directory.
/usr/bin/python3 - "$tool" "$whl" "$runs" "$scratch" <<'EOF'
import json, os, shutil, statistics, subprocess, sys, time

tool, whl, runs, scratch = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
size = os.path.getsize(whl)
unp = os.path.join(scratch, "unpack")


def run4(cmd):
    """Wall seconds, CPU (user, sys) seconds from wait4, and stdout of one
    command; exits if it fails."""
    t0 = time.perf_counter()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(w, 1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(r)
        os.close(w)
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 1 << 16)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("%s failed (status %d)" % (" ".join(cmd), status))
    return wall, (ru.ru_utime, ru.ru_stime), b"".join(chunks)


def ours(threads):
    def f():
        cmd = [tool] + (["-l", "threads=%d" % threads] if threads else []) \
            + [whl]
        wall, cpu, out = run4(cmd)
        res = json.loads(out)
        if not res.get("ok"):
            sys.exit("verify failed: %s" % res)
        f.res = res
        return wall, sum(cpu), cpu[0], cpu[1]
    return f


def unpack():
    shutil.rmtree(unp, ignore_errors=True)
    os.sync()  # earlier rounds' writeback must not land in this one
    wall, cpu, _ = run4(["/usr/bin/python3", "-m", "wheel", "unpack",
                         "-d", unp, whl])
    shutil.rmtree(unp, ignore_errors=True)
    return wall, sum(cpu), cpu[0], cpu[1]


def peer():
    w1, c1, _ = run4(["sha256sum", whl])
    w2, c2, _ = run4(["unzip", "-tq", whl])
    return w1 + w2, sum(c1) + sum(c2), c1[0] + c2[0], c1[1] + c2[1]


contenders = [
    ("wheelwright verify", ours(0)),
    ("python3 -m wheel unpack", unpack),
    ("sha256sum + unzip -t", peer),
    ("wheelwright verify, 1 thread", ours(1)),
]


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# Warm the page cache so every tool reads from memory.
with open(whl, "rb") as f:
    while f.read(1 << 24):
        pass
print("wheel: %s (%.1f MB)" % (whl, size / 1e6))
print("cpus: %d   load average before: %s" % (os.cpu_count(), load()))
times = {name: [] for name, _ in contenders}
for rnd in range(runs):
    k = rnd % len(contenders)
    for name, f in contenders[k:] + contenders[:k]:
        times[name].append(f())
res = contenders[0][1].res
print("load average after: %s   rounds: %d" % (load(), runs))
print("  %d members, %.1f MB unpacked, sha256 %s" % (
    res["members"], res["uncompressed"] / 1e6, res["sha256"][:16]))
print()
med = {}
for name, _ in contenders:
    w, c, u, k = (statistics.median(t[i] for t in times[name])
                  for i in range(4))
    med[name] = (w, c)
    print("%-30s wall %6.3f s (min %6.3f)  cpu %6.3f s (user %5.3f, sys "
          "%5.3f)  %6.1f MB/s" % (name, w, min(t[0] for t in times[name]),
                                  c, u, k, size / w / 1e6))
print()
o, py, pe = (med[n] for n, _ in contenders[:3])
spread_py = sorted(a[0] / b[0] for a, b in zip(times[contenders[1][0]],
                                               times[contenders[0][0]]))
spread_pe = sorted(b[0] / a[0] for a, b in zip(times[contenders[2][0]],
                                               times[contenders[0][0]]))
for what, i in (("wall", 0), ("cpu", 1)):
    r_py = py[i] / o[i]
    r_pe = o[i] / pe[i]
    tail = ""
    if i == 0:
        tail = "   [per-round: %.2f-%.2fx, %.2f-%.2fx]" % (
            spread_py[0], spread_py[-1], spread_pe[0], spread_pe[-1])
    print("%-4s  wheel unpack / ours = %5.2fx (target >= 5x: %s)   "
          "ours / (sha256sum+unzip -t) = %4.2fx (target <= 1.5x: %s)%s" % (
              what, r_py, "met" if r_py >= 5 else "MISSED",
              r_pe, "met" if r_pe <= 1.5 else "MISSED", tail))
usr = {name: statistics.median(t[2] for t in times[name])
       for name, _ in contenders}
print("user  wheel unpack / ours = %5.2fx (its work without the kernel's file "
      "writes)" % (usr[contenders[1][0]] / usr[contenders[0][0]]))
print("(the targets are wall-clock; cpu and user are shown for the record)")
EOF
