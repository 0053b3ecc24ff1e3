#!/usr/bin/python3
"""it_upstream.py: builderd's upstream client against real things.

1. Differential: hundreds of generated PEP 503 HTML and PEP 691 JSON
   project pages (relative, absolute and protocol-relative links, <base>,
   entities, quoting styles, case, comments, scripts, hash fragments,
   yanking, Requires-Python, files of other projects and junk) are parsed
   by our parser (tests/tool_builder_sched parse) and by pip 23.0.1's own
   (pip._internal.index.collector.parse_links); the wheels and sdists of
   the project, their URLs, sha256, Requires-Python and yank state must
   agree. Known, deliberate difference: a valueless data-yanked attribute
   means yanked to us (PEP 592) and not to pip; the generator avoids it
   (the unit test covers it).
2. Our own indexd as the upstream: sdists and wheels imported with
   indexctl, one release yanked; the tool fetches the project page (PEP
   691 JSON chosen by Accept), revalidates it with the ETag (304),
   downloads a file and checks its sha256, and reconcile picks the right
   release from it for two targets.
"""
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import urllib.parse

SRC = os.environ["WW_SOURCE_DIR"]
BUILD = os.environ["WW_BUILD_DIR"]
TOOL = os.path.join(BUILD, "tests", "tool_builder_sched")
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))
sys.path.insert(0, "/usr/lib/python3/dist-packages")
from indexd_harness import (check, environment, log, make_sdist,  # noqa
                            make_wheel, run_tests, sha256_file)
from packaging.utils import (canonicalize_name, parse_sdist_filename,  # noqa
                             parse_wheel_filename)
from pip._internal.index.collector import IndexContent, parse_links  # noqa

PAGE_URL = "https://idx.example/simple/pkg/"
NAMES = ["pkg-1.0.tar.gz", "pkg-1.1.zip", "Pkg-2.0.tar.gz",
         "pkg-1.0-py3-none-any.whl", "pkg-2.0rc1-cp311-cp311-"
         "manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
         "pkg-3.0-1-py2.py3-none-any.whl", "pkg-1.0.post1.tar.gz",
         "pkg-4.0+local.1.tar.gz", "PKG-5.0.tar.gz", "pkg-6.0.dev3.zip",
         # not ours
         "other-1.0.tar.gz", "pkg-1.0.egg", "pkg-1.0-py2.7.egg",
         "pkgx-1.0.tar.gz", "index.html", "pkg-1.0.tar.bz2",
         "pkg-1.0.exe", "pkg_extra-1.0-py3-none-any.whl"]
REQPY = [None, ">=3.8", "&gt;=3.7,&lt;4", "&gt;=3.6&#44;!=3.9.*",
         "&gt;=3.8,&lt;3.13&#x2C;!=3.10.0", "&quot;weird&quot;"]


def rand_hash(rnd):
    return "".join(rnd.choice("0123456789abcdef") for _ in range(64))


def href_for(rnd, name):
    where = rnd.choice(["rel", "file", "abs", "proto", "root", "query"])
    qname = urllib.parse.quote(name) if rnd.random() < 0.3 else name
    if where == "rel":
        url = "../../packages/ab/cd/" + qname
    elif where == "file":
        url = qname
    elif where == "abs":
        url = "https://files.example/p/" + qname
    elif where == "proto":
        url = "//cdn.example/x/" + qname
    elif where == "root":
        url = "/root/" + qname
    else:
        url = "/dl/" + qname + "?token=1&amp;x=2"
    frag = rnd.choice(["", "sha256", "SHA", "md5", "multi"])
    h = rand_hash(rnd)
    if frag == "sha256":
        url += "#sha256=" + h
    elif frag == "SHA":
        url += "#sha256=" + h.upper()
    elif frag == "md5":
        url += "#md5=" + h[:32]
    elif frag == "multi":
        url += "#egg=pkg&amp;sha256=" + h
    return url


def html_page(rnd):
    out = ["<!DOCTYPE html>", "<html><head>"]
    if rnd.random() < 0.2:
        out.append('<base href="https://base.example/b/">')
    if rnd.random() < 0.2:
        out.append("<script>var s = '<a href=\"pkg-9.9.tar.gz\">';</script>")
    out.append("<title>Links for pkg</title></head><body>")
    for _ in range(rnd.randint(1, 25)):
        name = rnd.choice(NAMES)
        tag = rnd.choice(["a", "A"])
        attr = rnd.choice(["href", "HREF", "Href"])
        q = rnd.choice(['"', "'"])
        attrs = ["%s=%s%s%s" % (attr, q, href_for(rnd, name), q)]
        rp = rnd.choice(REQPY)
        if rp is not None:
            attrs.append('data-requires-python="%s"' % rp)
        if rnd.random() < 0.2:
            attrs.append('data-yanked="%s"' % rnd.choice(
                ["", "broken", "bad &amp; worse", "&lt;3"]))
        if rnd.random() < 0.1:
            attrs.append('data-dist-info-metadata="sha256=%s"' %
                         rand_hash(rnd))
        rnd.shuffle(attrs)
        out.append("<%s %s>%s</%s>%s" % (tag, " ".join(attrs), name, tag,
                                         rnd.choice(["<br/>", "<br>", "\n",
                                                     " a < b ", ""])))
        if rnd.random() < 0.05:
            out.append("<!-- <a href=\"pkg-7.7.tar.gz\">old</a> -->")
    out.append("</body></html>")
    return "\n".join(out)


