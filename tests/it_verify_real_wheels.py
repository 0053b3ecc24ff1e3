#!/usr/bin/python3
"""it_verify_real_wheels: the verifier and retag against real tools.

Builds the fixture projects (tests/fixtures/projects/wwdemo-*) into wheels
with Debian's pip/setuptools and into sdists with python3-build, verifies
them and Debian's own pip/setuptools/wheel wheels with tool_verify, then
retags the C-extension wheel from linux_<arch> to manylinux_2_17_<arch> and
checks the result three independent ways: our verifier, `python3 -m wheel
unpack` (which checks RECORD), and a RECORD recomputation here; finally pip
installs it (--no-index --target) and the extension is imported and called.
"""

import base64
import csv
import glob
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import zipfile

PY = "/usr/bin/python3"
SRC = os.environ["WW_SOURCE_DIR"]
BUILD = os.environ["WW_BUILD_DIR"]
TMP = os.path.join(os.environ["WW_TEST_TMP"], "it_verify_%d" % os.getpid())
TOOL = os.path.join(BUILD, "tests", "tool_verify")
ARCH = platform.machine()
ENV = dict(os.environ, PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
           PIP_NO_CACHE_DIR="1", PYTHONDONTWRITEBYTECODE="1")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def run(args, check_ok=False, **kw):
    kw.setdefault("env", ENV)
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0 and not check_ok:
        print("$ " + " ".join(args) + "\n" + r.stdout + r.stderr)
    return r


def verify(paths, *extra):
    r = run([TOOL] + list(extra) + paths)
    out = [json.loads(l) for l in r.stdout.splitlines()]
    check(len(out) == len(paths), "tool_verify answered for %d files" %
          len(paths))
    return out


def record_ok(whl):
    """Recompute every RECORD row of whl; True if all match."""
    with zipfile.ZipFile(whl) as z:
        names = [n for n in z.namelist() if not n.endswith("/")]
        rec = [n for n in names if n.endswith(".dist-info/RECORD")]
        if len(rec) != 1:
            return False
        rows = list(csv.reader(io.TextIOWrapper(z.open(rec[0]), "utf-8")))
        listed = set()
        for path, h, size in rows:
            listed.add(path)
            if path == rec[0]:
                continue
            data = z.read(path)
            algo, val = h.split("=", 1)
            want = base64.urlsafe_b64encode(
                hashlib.sha256(data).digest()).rstrip(b"=").decode()
            if algo != "sha256" or val != want or int(size) != len(data):
                print("RECORD mismatch:", path)
                return False
        return listed == set(names)


