"""indexd_harness.py: shared helpers for indexd's integration tests and
benchmarks: a temporary data directory and config, indexd started on
127.0.0.1 (port chosen by the kernel, read from its log), indexctl, real
wheels generated at test time, fresh venvs, and raw HTTP.

Only the standard library: the tests run under Debian's /usr/bin/python3.
"""

import base64
import contextlib
import hashlib
import http.client
import io
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile

SOURCE_DIR = os.environ.get("WW_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(
                                os.path.dirname(os.path.abspath(__file__)))))
BUILD_DIR = os.environ.get("WW_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
TEST_TMP = os.environ.get("WW_TEST_TMP", os.path.join(BUILD_DIR, "tmp"))
INDEXD = os.path.join(BUILD_DIR, "indexd", "indexd")
INDEXCTL = os.path.join(BUILD_DIR, "indexctl", "indexctl")
DEBIAN_PYTHON = "/usr/bin/python3"
SANITIZE = os.environ.get("WW_SANITIZE", "0") in ("1", "ON", "TRUE", "true")


class Failure(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------- wheels

def escape(name):
    return re.sub(r"[-_.]+", "_", name).lower()


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _b64(data):
    return base64.urlsafe_b64encode(
        hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(outdir, name, version, tag="py3-none-any",
               requires_python=None, requires_dist=(), module=None,
               extra_files=None, payload_size=0, build_tag=None):
    """Write a valid wheel (METADATA, WHEEL, RECORD) and return its path.

    module: importable package name (default: escaped project name); its
    __init__.py records the version so tests can check what got installed.
    payload_size pads the wheel with incompressible bytes (benchmarks).
    """
    esc = escape(name)
    module = module or esc
    distinfo = "%s-%s.dist-info" % (esc, version)
    parts = [esc, version] + ([build_tag] if build_tag else []) + [tag]
    filename = "-".join(parts) + ".whl"
    pytag, abitag, plat = tag.split("-")
    purelib = abitag == "none" and plat == "any"
    meta = ["Metadata-Version: 2.1", "Name: %s" % name,
            "Version: %s" % version, "Summary: test package %s" % name]
    if requires_python:
        meta.append("Requires-Python: %s" % requires_python)
    for d in requires_dist:
        meta.append("Requires-Dist: %s" % d)
    files = {
        "%s/__init__.py" % module:
            ("__version__ = %r\nPROJECT = %r\nTAG = %r\n" %
             (version, name, tag)).encode(),
        "%s/METADATA" % distinfo: ("\n".join(meta) + "\n\n").encode(),
    }
    wheel = ["Wheel-Version: 1.0", "Generator: indexd_harness",
             "Root-Is-Purelib: %s" % ("true" if purelib else "false")]
    if build_tag:
        wheel.append("Build: %s" % build_tag)
    for py in pytag.split("."):
        for abi in abitag.split("."):
            for p in plat.split("."):
                wheel.append("Tag: %s-%s-%s" % (py, abi, p))
    files["%s/WHEEL" % distinfo] = ("\n".join(wheel) + "\n").encode()
    if payload_size:
        files["%s/payload.bin" % module] = os.urandom(payload_size)
    for k, v in (extra_files or {}).items():
        files[k] = v if isinstance(v, bytes) else v.encode()
    record = ["%s,sha256=%s,%d" % (p, _b64(d), len(d))
              for p, d in files.items()]
    record.append("%s/RECORD,," % distinfo)
    files["%s/RECORD" % distinfo] = ("\n".join(record) + "\n").encode()
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, filename)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for p, d in files.items():
            zi = zipfile.ZipInfo(p, date_time=(2024, 1, 1, 0, 0, 0))
            zi.compress_type = (zipfile.ZIP_STORED if p.endswith(".bin")
                                else zipfile.ZIP_DEFLATED)
            zi.external_attr = 0o644 << 16
            z.writestr(zi, d)
    return path


def make_sdist(outdir, name, version, requires_python=None):
    """A minimal sdist (PKG-INFO + setup.py) as NAME-VERSION.tar.gz."""
    base = "%s-%s" % (escape(name), version)
    pkg = ["Metadata-Version: 2.1", "Name: %s" % name,
           "Version: %s" % version]
    if requires_python:
        pkg.append("Requires-Python: %s" % requires_python)
    members = {
        "%s/PKG-INFO" % base: ("\n".join(pkg) + "\n").encode(),
        "%s/setup.py" % base: ("from setuptools import setup\n"
                               "setup(name=%r, version=%r)\n" %
                               (name, version)).encode(),
    }
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, base + ".tar.gz")
    with tarfile.open(path, "w:gz") as t:
        for p, d in members.items():
            ti = tarfile.TarInfo(p)
            ti.size = len(d)
            ti.mtime = 1704067200
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(d))
    return path


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------- http

