"""it_indexd_ops.py: running indexd: `indexd -n` (errors name file:line),
SIGHUP reload (new settings, a bad file keeps the old ones, access log
reopened for rotation), SIGTERM finishing a request in flight (an upload
half sent when the signal arrives completes and is recorded) while no new
connection is accepted, and native HTTPS with OpenSSL (curl, pip).
"""

import base64
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from indexd_harness import (DEBIAN_PYTHON, INDEXD, check,  # noqa
                            environment, log, make_venv, make_wheel, pip,
                            request, run_tests)


def test_config_check():
    with environment("it_indexd_n") as env:
        p = subprocess.run([INDEXD, "-n", "-c", env.config],
                           capture_output=True, text=True)
        check(p.returncode == 0 and "configuration OK" in p.stderr, p.stderr)
        with open(env.config, "a") as f:
            f.write("max_connections = lots\n")
        nlines = len(open(env.config).read().splitlines())
        p = subprocess.run([INDEXD, "-n", "-c", env.config],
                           capture_output=True, text=True)
        check(p.returncode == 1 and "%s:%d:" % (env.config, nlines) in
              p.stderr and "max_connections" in p.stderr, p.stderr)
        env.write_config()
        with open(env.config, "a") as f:
            f.write("tls_cert = /nonexistent/cert.pem\n"
                    "tls_key = /nonexistent/key.pem\n"
                    "listen_tls = 127.0.0.1:0\n")
        p = subprocess.run([INDEXD, "-n", "-c", env.config],
                           capture_output=True, text=True)
        check(p.returncode == 1 and "/nonexistent/cert.pem" in p.stderr,
              p.stderr)
        env.write_config()
        p = subprocess.run([INDEXD, "-n", "-c", env.config, "-d",
                            "/nonexistent/data"], capture_output=True,
                           text=True)
        check(p.returncode == 1 and "/nonexistent/data" in p.stderr,
              p.stderr)
        p = subprocess.run([INDEXD, "-n", "-c", "/nonexistent.conf"],
                           capture_output=True, text=True)
        check(p.returncode == 1 and "/nonexistent.conf" in p.stderr,
              p.stderr)
        # the shipped example configuration is valid
        example = os.path.join(os.environ["WW_SOURCE_DIR"], "config",
                               "indexd.conf")
        p = subprocess.run([INDEXD, "-n", "-c", example, "-d", env.datadir],
                           capture_output=True, text=True)
        check(p.returncode == 0 and "configuration OK" in p.stderr, p.stderr)


def test_sighup():
    with environment("it_indexd_hup") as env:
        env.import_files(make_wheel(os.path.join(env.root, "d"), "demo",
                                    "1.0"))
        srv = env.start()
        r = request(srv.port, "GET", "/simple/demo/")
        check("max-age=600" in r.header("cache-control"), r.headers)
        env.write_config(page_max_age="123")
        srv.signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline:
            r = request(srv.port, "GET", "/simple/demo/")
            if "max-age=123" in r.header("cache-control"):
                break
            time.sleep(0.1)
        check("max-age=123" in r.header("cache-control"),
              "SIGHUP did not apply page_max_age: %s" % r.headers)
        # a broken file: indexd keeps running with the old settings
        with open(env.config, "a") as f:
            f.write("bogus_key = 1\n")
        srv.signal(signal.SIGHUP)
        time.sleep(0.5)
        r = request(srv.port, "GET", "/simple/demo/")
        check(r.status == 200 and "max-age=123" in
              r.header("cache-control"), r)
        check(re.search(r"reload failed.*bogus_key", srv.stderr()),
              srv.stderr())
        # log rotation: rename, HUP, the new file gets the lines
        env.write_config(page_max_age="123")
        request(srv.port, "GET", "/healthz")
        env.wait_flush()
        os.rename(env.access_log, env.access_log + ".1")
        srv.signal(signal.SIGHUP)
        time.sleep(0.5)
        request(srv.port, "GET", "/simple/?after-rotation")
        env.wait_flush()
        check(os.path.exists(env.access_log) and "after-rotation" in
              open(env.access_log).read(), "no new access log")
        check("after-rotation" not in open(env.access_log + ".1").read(),
              "old log still written")
        srv.stop()


