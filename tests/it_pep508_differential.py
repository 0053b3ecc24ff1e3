#!/usr/bin/python3
"""it_pep508_differential.py: differential test of our PEP 508 requirement
and marker parser, and our requirements-file reader, against the references
pip itself uses: Python's packaging 23.0 (Debian python3-packaging) and
pip 23.0.1's own requirements-file parser (Debian python3-pip).

Inputs:
  - every Requires-Dist line of every METADATA under
    /usr/lib/python3/dist-packages/*.dist-info and inside the wheels in
    /usr/share/python-wheels (read straight from the zip);
  - every line of config/requirements.txt;
  - handcrafted tricky lines (below);
  - a seeded random generator of requirement lines built from the grammar's
    pieces, plus random one-character mutations of them (mostly invalid).

For each line: validity must agree; for valid lines the name, normalized
name, extras (normalized, as requirement.h promises), specifier text, URL
and marker text must agree, and the marker is evaluated under CPython
3.8/3.11/3.12 x x86_64/aarch64, without an extra and with each extra the
line mentions (and a variant of it), and compared with
packaging.markers.Marker.evaluate. Our canonical text must parse, in
packaging, to the same requirement, and in ours to the same canonical text.

Deliberate differences (requirement.h lists them) are checked, not skipped:
  - where packaging 23.0 raises during evaluation (InvalidVersion,
    UndefinedComparison, KeyError) or compares a literal with a variable's
    *name* (two variables / two literals), the expected value comes from
    ref_eval(), a reference of PEP 508's rules that is itself checked
    against packaging wherever packaging gives an answer;
  - packaging 23.0 normalizes only the first "extra" comparison's value in
    str(), and in doing so turns a variable compared with "extra" into a
    literal of its name; the expected text is built from packaging's raw
    parse tree with every extra value normalized (what packaging >= 24
    does);
  - where packaging's marker text does not re-parse to the same marker
    (dropped parentheses, quotes inside values), ours must instead re-parse
    in packaging to exactly the original marker tree.
Generated inputs avoid NUL, lone surrogates and \\N{...} escapes, which we
refuse on purpose.

Requirements files: seeded random files with comments, blank lines,
continuations, -r/-c includes in subdirectories and --hash options are read
by pip's parse_requirements and by ours; entries (text, file, line,
constraint flag, hashes) must match.
"""
import email.parser
import glob
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

from packaging.markers import Marker, _format_marker
from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, Specifier
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from packaging._parser import Value, Variable, parse_requirement