class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return "<Response %d %s %r>" % (self.status, self.reason,
                                        self.body[:200])


def request(port, method, path, headers=None, body=None, host="127.0.0.1",
            timeout=30, tls_context=None):
    if tls_context is not None:
        conn = http.client.HTTPSConnection(host, port, timeout=timeout,
                                           context=tls_context)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        hdrs = {}
        for k, v in r.getheaders():
            hdrs[k.lower()] = v
        return Response(r.status, r.reason, hdrs, data)
    finally:
        conn.close()


def raw(port, data, timeout=10, read_all=True):
    """Send raw bytes, return everything the server sends until it closes
    (or timeout)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        if data:
            s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
            if not read_all:
                break
        return out
    finally:
        s.close()


# ---------------------------------------------------------------- env

class IndexdProcess:
    def __init__(self, env, proc, port, errpath):
        self.env = env
        self.proc = proc
        self.port = port
        self.errpath = errpath
        self.url = "http://127.0.0.1:%d" % port

    def stderr(self):
        with open(self.errpath, errors="replace") as f:
            return f.read()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Failure("indexd did not stop on SIGTERM:\n" +
                              self.stderr())
        rc = self.proc.returncode
        if rc != 0:
            raise Failure("indexd exited with %d:\n%s" % (rc, self.stderr()))
        err = self.stderr()
        check("ERROR: AddressSanitizer" not in err and
              "runtime error:" not in err,
              "sanitizer report from indexd:\n" + err)

    def access_log(self):
        self.env.wait_flush()
        with open(self.env.access_log, errors="replace") as f:
            return f.read()


class Env:
    """A temp data dir + config; indexd and indexctl run against it."""

    def __init__(self, name, keep=False):
        os.makedirs(TEST_TMP, exist_ok=True)
        self.root = tempfile.mkdtemp(prefix=name + ".", dir=TEST_TMP)
        self.datadir = os.path.join(self.root, "data")
        os.makedirs(self.datadir)
        self.config = os.path.join(self.root, "wheelwright.conf")
        self.access_log = os.path.join(self.root, "access.log")
        self.keep = keep or os.environ.get("WW_KEEP_TMP") == "1"
        self.procs = []
        self.settings = {
            "listen": "127.0.0.1:0",
            "workers": "2",
            "access_log": self.access_log,
            "max_upload_size": "8M",
            "header_timeout": "5",
            "read_timeout": "5",
            "max_connections": "64",
        }
        self.write_config()

    def write_config(self, **overrides):
        self.settings.update({k: str(v) for k, v in overrides.items()})
        lines = ["[global]", "datadir = %s" % self.datadir, "", "[indexd]"]
        for k, v in self.settings.items():
            if v is None:
                continue
            for one in (v if isinstance(v, list) else [v]):
                lines.append("%s = %s" % (k, one))
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")

    def indexctl(self, *args, check_rc=True, input=None):
        cmd = [INDEXCTL, "-c", self.config] + list(args)
        p = subprocess.run(cmd, capture_output=True, text=True, input=input)
        if check_rc and p.returncode != 0:
            raise Failure("%s failed (%d):\n%s%s" % (" ".join(cmd),
                                                      p.returncode,
                                                      p.stdout, p.stderr))
        return p

    def import_files(self, *paths):
        return self.indexctl("import", *paths)

    def token(self, name, scope="upload", project=None):
        args = ["token", "create", name, "--scope", scope]
        if project:
            args += ["--project", project]
        return self.indexctl(*args).stdout.strip()

    def start(self, extra_args=(), wait=True):
        errpath = os.path.join(self.root, "indexd.%d.stderr" %
                               len(self.procs))
        errf = open(errpath, "w")
        proc = subprocess.Popen([INDEXD, "-c", self.config] +
                                list(extra_args),
                                stdout=subprocess.DEVNULL, stderr=errf)
        errf.close()
        port = None
        deadline = time.time() + (60 if SANITIZE else 20)
        while time.time() < deadline:
            with open(errpath, errors="replace") as f:
                text = f.read()
            found = re.findall(r"listening on [^ ]+:(\d+)( \(tls\))?", text)
            if found and "ready" in text:
                plain = [int(p) for p, t in found if not t]
                tls = [int(p) for p, t in found if t]
                port = plain[0] if plain else tls[0]
                break
            if proc.poll() is not None:
                raise Failure("indexd exited with %d:\n%s" %
                              (proc.returncode, text))
            time.sleep(0.05)
        if port is None:
            proc.kill()
            raise Failure("indexd did not start:\n" + open(errpath).read())
        p = IndexdProcess(self, proc, port, errpath)
        p.tls_ports = tls
        self.procs.append(p)
        return p

    def wait_flush(self):
        time.sleep(0.5)		# indexd flushes its access log every 200 ms

    def catalog_rows(self):
        """Everything that defines the catalog's visible state."""
        db = sqlite3.connect("file:%s?mode=ro" %
                             os.path.join(self.datadir, "catalog.sqlite"),
                             uri=True)
        try:
            files = db.execute(
                "SELECT filename, sha256, size, yanked, yanked_reason "
                "FROM files ORDER BY filename").fetchall()
            projects = db.execute(
                "SELECT name, generation FROM projects ORDER BY name"
            ).fetchall()
        finally:
            db.close()
        return files, projects

    def store_files(self):
        d = os.path.join(self.datadir, "files")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def close(self):
        for p in self.procs:
            if p.proc.poll() is None:
                p.proc.kill()
                p.proc.wait()
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