def main():
    shutil.rmtree(TMP, ignore_errors=True)
    os.makedirs(TMP)
    projects = os.path.join(TMP, "projects")
    shutil.copytree(os.path.join(SRC, "tests", "fixtures", "projects"),
                    projects)
    dist = os.path.join(TMP, "dist")
    sdist = os.path.join(TMP, "sdist")

    # Real wheels and sdists from the fixture projects.
    r = run([PY, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
             "--no-index", "-w", dist,
             os.path.join(projects, "wwdemo-pure"),
             os.path.join(projects, "wwdemo-cext")])
    check(r.returncode == 0, "pip wheel builds the fixture projects")
    for p in ("wwdemo-pure", "wwdemo-cext"):
        r = run([PY, "-m", "build", "--sdist", "--no-isolation",
                 "--outdir", sdist, os.path.join(projects, p)])
        check(r.returncode == 0, "python3 -m build --sdist " + p)
    pure = glob.glob(os.path.join(dist, "wwdemo_pure-1.2.0-py3-none-any.whl"))
    cext = glob.glob(os.path.join(dist, "wwdemo_cext-0.3.1-cp3*-cp3*-linux_%s"
                                  ".whl" % ARCH))
    sdists = sorted(glob.glob(os.path.join(sdist, "*.tar.gz")))
    check(len(pure) == 1 and len(cext) == 1 and len(sdists) == 2,
          "wheels and sdists built: %s %s %s" % (pure, cext, sdists))
    if failures:
        return

    debian = sorted(glob.glob("/usr/share/python-wheels/*.whl"))
    check(len(debian) >= 3, "Debian's pip/setuptools/wheel wheels present")
    results = verify(debian + pure + cext + sdists)
    for res in results:
        check(res["ok"], "verifies: %s %s" % (
            os.path.basename(res["file"]),
            "" if res["ok"] else res["error"]["message"]))
    if failures:
        return
    by = {os.path.basename(r["file"]): r for r in results}
    for res in results:
        with open(res["file"], "rb") as f:
            data = f.read()
        check(res["sha256"] == hashlib.sha256(data).hexdigest() and
              res["size"] == len(data),
              "whole-file sha256/size of " + os.path.basename(res["file"]))

    p = by[os.path.basename(pure[0])]
    check(p["name"] == "wwdemo-pure" and p["version"] == "1.2.0" and
          p["requires_python"] == ">=3.7" and
          "packaging (>=20)" in p["requires_dist"] and p["elfs"] == [],
          "pure wheel metadata: %s %s %s" % (p["name"], p["requires_python"],
                                             p["requires_dist"]))
    with zipfile.ZipFile(pure[0]) as z:
        meta = z.read("wwdemo_pure-1.2.0.dist-info/METADATA")
    check(p["metadata_sha256"] == hashlib.sha256(meta).hexdigest() and
          p["metadata_len"] == len(meta),
          "metadata sha256 is of the exact METADATA bytes")

    c = by[os.path.basename(cext[0])]
    check(c["root_is_purelib"] is False and len(c["elfs"]) == 1,
          "C wheel: platlib, one ELF report")
    elf = c["elfs"][0]
    check(elf["path"].startswith("wwdemo_cext/_native.") and
          elf["path"].endswith(".so") and elf["arch"] == ARCH,
          "ELF report names the extension and the arch: %s %s" % (
              elf["path"], elf["arch"]))
    check("libc.so.6" in elf["needed"] and
          any(s["version"].startswith("GLIBC_") for s in elf["symvers"]),
          "ELF report: libc.so.6 needed, GLIBC_ versions %s" % (
              [s["version"] for s in elf["symvers"]]))
    for s in sdists:
        res = by[os.path.basename(s)]
        check(res["kind"] == "sdist" and res["metadata_len"] > 0,
              "sdist PKG-INFO kept: " + os.path.basename(s))

    # Retag the C wheel to manylinux and check the result every way.
    out = os.path.join(TMP, "retagged")
    os.makedirs(out)
    plat = "manylinux_2_17_%s" % ARCH
    r = run([TOOL, "-R", plat, "-o", out, cext[0]])
    res = json.loads(r.stdout)
    check(res["ok"], "retag to %s: %s" % (plat, res.get("error")))
    if failures:
        return
    new = res["path"]
    check(os.path.basename(new) == os.path.basename(cext[0]).replace(
        "linux_" + ARCH, plat), "new canonical filename " + new)
    check(os.listdir(out) == [os.path.basename(new)],
          "only the new wheel in outdir (no temp files)")
    v = verify([new])[0]
    check(v["ok"] and v["platform_tag"] == plat and len(v["elfs"]) == 1,
          "retagged wheel verifies")
    with zipfile.ZipFile(new) as z:
        wheel = z.read("wwdemo_cext-0.3.1.dist-info/WHEEL").decode()
    tags = [l.split(": ", 1)[1] for l in wheel.splitlines()
            if l.startswith("Tag: ")]
    check(tags == ["%s-%s-%s" % (c["python_tag"], c["abi_tag"], plat)],
          "WHEEL Tag lines: %s" % tags)
    check(record_ok(new), "RECORD recomputed independently matches")
    r = run([PY, "-m", "wheel", "unpack", "-d", os.path.join(TMP, "unpack"),
             new])
    check(r.returncode == 0, "python3 -m wheel unpack accepts the RECORD")

    site = os.path.join(TMP, "site")
    r = run([PY, "-m", "pip", "install", "--no-index", "--no-deps",
             "--target", site, new, pure[0]])
    check(r.returncode == 0, "pip installs the retagged wheel")
    r = run([PY, "-c", "import wwdemo_cext, wwdemo_pure, zlib;"
             "assert wwdemo_cext.length('hello') == 5;"
             "assert wwdemo_cext.crc32(b'abc') == zlib.crc32(b'abc');"
             "assert wwdemo_pure.greeting('x') == 'Hello, x!';"
             "print(wwdemo_cext.__file__)"],
            cwd=TMP, env=dict(ENV, PYTHONPATH=site))
    check(r.returncode == 0 and site in r.stdout,
          "the installed extension imports and works")

    # pip really looks at the tag: a musllinux retag is refused here.
    out2 = os.path.join(TMP, "musl")
    os.makedirs(out2)
    r = run([TOOL, "-R", "musllinux_1_2_%s" % ARCH, "-o", out2, cext[0]])
    musl = json.loads(r.stdout)
    check(musl["ok"], "retag to musllinux (tags only)")
    r = run([PY, "-m", "pip", "install", "--no-index", "--no-deps",
             "--target", os.path.join(TMP, "site2"), musl["path"]],
            check_ok=True)
    check(r.returncode != 0 and "not a supported wheel" in r.stderr,
          "pip refuses the musllinux wheel on glibc")

    # Retagging never replaces an existing file.
    r = run([TOOL, "-R", plat, "-o", out, cext[0]], check_ok=True)
    res = json.loads(r.stdout)
    check(not res["ok"] and res["error"]["code"] == "retag-exists",
          "second retag into the same dir refused")


if __name__ == "__main__":
    main()
    if failures:
        print("%d failure(s)" % len(failures))
        sys.exit(1)
    shutil.rmtree(TMP, ignore_errors=True)
    print("all ok")
