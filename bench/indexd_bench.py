#!/usr/bin/python3
"""indexd_bench.py: indexd against nginx serving `indexctl export-static`
of the same catalog, measured with wrk on loopback in the same run.

Corpus (cached outside the repo, keyed by a hash of its recipe):
bench/make_index_corpus.py -> 1000 projects x 10 wheels, a project with
2000 releases, a 20 KB and a 5 MB wheel, imported with `indexctl import`.

Requests: /simple/, a project page as HTML and as JSON, the 2000-version
page (both forms), a 20 KB file and a 5 MB file; at 64 and 256
connections. Every cell is the median of ROUNDS runs that alternate
between the two servers, because these machines are noisy. Reported:
req/s, p99, the ratio to nginx, indexd's peak RSS, and the 2000-version
page's latency (cold render and warm), checked against the targets:
project pages >= 1.0x nginx, files >= 0.9x nginx, RSS <= 64 MB, the
2000-version page < 5 ms.

Environment: WW_BUILD_DIR (default ./build), BENCH_DURATION (s, 8),
BENCH_ROUNDS (3), BENCH_WORKERS (2, for both servers), BENCH_CONNS
("64 256"), BENCH_THREADS (wrk threads, 2), BENCH_CACHE (corpus cache).
"""

import hashlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))
os.environ.setdefault("WW_SOURCE_DIR", SRC)
os.environ.setdefault("WW_BUILD_DIR", os.path.join(SRC, "build"))
import indexd_harness as H  # noqa: E402

DURATION = int(os.environ.get("BENCH_DURATION", "8"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
CONNS = [int(c) for c in os.environ.get("BENCH_CONNS", "64 256").split()]
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
JSON = "application/vnd.pypi.simple.v1+json"
PIP_ACCEPT = JSON + ", application/vnd.pypi.simple.v1+html; q=0.1, " \
    "text/html; q=0.01"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def corpus_dir():
    h = hashlib.sha256()
    for f in (os.path.join(HERE, "make_index_corpus.py"),
              os.path.join(HERE, "data", "top1000.tsv"),
              os.path.join(SRC, "tests", "lib", "indexd_harness.py")):
        with open(f, "rb") as fh:
            h.update(fh.read())
    base = os.environ.get("BENCH_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
        "wheelwright")
    d = os.path.join(base, "bench-index-" + h.hexdigest()[:16])
    if os.path.exists(os.path.join(d, "done")):
        log("corpus: cached in %s" % d)
        return d
    log("corpus: building %s (a few minutes, once)" % d)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "data"))
    wheels = os.path.join(d, "wheels")
    subprocess.run([sys.executable, os.path.join(HERE,
                                                 "make_index_corpus.py"),
                    wheels], check=True)
    conf = os.path.join(d, "import.conf")
    with open(conf, "w") as f:
        f.write("[global]\ndatadir = %s\n" % os.path.join(d, "data"))
    subprocess.run([H.INDEXCTL, "-c", conf, "import", wheels], check=True,
                   stdout=subprocess.DEVNULL)
    shutil.rmtree(wheels)
    open(os.path.join(d, "done"), "w").close()
    return d


def unit_secs(v, u):
    return float(v) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[u]


def wrk(url, conns, accept=None, duration=DURATION, threads=THREADS):
    cmd = ["wrk", "-t%d" % min(threads, conns), "-c%d" % conns,
           "-d%ds" % duration, "--latency", "--timeout", "10s"]
    if accept:
        cmd += ["-H", "Accept: " + accept]
    out = subprocess.run(cmd + [url], capture_output=True, text=True,
                         timeout=duration + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s|m)\b", out)
    p99 = unit_secs(m.group(1), m.group(2)) if m else float("nan")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit("wrk got errors from %s:\n%s" % (url, out))
    return rps, p99


class RssSampler(threading.Thread):
    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids = pids
        self.peak = 0
        self.stop_ev = threading.Event()

    def rss(self):
        total = 0
        for pid in self.pids():
            try:
                with open("/proc/%d/status" % pid) as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1]) * 1024
            except OSError:
                pass
        return total

    def run(self):
        while not self.stop_ev.wait(0.25):
            self.peak = max(self.peak, self.rss())


def nginx_pids(master):
    pids = [master]
    try:
        out = subprocess.run(["pgrep", "-P", str(master)],
                             capture_output=True, text=True).stdout
        pids += [int(p) for p in out.split()]
    except OSError:
        pass
    return pids


def get(url, accept=None):
    req = urllib.request.Request(url)
    if accept:
        req.add_header("Accept", accept)
    t0 = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        body = r.read()
    return time.perf_counter() - t0, body


