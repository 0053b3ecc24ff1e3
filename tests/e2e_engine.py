"""e2e_engine.py: builder/engine.c against a real podman API service.

Makes (or reuses) the amd64 builder image, starts a private podman service
and drives the C client through tests/tool_builder_engine: containers with
no network and a non-root user, logs demultiplexed, exit codes, the
wall-clock timeout kill, an OOM kill, the pids limit, listing and removal
by label, copying files out through the archive endpoint, and real pip
wheel builds of the fixture sdists (one builds, one fails to compile, one
outlasts its timeout), and the same client over TLS with client
certificates (nginx in front of the podman socket, as a remote engine).
"""
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from engine_e2e import (BUILD_USER, TMP, build_image, build_wheel,  # noqa: E402
                        check, check_extlib_wheel, main, make_sdist)

PATTERN_BYTES = 3 * 1024 * 1024


def pattern():
    return bytes(i % 251 for i in range(PATTERN_BYTES))


def test_engine(eng, image, work):
    v, _ = eng.tool("version")
    check(v["api_version"] >= "1.41" and v["os"] == "linux",
          "engine speaks API %s on %s" % (v["api_version"], v["os"]), v)
    check(v["podman"], "engine is podman's API service", v)
    eng.tool("ping")

    img, _ = eng.tool("image", image)
    check(img["arch"] == "amd64" and img["os"] == "linux",
          "image inspect reports linux/amd64", img)
    check(img["user"] == BUILD_USER, "image runs as the build user", img)
    _, err = eng.tool("image", "localhost/wheelwright-nope:0", expect=3)
    check(eng.url in err and "HTTP 404" in err and "wheelwright-nope" in err,
          "a missing image is a 404 naming engine and image", err)
    bogus = "unix:///tmp/wwe2e-no-such-dir/engine.sock"
    _, err = eng.tool("ping", url=bogus, expect=1)
    check(bogus in err and "GET /_ping" in err,
          "an unreachable engine is named in the error", err)


def test_isolation(eng, image, work):
    src = os.path.join(work, "iso-src")
    out = os.path.join(work, "iso-out")
    os.makedirs(src)
    os.makedirs(out)
    os.chown(out, 10001, 10001)
    with open(os.path.join(src, "input.txt"), "w") as f:
        f.write("read-only input\n")
    script = r"""
import errno, os, socket, sys
print("uid", os.getuid(), os.getgid())
print("netifs", ",".join(sorted(os.listdir("/sys/class/net"))))
s = socket.socket()
s.settimeout(3)
try:
    s.connect(("192.0.2.1", 80))
    print("connect ok")
except OSError as e:
    print("connect failed", errno.errorcode.get(e.errno, e.errno))
st = dict(l.split(":\t", 1) for l in open("/proc/self/status").read().splitlines() if ":\t" in l)
print("capeff", st["CapEff"].strip(), "nonewprivs", st["NoNewPrivs"].strip())
print("input", open("/ww/src/input.txt").read().strip())
try:
    open("/ww/src/x", "w")
    print("src writable")
except OSError as e:
    print("src", errno.errorcode[e.errno])
if os.getuid() != 0:
    open("/ww/out/result.txt", "w").write("written by the build\n")
for i in range(3):
    print("out line", i, flush=True)
    print("err line", i, file=sys.stderr, flush=True)
sys.exit(3)
"""
    log = os.path.join(work, "iso.log")
    so = os.path.join(work, "iso.stdout")
    se = os.path.join(work, "iso.stderr")
    res = eng.run(image, ["python3", "-c", script], "--user", BUILD_USER,
                  "--mount", src + ":/ww/src:ro", "--mount", out + ":/ww/out",
                  "--log", log, "--stdout", so, "--stderr", se,
                  "--env", "WW_E2E=1", "--workdir", "/tmp")
    st = res["state"]
    check(st["status"] == "exited" and st["exit_code"] == 3 and
          not res["timed_out"] and not res["oom"],
          "exit code 3 comes back", res)
    text = open(log).read()
    check("uid 10001 10001" in text, "runs as the non-root build user", text)
    check("netifs lo\n" in text, "network none: only loopback", text)
    check("connect failed ENETUNREACH" in text, "no route out", text)
    check("capeff 0000000000000000 nonewprivs 1" in text,
          "no capabilities, no-new-privileges", text)
    check("input read-only input" in text and "src EROFS" in text,
          "sdist dir mounted read-only", text)
    check(open(os.path.join(out, "result.txt")).read() ==
          "written by the build\n", "output dir mounted writable")
    # The engine reads stdout and stderr through separate pipes, so only
    # the order within each stream is defined.
    lines = [ln for ln in text.splitlines() if " line " in ln]
    check([ln for ln in lines if ln.startswith("out")] ==
          ["out line 0", "out line 1", "out line 2"] and
          [ln for ln in lines if ln.startswith("err")] ==
          ["err line 0", "err line 1", "err line 2"],
          "combined log holds both streams, each in order", lines)
    check(res["log_written"] == len(text.encode()) and res["log_dropped"] == 0,
          "log byte count matches the file", res)
    sout, serr = open(so).read(), open(se).read()
    check("err line" not in sout and "out line 2" in sout,
          "demuxed stdout holds only stdout", sout)
    check(serr == "err line 0\nerr line 1\nerr line 2\n",
          "demuxed stderr holds only stderr", serr)

    # Root in the container still has no capabilities.
    res = eng.run(image, ["python3", "-c", script], "--user", "0:0",
                  "--mount", src + ":/ww/src:ro", "--log", log)
    text = open(log).read()
    check("uid 0 0" in text and
          "capeff 0000000000000000 nonewprivs 1" in text and
          "src EROFS" in text, "root in the container has no capabilities",
          text)