SRC = os.environ.get("WW_SOURCE_DIR",
                     os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("WW_BUILD_DIR", os.path.join(SRC, "build"))
TMP = os.environ.get("WW_TEST_TMP", tempfile.gettempdir())
TOOL = os.path.join(BUILD, "tests", "tool_pep508")

PYTHONS = ["3.8.18", "3.11.2", "3.12.1"]
MACHINES = ["x86_64", "aarch64"]
UNDEF = "undefined"

failures = []
stats = {}


def count(what, n=1):
    stats[what] = stats.get(what, 0) + n


def fail(msg):
    failures.append(msg)


# --------------------------------------------------------------------------
# the tool

def run_tool(args, items):
    data = "".join(json.dumps(x) + "\n" for x in items).encode()
    p = subprocess.run([TOOL] + args, input=data, capture_output=True,
                       check=False)
    if p.returncode != 0:
        sys.exit(f"tool_pep508 {args} failed ({p.returncode}): "
                 f"{p.stderr.decode(errors='replace')}")
    out = [json.loads(line) for line in p.stdout.decode().splitlines()]
    if len(out) != len(items):
        sys.exit(f"tool_pep508 {args}: {len(out)} answers for "
                 f"{len(items)} inputs")
    return out


def env_spec(py, machine, extra):
    return f"{py}:{machine}" + ("" if extra is None else f":{extra}")


def py_env(py, machine, extra):
    return {
        "implementation_name": "cpython",
        "implementation_version": py,
        "os_name": "posix",
        "platform_machine": machine,
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": py,
        "platform_python_implementation": "CPython",
        "python_version": ".".join(py.split(".")[:2]),
        "sys_platform": "linux",
        "extra": "" if extra is None else extra,
    }


# --------------------------------------------------------------------------
# marker trees: packaging's _markers, normalized and compared structurally

def norm_extras(m):
    """PEP 685 normalization of every extra comparison (packaging >= 24)."""
    if isinstance(m, list):
        return [norm_extras(x) for x in m]
    if isinstance(m, tuple):
        lhs, op, rhs = m
        if isinstance(lhs, Variable) and lhs.value == "extra" and \
                isinstance(rhs, Value):
            rhs = Value(canonicalize_name(rhs.value))
        elif isinstance(rhs, Variable) and rhs.value == "extra" and \
                isinstance(lhs, Value):
            lhs = Value(canonicalize_name(lhs.value))
        return (lhs, op, rhs)
    return m


def tree(m):
    """Hashable structure with single-element groups unwrapped."""
    if isinstance(m, list):
        while isinstance(m, list) and len(m) == 1:
            m = m[0]
        if isinstance(m, list):
            return ("L",) + tuple(tree(x) for x in m)
        return tree(m)
    if isinstance(m, tuple):
        return tuple((type(x).__name__, x.value) for x in m)
    return m


def raw_marker(line):
    """packaging's parse tree of a valid requirement's marker, before
    Requirement() mangles its first item."""
    return parse_requirement(line).marker


def marker_tree_of(text):
    """tree() of packaging's parse of a requirement's marker text."""
    try:
        Requirement("x; " + text)
    except Exception:
        return None
    return tree(norm_extras(raw_marker("x; " + text)))


def has_odd_items(m):
    """Items comparing two variables or two literals."""
    if isinstance(m, list):
        return any(has_odd_items(x) for x in m)
    if isinstance(m, tuple):
        return isinstance(m[0], Variable) == isinstance(m[2], Variable)
    return False


_ops = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
    ">=": lambda a, b: a >= b, ">": lambda a, b: a > b,
    "in": lambda a, b: a in b, "not in": lambda a, b: a not in b,
}


def ref_item(item, env):
    """PEP 508's rules, as requirement.h documents them."""
    lhs, op, rhs = item
    lv = env[lhs.value] if isinstance(lhs, Variable) else lhs.value
    rv = env[rhs.value] if isinstance(rhs, Variable) else rhs.value
    if "extra" in (getattr(lhs, "value", None) if isinstance(lhs, Variable)
                   else None, getattr(rhs, "value", None)
                   if isinstance(rhs, Variable) else None):
        lv, rv = canonicalize_name(lv), canonicalize_name(rv)
    o = op.value
    if o in ("in", "not in"):
        return _ops[o](lv, rv)
    if o == "===":
        try:
            Specifier("===" + rv)
        except InvalidSpecifier:
            return UNDEF
        try:
            lv = str(Version(lv))
        except InvalidVersion:
            pass
        return lv.lower() == rv.strip().lower()
    try:
        spec = Specifier(o + rv)
    except InvalidSpecifier:
        spec = None
    if spec is not None:
        try:
            return spec.contains(Version(lv), prereleases=True)
        except InvalidVersion:
            pass
    if o not in _ops:
        return UNDEF
    return _ops[o](lv, rv)


def ref_eval(m, env):
    groups = [[]]
    undef = False
    for x in m:
        if isinstance(x, list):
            v = ref_eval(x, env)
        elif isinstance(x, tuple):
            v = ref_item(x, env)
        else:
            if x == "or":
                groups.append([])
            continue
        if v == UNDEF:
            undef = True
        else:
            groups[-1].append(v)
    if undef:
        return UNDEF
    return any(all(g) for g in groups)


def expected_eval(marker, raw, env):
    """packaging's answer, or the reference where packaging has none."""
    try:
        got = marker.evaluate(env)
    except Exception:
        count("eval: packaging raised, reference used")
        return ref_eval(raw, env)
    ref = ref_eval(raw, env)
    if has_odd_items(raw):
        count("eval: variable-vs-variable or literal-vs-literal")
        return ref
    if ref != got:
        fail(f"reference evaluator disagrees with packaging on "
             f"{str(marker)!r} in {env}: packaging {got}, ref {ref}")
    return got


