"""engine_e2e.py: shared helpers for the end-to-end tests of builder/engine.c
(tests/e2e_engine*.py): a private podman API service (tests/lib/
podman_env.sh), the builder images (docker/build-image.sh), fixture sdists
(tests/lib/make_sdist.sh) and the tests/tool_builder_engine driver, which
runs every engine operation through the real C client.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

SRC = os.environ.get("WW_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("WW_BUILD_DIR") or os.path.join(SRC, "build")
TMP = os.environ.get("WW_TEST_TMP") or tempfile.gettempdir()
TOOL = os.path.join(BUILD, "tests", "tool_builder_engine")
BUILD_USER = "10001:10001"  # the wwbuild user of docker/build-image.sh


class Failure(Exception):
    pass


def check(cond, what, detail=None):
    if not cond:
        msg = "FAIL: " + what
        if detail is not None:
            msg += "\n  " + str(detail)
        raise Failure(msg)
    print("ok: " + what, flush=True)


def build_image(arch):
    """Makes (or finds in the cache) the builder image; returns its ref."""
    t0 = time.monotonic()
    p = subprocess.run([os.path.join(SRC, "docker", "build-image.sh"), arch],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode != 0:
        raise Failure("docker/build-image.sh %s failed:\n%s" % (arch, p.stderr))
    ref = p.stdout.strip().splitlines()[-1]
    print("builder image %s ready in %.1f s" % (ref, time.monotonic() - t0),
          flush=True)
    return ref


def make_sdist(project, outdir):
    p = subprocess.run(
        [os.path.join(SRC, "tests", "lib", "make_sdist.sh"),
         os.path.join(SRC, "tests", "fixtures", "projects", project), outdir],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise Failure("make_sdist %s failed:\n%s" % (project, p.stderr))
    return p.stdout.strip()


class Engine:
    """A private podman API service plus the C client pointed at it."""

    def __init__(self):
        # unix socket paths are short: keep the directory in /tmp.
        self.dir = tempfile.mkdtemp(prefix="wwe2e-", dir="/tmp")
        self.started = False
        self.url = None
        self.testenv = None

    def __enter__(self):
        env_sh = os.path.join(SRC, "tests", "lib", "podman_env.sh")
        p = subprocess.run([env_sh, "start", self.dir], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            raise Failure("podman_env.sh start failed:\n" + p.stderr)
        self.started = True
        self.url, self.testenv = p.stdout.split()[:2]
        return self

    def __exit__(self, *exc):
        if self.started:
            subprocess.run([os.path.join(SRC, "tests", "lib", "podman_env.sh"),
                            "stop", self.dir])
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def tool(self, *args, url=None, expect=0, tls=None):
        """Runs the C driver; returns (parsed JSON or None, stderr).
        tls: {"WW_TLS_CA": path, "WW_TLS_CERT": ..., "WW_TLS_KEY": ...}."""
        cmd = [TOOL, url or self.url] + [str(a) for a in args]
        env = dict(os.environ)
        for k in ("WW_TLS_CA", "WW_TLS_CERT", "WW_TLS_KEY"):
            env.pop(k, None)
        env.update(tls or {})
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env=env)
        if expect is not None and p.returncode != expect:
            raise Failure("%s exited %d, wanted %d\nstdout: %s\nstderr: %s" % (
                " ".join(cmd[:6]) + " ...", p.returncode, expect, p.stdout,
                p.stderr))
        out = json.loads(p.stdout) if p.stdout.strip() else None
        return out, p.stderr

    def run(self, image, argv, *opts, expect=0):
        """create + start + wait (+ remove unless --keep) one container.
        Every container carries this environment's label so that
        podman_env.sh stop can remove leftovers."""
        args = ["run", "--image", image, "--label",
                "wheelwright.testenv=" + self.testenv]
        args += list(opts) + ["--"] + list(argv)
        return self.tool(*args, expect=expect)[0]


def elf_info(data):
    """(e_machine, NEEDED list) of an ELF shared object, via readelf."""
    machine = int.from_bytes(data[18:20], "little")
    with tempfile.NamedTemporaryFile(suffix=".so") as f:
        f.write(data)
        f.flush()
        out = subprocess.run(["readelf", "-d", f.name], stdout=subprocess.PIPE,
                             text=True, check=True).stdout
    needed = [line.split("[", 1)[1].split("]", 1)[0]
              for line in out.splitlines() if "(NEEDED)" in line]
    return machine, needed


def build_wheel(eng, image, sdist_dir, sdist_name, workdir, *extra,
                timeout_ms=600000, platform=None, isolated=False):
    """pip wheel inside a container: sdist dir read-only, output writable,
    no network, the unprivileged build user. isolated: PEP 517 build
    isolation fed from the image's own wheels, on a read-only root with
    tmpfs scratch space. Returns (result, outdir, log)."""
    out = os.path.join(workdir, "out")
    os.makedirs(out, exist_ok=True)
    os.chown(out, 10001, 10001)
    log = os.path.join(workdir, "build.log")
    opts = ["--user", BUILD_USER, "--mount", sdist_dir + ":/ww/src:ro",
            "--mount", out + ":/ww/out", "--memory", str(2 << 30),
            "--pids", "1024", "--timeout-ms", str(timeout_ms), "--log", log]
    if platform:
        opts += ["--platform", platform]
    opts += list(extra)
    argv = ["python3", "-m", "pip", "wheel", "-v", "--no-deps", "--no-index",
            "--wheel-dir", "/ww/out", "/ww/src/" + sdist_name]
    if isolated:
        argv[6:6] = ["--find-links", "/usr/share/python-wheels"]
        opts += ["--read-only", "--tmpfs", "/tmp:rw,exec,size=1g",
                 "--tmpfs", "/home/wwbuild:rw,mode=1777"]
    else:
        argv[6:6] = ["--no-build-isolation"]
    res = eng.run(image, argv, *opts)
    with open(log, errors="replace") as f:
        text = f.read()
    return res, out, text


def check_extlib_wheel(eng, image, outdir, plat_tag, e_machine, platform=None):
    """The wwfix-extlib wheel: right tag, right ELF machine, needs libyaml,
    and it installs and runs inside the builder image."""
    wheels = sorted(f for f in os.listdir(outdir) if f.endswith(".whl"))
    want = "wwfix_extlib-1.0.0-cp311-cp311-%s.whl" % plat_tag
    check(wheels == [want], "pip built " + want, wheels)
    with zipfile.ZipFile(os.path.join(outdir, want)) as z:
        sos = [n for n in z.namelist() if n.endswith(".so")]
        check(len(sos) == 1 and sos[0].startswith("wwfix_extlib/_yamlver"),
              "the wheel holds the extension", z.namelist())
        data = z.read(sos[0])
    machine, needed = elf_info(data)
    check(data[:4] == b"\x7fELF" and machine == e_machine,
          "extension is ELF for machine %d" % e_machine, machine)
    check("libyaml-0.so.2" in needed, "extension NEEDs libyaml-0.so.2", needed)
    script = ("import subprocess, sys\n"
              "subprocess.run([sys.executable, '-m', 'pip', 'install', "
              "'--no-index', '--no-deps', '--target', '/tmp/site', "
              "'/ww/out/%s'], check=True, stdout=subprocess.DEVNULL)\n"
              "sys.path.insert(0, '/tmp/site')\n"
              "import platform, wwfix_extlib\n"
              "print('machine', platform.machine())\n"
              "print('libyaml', wwfix_extlib.libyaml_version())\n" % want)
    log = os.path.join(os.path.dirname(outdir), "import.log")
    opts = ["--user", BUILD_USER, "--mount", outdir + ":/ww/out:ro",
            "--timeout-ms", "300000", "--log", log]
    if platform:
        opts += ["--platform", platform]
    res = eng.run(image, ["python3", "-c", script], *opts)
    with open(log) as f:
        text = f.read()
    check(res["state"]["exit_code"] == 0 and "libyaml 0.2.5" in text,
          "the wheel installs and its extension calls libyaml", text)
    return text


def main(body):
    """Runs body(eng) inside a podman environment; exit status for ctest."""
    if os.geteuid() != 0:
        print("e2e tests need root (podman image store, debootstrap)",
              file=sys.stderr)
        return 1
    if not os.access(TOOL, os.X_OK):
        print("missing %s: build the project first" % TOOL, file=sys.stderr)
        return 1
    t0 = time.monotonic()
    try:
        with Engine() as eng:
            body(eng)
    except Failure as e:
        print(str(e), file=sys.stderr)
        return 1
    print("all checks passed in %.1f s" % (time.monotonic() - t0))
    return 0