def main():
    for tool in ("wrk", H.NGINX):
        if not shutil.which(tool) and not os.path.exists(tool):
            raise SystemExit("missing %s (run .ci/install-deps)" % tool)
    cdir = corpus_dir()
    work = tempfile.mkdtemp(prefix="indexd-bench.")
    try:
        run(cdir, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(cdir, work):
    data = os.path.join(cdir, "data")
    conf = os.path.join(work, "bench.conf")
    with open(conf, "w") as f:
        f.write("[global]\ndatadir = %s\n\n[indexd]\nlisten = 127.0.0.1:0\n"
                "workers = %d\nmax_connections = 4096\naccess_log = %s\n"
                % (data, WORKERS, os.path.join(work, "indexd-access.log")))
    export = os.path.join(work, "export")
    subprocess.run([H.INDEXCTL, "-c", conf, "export-static", "--copy",
                    export], check=True, stdout=subprocess.DEVNULL)
    ngx = H.Nginx(export, os.path.join(work, "nginx"), workers=WORKERS,
                  access_log=os.path.join(work, "nginx-access.log"))
    err = open(os.path.join(work, "indexd.stderr"), "w")
    # -v: indexd logs each page render with its CPU time
    proc = subprocess.Popen([H.INDEXD, "-v", "-c", conf], stderr=err)
    port = None
    for _ in range(200):
        text = open(os.path.join(work, "indexd.stderr")).read()
        m = re.search(r"listening on [^ ]+:(\d+)", text)
        if m and "ready" in text:
            port = int(m.group(1))
            break
        time.sleep(0.05)
    if port is None:
        raise SystemExit("indexd did not start:\n" + text)
    idx_url = "http://127.0.0.1:%d" % port
    sampler = RssSampler(lambda: [proc.pid])
    nsampler = RssSampler(lambda: nginx_pids(ngx.pid()))
    sampler.start()
    nsampler.start()
    try:
        results = measure(idx_url, ngx.url)
        text = open(os.path.join(work, "indexd.stderr")).read()
        results["cpu"] = {}
        for fmt, ms in re.findall(r"rendered bench-many-versions \((\w+), "
                                  r"2000 files, \d+ bytes\) in ([\d.]+) ms "
                                  r"CPU", text):
            results["cpu"].setdefault(fmt, float(ms))
    finally:
        sampler.stop_ev.set()
        nsampler.stop_ev.set()
        with open("/proc/%d/status" % proc.pid) as f:
            hwm = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) * 1024
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        ngx.stop()
    report(results, max(hwm, sampler.peak), nsampler.peak)


def measure(idx, ngx):
    files = "/files/bench_files-1.0-py3-none-any.whl"
    big = "/files/bench_files-2.0-py3-none-any.whl"
    many = "/simple/bench-many-versions/"
    res = {"cold": {}}
    # the 2000-version page: first (cold) render, then warm single requests
    for name, url, accept in (("html", idx + many, None),
                              ("json", idx + many, JSON)):
        t, body = get(url, accept)
        res["cold"][name] = (t, len(body))
    warm = {}
    for name, accept in (("html", None), ("json", JSON)):
        ts = [get(idx + many, accept)[0] for _ in range(200)]
        warm[name] = (statistics.median(ts), sorted(ts)[int(len(ts) * 0.99)])
    res["warm"] = warm
    for base in (idx, ngx):		# warm both servers' caches
        for u in ("/simple/", "/simple/boto3/", many, files, big):
            get(base + u)
            get(base + u, PIP_ACCEPT)
    cases = [
        ("/simple/ (html)", "/simple/", None, "page"),
        ("project html", "/simple/boto3/", None, "page"),
        ("project json", "/simple/boto3/", PIP_ACCEPT, "page"),
        ("2000-version html", many, None, "page"),
        ("2000-version json", many, PIP_ACCEPT, "page"),
        ("file 20 KB", files, None, "file"),
        ("file 5 MB", big, None, "file"),
    ]
    res["cases"] = []
    for conns in CONNS:
        for label, path, accept, kind in cases:
            runs = {"indexd": [], "nginx": []}
            for r in range(ROUNDS):
                order = (("indexd", idx), ("nginx", ngx))
                if r % 2:
                    order = order[::-1]
                for who, base in order:
                    runs[who].append(wrk(base + path, conns, accept))
            row = {"label": label, "conns": conns, "kind": kind}
            for who in runs:
                row[who] = (statistics.median(x[0] for x in runs[who]),
                            statistics.median(x[1] for x in runs[who]))
            res["cases"].append(row)
            log("%-20s c=%-3d indexd %9.0f req/s  nginx %9.0f req/s  "
                "ratio %.2f" % (label, conns, row["indexd"][0],
                                row["nginx"][0],
                                row["indexd"][0] / row["nginx"][0]))
    return res


def report(res, rss, nginx_rss):
    print()
    print("indexd vs nginx (static export), wrk -t%d, %ds x %d rounds "
          "(median), %d worker(s) each" % (THREADS, DURATION, ROUNDS,
                                           WORKERS))
    print("%-20s %5s %11s %9s %11s %9s %7s %6s" % (
        "request", "conns", "indexd r/s", "p99", "nginx r/s", "p99",
        "ratio", "target"))
    ok = True
    for row in res["cases"]:
        ratio = row["indexd"][0] / row["nginx"][0]
        target = 1.0 if row["kind"] == "page" else 0.9
        good = ratio >= target
        ok &= good
        print("%-20s %5d %11.0f %8.2fms %11.0f %8.2fms %6.2fx %5.1fx %s" % (
            row["label"], row["conns"], row["indexd"][0],
            row["indexd"][1] * 1e3, row["nginx"][0], row["nginx"][1] * 1e3,
            ratio, target, "ok" if good else "BELOW"))
    print()
    print("indexd peak RSS: %.1f MB (target <= 64 MB)%s; nginx (all "
          "processes): %.1f MB" % (rss / 2**20, "" if rss <= 64 * 2**20
                                   else "  ABOVE", nginx_rss / 2**20))
    ok &= rss <= 64 * 2**20
    for name in ("html", "json"):
        cold_t, size = res["cold"][name]
        med, p99 = res["warm"][name]
        good = p99 < 0.005
        ok &= good
        cpu = res.get("cpu", {}).get(name)
        print("2000-version page (%s, %d KB): warm median %.2f ms, p99 "
              "%.2f ms (target < 5 ms) %s; first request (render) %.1f ms "
              "wall, %s CPU" % (
                  name, size // 1024, med * 1e3, p99 * 1e3,
                  "ok" if good else "ABOVE", cold_t * 1e3,
                  "%.1f ms" % cpu if cpu is not None else "?"))
    print()
    print("all targets met" if ok else "SOME TARGETS MISSED")
    return ok


if __name__ == "__main__":
    main()