def extras_in(m, acc):
    if isinstance(m, list):
        for x in m:
            extras_in(x, acc)
    elif isinstance(m, tuple):
        for a, b in ((m[0], m[2]), (m[2], m[0])):
            if isinstance(a, Variable) and a.value == "extra" and \
                    isinstance(b, Value):
                acc.add(b.value)
    return acc


def envs_for(line, req):
    extras = [None, "nonexistent"]
    if req is not None and req.marker is not None:
        for e in sorted(extras_in(raw_marker(line), set())):
            extras += [e, e.upper().replace("-", "_")]
    return [(py, m, e) for e in extras for py in PYTHONS for m in MACHINES]


# --------------------------------------------------------------------------
# requirement lines

def packaging_parse(line):
    try:
        return Requirement(line)
    except Exception:
        return None


def check_requirements(label, lines):
    refs = [packaging_parse(s) for s in lines]
    envsets = [envs_for(s, r) for s, r in zip(lines, refs)]
    items = [[s, [env_spec(*e) for e in envs]]
             for s, envs in zip(lines, envsets)]
    got = run_tool(["req"], items)
    canon_lines = []
    for s, ref, envs, g in zip(lines, refs, envsets, got):
        count(f"{label}: lines")
        if (ref is None) != (not g["ok"]):
            fail(f"{label}: {s!r}: packaging "
                 f"{'invalid' if ref is None else 'valid'}, ours "
                 f"{g.get('error') or 'valid'}")
            continue
        if ref is None:
            count(f"{label}: both invalid")
            continue
        count(f"{label}: both valid")
        want = {
            "name": ref.name,
            "normalized": canonicalize_name(ref.name),
            "extras": sorted({canonicalize_name(e) for e in ref.extras}),
            "specifier": str(ref.specifier),
            "url": ref.url,
        }
        for k, v in want.items():
            if g[k] != v:
                fail(f"{label}: {s!r}: {k}: packaging {v!r}, ours {g[k]!r}")
        check_marker_text(label, s, ref, g["marker"])
        for (py, mach, extra), ours in zip(envs, g["eval"]):
            if ref.marker is None:
                want_ev = True
            else:
                want_ev = expected_eval(ref.marker, raw_marker(s),
                                        py_env(py, mach, extra))
            count(f"{label}: evaluations")
            if ours != want_ev:
                fail(f"{label}: {s!r} under {py} {mach} extra={extra!r}: "
                     f"expected {want_ev}, ours {ours}")
        check_canonical_in_packaging(label, s, ref, g)
        canon_lines.append((s, g["canonical"]))
    # our canonical text parses back to itself
    again = run_tool(["req"], [c for _, c in canon_lines])
    for (s, c), g in zip(canon_lines, again):
        if not g["ok"] or g["canonical"] != c:
            fail(f"{label}: {s!r}: canonical {c!r} re-parses to "
                 f"{g.get('canonical') or g.get('error')!r}")


def check_marker_text(label, s, ref, ours):
    if ref.marker is None:
        if ours is not None:
            fail(f"{label}: {s!r}: packaging has no marker, ours {ours!r}")
        return
    norm = norm_extras(raw_marker(s))
    pstr = _format_marker(norm)
    want_tree = tree(norm)
    if ours == pstr:
        count(f"{label}: marker text identical")
        return
    if marker_tree_of(pstr) == want_tree:
        fail(f"{label}: {s!r}: marker text: packaging {pstr!r}, "
             f"ours {ours!r}")
        return
    # packaging's own text loses meaning; ours must keep it
    count(f"{label}: marker text where packaging's loses meaning")
    if ours is None or marker_tree_of(ours) != want_tree:
        fail(f"{label}: {s!r}: our marker text {ours!r} does not re-parse "
             f"to the original marker (packaging prints {pstr!r})")


