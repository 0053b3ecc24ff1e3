"""it_indexd_twine.py: uploads with Debian's twine (and curl for the raw
statuses) to indexd on 127.0.0.1, with tokens from `indexctl token`.

A good token uploads; the same bytes again are a no-op (so --skip-existing
works); a bad, revoked, out-of-scope or wrong-project token, a corrupt
wheel, different bytes under an existing name, an oversized body and a
malformed multipart body are each refused with the right status, and the
catalog and the store are unchanged afterwards. pip then installs what was
uploaded.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from indexd_harness import (DEBIAN_PYTHON, check, environment, log,  # noqa
                            make_sdist, make_venv, make_wheel, pip, request,
                            run_tests, sha256_file)

TWINE = shutil.which("twine") or "/usr/bin/twine"


def twine(srv, token, *files, extra=()):
    env = dict(os.environ)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env.pop("TWINE_PASSWORD", None)
    cmd = [TWINE, "upload", "--non-interactive", "--disable-progress-bar",
           "--repository-url", srv.url + "/", "-u", "__token__",
           "-p", token] + list(extra) + list(files)
    return subprocess.run(cmd, capture_output=True, text=True, env=env,
                          timeout=300)


def curl_upload(srv, path, token=None, extra_fields=None, name=None,
                filename=None):
    cmd = ["curl", "-sS", "-o", "/dev/stdout", "-w", "\n%{http_code}",
           "-F", ":action=file_upload", "-F", "protocol_version=1",
           "-F", "content=@%s;filename=%s" % (
               path, filename or os.path.basename(path))]
    if name:
        cmd += ["-F", "name=" + name]
    for k, v in (extra_fields or {}).items():
        cmd += ["-F", "%s=%s" % (k, v)]
    if token is not None:
        cmd += ["-u", "__token__:" + token]
    cmd.append(srv.url + "/")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    body, _, code = p.stdout.rpartition("\n")
    return int(code or 0), body


def tamper(path, out):
    """Same name and RECORD, but one member's bytes changed: twine (which
    only reads METADATA) accepts it, indexd's verifier must not."""
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("__init__.py"):
                data = data.replace(b"__version__", b"__VERSION__")
            zout.writestr(info, data)
    return out


