"""it_indexd_protocol.py: indexd's simple API on 127.0.0.1 with a real
catalog filled by `indexctl import`: PEP 503/629/658/691/700/714/592
content, negotiation (q-values, 406, ?format=), redirects, ETag/304 that
changes exactly with a project's files and yank state, files with
HEAD/Range/416/304, .metadata, /healthz, /metrics, the access log, and
malformed or oversized requests (4xx, only that connection closes).
"""

import json
import os
import re
import select
import socket
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from indexd_harness import (check, environment, log, make_sdist,  # noqa
                            make_wheel, raw, request, run_tests, sha256_file)

PIP_ACCEPT = ("application/vnd.pypi.simple.v1+json, "
              "application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01")
JSON = "application/vnd.pypi.simple.v1+json"


def corpus(env):
    d = os.path.join(env.root, "dist")
    files = [
        make_wheel(d, "demo", "1.0"),
        make_wheel(d, "demo", "2.0", requires_python=">=3.8,<4"),
        make_sdist(d, "demo", "1.0"),
        make_wheel(d, "Other.Pkg", "0.1"),
    ]
    env.import_files(*files)
    return {os.path.basename(f): f for f in files}


def get(srv, path, accept=None, **hdrs):
    headers = dict(hdrs)
    if accept is not None:
        headers["Accept"] = accept
    return request(srv.port, "GET", path, headers)


def test_pages():
    with environment("it_indexd_pages") as env:
        files = corpus(env)
        srv = env.start()

        # project list, both forms
        r = get(srv, "/simple/")
        check(r.status == 200, r)
        check(r.header("content-type") == "text/html; charset=utf-8", r)
        check(r.header("vary") == "Accept", r.headers)
        check(r.header("etag"), "no ETag on /simple/")
        html = r.body.decode()
        check('<meta name="pypi:repository-version" content="1.1">' in html,
              html)
        check('<a href="demo/">demo</a>' in html, html)
        check('<a href="other-pkg/">Other.Pkg</a>' in html, html)
        r = get(srv, "/simple/", PIP_ACCEPT)
        check(r.status == 200 and r.header("content-type") == JSON, r)
        j = json.loads(r.body)
        check(j["meta"]["api-version"] == "1.1", j)
        check(sorted(p["name"] for p in j["projects"]) ==
              ["Other.Pkg", "demo"], j)

        # project page, JSON (PEP 691 + 700 + 714)
        r = get(srv, "/simple/demo/", PIP_ACCEPT)
        check(r.status == 200 and r.header("content-type") == JSON, r)
        j = json.loads(r.body)
        check(j["name"] == "demo", j)
        check(j["versions"] == ["1.0", "2.0"], j)
        byname = {f["filename"]: f for f in j["files"]}
        check(sorted(byname) == ["demo-1.0-py3-none-any.whl",
                                 "demo-1.0.tar.gz",
                                 "demo-2.0-py3-none-any.whl"], byname)
        for fn, f in byname.items():
            check(f["hashes"]["sha256"] == sha256_file(files[fn]), f)
            check(f["size"] == os.path.getsize(files[fn]), f)
            check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z",
                               f["upload-time"]), f)
            check(f["yanked"] is False, f)
            fr = get(srv, urllib.parse.urljoin("/simple/demo/", f["url"]))
            check(fr.status == 200 and fr.body == open(files[fn],
                                                       "rb").read(), fr)
        w2 = byname["demo-2.0-py3-none-any.whl"]
        check(w2["requires-python"] == ">=3.8,<4", w2)
        check("requires-python" not in byname["demo-1.0-py3-none-any.whl"],
              byname)
        md = get(srv, urllib.parse.urljoin("/simple/demo/", w2["url"]) +
                 ".metadata")
        check(md.status == 200, md)
        check(b"Name: demo" in md.body and b"Version: 2.0" in md.body, md)
        import hashlib
        mdsha = hashlib.sha256(md.body).hexdigest()
        check(w2["core-metadata"] == {"sha256": mdsha}, w2)
        # PEP 714: the old key is not in JSON (pip 22.3-23.1 crash on it)
        check("dist-info-metadata" not in w2, w2)
        sd = byname["demo-1.0.tar.gz"]
        check(sd["core-metadata"] is False, sd)
        check(get(srv, "/files/demo-1.0.tar.gz.metadata").status == 404,
              "sdist .metadata served")

        # project page, HTML (PEP 503 + 629 + 658/714)
        r = get(srv, "/simple/demo/")
        check(r.status == 200, r)
        html = r.body.decode()
        check('<meta name="pypi:repository-version" content="1.1">' in html,
              html)
        want = ('<a href="../../files/demo-2.0-py3-none-any.whl#sha256=%s" '
                'data-requires-python="&gt;=3.8,&lt;4" '
                'data-dist-info-metadata="sha256=%s" '
                'data-core-metadata="sha256=%s">demo-2.0-py3-none-any.whl'
                '</a>' % (w2["hashes"]["sha256"], mdsha, mdsha))
        check(want in html, html)
        check("data-yanked" not in html, html)
        r = get(srv, "/simple/demo/",
                "application/vnd.pypi.simple.v1+html")
        check(r.header("content-type") ==
              "application/vnd.pypi.simple.v1+html", r.headers)
        check(r.body.decode() == html, "v1+html differs from text/html")

        # HEAD on a page
        r = request(srv.port, "HEAD", "/simple/demo/")
        check(r.status == 200 and r.body == b"" and
              int(r.header("content-length")) == len(html.encode()), r)
        srv.stop()