def test_big_log(eng, image, work):
    script = ("import sys\n"
              "data = bytes(i %% 251 for i in range(%d))\n"
              "for i in range(0, len(data), 65536):\n"
              "    sys.stdout.buffer.write(data[i:i + 65536])\n"
              "    sys.stdout.flush()\n" % PATTERN_BYTES)
    want = hashlib.sha256(pattern()).hexdigest()
    log = os.path.join(work, "big.log")
    so = os.path.join(work, "big.stdout")
    res = eng.run(image, ["python3", "-c", script], "--log", log,
                  "--stdout", so)
    got = hashlib.sha256(open(log, "rb").read()).hexdigest()
    check(res["log_written"] == PATTERN_BYTES and got == want,
          "3 MiB of binary stdout arrives byte-exact while following", res)
    got = hashlib.sha256(open(so, "rb").read()).hexdigest()
    check(got == want, "and byte-exact when read back after exit")
    res = eng.run(image, ["python3", "-c", script], "--log", log,
                  "--log-max", str(1 << 20))
    check(res["log_written"] == 1 << 20 and
          res["log_dropped"] == PATTERN_BYTES - (1 << 20) and
          os.path.getsize(log) == 1 << 20 and
          open(log, "rb").read() == pattern()[:1 << 20],
          "the log is capped at log_max and the rest counted", res)


