"""e2e_builderd_crash.py: issue 4, test 5. builderd is killed with
SIGKILL while a build runs in its container, restarted, and killed again
during its start-up; the third start removes the orphaned container (found
by label), requeues the interrupted job without counting the attempt, and
builds it. The job completes exactly once, one wheel is recorded, the
store and catalog agree (indexctl verify), and no container, work
directory or partial file is left.
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import builderd_harness as h  # noqa: E402


def body():
    st = h.Stack("e2e_builderd_crash", projects=["wwdemo-cext"],
                 requirements=["wwdemo-cext"], max_attempts=2)
    try:
        bd = st.builderd()
        jobs = st.wait_jobs(lambda js: js and js[0]["state"] == "running"
                            and js[0]["container_id"], 300, bd)
        cid = jobs[0]["container_id"]
        time.sleep(1.0)		# well inside the build
        workers = h.worker_pids(bd)
        bd.kill(signal.SIGKILL)
        bd.proc.wait()
        h.check(jobs[0]["state"] == "running", "killed mid-build (job %d "
                "running in container %.12s)" % (jobs[0]["id"], cid))
        deadline = time.time() + 10
        while time.time() < deadline and any(h.pid_alive(p)
                                             for p in workers):
            time.sleep(0.1)
        h.check(workers and not any(h.pid_alive(p) for p in workers),
                "the build workers died with builderd", workers)
        h.check(any(l.startswith(cid[:12]) for l in st.containers()),
                "its container was left behind (an orphan)",
                st.containers())

        # Killed again while starting up.
        bd2 = st.builderd()
        time.sleep(0.3)
        bd2.kill(signal.SIGKILL)
        bd2.proc.wait()

        bd3 = st.builderd("-1")
        rc = bd3.wait_exit(600)
        err = bd3.stderr()
        h.check(rc == 0, "the restarted builderd finished the job",
                err[-3000:])
        bd3.check_clean()
        h.check("removed orphaned container %s" % cid[:12] in err or
                "removed orphaned container %s" % cid[:12] in bd2.stderr(),
                "the orphaned container was removed by label", err[-2000:])
        jobs = st.jobs()
        j = jobs[0]
        h.check(len(jobs) == 1 and j["state"] == "succeeded",
                "one job, succeeded", jobs)
        h.check(j["attempts"] == 1 and 1 <= j["requeues"] <= 2,
                "the interrupted attempts did not count (attempts %d, "
                "requeues %d)" % (j["attempts"], j["requeues"]))
        wheels = [f["filename"] for f in st.files()
                  if f["filename"].startswith("wwdemo_cext-")]
        h.check(wheels == [j["wheel"]], "exactly one wheel recorded",
                wheels)
        store = sorted(os.listdir(os.path.join(st.datadir, "files")))
        h.check(store == sorted([f["filename"] for f in st.files()] +
                                [f["filename"] + ".metadata"
                                 for f in st.files()]),
                "the store holds exactly the recorded files", store)
        p = st.indexctl("verify")
        h.check(p.returncode == 0, "indexctl verify: store and catalog "
                "agree", p.stdout + p.stderr)
        tmp = os.listdir(os.path.join(st.datadir, "tmp"))
        h.check(tmp == [], "nothing partial is left in DATA/tmp", tmp)
        h.check(not st.containers(), "no container is left",
                st.containers())
        st.ok = True
    finally:
        st.close()


if __name__ == "__main__":
    sys.exit(h.main(body))
