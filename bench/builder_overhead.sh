#!/bin/sh
# builder_overhead.sh: builderd's per-job overhead, against building the
# same sdist by hand with `podman run`, measured in the same run.
#
# The build: the wwdemo-cext fixture (a small C extension), pip wheel with
# no network and the build dependencies from a local directory, in the
# Debian builder image (docker/build-image.sh), 1 CPU, 1 GiB.
#  - By hand: `podman run` of that pip command, N times. Wall time of the
#    podman command; container time from podman inspect (StartedAt to
#    FinishedAt).
#  - builderd: N jobs of the same release (one build, then N-1 `indexctl
#    rebuild`s), one engine with one job slot, so they run one at a time.
#    Wall time from the job's claim to its end (the job table); container
#    time as the engine reports it (the job log's timing line). Its
#    overhead is everything around the container: fetching and verifying
#    the sdist, the engine API calls, streaming the log, verifying,
#    policy-checking and retagging the wheel, and the ingest transaction.
# Overhead = wall - container time. Prints medians and the ratios
# builderd / by hand.
#
# Usage: bench/builder_overhead.sh [BUILD_DIR]   (default: build)
# Environment: WW_BENCH_N (default 5), WW_BENCH_KEEP=1 keeps the work dir.
# Needs root and podman (like the e2e tests).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
n=${WW_BENCH_N:-5}
py=/usr/bin/python3
for b in builder/builderd indexctl/indexctl; do
	if [ ! -x "$build/$b" ]; then
		echo "builder_overhead: $build/$b missing; build first:" >&2
		echo "  cmake -S . -B build && cmake --build build -j2" >&2
		exit 1
	fi
done
[ "$(id -u)" -eq 0 ] || { echo "builder_overhead: needs root" >&2; exit 1; }
export CONTAINERS_CONF="$top/docker/containers.conf"