def test_limits(eng, image, work):
    log = os.path.join(work, "limits.log")
    res = eng.run(image, ["python3", "-c",
                          "import time\nprint('sleeping', flush=True)\n"
                          "time.sleep(300)"],
                  "--timeout-ms", "3000", "--log", log)
    st = res["state"]
    check(res["timed_out"] and st["exit_code"] == 137 and not st["running"],
          "killed at the wall-clock deadline", res)
    check(res["wall_us"] < 20 * 1000000, "the kill came promptly", res)
    check(open(log).read() == "sleeping\n",
          "logs up to the deadline are kept")

    res = eng.run(image, ["python3", "-c",
                          "x = bytearray(768 * 1024 * 1024)\nprint(len(x))"],
                  "--memory", str(64 << 20), "--log", log)
    check(res["oom"] and res["state"]["exit_code"] == 137 and
          not res["timed_out"] and res["state"]["memory_limit"] == 64 << 20,
          "an out-of-memory kill is reported (engine said %s)" %
          ("so" if res["state"]["oom_killed"] else "nothing; inferred"), res)

    script = ("import threading, time\n"
              "n = 0\n"
              "try:\n"
              "    for i in range(200):\n"
              "        threading.Thread(target=time.sleep, args=(5,),"
              " daemon=True).start()\n"
              "        n += 1\n"
              "except RuntimeError:\n"
              "    pass\n"
              "print('threads', n)\n")
    res = eng.run(image, ["python3", "-c", script], "--pids", "32",
                  "--log", log)
    text = open(log).read()
    n = int(text.split()[1]) if text.startswith("threads ") else -1
    check(res["state"]["exit_code"] == 0 and 0 < n < 32,
          "the pids limit holds (%d threads started)" % n, text)

    res, err = eng.tool("run", "--image", image, "--label",
                        "wheelwright.testenv=" + eng.testenv, "--",
                        "/no/such/binary", expect=None)
    check(res is None and "/no/such/binary" in err and eng.url in err,
          "a missing executable fails the start, named", err)


def test_labels(eng, image, work):
    job = "e2e-%d" % os.getpid()
    started, _ = eng.tool("run", "--image", image, "--label",
                          "wheelwright.testenv=" + eng.testenv, "--label",
                          "wheelwright.job=" + job, "--detach", "--",
                          "sleep", "300")
    cid = started["id"]
    lst, _ = eng.tool("list", "wheelwright.job=" + job)
    check(len(lst) == 1 and lst[0]["id"] == cid and
          lst[0]["state"] == "running" and
          lst[0]["labels"].get("wheelwright.job") == job,
          "a running container is found by label=value", lst)
    lst, _ = eng.tool("list", "wheelwright.job")
    check(any(c["id"] == cid for c in lst),
          "and by label key alone", [c["id"] for c in lst])
    lst, _ = eng.tool("list", "wheelwright.job=" + job + "-other")
    check(lst == [], "a different value finds nothing", lst)
    eng.tool("kill", cid)
    st, _ = eng.tool("inspect", cid)
    check(not st["running"] and st["exit_code"] == 137,
          "kill stops it with SIGKILL", st)
    eng.tool("kill", cid)  # killing a stopped container is not an error
    eng.tool("rm", cid)
    lst, _ = eng.tool("list", "wheelwright.job=" + job)
    check(lst == [], "removed containers are gone from the list", lst)
    eng.tool("rm", cid)  # removing twice is fine
    _, err = eng.tool("inspect", cid, expect=3)
    check("HTTP 404" in err, "inspecting a removed container is a 404", err)


def test_archive(eng, image, work):
    res = eng.run(image, ["python3", "-c",
                          "import hashlib, os\n"
                          "d = os.urandom(200000)\n"
                          "open('/tmp/blob', 'wb').write(d)\n"
                          "print(hashlib.sha256(d).hexdigest())"],
                  "--keep", "--log", os.path.join(work, "blob.log"))
    cid = res["id"]
    want = open(os.path.join(work, "blob.log")).read().strip()
    try:
        dst = os.path.join(work, "blob")
        eng.tool("cp", cid, "/tmp/blob", dst)
        got = hashlib.sha256(open(dst, "rb").read()).hexdigest()
        check(got == want, "a file copied out of a stopped container matches")
        lib = "/usr/lib/x86_64-linux-gnu/libyaml-0.so.2"
        st, _ = eng.tool("stat", cid, lib)
        check(st["is_symlink"], "stat sees the soname symlink", st)
        out, _ = eng.tool("cp", cid, lib, os.path.join(work, "libyaml.so"))
        data = open(os.path.join(work, "libyaml.so"), "rb").read()
        check(out["resolved"].endswith("/libyaml-0.so.2.0.9") and
              data[:4] == b"\x7fELF" and len(data) > 10000,
              "copying a library follows its symlink", out)
        lst, _ = eng.tool("tar", cid, "/etc/apt")
        names = {e["name"]: e["type"] for e in lst}
        check(names.get("apt") == "dir" and
              names.get("apt/sources.list") == "file",
              "a directory streams through libarchive", sorted(names)[:5])
        _, err = eng.tool("cp", cid, "/tmp/blob", dst, "1000", expect=1)
        check("limit" in err, "copies are bounded", err)
        _, err = eng.tool("tar", cid, "/usr/lib", "100000", expect=1)
        check("archive larger than 100000 bytes" in err,
              "archive streams are bounded", err)
        _, err = eng.tool("stat", cid, "/no/such/file", expect=3)
        check("/no/such/file" in err, "a missing path is named", err)
        _, err = eng.tool("cp", cid, "/etc", dst, expect=1)
        check("is a directory" in err, "copying a directory is refused", err)
    finally:
        eng.tool("rm", cid)


