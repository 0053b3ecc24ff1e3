"""e2e_builderd_musl_repair.py: issue 5 through the real daemon. One podman
service and one `builderd -1` run with two targets:
  cp311-x86_64       manylinux, the Debian builder image (has libyaml-dev);
  cp311-musl-x86_64  musllinux, the offline musl image (docker/musl/
                     build.sh) plus libyaml built with musl (tests/lib/
                     musl_libyaml_image.sh); its musl minor is learned from
                     the build container, not configured.
Both targets have repair on (the default). The requirement list is
wwdemo-cext (calls libc) and wwfix-extlib (links libyaml); wwfix-threaddb
(links glibc's libthread_db) is then queued for the manylinux target with
indexctl
rebuild and run by `builderd -1 -N`.

Checks:
  - musl round trip: wwdemo-cext is musllinux_1_2_x86_64, the job log shows
    the probe's musl version; pip in a fresh venv inside the plain musl
    image installs it from indexd (host network to reach it on 127.0.0.1)
    and the import runs the C code;
  - repair, both libcs: wwfix-extlib is repaired to manylinux_2_*_x86_64
    and musllinux_1_2_x86_64 with libyaml bundled under
    wwfix_extlib.libs/libyaml-0-HASH.so.2; the job log lists the bundled
    library, where it came from in the build container and where it went;
    every RECORD hash is valid; `indexctl inspect` reports the tag and the
    bundled library; indexd serves both; each installs from indexd and
    calls libyaml in a container without libyaml (the plain musl image; the
    Debian builder image with libyaml purged) from the bundled copy;
  - a library that must not be bundled: wwfix-threaddb ends verify_failed
    naming libthread_db.so.1 and why (it is part of glibc), without a
    retry.
"""
import hashlib
import json
import os
import re
import sys
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import builderd_harness as h  # noqa: E402

MANY = "cp311-x86_64"
MUSL = "cp311-musl-x86_64"

# Runs in a container: which libyaml is loaded, and that none is installed.
PROBE = r"""
import glob
import wwdemo_cext, wwfix_extlib
system = [p for d in ("/lib", "/usr/lib", "/usr/local/lib")
          for p in glob.glob(d + "/**/libyaml*", recursive=True)]
maps = [l.split()[-1] for l in open("/proc/self/maps") if "libyaml" in l]
print("crc32", hex(wwdemo_cext.crc32(b"123456789")))
print("libyaml", wwfix_extlib.libyaml_version())
print("system", system)
print("loaded", sorted(set(maps)))
"""

INSTALL = """set -e
python3 -m venv /tmp/venv
/tmp/venv/bin/python -m pip install --index-url "$1" --only-binary :all: \
    wwdemo-cext wwfix-extlib
/tmp/venv/bin/python -c "$2"
"""


def noyaml_image(st, base):
    """The Debian builder image with libyaml purged: the recipe and cache key
    of e2e_repair.py's derived "noyaml" image, so the two tests share it."""
    script = ("dpkg --purge --force-depends libyaml-dev libyaml-0-2 "
              ">/dev/null\n"
              "! ls /usr/lib/*/libyaml* /lib/*/libyaml* 2>/dev/null\n")
    base_id = h.podman("image", "inspect", "--format", "{{.Id}}",
                       base).stdout.strip()
    user = h.podman("image", "inspect", "--format", "{{.Config.User}}",
                    base).stdout.strip()
    key = hashlib.sha256((base_id + "\0" + script).encode()).hexdigest()[:12]
    ref = "localhost/wheelwright-test-noyaml:" + key
    if h.podman("image", "exists", ref, check_rc=False).returncode == 0:
        return ref
    name = "ww-derive-noyaml-%d" % os.getpid()
    h.podman("rm", "-f", name, check_rc=False)
    p = h.podman("run", "--name", name, "--user", "0:0", "--network", "none",
                 "--label", "wheelwright.testenv=" + st.engines[0].testenv,
                 base, "/bin/sh", "-ec", script, check_rc=False)
    if p.returncode != 0:
        h.podman("rm", "-f", name, check_rc=False)
        raise h.Failure("making %s failed:\n%s%s" % (ref, p.stdout,
                                                      p.stderr))
    h.podman(*(["commit", "-q"] + (["--change", "USER=" + user] if user
                                   else []) + [name, ref]))
    h.podman("rm", "-f", name, check_rc=False)
    return ref


