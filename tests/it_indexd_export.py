"""it_indexd_export.py: `indexctl export-static` served by nginx (Debian's
nginx-light with bench/nginx-simple.conf) gives pip the same results as
indexd: byte-identical pages in both forms, files and .metadata, the same
installs and platform picks, yanked files skipped; re-exports swap in
atomically and a directory that is not an export is never replaced.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from indexd_harness import (DEBIAN_PYTHON, Nginx, check, environment,  # noqa
                            log, make_sdist, make_venv, make_wheel, pip,
                            pip_version, pyenv_python, request, run_tests,
                            sha256_file)

JSON = "application/vnd.pypi.simple.v1+json"
PIP_ACCEPT = JSON + ", application/vnd.pypi.simple.v1+html; q=0.1, " \
    "text/html; q=0.01"


def corpus(env):
    d = os.path.join(env.root, "dist")
    files = [
        make_wheel(d, "alpha", "1.0"),
        make_wheel(d, "alpha", "2.0", requires_python=">=3.7"),
        make_wheel(d, "beta", "1.0", requires_dist=["alpha>=1.0"]),
        make_wheel(d, "gamma", "1.0", requires_dist=["alpha"]),
        make_wheel(d, "gamma", "2.0", requires_dist=["no-such-thing"]),
        make_wheel(d, "delta", "1.0"),
        make_wheel(d, "delta", "2.0"),
        make_sdist(d, "delta", "2.0"),
        make_wheel(d, "Native_Pkg", "1.0"),
        make_wheel(d, "Native_Pkg", "1.0",
                   tag="cp311-cp311-musllinux_1_2_aarch64"),
        make_wheel(d, "Native_Pkg", "1.0",
                   tag="cp311-cp311-manylinux_2_17_x86_64"),
        make_wheel(d, "plus", "1.0+local.7"),
    ]
    env.import_files(*files)
    env.indexctl("yank", "delta==2.0", "--reason", "broken")
    return files


def freeze(py):
    return subprocess.run([py, "-m", "pip", "freeze"], capture_output=True,
                          text=True).stdout.split()


def compare_pages(idx, ngx, projects):
    for path in ["/simple/"] + ["/simple/%s/" % p for p in projects]:
        for accept in (None, PIP_ACCEPT):
            h = {"Accept": accept} if accept else {}
            a = request(idx.port, "GET", path, h)
            b = request(ngx.port, "GET", path, h)
            check(a.status == 200 and b.status == 200, (path, a, b))
            check(a.body == b.body, "%s (%s) differs:\nindexd %r\nnginx  %r"
                  % (path, accept, a.body[:300], b.body[:300]))
            check(a.header("content-type").split(";")[0] ==
                  b.header("content-type").split(";")[0],
                  (path, a.headers, b.headers))
            check(b.header("vary") == "Accept", b.headers)


def test_export_parity():
    with environment("it_indexd_export") as env:
        corpus(env)
        idx = env.start()
        out = os.path.join(env.root, "export")
        p = env.indexctl("export-static", out)
        check("exported 6 project(s), 12 file(s)" in p.stdout, p.stdout)
        ngx = Nginx(out, os.path.join(env.root, "nginx"))
        try:
            projects = sorted(x["name"] for x in json.loads(
                request(idx.port, "GET", "/simple/",
                        {"Accept": JSON}).body)["projects"])
            norm = [n.lower().replace("_", "-") for n in projects]
            compare_pages(idx, ngx, norm)
            # every file and .metadata, byte for byte
            for proj in norm:
                j = json.loads(request(idx.port, "GET", "/simple/%s/" % proj,
                                       {"Accept": JSON}).body)
                for f in j["files"]:
                    url = "/files/" + f["url"].split("/files/")[1]
                    a = request(idx.port, "GET", url)
                    b = request(ngx.port, "GET", url)
                    check(a.body == b.body and a.status == b.status == 200,
                          url)
                    if f["core-metadata"]:
                        a = request(idx.port, "GET", url + ".metadata")
                        b = request(ngx.port, "GET", url + ".metadata")
                        check(a.body == b.body and b.status == 200,
                              url + ".metadata")

            # pip (Debian's, and pyenv's if present): the same results
            # from both servers
            pythons = [(DEBIAN_PYTHON, "debian")]
            if pyenv_python():
                pythons.append((pyenv_python(), "pyenv"))
            for python, plabel in pythons:
                results = []
                log_start = os.path.getsize(ngx.access_log)
                for label, srv in (("indexd", idx), ("nginx", ngx)):
                    py = make_venv(env.root, python,
                                   "venv-%s-%s" % (plabel, label))
                    pip(py, "install", "--index-url", srv.url + "/simple/",
                        "beta", "gamma", "delta", "plus")
                    results.append(sorted(freeze(py)))
                    dl = os.path.join(env.root, "dl-%s-%s" % (plabel, label))
                    pip(py, "download", "--index-url", srv.url + "/simple/",
                        "--platform", "musllinux_1_2_aarch64",
                        "--only-binary=:all:", "--python-version", "3.11",
                        "--no-deps", "-d", dl, "native-pkg")
                    results.append(sorted(
                        (f, sha256_file(os.path.join(dl, f)))
                        for f in os.listdir(dl)))
                check(results[0] == results[2], "%s: pip installed "
                      "differently:\n%s\n%s" % (plabel, results[0],
                                                 results[2]))
                check(results[1] == results[3], "%s: platform pick "
                      "differs:\n%s\n%s" % (plabel, results[1], results[3]))
                check("alpha==2.0" in results[0] and
                      "gamma==1.0" in results[0] and
                      "delta==1.0" in results[0], results[0])
                check([f for f, _ in results[1]] ==
                      ["native_pkg-1.0-cp311-cp311-musllinux_1_2_aarch64"
                       ".whl"], results[1])
                ver = tuple(int(x) for x in pip_version(py).split(".")[:2])
                if ver >= (23, 2):
                    # PEP 658 metadata from the static tree too
                    with open(ngx.access_log) as f:
                        f.seek(log_start)
                        nlog = f.read()
                    check("gamma-2.0-py3-none-any.whl.metadata" in nlog and
                          "GET /files/gamma-2.0-py3-none-any.whl " not in
                          nlog, "nginx log:\n" + nlog)

            # re-export after a change: swapped in, old tree gone
            env.indexctl("unyank", "delta==2.0")
            env.import_files(make_wheel(os.path.join(env.root, "more"),
                                        "alpha", "3.0"))
            env.indexctl("export-static", out)
            compare_pages(idx, ngx, norm)
            j = json.loads(request(ngx.port, "GET", "/simple/alpha/",
                                   {"Accept": JSON}).body)
            check("3.0" in j["versions"], j)
            left = [n for n in os.listdir(env.root) if "export.tmp" in n]
            check(left == [], "temp trees left: %s" % left)
        finally:
            ngx.stop()
        idx.stop()

        # never replaces a directory that is not an export
        mine = os.path.join(env.root, "precious")
        os.makedirs(mine)
        with open(os.path.join(mine, "keep.txt"), "w") as f:
            f.write("mine")
        p = env.indexctl("export-static", mine, check_rc=False)
        check(p.returncode != 0 and "refusing" in p.stderr, p.stderr)
        check(os.listdir(mine) == ["keep.txt"], os.listdir(mine))
        left = [n for n in os.listdir(env.root) if "precious.tmp" in n]
        check(left == [], left)


if __name__ == "__main__":
    run_tests([("export_parity", test_export_parity)])