def test_wheels(eng, image, work):
    sd = os.path.join(work, "sdists")
    paths = {p: make_sdist(p, sd) for p in
             ("wwfix-extlib", "wwfix-fails", "wwfix-slow")}
    os.chmod(sd, 0o755)

    wdir = os.path.join(work, "extlib")
    os.makedirs(wdir)
    res, out, log = build_wheel(eng, image, sd,
                                os.path.basename(paths["wwfix-extlib"]), wdir)
    check(res["state"]["exit_code"] == 0 and "Successfully built" in log,
          "pip wheel builds wwfix-extlib offline as the build user", log[-800:])
    check_extlib_wheel(eng, image, out, "linux_x86_64", 62)

    wdir = os.path.join(work, "extlib-isolated")
    os.makedirs(wdir)
    res, out, log = build_wheel(eng, image, sd,
                                os.path.basename(paths["wwfix-extlib"]), wdir,
                                isolated=True)
    check(res["state"]["exit_code"] == 0 and
          "Successfully built" in log and
          "/usr/share/python-wheels/setuptools-" in log,
          "an isolated build gets setuptools/wheel from the image's wheels, "
          "on a read-only root", log[-800:])
    check(os.listdir(out) ==
          ["wwfix_extlib-1.0.0-cp311-cp311-linux_x86_64.whl"],
          "and makes the same wheel", os.listdir(out))

    wdir = os.path.join(work, "fails")
    os.makedirs(wdir)
    res, out, log = build_wheel(eng, image, sd,
                                os.path.basename(paths["wwfix-fails"]), wdir)
    check(res["state"]["exit_code"] != 0 and not res["timed_out"] and
          "invalid operands to binary" in log and os.listdir(out) == [],
          "wwfix-fails fails in the compiler, and the log says why",
          log[-800:])

    wdir = os.path.join(work, "slow")
    os.makedirs(wdir)
    res, out, log = build_wheel(eng, image, sd,
                                os.path.basename(paths["wwfix-slow"]), wdir,
                                timeout_ms=20000)
    check(res["timed_out"] and "wwfix-slow: sleeping 600 s" in log and
          os.listdir(out) == [],
          "wwfix-slow is killed at its timeout mid-build", log[-800:])


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(d, name):
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".pem")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
            "/CN=" + name, "-keyout", key, "-out", crt)
    return key, crt


