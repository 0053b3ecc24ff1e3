"""e2e_builderd_engines.py: issue 4, test 6. Two engines (two podman API
services) with one job each: the two jobs start on different engines.
Then one engine's API service is killed mid-build; builderd declares it
lost, requeues its job (without counting the attempt) and runs it on the
other engine, where it succeeds. When the lost engine comes back,
builderd removes the container it left there (found by label).
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import builderd_harness as h  # noqa: E402


def body():
    st = h.Stack("e2e_builderd_engines", engines=2, jobs=1,
                 projects=["wwdemo-cext", "wwdemo-pure"],
                 requirements=["wwdemo-cext", "wwdemo-pure"])
    try:
        bd = st.builderd()
        jobs = st.wait_jobs(lambda js: len(js) == 2 and all(
            j["state"] == "running" and j["container_id"] for j in js),
            300, bd)
        engines = sorted(j["engine"] for j in jobs)
        h.check(engines == ["e1", "e2"], "the two jobs run on the two "
                "engines at once", [(j["project"], j["engine"])
                                    for j in jobs])
        lost = [j for j in jobs if j["engine"] == "e1"][0]
        # Mid-build: pip runs in the container.
        deadline = time.time() + 120
        while time.time() < deadline:
            with open(lost["log_path"], errors="replace") as f:
                if "wheelwright: running pip" in f.read():
                    break
            time.sleep(0.1)
        st.engines[0].kill_service()
        log_lost = bd.wait_for(r"engine e1 lost", 60)
        h.check(log_lost, "builderd noticed that engine e1 was lost")

        jobs = st.wait_jobs(lambda js: all(j["state"] == "succeeded"
                                           for j in js), 600, bd)
        again = [j for j in jobs if j["id"] == lost["id"]][0]
        h.check(again["engine"] == "e2" and again["requeues"] >= 1 and
                again["attempts"] == 1,
                "the lost engine's job was requeued and built on e2 "
                "(requeues %d, attempts %d)" % (again["requeues"],
                                                again["attempts"]))
        h.check(all(j["wheel"] for j in jobs), "both jobs made wheels",
                [j["wheel"] for j in jobs])
        err = bd.stderr()
        h.check("engine e1: 1 job requeued" in err,
                "builderd says it requeued the job", err[-2000:])

        # The lost engine returns: its leftover container is removed.
        st.engines[0].start()
        bd.wait_for(r"engine e1 up", 60)
        bd.wait_for(r"engine e1: removed orphaned container %s" %
                    lost["container_id"][:12], 30)
        h.check(True, "engine e1 came back and its orphan was removed")
        rc = bd.stop()
        h.check(rc == 0, "builderd stops on SIGTERM", bd.stderr()[-2000:])
        bd.check_clean()
        h.check(not st.containers(), "no container is left",
                st.containers())
        st.ok = True
    finally:
        st.close()


if __name__ == "__main__":
    sys.exit(h.main(body))
