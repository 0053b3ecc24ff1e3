"""it_indexd_jobs.py: the job API and indexctl's job listings on what
builds and configurations put in them.
- A job's failure message is build output, so it may be any bytes (a row
  written by an older version, or by another tool): GET /api/v1/jobs/ID
  and `indexctl jobs --json` must still answer valid JSON, with only the
  invalid bytes replaced.
- Long target, project, engine and token names: the text tables of
  `indexctl jobs`, `status` and `token list` size their columns from the
  data, so every row stays in line with its header.

No builderd and no engine: jobs are submitted over the API and their end
is written into the job store with sqlite3, as builderd would.
"""

import base64
import json
import os
import re
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


def set_job(env, jid, sql, *args):
    db = sqlite3.connect(os.path.join(env.datadir, "catalog.sqlite"))
    try:
        db.execute("UPDATE jobs SET %s WHERE id = ?" % sql, args + (jid,))
        db.commit()
    finally:
        db.close()


def check_table(lines, labels, cells, right=(), what=""):
    """lines: header + rows of a table; cells: the rows' expected cells
    ("": not checked). Left-aligned cells start where their label starts,
    right-aligned ones end where it ends; nothing trails."""
    header, rows = lines[0], lines[1:]
    cols, at = [], 0
    for label in labels:
        a = header.find(label, at)
        check(a >= at and (a == 0 or header[a - 1] == " "),
              "%s header: %r has no %r" % (what, header, label))
        cols.append((a, a + len(label)))
        at = a + len(label) + 1
    check(len(rows) == len(cells), "%s: %d rows, want %d:\n%s" % (
        what, len(rows), len(cells), "\n".join(lines)))
    for line in lines:
        check(line == line.rstrip(), "%s: trailing blanks %r" % (what, line))
    for line, want in zip(rows, cells):
        for i, ((a, b), cell) in enumerate(zip(cols, want)):
            if cell == "":
                continue
            if i in right:
                got, start = line[b - len(cell):b], b - len(cell)
            else:
                got, start = line[a:a + len(cell)], a
            ok = got == cell and (start == 0 or line[start - 1] == " ") \
                and line[start + len(cell):start + len(cell) + 1] in ("",
                                                                     " ")
            check(ok, "%s: %r not in column %d (%d-%d) of\n%s" % (
                what, cell, i, a, b, "\n".join(lines)))


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


def test_long_names():
    short, long_ = "t", "cp311-manylinux_2_28-x86_64-long-name"
    with environment("it_indexd_jobs_cols") as env:
        setup(env, [short, long_])
        tok = env.token("ci-agent-with-a-rather-long-token-name",
                        scope="submit")
        env.token("u", scope="upload", project="x")
        srv = env.start()
        a = submit(srv, tok, "wwdemo==1.0", [short, long_])
        b = submit(srv, tok, "a-rather-long-project-name-for-the-columns"
                   "==10.0.0", [long_])
        srv.stop()
        set_job(env, a[0], "state = 'running', attempts = 1, engine = ?, "
                "container_id = 'c0ffee', started_us = created_us",
                "engine-with-a-long-name")
        fail_job(env, b[0], b"ld: cannot find -lfoo")

        jobs = {j["id"]: j for j in json.loads(
            env.indexctl("jobs", "--json").stdout)}
        lines = env.indexctl("jobs").stdout.splitlines()
        want = []
        for line in lines[1:]:
            j = jobs[int(line.split()[0])]
            want.append([str(j["id"]), j["state"], j["target"],
                         "%s==%s" % (j["project"], j["version"]),
                         "%d/%d" % (j["attempts"], j["max_attempts"])])
        check(sorted(int(c[0]) for c in want) == sorted(jobs),
              "every job listed: %r" % lines)
        check_table(lines, ["ID", "STATE", "TARGET", "RELEASE", "TRIES",
                            "SINCE", "DETAIL"], want, right=(0,),
                    what="indexctl jobs")
        check(any(long_ in line for line in lines) and
              any("on engine-with-a-long-name for" in line
                  for line in lines), "\n".join(lines))

        out = env.indexctl("status").stdout.splitlines()
        check_table(out[:3], ["TARGET", "QUEUED", "RUNNING", "SUCCEEDED",
                              "FAILED", "CANCELLED"], [[short, "0", "1", "0", "0", "0"],
                              [long_, "1", "0", "0", "1", "0"]],
                    right=(1, 2, 3, 4, 5), what="status counts")
        r = out.index("running:")
        check_table([x[2:] for x in out[r + 1:r + 3]],
                    ["ENGINE", "JOB", "TARGET", "RELEASE", "FOR",
                     "CONTAINER"], [["engine-with-a-long-name", str(a[0]), short,
                      "wwdemo==1.0", "", "c0ffee"]], right=(1,),
                    what="status running")
        f = out.index("last failures:")
        check_table([x[2:] for x in out[f + 1:f + 3]],
                    ["JOB", "TARGET", "RELEASE", "CLASS", "FINISHED",
                     "MESSAGE"], [[str(b[0]), long_, "a-rather-long-project-name-for-"
                      "the-columns==10.0.0", "build_error", "",
                      "ld: cannot find -lfoo"]], right=(0,),
                    what="status failures")

        out = env.indexctl("token", "list").stdout.splitlines()
        check_table(out, ["NAME", "SCOPE", "PROJECT", "CREATED",
                          "LAST USED", "STATUS"], [["ci-agent-with-a-rather-long-token-name",
                           "submit", "*", "", "", "active"],
                          ["u", "upload", "x", "", "never", "active"]],
                    what="token list")


if __name__ == "__main__":
    run_tests([
        ("invalid UTF-8 in a failure message", test_invalid_utf8_message),
        ("long names in the text tables", test_long_names),
    ])