# ---------------------------------------------------------------- venvs

def pyenv_python():
    """The preinstalled pyenv interpreter (pip 23.2.1), if present."""
    for cand in (os.path.expanduser("~/.pyenv/shims/python3"),
                 shutil.which("python3")):
        if not cand or not os.path.exists(cand):
            continue
        try:
            real = subprocess.run([cand, "-c",
                                   "import sys; print(sys.executable)"],
                                  capture_output=True, text=True,
                                  timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            continue
        if real and os.path.realpath(real) != os.path.realpath(
                DEBIAN_PYTHON):
            return real
    return None


def make_venv(root, python=DEBIAN_PYTHON, name="venv"):
    """A fresh venv; returns its python. Its pip is the interpreter's own
    bundled pip (Debian: 23.0.1; pyenv 3.11: 23.2.1)."""
    path = os.path.join(root, name)
    subprocess.run([python, "-m", "venv", path], check=True,
                   capture_output=True)
    return os.path.join(path, "bin", "python")


def pip(py, *args, check_rc=True, env_extra=None):
    # hermetic: no pip settings from the caller's environment (this
    # machine sets e.g. PIP_FIND_LINKS)
    # and no CA bundle overrides, which requests prefers even to --cert
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")
           and k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    env.update({"PIP_DISABLE_PIP_VERSION_CHECK": "1",
                "PIP_NO_CACHE_DIR": "1", "PIP_NO_INPUT": "1",
                "PIP_CONFIG_FILE": os.devnull,
                "PYTHONDONTWRITEBYTECODE": "1"})
    env.update(env_extra or {})
    p = subprocess.run([py, "-m", "pip"] + list(args), capture_output=True,
                       text=True, env=env, timeout=600)
    if check_rc and p.returncode != 0:
        raise Failure("pip %s failed (%d):\n%s\n%s" %
                      (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def pip_version(py):
    out = subprocess.run([py, "-m", "pip", "--version"], capture_output=True,
                         text=True).stdout
    return out.split()[1] if out else "?"


@contextlib.contextmanager
def environment(name):
    env = Env(name)
    ok = False
    try:
        yield env
        ok = True
    finally:
        if not ok:
            env.keep = True
            log("(kept %s for inspection)" % env.root)
        env.close()


def run_tests(tests):
    """Run (name, fn) pairs; print a summary; exit non-zero on failure."""
    failed = []
    for name, fn in tests:
        t0 = time.time()
        log("=== %s" % name)
        try:
            fn()
            log("--- ok %s (%.1fs)" % (name, time.time() - t0))
        except Exception as e:     # report every failure, then exit 1
            import traceback
            traceback.print_exc()
            log("--- FAIL %s: %s" % (name, e))
            failed.append(name)
    if failed:
        log("FAILED: %s" % ", ".join(failed))
        sys.exit(1)
    log("all %d passed" % len(tests))


# ---------------------------------------------------------------- nginx

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Nginx:
    """nginx serving a static export with bench/nginx-simple.conf."""

    def __init__(self, root, prefix, workers=1, access_log=None):
        os.makedirs(prefix, exist_ok=True)
        self.prefix = prefix
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.access_log = access_log or os.path.join(prefix, "access.log")
        with open(os.path.join(SOURCE_DIR, "bench",
                               "nginx-simple.conf")) as f:
            conf = f.read()
        for k, v in (("@WORKERS@", str(workers)), ("@PREFIX@", prefix),
                     ("@ACCESS_LOG@", self.access_log),
                     ("@PORT@", str(self.port)), ("@ROOT@", root)):
            conf = conf.replace(k, v)
        if os.geteuid() != 0:
            conf = conf.replace("user root;", "")
        self.conf = os.path.join(prefix, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = subprocess.Popen([NGINX, "-p", prefix, "-c", self.conf,
                                      "-e", os.path.join(prefix,
                                                         "nginx-error.log")],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise Failure("nginx failed: " +
                                  self.proc.stderr.read().decode())
                time.sleep(0.05)
        raise Failure("nginx did not start")

    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