def bundled(path):
    with zipfile.ZipFile(path) as z:
        return sorted(n for n in z.namelist()
                      if n.startswith("wwfix_extlib.libs/"))


def body():
    musl = h.musl_image()
    musl_yaml = h.musl_libyaml_image(musl)
    projects = ["wwdemo-cext", "wwfix-extlib", "wwfix-threaddb"]
    st = h.Stack("e2e_builderd_musl_repair", targets=(MANY, MUSL),
                 projects=projects,
                 requirements=["wwdemo-cext", "wwfix-extlib"],
                 max_attempts=2, backoff=1, timeout=600,
                 target_opts={MUSL: {"image": musl_yaml,
                                     "policy": "musllinux"}})
    try:
        bd = st.builderd("-1")
        h.check(bd.wait_exit(1200) == 0, "builderd -1 ran every job and "
                "exited 0", bd.stderr()[-3000:])
        bd.check_clean()
        # Not in the requirement list: a glibc library, so it is queued for
        # the manylinux target only.
        st.indexctl("rebuild", "wwfix-threaddb", "--version", "1.0.0",
                    "--target", MANY)
        bd = st.builderd("-1", "-N")
        h.check(bd.wait_exit(600) == 0, "builderd -1 -N ran it and exited 0",
                bd.stderr()[-3000:])
        bd.check_clean()
        jobs = {(j["project"], j["target"]): j for j in st.jobs()}
        h.check(sorted(jobs) == sorted(
            [("wwdemo-cext", MANY), ("wwdemo-cext", MUSL),
             ("wwfix-extlib", MANY), ("wwfix-extlib", MUSL),
             ("wwfix-threaddb", MANY)]),
            "one job per project and target", sorted(jobs))
        for k, j in jobs.items():
            if k[0] != "wwfix-threaddb":
                h.check(j["state"] == "succeeded", "%s for %s succeeded" % k,
                        j)

        def text(j):
            with open(j["log_path"], errors="replace") as f:
                return f.read()

        # musl round trip: the tag comes from the build container's musl.
        cm = jobs[("wwdemo-cext", MUSL)]
        h.check(cm["wheel"] ==
                "wwdemo_cext-0.3.1-cp311-cp311-musllinux_1_2_x86_64.whl",
                "wwdemo-cext is tagged musllinux_1_2_x86_64", cm["wheel"])
        log = text(cm)
        h.check("wheelwright: musl 1.2\n" in log and
                "allows musllinux_1_2_x86_64" in log,
                "the job log shows the musl version probed in the build "
                "container and the policy it allows", log[-2000:])

        # repair for both libcs
        wheels = {}
        for target, tag_re, libdir in (
                (MANY, r"manylinux_2_\d+_x86_64(\.manylinux\w+)?",
                 "/usr/lib/x86_64-linux-gnu/"),
                (MUSL, r"musllinux_1_2_x86_64",
                 "/usr/lib/x86_64-linux-musl/")):
            j = jobs[("wwfix-extlib", target)]
            h.check(re.fullmatch(r"wwfix_extlib-1\.0\.0-cp311-cp311-" +
                                 tag_re + r"\.whl", j["wheel"] or ""),
                    "%s: wwfix-extlib repaired to %s" % (target, j["wheel"]))
            path = os.path.join(st.datadir, "files", j["wheel"])
            wheels[target] = path
            libs = bundled(path)
            h.check(len(libs) == 1 and re.fullmatch(
                r"wwfix_extlib\.libs/libyaml-0-[0-9a-f]{8}\.so\.2", libs[0]),
                "%s: libyaml is bundled under wwfix_extlib.libs/ with a "
                "hashed name" % target, libs)
            log = text(j)
            m = re.search(r"wheelwright: repair: bundled libyaml-0\.so\.2 "
                          r"from (\S+) as (\S+) \(sha256 [0-9a-f]{64}\)",
                          log)
            h.check(m is not None and m.group(1).startswith(libdir) and
                    m.group(2) == libs[0] and
                    "outside the %s policy" % ("manylinux" if target == MANY
                                               else "musllinux") in log and
                    "wheelwright: repaired wwfix_extlib-1.0.0-cp311-cp311-"
                    "linux_x86_64.whl as " + j["wheel"] in log,
                    "%s: the job log lists the bundled library, where it "
                    "came from and where it went" % target, log[-3000:])
            rows = h.check_record(path)
            h.check(rows > 3, "%s: every RECORD hash and size is valid (%d "
                    "rows)" % (target, rows))
            info = json.loads(st.indexctl("inspect", "--json",
                                          path).stdout)
            tag = j["wheel"][len("wwfix_extlib-1.0.0-cp311-cp311-"):-4]
            h.check(info["verify"]["ok"] and
                    info["policy"]["tag"] == tag.split(".")[0] and
                    not info["policy"]["violations"] and
                    info["bundled_libs"] == libs,
                    "%s: indexctl inspect: verified, %s, bundled %s" % (
                        target, tag.split(".")[0], libs), info)
        h.check(bundled(wheels[MANY]) != bundled(wheels[MUSL]),
                "the two libcs bundle different libyaml builds",
                [bundled(wheels[MANY]), bundled(wheels[MUSL])])

        # refused: a part of glibc
        lp = jobs[("wwfix-threaddb", MANY)]
        h.check(lp["state"] == "failed" and lp["failure"] ==
                "verify_failed" and lp["attempts"] == 1 and
                "cannot bundle libthread_db.so.1" in (lp["message"] or "")
                and "part of glibc" in lp["message"],
                "wwfix-threaddb: verify_failed naming libthread_db.so.1 and "
                "why it cannot be bundled, not retried", lp)
        # served by indexd
        idx = st.indexd()
        url = idx.url + "/simple/"
        status, page = h.http_get(url + "wwfix-extlib/")
        h.check(status == 200 and all(
            os.path.basename(w).encode() in page for w in wheels.values()),
            "indexd serves both repaired wheels", page[:800])

        # installed where libyaml is absent
        for target, image in ((MUSL, musl),
                              (MANY, noyaml_image(st, st.images[MANY]))):
            p = st.run_in(image, INSTALL, url, PROBE, network="host")
            out = p.stdout + p.stderr
            h.check(p.returncode == 0, "%s: pip in a fresh venv in %s "
                    "installs both from indexd and imports them" % (
                        target, image), out[-3000:])
            want = [os.path.basename(wheels[target]),
                    jobs[("wwdemo-cext", target)]["wheel"]]
            h.check(all(w in out for w in want),
                    "%s: pip picked %s" % (target, want), out[-3000:])
            loaded = re.search(r"^loaded \[(.*)\]$", out, re.M)
            h.check("crc32 0xcbf43926" in out and "libyaml 0.2.5" in out
                    and "system []" in out and loaded is not None and
                    "/wwfix_extlib.libs/libyaml-0-" in loaded.group(1),
                    "%s: the C code runs and libyaml is called from the "
                    "bundled copy, none being installed" % target,
                    out[-1500:])

        h.check(not st.containers(), "no container is left",
                st.containers())
        st.ok = True
    finally:
        st.close()


if __name__ == "__main__":
    sys.exit(h.main(body))