def test_negotiation_redirects_404():
    with environment("it_indexd_neg") as env:
        corpus(env)
        srv = env.start()
        cases = [
            (None, "text/html"),
            ("*/*", "text/html"),
            ("text/html;q=0.9, %s;q=0.8" % JSON, "text/html"),
            ("text/html;q=0.8, %s;q=0.9" % JSON, JSON),
            ("application/vnd.pypi.simple.latest+json", JSON),
            ("%s;q=0, */*;q=0.5" % JSON, "text/html"),
            ("application/*", "application/vnd.pypi.simple.v1+html"),
        ]
        for accept, want in cases:
            r = get(srv, "/simple/demo/", accept)
            check(r.status == 200 and
                  r.header("content-type").split(";")[0] == want,
                  "Accept %r: %r" % (accept, r))
        for accept in ("application/json", "text/plain, image/png",
                       "%s;q=0" % JSON):
            r = get(srv, "/simple/demo/", accept)
            check(r.status == 406, "Accept %r: %r" % (accept, r))
            check(b"application/vnd.pypi.simple.v1+json" in r.body, r)
        r = get(srv, "/simple/", "application/json")
        check(r.status == 406, r)
        # one answer for every client: no User-Agent games
        r = get(srv, "/simple/demo/", PIP_ACCEPT,
                **{"User-Agent": 'pip/23.0.1 {"installer":{"name":"pip"}}'})
        check(r.header("content-type") == JSON, r.headers)
        # ?format= overrides Accept
        r = get(srv, "/simple/demo/?format=" + JSON, "text/html")
        check(r.status == 200 and r.header("content-type") == JSON, r)
        r = get(srv, "/simple/demo/?format=text/html", PIP_ACCEPT)
        check(r.header("content-type").startswith("text/html"), r)
        r = get(srv, "/simple/demo/?format=application/xml")
        check(r.status == 406, r)

        # redirects to the normalized URL with a trailing slash
        for path, loc in [("/simple", "/simple/"),
                          ("/simple/demo", "/simple/demo/"),
                          ("/simple/DEMO/", "/simple/demo/"),
                          ("/simple/Other.Pkg", "/simple/other-pkg/"),
                          ("/simple/other_pkg/", "/simple/other-pkg/"),
                          ("/simple/Other--Pkg/?format=json",
                           "/simple/other-pkg/?format=json")]:
            r = get(srv, path)
            check(r.status == 301 and r.header("location") == loc,
                  "%s: %r %r" % (path, r, r.headers))
            check(r.header("vary") == "Accept" and r.header("content-type"),
                  r.headers)
        # unknown projects: 404 in the negotiated format
        r = get(srv, "/simple/nope/", PIP_ACCEPT)
        check(r.status == 404 and r.header("content-type") == JSON, r)
        check(json.loads(r.body)["meta"]["api-version"] == "1.1", r)
        r = get(srv, "/simple/nope/")
        check(r.status == 404 and
              r.header("content-type").startswith("text/html") and
              b"<html>" in r.body, r)
        check(r.header("vary") == "Accept", r.headers)
        r = get(srv, "/simple/not%20a%20name/")
        check(r.status == 404, r)
        r = get(srv, "/simple/demo/extra/")
        check(r.status == 404, r)
        r = request(srv.port, "POST", "/simple/", {"Content-Length": "0"})
        check(r.status == 405 and r.header("allow") == "GET, HEAD", r)
        srv.stop()


