#!/bin/sh
# reconcile_bench.sh: the no-op reconcile of config/requirements.txt (the
# top 1000 PyPI projects) x 4 targets (CPython 3.11 and 3.12 manylinux
# x86_64, 3.11 manylinux aarch64, 3.11 musllinux x86_64) against a catalog
# that already has a covering wheel for every one of them, so reconcile
# must decide "nothing to build" 4000 times.
#
# Peer, measured in the same run over the same catalog file and the same
# requirements: the same decisions written in Python with packaging 23
# (Requirement, Version, SpecifierSet, markers, and packaging.tags for the
# tag sets each target accepts) and sqlite3 lookups of the catalog's
# wheels per project: what a Python scheduler in the style of piwheels or
# the Home Assistant builder would do. Both sides report how many items
# they found covered; the numbers must agree.
#
# The five unpinned requirements need an index: a local one
# (tests/lib/upstream_server.py) serves them once with max-age 3600; the
# measured passes must not ask it anything again (checked).
#
# Usage: bench/reconcile_bench.sh [BUILD_DIR]   (default: build)
# Prints times (best of 5 passes) and the ratio peer / ours.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
tool=$build/tests/tool_builder_sched
py=/usr/bin/python3
if [ ! -x "$tool" ]; then
	echo "reconcile_bench: $tool missing; build first:" >&2
	echo "  cmake -S . -B build && cmake --build build -j2" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ww-reconcile-bench.XXXXXX")
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
[ -n "${WW_BENCH_KEEP:-}" ] && trap - EXIT

# The index for the unpinned projects.
$py - "$top/config/requirements.txt" >"$work/spec.json" <<'EOF'
import json, re, sys
projects = {}
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if line and not re.search(r"[=<>!~;@\[]", line):
        projects[line] = {"max_age": 3600, "files": [
            {"filename": "%s-1.0.tar.gz" % re.sub(r"[-_.]+", "_", line.lower()),
             "content": "sdist"}]}
