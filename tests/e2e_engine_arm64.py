"""e2e_engine_arm64.py: builder/engine.c running aarch64 containers under
QEMU user emulation (binfmt_misc) on the same podman engine.

Makes (or reuses) the arm64 builder image (about 3-4 minutes the first
time, cached afterwards), checks the engine reports its architecture, and
builds the wwfix-extlib fixture sdist into a linux_aarch64 wheel whose
extension is AArch64 code that installs and runs in an arm64 container.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from engine_e2e import (SRC, TMP, build_image, build_wheel,  # noqa: E402
                        check, check_extlib_wheel, main, make_sdist)

PLATFORM = "linux/arm64"


def body(eng):
    image = build_image("arm64")
    p = subprocess.run([os.path.join(SRC, "docker", "binfmt.sh"), "arm64",
                        "--check"], stderr=subprocess.PIPE, text=True)
    check(p.returncode == 0, "the qemu-aarch64 binfmt handler is registered",
          p.stderr)
    img, _ = eng.tool("image", image)
    check(img["arch"] == "arm64", "image inspect reports arm64", img)

    work = tempfile.mkdtemp(prefix="e2e_engine_arm64.", dir=TMP)
    os.chmod(work, 0o755)
    try:
        log = os.path.join(work, "uname.log")
        res = eng.run(image, ["uname", "-m"], "--platform", PLATFORM,
                      "--log", log)
        check(res["state"]["exit_code"] == 0 and
              open(log).read() == "aarch64\n",
              "an arm64 container runs aarch64 code", open(log).read())

        sd = os.path.join(work, "sdists")
        sdist = make_sdist("wwfix-extlib", sd)
        wdir = os.path.join(work, "extlib")
        os.makedirs(wdir)
        res, out, log = build_wheel(eng, image, sd, os.path.basename(sdist),
                                    wdir, platform=PLATFORM)
        check(res["state"]["exit_code"] == 0 and "Successfully built" in log,
              "pip wheel builds wwfix-extlib under QEMU in %.1f s" %
              (res["wall_us"] / 1e6), log[-800:])
        text = check_extlib_wheel(eng, image, out, "linux_aarch64", 183,
                                  platform=PLATFORM)
        check("machine aarch64" in text, "the import ran on aarch64", text)
        lst, _ = eng.tool("list", "wheelwright.testenv=" + eng.testenv)
        check(lst == [], "no container left behind", lst)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(body))