def test_etags_and_yank():
    with environment("it_indexd_etag") as env:
        corpus(env)
        srv = env.start()
        r1 = get(srv, "/simple/demo/", PIP_ACCEPT)
        tag = r1.header("etag")
        htag = get(srv, "/simple/demo/").header("etag")
        vtag = get(srv, "/simple/demo/",
                   "application/vnd.pypi.simple.v1+html").header("etag")
        check(len({tag, htag, vtag}) == 3,
              "representations share an ETag: %s %s %s" % (tag, htag, vtag))
        other = get(srv, "/simple/other-pkg/").header("etag")
        idx = get(srv, "/simple/").header("etag")
        r = get(srv, "/simple/demo/", PIP_ACCEPT, **{"If-None-Match": tag})
        check(r.status == 304 and r.body == b"" and
              r.header("etag") == tag, r)
        check(r.header("vary") == "Accept" and
              r.header("content-type") == JSON, r.headers)
        r = get(srv, "/simple/demo/", PIP_ACCEPT,
                **{"If-None-Match": '"nope", W/' + tag})
        check(r.status == 304, r)
        # nothing changed: same ETag on a second look
        check(get(srv, "/simple/demo/", PIP_ACCEPT).header("etag") == tag,
              "ETag changed without a change")

        # yank shows at once, and changes only demo's ETags
        env.indexctl("yank", "demo==2.0", "--reason", 'broken <"build">')
        r = get(srv, "/simple/demo/", PIP_ACCEPT, **{"If-None-Match": tag})
        check(r.status == 200 and r.header("etag") != tag, r)
        j = json.loads(r.body)
        y = {f["filename"]: f["yanked"] for f in j["files"]}
        check(y["demo-2.0-py3-none-any.whl"] == 'broken <"build">', y)
        check(y["demo-1.0-py3-none-any.whl"] is False, y)
        html = get(srv, "/simple/demo/").body.decode()
        check('data-yanked="broken &lt;&quot;build&quot;&gt;"' in html, html)
        check(get(srv, "/simple/other-pkg/").header("etag") == other,
              "yanking demo changed other-pkg's ETag")
        check(get(srv, "/simple/").header("etag") == idx,
              "yanking changed the project list")
        # yank without a reason: data-yanked="" / true
        # unyank restores the same state, hence the same (content) ETag
        env.indexctl("unyank", "demo==2.0")
        check(get(srv, "/simple/demo/", PIP_ACCEPT).header("etag") == tag,
              "unyank did not restore the page")
        env.indexctl("yank", "demo-1.0.tar.gz")
        j = json.loads(get(srv, "/simple/demo/", PIP_ACCEPT).body)
        y = {f["filename"]: f["yanked"] for f in j["files"]}
        check(y["demo-1.0.tar.gz"] is True and
              y["demo-2.0-py3-none-any.whl"] is False, y)
        check('demo-1.0.tar.gz</a>' in get(srv, "/simple/demo/").body.decode()
              and 'data-yanked=""' in
              get(srv, "/simple/demo/").body.decode(), "no data-yanked")

        # a new file changes that project's ETag and the project list
        before = get(srv, "/simple/demo/", PIP_ACCEPT).header("etag")
        env.import_files(make_wheel(os.path.join(env.root, "more"), "demo",
                                    "3.0"))
        r = get(srv, "/simple/demo/", PIP_ACCEPT)
        check(r.header("etag") != before and
              "3.0" in json.loads(r.body)["versions"], r)
        check(get(srv, "/simple/other-pkg/").header("etag") == other,
              "a demo upload changed other-pkg's ETag")
        env.import_files(make_wheel(os.path.join(env.root, "more"), "new",
                                    "1.0"))
        r = get(srv, "/simple/")
        check(r.header("etag") != idx and b"new/" in r.body, r)
        srv.stop()