print(json.dumps({"projects": projects}))
EOF
$py "$top/tests/lib/upstream_server.py" "$work/spec.json" >"$work/port" &
server_pid=$!
i=0
while [ ! -s "$work/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
port=$(sed -n 's/^PORT //p' "$work/port")
[ -n "$port" ] || { echo "reconcile_bench: index did not start" >&2; exit 1; }

cat >"$work/wheelwright.conf" <<EOF
[global]
datadir = $work/data
[builderd]
requirements = $top/config/requirements.txt
[upstream local]
url = http://127.0.0.1:$port/simple/
[target cp311-x86_64]
python = 3.11.2
policy = manylinux
arch = x86_64
image = bench
[target cp312-x86_64]
python = 3.12.1
policy = manylinux
arch = x86_64
image = bench
[target cp311-aarch64]
python = 3.11.2
policy = manylinux
arch = aarch64
image = bench
[target cp311-musl]
python = 3.11.2
policy = musllinux
arch = x86_64
image = bench
EOF

"$tool" seed -c "$work/wheelwright.conf" --unpinned 1.0 >"$work/seed.json"
# Warm-up: fills the page cache for the unpinned five.
"$tool" reconcile -c "$work/wheelwright.conf" --quiet >"$work/warm.json"
before=$(curl -s "http://127.0.0.1:$port/_stats")
"$tool" reconcile -c "$work/wheelwright.conf" --quiet --repeat 5 \
    >"$work/ours.json"
after=$(curl -s "http://127.0.0.1:$port/_stats")
if [ "$before" != "$after" ]; then
	echo "reconcile_bench: the no-op passes asked the index again" >&2
	exit 1
fi

$py - "$work/data/catalog.sqlite" "$top/config/requirements.txt" \
    >"$work/peer.json" <<'EOF'
# The peer: reconcile's no-op decisions with packaging + sqlite3.
import json, sqlite3, sys, time
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags, parse_tag
from packaging.utils import canonicalize_name
from packaging.version import Version

TARGETS = [("3.11.2", "x86_64", "glibc", (2, 36)),
           ("3.12.1", "x86_64", "glibc", (2, 36)),
           ("3.11.2", "aarch64", "glibc", (2, 36)),
           ("3.11.2", "x86_64", "musl", (1, 2))]

def platforms(arch, libc, ver):
    out = []
    if libc == "glibc":
        low = 5 if arch in ("x86_64", "i686") else 17
        for minor in range(ver[1], low - 1, -1):
            out.append("manylinux_2_%d_%s" % (minor, arch))
            legacy = {(2, 17): "manylinux2014", (2, 12): "manylinux2010",
                      (2, 5): "manylinux1"}.get((2, minor))
            if legacy and (legacy == "manylinux2014" or arch in ("x86_64", "i686")):
                out.append("%s_%s" % (legacy, arch))
    else:
        for minor in range(ver[1], -1, -1):
            out.append("musllinux_1_%d_%s" % (minor, arch))
    return out

def env_of(pyver, arch):
    return {"python_version": ".".join(pyver.split(".")[:2]),
            "python_full_version": pyver, "platform_machine": arch,
            "sys_platform": "linux", "platform_system": "Linux",
            "platform_python_implementation": "CPython",
            "implementation_name": "cpython", "os_name": "posix",
            "platform_release": "", "platform_version": "",
            "implementation_version": pyver}

t0 = time.perf_counter()
reqs = []
for line in open(sys.argv[2]):
    line = line.split(" #")[0].split("#")[0].strip() if not line.startswith("#") else ""
    if line:
        reqs.append(Requirement(line))
load = time.perf_counter() - t0

targets = []
for pyver, arch, libc, ver in TARGETS:
    major, minor = map(int, pyver.split(".")[:2])
    plats = platforms(arch, libc, ver)
    tags = list(cpython_tags((major, minor), platforms=plats)) + \
        list(compatible_tags((major, minor), "cp%d%d" % (major, minor), plats))
    targets.append((Version(pyver), env_of(pyver, arch), set(tags)))

db = sqlite3.connect(sys.argv[1])
best, covered = None, 0
for rnd in range(5):
    t0 = time.perf_counter()
    covered = 0
    for req in reqs:
        name = canonicalize_name(req.name)
        rows = db.execute(
            "SELECT f.version, f.python_tag, f.abi_tag, f.platform_tag,"
            " f.requires_python FROM files f JOIN projects p"
            " ON p.id = f.project_id WHERE p.name = ? AND f.kind = 'w'",
            (name,)).fetchall()
        wheels = [(Version(v), frozenset(parse_tag("%s-%s-%s" % (a, b, c))),
                   SpecifierSet(rp) if rp else None)
                  for v, a, b, c, rp in rows]
        pins = [s.version for s in req.specifier if s.operator == "=="]
        for pyv, env, tags in targets:
            if req.marker is not None and not req.marker.evaluate(env):
                continue
            want = Version(pins[0]) if pins else max(
                (w[0] for w in wheels), default=None)
            if want is None:
                continue
            for v, wt, rp in wheels:
                if v == want and (rp is None or pyv in rp) and wt & tags:
                    covered += 1
                    break
    dt = time.perf_counter() - t0
    best = dt if best is None or dt < best else best
print(json.dumps({"best_us": int(best * 1e6), "load_us": int(load * 1e6),
                  "covered": covered}))
EOF

$py - "$work/ours.json" "$work/peer.json" "$work/seed.json" <<'EOF'
import json, sys
ours = json.loads(open(sys.argv[1]).read().splitlines()[-1])["stats"]
peer = json.load(open(sys.argv[2]))
seeded = json.load(open(sys.argv[3]))["seeded"]
covered = ours["by_action"]["satisfied"]
print("no-op reconcile: %d requirements (%d seeded) x 4 targets = %d decisions"
      % (ours["projects"], seeded, ours["items"]))
print("  ours (C, builderd reconcile):  %8.1f ms per pass, %d covered"
      " (+ %.1f ms to load the requirements)"
      % (ours["best_us"] / 1000, covered, ours["load_us"] / 1000))
print("  peer (Python packaging+sqlite3): %6.1f ms per pass, %d covered"
      " (+ %.1f ms to load the requirements)"
      % (peer["best_us"] / 1000, peer["covered"], peer["load_us"] / 1000))
print("  ratio peer/ours: %.1fx" % (peer["best_us"] / max(ours["best_us"], 1)))
print("  upstream pages asked during the measured passes: 0")
if covered != peer["covered"] or ours["items"] != covered:
    print("reconcile_bench: the two sides disagree, or not everything "
          "was covered", file=sys.stderr)
    sys.exit(1)
EOF