def test_sigterm_finishes_in_flight():
    with environment("it_indexd_term") as env:
        token = env.token("ci")
        whl = make_wheel(os.path.join(env.root, "d"), "late", "1.0")
        data = open(whl, "rb").read()
        boundary = "bOuNdArY"
        body = ("--%s\r\nContent-Disposition: form-data; name=\":action\""
                "\r\n\r\nfile_upload\r\n--%s\r\nContent-Disposition: "
                "form-data; name=\"content\"; filename=\"%s\"\r\n\r\n" %
                (boundary, boundary, os.path.basename(whl))).encode() + \
            data + ("\r\n--%s--\r\n" % boundary).encode()
        head = ("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/"
                "form-data; boundary=%s\r\nContent-Length: %d\r\n"
                "Authorization: Basic %s\r\n\r\n" %
                (boundary, len(body), base64.b64encode(
                    ("__token__:" + token).encode()).decode())).encode()
        srv = env.start()
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        s.sendall(head + body[:len(body) // 2])
        time.sleep(0.3)
        srv.signal(signal.SIGTERM)
        time.sleep(0.5)
        # no new connections once stopping
        try:
            c = socket.create_connection(("127.0.0.1", srv.port), timeout=2)
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            got = c.recv(100)
            c.close()
            check(got == b"", "accepted a new request while stopping: %r" %
                  got)
        except OSError:
            pass
        check(srv.proc.poll() is None, "indexd exited with a request "
              "in flight")
        s.sendall(body[len(body) // 2:])
        resp = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            resp += chunk
        s.close()
        check(resp.startswith(b"HTTP/1.1 200") and
              b"Connection: close" in resp, resp[:300])
        srv.proc.wait(20)
        check(srv.proc.returncode == 0, srv.stderr())
        files, _ = env.catalog_rows()
        check([f[0] for f in files] == [os.path.basename(whl)], files)


def test_tls():
    with environment("it_indexd_tls") as env:
        cert = os.path.join(env.root, "cert.pem")
        key = os.path.join(env.root, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True,
                       capture_output=True)
        env.write_config(tls_cert=cert, tls_key=key)
        with open(env.config, "a") as f:
            f.write("listen_tls = 127.0.0.1:0\n")
        env.import_files(make_wheel(os.path.join(env.root, "d"), "secure",
                                    "1.0"))
        srv = env.start()
        check(len(srv.tls_ports) == 1, srv.stderr())
        tport = srv.tls_ports[0]
        url = "https://127.0.0.1:%d" % tport
        p = subprocess.run(["curl", "-sS", "--cacert", cert, "-D", "-",
                            url + "/simple/secure/"], capture_output=True,
                           text=True)
        check(p.returncode == 0 and "HTTP/1.1 200" in p.stdout and
              "secure-1.0-py3-none-any.whl" in p.stdout, p.stdout + p.stderr)
        p = subprocess.run(["curl", "-sS", "--cacert", cert, "-r", "0-3",
                            url + "/files/secure-1.0-py3-none-any.whl"],
                           capture_output=True)
        check(p.stdout == b"PK\x03\x04", p.stdout)
        # untrusted certificate: refused by the client
        p = subprocess.run(["curl", "-sS", url + "/simple/"],
                           capture_output=True, text=True)
        check(p.returncode != 0, "curl trusted a self-signed cert?")
        # plain HTTP on the TLS port: the handshake fails, nothing breaks
        try:
            got = socket.create_connection(("127.0.0.1", tport), timeout=5)
            got.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            got.recv(100)
            got.close()
        except OSError:
            pass
        py = make_venv(env.root, DEBIAN_PYTHON)
        pip(py, "install", "--cert", cert, "--index-url", url + "/simple/",
            "secure")
        out = subprocess.run([py, "-c", "import secure; print(secure."
                              "__version__)"], capture_output=True,
                             text=True).stdout.strip()
        check(out == "1.0", out)
        r = request(srv.port, "GET", "/healthz")
        check(r.status == 200, r)
        # SIGHUP loads a new certificate without a restart
        cert2 = os.path.join(env.root, "cert2.pem")
        key2 = os.path.join(env.root, "key2.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key2, "-out", cert2], check=True,
                       capture_output=True)
        env.write_config(tls_cert=cert2, tls_key=key2)
        with open(env.config, "a") as f:
            f.write("listen_tls = 127.0.0.1:%d\n" % tport)
        srv.signal(signal.SIGHUP)
        ok = False
        for _ in range(50):
            time.sleep(0.1)
            p = subprocess.run(["curl", "-sS", "--cacert", cert2,
                                url + "/healthz"], capture_output=True,
                               text=True)
            if p.returncode == 0 and p.stdout == "ok\n":
                ok = True
                break
        check(ok, "new certificate not served after SIGHUP: %s" % p.stderr)
        p = subprocess.run(["curl", "-sS", "--cacert", cert,
                            url + "/healthz"], capture_output=True, text=True)
        check(p.returncode != 0, "old certificate still served")
        srv.stop()


if __name__ == "__main__":
    run_tests([
        ("config_check", test_config_check),
        ("sighup", test_sighup),
        ("sigterm_finishes_in_flight", test_sigterm_finishes_in_flight),
        ("tls", test_tls),
    ])