def check_canonical_in_packaging(label, s, ref, g):
    c = g["canonical"]
    r2 = packaging_parse(c)
    if r2 is None:
        fail(f"{label}: {s!r}: our canonical {c!r} is invalid for packaging")
        return
    same = (r2.name == ref.name and
            {canonicalize_name(e) for e in r2.extras} ==
            {canonicalize_name(e) for e in ref.extras} and
            str(r2.specifier) == str(ref.specifier) and r2.url == ref.url and
            (r2.marker is None) == (ref.marker is None) and
            (ref.marker is None or
             tree(norm_extras(raw_marker(c))) ==
             tree(norm_extras(raw_marker(s)))))
    if not same:
        fail(f"{label}: {s!r}: our canonical {c!r} means something else "
             f"to packaging: {r2!s}")


def check_markers(label, markers):
    """marker_parse must accept exactly what a requirement's marker is."""
    got = run_tool(["marker", "-e", "3.11.2:x86_64"], markers)
    for m, g in zip(markers, got):
        count(f"{label}: markers")
        ref = packaging_parse("x;" + m)
        if (ref is None) != (not g["ok"]):
            fail(f"{label}: marker {m!r}: packaging "
                 f"{'invalid' if ref is None else 'valid'}, ours "
                 f"{g.get('error') or 'valid'}")
        elif ref is not None:
            want = expected_eval(ref.marker, raw_marker("x;" + m),
                                 py_env("3.11.2", "x86_64", None))
            if g["eval"][0] != want:
                fail(f"{label}: marker {m!r}: expected {want}, ours "
                     f"{g['eval'][0]}")


# --------------------------------------------------------------------------
# corpora

def metadata_corpus():
    lines = []
    parser = email.parser.HeaderParser()
    paths = sorted(glob.glob("/usr/lib/python3/dist-packages/*.dist-info/"
                             "METADATA"))
    for p in paths:
        with open(p, encoding="utf-8") as f:
            msg = parser.parsestr(f.read())
        lines += msg.get_all("Requires-Dist") or []
    wheels = sorted(glob.glob("/usr/share/python-wheels/*.whl"))
    for w in wheels:
        with zipfile.ZipFile(w) as z:
            for n in z.namelist():
                if re.fullmatch(r"[^/]+\.dist-info/METADATA", n):
                    msg = parser.parsestr(z.read(n).decode("utf-8"))
                    lines += msg.get_all("Requires-Dist") or []
    if len(paths) < 5 or len(wheels) < 3:
        sys.exit(f"too few METADATA files ({len(paths)}) or wheels "
                 f"({len(wheels)}): install python3-packaging, "
                 f"python3-pip-whl etc. (.ci/install-deps)")
    return lines


def config_corpus():
    out = []
    with open(os.path.join(SRC, "config", "requirements.txt")) as f:
        for line in f:
            line = line.split(" #")[0].strip()
            if line and not line.startswith("#"):
                out.append(line)
    return out