def test_twine_uploads():
    with environment("it_indexd_twine") as env:
        env.write_config(max_upload_size="2M")
        dist = os.path.join(env.root, "dist")
        good = make_wheel(dist, "uploaded-pkg", "1.0",
                          requires_python=">=3.7")
        sdist = make_sdist(dist, "uploaded-pkg", "1.0")
        ci = env.token("ci", "upload")
        srv = env.start()

        p = twine(srv, ci, good, sdist)
        check(p.returncode == 0, "twine upload failed:\n%s%s" %
              (p.stdout, p.stderr))
        r = request(srv.port, "GET", "/simple/uploaded-pkg/",
                    {"Accept": "application/vnd.pypi.simple.v1+json"})
        j = json.loads(r.body)
        got = {f["filename"]: f["hashes"]["sha256"] for f in j["files"]}
        check(got == {os.path.basename(good): sha256_file(good),
                      os.path.basename(sdist): sha256_file(sdist)}, got)
        check(j["files"][0]["requires-python"] == ">=3.7" or
              j["files"][1]["requires-python"] == ">=3.7", j)
        rows = [r for r in env.catalog_rows()[0]]
        check(len(rows) == 2, rows)
        r = request(srv.port, "GET", "/files/" + os.path.basename(good))
        check(r.body == open(good, "rb").read(), "stored bytes differ")
        logtext = srv.access_log()
        check('- ci [' in logtext and '"POST / HTTP/1.1" 200' in logtext,
              "upload not logged with the token name:\n" + logtext)

        # the same bytes again: accepted as a no-op
        p = twine(srv, ci, good)
        check(p.returncode == 0, "re-upload of identical bytes failed:\n%s%s"
              % (p.stdout, p.stderr))
        state = env.catalog_rows()
        store = env.store_files()

        def unchanged(what):
            check(env.catalog_rows() == state,
                  "%s changed the catalog" % what)
            check(env.store_files() == store, "%s changed the store" % what)
            tmp = os.path.join(env.datadir, "tmp")
            left = os.listdir(tmp) if os.path.isdir(tmp) else []
            check(left == [], "%s left temp files: %s" % (what, left))

        # different bytes under an existing name: 409, and --skip-existing
        other = make_wheel(os.path.join(env.root, "other"), "uploaded-pkg",
                           "1.0", requires_python=">=3.8")
        check(sha256_file(other) != sha256_file(good), "same bytes?")
        p = twine(srv, ci, other)
        check(p.returncode != 0 and "409" in p.stdout + p.stderr,
              "conflicting re-upload: %s%s" % (p.stdout, p.stderr))
        unchanged("conflicting re-upload")
        p = twine(srv, ci, other, extra=["--skip-existing"])
        check(p.returncode == 0 and "Skipping" in p.stdout + p.stderr,
              "--skip-existing: %s%s" % (p.stdout, p.stderr))
        unchanged("--skip-existing")
        code, body = curl_upload(srv, other, ci)
        check(code == 409 and "different content" in body, (code, body))

        # bad token, revoked token, wrong scope, wrong project
        new = make_wheel(dist, "uploaded-pkg", "2.0")
        p = twine(srv, "ww-not-a-real-token", new)
        check(p.returncode != 0 and "403" in p.stdout + p.stderr,
              "bad token: %s%s" % (p.stdout, p.stderr))
        unchanged("bad token")
        gone = env.token("gone", "upload")
        env.indexctl("token", "revoke", "gone")
        code, body = curl_upload(srv, new, gone)
        check(code == 403 and "revoked" in body, (code, body))
        sub = env.token("agent", "submit")
        code, body = curl_upload(srv, new, sub)
        check(code == 403 and "scope" in body, (code, body))
        scoped = env.token("only-other", "upload", project="other-project")
        p = twine(srv, scoped, new)
        check(p.returncode != 0 and "403" in p.stdout + p.stderr,
              "wrong project: %s%s" % (p.stdout, p.stderr))
        code, body = curl_upload(srv, new, None)
        check(code == 401, (code, body))
        r = request(srv.port, "POST", "/", {"Content-Length": "0"})
        check(r.status == 401 and
              r.header("www-authenticate") == 'Basic realm="wheelwright"',
              r)
        unchanged("refused tokens")

        # corrupt wheel (RECORD hash mismatch), truncated archive
        bad = tamper(new, os.path.join(env.root, os.path.basename(new)))
        p = twine(srv, ci, bad)
        check(p.returncode != 0 and "400" in p.stdout + p.stderr,
              "corrupt wheel: %s%s" % (p.stdout, p.stderr))
        unchanged("corrupt wheel")
        trunc = os.path.join(env.root, "trunc", os.path.basename(new))
        os.makedirs(os.path.dirname(trunc))
        with open(new, "rb") as f, open(trunc, "wb") as g:
            g.write(f.read()[:300])
        code, body = curl_upload(srv, trunc, ci)
        check(code == 400, (code, body))
        unchanged("truncated wheel")

        # sha256_digest that does not match; a name that is not a file
        code, body = curl_upload(srv, new, ci,
                                 {"sha256_digest": "0" * 64})
        check(code == 400 and "sha256_digest" in body, (code, body))
        code, body = curl_upload(srv, new, ci, filename="../evil.whl")
        check(code == 400, (code, body))
        unchanged("bad digest / name")

        # oversized body (limit 2M): 413 from twine's point of view too
        big = make_wheel(os.path.join(env.root, "big"), "uploaded-pkg",
                         "3.0", payload_size=3 * 1024 * 1024)
        p = twine(srv, ci, big)
        check(p.returncode != 0 and "413" in p.stdout + p.stderr,
              "oversized: %s%s" % (p.stdout, p.stderr))
        unchanged("oversized upload")

        # malformed multipart bodies
        for ctype, body in [
                ("multipart/form-data; boundary=xx",
                 b"--xx\r\nContent-Disposition: form-data; name=\":action\""
                 b"\r\n\r\nfile_upload\r\n--xx\r\nno colon\r\n\r\n"),
                ("multipart/form-data; boundary=xx",
                 b"--xx\r\nContent-Disposition: form-data; name=\"content\";"
                 b" filename=\"a-1.0.tar.gz\"\r\n\r\ntruncated"),
                ("multipart/form-data", b"--xx--"),
                ("application/json", b"{}")]:
            r = request(srv.port, "POST", "/", {
                "Content-Type": ctype,
                "Authorization": "Basic " + __import__("base64").b64encode(
                    ("__token__:" + ci).encode()).decode()}, body)
            check(r.status in (400, 415), "%s: %r" % (ctype, r))
        unchanged("malformed multipart")

        # the metrics saw all that
        m = request(srv.port, "GET", "/metrics").body.decode()
        for want in ('indexd_uploads_total{result="added"} 2',
                     'indexd_uploads_total{result="exists"} 1',
                     'indexd_uploads_total{result="unauthorized"}'):
            check(want in m, "metrics lack %r" % want)

        # a good upload after all that, then pip installs it
        p = twine(srv, ci, new)
        check(p.returncode == 0, p.stdout + p.stderr)
        py = make_venv(env.root, DEBIAN_PYTHON)
        pip(py, "install", "--index-url", srv.url + "/simple/",
            "uploaded-pkg")
        out = subprocess.run([py, "-c", "import uploaded_pkg as u; "
                              "print(u.__version__)"], capture_output=True,
                             text=True).stdout.strip()
        check(out == "2.0", "pip installed %r" % out)
        srv.stop()


if __name__ == "__main__":
    run_tests([("twine_uploads", test_twine_uploads)])
