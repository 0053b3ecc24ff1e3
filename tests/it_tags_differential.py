#!/usr/bin/python3
"""it_tags_differential.py: compares our tags and filename parsing with
Python's packaging (Debian python3-packaging 23.0) through tests/tool_tags.

1. tags_supported() for CPython 3.8-3.13 x six arches x glibc 2.17/2.28/2.36
   and musl 1.1/1.2, against packaging.tags.cpython_tags + compatible_tags
   over the platform list packaging._manylinux / _musllinux produce on such
   a machine (their glibc/musl probes and 32-bit ELF checks faked, the rest
   of their code run as is). Also against this machine's real sys_tags().
2. tags_rank() against "lowest index of any of parse_tag(...)".
3. Wheel and sdist filenames against packaging.utils.parse_wheel_filename /
   parse_sdist_filename over real filenames (Debian's wheels, the seed
   corpus), names generated from 55k real PyPI names and versions, and
   adversarial mutations. Where we differ from packaging on purpose (see
   ALLOWED below), the difference must be one of those reasons.
"""
import os
import random
import re
import subprocess
import sys

from packaging import _manylinux, _musllinux, tags
from packaging.tags import parse_tag
from packaging.utils import (InvalidSdistFilename, InvalidWheelFilename,
                             canonicalize_name, parse_sdist_filename,
                             parse_wheel_filename)
from packaging.version import InvalidVersion, Version

SRC = os.environ.get("WW_SOURCE_DIR",
                     os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("WW_BUILD_DIR", os.path.join(SRC, "build"))
TOOL = os.path.join(BUILD, "tests", "tool_tags")

failures = []


def fail(msg):
    failures.append(msg)
    if len(failures) <= 40:
        print("FAIL:", msg)


def run_tool(args, lines=None):
    data = None
    if lines is not None:
        data = b"".join(l.encode("utf-8", "surrogateescape") + b"\n"
                        for l in lines)
    p = subprocess.run([TOOL] + args, input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, check=False)
    if p.returncode != 0:
        raise SystemExit(f"tool_tags {args} exited {p.returncode}: "
                         f"{p.stderr.decode(errors='replace')}")
    out = p.stdout.decode("utf-8", "surrogateescape").split("\n")
    assert out[-1] == ""
    out = out[:-1]
    if lines is not None and len(out) != len(lines):
        raise SystemExit(f"tool_tags {args}: {len(out)} lines for "
                         f"{len(lines)} inputs")
    return out


# ---------------------------------------------------------------- tags

def packaging_platforms(libc, lv, arch):
    """The platforms packaging's _linux_platforms() yields on a machine with
    this libc and arch, without the final linux_<arch>."""
    glibc = tuple(lv) if libc == "glibc" else (-1, -1)
    musl = _musllinux._MuslVersion(*lv) if libc == "musl" else None
    saved = (_manylinux._get_glibc_version, _manylinux._is_linux_armhf,
             _manylinux._is_linux_i686, _musllinux._get_musl_version)
    try:
        _manylinux._get_glibc_version = lambda: glibc
        # A 32-bit interpreter of that arch passes these ELF checks.
        _manylinux._is_linux_armhf = lambda exe: True
        _manylinux._is_linux_i686 = lambda exe: True
        _musllinux._get_musl_version = lambda exe: musl
        linux = "linux_" + arch
        return (list(_manylinux.platform_tags(linux, arch)) +
                list(_musllinux.platform_tags(arch)))
    finally:
        (_manylinux._get_glibc_version, _manylinux._is_linux_armhf,
         _manylinux._is_linux_i686, _musllinux._get_musl_version) = saved


def packaging_supported(minor, libc, lv, arch):
    plats = packaging_platforms(libc, lv, arch)
    # An empty list would make packaging fall back to this host's own.
    assert plats, (minor, libc, lv, arch)
    out = list(tags.cpython_tags((3, minor), platforms=plats))
    out += list(tags.compatible_tags((3, minor), interpreter=f"cp3{minor}",
                                     platforms=plats))
    return [str(t) for t in out]


ENVS = []
for minor in range(8, 14):
    for arch in ("x86_64", "aarch64", "i686", "armv7l", "ppc64le", "s390x"):
        for lv in ((2, 17), (2, 28), (2, 36)):
            ENVS.append((minor, "glibc", lv, arch))
        for lv in ((1, 1), (1, 2)):
            ENVS.append((minor, "musl", lv, arch))


def tool_env(minor, libc, lv, arch):
    return [f"3.{minor}", libc, f"{lv[0]}.{lv[1]}", arch]


def check_supported():
    n = 0
    for env in ENVS:
        want = packaging_supported(*env)
        got = run_tool(["supported"] + tool_env(*env))
        if got != want:
            i = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b),
                     min(len(got), len(want)))
            fail(f"supported {env}: {len(got)} tags vs packaging's "
                 f"{len(want)}; first difference at {i}: "
                 f"{got[i] if i < len(got) else None} vs "
                 f"{want[i] if i < len(want) else None}")
        n += len(want)
    print(f"supported: {len(ENVS)} targets, {n} tags compared")


