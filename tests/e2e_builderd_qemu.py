"""e2e_builderd_qemu.py: issue 4, test 2. builderd builds the C-extension
fixture for aarch64 under QEMU user emulation (binfmt_misc) on the same
x86_64 podman engine, next to the native x86_64 build; the aarch64 wheel
is tagged manylinux_2_*_aarch64 and holds an AArch64 ELF; `pip download
--platform` picks it (not the x86_64 one) from indexd, and the extension
runs inside an arm64 container.
"""
import os
import re
import sys
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import builderd_harness as h  # noqa: E402

EM_AARCH64 = 183


def body():
    p = h.run([os.path.join(h.SRC, "docker", "binfmt.sh"), "arm64"])
    h.check(p.returncode == 0, "the qemu-aarch64 binfmt_misc handler is "
            "registered", p.stderr)
    st = h.Stack("e2e_builderd_qemu",
                 targets=("cp311-x86_64", "cp311-aarch64"),
                 projects=["wwdemo-cext"], requirements=["wwdemo-cext"],
                 timeout=900)
    try:
        p = h.run([h.BUILDERD, "-n", "-c", st.config])
        h.check(p.returncode == 0, "builderd -n: binfmt handler present",
                p.stderr)
        bd = st.builderd("-1")
        rc = bd.wait_exit(1800)
        h.check(rc == 0, "builderd built both targets and exited 0",
                bd.stderr()[-3000:])
        bd.check_clean()
        arm = st.job("wwdemo-cext", "cp311-aarch64")
        x86 = st.job("wwdemo-cext", "cp311-x86_64")
        h.check(arm and arm["state"] == "succeeded" and x86 and
                x86["state"] == "succeeded", "both jobs succeeded",
                st.jobs())
        h.check(re.fullmatch(r"wwdemo_cext-0\.3\.1-cp311-cp311-"
                             r"manylinux_2_\d+_aarch64(\.manylinux\w+)?\.whl",
                             arm["wheel"] or ""),
                "the aarch64 wheel is tagged manylinux_2_*_aarch64",
                arm["wheel"])
        with open(arm["log_path"], errors="replace") as f:
            text = f.read()
        h.check("platform linux/arm64" in text,
                "the container ran as linux/arm64 (QEMU)", text[:1500])
        with zipfile.ZipFile(os.path.join(st.datadir, "files",
                                          arm["wheel"])) as z:
            so = [n for n in z.namelist() if n.endswith(".so")]
            data = z.read(so[0])
        h.check(data[:4] == b"\x7fELF" and
                int.from_bytes(data[18:20], "little") == EM_AARCH64,
                "the extension is an AArch64 ELF", so)

        idx = st.indexd()
        dl = os.path.join(st.root, "dl")
        py = h.make_venv(st.root)
        # pip 23 does not expand --platform manylinux_2_36_aarch64 to the
        # older glibc tags a 2.36 machine accepts: list them, as a user
        # downloading for such a machine does.
        plats = []
        for minor in range(36, 16, -1):
            plats += ["--platform", "manylinux_2_%d_aarch64" % minor]
        out = h.pip(py, "download", "--index-url", idx.url + "/simple/",
                    "--only-binary", ":all:", "--no-deps", *plats,
                    "--python-version", "3.11", "--implementation", "cp",
                    "--abi", "cp311", "-d", dl, "wwdemo-cext")
        got = sorted(os.listdir(dl))
        h.check(got == [arm["wheel"]], "pip download --platform "
                "manylinux_2_36_aarch64 (and older) picks the aarch64 wheel "
                "over the x86_64 one", (got, out.stdout[-800:]))

        script = ("import subprocess, sys, glob\n"
                  "subprocess.run([sys.executable, '-m', 'pip', 'install', "
                  "'--no-index', '--no-deps', '--target', '/tmp/site'] + "
                  "glob.glob('/dl/*.whl'), check=True, "
                  "stdout=subprocess.DEVNULL)\n"
                  "sys.path.insert(0, '/tmp/site')\n"
                  "import platform, wwdemo_cext\n"
                  "print(platform.machine(), "
                  "hex(wwdemo_cext.crc32(b'123456789')), "
                  "wwdemo_cext.length('qemu'))\n")
        p = h.podman("run", "--rm", "--network", "none", "--arch", "arm64",
                     "--label", "wheelwright.testenv=" +
                     st.engines[0].testenv, "-v", dl + ":/dl:ro",
                     st.images["cp311-aarch64"], "python3", "-c", script,
                     check_rc=False)
        h.check(p.returncode == 0 and
                p.stdout.split() == ["aarch64", "0xcbf43926", "4"],
                "the extension runs inside an arm64 container",
                p.stdout + p.stderr)
        h.check(not st.containers(), "no build container is left",
                st.containers())
        st.ok = True
    finally:
        st.close()


if __name__ == "__main__":
    sys.exit(h.main(body))