HANDCRAFTED = [
    # names
    "A", "a1", "foo_", "foo-", "foo.", "_foo", "9x", "foo.-bar", "Foo__Bar",
    "foo bar", "  foo  ", "\tfoo", "foo\n", "foo\n\n", "", " ", "é", "fooé",
    # extras
    "foo[]", "foo[ ]", "foo[a]", "foo[a,b]", "foo[ a , b ]", "foo[a b]",
    "foo[a,]", "foo[,a]", "foo[A_B,a-b,a.b]", "foo[a", "foo [a] >=1",
    "foo[a]>=1[b]", "foo[a-]", "foo[a_]",
    # specifiers
    "foo>=1", "foo >= 1", "foo>= 1.0", "foo(>=1)", "foo (>=1, <2)",
    "foo ( >=1 , <2 )", "foo (>=1", "foo >=1)", "foo>=1,", "foo>=1,,<2",
    "foo>=1,<2,", "foo==1.*", "foo==1.0.*", "foo>=1.*", "foo~=1",
    "foo~=1.0", "foo~=1.0.*", "foo===abc", "foo===", "foo===,>=1",
    "foo===a,b", "foo=== abc", "foo!=1.0+local", "foo<1.0+local",
    "foo==v1.0", "foo==V1.0", "foo==1!2.0", "foo==1!x", "foo==1.0-1",
    "foo==1.0.post", "foo==1.0a", "foo==1.0a.", "foo==1.0RC1",
    "foo==1.0.dev", "foo==1.0-dev", "foo==1.0alp", "foo==1.0.r",
    "foo==1.0rev2", "foo>=1.0.0.", "foo >= 1.0 <2", "foo=1.0", "foo=>1",
    "foo<==1", "foo>1a", "foo<=1.0.post1.dev2", "foo==1.0+abc.5",
    "foo==1.0+", "foo==1.0+a..b", "foo>=01.02",
    # URLs
    "foo @ https://example.com/foo-1.0.tar.gz",
    "foo@https://example.com/x", "foo @ https://example.com/x ; os_name=='nt'",
    "foo @ https://example.com/x;os_name=='nt'",
    "foo @ https://example.com/x ;os_name=='nt'",
    "foo @ https://example.com/x ", "foo @ ", "foo @",
    "foo @ file:///tmp/x.whl", "foo @ file:/tmp/x.whl", "foo @ file://host/x",
    "foo @ file://", "foo @ file:", "foo @ FILE:///x", "foo @ file:///x?",
    "foo @ file:///x#", "foo @ file:///x?a#b", "foo @ file:relative",
    "foo @ ./local", "foo @ /abs/path", "foo @ C:\\path",
    "foo @ git+https://github.com/a/b.git@v1.0#egg=foo",
    "foo @ http://[::1]/x", "foo @ http://[::1]:80/x", "foo @ http://[bad/x",
    "foo @ http://bad]/x", "foo @ http://[1.2.3.4]/x", "foo @ http://[v1.x]/x",
    "foo @ http://u@[::1]/x", "foo @ http://[::1]x/x", "foo @ http:///x",
    "foo @ https://x/a;b", "foo[bar] @ https://example.com/x",
    "foo >= 1 @ https://example.com/x",
    "foo @ https://x/y.whl#sha256=0123456789abcdef",
    # markers
    "foo; python_version >= '3.8'", 'foo ; python_version>="3.8"',
    "foo;python_version>'3.8'and os_name=='posix'",
    "foo; python_version>'3.8'andos_name=='posix'",
    "foo; python_version > '3.8' or os_name == 'posix' and extra == 'x'",
    "foo; (python_version > '3.8' or os_name == 'posix') and extra == 'x'",
    "foo; ((python_version > '3.8'))", "foo; ( python_version > '3.8' )",
    "foo; os_name == 'posix' and ((python_version > '3' or os_name == 'x'))",
    "foo; (os_name == 'posix' and (python_version > '3' or os_name == 'x'))",
    "foo; python_version > '3.8' garbage", "foo; python_version",
    "foo; python_version >", "foo; > '3'", "foo; 'a' 'b'", "foo;",
    "foo; ", "foo; (python_version > '3'", "foo; python_version > '3')",
    "foo; os.name == 'posix'", "foo; sys.platform == 'linux'",
    "foo; platform.machine == 'x86_64'", "foo; platform.version == ''",
    "foo; platform.python_implementation == 'CPython'",
    "foo; python_implementation == 'CPython'",
    "foo; platform.release == ''", "foo; Python_Version > '3'",
    "foo; python_versions > '3'", "foo; python_version_x > '3'",
    "foo; python_full_version >= '3.11.1'",
    "foo; python_full_version < '3.12.0rc1'",
    "foo; implementation_version >= '3.10'", "foo; implementation_name == 'cpython'",
    "foo; platform_system != 'Windows'", "foo; sys_platform == 'win32'",
    "foo; platform_machine in 'x86_64 aarch64'",
    "foo; platform_machine not in 'x86_64 aarch64'",
    "foo; platform_machine not  in 'arm64'", "foo; platform_machine notin 'x'",
    "foo; platform_machine not 'x'", "foo; 'x86' in platform_machine",
    "foo; platform_machine in'x86_64'", "foo; python_version in '3.8 3.9'",
    "foo; python_version ~= '3.8'", "foo; python_version ~= '3'",
    "foo; platform_machine ~= 'x86'", "foo; python_version === '3.11'",
    "foo; python_version === '3.11.0'", "foo; os_name === 'posix'",
    "foo; os_name === 'POSIX'", "foo; os_name === 'a;b'",
    "foo; python_version == '3.*'", "foo; python_version != '3.1*'",
    "foo; python_version == ' 3.11 '", "foo; python_version == '3.11,3.12'",
    "foo; python_full_version == '3.11.*'", "foo; platform_release >= '5'",
    "foo; platform_release == ''", "foo; os_name < 'q'", "foo; os_name >= '1.0'",
    "foo; python_version < platform_release", "foo; 'a' == 'a'",
    "foo; python_version == python_version", "foo; extra == extra",
    "foo; extra == 'Test_Extra'", "foo; 'Test.Extra' == extra",
    "foo; extra != 'test'", "foo; extra in 'test docs'",
    "foo; extra == '1.0'", "foo; extra >= '1.0'",
    "foo; os_name == 'posix' and extra == 'A_B'",
    "foo; extra == 'a' or extra == 'B_b'",
    "foo; os_name == \"a'b\"", "foo; os_name == 'a\"b'",
    "foo; os_name == 'a\\tb'", "foo; os_name == 'a\\\\b'",
    "foo; os_name == 'a\\'b'", "foo; os_name == 'a\\x41b'",
    "foo; os_name == 'a\\u00e9b'", "foo; os_name == 'a\\U0001F600b'",
    "foo; os_name == 'a\\101b'", "foo; os_name == 'a\\qb'",
    "foo; os_name == 'a\\x4'", "foo; os_name == 'abc\\'",
    "foo; os_name == 'a\\nb'", "foo; os_name == 'é'",
    "foo; os_name == 'posix\"",
    "foo; os_name == posix", "foo; os_name = 'posix'", "foo; os_name == 'posix'and",
    "foo; os_name == 'posix' and", "foo; os_name == 'posix' or or",
    "foo; and os_name == 'posix'", "foo; os_name=='posix'or(os_name=='nt')",
    "foo ; extra == 'a' ; extra == 'b'",
    "foo>=1; python_version < '3.10'", "foo (>=1) ; python_version < '3.10'",
    "foo[bar]>=1,<2; python_version<'3.10' and platform_machine=='aarch64'",
    "foo>=1;python_version<'3.10'", "foo>=1 ;python_version<'3.10'",
    "foo >=1; python_version<'3.10' ", "foo; python_version<'3.10'\n",
    "foo>=1 python_version<'3.10'", "foo;\tpython_version\t<\t'3.10'",
]