def make_cert(d, name, ca, san=None, client=False):
    key, csr = os.path.join(d, name + ".key"), os.path.join(d, name + ".csr")
    crt, ext = os.path.join(d, name + ".pem"), os.path.join(d, name + ".ext")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-subj", "/CN=" + name, "-keyout", key, "-out", csr)
    with open(ext, "w") as f:
        f.write("extendedKeyUsage=%s\n" % ("clientAuth" if client
                                           else "serverAuth"))
        if san:
            f.write("subjectAltName=%s\n" % san)
    openssl("x509", "-req", "-in", csr, "-CA", ca[1], "-CAkey", ca[0],
            "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", crt)
    return key, crt


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_tls(eng, image, work):
    """The engine behind TLS with client certificates, as a remote dockerd
    is run: nginx terminates TLS, checks the client certificate against our
    CA and proxies to the podman socket."""
    d = os.path.join(work, "tls")
    os.makedirs(os.path.join(d, "tmp"))
    ca = make_ca(d, "ca")
    rogue = make_ca(d, "rogue-ca")
    server = make_cert(d, "server", ca, "IP:127.0.0.1,DNS:localhost")
    client = make_cert(d, "client", ca, client=True)
    intruder = make_cert(d, "intruder", rogue, client=True)
    port = free_port()
    sock = eng.url[len("unix://"):]
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""
daemon off;
user root;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %(d)s/tmp/body;
    proxy_temp_path %(d)s/tmp/proxy;
    fastcgi_temp_path %(d)s/tmp/fastcgi;
    uwsgi_temp_path %(d)s/tmp/uwsgi;
    scgi_temp_path %(d)s/tmp/scgi;
    server {
        listen 127.0.0.1:%(port)d ssl;
        ssl_certificate %(scrt)s;
        ssl_certificate_key %(skey)s;
        ssl_client_certificate %(ca)s;
        ssl_verify_client on;
        location / {
            proxy_pass http://unix:%(sock)s:;
            proxy_http_version 1.1;
            proxy_set_header Host localhost;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_read_timeout 600s;
        }
    }
}
""" % {"d": d, "port": port, "scrt": server[1], "skey": server[0],
       "ca": ca[1], "sock": sock})
    nginx = subprocess.Popen(["nginx", "-c", conf], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        url = "https://127.0.0.1:%d" % port
        good = {"WW_TLS_CA": ca[1], "WW_TLS_CERT": client[1],
                "WW_TLS_KEY": client[0]}
        v, _ = eng.tool("version", url=url, tls=good)
        check(v["podman"] and v["api_version"] >= "1.41",
              "the engine answers over TLS with a client certificate", v)
        log = os.path.join(d, "run.log")
        res, _ = eng.tool("run", "--image", image, "--label",
                          "wheelwright.testenv=" + eng.testenv, "--keep",
                          "--log", log, "--", "python3", "-c",
                          "print('over tls')\nopen('/tmp/f', 'w')"
                          ".write('x' * 70000)", url=url, tls=good)
        check(res["state"]["exit_code"] == 0 and
              open(log).read() == "over tls\n",
              "a container runs and its logs stream over TLS", res)
        dst = os.path.join(d, "f")
        eng.tool("cp", res["id"], "/tmp/f", dst, url=url, tls=good)
        check(open(dst).read() == "x" * 70000,
              "files stream out of the archive endpoint over TLS")
        eng.tool("rm", res["id"], url=url, tls=good)
        eng.tool("ping", url="tcp://127.0.0.1:%d" % port, tls=good)
        check(True, "tcp:// with a client certificate means TLS")

        _, err = eng.tool("ping", url=url, tls={"WW_TLS_CA": ca[1]},
                          expect=1)
        check(url in err and "HTTP 400" in err,
              "no client certificate: refused, and the error says so", err)
        bad = {"WW_TLS_CA": ca[1], "WW_TLS_CERT": intruder[1],
               "WW_TLS_KEY": intruder[0]}
        _, err = eng.tool("ping", url=url, tls=bad, expect=1)
        check(url in err and "HTTP 400" in err,
              "a certificate from another CA: refused", err)
        _, err = eng.tool("ping", url=url, tls={
            "WW_TLS_CERT": client[1], "WW_TLS_KEY": client[0]}, expect=1)
        check(url in err and "certificate" in err.lower(),
              "an engine certificate we cannot verify: refused", err)
    finally:
        nginx.terminate()
        nginx.wait(10)


def body(eng):
    image = build_image("amd64")
    work = tempfile.mkdtemp(prefix="e2e_engine.", dir=TMP)
    os.chmod(work, 0o755)
    try:
        test_engine(eng, image, work)
        test_isolation(eng, image, work)
        test_big_log(eng, image, work)
        test_limits(eng, image, work)
        test_labels(eng, image, work)
        test_archive(eng, image, work)
        test_wheels(eng, image, work)
        test_tls(eng, image, work)
        lst, _ = eng.tool("list", "wheelwright.testenv=" + eng.testenv)
        check(lst == [], "no container left behind", lst)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(body))