def check_real_sys_tags():
    """This machine: Debian 12 CPython on glibc, against the real thing."""
    import platform
    if platform.system() != "Linux" or tags.interpreter_name() != "cp":
        return
    glibc = _manylinux._get_glibc_version()
    if glibc < (2, 0):
        return
    arch = platform.machine()
    want = [str(t) for t in tags.sys_tags()
            if not t.platform.startswith("linux_")]
    got = run_tool(["supported", f"{sys.version_info[0]}.{sys.version_info[1]}",
                    "glibc", f"{glibc[0]}.{glibc[1]}", arch])
    if got != want:
        fail(f"this machine's sys_tags() ({len(want)}) differ from "
             f"tags_supported ({len(got)})")
    print(f"sys_tags: {len(want)} tags of this machine compared")


def wheel_tag_samples(rng):
    """Compressed tag triples a wheel could carry, good and bad."""
    pys = ["py3", "py2.py3", "py2", "py38", "py311", "py3.py39", "cp38",
           "cp311", "cp312", "cp313", "cp37", "cp32", "cp27", "pp39", "py30",
           "cp311.cp312"]
    abis = ["none", "abi3", "cp38", "cp311", "cp312", "cp313", "cp37m",
            "cp313t", "cp311d", "pypy39_pp73", "abi3.none"]
    plats = ["any", "linux_x86_64", "linux_aarch64"]
    for arch in ("x86_64", "aarch64", "i686", "armv7l", "ppc64le", "s390x",
                 "riscv64"):
        for y in (5, 12, 16, 17, 18, 24, 28, 31, 36, 37):
            plats.append(f"manylinux_2_{y}_{arch}")
        for y in (0, 1, 2, 3):
            plats.append(f"musllinux_1_{y}_{arch}")
        plats += [f"manylinux1_{arch}", f"manylinux2010_{arch}",
                  f"manylinux2014_{arch}", f"manylinux_2_17_{arch}."
                  f"manylinux2014_{arch}"]
    plats += ["macosx_11_0_arm64", "win_amd64", "any.linux_x86_64",
              "MANYLINUX_2_17_X86_64"]
    out = set()
    for py in pys:
        for abi in abis:
            for plat in plats:
                if rng.random() < 0.12:
                    out.add(f"{py}-{abi}-{plat}")
    out.update(["py3-none-any", "py2.py3-none-any", "cp38-abi3-any",
                "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"])
    return sorted(out)


def check_rank(rng):
    samples = wheel_tag_samples(rng)
    n = 0
    for env in ENVS[::5]:
        sup = packaging_supported(*env)
        index = {}
        for i, t in enumerate(sup):
            index.setdefault(t, i)
        got = run_tool(["rank"] + tool_env(*env), samples)
        for s, line in zip(samples, got):
            ranks = [index[str(t)] for t in parse_tag(s) if str(t) in index]
            want = min(ranks) if ranks else -1
            a, b = line.split("\t")
            if int(a) != want or int(b) != want:
                fail(f"rank {env} {s}: {a}/{b}, packaging {want}")
            n += 1
    print(f"rank: {n} (target, tag set) pairs compared")


# ---------------------------------------------------------------- filenames

# PEP 508 names (what name_valid accepts) and our per-part grammar.
NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.I)
TAGPART_RE = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")
BUILD_RE = re.compile(r"^[0-9][A-Za-z0-9._]*$")
BYTES_RE = re.compile(r"^[A-Za-z0-9._!+-]*$")
WHEEL_TAGS = re.compile(r"^([^-]*)-([^-]*)-([^-]*)$")


def legacy_version(v):
    """pip reads '_' in a wheel version as '-'."""
    try:
        return str(Version(v.replace("_", "-")))
    except InvalidVersion:
        return None