def gen_lines(rng, n):
    names = ["foo", "Foo.Bar", "a", "x_y-z", "zope.interface", "foo_", "9x",
             "requests", "A1b2"]
    exnames = ["a", "B_c", "d.e", "test", "Docs", "x-"]
    ops = ["==", "!=", "<=", ">=", "<", ">", "~=", "===", "=", "=>", "<>"]
    versions = ["1", "1.0", "1.0.0", "1.*", "1.0.*", "v2", "1!2.0", "1.0a1",
                "1.0b", "1.0rc1.dev2", "1.0.post1", "1.0-1", "1.0+loc.1",
                "2.0.dev", "abc", "1.0.", "01.0", "1.0RC2", " 1.0"]
    urls = ["https://example.com/a.whl", "file:///tmp/a.tar.gz", "file:/x",
            "git+https://h/r.git@v1", "http://[::1]/x", "./rel",
            "https://h/x;y", "https://h/x#frag", "ftp://h/x"]
    mvars = ["python_version", "python_full_version", "os_name", "os.name",
             "sys_platform", "sys.platform", "platform_release",
             "platform_system", "platform_version", "platform.version",
             "platform_machine", "platform.machine",
             "platform_python_implementation", "python_implementation",
             "implementation_name", "implementation_version", "extra"]
    mops = ["==", "!=", "<", "<=", ">", ">=", "~=", "===", "in", "not in"]
    mvals = ["3", "3.8", "3.11", "3.12", "3.11.2", "3.12.0rc1", "3.*",
             "3.1*", "2.7", "x86_64", "aarch64", "x86", "linux", "posix",
             "Linux", "CPython", "cpython", "", "win32", "Test_Extra",
             "a.b", "docs", "1.0", "3.8 3.9", "x86_64 aarch64", "a'b",
             'a"b', "a\\tb", "a\\\\b"]

    def ws():
        return rng.choice(["", "", " ", "  ", "\t"])

    def q(v):
        c = '"' if "'" in v else "'" if '"' in v else rng.choice("'\"")
        return c + v + c

    def item():
        var = rng.choice(mvars)
        val = q(rng.choice(mvals))
        if rng.random() < 0.5:
            a, b = var, val
        else:
            a, b = val, var
        if rng.random() < 0.03:
            b = rng.choice(mvars)
        return ws() + a + ws() + " " * (rng.random() < 0.7) + \
            rng.choice(mops) + " " * (rng.random() < 0.7) + ws() + b + ws()

    def marker(depth):
        parts = []
        for i in range(rng.randint(1, 3)):
            if i:
                parts.append(rng.choice([" and ", " or ", "and ", " or"]))
            if depth < 3 and rng.random() < 0.3:
                parts.append(ws() + "(" + ws() + marker(depth + 1) + ws() +
                             ")" + ws())
            else:
                parts.append(item())
        return "".join(parts)

    out = []
    for _ in range(n):
        s = ws() + rng.choice(names) + ws()
        if rng.random() < 0.3:
            ex = [rng.choice(exnames) for _ in range(rng.randint(0, 3))]
            s += "[" + ws() + ("," + ws()).join(ex) + ws() + "]" + ws()
        if rng.random() < 0.15:
            s += "@" + ws() + rng.choice(urls)
            if rng.random() < 0.5:
                s += rng.choice([" ", "", "  "]) + ";" + marker(0)
        else:
            if rng.random() < 0.6:
                specs = [rng.choice(ops) + ws() + rng.choice(versions)
                         for _ in range(rng.randint(1, 3))]
                body = ws() + ("," + ws()).join(specs) + ws()
                if rng.random() < 0.3:
                    body = "(" + body + ")"
                s += body
            if rng.random() < 0.5:
                s += ws() + ";" + marker(0)
        out.append(s)
    return out