def test_files():
    with environment("it_indexd_files") as env:
        files = corpus(env)
        srv = env.start()
        fn = "demo-2.0-py3-none-any.whl"
        data = open(files[fn], "rb").read()
        sha = sha256_file(files[fn])
        r = get(srv, "/files/" + fn)
        check(r.status == 200 and r.body == data, r)
        check(r.header("etag") == '"%s"' % sha, r.headers)
        cc = r.header("cache-control")
        check("immutable" in cc and "max-age=" in cc and "public" in cc, cc)
        check(r.header("accept-ranges") == "bytes", r.headers)
        r = request(srv.port, "HEAD", "/files/" + fn)
        check(r.status == 200 and r.body == b"" and
              int(r.header("content-length")) == len(data) and
              r.header("accept-ranges") == "bytes", r)
        r = get(srv, "/files/" + fn, Range="bytes=0-9")
        check(r.status == 206 and r.body == data[:10] and
              r.header("content-range") == "bytes 0-9/%d" % len(data), r)
        r = get(srv, "/files/" + fn, Range="bytes=-7")
        check(r.status == 206 and r.body == data[-7:], r)
        r = get(srv, "/files/" + fn, Range="bytes=10-")
        check(r.status == 206 and r.body == data[10:], r)
        r = get(srv, "/files/" + fn, Range="bytes=%d-" % len(data))
        check(r.status == 416 and
              r.header("content-range") == "bytes */%d" % len(data), r)
        r = get(srv, "/files/" + fn, Range="bytes=0-1,4-5")
        check(r.status == 200 and r.body == data, r)
        r = get(srv, "/files/" + fn, Range="bytes=0-9",
                **{"If-Range": '"other"'})
        check(r.status == 200 and r.body == data, r)
        r = get(srv, "/files/" + fn, Range="bytes=0-9",
                **{"If-Range": '"%s"' % sha})
        check(r.status == 206, r)
        r = get(srv, "/files/" + fn, **{"If-None-Match": '"%s"' % sha})
        check(r.status == 304 and r.body == b"", r)
        r = get(srv, "/files/" + fn + ".metadata")
        check(r.status == 200 and b"Requires-Python: >=3.8,<4" in r.body, r)
        for bad in ("/files/nope.whl", "/files/..%2Fcatalog.sqlite",
                    "/files/%2e%2e/catalog.sqlite", "/files/",
                    "/files/../catalog.sqlite", "/files/.metadata",
                    "/files/demo-2.0-py3-none-any.whl%00"):
            r = get(srv, bad)
            check(r.status in (400, 404), "%s: %r" % (bad, r))
        # a stray file in the store that the catalog does not know
        with open(os.path.join(env.datadir, "files", "stray-1.0.tar.gz"),
                  "wb") as f:
            f.write(b"x")
        check(get(srv, "/files/stray-1.0.tar.gz").status == 404,
              "served a file that is not in the catalog")
        srv.stop()


