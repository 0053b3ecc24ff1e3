#!/bin/bash
# it_indexctl.sh: indexctl import / verify / token / yank against a real
# data directory. Imports Debian's real pip/setuptools/wheel wheels plus
# wheels and sdists generated here (valid and malformed), checks the
# summary and each rejection reason, round-trips `verify`, then corrupts,
# deletes and adds store files and checks that verify notices each.
set -euo pipefail

: "${WW_BUILD_DIR:?}" "${WW_SOURCE_DIR:?}"
TMPBASE=${WW_TEST_TMP:-/tmp}
mkdir -p "$TMPBASE"
T=$(mktemp -d "$TMPBASE/it_indexctl.XXXXXX")
trap 'rm -rf "$T"' EXIT
CTL="$WW_BUILD_DIR/indexctl/indexctl"
D="$T/data"
PY=/usr/bin/python3
WHEELS=/usr/share/python-wheels

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# run CMD...: sets $out (stdout), $errout (stderr), $rc.
run() {
	set +e
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	out=$(cat "$T/out")
	errout=$(cat "$T/err")
}
expect_rc() {	# expect_rc WANT what
	[ "$rc" -eq "$1" ] || fail "$2: exit $rc, want $1
stdout: $out
stderr: $errout"
}
contains() {	# contains HAYSTACK NEEDLE what
	case "$1" in *"$2"*) ;; *) fail "$3: \"$2\" not in output:
$1" ;; esac
}
sql() { sqlite3 -readonly "$D/catalog.sqlite" "$1"; }