def strict_version(v):
    """packaging's Version, minus what a filename cannot hold."""
    if not v or not BYTES_RE.match(v):
        return None
    try:
        return str(Version(v))
    except InvalidVersion:
        return None


def wheel_reasons(fn):
    """Why we may refuse a filename packaging accepts (our stricter
    grammar), or accept one packaging refuses (pip's leniency)."""
    reasons = set()
    if len(fn.encode("utf-8", "surrogateescape")) > 255:
        reasons.add("length")
    if not BYTES_RE.match(fn):
        reasons.add("bytes")
    stem = fn[:-4] if fn.endswith(".whl") else fn
    parts = stem.split("-")
    if len(parts) in (5, 6):
        if not NAME_RE.match(parts[0]) or len(parts[0]) > 200:
            reasons.add("name")
        if "__" in parts[0]:
            reasons.add("double-underscore")
        if strict_version(parts[1]) is None and legacy_version(parts[1]):
            reasons.add("legacy-version")
        if len(parts) == 6 and not BUILD_RE.match(parts[2]):
            reasons.add("build")
        if len(parts) == 6 and len(parts[2]) > 63:
            reasons.add("length")
        if len(parts) == 6 and BUILD_RE.match(parts[2]) and \
                int(re.match(r"\d+", parts[2]).group(0)) >= 2 ** 64:
            reasons.add("build-number")
        for p in parts[-3:]:
            if not TAGPART_RE.match(p):
                reasons.add("tag")
        if len(parts[-3]) > 63 or len(parts[-2]) > 63 or len(parts[-1]) > 127:
            reasons.add("length")
        if len(parts[-3].split(".")) * len(parts[-2].split(".")) * \
                len(parts[-1].split(".")) > 4096:
            reasons.add("tagset-size")
    return reasons


def packaging_wheel(fn):
    try:
        name, ver, build, tagset = parse_wheel_filename(fn)
    except (InvalidWheelFilename, InvalidVersion, ValueError):
        return None
    return (name, str(ver), build, sorted(str(t) for t in tagset))


def check_wheels(names):
    got = run_tool(["wheel"], names)
    stats = {"both-ok": 0, "both-err": 0, "allowed": 0, "ours-ok": 0}
    why = {}
    for fn, line in zip(names, got):
        f = line.split("\t")
        stats["ours-ok"] += f[0] == "ok"
        want = packaging_wheel(fn)
        reasons = wheel_reasons(fn)
        if f[0] == "ok":
            (norm, ver, hasbuild, bnum, btag, tagstr, canon, iscanon,
             distinfo) = f[1:]
            if want is None:
                # We accept what packaging refuses only where pip does.
                if reasons & {"double-underscore", "legacy-version"}:
                    stats["allowed"] += 1
                    for r in reasons:
                        why[r] = why.get(r, 0) + 1
                else:
                    fail(f"wheel {fn!r}: we accept, packaging refuses")
                continue
            wname, wver, wbuild, wtags = want
            if norm != wname or ver != wver or tagstr.split(",") != wtags:
                fail(f"wheel {fn!r}: ours {norm} {ver} {tagstr}, packaging "
                     f"{wname} {wver} {','.join(wtags)}")
            if hasbuild == "1":
                m = re.match(r"(\d+)(.*)", btag)
                if wbuild != (int(m.group(1)), m.group(2)) or \
                        int(bnum) != wbuild[0]:
                    fail(f"wheel {fn!r}: build {bnum}/{btag} vs {wbuild}")
            elif wbuild != ():
                fail(f"wheel {fn!r}: no build tag, packaging {wbuild}")
            # The canonical form reparses to the same thing in packaging.
            if canon != "-":
                again = packaging_wheel(canon)
                if again is None or again[:2] != want[:2] or \
                        again[3] != want[3]:
                    fail(f"wheel {fn!r}: canonical {canon!r} reparses as "
                         f"{again}")
                if (canon == fn) != (iscanon == "1"):
                    fail(f"wheel {fn!r}: is_canonical {iscanon} but "
                         f"canonical form {canon!r}")
            parts = fn[:-4].split("-")
            if distinfo != f"{parts[0]}-{parts[1]}.dist-info":
                fail(f"wheel {fn!r}: dist-info {distinfo!r}")
            stats["both-ok"] += 1
        else:
            if want is None:
                stats["both-err"] += 1
            elif reasons - {"double-underscore", "legacy-version"}:
                stats["allowed"] += 1
                for r in reasons:
                    why[r] = why.get(r, 0) + 1
            else:
                fail(f"wheel {fn!r}: we refuse ({f[2]}), packaging accepts "
                     f"{want}")
    print(f"wheel filenames: {len(names)} compared: {stats}; allowed "
          f"differences by reason: {why}")
    return stats


