"""e2e_builderd_failures.py: issue 4, test 3. Three fixtures fail, each
with its own class: wwfix-fails does not compile (build_error), wwfix-slow
sleeps past the target's timeout and is killed (timeout), wwfix-extlib
links libyaml, which no manylinux policy allows (verify_failed, naming the
library). Each is retried after the backoff, ends failed, and keeps the
log of every attempt. Then `indexctl rebuild` of a good release enqueues a
build with the next build number, whose wheel filename carries it, next to
the first wheel.
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
                 requirements=projects, max_attempts=2, backoff=BACKOFF,
                 timeout=25)
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
        want = {"wwfix-fails": "build_error", "wwfix-slow": "timeout",
                "wwfix-extlib": "verify_failed"}
        for proj, cls in want.items():
            j = jobs[proj]
            h.check(j["state"] == "failed" and j["failure"] == cls and
                    j["attempts"] == 2,
                    "%s ended failed as %s after 2 attempts" % (proj, cls),
                    j)
            logs = [os.path.join(st.datadir, "logs", "job-%d.%d.log" %
                                 (j["id"], a)) for a in (1, 2)]
            h.check(all(os.path.getsize(p) > 0 for p in logs),
                    "%s: the log of each attempt is kept" % proj, logs)
            h.check(j["id"] in seen, "%s waited in the queue after its "
                    "first failure" % proj, seen)
            nxt, when = seen[j["id"]]
            h.check(nxt - when > 0.3e6 and j["started_us"] >= nxt,
                    "%s: backoff applied (retry due %.1f s after it was "
                    "seen queued, and not started before)" % (
                        proj, (nxt - when) / 1e6))
        h.check("libyaml-0.so.2" in jobs["wwfix-extlib"]["message"],
                "the policy failure names the library",
                jobs["wwfix-extlib"]["message"])
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
