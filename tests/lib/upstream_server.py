#!/usr/bin/python3
"""upstream_server.py: a small but real simple-repository server on
127.0.0.1 for the upstream and reconcile tests. It serves PEP 691 JSON and
PEP 503 HTML project pages with Accept negotiation, strong ETags and
If-None-Match/304, Cache-Control max-age, and file downloads; and it can
misbehave on purpose, per project: fail with 503 a number of times, stall,
pad pages past a size limit, go down after N requests, serve only HTML,
redirect, or serve a hostile page verbatim.

Usage: upstream_server.py SPEC.json
It prints "PORT <n>" on stdout once listening, and serves until killed.
GET /_stats returns {"requests": {path: count}, "headers": {path: {...}}}.

SPEC: {"projects": {NAME: {
    "files": [{"filename": F, "content": TEXT | "size": N,
               "requires_python": S, "yanked": true | "reason",
               "metadata": true, "bad_hash": true, "no_hash": true}],
    "html_only": bool, "fail": N, "status": N, "delay": SECONDS,
    "max_age": N, "pad": BYTES, "chunked": bool, "down_after": N,
    "redirect": bool, "raw_html": TEXT, "raw_json": TEXT,
    "relative": bool}},
  "file_delay": SECONDS}
"""
import hashlib
import html
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def file_bytes(f):
    if "content" in f:
        return f["content"].encode()
    n = f.get("size", 0)
    return (b"0123456789abcdef" * (n // 16 + 1))[:n]


class State:
    def __init__(self, spec):
        self.spec = spec
        self.lock = threading.Lock()
        self.requests = {}
        self.headers = {}
        self.projects = {normalize(k): v for k, v in spec.get("projects", {}).items()}
        self.files = {}
        for p in self.projects.values():
            for f in p.get("files", []):
                self.files[f["filename"]] = f

    def count(self, path, headers):
        with self.lock:
            n = self.requests.get(path, 0) + 1
            self.requests[path] = n
            self.headers[path] = {k.lower(): v for k, v in headers.items()}
            return n


def choose(accept):
    """Pick a representation by the client's q-values (RFC 9110)."""
    best, bestq = None, 0.0
    for item in accept.split(","):
        parts = [p.strip() for p in item.split(";")]
        mtype, q = parts[0].lower(), 1.0
        for p in parts[1:]:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        for cand in (JSON_TYPE, HTML_TYPE, "text/html"):
            if mtype in (cand, "*/*") and q > bestq:
                best, bestq = cand, q
    return best or "text/html"


def render(state, name, proj, ctype, base):
    files = []
    for f in proj.get("files", []):
        data = file_bytes(f)
        digest = hashlib.sha256(data).hexdigest()
        if f.get("bad_hash"):
            digest = hashlib.sha256(data + b"x").hexdigest()
        url = ("../../files/" if proj.get("relative", True) else base + "/files/") + f["filename"]
        files.append((f, url, None if f.get("no_hash") else digest, len(data)))
    if ctype == JSON_TYPE:
        out = {"meta": {"api-version": "1.1"}, "name": name, "files": [], "versions": []}
        for f, url, digest, size in files:
            e = {"filename": f["filename"], "url": url,
                 "hashes": {"sha256": digest} if digest else {}, "size": size}
            if "requires_python" in f:
                e["requires-python"] = f["requires_python"]
            if "yanked" in f:
                e["yanked"] = f["yanked"]
            if f.get("metadata"):
                e["core-metadata"] = {"sha256": "ab" * 32}
            out["files"].append(e)
        return json.dumps(out).encode()
    lines = ["<!DOCTYPE html>", "<html><head><meta name=\"pypi:repository-version\" content=\"1.1\">",
             "<title>Links for %s</title></head><body><h1>Links for %s</h1>" % (name, name)]
    for f, url, digest, size in files:
        attrs = 'href="%s%s"' % (html.escape(url), "#sha256=" + digest if digest else "")
        if "requires_python" in f:
            attrs += ' data-requires-python="%s"' % html.escape(f["requires_python"])
        if "yanked" in f:
            y = f["yanked"]
            attrs += ' data-yanked="%s"' % html.escape(y if isinstance(y, str) else "")
        if f.get("metadata"):
            attrs += ' data-core-metadata="sha256=%s"' % ("ab" * 32)
        lines.append("<a %s>%s</a><br/>" % (attrs, html.escape(f["filename"])))
    lines.append("</body></html>")
    return "\n".join(lines).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ww-upstream-test/1"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body=b"", ctype="text/plain", extra=None, chunked=False):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 65536):
                chunk = body[i:i + 65536]
                try:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                except (BrokenPipeError, ConnectionResetError):
                    return
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    def do_GET(self):
        st = self.server.state
        path = self.path.split("?")[0]
        if path == "/_stats":
            with st.lock:
                body = json.dumps({"requests": st.requests, "headers": st.headers}).encode()
            return self.send(200, body, "application/json")
        n = st.count(path, self.headers)
        m = re.fullmatch(r"/simple/([^/]+)/", path)
        if m:
            return self.page(st, m.group(1), n)
        m = re.fullmatch(r"/files/([^/]+)", path)
        if m and m.group(1) in st.files:
            time.sleep(st.spec.get("file_delay", 0))
            f = st.files[m.group(1)]
            return self.send(200, file_bytes(f), "application/octet-stream")
        m = re.fullmatch(r"/moved/([^/]+)/", path)
        if m:
            return self.page(st, m.group(1), n, moved=True)
        return self.send(404, b"not found\n")

    def page(self, st, raw, n, moved=False):
        name = normalize(raw)
        proj = st.projects.get(name)
        if proj is None:
            return self.send(404, b"no such project\n")
        if proj.get("redirect") and not moved:
            return self.send(301, b"", extra={"Location": "/moved/%s/" % name})
        if proj.get("down_after") is not None and n > proj["down_after"]:
            return self.send(503, b"down\n")
        if n <= proj.get("fail", 0):
            return self.send(503, b"try later\n")
        if proj.get("status"):
            return self.send(proj["status"], b"status\n")
        if proj.get("delay"):
            time.sleep(proj["delay"])
        accept = self.headers.get("Accept", "text/html")
        ctype = "text/html" if proj.get("html_only") else choose(accept)
        base = "http://%s:%d" % self.server.server_address[:2]
        if "raw_html" in proj:
            body, ctype = proj["raw_html"].encode(), "text/html"
        elif "raw_json" in proj:
            body, ctype = proj["raw_json"].encode(), JSON_TYPE
        else:
            body = render(st, name, proj,
                          JSON_TYPE if ctype == JSON_TYPE else "html", base)
        if proj.get("pad"):
            filler = b" " * proj["pad"]
            body = body + filler if ctype != JSON_TYPE else body[:-1] + filler + b"}"
        etag = '"%s"' % hashlib.sha256(body + ctype.encode()).hexdigest()[:32]
        extra = {"ETag": etag, "Vary": "Accept",
                 "Cache-Control": "max-age=%d, public" % proj.get("max_age", 0)}
        if self.headers.get("If-None-Match") == etag:
            return self.send(304, b"", ctype, extra)
        return self.send(200, body, ctype, extra, chunked=proj.get("chunked", False))


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass    # clients hanging up on purpose (size limits, timeouts)


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    srv = Server(("127.0.0.1", 0), Handler)
    srv.state = State(spec)
    print("PORT %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
