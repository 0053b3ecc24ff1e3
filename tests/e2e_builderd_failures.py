"""e2e_builderd_failures.py: issue 4, test 3. Three fixtures fail, each
with its own class: wwfix-fails does not compile (build_error), wwfix-slow
sleeps past the target's timeout and is killed (timeout), wwfix-extlib
links libyaml, which no manylinux policy allows, on a target with
repair = no (verify_failed, naming the library). Each ends failed and keeps
the log of every attempt. The deterministic classes (build_error,
verify_failed) end after one attempt, saying why they are not retried; the
timeout, which load can cause, is retried once, after the backoff. Then
`indexctl rebuild` of a good release enqueues a build with the next build
number, whose wheel filename carries it, next to the first wheel.
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import builderd_harness as h  # noqa: E402

BACKOFF = 3


def body():
    projects = ["wwfix-fails", "wwfix-slow", "wwfix-extlib", "wwdemo-cext"]
    st = h.Stack("e2e_builderd_failures", projects=projects,
                 requirements=projects, max_attempts=3, backoff=BACKOFF,
                 timeout=25,
                 target_opts={"cp311-x86_64": {"repair": "no"}})
    try:
        seen = {}

        def watch(jobs):
            # A failed first attempt waits in the queue for its backoff.
            now = h.time.time() * 1e6
            for j in jobs:
                if (j["state"] == "queued" and j["attempts"] == 1 and
                        j["failure"] and j["id"] not in seen):
                    seen[j["id"]] = (j["next_attempt_us"], now)

        bd = st.builderd("-1")
        st.wait_jobs(lambda js: len(js) == 4 and not bd.alive(), 900, None,
                     every=watch)
        h.check(bd.proc.returncode == 0, "builderd -1 exited 0",
                bd.stderr()[-3000:])
        bd.check_clean()
        jobs = {j["project"]: j for j in st.jobs()}
        # class: attempts it ends after (max_attempts is 3)
        want = {"wwfix-fails": ("build_error", 1),
                "wwfix-slow": ("timeout", 2),
                "wwfix-extlib": ("verify_failed", 1)}
        for proj, (cls, attempts) in want.items():
            j = jobs[proj]
            h.check(j["state"] == "failed" and j["failure"] == cls and
                    j["attempts"] == attempts,
                    "%s ended failed as %s after %d attempt(s)" % (
                        proj, cls, attempts), j)
            logs = [os.path.join(st.datadir, "logs", "job-%d.%d.log" %
                                 (j["id"], a)) for a in
                    range(1, attempts + 1)]
            h.check(all(os.path.getsize(p) > 0 for p in logs),
                    "%s: the log of each attempt is kept" % proj, logs)
            with open(logs[-1], errors="replace") as f:
                last = f.read()
            if attempts == 1:
                h.check(j["id"] not in seen and "not retried: the same "
                        "build would fail the same way" in last,
                        "%s: not retried (deterministic), and the log "
                        "says why" % proj, last[-800:])
                continue
            h.check(j["id"] in seen, "%s waited in the queue after its "
                    "first failure" % proj, seen)
            nxt, when = seen[j["id"]]
            h.check(nxt - when > 0.3e6 and j["started_us"] >= nxt,
                    "%s: backoff applied (retry due %.1f s after it was "
                    "seen queued, and not started before)" % (
                        proj, (nxt - when) / 1e6))
            h.check("not retried: it failed the same way twice" in last,
                    "%s: retried once only, and the log says why" % proj,
                    last[-800:])
        h.check("libyaml-0.so.2" in jobs["wwfix-extlib"]["message"] and
                "repair = no" in jobs["wwfix-extlib"]["message"],
                "the policy failure names the library and that the target "
                "does not repair", jobs["wwfix-extlib"]["message"])
        with open(jobs["wwfix-slow"]["log_path"], errors="replace") as f:
            slow = f.read()
        h.check("killed at the deadline" in slow and
                "wwfix-slow: sleeping" in slow,
                "the timeout's log shows the build killed mid-sleep",
                slow[-1500:])
        with open(jobs["wwfix-fails"]["log_path"], errors="replace") as f:
            fails = f.read()
        h.check("error:" in fails and "_broken.c" in fails,
                "the build error's log has the compiler's message",
                fails[-1500:])
        p = st.indexctl("jobs", "--state", "failed", "--json")
        listed = sorted(j["project"] for j in __import__("json").loads(
            p.stdout))
        h.check(listed == sorted(want), "indexctl jobs --state failed "
                "lists them", listed)
        good = jobs["wwdemo-cext"]
        h.check(good["state"] == "succeeded", "the good release built",
                good)
        h.check(not st.containers(), "no container is left (the timed-out "
                "ones were killed and removed)", st.containers())

        # indexctl rebuild: the next build number, a new filename.
        p = st.indexctl("rebuild", "wwdemo-cext", "--json")
        out = __import__("json").loads(p.stdout)
        h.check(p.returncode == 0, "indexctl rebuild wwdemo-cext", out)
        bd2 = st.builderd("-1", "-N")
        h.check(bd2.wait_exit(600) == 0, "builderd ran the rebuild",
                bd2.stderr()[-2000:])
        re_job = st.job("wwdemo-cext")
        h.check(re_job["id"] != good["id"] and re_job["build_number"] == 1
                and re_job["state"] == "succeeded",
                "the rebuild job has build number 1 and succeeded", re_job)
        h.check(re.fullmatch(r"wwdemo_cext-0\.3\.1-1-cp311-cp311-"
                             r"manylinux_2_\d+_x86_64.*\.whl",
                             re_job["wheel"] or ""),
                "its wheel filename carries the build tag", re_job["wheel"])
        names = sorted(f["filename"] for f in st.files()
                       if f["filename"].startswith("wwdemo_cext"))
        h.check(names == sorted([good["wheel"], re_job["wheel"]]),
                "both wheels are in the catalog; nothing was overwritten",
                names)
        st.ok = True
    finally:
        st.close()


if __name__ == "__main__":
    sys.exit(h.main(body))
