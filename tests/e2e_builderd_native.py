"""e2e_builderd_native.py: issue 4, test 1. An upstream indexd serves the
fixture sdists (pure Python and a C extension that calls libc) and the
build-dependency wheels; builderd reconciles the requirement list, fetches
the missing build dependencies from upstream into the catalog, builds both
for x86_64 in podman containers (no network), tags the C wheel
manylinux_2_*_x86_64 and records everything; the indexd serving the same
data directory shows the wheels at once; pip installs them into a fresh
venv and the import runs the C code.
"""
import os
import re
import sys
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import builderd_harness as h  # noqa: E402


def body():
    st = h.Stack("e2e_builderd_native", upstream="indexd",
                 projects=["wwdemo-pure", "wwdemo-cext"],
                 requirements=["wwdemo-pure>=1.0", "wwdemo-cext"])
    try:
        p = h.run([h.BUILDERD, "-n", "-c", st.config])
        h.check(p.returncode == 0 and "configuration OK" in p.stderr,
                "builderd -n accepts the config", p.stderr)
        idx = st.indexd()
        status, _ = h.http_get(idx.url + "/simple/wwdemo-cext/")
        h.check(status == 404, "nothing is served before the build", status)

        bd = st.builderd("-1")
        rc = bd.wait_exit(900)
        h.check(rc == 0, "builderd -1 built everything and exited 0",
                bd.stderr()[-3000:])
        bd.check_clean()
        jobs = {j["project"]: j for j in st.jobs()}
        h.check(set(jobs) == {"wwdemo-pure", "wwdemo-cext"} and
                all(j["state"] == "succeeded" for j in jobs.values()),
                "reconcile made one job per project and both succeeded",
                jobs)
        cext, pure = jobs["wwdemo-cext"], jobs["wwdemo-pure"]
        h.check(re.fullmatch(r"wwdemo_cext-0\.3\.1-cp311-cp311-"
                             r"manylinux_2_\d+_x86_64(\.manylinux\w+)?\.whl",
                             cext["wheel"] or ""),
                "the C wheel is tagged manylinux_2_*_x86_64", cext["wheel"])
        h.check(pure["wheel"] == "wwdemo_pure-1.2.0-py3-none-any.whl",
                "the pure wheel is py3-none-any", pure["wheel"])

        files = {f["filename"]: f for f in st.files()}
        h.check(files.get(cext["wheel"], {}).get("origin") ==
                "build:job-%d" % cext["id"],
                "the wheel is recorded with its job as origin",
                files.get(cext["wheel"]))
        deps = [n for n, f in files.items()
                if f["origin"] == "upstream:up"]
        h.check(any(n.startswith("setuptools-") for n in deps) and
                any(n.startswith("wheel-") for n in deps),
                "missing build dependencies were fetched from upstream "
                "into the catalog", sorted(files))
        with zipfile.ZipFile(os.path.join(st.datadir, "files",
                                          cext["wheel"])) as z:
            so = [n for n in z.namelist() if n.endswith(".so")]
            wheel_meta = z.read([n for n in z.namelist()
                                 if n.endswith(".dist-info/WHEEL")][0])
        h.check(len(so) == 1 and so[0].startswith("wwdemo_cext/_native"),
                "the wheel holds the extension", so)
        h.check(b"Tag: cp311-cp311-manylinux_2_" in wheel_meta,
                "WHEEL names the manylinux tag", wheel_meta)

        with open(cext["log_path"], errors="replace") as f:
            text = f.read()
        h.check("wheelwright: policy: " in text and
                "network none" in text and "user 10001:10001" in text and
                "Successfully built wwdemo-cext" in text,
                "the job log tells the build (no network, build user, pip, "
                "policy)", text[-2000:])

        # Visible in the running indexd at once.
        status, page = h.http_get(idx.url + "/simple/wwdemo-cext/")
        h.check(status == 200 and cext["wheel"].encode() in page,
                "indexd serves the new wheel without a restart", page[:500])

        # pip: a fresh venv (system site packages: wwdemo-pure depends on
        # packaging, which Debian's python3-packaging provides).
        py = h.make_venv(st.root, system_site=True)
        out = h.pip(py, "install", "--index-url", idx.url + "/simple/",
                    "--only-binary", ":all:", "wwdemo-cext", "wwdemo-pure")
        h.check("Successfully installed" in out.stdout,
                "pip installs both from indexd", out.stdout[-1500:])
        code = ("import wwdemo_cext, wwdemo_pure, wwdemo_cext._native as n\n"
                "print(hex(wwdemo_cext.crc32(b'123456789')))\n"
                "print(wwdemo_cext.length('wheelwright'))\n"
                "print(wwdemo_pure.greeting('builder'))\n"
                "print(n.__file__)\n")
        p = h.run([py, "-c", code])
        lines = p.stdout.split("\n")
        h.check(p.returncode == 0 and lines[0] == "0xcbf43926" and
                lines[1] == "11" and lines[2] == "Hello, builder!" and
                lines[3].endswith(".so"),
                "the import runs the C code (crc32, strlen) and the pure one",
                p.stdout + p.stderr)

        h.check(not st.containers(), "no build container is left",
                st.containers())
        tmp = os.listdir(os.path.join(st.datadir, "tmp"))
        h.check(not [n for n in tmp if n.startswith(("build-", "dep-"))],
                "no work directory is left", tmp)
        st.ok = True
    finally:
        st.close()


if __name__ == "__main__":
    sys.exit(h.main(body))
