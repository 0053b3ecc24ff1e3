"""it_indexd_jobs.py: the job API and `indexctl jobs` on text that came
from builds. A job's failure message is build output, so it may be any
bytes (a row written by an older version, or by another tool): GET
/api/v1/jobs/ID and `indexctl jobs --json` must still answer valid JSON,
with only the invalid bytes replaced.

No builderd and no engine: jobs are submitted over the API and their end
is written into the job store with sqlite3, as builderd would.
"""

import base64
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from indexd_harness import check, environment, request, run_tests  # noqa

TARGETS = ["cp311-x86_64"]


def setup(env, targets):
    lines = ["", "[engine local]", "url = unix:///nonexistent/engine.sock",
             ""]
    for t in targets:
        lines += ["[target %s]" % t, "python = 3.11.2", "policy = manylinux",
                  "arch = x86_64", "image = localhost/none:latest",
                  "engines = local", ""]
    with open(env.config, "a") as f:
        f.write("\n".join(lines))


def auth(token):
    return "Basic " + base64.b64encode(("__token__:" + token)
                                       .encode()).decode()


def submit(srv, token, requirement, targets):
    r = request(srv.port, "POST", "/api/v1/jobs",
                headers={"Authorization": auth(token),
                         "Content-Type": "application/json"},
                body=json.dumps({"requirement": requirement,
                                 "targets": targets}).encode())
    check(r.status == 202, "submit %s: %r" % (requirement, r))
    return [j["id"] for j in json.loads(r.body)["jobs"]]


def fail_job(env, jid, message):
    """End a job as failed with message (bytes, stored as TEXT as is)."""
    db = sqlite3.connect(os.path.join(env.datadir, "catalog.sqlite"))
    try:
        db.execute("UPDATE jobs SET state = 'failed', failure = "
                   "'build_error', exit_status = 1, attempts = 1, "
                   "finished_us = created_us + 1000000, "
                   "message = CAST(? AS TEXT) WHERE id = ?", (message, jid))
        db.commit()
        got = db.execute("SELECT typeof(message), CAST(message AS BLOB) "
                         "FROM jobs WHERE id = ?", (jid,)).fetchone()
    finally:
        db.close()
    check(got == ("text", message), "the row holds the raw bytes: %r" %
          (got,))


def test_invalid_utf8_message():
    with environment("it_indexd_jobs_utf8") as env:
        setup(env, TARGETS)
        tok = env.token("ci", scope="submit")
        srv = env.start()
        jid, = submit(srv, tok, "wwdemo==1.0", TARGETS)
        # Latin-1, a lone surrogate, an overlong '/', a cut sequence; and
        # valid multi-byte text that must survive.
        raw = (b"x.c:1: error: caf\xe9 \xed\xa0\x80 \xc0\xaf "
               b"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa7 end\xc3")
        fail_job(env, jid, raw)
        want = "x.c:1: error: caf? ??? ?? \u00e9 \u20ac \U0001f527 end?"

        r = request(srv.port, "GET", "/api/v1/jobs/%d" % jid,
                    headers={"Authorization": auth(tok)})
        check(r.status == 200 and
              r.header("content-type") == "application/json", r)
        r.body.decode("utf-8")          # strict: raises on invalid UTF-8
        job = json.loads(r.body)
        check(job["id"] == jid and job["state"] == "failed" and
              job["failure"] == "build_error" and job["exit_status"] == 1,
              job)
        check(job["message"] == want, "message %r" % job["message"])

        p = env.indexctl("jobs", "--json")
        out = json.loads(p.stdout.encode("utf-8", "strict"))
        mine = [j for j in out if j["id"] == jid]
        check(len(mine) == 1 and mine[0]["message"] == want,
              "indexctl jobs --json: %r" % mine)
        srv.stop()


if __name__ == "__main__":
    run_tests([
        ("invalid UTF-8 in a failure message", test_invalid_utf8_message),
    ])
