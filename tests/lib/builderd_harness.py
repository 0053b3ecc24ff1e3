"""builderd_harness.py: shared helpers for builderd's end-to-end tests
(tests/e2e_builderd_*.py) and bench/builder_overhead.sh: private podman
API services (tests/lib/podman_env.sh), the builder images
(docker/build-image.sh, cached), fixture sdists (tests/lib/make_sdist.sh),
the build-dependency wheels (tests/lib/build_dep_wheels.sh), an upstream
(a dir: directory or a second indexd), one config shared by builderd and
indexd over a temporary data directory, the daemons themselves, the job
table, and fresh venvs for pip.

Only the standard library: the tests run under Debian's /usr/bin/python3.
"""

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

SRC = os.environ.get("WW_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("WW_BUILD_DIR") or os.path.join(SRC, "build")
TMP = os.environ.get("WW_TEST_TMP") or os.path.join(BUILD, "tmp")
BUILDERD = os.path.join(BUILD, "builder", "builderd")
INDEXD = os.environ.get("WW_INDEXD") or os.path.join(BUILD, "indexd",
                                                     "indexd")
INDEXCTL = os.environ.get("WW_INDEXCTL") or os.path.join(BUILD, "indexctl",
                                                         "indexctl")
CONTAINERS_CONF = os.path.join(SRC, "docker", "containers.conf")
DEBIAN_PYTHON = "/usr/bin/python3"
SANITIZE = os.environ.get("WW_SANITIZE", "0") in ("1", "ON", "TRUE", "true")
KEEP = os.environ.get("WW_KEEP_TMP") == "1"


class Failure(Exception):
    pass


def check(cond, what, detail=None):
    if not cond:
        msg = "FAIL: " + what
        if detail is not None:
            msg += "\n  " + str(detail)
        raise Failure(msg)
    print("ok: " + what, flush=True)


def log(msg):
    print(msg, flush=True)


def run(cmd, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("text", True)
    return subprocess.run(cmd, **kw)


def podman_env():
    env = dict(os.environ)
    env["CONTAINERS_CONF"] = CONTAINERS_CONF
    return env


def podman(*args, check_rc=True):
    p = run(["podman"] + list(args), env=podman_env())
    if check_rc and p.returncode != 0:
        raise Failure("podman %s failed:\n%s" % (" ".join(args), p.stderr))
    return p


# ------------------------------------------------------------ prerequisites

def build_image(arch):
    """Makes (or finds in the cache) the builder image; returns its ref."""
    t0 = time.monotonic()
    p = run([os.path.join(SRC, "docker", "build-image.sh"), arch])
    if p.returncode != 0:
        raise Failure("docker/build-image.sh %s failed:\n%s" % (arch,
                                                                p.stderr))
    ref = p.stdout.strip().splitlines()[-1]
    log("builder image %s ready in %.1f s" % (ref, time.monotonic() - t0))
    return ref


def musl_image():
    """The offline musllinux build image (docker/musl/build.sh x86_64:
    cached by its recipe hash; ~10 min the first time on 2 cores)."""
    t0 = time.monotonic()
    p = run([os.path.join(SRC, "docker", "musl", "build.sh"), "x86_64"])
    if p.returncode != 0:
        raise Failure("docker/musl/build.sh x86_64 failed:\n" +
                      p.stderr[-3000:])
    ref = p.stdout.strip().splitlines()[-1]
    log("musl image %s ready in %.1f s" % (ref, time.monotonic() - t0))
    return ref


def musl_libyaml_image(base):
    """base plus libyaml built with musl (tests/lib/musl_libyaml_image.sh,
    cached)."""
    p = run([os.path.join(SRC, "tests", "lib", "musl_libyaml_image.sh"),
             base])
    if p.returncode != 0:
        raise Failure("musl_libyaml_image.sh failed:\n" + p.stderr[-3000:])
    ref = p.stdout.strip().splitlines()[-1]
    log("musl image with libyaml: %s" % ref)
    return ref


def make_sdist(project, outdir):
    p = run([os.path.join(SRC, "tests", "lib", "make_sdist.sh"),
             os.path.join(SRC, "tests", "fixtures", "projects", project),
             outdir])
    if p.returncode != 0:
        raise Failure("make_sdist %s failed:\n%s" % (project, p.stderr))
    return p.stdout.strip()


def build_dep_wheels(outdir):
    p = run([os.path.join(SRC, "tests", "lib", "build_dep_wheels.sh"),
             outdir])
    if p.returncode != 0:
        raise Failure("build_dep_wheels.sh failed:\n" + p.stderr)
    return p.stdout.split()


def worker_pids(daemon):
    """Worker pids builderd reported starting."""
    return [int(p) for p in re.findall(r"worker (\d+)\)", daemon.stderr())]


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def preflight():
    if os.geteuid() != 0:
        raise Failure("e2e tests need root (podman image store, binfmt)")
    for prog in (BUILDERD, INDEXCTL):
        if not os.access(prog, os.X_OK):
            raise Failure("missing %s: build the project first" % prog)


# ------------------------------------------------------------------ engines

class PodmanService:
    """A private podman API service on a unix socket (podman_env.sh)."""

    def __init__(self):
        # unix socket paths are short: keep the directory in /tmp.
        self.dir = tempfile.mkdtemp(prefix="wwb-", dir="/tmp")
        self.url = None
        self.testenv = None
        self.running = False

    def start(self):
        p = run([os.path.join(SRC, "tests", "lib", "podman_env.sh"),
                 "start", self.dir])
        if p.returncode != 0:
            raise Failure("podman_env.sh start failed:\n" + p.stderr)
        self.url, self.testenv = p.stdout.split()[:2]
        self.running = True
        return self

    def kill_service(self):
        """SIGKILL the API service only, as if the engine host went away;
        containers it started keep running under conmon."""
        with open(os.path.join(self.dir, "podman.pid")) as f:
            pid = int(f.read().strip())
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        os.unlink(os.path.join(self.dir, "podman.pid"))
        self.running = False

    def stop(self):
        run([os.path.join(SRC, "tests", "lib", "podman_env.sh"), "stop",
             self.dir])
        self.running = False

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# ------------------------------------------------------------------ daemons

class Daemon:
    def __init__(self, name, argv, errpath, env=None):
        self.name = name
        self.errpath = errpath
        errf = open(errpath, "a")
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                     stderr=errf, env=env,
                                     start_new_session=True)
        errf.close()

    def stderr(self):
        with open(self.errpath, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def wait_for(self, pattern, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(pattern, self.stderr())
            if m:
                return m
            if not self.alive():
                raise Failure("%s exited with %s while waiting for %r:\n%s"
                              % (self.name, self.proc.returncode, pattern,
                                 self.stderr()[-4000:]))
            time.sleep(0.1)
        raise Failure("%s: no %r after %d s:\n%s" % (
            self.name, pattern, timeout, self.stderr()[-4000:]))

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Failure("%s still running after %d s:\n%s" % (
                self.name, timeout, self.stderr()[-4000:]))

    def kill(self, sig=signal.SIGKILL):
        if self.alive():
            self.proc.send_signal(sig)

    def stop(self, timeout=90):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Failure("%s did not stop on SIGTERM:\n%s" % (
                    self.name, self.stderr()[-4000:]))
        return self.proc.returncode

    def check_clean(self):
        err = self.stderr()
        check("ERROR: AddressSanitizer" not in err and
              "LeakSanitizer" not in err and "runtime error:" not in err,
              "no sanitizer report from %s" % self.name, err[-4000:])


def start_indexd(config, errpath):
    if not os.access(INDEXD, os.X_OK):
        raise Failure("missing %s: build the project first" % INDEXD)
    d = Daemon("indexd", [INDEXD, "-c", config], errpath)
    m = d.wait_for(r"listening on [^ ]+:(\d+)", 60 if SANITIZE else 20)
    d.wait_for(r"ready", 20)
    d.port = int(m.group(1))
    d.url = "http://127.0.0.1:%d" % d.port
    return d


def indexctl(config, *args, check_rc=True, input=None):
    cmd = [INDEXCTL, "-c", config] + list(args)
    p = run(cmd, input=input)
    if check_rc and p.returncode != 0:
        raise Failure("%s failed (%d):\n%s%s" % (" ".join(cmd), p.returncode,
                                                  p.stdout, p.stderr))
    return p


# -------------------------------------------------------------------- stack

TARGETS = {
    # name: (arch for build-image.sh, wheel arch)
    "cp311-x86_64": ("amd64", "x86_64"),
    "cp311-aarch64": ("arm64", "aarch64"),
}
# Other targets are described by Stack(target_opts={name: {...}}), which
# must give at least "image"; "arch" (default x86_64), "policy" (default
# manylinux) and any other [target] key ("repair": "no") may be added, for
# the targets above too.


class Stack:
    """A data directory and config shared by builderd and indexd, engines,
    an upstream, and builder images for the requested targets."""

    def __init__(self, name, targets=("cp311-x86_64",), engines=1,
                 jobs=2, upstream="dir", projects=(), requirements=(),
                 max_attempts=2, backoff=1, timeout=300, memory="1G",
                 target_opts=None):
        preflight()
        self.target_opts = target_opts or {}
        os.makedirs(TMP, exist_ok=True)
        self.root = tempfile.mkdtemp(prefix=name + ".", dir=TMP)
        self.datadir = os.path.join(self.root, "data")
        os.makedirs(self.datadir)
        self.config = os.path.join(self.root, "wheelwright.conf")
        self.daemons = []
        self.engines = []
        self.upstream_indexd = None
        self.ok = False
        self.images = {}
        for t in targets:
            o = self.target_opts.get(t, {})
            self.images[t] = o.get("image") or build_image(TARGETS[t][0])
        try:
            self._setup(targets, engines, upstream, projects, requirements,
                        jobs, max_attempts, backoff, timeout, memory)
        except BaseException:
            self.close()
            raise

    def _setup(self, targets, engines, upstream, projects, requirements,
               jobs, max_attempts, backoff, timeout, memory):
        for _ in range(engines):
            self.engines.append(PodmanService().start())

        # Upstream: the fixture sdists and the build-dependency wheels.
        self.updir = os.path.join(self.root, "upstream")
        os.makedirs(self.updir)
        self.sdists = {p: make_sdist(p, self.updir) for p in projects}
        self.dep_wheels = build_dep_wheels(self.updir)
        if upstream == "indexd":
            self.upstream_url = self._upstream_indexd()
        else:
            self.upstream_url = "dir:" + self.updir

        self.reqfile = None
        if requirements:
            self.reqfile = os.path.join(self.root, "requirements.txt")
            with open(self.reqfile, "w") as f:
                f.write("\n".join(requirements) + "\n")
        self.settings = dict(targets=list(targets), jobs=jobs,
                             max_attempts=max_attempts, backoff=backoff,
                             timeout=timeout, memory=memory)
        self.write_config()
        self.access_log = os.path.join(self.root, "access.log")

    def _upstream_indexd(self):
        """A second indexd over its own data dir, holding the sdists and
        the dependency wheels: what PyPI is in production."""
        d = os.path.join(self.root, "up-index")
        os.makedirs(os.path.join(d, "data"))
        conf = os.path.join(d, "wheelwright.conf")
        with open(conf, "w") as f:
            f.write("[global]\ndatadir = %s\n\n[indexd]\nlisten = "
                    "127.0.0.1:0\naccess_log = -\n" % os.path.join(d, "data"))
        files = [os.path.join(self.updir, n) for n in os.listdir(self.updir)]
        indexctl(conf, "import", *sorted(files))
        self.upstream_indexd = start_indexd(conf, os.path.join(d,
                                                               "indexd.err"))
        self.daemons.append(self.upstream_indexd)
        return self.upstream_indexd.url + "/simple/"

    def write_config(self, **over):
        self.settings.update(over)
        s = self.settings
        lines = ["[global]", "datadir = %s" % self.datadir, "",
                 "[indexd]", "listen = 127.0.0.1:0",
                 "access_log = %s" % os.path.join(self.root, "access.log"),
                 "", "[builderd]",
                 "max_attempts = %d" % s["max_attempts"],
                 "backoff_base = %d" % s["backoff"],
                 "reconcile_interval = 3600",
                 "labels = wheelwright.testenv=%s" % self.engines[0].testenv]
        if self.reqfile:
            lines.append("requirements = %s" % self.reqfile)
        lines += ["", "[upstream up]", "url = %s" % self.upstream_url,
                  "timeout = 10", "retries = 1"]
        for i, e in enumerate(self.engines):
            lines += ["", "[engine e%d]" % (i + 1), "url = %s" % e.url,
                      "jobs = %d" % s["jobs"]]
        for t in s["targets"]:
            o = dict(self.target_opts.get(t, {}))
            o.pop("image", None)
            arch = o.pop("arch", None) or TARGETS.get(t, (None, "x86_64"))[1]
            policy = o.pop("policy", "manylinux")
            lines += ["", "[target %s]" % t, "python = 3.11.2",
                      "policy = %s" % policy, "arch = %s" % arch,
                      "image = %s" % self.images[t],
                      "engines = %s" % ", ".join(
                          "e%d" % (i + 1) for i in range(len(self.engines))),
                      "timeout = %d" % s["timeout"],
                      "memory = %s" % s["memory"], "cpus = 1", "pids = 512"]
            lines += ["%s = %s" % kv for kv in sorted(o.items())]
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")

    # daemons
    def builderd(self, *args, name="builderd"):
        errpath = os.path.join(self.root, "%s.%d.err" % (name,
                                                          len(self.daemons)))
        d = Daemon(name, [BUILDERD, "-c", self.config] + list(args), errpath)
        self.daemons.append(d)
        return d

    def indexd(self):
        d = start_indexd(self.config, os.path.join(
            self.root, "indexd.%d.err" % len(self.daemons)))
        self.daemons.append(d)
        return d

    def indexctl(self, *args, **kw):
        return indexctl(self.config, *args, **kw)

    # state
    def db(self):
        return sqlite3.connect("file:%s?mode=ro" % os.path.join(
            self.datadir, "catalog.sqlite"), uri=True, timeout=10)

    def jobs(self):
        try:
            db = self.db()
        except sqlite3.OperationalError:
            return []		# not created yet
        db.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in db.execute(
                "SELECT * FROM jobs ORDER BY id")]
        except sqlite3.OperationalError:
            return []
        finally:
            db.close()

    def job(self, project, target=None):
        for j in reversed(self.jobs()):
            if j["project"] == project and (target is None or
                                            j["target"] == target):
                return j
        return None

    def files(self):
        db = self.db()
        db.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in db.execute(
                "SELECT f.filename, f.sha256, f.origin FROM files f "
                "ORDER BY f.filename")]
        finally:
            db.close()

    def wait_jobs(self, done, timeout, daemon=None, every=None):
        """Poll the job table until done(jobs) is true."""
        deadline = time.time() + timeout
        while True:
            jobs = self.jobs()
            if every:
                every(jobs)
            if done(jobs):
                return jobs
            if daemon is not None and not daemon.alive():
                raise Failure("builderd exited (%s):\n%s" % (
                    daemon.proc.returncode, daemon.stderr()[-4000:]))
            if time.time() > deadline:
                raise Failure("jobs not done after %d s: %s\n%s" % (
                    timeout, json.dumps(jobs, indent=1)[-4000:],
                    daemon.stderr()[-4000:] if daemon else ""))
            time.sleep(0.25)

    def containers(self):
        """Build containers of this data dir on any engine (the services
        share podman's store)."""
        p = podman("ps", "-a", "--filter", "label=wheelwright.testenv=%s" %
                   self.engines[0].testenv, "--format", "{{.ID}} {{.Labels}}")
        return [l for l in p.stdout.splitlines() if l.strip()]

    def run_in(self, image, script, *args, network="none", timeout=600):
        """sh -c script (args as $1...) in a throw-away container of image,
        as the image's user with HOME=/tmp, labelled as this stack's.
        network "host" reaches the daemons on 127.0.0.1."""
        cmd = ["podman", "run", "--rm", "--network", network, "--label",
               "wheelwright.testenv=%s" % self.engines[0].testenv,
               "--env", "HOME=/tmp", "--env", "PIP_CONFIG_FILE=/dev/null",
               "--env", "PIP_DISABLE_PIP_VERSION_CHECK=1", "--env",
               "PIP_NO_CACHE_DIR=1", "--workdir", "/tmp", image,
               "/bin/sh", "-c", script, "sh"] + list(args)
        return run(cmd, env=podman_env(), timeout=timeout)

    def close(self):
        for d in self.daemons:
            if d.alive():
                d.kill(signal.SIGKILL)
                d.proc.wait()
        for e in self.engines:
            e.close()
        if self.ok and not KEEP:
            shutil.rmtree(self.root, ignore_errors=True)
        else:
            log("(kept %s for inspection)" % self.root)


# --------------------------------------------------------------------- pip

def make_venv(root, system_site=False, name="venv"):
    path = os.path.join(root, name)
    cmd = [DEBIAN_PYTHON, "-m", "venv", path]
    if system_site:
        cmd.append("--system-site-packages")
    subprocess.run(cmd, check=True, capture_output=True)
    return os.path.join(path, "bin", "python")


def pip(py, *args, check_rc=True):
    # hermetic: no pip settings from the caller's environment
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update({"PIP_DISABLE_PIP_VERSION_CHECK": "1",
                "PIP_NO_CACHE_DIR": "1", "PIP_NO_INPUT": "1",
                "PIP_CONFIG_FILE": os.devnull,
                "PYTHONDONTWRITEBYTECODE": "1"})
    p = run([py, "-m", "pip"] + list(args), env=env, timeout=600)
    if check_rc and p.returncode != 0:
        raise Failure("pip %s failed (%d):\n%s\n%s" % (
            " ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def check_record(path):
    """Every RECORD row's hash and size match its member and every member
    is listed: checked with zipfile, apart from the C verifier."""
    import base64
    import csv
    import hashlib
    import io
    import zipfile
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if not n.endswith("/")]
        rec = [n for n in names if n.endswith(".dist-info/RECORD")]
        if len(rec) != 1:
            raise Failure("%s: %d RECORD files" % (path, len(rec)))
        listed = set()
        for row in csv.reader(io.StringIO(z.read(rec[0]).decode())):
            if not row:
                continue
            name, digest, size = row
            listed.add(name)
            if name == rec[0]:
                continue
            algo, _, want = digest.partition("=")
            data = z.read(name)
            got = base64.urlsafe_b64encode(hashlib.new(
                algo, data).digest()).rstrip(b"=").decode()
            if algo != "sha256" or got != want or int(size) != len(data):
                raise Failure("%s: RECORD row %s does not match its "
                              "member" % (path, row))
        missing = [n for n in names if n not in listed]
        if missing:
            raise Failure("%s: members not in RECORD: %s" % (path, missing))
    return len(listed)


def http_get(url, headers=None, timeout=10):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main(body):
    """Runs body(); exit status for ctest."""
    t0 = time.monotonic()
    try:
        body()
    except Failure as e:
        print(str(e), file=sys.stderr)
        return 1
    print("all checks passed in %.1f s" % (time.monotonic() - t0))
    return 0