def sdist_expected(fn):
    """Our documented rule, with packaging's Version as the judge: the
    rightmost '-' whose remainder is a version; refused if the name before
    it is not a valid project name (or bytes/length are off)."""
    if not BYTES_RE.match(fn) or len(fn) > 255:
        return None
    for suf in (".tar.gz", ".zip"):
        if fn.endswith(suf):
            stem = fn[:-len(suf)]
            break
    else:
        return None
    idx = [i for i, c in enumerate(stem) if c == "-"]
    for i in reversed(idx):
        v = strict_version(stem[i + 1:])
        if v is None:
            continue
        name = stem[:i]
        if not NAME_RE.match(name) or len(name) > 200:
            return None
        return (canonicalize_name(name), v)
    return None


def check_sdists(names):
    got = run_tool(["sdist"], names)
    stats = {"both-ok": 0, "both-err": 0, "allowed": 0}
    for fn, line in zip(names, got):
        f = line.split("\t")
        ours = (f[1], f[2]) if f[0] == "ok" else None
        if ours != sdist_expected(fn):
            fail(f"sdist {fn!r}: ours {ours}, rule says "
                 f"{sdist_expected(fn)}")
            continue
        try:
            n, v = parse_sdist_filename(fn)
            want = (n, str(v))
        except (InvalidSdistFilename, InvalidVersion, ValueError):
            want = None
        if ours == want:
            stats["both-ok" if ours else "both-err"] += 1
            continue
        # Differences must come from the name check or the earlier split.
        if ours is None and want is not None:
            stem = fn.rsplit("-", 1)[0]
            if NAME_RE.match(stem) and BYTES_RE.match(fn) and len(fn) <= 255:
                fail(f"sdist {fn!r}: we refuse, packaging accepts {want}")
                continue
        elif ours is not None and want is not None:
            fail(f"sdist {fn!r}: ours {ours}, packaging {want}")
            continue
        stats["allowed"] += 1
        if ours is not None and f[4] != "-":
            try:
                n2, v2 = parse_sdist_filename(f[4])
            except Exception:  # noqa: BLE001 - reported below
                n2 = v2 = None
            if (n2, str(v2)) != ours:
                fail(f"sdist {fn!r}: canonical {f[4]!r} reparses as "
                     f"{n2} {v2}")
    print(f"sdist filenames: {len(names)} compared: {stats}")


def load_names():
    """Real (name, version) pairs: the PyPI sample copied into tests/data."""
    path = os.path.join(SRC, "tests", "data", "pypi-names-versions-sample.tsv")
    pairs = []
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 2:
                pairs.append((cols[0], cols[1]))
    return pairs


def escape(name):
    return re.sub(r"[-_.]+", "_", name).lower()


def real_wheel_names():
    out = []
    d = "/usr/share/python-wheels"
    if os.path.isdir(d):
        out += [f for f in os.listdir(d) if f.endswith(".whl")]
    corpus = os.path.join(SRC, "tests", "corpus", "wheelname")
    for f in sorted(os.listdir(corpus)):
        with open(os.path.join(corpus, f), "rb") as fh:
            s = fh.read().decode("utf-8", "surrogateescape")
        if "\n" not in s and "\r" not in s:
            out.append(s)
    return out


def mutate(rng, s):
    alphabet = "-_.!+abcXYZ019 /\\\x00\x7f\u00e9"
    s = list(s)
    for _ in range(rng.randint(1, 3)):
        op = rng.random()
        pos = rng.randint(0, len(s))
        if op < 0.4 and s:
            del s[min(pos, len(s) - 1)]
        elif op < 0.8:
            s.insert(pos, rng.choice(alphabet))
        elif s:
            s[min(pos, len(s) - 1)] = rng.choice(alphabet)
    return "".join(s)