def json_page(rnd):
    files = []
    for _ in range(rnd.randint(1, 25)):
        name = rnd.choice(NAMES)
        url = href_for(rnd, name).replace("&amp;", "&")
        url = url.split("#")[0]
        e = {"filename": urllib.parse.unquote(url.split("?")[0]
                                              .rsplit("/", 1)[-1]),
             "url": url, "hashes": {}}
        if rnd.random() < 0.7:
            e["hashes"]["sha256"] = rand_hash(rnd)
        if rnd.random() < 0.2:
            e["hashes"]["md5"] = rand_hash(rnd)[:32]
        rp = rnd.choice([None, ">=3.8", ">=3.7,<4", ""])
        if rp is not None:
            e["requires-python"] = rp
        y = rnd.choice([None, None, True, False, "reason", ""])
        if y is not None:
            e["yanked"] = y
        if rnd.random() < 0.2:
            e["dist-info-metadata"] = rnd.choice(
                [True, False, {"sha256": rand_hash(rnd)}])
        files.append(e)
    return json.dumps({"meta": {"api-version": "1.0"}, "name": "pkg",
                       "files": files})


def ours_of(kind, path):
    p = subprocess.run([TOOL, "parse", kind, "pkg", PAGE_URL, path],
                       capture_output=True, text=True)
    check(p.returncode == 0, "parse failed: %s" % p.stderr)
    return json.loads(p.stdout)["files"]


def is_ours(filename):
    try:
        if filename.endswith(".whl"):
            name = parse_wheel_filename(filename)[0]
        elif filename.endswith((".tar.gz", ".zip")):
            name = parse_sdist_filename(filename)[0]
        else:
            return False
    except Exception:
        return False
    return canonicalize_name(name) == "pkg"


def pip_of(content, ctype):
    out = []
    # cache_link_parsing=False: pip caches parses by URL, and every page
    # here has the same URL.
    for link in parse_links(IndexContent(content.encode(), ctype, "utf-8",
                                         PAGE_URL, cache_link_parsing=False)):
        scheme = urllib.parse.urlsplit(link.url).scheme
        if scheme not in ("http", "https") or not is_ours(link.filename):
            continue
        m = re.search(r"[#&]sha256=([^&]*)", link.url)
        sha = (link._hashes or {}).get("sha256") if ctype.endswith("json") \
            else (m.group(1) if m else None)
        out.append({"filename": link.filename,
                    "url": urllib.parse.unquote(link.url_without_fragment),
                    "sha256": sha.lower() if sha else None,
                    "requires_python": link.requires_python or None,
                    "yanked": link.yanked_reason is not None,
                    "yanked_reason": link.yanked_reason or None})
    return out


def norm_ours(files):
    return [{"filename": f["filename"],
             "url": urllib.parse.unquote(f["url"]),
             "sha256": f["sha256"],
             "requires_python": f["requires_python"],
             "yanked": f["yanked"],
             "yanked_reason": f["yanked_reason"]} for f in files]


def key(f):
    return json.dumps(f, sort_keys=True)


def differential(kind, n):
    rnd = random.Random(691 if kind == "json" else 503)
    work = os.path.join(os.environ.get("WW_TEST_TMP", "/tmp"),
                        "it_upstream.%d" % os.getpid())
    os.makedirs(work, exist_ok=True)
    total = bad = 0
    for i in range(n):
        page = json_page(rnd) if kind == "json" else html_page(rnd)
        path = os.path.join(work, "page")
        with open(path, "w") as f:
            f.write(page)
        ours = sorted(map(key, norm_ours(ours_of(kind, path))))
        theirs = sorted(map(key, pip_of(page, (
            "application/vnd.pypi.simple.v1+json" if kind == "json"
            else "text/html"))))
        total += len(theirs)
        if ours != theirs:
            bad += 1
            if bad <= 2:
                log("page %d differs:\n%s\nours:   %s\npip:    %s" % (
                    i, page, "\n        ".join(sorted(set(ours) - set(theirs))),
                    "\n        ".join(sorted(set(theirs) - set(ours)))))
    os.unlink(os.path.join(work, "page"))
    os.rmdir(work)
    log("%s: %d pages, %d links of the project, %d pages differ" %
        (kind, n, total, bad))
    check(bad == 0, "%d %s pages parse differently from pip" % (bad, kind))
    check(total > n, "the generator produced too few links")


