#!/usr/bin/python3
"""indexd_render_bench.py: the cost of rendering the 2000-version project
page after a change (issue 3's target: under 5 ms), measured many times.

indexd_bench.py sees one cold render per form in a whole run; here the
page is made cold ROUNDS times: each round yanks or unyanks a release of
bench-many-versions (bumping the project's generation), then asks for the
HTML and the JSON page; indexd -v logs each render's CPU time (thread CPU
clock: catalog read, render, page store). Reported: median and p90 per
form, and the ratio to a peer measured in the same run on the same rows:
Python's sqlite3 reading the project's files and json.dumps writing a
PEP 691 page (what a Python index server does per render).

Corpus: the one indexd_bench.py builds and caches. Only its catalog is
copied to a temp data directory (files are not needed for pages).

    bench/indexd_render_bench.sh        # builds ./build first
Environment: WW_BUILD_DIR, BENCH_ROUNDS (default 40), BENCH_CACHE,
BENCH_LOG=FILE (keep indexd's log there), and BENCH_WRAP, a command to run indexd under, for profiling the renders:
  BENCH_WRAP="valgrind --tool=callgrind --toggle-collect=render_project_pages
  --callgrind-out-file=/tmp/render.cg" BENCH_ROUNDS=6 (then callgrind_annotate)
"""

import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import indexd_bench as B  # noqa: E402
H = B.H

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "40"))
PROJECT = "bench-many-versions"
TARGET_MS = 5.0


def peer_render_ms(db_path):
    """CPU ms for Python to read the rows and dump a PEP 691 page."""
    t0 = time.process_time()
    db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
    rows = db.execute(
        "SELECT f.filename, f.sha256, f.size, f.requires_python,"
        " f.has_metadata, f.metadata_sha256, f.upload_time_us, f.yanked,"
        " f.yanked_reason, f.version FROM files f JOIN projects p"
        " ON p.id = f.project_id WHERE p.name = ? ORDER BY f.filename",
        (PROJECT,)).fetchall()
    files, versions = [], set()
    for (fn, sha, size, rp, meta, msha, up, yanked, reason, ver) in rows:
        d = {"filename": fn, "url": "../../files/" + fn,
             "hashes": {"sha256": sha}, "size": size,
             "upload-time": time.strftime("%Y-%m-%dT%H:%M:%S",
                                          time.gmtime(up // 1000000)) +
             ".%06dZ" % (up % 1000000)}
        if rp:
            d["requires-python"] = rp
        if meta:
            d["core-metadata"] = {"sha256": msha}
        if yanked:
            d["yanked"] = reason or True
        files.append(d)
        versions.add(ver)
    body = json.dumps({"meta": {"api-version": "1.1"}, "name": PROJECT,
                       "versions": sorted(versions), "files": files})
    db.close()
    return (time.process_time() - t0) * 1e3, len(body), len(rows)


def get(url, accept=None):
    req = urllib.request.Request(url)
    if accept:
        req.add_header("Accept", accept)
    with urllib.request.urlopen(req) as r:
        return r.read()


def main():
    cdir = B.corpus_dir()
    work = tempfile.mkdtemp(prefix="indexd-render-bench.")
    proc = None
    try:
        data = os.path.join(work, "data")
        os.makedirs(os.path.join(data, "files"))
        shutil.copy(os.path.join(cdir, "data", "catalog.sqlite"), data)
        conf = os.path.join(work, "bench.conf")
        with open(conf, "w") as f:
            f.write("[global]\ndatadir = %s\n\n[indexd]\nlisten = "
                    "127.0.0.1:0\nworkers = 1\naccess_log = %s\n" % (
                        data, os.path.join(work, "access.log")))
        errpath = os.path.join(work, "indexd.stderr")
        cmd = [H.INDEXD, "-v", "-c", conf]
        if os.environ.get("BENCH_WRAP"):     # a profiler, e.g. valgrind
            cmd = os.environ["BENCH_WRAP"].split() + cmd
        proc = subprocess.Popen(cmd, stderr=open(errpath, "w"))
        port = None
        for _ in range(400):
            text = open(errpath).read()
            m = re.search(r"listening on [^ ]+:(\d+)", text)
            if m and "ready" in text:
                port = int(m.group(1))
                break
            time.sleep(0.05)
        if port is None:
            raise SystemExit("indexd did not start:\n" + open(errpath).read())
        url = "http://127.0.0.1:%d/simple/%s/" % (port, PROJECT)
        get(url)
        get(url, B.JSON)                # first renders: statements prepared
        peer = []
        for i in range(ROUNDS):
            verb = "yank" if i % 2 == 0 else "unyank"
            args = [H.INDEXCTL, "-c", conf, verb, PROJECT + "==0.0.0"]
            if verb == "yank":
                args += ["--reason", "bench"]
            subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
            # indexd notices the commit (inotify) before the next request
            for accept in (None, B.JSON):
                deadline = time.time() + 5
                while True:
                    body = get(url, accept)
                    want = b"bench" if verb == "yank" else None
                    if want is None or want in body:
                        break
                    if time.time() > deadline:
                        raise SystemExit("indexd did not see the yank")
                    time.sleep(0.01)
            peer.append(peer_render_ms(os.path.join(data,
                                                    "catalog.sqlite"))[0])
        time.sleep(0.3)
        text = open(errpath).read()
        if os.environ.get("BENCH_LOG"):
            shutil.copy(errpath, os.environ["BENCH_LOG"])
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        shutil.rmtree(work, ignore_errors=True)
    ms = {"html": [], "json": []}
    for fmt, n, v in re.findall(r"rendered %s \((\w+), (\d+) files, \d+ "
                                r"bytes\) in ([\d.]+) ms CPU" % PROJECT,
                                text):
        ms[fmt].append(float(v))
    # the first render of each form also prepared statements: not cold
    # in the sense of the target, drop it
    ms = {k: v[1:] for k, v in ms.items()}
    pmed = statistics.median(peer)
    print("2000-version page, render after a change (CPU ms, %d rounds)"
          % ROUNDS)
    print("%-6s %8s %8s %8s %10s %8s" % ("form", "median", "p90", "min",
                                         "vs peer", "target"))
    ok = True
    for fmt in ("html", "json"):
        v = sorted(ms[fmt])
        if len(v) < ROUNDS // 2:
            raise SystemExit("only %d %s renders logged" % (len(v), fmt))
        med = statistics.median(v)
        p90 = v[int(len(v) * 0.9)]
        good = med < TARGET_MS
        ok &= good
        print("%-6s %8.2f %8.2f %8.2f %9.2fx %6.1f ms %s" % (
            fmt, med, p90, v[0], med / pmed, TARGET_MS,
            "ok" if good else "ABOVE"))
    print("peer (Python sqlite3 + json.dumps, same rows): median %.2f ms"
          % pmed)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
