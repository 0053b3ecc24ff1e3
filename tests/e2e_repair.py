"""e2e_repair.py: repair (lib/repair.c, lib/elfedit.c, builder/
repair_fetch.c) end to end on a real engine, through tests/
tool_builder_repair, which calls the same repair_container() builderd uses.

Debian (manylinux):
  - wwfix-extlib (links libyaml) is built in the builder image; the
    libraries are fetched from the exited build container, the wheel is
    repaired to a manylinux tag with libyaml bundled under a hashed name;
    every RECORD hash is checked independently, `indexctl inspect` reports
    the tag and the bundled library, readelf shows the rewritten DT_NEEDED,
    RUNPATH and SONAME; the wheel installs into a fresh venv in a container
    made from the builder image with libyaml purged, and the import calls
    libyaml; the wheel as built fails there.
  - wwfix-chain (links libwwchaina, which needs libwwchainb through RUNPATH
    $ORIGIN, both only in a derived image) is repaired with both bundled
    (the recursive fetch) and runs in the plain builder image.
musl (musllinux), when the musl build image exists (docker/musl/build.sh,
or WW_MUSL_IMAGE=REF); otherwise these parts print SKIP:
  - wwfix-chain the same way to musllinux_1_Y_x86_64, Y read from the image's
    own musl loader, and run in the plain musl image;
  - the static-libc mistake: wwdemo-cext built in a variant of the musl
    image whose linker directory lacks libc.so (as in a root filesystem
    without the usrmerge symlink) gets libc.a linked in, and `indexctl
    inspect` and repair both reject it ("statically links libc"), while the
    same sdist built in the real image is musllinux.
Derived images are cached by a hash of their base image and recipe.
"""
import base64
import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from engine_e2e import (BUILD, BUILD_USER, SRC, TMP, Failure,  # noqa: E402
                        build_image, check, main, make_sdist)

REPAIR = os.path.join(BUILD, "tests", "tool_builder_repair")
INDEXCTL = os.path.join(BUILD, "indexctl", "indexctl")
CONF = os.path.join(SRC, "docker", "containers.conf")
CHAIN_SRC = os.path.join(SRC, "tests", "fixtures", "libs", "wwchain")


def podman(*args, check_rc=True):
    env = dict(os.environ, CONTAINERS_CONF=CONF)
    p = subprocess.run(["podman"] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=env)
    if check_rc and p.returncode != 0:
        raise Failure("podman %s failed (%d):\n%s%s" % (
            " ".join(args[:4]), p.returncode, p.stdout, p.stderr))
    return p


def derived_image(eng, base, name, script, fixdir=None):
    """base with script run in it as root (sh -ec, no network), committed
    as localhost/wheelwright-test-NAME:KEY, KEY a hash of the base image,
    the script and the files of fixdir. The base's user is kept."""
    base_id = podman("image", "inspect", "--format", "{{.Id}}",
                     base).stdout.strip()
    user = podman("image", "inspect", "--format", "{{.Config.User}}",
                  base).stdout.strip()
    h = hashlib.sha256((base_id + "\0" + script).encode())
    if fixdir:
        for f in sorted(os.listdir(fixdir)):
            h.update(f.encode() + b"\0")
            with open(os.path.join(fixdir, f), "rb") as fh:
                h.update(fh.read())
    ref = "localhost/wheelwright-test-%s:%s" % (name, h.hexdigest()[:12])
    if podman("image", "exists", ref, check_rc=False).returncode == 0:
        print("derived image %s (cached)" % ref, flush=True)
        return ref
    cname = "ww-derive-%s-%d" % (name, os.getpid())
    podman("rm", "-f", cname, check_rc=False)
    args = ["run", "--name", cname, "--user", "0:0", "--network", "none",
            "--label", "wheelwright.testenv=" + eng.testenv]
    if fixdir:
        args += ["-v", fixdir + ":/ww/fix:ro"]
    p = podman(*(args + [base, "/bin/sh", "-ec", script]), check_rc=False)
    if p.returncode != 0:
        podman("rm", "-f", cname, check_rc=False)
        raise Failure("making %s failed:\n%s%s" % (ref, p.stdout, p.stderr))
    changes = ["--change", "USER=" + user] if user else []
    podman(*(["commit", "-q"] + changes + [cname, ref]))
    podman("rm", "-f", cname, check_rc=False)
    print("derived image %s made" % ref, flush=True)
    return ref


