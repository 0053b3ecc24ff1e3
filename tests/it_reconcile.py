#!/usr/bin/python3
"""it_reconcile.py: reconcile and the job commands of indexctl, end to end
on 127.0.0.1: a real index (tests/lib/upstream_server.py), a real config
file and data directory, real requirements files, reconcile passes run by
tests/tool_builder_sched, and indexctl jobs / status / log / cancel /
rebuild / import checked on the jobs they produce. tool_builder_sched also
plays the executor's part (claim, write a log, finish) so that every job
state shows up in indexctl.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

SRC = os.environ["WW_SOURCE_DIR"]
BUILD = os.environ["WW_BUILD_DIR"]
TMP = os.environ.get("WW_TEST_TMP", "/tmp")
TOOL = os.path.join(BUILD, "tests", "tool_builder_sched")
INDEXCTL = os.path.join(BUILD, "indexctl", "indexctl")
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))
import wheelfactory  # noqa: E402

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(args, expect=0, inp=None):
    p = subprocess.run(args, capture_output=True, text=True, input=inp,
                       timeout=120)
    if expect is not None and p.returncode != expect:
        print("command:", args, "\nstdout:", p.stdout, "\nstderr:",
              p.stderr, file=sys.stderr)
        check(False, "%s exited %d, expected %d" % (args[1:3], p.returncode,
                                                     expect))
    return p


def ctl(conf, *args, expect=0):
    return run([INDEXCTL, "-c", conf] + list(args), expect=expect)


def ctl_json(conf, *args):
    p = ctl(conf, *args, "--json")
    return json.loads(p.stdout)


def reconcile(conf):
    p = run([TOOL, "reconcile", "-c", conf])
    lines = [json.loads(line) for line in p.stdout.splitlines()]
    items = {(d["project"], d["target"]): d for d in lines if "project" in d}
    return items, lines[-1]["stats"]


def stats(port):
    import urllib.request
    with urllib.request.urlopen("http://127.0.0.1:%d/_stats" % port) as r:
        return json.load(r)["requests"]


def main():
    work = tempfile.mkdtemp(prefix="it_reconcile.", dir=TMP)
    spec = {"projects": {
        "SimplePkg": {"files": [
            {"filename": "simplepkg-1.0.tar.gz", "content": "s10"},
            {"filename": "simplepkg-1.1.tar.gz", "content": "s11"},
            {"filename": "simplepkg-1.2.tar.gz", "content": "s12",
             "yanked": "bad release"}]},
        "pyreq": {"files": [
            {"filename": "pyreq-1.5.tar.gz", "content": "p15",
             "requires_python": ">=3.8"},
            {"filename": "pyreq-2.0.tar.gz", "content": "p20",
             "requires_python": ">=3.12"}]},
        "pinned": {"html_only": True, "files": [
            {"filename": "pinned-3.0.tar.gz", "content": "p30"}]},
    }}
    with open(os.path.join(work, "spec.json"), "w") as f:
        json.dump(spec, f)
    server = subprocess.Popen(["/usr/bin/python3",
                               os.path.join(SRC, "tests/lib/upstream_server.py"),
                               os.path.join(work, "spec.json")],
                              stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline().split()[1])
        body(work, port)
    finally:
        server.terminate()
        server.wait()
    if failures:
        print("%d checks failed; kept %s" % (len(failures), work),
              file=sys.stderr)
        sys.exit(1)
    shutil.rmtree(work)
    print("it_reconcile: ok")


def body(work, port):
    conf = os.path.join(work, "wheelwright.conf")
    with open(os.path.join(work, "requirements.txt"), "w") as f:
        f.write("# the list\nSimplePkg\npyreq\nmissing-here\n"
                "pinned==3.0\nwinonly; sys_platform == 'win32'\n")
    with open(conf, "w") as f:
        f.write("""[global]