def test_health_metrics_log():
    with environment("it_indexd_metrics") as env:
        corpus(env)
        srv = env.start()
        r = get(srv, "/healthz")
        check(r.status == 200 and r.body == b"ok\n", r)
        get(srv, "/simple/demo/", PIP_ACCEPT, **{"User-Agent": 'evil "ua"',
                                                 "Referer": "http://x/"})
        get(srv, "/simple/nope/")
        get(srv, "/files/demo-1.0.tar.gz")
        r = get(srv, "/metrics")
        check(r.status == 200 and
              r.header("content-type").startswith("text/plain"), r)
        m = r.body.decode()
        for want in ('indexd_requests_total{route="project",status="200"} 1',
                     'indexd_requests_total{route="project",status="404"} 1',
                     'indexd_requests_total{route="file",status="200"} 1',
                     'indexd_requests_total{route="healthz",status="200"} 1',
                     "indexd_catalog_projects 2", "indexd_catalog_files 4",
                     'indexd_uploads_total{result="added"} 0',
                     'indexd_sent_bytes_total{route="file"}',
                     "# TYPE indexd_request_duration_seconds histogram"):
            check(want in m, "metrics lack %r:\n%s" % (want, m))
        # every sample line is "name{labels} value"
        for line in m.splitlines():
            if line and not line.startswith("#"):
                check(re.fullmatch(r'[a-z_]+(\{[^}]*\})? [0-9.e+-]+', line),
                      "bad exposition line %r" % line)
        logtext = srv.access_log()
        combined = re.compile(
            r'^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] '
            r'"GET /simple/demo/ HTTP/1\.1" 200 \d+ "http://x/" '
            r'"evil \\x22ua\\x22"$', re.M)
        check(combined.search(logtext), "no combined line:\n" + logtext)
        check(re.search(r'"GET /simple/nope/ HTTP/1\.1" 404 ', logtext),
              logtext)
        srv.stop()


def test_bad_requests():
    with environment("it_indexd_bad") as env:
        env.write_config(max_header_size="2K", max_url_length="512",
                         header_timeout="2", max_connections="8")
        corpus(env)
        srv = env.start()
        port = srv.port

        def status_of(data):
            out = raw(port, data)
            m = re.match(rb"HTTP/1\.1 (\d+)", out)
            return int(m.group(1)) if m else None, out

        st, out = status_of(b"GET /simple/ HTTP/1.1\r\nHost: x\r\nX: " +
                            b"a" * 3000 + b"\r\n\r\n")
        check(st == 431 and b"Connection: close" in out, out[:200])
        st, out = status_of(b"GET /" + b"a" * 600 +
                            b" HTTP/1.1\r\nHost: x\r\n\r\n")
        check(st == 414, out[:200])
        st, out = status_of(b"NOT HTTP AT ALL\r\n\r\n")
        check(st == 400, out[:200])
        st, out = status_of(b"GET /simple/ HTTP/9.9\r\nHost: x\r\n\r\n")
        check(st == 505, out[:200])
        st, out = status_of(b"POST / HTTP/1.1\r\nHost: x\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        check(st == 411, out[:200])
        # slowloris: headers dribbling in get 408 after header_timeout
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        t0 = time.time()
        s.sendall(b"GET /simple/ HTTP/1.1\r\n")
        got = b""
        try:
            for _ in range(20):
                time.sleep(0.3)
                if select.select([s], [], [], 0)[0]:
                    break	# the server answered
                s.sendall(b"X-Slow: 1\r\n")
        except OSError:
            pass
        elapsed = time.time() - t0
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
        except OSError:
            pass
        s.close()
        check(got.startswith(b"HTTP/1.1 408") and 1.5 < elapsed < 5.9,
              "slowloris: %r after %.1fs" % (got[:80], elapsed))
        # connection cap (shared by both workers): the 9th gets 503
        socks = [socket.create_connection(("127.0.0.1", port))
                 for _ in range(8)]
        time.sleep(0.3)
        st, out = status_of(b"GET /simple/ HTTP/1.1\r\nHost: x\r\n\r\n")
        check(st == 503, out[:200])
        for s in socks:
            s.close()
        time.sleep(0.3)
        # one bad connection never hurts another: the server still works
        r = get(srv, "/simple/demo/")
        check(r.status == 200, r)
        # a keep-alive connection survives a 404 and a 406 on it
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /simple/demo/ HTTP/1.1\r\nHost: x\r\n"
                  b"Accept: application/json\r\n\r\n"
                  b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        s.close()
        codes = re.findall(rb"HTTP/1\.1 (\d+)", got)
        check(codes == [b"404", b"406", b"200"], got)
        srv.stop()


if __name__ == "__main__":
    run_tests([
        ("pages", test_pages),
        ("negotiation_redirects_404", test_negotiation_redirects_404),
        ("etags_and_yank", test_etags_and_yank),
        ("files", test_files),
        ("health_metrics_log", test_health_metrics_log),
        ("bad_requests", test_bad_requests),
    ])
