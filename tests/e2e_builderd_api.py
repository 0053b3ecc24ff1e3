"""e2e_builderd_api.py: issue 4, test 4. A CI agent submits a build over
indexd's JSON API (POST /api/v1/jobs) with a submit-scope token; without
a token it gets 401, with an upload-only token 403, with a token bound to
another project 403, and malformed requests get 400 naming the field,
with nothing enqueued. builderd runs the job; GET /api/v1/jobs/ID shows
it succeed and GET /api/v1/jobs/ID/log returns its log. Submitting the
same release again returns the same job; "rebuild": true builds again
with the next build number, and pip then prefers that wheel.
"""
import base64
import json
import os
import re
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import builderd_harness as h  # noqa: E402


def call(url, method="GET", body=None, token=None, raw=None):
    headers = {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if raw is not None:
        data = raw
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(
            ("__token__:" + token).encode()).decode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def body():
    st = h.Stack("e2e_builderd_api", projects=["wwdemo-cext", "wwfix-slow"])
    try:
        ci = st.indexctl("token", "create", "ci", "--scope",
                         "submit").stdout.strip()
        up = st.indexctl("token", "create", "uploader", "--scope",
                         "upload").stdout.strip()
        other = st.indexctl("token", "create", "other", "--scope", "submit",
                            "--project", "numpy").stdout.strip()
        idx = st.indexd()
        api = idx.url + "/api/v1/jobs"
        good = {"requirement": "wwdemo-cext==0.3.1",
                "targets": ["cp311-x86_64"]}

        s, hd, b = call(api, "POST", good)
        h.check(s == 401 and "Basic" in hd.get("WWW-Authenticate", ""),
                "no token: 401 with a Basic challenge", (s, b))
        s, _, b = call(api, "POST", good, token=up)
        h.check(s == 403, "an upload-only token: 403", (s, b))
        s, _, b = call(api, "POST", good, token="ww-" + "x" * 43)
        h.check(s in (401, 403) and b"token" in b,
                "an unknown token: refused with a reason", (s, b))
        s, _, b = call(api, "POST", good, token=other)
        h.check(s == 403 and b"numpy" in b,
                "a token bound to another project: 403", (s, b))

        bad = [
            ({"targets": ["cp311-x86_64"]}, "requirement"),
            ({"requirement": 5}, "requirement"),
            ({"requirement": "wwdemo-cext>=0.3"}, "requirement"),
            ({"requirement": "not a requirement!"}, "requirement"),
            ({"requirement": "wwdemo-cext==0.3.1", "targets": "x"},
             "targets"),
            ({"requirement": "wwdemo-cext==0.3.1", "targets": ["nope"]},
             "targets[0]"),
            ({"requirement": "wwdemo-cext==0.3.1", "targets": [3]},
             "targets[0]"),
            ({"requirement": "wwdemo-cext==0.3.1", "rebuild": "yes"},
             "rebuild"),
            ({"requirement": "wwdemo-cext==0.3.1", "colour": "red"},
             "colour"),
            (None, "body"),
        ]
        for doc, field in bad:
            if doc is None:
                s, _, b = call(api, "POST", token=ci, raw=b"{not json")
            else:
                s, _, b = call(api, "POST", doc, token=ci)
            err = json.loads(b)
            h.check(s == 400 and err.get("field") == field,
                    "400 naming %r: %s" % (field, err.get("error")), (s, b))
        h.check(st.jobs() == [], "nothing was enqueued by refused requests",
                st.jobs())

        s, _, b = call(api, "POST", good, token=ci)
        h.check(s == 202, "a submit token is accepted: 202", (s, b))
        sub = json.loads(b)["jobs"]
        h.check(len(sub) == 1 and sub[0]["target"] == "cp311-x86_64" and
                sub[0]["state"] == "queued" and not sub[0]["existing"] and
                sub[0]["origin"] == "api:ci",
                "one job, queued, from api:ci", sub)
        jid = sub[0]["id"]
        s, _, b = call(api, "POST", good, token=ci)
        h.check(s == 202 and json.loads(b)["jobs"][0]["id"] == jid and
                json.loads(b)["jobs"][0]["existing"],
                "submitting it again returns the same job", b)

        bd = st.builderd("-N")
        deadline = time.time() + 600
        while True:
            s, _, b = call("%s/%d" % (api, jid), token=ci)
            job = json.loads(b)
            if job.get("state") in ("succeeded", "failed"):
                break
            if time.time() > deadline or not bd.alive():
                raise h.Failure("job %d not done: %s\n%s" % (
                    jid, job, bd.stderr()[-3000:]))
            time.sleep(0.5)
        h.check(job["state"] == "succeeded" and re.fullmatch(
            r"wwdemo_cext-0\.3\.1-cp311-cp311-manylinux_2_\d+_x86_64.*\.whl",
            job["wheel"] or "") and job["wheel_url"] ==
            "/files/" + job["wheel"],
            "GET /api/v1/jobs/ID: succeeded, with its wheel", job)
        s, _, _ = call("%s/%d" % (api, jid))
        h.check(s == 401, "GET without a token: 401", s)
        s, hd, b = call("%s/%d/log" % (api, jid), token=ci)
        h.check(s == 200 and hd.get("Content-Type", "").startswith(
            "text/plain") and b"wheelwright: succeeded" in b and
            b"Successfully built wwdemo-cext" in b,
            "GET /api/v1/jobs/ID/log returns the build log", b[-500:])
        s, _, b = call("%s/999" % api, token=ci)
        h.check(s == 404, "an unknown job: 404", (s, b))
        s, _, b = call("%s/abc" % api, token=ci)
        h.check(s == 400 and json.loads(b)["field"] == "id",
                "a malformed job id: 400 naming id", (s, b))
        s, hd, b = call(api, token=ci)
        h.check(s == 405 and hd.get("Allow") == "POST",
                "GET on the collection: 405, Allow: POST", (s, hd))

        # A rebuild: next build number, a new filename, pip prefers it.
        s, _, b = call(api, "POST", dict(good, rebuild=True), token=ci)
        re_job = json.loads(b)["jobs"][0]
        h.check(s == 202 and re_job["id"] != jid and
                re_job["build_number"] == 1,
                "rebuild: a new job with build number 1", (s, b))
        st.wait_jobs(lambda js: all(j["state"] in ("succeeded", "failed")
                                    for j in js), 600, bd)
        s, _, b = call("%s/%d" % (api, re_job["id"]), token=ci)
        re_job = json.loads(b)
        h.check(re_job["state"] == "succeeded" and
                re_job["wheel"].startswith("wwdemo_cext-0.3.1-1-cp311-"),
                "the rebuilt wheel carries build tag 1", re_job["wheel"])
        names = [f["filename"] for f in st.files()
                 if f["filename"].startswith("wwdemo_cext")]
        h.check(sorted(names) == sorted([job["wheel"], re_job["wheel"]]),
                "the first wheel is kept (filenames never reused)", names)
        py = h.make_venv(st.root)
        out = h.pip(py, "install", "--index-url", idx.url + "/simple/",
                    "--only-binary", ":all:", "wwdemo-cext")
        h.check(re_job["wheel"] in out.stdout and
                job["wheel"] not in out.stdout,
                "pip picks the rebuilt wheel", out.stdout[-1500:])
        p = h.run([py, "-c", "import wwdemo_cext; "
                   "print(hex(wwdemo_cext.crc32(b'123456789')))"])
        h.check(p.stdout.strip() == "0xcbf43926", "and it works",
                p.stdout + p.stderr)

        # Cancel a running build: its container goes, the job ends
        # cancelled, and builderd goes on.
        s, _, b = call(api, "POST", {"requirement": "wwfix-slow==1.0.0"},
                       token=ci)
        slow = json.loads(b)["jobs"][0]
        jobs = st.wait_jobs(lambda js: any(
            j["id"] == slow["id"] and j["state"] == "running" and
            j["container_id"] for j in js), 300, bd)
        cid = [j for j in jobs if j["id"] == slow["id"]][0]["container_id"]
        p = st.indexctl("cancel", str(slow["id"]))
        st.wait_jobs(lambda js: any(j["id"] == slow["id"] and
                                    j["state"] == "cancelled" for j in js),
                     60, bd)
        h.check(not [c for c in st.containers() if c.startswith(cid[:12])],
                "indexctl cancel stopped the running build and removed its "
                "container", st.containers())

        # SIGHUP reloads the config (here: one job slot instead of two).
        st.write_config(jobs=1)
        bd.kill(h.signal.SIGHUP)
        bd.wait_for(r"reloaded .*1 engine, 1 target", 30)
        h.check(bd.alive(), "builderd reloads its config on SIGHUP")

        h.check(bd.stop() == 0, "builderd stops on SIGTERM",
                bd.stderr()[-2000:])
        bd.check_clean()
        idx.stop()
        idx.check_clean()
        st.ok = True
    finally:
        st.close()


if __name__ == "__main__":
    sys.exit(h.main(body))