datadir = %s/data
[builderd]
requirements = requirements.txt
max_attempts = 2
backoff_base = 60
[upstream local]
url = http://127.0.0.1:%d/simple/
retries = 0
[engine eng1]
url = unix:///nonexistent/eng1.sock
[target t311]
python = 3.11.2
policy = manylinux
arch = x86_64
image = img
engines = eng1
[target t312]
python = 3.12.1
policy = manylinux
arch = x86_64
image = img
engines = eng1
""" % (work, port))

    # --- the first pass enqueues; indexctl sees the jobs --------------
    items, st = reconcile(conf)
    check(st["items"] == 10, "10 decisions: %r" % st)
    exp = {("simplepkg", "t311"): ("enqueued", "1.1"),
           ("simplepkg", "t312"): ("enqueued", "1.1"),
           ("pyreq", "t311"): ("enqueued", "1.5"),
           ("pyreq", "t312"): ("enqueued", "2.0"),
           ("missing-here", "t311"): ("not_found", None),
           ("pinned", "t312"): ("enqueued", "3.0"),
           ("winonly", "t311"): ("skip_marker", None)}
    for key, (action, version) in exp.items():
        d = items.get(key)
        check(d is not None and d["action"] == action and
              d["version"] == version, "%s: %r" % (key, d))
    check(items[("simplepkg", "t311")]["requirement"] == "SimplePkg",
          "requirement text kept")

    jobs = ctl_json(conf, "jobs")
    check(len(jobs) == 6, "6 jobs: %d" % len(jobs))
    check(all(j["state"] == "queued" and j["origin"] == "reconcile" and
              j["max_attempts"] == 2 for j in jobs), "all queued")
    check([j["id"] for j in jobs] == sorted((j["id"] for j in jobs),
                                            reverse=True), "newest first")
    check(len(ctl_json(conf, "jobs", "--target", "t312")) == 3, "--target")
    check(len(ctl_json(conf, "jobs", "--project", "SIMPLEPKG")) == 2,
          "--project any spelling")
    check(ctl_json(conf, "jobs", "--state", "running") == [], "--state")
    check(len(ctl_json(conf, "jobs", "--limit", "4")) == 4, "--limit")
    p = ctl(conf, "jobs", "--state", "done", expect=2)
    check("unknown state" in p.stderr, "bad state named: " + p.stderr)
    p = ctl(conf, "jobs")
    check(re.search(r"queued\s+t312\s+pyreq==2\.0", p.stdout) is not None,
          "table row: " + p.stdout)

    status = ctl_json(conf, "status")
    byt = {t["target"]: t for t in status["targets"]}
    check(byt["t311"]["queued"] == 3 and byt["t312"]["queued"] == 3,
          "status counts: %r" % status)
    check(status["running"] == [] and status["failures"] == [],
          "nothing running or failed")

    # --- a second pass changes nothing --------------------------------
    before = stats(port)
    items, st = reconcile(conf)
    check(st["by_action"]["enqueued"] == 0 and
          st["by_action"]["job_exists"] == 6, "second pass: %r" % st)
    check(len(ctl_json(conf, "jobs")) == 6, "still 6 jobs")
    after = stats(port)
    # max-age 0: each page is revalidated (a 304), never re-fetched whole.
    check(after.get("/simple/simplepkg/") == before.get("/simple/simplepkg/") + 1,
          "one conditional request per page")

    # --- the executor's moves, seen through indexctl -------------------
    p = run([TOOL, "claim", "-c", conf, "eng1", "t311", "--log",
             "building simplepkg\n"])
    running = json.loads(p.stdout)
    rid = running["claimed"]
    status = ctl_json(conf, "status")
    check([j["id"] for j in status["running"]] == [rid] and
          status["running"][0]["engine"] == "eng1", "running on eng1")
    p = ctl(conf, "status")
    check("eng1" in p.stdout and "running:" in p.stdout, "status text")
    p = ctl(conf, "log", str(rid))
    check(p.stdout == "building simplepkg\n", "log: %r" % p.stdout)
    check(ctl(conf, "log", "job-%d" % rid).stdout == p.stdout, "job-N form")

    # --follow prints what arrives until the job ends.
    follow = subprocess.Popen([INDEXCTL, "-c", conf, "log", "--follow",
                               str(rid)], stdout=subprocess.PIPE, text=True)
    time.sleep(0.6)
    with open(running["log"], "a") as f:
        f.write("compiling\n")
    time.sleep(0.6)
    check(follow.poll() is None, "--follow waits while running")
    p = ctl(conf, "cancel", str(rid))
    check("cancel requested" in p.stdout and "eng1" in p.stdout,
          "cancel running: " + p.stdout)
    with open(running["log"], "a") as f:
        f.write("killed\n")
    run([TOOL, "finish", "-c", conf, str(rid), "--cancelled"])
    try:
        out, _ = follow.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        follow.kill()
        out, _ = follow.communicate()
        check(False, "--follow did not stop after the job ended")
    check(out == "building simplepkg\ncompiling\nkilled\n",
          "follow output: %r" % out)
    check(ctl_json(conf, "jobs", "--state", "cancelled")[0]["id"] == rid,
          "cancelled")

    # A failure with retry: queued again with backoff, then exhausted.
    p = run([TOOL, "claim", "-c", conf, "eng1", "t312", "--log",
             "gcc: error\n", "--fail", "build_error", "--retry"])
    fid = json.loads(p.stdout)["claimed"]
    j = [x for x in ctl_json(conf, "jobs") if x["id"] == fid][0]
    check(j["state"] == "queued" and j["attempts"] == 1 and
          j["failure"] == "build_error" and j["next_attempt"] is not None,
          "retry queued with backoff: %r" % j)
    status = ctl_json(conf, "status")
    check(status["queued_in_backoff"] == 1, "one job in backoff")
    p = ctl(conf, "jobs", "--state", "queued")
    check("retry in" in p.stdout, "backoff shown: " + p.stdout)
    run([TOOL, "finish", "-c", conf, str(fid), "--fail", "build_error"],
        expect=1)   # not running: refused
    p = run([TOOL, "claim", "-c", conf, "eng1", "t311", "--log",
             "timeout!\n", "--fail", "timeout"])
    tid = json.loads(p.stdout)["claimed"]
    status = ctl_json(conf, "status")
    check([x["id"] for x in status["failures"]] == [tid] and
          status["failures"][0]["failure"] == "timeout", "last failures")
    p = ctl(conf, "status")
    check("last failures:" in p.stdout and "timeout" in p.stdout,
          "failures in text")
    check(ctl(conf, "log", str(tid)).stdout == "timeout!\n", "failed log kept")

    # Cancelling queued and unknown jobs; logs of jobs without one.
    queued = ctl_json(conf, "jobs", "--state", "queued", "--target", "t311")
    qid = queued[0]["id"]
    p = ctl(conf, "log", str(qid), expect=1)
    check("no log yet" in p.stderr, "no log yet: " + p.stderr)
    p = ctl(conf, "cancel", str(qid))
    check(p.stdout.strip() == "job %d: cancelled" % qid, p.stdout)
    p = ctl(conf, "cancel", str(qid))
    check("already finished" in p.stdout, p.stdout)
    p = ctl(conf, "cancel", "99999", expect=1)
    check("no job 99999" in p.stderr, p.stderr)
    ctl(conf, "cancel", "abc", expect=2)
    ctl(conf, "log", "99999", expect=1)

    # --- rebuilds --------------------------------------------------------
    p = ctl(conf, "rebuild", "simplepkg", expect=1)
    check("no release in the catalog" in p.stderr, p.stderr)
    r = ctl_json(conf, "rebuild", "SimplePkg", "--version", "1.1")
    check(r["build_number"] == 1 and len(r["jobs"]) == 2 and
          r["version"] == "1.1", "rebuild: %r" % r)
    r2 = ctl_json(conf, "rebuild", "simplepkg", "--version", "1.1.0",
                  "--target", "t312")
    check(r2["build_number"] == 2 and [x["target"] for x in r2["jobs"]] ==
          ["t312"], "rebuild one target: %r" % r2)
    j = [x for x in ctl_json(conf, "jobs", "--project", "simplepkg")
         if x["id"] == r2["jobs"][0]["id"]][0]
    check(j["origin"] == "indexctl" and j["build_number"] == 2 and
          j["priority"] > 0 and j["requirement"] == "simplepkg==1.1.0",
          "rebuild job: %r" % j)
    ctl(conf, "rebuild", "simplepkg", "--target", "nope", "--version", "1",
        expect=2)
    ctl(conf, "rebuild", "simplepkg", "--version", "not a version",
        expect=2)

    # --- the catalog covers a release: no job and no request -------------
    wdir = os.path.join(work, "wheels")
    os.makedirs(wdir)
    with open(os.path.join(wdir, "pinned-3.0-py3-none-any.whl"), "wb") as f:
        f.write(wheelfactory.wheel_bytes(name="pinned", version="3.0"))
    ctl(conf, "import", wdir)
    before = stats(port).get("/simple/pinned/", 0)
    items, st = reconcile(conf)
    for t in ("t311", "t312"):
        d = items[("pinned", t)]
        check(d["action"] == "satisfied" and d["version"] == "3.0" and
              "pinned-3.0-py3-none-any.whl" in d["detail"],
              "pinned satisfied: %r" % d)
    check(stats(port).get("/simple/pinned/", 0) == before,
          "no request for a satisfied pin")
    r = ctl_json(conf, "rebuild", "pinned")
    check(r["version"] == "3.0" and r["build_number"] == 1,
          "rebuild defaults to the catalog's newest: %r" % r)


if __name__ == "__main__":
    main()