def build(eng, image, project, work, python="python3"):
    """pip wheel of a fixture sdist in image, the container kept for the
    archive API. Returns (wheel path, container id, log text)."""
    os.makedirs(work)
    src = os.path.join(work, "src")
    out = os.path.join(work, "out")
    os.makedirs(out)
    os.chown(out, 10001, 10001)
    sdist = make_sdist(project, src)
    log = os.path.join(work, "build.log")
    res = eng.run(image, [python, "-m", "pip", "wheel", "--no-deps",
                          "--no-index", "--no-build-isolation",
                          "--wheel-dir", "/ww/out",
                          "/ww/src/" + os.path.basename(sdist)],
                  "--user", BUILD_USER, "--mount", src + ":/ww/src:ro",
                  "--mount", out + ":/ww/out", "--timeout-ms", "600000",
                  "--memory", str(2 << 30), "--log", log, "--keep")
    with open(log, errors="replace") as f:
        text = f.read()
    check(res["state"]["exit_code"] == 0,
          "%s builds in %s" % (project, image), text[-3000:])
    wheels = [f for f in os.listdir(out) if f.endswith(".whl")]
    check(len(wheels) == 1 and "-linux_x86_64.whl" in wheels[0],
          "pip made one linux_x86_64 wheel of %s" % project, wheels)
    return os.path.join(out, wheels[0]), res["id"], text