def test_html_differential():
    differential("html", 300)


def test_json_differential():
    differential("json", 300)


def test_indexd_upstream():
    with environment("it_upstream") as env:
        d = os.path.join(env.root, "dist")
        files = [make_sdist(d, "Up-Pkg", "1.0"),
                 make_sdist(d, "Up-Pkg", "2.0", requires_python=">=3.12"),
                 make_sdist(d, "Up-Pkg", "3.0"),
                 make_wheel(d, "Up-Pkg", "2.0", requires_python=">=3.12")]
        env.import_files(*files)
        env.indexctl("yank", "up-pkg==3.0", "--reason", "broken")
        srv = env.start()
        conf = os.path.join(env.root, "builder.conf")
        with open(os.path.join(env.root, "reqs.txt"), "w") as f:
            f.write("up_pkg\n")
        with open(conf, "w") as f:
            f.write("""[global]
datadir = %s/bdata
[builderd]
requirements = reqs.txt
[upstream ours]
url = http://127.0.0.1:%d/simple/
retries = 1
[target t311]
python = 3.11.2
policy = manylinux
arch = x86_64
image = img
[target t312]
python = 3.12.1
policy = manylinux
arch = aarch64
image = img
""" % (env.root, srv.port))
        p = subprocess.run([TOOL, "page", "-c", conf, "ours", "Up.Pkg"],
                           capture_output=True, text=True)
        check(p.returncode == 0, "page: " + p.stderr)
        page = json.loads(p.stdout)
        check(page["format"] == "json" and page["source"] == "fetched",
              "JSON from indexd: %r" % {k: page[k] for k in
                                        ("format", "source")})
        byname = {f["filename"]: f for f in page["files"]}
        check(sorted(byname) == sorted(os.path.basename(x) for x in files),
              "files: %r" % sorted(byname))
        for path in files:
            f = byname[os.path.basename(path)]
            check(f["sha256"] == sha256_file(path), "hash of " + f["filename"])
            check(f["size"] == os.path.getsize(path), "size")
        check(byname["up_pkg-3.0.tar.gz"]["yanked"] and
              byname["up_pkg-3.0.tar.gz"]["yanked_reason"] == "broken",
              "yanked")
        check(byname["up_pkg-2.0.tar.gz"]["requires_python"] == ">=3.12",
              "requires-python")
        check(byname["up_pkg-2.0-py3-none-any.whl"]["has_metadata"],
              "PEP 658 metadata advertised")
        # Revalidation: indexd's ETag gives a 304, the cached body is used.
        p = subprocess.run([TOOL, "page", "-c", conf, "ours", "up-pkg",
                            "--revalidate"], capture_output=True, text=True)
        again = json.loads(p.stdout)
        check(again["source"] == "revalidated" and
              again["files"] == page["files"], "304 reuse: %s" %
              again["source"])
        env.wait_flush()
        codes = re.findall(r'"GET /simple/up-pkg/ HTTP/1\.1" (\d+)',
                           srv.access_log())
        # (two workers log independently: order is not guaranteed)
        check(sorted(codes) == ["200", "304"], "indexd saw %r" % codes)
        # Download with hash verification.
        dest = os.path.join(env.root, "got.tar.gz")
        p = subprocess.run([TOOL, "download", "-c", conf, "ours", "up-pkg",
                            "up_pkg-1.0.tar.gz", dest],
                           capture_output=True, text=True)
        check(p.returncode == 0 and json.loads(p.stdout)["sha256"] ==
              sha256_file(files[0]) == sha256_file(dest), "download")
        # Reconcile against it: 3.0 is yanked; 2.0 needs Python 3.12.
        p = subprocess.run([TOOL, "reconcile", "-c", conf, "--dry-run"],
                           capture_output=True, text=True)
        check(p.returncode == 0, "reconcile: " + p.stderr)
        got = {(d["target"], d["action"], d["version"])
               for d in map(json.loads, p.stdout.splitlines())
               if "target" in d}
        check(got == {("t311", "enqueued", "1.0"),
                      ("t312", "enqueued", "2.0")}, "reconcile: %r" % got)


if __name__ == "__main__":
    run_tests([("html differential against pip", test_html_differential),
               ("json differential against pip", test_json_differential),
               ("indexd as the upstream", test_indexd_upstream)])
