"""it_indexd_pip.py: real pip against indexd on 127.0.0.1.

- Debian's pip 23.0.1 (/usr/bin/python3 -m venv) and, if present, pyenv's
  pip 23.2.1 install from indexd with --index-url, with --extra-index-url
  (two indexd instances) and with --require-hashes; the packages import.
- pip resolves from PEP 658 .metadata and never downloads a wheel it then
  rejects (checked in indexd's access log); requires-python filtering.
- `pip download --platform musllinux_1_2_aarch64 --only-binary=:all:
  --python-version 3.11` picks the right wheel among many platforms.
- Yanked files: skipped unless pinned with ==.
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from indexd_harness import (DEBIAN_PYTHON, check, environment, log,  # noqa
                            make_venv, make_wheel, pip, pip_version,
                            pyenv_python, run_tests, sha256_file)

PLATFORMS = ["manylinux_2_17_x86_64", "manylinux_2_17_aarch64",
             "musllinux_1_1_aarch64", "musllinux_1_2_aarch64",
             "musllinux_1_2_x86_64", "win_amd64", "macosx_11_0_arm64"]


def corpus(env):
    d = os.path.join(env.root, "dist")
    files = [
        make_wheel(d, "alpha", "1.0"),
        make_wheel(d, "alpha", "2.0"),
        make_wheel(d, "beta", "1.0", requires_dist=["alpha>=1.0"]),
        # gamma 2.0 cannot be satisfied: pip must back off to 1.0 after
        # reading 2.0's metadata, without downloading the 2.0 wheel
        make_wheel(d, "gamma", "1.0", requires_dist=["alpha"]),
        make_wheel(d, "gamma", "2.0",
                   requires_dist=["no-such-dependency>=1"]),
        make_wheel(d, "delta", "1.0"),
        make_wheel(d, "delta", "2.0"),
        make_wheel(d, "epsilon", "1.0"),
        make_wheel(d, "epsilon", "2.0", requires_python="<3"),
        make_wheel(d, "native", "1.0"),
    ]
    for plat in PLATFORMS:
        files.append(make_wheel(d, "native", "1.0",
                                tag="cp311-cp311-" + plat))
    env.import_files(*files)
    env.indexctl("yank", "delta==2.0", "--reason", "bad build")
    return {os.path.basename(f): f for f in files}


def imported(py, module):
    p = subprocess.run([py, "-c", "import %s, sys; "
                        "sys.stdout.write(%s.__version__)" % (module, module)],
                       capture_output=True, text=True)
    check(p.returncode == 0, "import %s failed: %s" % (module, p.stderr))
    return p.stdout


def gets(logtext):
    return re.findall(r'"GET (\S+) HTTP/1\.1" (\d+)', logtext)


def scenario_install(env, srv, python, label):
    index = srv.url + "/simple/"
    py = make_venv(env.root, python, "venv-" + label)
    log("%s: pip %s" % (label, pip_version(py)))
    pip(py, "install", "--index-url", index, "beta", "gamma", "epsilon")
    check(imported(py, "beta") == "1.0", "beta")
    check(imported(py, "alpha") == "2.0", "alpha not the newest")
    check(imported(py, "gamma") == "1.0", "gamma did not back off")
    check(imported(py, "epsilon") == "1.0", "requires-python ignored")

    log_ = srv.access_log()
    got = gets(log_)
    paths = [p for p, _ in got]
    ver = tuple(int(x) for x in pip_version(py).split(".")[:2])
    if ver >= (23, 2):
        # metadata came from .metadata files during resolution
        check("/files/gamma-2.0-py3-none-any.whl.metadata" in paths,
              "%s: pip did not fetch gamma 2.0's .metadata:\n%s" %
              (label, log_))
        check("/files/beta-1.0-py3-none-any.whl.metadata" in paths, log_)
        # rejected candidates were never downloaded
        check("/files/gamma-2.0-py3-none-any.whl" not in paths,
              "%s: pip downloaded a wheel it rejected:\n%s" % (label, log_))
    else:
        # pip 22.3-23.1 read PEP 658 metadata from JSON only under the
        # pre-PEP 714 key, on which they crash (pip#12042); like PyPI,
        # indexd does not send it, so these pips fall back to wheels
        check(not any(p.endswith(".metadata") for p in paths), log_)
        check("/files/gamma-2.0-py3-none-any.whl" in paths, log_)
    check(not any(p.startswith("/files/epsilon-2.0") for p in paths),
          "%s: requires-python did not filter epsilon 2.0" % label)
    check("/files/alpha-1.0-py3-none-any.whl" not in paths, log_)
    for want in ("alpha-2.0", "beta-1.0", "gamma-1.0", "epsilon-1.0"):
        check("/files/%s-py3-none-any.whl" % want in paths,
              "%s: %s not downloaded" % (label, want))
    # pip asked for JSON
    check(all(st == "200" for p, st in got if p.startswith("/files/")), got)
    return py


def scenario_yanked(env, srv, python, label):
    index = srv.url + "/simple/"
    py = make_venv(env.root, python, "venv-yank-" + label)
    pip(py, "install", "--index-url", index, "delta")
    check(imported(py, "delta") == "1.0", "pip took the yanked delta 2.0")
    p = pip(py, "install", "--index-url", index, "delta==2.0")
    check(imported(py, "delta") == "2.0", "pinned yanked version refused")
    check("yanked" in (p.stdout + p.stderr).lower(),
          "no yank warning: %s %s" % (p.stdout, p.stderr))


def scenario_hashes(env, srv, files, python, label):
    index = srv.url + "/simple/"
    py = make_venv(env.root, python, "venv-hash-" + label)
    req = os.path.join(env.root, "req-%s.txt" % label)
    with open(req, "w") as f:
        f.write("beta==1.0 --hash=sha256:%s\n" %
                sha256_file(files["beta-1.0-py3-none-any.whl"]))
        f.write("alpha==2.0 --hash=sha256:%s\n" %
                sha256_file(files["alpha-2.0-py3-none-any.whl"]))
    pip(py, "install", "--require-hashes", "--index-url", index, "-r", req)
    check(imported(py, "beta") == "1.0" and imported(py, "alpha") == "2.0",
          "hash-pinned install")
    bad = os.path.join(env.root, "bad-%s.txt" % label)
    with open(bad, "w") as f:
        f.write("delta==1.0 --hash=sha256:%s\n" % ("0" * 64))
    p = pip(py, "install", "--require-hashes", "--index-url", index, "-r",
            bad, check_rc=False)
    check(p.returncode != 0 and "DO NOT MATCH THE HASHES" in p.stderr,
          "wrong hash accepted: %s" % p.stderr)


def test_debian_pip():
    with environment("it_indexd_pip_debian") as env:
        files = corpus(env)
        srv = env.start()
        scenario_install(env, srv, DEBIAN_PYTHON, "debian")
        scenario_yanked(env, srv, DEBIAN_PYTHON, "debian")
        scenario_hashes(env, srv, files, DEBIAN_PYTHON, "debian")
        srv.stop()


def test_pyenv_pip():
    python = pyenv_python()
    if python is None:
        log("no pyenv python3 on this machine: skipping pip 23.2.1")
        return
    with environment("it_indexd_pip_pyenv") as env:
        files = corpus(env)
        srv = env.start()
        scenario_install(env, srv, python, "pyenv")
        scenario_yanked(env, srv, python, "pyenv")
        scenario_hashes(env, srv, files, python, "pyenv")
        srv.stop()


def test_extra_index_url():
    with environment("it_indexd_pip_extra_a") as env_a, \
            environment("it_indexd_pip_extra_b") as env_b:
        corpus(env_a)
        # the primary index only has an old alpha
        env_b.import_files(make_wheel(os.path.join(env_b.root, "dist"),
                                      "alpha", "1.0"))
        a = env_a.start()
        b = env_b.start()
        for python, label in ((DEBIAN_PYTHON, "debian"),
                              (pyenv_python(), "pyenv")):
            if python is None:
                continue
            py = make_venv(env_a.root, python, "venv-extra-" + label)
            pip(py, "install", "--index-url", b.url + "/simple/",
                "--extra-index-url", a.url + "/simple/", "beta")
            check(imported(py, "beta") == "1.0", "beta from the extra index")
            check(imported(py, "alpha") == "2.0",
                  "pip did not take the newest alpha across both indexes")
        log_b = b.access_log()
        check("GET /simple/beta/" in log_b and "GET /simple/alpha/" in log_b,
              "primary index not consulted:\n" + log_b)
        a.stop()
        b.stop()


def test_platform_download():
    with environment("it_indexd_pip_platform") as env:
        corpus(env)
        srv = env.start()
        py = make_venv(env.root, DEBIAN_PYTHON, "venv-dl")
        for plat in ("musllinux_1_2_aarch64", "manylinux_2_17_aarch64",
                     "musllinux_1_2_x86_64", "win_amd64"):
            out = os.path.join(env.root, "dl-" + plat)
            pip(py, "download", "--index-url", srv.url + "/simple/",
                "--platform", plat, "--only-binary=:all:",
                "--python-version", "3.11", "--no-deps", "-d", out, "native")
            got = os.listdir(out)
            check(got == ["native-1.0-cp311-cp311-%s.whl" % plat],
                  "%s: pip picked %s" % (plat, got))
        # no wheel for this platform: pip takes the pure one
        out = os.path.join(env.root, "dl-ppc")
        pip(py, "download", "--index-url", srv.url + "/simple/",
            "--platform", "musllinux_1_2_ppc64le", "--only-binary=:all:",
            "--python-version", "3.11", "--no-deps", "-d", out, "native")
        check(os.listdir(out) == ["native-1.0-py3-none-any.whl"],
              os.listdir(out))
        srv.stop()


if __name__ == "__main__":
    run_tests([
        ("debian_pip", test_debian_pip),
        ("pyenv_pip", test_pyenv_pip),
        ("extra_index_url", test_extra_index_url),
        ("platform_download", test_platform_download),
    ])