def mutate(rng, lines, n):
    alphabet = " \t;,()[]@'\"=<>!~.*-_+#\\/:abcxyz0129"
    out = []
    for _ in range(n):
        s = rng.choice(lines)
        if not s:
            continue
        i = rng.randrange(len(s))
        k = rng.random()
        if k < 0.33:
            s = s[:i] + s[i + 1:]
        elif k < 0.66:
            s = s[:i] + rng.choice(alphabet) + s[i:]
        else:
            s = s[:i] + rng.choice(alphabet) + s[i + 1:]
        out.append(s)
    return out


# --------------------------------------------------------------------------
# requirements files against pip's parser

def pip_parse(path):
    from pip._internal.network.session import PipSession
    from pip._internal.req.req_file import parse_requirements
    out = []
    for pr in parse_requirements(path, session=PipSession()):
        m = re.fullmatch(r"-[rc] (.*) \(line (\d+)\)", pr.comes_from)
        hashes = sorted(f"{alg}:{d}" for alg, ds in
                        ((pr.options or {}).get("hashes") or {}).items()
                        for d in ds)
        out.append({"text": pr.requirement.strip(), "file": m.group(1),
                    "line": int(m.group(2)), "constraint": pr.constraint,
                    "hashes": hashes})
    return out


def gen_reqfile_tree(rng, root, idx):
    """A top file plus includes with the line-level features pip has."""
    d = os.path.join(root, f"case{idx}")
    os.makedirs(d, exist_ok=True)
    reqs = ["foo==1.0", "Bar[x]>=2", "baz ; python_version < '3.10'",
            "qux (>=1,<2)", "zap @ https://example.com/zap-1.0.tar.gz",
            "a-b.c_d~=1.4", "pkg==2.0 ; os_name == 'posix' # trailing"]
    cons = ["foo<2", "Bar==2.1", "qux!=1.5 ; python_version >= '3'"]
    h = "sha256:" + "%064x" % rng.getrandbits(256)
    serial = [0]

    def body(kind, depth, here):
        lines = []
        for _ in range(rng.randint(3, 10)):
            k = rng.random()
            pool = reqs if kind == "r" else cons
            if k < 0.1:
                lines.append(rng.choice(["", "   ", "\t"]))
            elif k < 0.2:
                lines.append(rng.choice(["# comment", "  # indented",
                                         "#", "# ends with \\"]))
            elif k < 0.3:
                r = rng.choice(pool)
                cut = rng.randrange(1, len(r))
                lines.append(r[:cut] + "\\")
                lines.append(r[cut:])
            elif k < 0.38:
                r = rng.choice(pool).split(" #")[0]
                lines.append(r + " \\")
                lines.append("    --hash=" + h + " \\")
                lines.append("    --hash " + h.replace("0", "1"))
            elif k < 0.45 and depth < 3:
                serial[0] += 1
                sub = f"sub{serial[0]}/{kind}{depth}.txt"
                inc = rng.choice(["r", "c"])
                lng = "requirement" if inc == "r" else "constraint"
                lines.append(rng.choice([f"-{inc} {sub}", f"-{inc}{sub}",
                                         f"--{lng}={sub}", f"--{lng} {sub}"]))
                path = os.path.join(here, sub)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", newline="") as f:
                    f.write(body(inc, depth + 1, os.path.dirname(path)))
            else:
                lines.append(rng.choice(pool) +
                             rng.choice(["", " ", "  # c", "\t# c"]))
        sep = rng.choice(["\n", "\r\n"])
        return sep.join(lines) + rng.choice(["", sep])

    top = os.path.join(d, "requirements.txt")
    text = body("r", 0, d)
    with open(top, "w", newline="") as f:
        f.write(text)
    return top