ls "$WHEELS"/*.whl >/dev/null 2>&1 || fail "no wheels in $WHEELS (python3-pip-whl)"
NREAL=$(ls "$WHEELS"/*.whl | wc -l)

# --- fixtures -------------------------------------------------------------
mkdir -p "$T/in/real" "$T/in/gen/sub" "$T/in/bad" "$T/conflict" "$T/linux"
cp "$WHEELS"/*.whl "$T/in/real/"
$PY - "$T" <<'EOF'
import base64, hashlib, io, os, sys, tarfile, zipfile
T = sys.argv[1]

def rec(data):
    d = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + d.decode()

def wheel(path, name, version, tag="py3-none-any", extra=None, tamper=None,
          comment=""):
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name.lower()}/__init__.py": f"# {name} {comment}\n".encode(),
        f"{dist}/METADATA": (f"Metadata-Version: 2.1\nName: {name}\n"
                             f"Version: {version}\n"
                             "Requires-Python: >=3.7\n\n").encode(),
        f"{dist}/WHEEL": ("Wheel-Version: 1.0\nGenerator: it_indexctl\n"
                          "Root-Is-Purelib: " +
                          ("true" if tag.endswith("any") else "false") +
                          "\n" + "".join(f"Tag: {t}\n" for t in
                          expand(tag))).encode(),
    }
    if extra:
        files.update(extra)
    lines = [f"{p},{rec(b)},{len(b)}" for p, b in files.items()]
    if tamper == "record-hash":
        files[f"{name.lower()}/__init__.py"] += b"# tampered\n"
    lines.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = ("\n".join(lines) + "\n").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for p, b in files.items():
            z.writestr(p, b)

def expand(tag):
    py, abi, plat = tag.split("-")
    return [f"{a}-{b}-{c}" for a in py.split(".") for b in abi.split(".")
            for c in plat.split(".")]

def sdist(path, name, version):
    base = f"{name}-{version}"
    pkg = (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
           "Requires-Python: >=3.8\n").encode()
    members = {f"{base}/PKG-INFO": pkg,
               f"{base}/setup.py": b"from setuptools import setup\nsetup()\n",
               f"{base}/{name.lower()}/__init__.py": b""}
    with tarfile.open(path, "w:gz") as t:
        for p, b in members.items():
            ti = tarfile.TarInfo(p)
            ti.size = len(b)
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(b))

g = f"{T}/in/gen"
wheel(f"{g}/demo_pkg-1.0-py3-none-any.whl", "demo_pkg", "1.0")
wheel(f"{g}/sub/demo_pkg-1.1-py3-none-any.whl", "demo_pkg", "1.1")
wheel(f"{g}/sub/demo_pkg-1.1-py2.py3-none-any.whl", "demo_pkg", "1.1",
      tag="py2.py3-none-any")
sdist(f"{g}/demo_pkg-1.1.tar.gz", "demo_pkg", "1.1")
# Ignored inside directories: not a distribution name, hidden.
open(f"{g}/README.txt", "w").write("not a distribution\n")
os.makedirs(f"{g}/.git", exist_ok=True)
wheel(f"{g}/.git/hidden_pkg-1.0-py3-none-any.whl", "hidden_pkg", "1.0")

b = f"{T}/in/bad"
open(f"{b}/notzip-1.0-py3-none-any.whl", "wb").write(b"this is not a zip\n" * 10)
wheel(f"{b}/tampered-1.0-py3-none-any.whl", "tampered", "1.0",
      tamper="record-hash")
wheel(f"{b}/escape-1.0-py3-none-any.whl", "escape", "1.0",
      extra={"../evil.py": b"print('x')\n"})
real = sorted(p for p in os.listdir("/usr/share/python-wheels")
              if p.startswith("wheel-"))[0]
data = open(f"/usr/share/python-wheels/{real}", "rb").read()
name = real.replace("wheel-", "truncated-", 1)
open(f"{b}/{name}", "wb").write(data[: len(data) // 2])

# A different file under an already imported name: must be refused.
wheel(f"{T}/conflict/demo_pkg-1.0-py3-none-any.whl", "demo_pkg", "1.0",
      comment="different bytes")
# Plain linux_x86_64: an index must not serve it unless allowed.
wheel(f"{T}/linux/native_pkg-1.0-cp311-cp311-linux_x86_64.whl",
      "native_pkg", "1.0", tag="cp311-cp311-linux_x86_64")
EOF
# Two C extensions built here, for inspect: one within the manylinux
# policy, one linking a library no policy allows (libsqlite3).
ARCH=$(uname -m)
mkdir -p "$T/ext"
cat >"$T/ext/ok.c" <<'EOF'
#include <stdio.h>
#include <string.h>
int ok_fmt(char *out, size_t n, const char *s) { return snprintf(out, n, "%s", s); }
void ok_copy(char *d, const char *s, size_t n) { memcpy(d, s, n); }
EOF
cat >"$T/ext/bad.c" <<'EOF'
#include <sqlite3.h>
const char *bad_version(void) { return sqlite3_libversion(); }
EOF
gcc -shared -fPIC -O2 -o "$T/ext/ok.so" "$T/ext/ok.c"
gcc -shared -fPIC -O2 -o "$T/ext/bad.so" "$T/ext/bad.c" -lsqlite3
$PY - "$T" "$ARCH" <<'EOF'
import base64, hashlib, sys, zipfile
T, arch = sys.argv[1], sys.argv[2]
def rec(b):
    return "sha256=" + base64.urlsafe_b64encode(
        hashlib.sha256(b).digest()).rstrip(b"=").decode()
for mod in ("ok", "bad"):
    name, ver, tag = f"ext_{mod}", "1.0", f"cp311-cp311-linux_{arch}"
    dist = f"{name}-{ver}.dist-info"
    files = {
        f"{name}/__init__.py": b"",
        f"{name}/_native.cpython-311-{arch}-linux-gnu.so":
            open(f"{T}/ext/{mod}.so", "rb").read(),
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\n"
                            f"Version: {ver}\n\n".encode(),
        f"{dist}/WHEEL": ("Wheel-Version: 1.0\nGenerator: it_indexctl\n"
                          f"Root-Is-Purelib: false\nTag: {tag}\n").encode(),
    }
    lines = [f"{p},{rec(b)},{len(b)}" for p, b in files.items()]
    files[f"{dist}/RECORD"] = ("\n".join(lines + [f"{dist}/RECORD,,"]) +
                               "\n").encode()
    with zipfile.ZipFile(f"{T}/ext/{name}-{ver}-{tag}.whl", "w",
                         zipfile.ZIP_DEFLATED) as z:
        for p, b in files.items():
            z.writestr(p, b)
EOF

# Named explicitly on the command line: not a distribution at all.
echo "hello" >"$T/in/notes.txt"

# --- bad usage --------------------------------------------------------------
run "$CTL" -d "$D" import
expect_rc 2 "import without paths"
contains "$errout" "usage: indexctl import" "import usage"
run "$CTL" -d "$D" import --bogus "$T/in"
expect_rc 2 "import with unknown option"
run "$CTL" import --help
expect_rc 0 "import --help"
contains "$out" "usage: indexctl import" "import --help"
run "$CTL" -d "$T/nothing-here" verify
expect_rc 1 "verify without a catalog"
contains "$errout" "no catalog" "verify without a catalog"
[ ! -e "$T/nothing-here" ] || fail "verify created a data directory"

# --- inspect -------------------------------------------------------------------
run "$CTL" inspect
expect_rc 2 "inspect without a file"
run "$CTL" inspect --help
expect_rc 0 "inspect --help"
run "$CTL" inspect "$WHEELS/$(ls "$WHEELS" | head -n1)"
expect_rc 0 "inspect a real wheel"
contains "$out" "verification:  ok" "inspect real wheel"
contains "$out" "tags:          py3-none-any" "inspect real wheel tags"
contains "$out" "policy:        pure" "inspect pure wheel"
run "$CTL" inspect "$T/ext/ext_ok-1.0-cp311-cp311-linux_$ARCH.whl"
expect_rc 0 "inspect C extension"
contains "$out" "ext_ok/_native.cpython-311-$ARCH-linux-gnu.so" "ELF listed"
contains "$out" "needed: libc.so.6" "ELF needed"
grep -Eq "versions from libc.so.6: .*GLIBC_2\.[0-9]+" <<<"$out" ||
	fail "inspect: no symbol versions: $out"
minor=$(sed -nE "s/^policy: +manylinux_2_([0-9]+)_$ARCH$/\1/p" <<<"$out")
[ -n "$minor" ] || fail "inspect: no manylinux tag: $out"
[ "$minor" -le 36 ] || fail "tag above this machine's glibc 2.36: $out"
# The tag covers the newest GLIBC_ symbol version the object needs
# (memcpy is GLIBC_2.14: manylinux2014 = 2_17 is the first policy above).
need=$(grep -Eo "GLIBC_2\.[0-9]+" <<<"$out" | cut -d. -f2 | sort -n | tail -n1)
[ "$minor" -ge "$need" ] || fail "tag 2_$minor below GLIBC_2.$need: $out"
contains "$out" "claims linux_$ARCH, which no index may serve" "claim verdict"
run "$CTL" inspect --json "$T/ext/ext_bad-1.0-cp311-cp311-linux_$ARCH.whl"
expect_rc 0 "inspect --json outside the policy"
$PY -c '
import json, sys
j = json.load(sys.stdin)
assert j["verify"]["ok"] is True, j["verify"]
assert j["filename"]["platform"].startswith("linux_"), j["filename"]
elf = j["elfs"][0]
assert any(n.startswith("libsqlite3.so") for n in elf["needed"]), elf
p = j["policy"]
assert p["tag"] is None, p
assert any("libsqlite3.so" in v for v in p["violations"]), p
assert any(l.startswith("libsqlite3.so") for l in p["external_libs"]), p
' <<<"$out" || fail "inspect --json: $out"
run "$CTL" inspect "$T/in/bad/tampered-1.0-py3-none-any.whl"
expect_rc 1 "inspect a tampered wheel"
contains "$out" "verification:  FAILED [record-hash]" "inspect tampered"
run "$CTL" inspect --json "$T/in/notes.txt"
expect_rc 1 "inspect a non-distribution"
$PY -c '
import json, sys
j = json.load(sys.stdin)
assert j["kind"] is None and "error" in j["filename"], j
assert j["verify"]["ok"] is False and j["verify"]["error"] == "filename", j
' <<<"$out" || fail "inspect --json non-distribution: $out"
ok "inspect: tags, verification, ELF needs, policy tag and violations"

# The C-extension fixture project, built into a wheel by pip here: the tag
# its content allows is the lowest manylinux policy (from the policy table
# in lib/data) at or above every GLIBC_ version it needs, and never above
# this machine's glibc 2.36.
cp -r "$WW_SOURCE_DIR/tests/fixtures/projects/wwdemo-cext" "$T/ext/"
$PY -m pip wheel -q --no-deps --no-build-isolation --no-index \
	-w "$T/ext/dist" "$T/ext/wwdemo-cext" >"$T/pip.log" 2>&1 ||
	fail "pip wheel wwdemo-cext: $(cat "$T/pip.log")"
CEXT=$(ls "$T"/ext/dist/wwdemo_cext-*-linux_"$ARCH".whl)
run "$CTL" inspect --json "$CEXT"
expect_rc 0 "inspect the fixture C-extension wheel"
printf '%s' "$out" >"$T/inspect.json"
$PY - "$WW_SOURCE_DIR/lib/data/manylinux-policy.json" "$ARCH" \
	"$T/inspect.json" <<'EOF2' ||
import json, re, sys
j = json.load(open(sys.argv[3]))
arch = sys.argv[2]
minors = sorted(int(m.group(1)) for p in json.load(open(sys.argv[1]))
                for m in [re.fullmatch(r"manylinux_2_(\d+)", p["name"])] if m)
assert j["verify"]["ok"], j["verify"]
(elf,) = j["elfs"]
assert elf["libc"] == "glibc" and elf["needed"] == ["libc.so.6"], elf
need = max(int(s["version"].split(".")[1]) for s in elf["symbol_versions"]
           if s["version"].startswith("GLIBC_2."))
want = min(m for m in minors if m >= need)
tag = j["policy"]["tag"]
assert tag == "manylinux_2_%d_%s" % (want, arch), (tag, need, want)
assert want <= 36, tag
assert j["policy"]["violations"] == [], j["policy"]
assert "retag it to " + tag in j["policy"]["claim"], j["policy"]
print(tag, "for GLIBC_2.%d" % need)
EOF2
	fail "fixture C-extension policy tag: $out"
ok "inspect: the pip-built C-extension fixture gets the lowest manylinux tag its GLIBC_ versions allow"

# --help, --json and bad options for every command of the foundation.
for cmd in import verify inspect token yank unyank jobs log cancel status \
	rebuild; do
	run "$CTL" "$cmd" --help
	expect_rc 0 "$cmd --help"
	contains "$out" "usage: indexctl $cmd" "$cmd --help"
	run "$CTL" -d "$T/nothing-here" "$cmd" --no-such-option x
	expect_rc 2 "$cmd with an unknown option"
	contains "$errout" "usage: indexctl $cmd" "$cmd unknown option"
done
[ ! -e "$T/nothing-here" ] || fail "a failed command created a data directory"
run "$CTL" no-such-command
expect_rc 2 "unknown command"
contains "$errout" 'unknown command "no-such-command"' "unknown command"
ok "every command: --help, usage on a bad option (exit 2)"

# --- import -----------------------------------------------------------------
run "$CTL" -d "$D" import "$T/in" "$T/in/notes.txt" "$T/does-not-exist"
expect_rc 1 "import with rejections"
NGOOD=$((NREAL + 4))
contains "$out" "imported $NGOOD, skipped 0, rejected 6" "import summary"
# One reason per rejected file, each its own.
[ "$(grep -c '^rejected ' <<<"$out")" -eq 6 ] || fail "want 6 reasons: $out"
grep -q "^rejected $T/in/bad/notzip-1.0-py3-none-any.whl: .*\[format\]" \
	<<<"$out" || fail "notzip reason: $out"
grep -q "^rejected $T/in/bad/tampered-1.0-py3-none-any.whl: .*\[record-hash\]" \
	<<<"$out" || fail "tampered reason: $out"
grep -q "^rejected $T/in/bad/escape-1.0-py3-none-any.whl: .*\[traversal\]" \
	<<<"$out" || fail "traversal reason: $out"
grep -q "^rejected $T/in/bad/truncated-.*\[truncated\]" <<<"$out" ||
	fail "truncated reason: $out"
grep -q "^rejected $T/in/notes.txt: .*\[filename\]" <<<"$out" ||
	fail "filename reason: $out"
grep -q "^rejected $T/does-not-exist: No such file or directory \[io\]" \
	<<<"$out" || fail "missing path reason: $out"
ok "import: $NGOOD imported, 6 rejected with their reasons"

# On a terminal import shows a progress line (on stderr, erased at the
# end) and still ends with the summary.
$PY - "$CTL" "$T/tty-data" "$T/in/gen" >"$T/tty.out" <<'EOF2' || fail "import on a tty: $(cat "$T/tty.out")"
import os, pty, sys
ctl, data, src = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    os.execv(ctl, [ctl, "-d", data, "import", src])
out = b""
while True:
    try:
        b = os.read(fd, 4096)
    except OSError:
        break
    if not b:
        break
    out += b
_, status = os.waitpid(pid, 0)
text = out.decode()
print(repr(text))
assert os.waitstatus_to_exitcode(status) == 0, status
assert "\r\x1b[K[1/4] " in text and "\r\x1b[K[4/4] " in text, text
assert text.rstrip().endswith("imported 4, skipped 0, rejected 0"), text
EOF2
ok "import: progress line on a terminal"

# Named explicitly, a FIFO is refused at once (not read, never waited
# on); inside a directory a symlink is not followed, even to a wheel.
mkfifo "$T/pipe-1.0-py3-none-any.whl"
mkdir -p "$T/links"
ln -s "$T/in/gen/demo_pkg-1.0-py3-none-any.whl" \
	"$T/links/demo_pkg-1.0-py3-none-any.whl"
run timeout 20 "$CTL" -d "$T/d-special" import \
	"$T/pipe-1.0-py3-none-any.whl" "$T/links"
expect_rc 1 "import a FIFO and a directory of symlinks"
contains "$out" "rejected $T/pipe-1.0-py3-none-any.whl: not a regular file [io]" \
	"FIFO reason"
contains "$out" "imported 0, skipped 0, rejected 1" "FIFO and symlink summary"
ok "import: a FIFO is refused without reading it; symlinks in directories are not followed"

[ "$(sql 'SELECT count(*) FROM files')" -eq "$NGOOD" ] || fail "catalog count"
[ "$(ls "$D/files" | grep -vc '\.metadata$')" -eq "$NGOOD" ] || fail "store count"
[ -z "$(ls -A "$D/tmp")" ] || fail "temp files left: $(ls -A "$D/tmp")"
for w in "$WHEELS"/*.whl; do
	f=$(basename "$w")
	want=$(sha256sum "$w" | cut -d' ' -f1)
	got=$(sql "SELECT sha256 FROM files WHERE filename = '$f'")
	[ "$got" = "$want" ] || fail "$f: catalog sha256 $got, want $want"
	cmp -s "$w" "$D/files/$f" || fail "$f: stored bytes differ"
	# The .metadata is the wheel's METADATA, byte for byte.
	$PY - "$w" "$D/files/$f.metadata" <<'EOF' || fail "$f: metadata differs"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
m = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")][0]
sys.exit(0 if z.read(m) == open(sys.argv[2], "rb").read() else 1)
EOF
done
[ "$(sql "SELECT kind || ' ' || version || ' ' || coalesce(requires_python, '') \
	|| ' ' || has_metadata FROM files WHERE filename = 'demo_pkg-1.1.tar.gz'")" \
	= "s 1.1 >=3.8 0" ] || fail "sdist row"
[ "$(sql "SELECT p.display || ' ' || p.name FROM projects p JOIN files f \
	ON f.project_id = p.id WHERE f.filename = 'demo_pkg-1.0-py3-none-any.whl'")" \
	= "demo_pkg demo-pkg" ] || fail "project names"
[ "$(sql "SELECT origin FROM files WHERE filename = 'demo_pkg-1.1.tar.gz'")" \
	= "import:$(realpath "$T/in/gen/demo_pkg-1.1.tar.gz")" ] || fail "origin"
[ "$(sql "SELECT count(*) FROM files WHERE filename LIKE 'hidden%'")" -eq 0 ] ||
	fail "hidden directory was imported"
ok "catalog rows and stored files match the sources"

# --- verify round-trip -------------------------------------------------------
run "$CTL" -d "$D" verify
expect_rc 0 "verify after import"
contains "$out" "verified $NGOOD files" "verify summary"
contains "$out" "ok $NGOOD, missing 0, corrupt 0, unknown 0" "verify clean"
ok "verify: clean"

# --- re-import: everything skipped -----------------------------------------------
run "$CTL" -d "$D" import "$T/in/real" "$T/in/gen"
expect_rc 0 "re-import"
contains "$out" "imported 0, skipped $NGOOD, rejected 0" "re-import summary"
run "$CTL" -d "$D" import --json "$T/in/real"
expect_rc 0 "re-import --json"
$PY -c '
import json, sys
j = json.load(sys.stdin)
n = int(sys.argv[1])
assert j["counts"] == {"imported": 0, "skipped": n, "rejected": 0}, j["counts"]
assert len(j["skipped"]) == n and not j["imported"] and not j["rejected"]
assert all(len(s["sha256"]) == 64 for s in j["skipped"])
' "$NREAL" <<<"$out" || fail "import --json: $out"
ok "re-import: all skipped"

# --- conflict and linux_<arch> ---------------------------------------------------
run "$CTL" -d "$D" import --json "$T/conflict" "$T/linux"
expect_rc 1 "import conflict + linux tag"
$PY -c '
import json, sys
j = json.load(sys.stdin)
assert j["counts"] == {"imported": 0, "skipped": 0, "rejected": 2}, j
codes = sorted(r["error"] for r in j["rejected"])
assert codes == ["conflict", "linux-platform-tag"], codes
for r in j["rejected"]:
    assert r["message"] and r["path"], r
' <<<"$out" || fail "conflict/linux JSON: $out"
cmp -s "$T/in/gen/demo_pkg-1.0-py3-none-any.whl" \
	"$D/files/demo_pkg-1.0-py3-none-any.whl" || fail "conflict replaced a file"
[ ! -e "$D/files/native_pkg-1.0-cp311-cp311-linux_x86_64.whl" ] ||
	fail "rejected linux wheel was stored"
run "$CTL" -d "$D" import --allow-linux-tag "$T/linux"
expect_rc 0 "import --allow-linux-tag"
contains "$out" "imported 1, skipped 0, rejected 0" "allowed linux tag"
NGOOD=$((NGOOD + 1))
ok "conflicting bytes refused; linux_x86_64 refused unless allowed"

# --- tokens -----------------------------------------------------------------------
run "$CTL" -d "$D" token create ci-upload --scope upload --project Demo_Pkg
expect_rc 0 "token create"
SECRET=$out
[[ "$SECRET" =~ ^ww-[A-Za-z0-9_-]{43}$ ]] || fail "token format: $SECRET"
contains "$errout" "shown only this once" "token create note"
HASH=$(printf '%s' "$SECRET" | sha256sum | cut -d' ' -f1)
[ "$(sql "SELECT lower(hex(hash)) || ' ' || scope || ' ' || project FROM tokens \
	WHERE name = 'ci-upload'")" = "$HASH upload demo-pkg" ] ||
	fail "token row does not hold the secret's sha256"
if grep -qa -- "${SECRET#ww-}" "$D"/catalog.sqlite*; then
	fail "the token secret is stored in the database"
fi
run "$CTL" -d "$D" token create ci-upload --scope admin
expect_rc 1 "duplicate token name"
contains "$errout" "already exists" "duplicate token name"
run "$CTL" -d "$D" token create x --scope root
expect_rc 2 "bad scope"
run "$CTL" -d "$D" token create adm --scope admin --json
expect_rc 0 "token create --json"
$PY -c '
import json, sys
j = json.load(sys.stdin)
assert j["name"] == "adm" and j["scope"] == "admin" and j["project"] is None
assert j["token"].startswith("ww-") and len(j["token"]) == 46
' <<<"$out" || fail "token create --json: $out"
run "$CTL" -d "$D" token list
expect_rc 0 "token list"
grep -Eq '^ci-upload +upload +demo-pkg .* never +active$' <<<"$out" ||
	fail "token list: $out"
grep -Eq '^adm +admin +\* .*active$' <<<"$out" || fail "token list: $out"
run "$CTL" -d "$D" token revoke ci-upload
expect_rc 0 "token revoke"
run "$CTL" -d "$D" token revoke ci-upload
expect_rc 0 "token revoke again"
contains "$out" "already revoked" "token revoke again"
run "$CTL" -d "$D" token revoke nobody
expect_rc 1 "revoke unknown token"
run "$CTL" -d "$D" token list --json
expect_rc 0 "token list --json"
$PY -c '
import json, sys
j = {t["name"]: t for t in json.load(sys.stdin)}
assert set(j) == {"ci-upload", "adm"}, j
assert j["ci-upload"]["active"] is False and j["ci-upload"]["revoked"]
assert j["adm"]["active"] is True and j["adm"]["revoked"] is None
' <<<"$out" || fail "token list --json: $out"
ok "tokens: create (hash only), list, revoke"

# --- yank / unyank ------------------------------------------------------------------
yanked() { sql "SELECT yanked || '|' || coalesce(yanked_reason, '') FROM files \
	WHERE filename = '$1'"; }
gen() { sql "SELECT generation FROM projects WHERE name = '$1'"; }
G0=$(gen demo-pkg)
run "$CTL" -d "$D" yank demo_pkg-1.0-py3-none-any.whl --reason "broken build"
expect_rc 0 "yank file"
contains "$out" "yanked demo_pkg-1.0-py3-none-any.whl: 1 file" "yank file"
[ "$(yanked demo_pkg-1.0-py3-none-any.whl)" = "1|broken build" ] || fail "yank file row"
[ "$(gen demo-pkg)" -gt "$G0" ] || fail "yank did not bump the generation"
run "$CTL" -d "$D" yank 'Demo.Pkg==1.1.0' --reason "CVE-2024-0001"
expect_rc 0 "yank release"
contains "$out" "yanked demo-pkg==1.1: 3 files" "yank release"
for f in demo_pkg-1.1-py3-none-any.whl demo_pkg-1.1-py2.py3-none-any.whl \
	demo_pkg-1.1.tar.gz; do
	[ "$(yanked "$f")" = "1|CVE-2024-0001" ] || fail "yank release: $f"
done
run "$CTL" -d "$D" yank demo-pkg==1.1 --reason "CVE-2024-0001"
expect_rc 0 "yank release again"
contains "$out" "already yanked" "yank is idempotent"
run "$CTL" -d "$D" unyank demo_pkg==1.1 --json
expect_rc 0 "unyank release"
$PY -c '
import json, sys
j = json.load(sys.stdin)
assert j == {"target": "demo-pkg==1.1", "kind": "release", "yanked": False,
             "reason": None, "changed": 3}, j
' <<<"$out" || fail "unyank --json: $out"
[ "$(yanked demo_pkg-1.1.tar.gz)" = "0|" ] || fail "unyank release row"
[ "$(yanked demo_pkg-1.0-py3-none-any.whl)" = "1|broken build" ] ||
	fail "unyank release touched another version"
run "$CTL" -d "$D" unyank demo_pkg-1.0-py3-none-any.whl
expect_rc 0 "unyank file"
[ "$(yanked demo_pkg-1.0-py3-none-any.whl)" = "0|" ] || fail "unyank file row"
run "$CTL" -d "$D" yank nosuch-1.0.tar.gz
expect_rc 1 "yank unknown file"
contains "$errout" "no such file" "yank unknown file"
run "$CTL" -d "$D" yank demo-pkg==9.9
expect_rc 1 "yank unknown release"
run "$CTL" -d "$D" yank 'demo-pkg==not a version'
expect_rc 2 "yank bad version"
run "$CTL" -d "$D" yank ../../etc/passwd
expect_rc 2 "yank unsafe name"
run "$CTL" -d "$D" yank
expect_rc 2 "yank without target"
ok "yank/unyank by file and by release"

# --- damage the store; verify must notice each kind --------------------------------
VICTIM=$(ls "$WHEELS" | head -n1)
GONE=demo_pkg-1.1.tar.gz
chmod u+w "$D/files/$VICTIM"
$PY - "$D/files/$VICTIM" <<'EOF'
import sys
p = sys.argv[1]
with open(p, "r+b") as f:
    f.seek(1000)
    b = f.read(1)
    f.seek(1000)
    f.write(bytes([b[0] ^ 0x01]))
EOF
run "$CTL" -d "$D" verify
expect_rc 1 "verify after corrupting one byte"
grep -q "^corrupt  $VICTIM: sha256 .*, expected " <<<"$out" || fail "corrupt: $out"
contains "$out" "ok $((NGOOD - 1)), missing 0, corrupt 1, unknown 0" "corrupt count"
ok "verify: one flipped byte reported as corrupt"

rm -f "$D/files/$GONE"
echo "stray" >"$D/files/stray-0.1.tar.gz"
echo "extra" >>"$D/files/demo_pkg-1.0-py3-none-any.whl.metadata"
run "$CTL" -d "$D" verify --json
expect_rc 1 "verify --json with damage"
$PY -c '
import json, sys
j = json.load(sys.stdin)
victim, gone, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
assert j["checked"] == n, j
assert [m["file"] for m in j["missing"]] == [gone], j["missing"]
assert sorted(c["file"] for c in j["corrupt"]) == sorted(
    [victim, "demo_pkg-1.0-py3-none-any.whl.metadata"]), j["corrupt"]
assert [u["file"] for u in j["unknown"]] == ["stray-0.1.tar.gz"], j["unknown"]
assert j["ok"] == n - 3, j
' "$VICTIM" "$GONE" "$NGOOD" <<<"$out" || fail "verify --json: $out"
run "$CTL" -d "$D" verify
expect_rc 1 "verify with damage"
grep -q "^missing  $GONE$" <<<"$out" || fail "missing: $out"
grep -q "^unknown  stray-0.1.tar.gz" <<<"$out" || fail "unknown: $out"
ok "verify: missing, corrupt metadata and unknown files reported"

# A re-import restores a missing file (same bytes as its catalog row).
run "$CTL" -d "$D" import "$T/in/gen/demo_pkg-1.1.tar.gz"
expect_rc 0 "re-import of a missing file"
cmp -s "$T/in/gen/demo_pkg-1.1.tar.gz" "$D/files/$GONE" || fail "not restored"
run "$CTL" -d "$D" verify
contains "$out" "missing 0, corrupt 2, unknown 1" "after restore"
ok "re-import repairs a missing store file"
echo "PASS"