# Short: the engine's unix socket lives in here.
work=$(mktemp -d /tmp/ww-overhead.XXXXXX)
cleanup() {
	"$top/tests/lib/podman_env.sh" stop "$work/engine" >/dev/null 2>&1 || true
	podman rm -f $(podman ps -aq --filter label=wheelwright.bench="$work") \
	    >/dev/null 2>&1 || true
	[ -n "${WW_BENCH_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "builder_overhead: preparing (image, engine, sdist), N=$n" >&2
image=$("$top/docker/build-image.sh" amd64)
url=$("$top/tests/lib/podman_env.sh" start "$work/engine" | head -n 1)
mkdir -p "$work/up" "$work/src" "$work/index" "$work/data"
sdist=$("$top/tests/lib/make_sdist.sh" "$top/tests/fixtures/projects/wwdemo-cext" "$work/up")
cp "$sdist" "$work/src/"
"$top/tests/lib/build_dep_wheels.sh" "$work/index" >/dev/null
sname=$(basename "$sdist")

# ---- by hand ----
: > "$work/hand.txt"
i=1
while [ $i -le "$n" ]; do
	out=$work/hand-out.$i
	mkdir -p "$out"
	chown 10001:10001 "$out"
	t0=$($py -c 'import time; print(time.time())')
	podman run --name "wwbench-$i" --label wheelwright.bench="$work" \
	    --network none --user 10001:10001 --memory 1g --cpus 1 \
	    --pids-limit 512 -v "$work/src:/ww/src:ro" \
	    -v "$work/index:/ww/index:ro" -v "$out:/ww/out" "$image" \
	    python3 -m pip wheel --no-deps --no-cache-dir --progress-bar off \
	    --no-index --find-links /ww/index --only-binary :all: \
	    --wheel-dir /ww/out "/ww/src/$sname" > "$work/hand.$i.log" 2>&1
	t1=$($py -c 'import time; print(time.time())')
	times=$(podman inspect --format '{{.State.StartedAt}}|{{.State.FinishedAt}}' "wwbench-$i")
	podman rm "wwbench-$i" >/dev/null
	ls "$out"/*.whl >/dev/null || { cat "$work/hand.$i.log" >&2; exit 1; }
	echo "$t0 $t1 $times" >> "$work/hand.txt"
	i=$((i + 1))
done

# ---- builderd ----
conf=$work/wheelwright.conf
echo "wwdemo-cext" > "$work/requirements.txt"
cat > "$conf" <<EOF
[global]
datadir = $work/data
[builderd]
requirements = requirements.txt
max_attempts = 1
[upstream up]
url = dir:$work/up
[engine e1]
url = $url
jobs = 1
[target cp311-x86_64]
python = 3.11.2
policy = manylinux
arch = x86_64
image = $image
memory = 1G
cpus = 1
pids = 512
timeout = 600
EOF
"$build/indexctl/indexctl" -c "$conf" import "$work"/index/*.whl >/dev/null
"$build/builder/builderd" -1 -c "$conf" 2>>"$work/builderd.log"
i=2
while [ $i -le "$n" ]; do
	"$build/indexctl/indexctl" -c "$conf" rebuild wwdemo-cext >/dev/null
	i=$((i + 1))
done
"$build/builder/builderd" -1 -N -c "$conf" 2>>"$work/builderd.log"

$py - "$work" "$n" <<'EOF'
import datetime, glob, os, re, sqlite3, statistics, sys

work, n = sys.argv[1], int(sys.argv[2])

def go_time(s):
    # "2026-11-25 23:01:02.123456789 +0000 UTC"
    m = re.match(r"(\d+-\d+-\d+) (\d+:\d+:\d+)(\.\d+)? ([+-]\d{4})", s)
    if not m:
        raise SystemExit("cannot parse podman time %r" % s)
    frac = (m.group(3) or ".0")[:7]
    dt = datetime.datetime.strptime(m.group(1) + " " + m.group(2) + frac +
                                    " " + m.group(4), "%Y-%m-%d %H:%M:%S.%f %z")
    return dt.timestamp()

hand = []
for line in open(os.path.join(work, "hand.txt")):
    t0, t1, rest = line.split(" ", 2)
    started, finished = rest.strip().split("|")
    hand.append((float(t1) - float(t0), go_time(finished) - go_time(started)))

db = sqlite3.connect(os.path.join(work, "data", "catalog.sqlite"))
rows = db.execute("SELECT id, state, started_us, finished_us, log_path "
                  "FROM jobs ORDER BY id").fetchall()
ours = []
for jid, state, s, f, logp in rows:
    if state != "succeeded":
        raise SystemExit("job %d ended %s; see %s" % (jid, state, logp))
    text = open(logp).read()
    m = re.search(r"in the container ([\d.]+) s", text)
    if not m:
        raise SystemExit("job %d: no timing line in %s" % (jid, logp))
    ours.append(((f - s) / 1e6, float(m.group(1))))
if len(ours) != n:
    raise SystemExit("expected %d jobs, got %d" % (n, len(ours)))

def summary(name, xs):
    wall = statistics.median(x[0] for x in xs)
    cont = statistics.median(x[1] for x in xs)
    over = statistics.median(x[0] - x[1] for x in xs)
    print("%-24s wall %6.2f s   in the container %6.2f s   overhead %5.2f s"
          % (name, wall, cont, over))
    return wall, cont, over

print("builder_overhead: %d builds of wwdemo-cext each (medians)" % n)
hw, hc, ho = summary("podman run by hand", hand)
bw, bc, bo = summary("builderd job", ours)
print("ratio builderd / by hand: overhead %.2f, wall %.2f, container %.2f"
      % (bo / ho if ho > 0 else float("inf"), bw / hw, bc / hc))
print("builderd's extra per job: %.2f s (fetch+verify sdist, engine API, "
      "log, verify+policy+retag wheel, ingest)" % (bo - ho))
EOF