def check_reqfiles(rng, n):
    os.makedirs(TMP, exist_ok=True)
    root = tempfile.mkdtemp(prefix="pep508-reqfiles-", dir=TMP)
    before = len(failures)
    for i in range(n):
        top = gen_reqfile_tree(rng, root, i)
        p = subprocess.run([TOOL, "reqfile", top], capture_output=True,
                           check=False)
        if p.returncode != 0:
            sys.exit(f"tool_pep508 reqfile {top} failed: {p.stderr!r}")
        ours = json.loads(p.stdout)
        try:
            want = pip_parse(top)
        except Exception as e:
            want = None
            why = e
        count("reqfiles")
        if want is None or not ours["ok"]:
            if (want is None) != (not ours["ok"]):
                fail(f"reqfile {top}: pip "
                     f"{'fails: ' + str(why) if want is None else 'reads it'}"
                     f", ours {ours.get('error') or 'reads it'}")
            continue
        got = [{"text": e["text"], "file": e["file"], "line": e["line"],
                "constraint": e["constraint"], "hashes": sorted(e["hashes"])}
               for e in ours["entries"]]
        count("reqfile entries", len(want))
        count("reqfile entries: constraints",
              sum(e["constraint"] for e in want))
        count("reqfile entries: with hashes", sum(bool(e["hashes"])
                                                  for e in want))
        count("reqfile entries: from included files",
              sum(e["file"] != top for e in want))
        if got != want:
            fail(f"reqfile {top}: pip {want}\nours {got}")
    if len(failures) == before:
        shutil.rmtree(root)
    else:
        print(f"reqfile cases kept in {root}")


# --------------------------------------------------------------------------

def main():
    if not os.access(TOOL, os.X_OK):
        sys.exit(f"{TOOL} missing: build the project first")
    t0 = time.time()
    rng = random.Random(508)
    meta = metadata_corpus()
    check_requirements("metadata", meta)
    check_requirements("config", config_corpus())
    check_requirements("handcrafted", HANDCRAFTED)
    gen = gen_lines(rng, 6000)
    check_requirements("generated", gen)
    check_requirements("mutated", mutate(rng, gen + HANDCRAFTED + meta, 6000))
    markers = [s.split(";", 1)[1] for s in gen + HANDCRAFTED + meta
               if ";" in s and "@" not in s]
    check_markers("markers", markers + mutate(rng, markers, 2000))
    check_reqfiles(rng, 60)
    for k in sorted(stats):
        print(f"{k}: {stats[k]}")
    print(f"{time.time() - t0:.1f}s")
    if failures:
        for f in failures[:60]:
            print("FAIL", f)
        print(f"{len(failures)} disagreements")
        sys.exit(1)
    print("all agree")


if __name__ == "__main__":
    main()