def tool(eng, cid, *args, expect=0):
    p = subprocess.run([REPAIR, eng.url, cid] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode != expect:
        raise Failure("tool_builder_repair %s exited %d, wanted %d:\n%s%s" % (
            args[0], p.returncode, expect, p.stdout, p.stderr))
    return (json.loads(p.stdout) if p.stdout.strip() else None), p.stderr


def container_file_sha256(eng, cid, path, work):
    dst = os.path.join(work, "copy-" + os.path.basename(path))
    eng.tool("cp", cid, path, dst)
    with open(dst, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_record(wheel):
    """Every RECORD row's hash and size match the member, and every member
    is listed: checked here with zipfile, apart from the C verifier."""
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        rec = [n for n in names if n.endswith(".dist-info/RECORD")]
        check(len(rec) == 1, "one RECORD in " + os.path.basename(wheel))
        rows = list(csv.reader(io.StringIO(z.read(rec[0]).decode())))
        listed = set()
        for row in rows:
            if not row:
                continue
            path, h, size = row
            listed.add(path)
            if path == rec[0]:
                check(h == "" and size == "", "RECORD lists itself bare")
                continue
            data = z.read(path)
            algo, _, digest = h.partition("=")
            want = base64.urlsafe_b64encode(
                hashlib.new(algo, data).digest()).rstrip(b"=").decode()
            if algo != "sha256" or digest != want or int(size) != len(data):
                raise Failure("RECORD row for %s does not match: %s" % (
                    path, row))
        missing = [n for n in names if not n.endswith("/") and
                   n not in listed]
        check(not missing, "every RECORD hash and size is valid (%d rows), "
              "every member listed" % len(listed), missing)


def readelf_d(data, work, name):
    path = os.path.join(work, name)
    with open(path, "wb") as f:
        f.write(data)
    p = subprocess.run(["readelf", "-d", "-W", path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    check(p.returncode == 0 and "Warning" not in p.stdout,
          "readelf reads %s without warnings" % name, p.stdout)
    return p.stdout


def inspect(wheel):
    p = subprocess.run([INDEXCTL, "inspect", "--json", wheel],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode != 0:
        raise Failure("indexctl inspect %s failed:\n%s%s" % (
            wheel, p.stdout, p.stderr))
    return json.loads(p.stdout)


def install_and_run(eng, image, wheel, code, work, name, python="python3",
                    expect_ok=True):
    """A fresh venv in a container of image; pip installs wheel (mounted
    read-only) and python runs code. Returns the output."""
    script = (
        "set -e\n"
        "%s -m venv /tmp/venv\n"
        "/tmp/venv/bin/python -m pip install -q --no-index --no-deps "
        "/ww/whl/%s\n"
        "cd /tmp && /tmp/venv/bin/python -c \"$1\"\n" % (
            python, os.path.basename(wheel)))
    log = os.path.join(work, name + ".log")
    res = eng.run(image, ["/bin/sh", "-c", script, "sh", code],
                  "--user", BUILD_USER, "--mount",
                  os.path.dirname(wheel) + ":/ww/whl:ro", "--env",
                  "HOME=/tmp", "--timeout-ms", "300000", "--log", log)
    with open(log, errors="replace") as f:
        text = f.read()
    ok = res["state"]["exit_code"] == 0
    if expect_ok and not ok:
        raise Failure("%s: running %s in %s failed:\n%s" % (
            name, os.path.basename(wheel), image, text[-3000:]))
    if not expect_ok and ok:
        raise Failure("%s: %s ran in %s, but it should not:\n%s" % (
            name, os.path.basename(wheel), image, text[-3000:]))
    return text


def check_repaired(rep, libdir, sonames):
    names = sorted(b["soname"] for b in rep["bundled"])
    check(names == sorted(sonames), "bundled exactly %s" % sonames, rep)
    for b in rep["bundled"]:
        base, _, ext = b["soname"].partition(".")
        want = "%s/%s-%s.%s" % (libdir, base, b["sha256"][:8], ext)
        check(b["path"] == want, "%s bundled as %s" % (b["soname"], want),
              b)


def test_libyaml(eng, image, work):
    wheel, cid, _ = build(eng, image, "wwfix-extlib",
                          os.path.join(work, "yaml"))
    try:
        found, _ = tool(eng, cid, "fetch", wheel)
        check([lib["soname"] for lib in found["libs"]] == ["libyaml-0.so.2"]
              and found["missing"] == [],
              "the build container provides libyaml-0.so.2", found)
        origin = found["libs"][0]["origin"]
        check(origin.startswith("/usr/lib/x86_64-linux-gnu/libyaml-0.so.2"),
              "found at its real path %s (symlinks followed)" % origin)
        check("libc.so.6" in found["interp_libs"] and
              "libexpat.so.1" in found["interp_libs"],
              "the interpreter's own libraries are known",
              found["interp_libs"])
        outdir = os.path.join(work, "yaml", "repaired")
        os.makedirs(outdir)
        rep, _ = tool(eng, cid, "repair", wheel, outdir)
        yaml_sha = container_file_sha256(eng, cid, origin,
                                         os.path.join(work, "yaml"))
    finally:
        eng.tool("rm", cid)
    print(json.dumps(rep, indent=2))
    tag = rep["tag"].split(".")[0]
    check(re.fullmatch(r"manylinux_2_\d+_x86_64", tag) is not None,
          "repaired to %s" % rep["tag"])
    check(os.path.basename(rep["path"]) ==
          "wwfix_extlib-1.0.0-cp311-cp311-%s.whl" % rep["tag"],
          "the file name carries the tag", rep["path"])
    check_repaired(rep, "wwfix_extlib.libs", ["libyaml-0.so.2"])
    check(rep["bundled"][0]["sha256"] == yaml_sha,
          "the bundled copy's hash is that of the container's libyaml")
    check(os.listdir(outdir) == [os.path.basename(rep["path"])],
          "only the repaired wheel in the output directory")

    check_record(rep["path"])
    info = inspect(rep["path"])
    check(info["verify"]["ok"], "indexctl inspect: verification ok", info)
    check(info["policy"]["tag"] == tag and not info["policy"]["violations"]
          and not info["policy"]["external_libs"],
          "indexctl inspect: policy tag %s, no violations" % tag,
          info["policy"])
    check(info["bundled_libs"] == [rep["bundled"][0]["path"]],
          "indexctl inspect reports the bundled library",
          info["bundled_libs"])
    before = inspect(wheel)
    check(before["policy"]["external_libs"] == ["libyaml-0.so.2"] and
          before["bundled_libs"] == [],
          "the wheel as built needs libyaml from outside", before["policy"])

    newname = os.path.basename(rep["bundled"][0]["path"])
    with zipfile.ZipFile(rep["path"]) as z:
        ext = [n for n in z.namelist()
               if n.startswith("wwfix_extlib/_yamlver") and n.endswith(".so")]
        d = readelf_d(z.read(ext[0]), work, "ext.so")
        check("Shared library: [%s]" % newname in d and
              "libyaml-0.so.2]" not in d and
              "Library runpath: [$ORIGIN/../wwfix_extlib.libs]" in d,
              "the extension needs %s through $ORIGIN/../wwfix_extlib.libs"
              % newname, d)
        d = readelf_d(z.read(rep["bundled"][0]["path"]), work, "lib.so")
        check("Library soname: [%s]" % newname in d,
              "the copy's SONAME is " + newname, d)

    noyaml = derived_image(
        eng, image, "noyaml",
        "dpkg --purge --force-depends libyaml-dev libyaml-0-2 >/dev/null\n"
        "! ls /usr/lib/*/libyaml* /lib/*/libyaml* 2>/dev/null\n")
    code = ("import ctypes.util, glob, wwfix_extlib\n"
            "assert ctypes.util.find_library('yaml') is None\n"
            "assert not glob.glob('/usr/lib/*/libyaml*')\n"
            "print('libyaml', wwfix_extlib.libyaml_version())\n")
    text = install_and_run(eng, noyaml, rep["path"], code, work, "yaml-ok")
    check("libyaml 0.2.5" in text,
          "the repaired wheel installs and calls libyaml where libyaml is "
          "not installed", text[-2000:])
    text = install_and_run(eng, noyaml, wheel, code, work, "yaml-control",
                           expect_ok=False)
    check("libyaml-0.so.2: cannot open shared object file" in text,
          "control: the wheel as built fails there for want of libyaml",
          text[-2000:])


def test_chain(eng, image, plain, work, libc, python, musl_minor=None):
    """wwfix-chain: a library that needs another, both bundled."""
    chain = derived_image(eng, image, "%s-wwchain" % libc,
                          "CC=gcc sh /ww/fix/build.sh /ww/fix /opt/wwchain",
                          fixdir=CHAIN_SRC)
    wheel, cid, _ = build(eng, chain, "wwfix-chain",
                          os.path.join(work, "chain-" + libc), python)
    args = ["--libc", libc, "--python", python]
    if musl_minor is not None:
        args += ["--musl-minor", str(musl_minor)]
    outdir = os.path.join(work, "chain-" + libc, "repaired")
    os.makedirs(outdir)
    try:
        found, _ = tool(eng, cid, "fetch", wheel, *args)
        origins = sorted(lib["origin"] for lib in found["libs"])
        check(origins == ["/opt/wwchain/lib/libwwchaina.so.1",
                          "/opt/wwchain/lib/libwwchainb.so.1"],
              "%s: both libraries fetched, the second through the first's "
              "RUNPATH" % libc, found)
        rep, _ = tool(eng, cid, "repair", wheel, outdir, *args)
    finally:
        eng.tool("rm", cid)
    print(json.dumps(rep, indent=2))
    if libc == "musl":
        want = "musllinux_1_%d_x86_64" % musl_minor
        check(rep["tag"] == want, "repaired to " + want, rep["tag"])
    else:
        check(rep["tag"].startswith("manylinux_2_"),
              "repaired to " + rep["tag"])
    check_repaired(rep, "wwfix_chain.libs",
                   ["libwwchaina.so.1", "libwwchainb.so.1"])
    check_record(rep["path"])
    info = inspect(rep["path"])
    check(sorted(info["bundled_libs"]) ==
          sorted(b["path"] for b in rep["bundled"]) and
          not info["policy"]["violations"],
          "indexctl inspect: both libraries bundled, no violations", info)
    with zipfile.ZipFile(rep["path"]) as z:
        ext = [n for n in z.namelist()
               if n.startswith("wwfix_chain/_chain") and n.endswith(".so")]
        d = readelf_d(z.read(ext[0]), work, "chain-%s.so" % libc)
    check("Library runpath: [$ORIGIN/../wwfix_chain.libs]" in d and
          "/opt/wwchain" not in d,
          "%s: the build's absolute RUNPATH is gone" % libc, d)
    code = ("import os, wwfix_chain\n"
            "assert not os.path.exists('/opt/wwchain')\n"
            "print('chain', wwfix_chain.value())\n")
    text = install_and_run(eng, plain, rep["path"], code, work,
                           "chain-%s-ok" % libc, python)
    check("chain 4060" in text, "%s: the repaired wheel runs both "
          "libraries where neither is installed" % libc, text[-2000:])
    text = install_and_run(eng, plain, wheel, code, work,
                           "chain-%s-control" % libc, python, expect_ok=False)
    check("libwwchain" in text, "%s: control: the wheel as built does not "
          "load there" % libc, text[-2000:])


def musl_image():
    """The musl build image, or None (and why)."""
    ref = os.environ.get("WW_MUSL_IMAGE")
    if ref:
        if podman("image", "exists", ref, check_rc=False).returncode != 0:
            raise Failure("WW_MUSL_IMAGE=%s: no such image" % ref)
        return ref, None
    script = os.path.join(SRC, "docker", "musl", "build.sh")
    if not os.path.exists(script):
        return None, ("the musl image recipe docker/musl/build.sh is not in "
                      "this tree (set WW_MUSL_IMAGE=REF to use an image)")
    p = subprocess.run([script, "x86_64"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise Failure("docker/musl/build.sh x86_64 failed:\n" + p.stderr[-3000:])
    return p.stdout.strip().splitlines()[-1], None


def musl_minor_of(eng, image, work):
    """musl 1.Y of the image, from its own loader (as pip reads it)."""
    log = os.path.join(work, "musl-version.log")
    eng.run(image, ["/bin/sh", "-c", "/lib/ld-musl-x86_64.so.1 2>&1; true"],
            "--log", log)
    with open(log) as f:
        text = f.read()
    m = re.search(r"Version 1\.(\d+)\.\d+", text)
    check(m is not None, "the musl image's loader says its version", text)
    return int(m.group(1))


def test_static_libc(eng, musl, work):
    variant = derived_image(
        eng, musl, "musl-nolibcso",
        "t=x86_64-linux-musl\n"
        "real=$(readlink -f /usr/lib/$t/libc.so)\n"
        "mkdir -p /usr/lib/musl-runtime\n"
        "mv \"$real\" /usr/lib/musl-runtime/libc.so\n"
        "ln -sfn musl-runtime/libc.so /usr/lib/ld-musl-x86_64.so.1\n"
        "rm -f /usr/lib/$t/libc.so /lib/$t/libc.so\n"
        "test ! -e /usr/lib/$t/libc.so && test -e /usr/lib/$t/libc.a\n"
        "python3 -c 'print(1)'\n")
    bad, cid, _ = build(eng, variant, "wwdemo-cext",
                        os.path.join(work, "static"))
    try:
        _, err = tool(eng, cid, "repair", bad,
                      os.path.join(work, "static", "out"), "--libc", "musl",
                      expect=1)
    finally:
        eng.tool("rm", cid)
    check("repair-policy" in err and "statically links libc" in err,
          "repair refuses the extension with libc.a linked in", err)
    info = inspect(bad)
    viol = info["policy"]["violations"]
    check(info["policy"]["tag"] is None and any(
        "statically links libc" in v and re.search(
            r"\b(memcpy|memset|strlen|malloc|free)\b", v) for v in viol),
        "indexctl inspect: the static libc is a violation naming libc "
        "symbols", viol)
    good, cid, _ = build(eng, musl, "wwdemo-cext", os.path.join(work, "dyn"))
    eng.tool("rm", cid)
    info = inspect(good)
    check(info["policy"]["tag"] == "musllinux_1_2_x86_64" and
          not info["policy"]["violations"],
          "control: built in the real musl image it is musllinux_1_2",
          info["policy"])


def body(eng):
    for p in (REPAIR, INDEXCTL):
        if not os.access(p, os.X_OK):
            raise Failure("missing %s: build the project first" % p)
    work = tempfile.mkdtemp(prefix="e2e_repair.", dir=TMP)
    os.chmod(work, 0o755)
    try:
        image = build_image("amd64")
        test_libyaml(eng, image, work)
        test_chain(eng, image, image, work, "glibc", "python3")
        musl, why = musl_image()
        if musl is None:
            print("SKIP: musllinux repair and the static-libc check: " + why,
                  flush=True)
            return
        minor = musl_minor_of(eng, musl, work)
        test_chain(eng, musl, musl, work, "musl", "python3", minor)
        test_static_libc(eng, musl, work)
    finally:
        if os.environ.get("WW_KEEP_TMP") is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(body))
