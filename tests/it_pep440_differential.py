#!/usr/bin/python3
"""it_pep440_differential.py: differential test of our PEP 503 names, PEP 440
versions and specifier sets against Python's packaging (Debian
python3-packaging), the reference pip resolves with.

Over every line of tests/data/pypi-names-versions-sample.tsv (real PyPI
names and versions, some invalid) it compares name validity, normalization
and escaping; version validity, normalized/public/base/local forms and
flags; the sort order of all valid versions (both sorts stable, so ties
must come out equal too) and a sample of pairwise comparisons. Then the
same on generated edge-case versions, and specifier sets (validity, str,
pre-release defaults, contains() with prereleases None/True/False, and
filter()) on a generated cross product of specifiers and versions.

Known, deliberate difference: packaging's version regex runs with
re.IGNORECASE on str, so U+0130, U+0131, U+017F and U+212A match [a-z];
we accept ASCII letters only. The generators do not produce those.
"""
import os
import random
import re
import subprocess
import sys
import time

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

SRC = os.environ.get("WW_SOURCE_DIR",
                     os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("WW_BUILD_DIR", os.path.join(SRC, "build"))
TOOL = os.path.join(BUILD, "tests", "tool_pep440")
DATA = os.path.join(SRC, "tests", "data", "pypi-names-versions-sample.tsv")
NAME_RE = re.compile(r"([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])", re.I | re.A)
NAME_MAX_LEN = 200
VERSION_MAX_LEN = 256

failures = []
checked = {}


def tool(cmd, lines):
    data = "".join(line + "\n" for line in lines).encode("utf-8",
                                                        "surrogateescape")
    p = subprocess.run([TOOL, cmd], input=data, capture_output=True,
                       check=False)
    if p.returncode != 0:
        sys.exit(f"tool_pep440 {cmd} failed ({p.returncode}): "
                 f"{p.stderr.decode(errors='replace')}")
    return p.stdout.decode("utf-8", "surrogateescape").split("\n")[:-1]


def disagree(what, inp, want, got):
    failures.append(f"{what}: input {inp!r}: packaging {want!r}, ours {got!r}")


def count(what, n):
    checked[what] = checked.get(what, 0) + n


def py_version(s):
    if len(s.encode("utf-8", "surrogateescape")) > VERSION_MAX_LEN:
        return None             # our documented bound
    try:
        v = Version(s)
    except InvalidVersion:
        return None
    return v if len(str(v)) <= VERSION_MAX_LEN else None


def version_line(v):
    if v is None:
        return "invalid"
    return "ok\t%s\t%s\t%s\t%s\t%d %d %d" % (
        v, v.public, v.base_version, v.local or "", v.is_prerelease,
        v.is_postrelease, v.is_devrelease)


def check_names(names):
    got = tool("names", names)
    for name, g in zip(names, got):
        if NAME_RE.fullmatch(name) and len(name) <= NAME_MAX_LEN:
            want = "ok\t%s\t%s" % (canonicalize_name(name),
                                   re.sub(r"[-_.]+", "_", name).lower())
        else:
            want = "invalid"
        if want != g:
            disagree("name", name, want, g)
    count("names", len(names))


def check_versions(vers, what):
    got = tool("versions", vers)
    if len(got) != len(vers):
        sys.exit(f"tool_pep440 versions: {len(got)} lines for {len(vers)}")
    valid = []
    for s, g in zip(vers, got):
        v = py_version(s)
        if version_line(v) != g:
            disagree(what, s, version_line(v), g)
        if v is not None:
            valid.append((s, v))
    count(what, len(vers))
    return valid


def check_sort(valid, what):
    strs = [s for s, _ in valid]
    order = sorted(range(len(valid)), key=lambda i: valid[i][1])
    got = [int(x) for x in tool("sort", strs)]
    if got != order:
        for pos, (a, b) in enumerate(zip(order, got)):
            if a != b:
                disagree(what + " sort", f"position {pos}", strs[a], strs[b])
                break
        else:
            disagree(what + " sort", "length", len(order), len(got))
    count(what + " sorted", len(valid))


def check_pairs(valid, rng, what):
    pairs = []
    for _ in range(20000):
        pairs.append((rng.choice(valid), rng.choice(valid)))
    # Equal keys with different spellings (1.0 vs 1.0.0, locals...).
    bykey = {}
    for s, v in valid:
        bykey.setdefault(v, []).append(s)
    for v, ss in bykey.items():
        if len(set(ss)) > 1:
            pairs.append(((ss[0], v), (ss[-1], v)))
    # Neighbours in sorted order are the closest calls.
    srt = sorted(valid, key=lambda x: x[1])
    pairs += list(zip(srt, srt[1:]))
    got = tool("cmp", [x for a, b in pairs for x in (a[0], b[0])])
    for (a, b), g in zip(pairs, got):
        want = (a[1] > b[1]) - (a[1] < b[1])
        if str(want) != g:
            disagree(what + " cmp", (a[0], b[0]), want, g)
    count(what + " pairs", len(pairs))


def gen_versions(rng, n):
    """Structured edge cases plus random junk from the same atoms."""
    nums = ["0", "1", "00", "2", "010", "20", "7", "12345678901234567890123"]
    seps = ["", "-", "_", "."]
    out = []
    for i in range(n):
        if i % 3 == 2:
            atoms = ["v", "V", "1", "0", "01", "!", ".", "-", "_", "+", "a",
                     "B", "alpha", "c", "rc", "pre", "preview", "post", "r",
                     "rev", "dev", "abc", " ", "\t", "\u00a0", "\u3000",
                     "\x1c", "*", "x", "99999999999999999999"]
            out.append("".join(rng.choice(atoms)
                               for _ in range(rng.randint(1, 9))))
            continue
        s = rng.choice(["", "", "v", "V", " ", "\u2003"])
        if rng.random() < .25:
            s += rng.choice(["0", "1", "01", "99999999999999999999999"]) + "!"
        s += ".".join(rng.choice(nums) for _ in range(rng.randint(1, 5)))
        if rng.random() < .5:
            s += rng.choice(seps) + rng.choice(
                ["a", "b", "c", "rc", "alpha", "beta", "pre", "preview",
                 "A", "Rc", "PREVIEW"]) + rng.choice(seps) + \
                rng.choice(["", "0", "1", "007", "99999999999999999999"])
        if rng.random() < .5:
            if rng.random() < .3:
                s += "-" + rng.choice(["0", "1", "05"])
            else:
                s += rng.choice(seps) + rng.choice(
                    ["post", "rev", "r", "Post", "R"]) + rng.choice(seps) + \
                    rng.choice(["", "0", "1", "007"])
        if rng.random() < .5:
            s += rng.choice(seps) + rng.choice(["dev", "Dev"]) + \
                rng.choice(seps) + rng.choice(["", "0", "1", "007"])
        if rng.random() < .4:
            s += "+" + rng.choice(["-", "_", "."]).join(
                rng.choice(["abc", "1", "01", "0", "Ubuntu", "z9", "9z",
                            "000", "12345678901234567890123"])
                for _ in range(rng.randint(1, 4)))
        s += rng.choice(["", "", "", " ", "\t", "\u3000", "\x0b"])
        out.append(s)
    return out


# Specifier generation: real-looking patterns around a pool of versions.
SPEC_BASES = ["1.0", "1.0.0", "1.0.1", "1.1", "2", "2.0", "0.9", "1.0a1",
              "1.0b2", "1.0rc1", "1.0.post1", "1.0.dev0", "1.0a1.dev1",
              "1.0.post1.dev2", "1!1.0", "1!2.0", "1.0+local.1", "1.4.5",
              "2.0.0rc1", "3.7", "3.10", "0", "0.0", "1.0.c1", "1.0.pre1",
              "1.0-1", "V1.0", "1.0.A1", "1.0c1", "01.0", "1.0.0.0",
              "1.0.DEV1", "1.0.POST1", "1.0.r1", "2.0.0.post0",
              "18446744073709551616.0"]
WILDCARDS = ["1", "1.0", "1.0.0", "2", "0", "1!1", "1!1.0", "3.10", "1.1",
             "V1", "01.00"]


def gen_specs(rng):
    singles = []
    for op in ["==", "!=", "<", "<=", ">", ">=", "~=", "==="]:
        for b in SPEC_BASES:
            singles.append(op + b)
    for w in WILDCARDS:
        singles += ["==%s.*" % w, "!=%s.*" % w]
    singles += ["===foobar", "===1.0+Local.1", "===1.0.0", "===", "~=1.0.0",
                "~=1.0.c1.post1", "~=2.0.0rc1", "~=1!1.0.0", ">=1.0, <2.0"]
    sets = list(singles)
    for _ in range(300):
        k = rng.randint(2, 3)
        parts = [rng.choice(singles) for _ in range(k)]
        sep = rng.choice([",", ", ", " , ", ",,"])
        s = sep.join(parts)
        if rng.random() < .3:
            s = " " + s.replace("=", "= ", 1) + " "
        sets.append(s)
    sets += ["", " ", ",", "  ,  "]
    invalid = ["~=1", "~=1.0+local", "<1.0+local", ">=1.0.*", "==1.0a1.*",
               "=1.0", "1.0", "==", ">=", "~= 1.0.*", "=== a b", "==1.0 .*",
               ">=1.0 2", "==1.0.*.*", "~=1.*", "<=1.0x", "> =1.0",
               "<==1.0", "!==1.0", "===a;b", "===a)", "==1.0+", ">=1.0,<",
               "==v", "===a\u00a0b", "== 1.0-", "==1.0.post1.*", "~=1.0.*",
               "==1.0+abc.*", ">>1.0", "==1.0,,foo", "!=1.0.dev1.*"]
    return sets, invalid


def spec_versions(rng, valid_data):
    vs = set()
    for b in SPEC_BASES + WILDCARDS:
        v = Version(b)
        base = v.base_version
        for suffix in ["", "+local", "+1", ".post1", "a1", "rc1", ".dev0",
                       "a1.dev1", ".post1.dev1", ".post1+x", ".0", ".0.1",
                       ".1", "b2.post3"]:
            vs.add(base + suffix)
        vs.add(str(v))
        rel = list(v.release) + [0]
        rel[-2] += 1
        vs.add(".".join(map(str, rel)))
    for s, _ in rng.sample(valid_data, 60):
        vs.add(s.strip())
    vs.update(["0", "0.0.1", "1!0", "2!1.0", "1.0rc1+abc", "3.10.0",
               "3.9.18", "1.0.0a1", "18446744073709551617.0", "1.0.c1"])
    return sorted(vs)


def py_specs_line(s):
    try:
        ss = SpecifierSet(s)
    except InvalidSpecifier:
        return "invalid", None
    try:
        mentions = "1" if ss.prereleases else "0"
    except InvalidVersion:      # packaging raises for ===non-version
        mentions = "?"
    return "ok\t%s\t%d\t%s" % (ss, len(ss), mentions), ss


def check_specs(rng, valid_data):
    sets, invalid = gen_specs(rng)
    got = tool("specs", sets + invalid)
    good = []
    for s, g in zip(sets + invalid, got):
        want, ss = py_specs_line(s)
        if g.startswith("invalid\t"):
            if want != "invalid":
                disagree("specifier", s, want, g)
            elif "invalid specifier" not in g:
                disagree("specifier message", s, "names the specifier", g)
            continue
        if want.endswith("?"):
            want = want[:-1] + g[-1:]       # no answer from packaging
        if want != g:
            disagree("specifier", s, want, g)
        if ss is not None:
            good.append((s, ss))
    count("specifier sets parsed", len(sets) + len(invalid))

    versions = spec_versions(rng, valid_data)
    pv = [Version(v) for v in versions]
    lines = [str(len(good))] + [s for s, _ in good] + versions
    got = tool("contains", lines)
    if len(got) != len(versions):
        sys.exit(f"tool_pep440 contains: {len(got)} lines for {len(versions)}")
    n = 0
    for v, vo, g in zip(versions, pv, got):
        for i, (s, ss) in enumerate(good):
            want = ""
            for pre in (None, True, False):
                try:
                    want += "1" if ss.contains(vo, prereleases=pre) else "0"
                except InvalidVersion:
                    want += g[3 * i + len(want)]   # packaging raised
            if want != g[3 * i:3 * i + 3]:
                disagree("contains (pre None/True/False)", (s, v), want,
                         g[3 * i:3 * i + 3])
            n += 3
    count("specifier containment checks", n)

    lines, wants = [], []
    for _ in range(300):
        s, ss = rng.choice(good)
        vs = rng.sample(versions, rng.randint(0, 12))
        if rng.random() < .3:
            vs = [v for v in vs if not Version(v).is_prerelease] or vs
            if rng.random() < .5:
                vs = [v for v in vs if Version(v).is_prerelease]
        if rng.random() < .2:
            s, ss = rng.choice(["", " "]), SpecifierSet("")
        for pre, word in ((None, "d"), (True, "a"), (False, "n")):
            try:
                kept = set(map(str, ss.filter(vs, prereleases=pre)))
            except InvalidVersion:
                continue
            want = " ".join(str(i) for i, v in enumerate(vs) if v in kept)
            lines.append("%s\t%s\t%s" % (s, word, " ".join(vs)))
            wants.append(((s, word, vs), want))
    got = tool("filter", lines)
    for (inp, want), g in zip(wants, got):
        if want != g.strip():
            disagree("filter", inp, want, g.strip())
    count("filter checks", len(wants))


def main():
    t0 = time.monotonic()
    if not os.access(TOOL, os.X_OK):
        sys.exit(f"missing {TOOL}: build the project first")
    rows = []
    with open(DATA, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            name, _, ver = line.partition("\t")
            rows.append((name, ver))
    rng = random.Random(440)

    check_names([n for n, _ in rows])
    valid = check_versions([v for _, v in rows], "versions (data)")
    check_sort(valid, "versions (data)")
    check_pairs(valid, rng, "versions (data)")

    gen = gen_versions(rng, 12000)
    gvalid = check_versions(gen, "versions (generated)")
    check_sort(gvalid, "versions (generated)")
    check_pairs(gvalid, rng, "versions (generated)")

    check_specs(rng, valid)

    print("data lines checked: %d (%d valid versions)" % (len(rows),
                                                          len(valid)))
    for what, n in checked.items():
        print("  %-40s %d" % (what, n))
    print("time: %.1f s" % (time.monotonic() - t0))
    if failures:
        print("%d disagreements with packaging; first ones:" % len(failures))
        for f in failures[:30]:
            print("  " + f)
        return 1
    print("all agree with packaging")
    return 0


if __name__ == "__main__":
    sys.exit(main())