ADVERSARIAL = [
    "", ".whl", "-.whl", "----.whl", "-----.whl", "a-1-py3-none-any.whl",
    "a-1-1-py3-none-any.whl", "a-1-x-py3-none-any.whl",
    "a-1--py3-none-any.whl", "a-1-py3-none-.whl", "a-1-py3..py2-none-any.whl",
    "a-1-.py3-none-any.whl", "a_-1-py3-none-any.whl", "_a-1-py3-none-any.whl",
    "a__b-1-py3-none-any.whl", "a..b-1-py3-none-any.whl",
    "A.B-1.0_1-py3-none-any.whl", "a-1.0_rc1-py3-none-any.whl",
    "a-1.0_post_1-py3-none-any.whl", "a-v1.0-py3-none-any.whl",
    "a-1.0+local_x-py3-none-any.whl", "a-1!0-py3-none-any.whl",
    "a-1.0-99999999999999999999999-py3-none-any.whl",
    "a-1.0-18446744073709551615x-py3-none-any.whl",
    "a-1.0-0-py3-none-any.whl", "a-1.0-py3-none-any.WHL",
    "a-1.0-py3-none-any.whl.whl", "a-1.0-py3-none-any.tar.gz",
    "a-1.0-py3-none-any+x.whl", "a-1.0-py3-none-manylinux_2_17_x86_64.whl",
    "../a-1.0-py3-none-any.whl", "a/b-1.0-py3-none-any.whl",
    "a-1.0-py3-none-any\x00.whl", "\u00e4-1.0-py3-none-any.whl",
    "a-1.0-py3-n\u00f6ne-any.whl", "a-1.0 -py3-none-any.whl",
    "a" * 200 + "-1-py3-none-any.whl", "a" * 201 + "-1-py3-none-any.whl",
    "a-" + "1." * 120 + "1-py3-none-any.whl",
    "a-1-" + ".".join(["py3"] * 16) + "-" + ".".join(["none"] * 13) +
    "-" + ".".join(["any"] * 32) + ".whl",
]

SDIST_ADVERSARIAL = [
    "", ".tar.gz", "-.tar.gz", "a-.tar.gz", "-1.tar.gz", "a-1.tar.gz",
    "a-1.zip", "a-1.tar.bz2", "a-1.tgz", "a-b-1.0.tar.gz", "a-1.0-b.tar.gz",
    "a-1.0-beta.tar.gz", "a-1.0-1.tar.gz", "a-1.0-x.tar.gz", "a_-1.0.tar.gz",
    "a 1-1.0.tar.gz", "a/1-1.0.tar.gz", "../a-1.0.tar.gz", "a-v1.0.tar.gz",
    "A.B_c-1.0RC1.tar.gz", "a-1.0-dev.tar.gz", "a-1!2.0+x.y.zip",
    "\u00e4-1.0.tar.gz", "a-1.0 .tar.gz", "a-1.0.tar.gz.tar.gz",
]


def main():
    if not os.access(TOOL, os.X_OK):
        raise SystemExit(f"{TOOL} not built")
    rng = random.Random(20240611)
    check_supported()
    check_real_sys_tags()
    check_rank(rng)

    real = real_wheel_names()
    stats = check_wheels(real)
    if stats["ours-ok"] != len(real):
        fail("a real wheel filename was refused")

    pairs = load_names()
    gen = []
    tagsets = ["py3-none-any", "py2.py3-none-any",
               "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
               "cp38-abi3-musllinux_1_1_aarch64"]
    for i, (name, ver) in enumerate(pairs):
        t = tagsets[i % len(tagsets)]
        gen.append(f"{name}-{ver}-{t}.whl")
        gen.append(f"{escape(name)}-{ver}-{t}.whl")
        if i % 7 == 0:
            gen.append(f"{escape(name)}-{ver}-{i % 1000}b{i % 3}-{t}.whl")
        if i % 11 == 0:
            gen.append(f"{escape(name)}-{ver.replace('-', '_')}-{t}.whl")
    mut = [mutate(rng, rng.choice(real + gen[:2000]))
           for _ in range(30000)]
    check_wheels(gen)
    check_wheels(ADVERSARIAL + mut)

    sd = []
    for name, ver in pairs:
        sd.append(f"{name}-{ver}.tar.gz")
    sd += [f"{escape(n)}-{v}.zip" for n, v in pairs[::13]]
    sd += [mutate(rng, rng.choice(sd)) for _ in range(20000)]
    check_sdists(SDIST_ADVERSARIAL + sd)

    if failures:
        print(f"{len(failures)} differences")
        return 1
    print("all agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
