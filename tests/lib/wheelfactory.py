#!/usr/bin/python3
"""wheelfactory: generate valid and malformed wheels and sdists for tests.

Everything is built at test time with zipfile/tarfile (plus a little byte
patching for what those modules refuse to write, such as encrypted flags).
Each malformed file breaks exactly one rule and is otherwise valid, so the
verifier must reject it with that rule's error code.

    wheelfactory.py OUTDIR     writes the files and OUTDIR/manifest.json:
        [{"file": ..., "expect": "ok" | "<verify_err_name>",
          "limits": {...overrides...}, "mention": "text the message names",
          "note": ...}, ...]

Also importable: build_wheel(), wheel_bytes(), build_sdist().
"""

import base64
import hashlib
import io
import json
import os
import platform
import struct
import sys
import tarfile
import warnings
import zipfile

warnings.filterwarnings("ignore", "Duplicate name", UserWarning)

ELF_HOST_ARCH = platform.machine()


def b64(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()) \
        .rstrip(b"=").decode()


def record_line(path, data):
    return "%s,sha256=%s,%d" % (csv_field(path), b64(data), len(data))


def csv_field(s):
    if any(c in s for c in ',"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def metadata_text(name, version, extra=""):
    return ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n"
            "Summary: test fixture\nRequires-Python: >=3.7\n"
            "Requires-Dist: packaging (>=20)\n"
            "Requires-Dist: colorama ; platform_system == \"Windows\"\n"
            "%s\nLong description\n  with indented lines\n") % (
                name, version, extra)


def wheel_text(tags, purelib=True, build=None, version="1.0"):
    s = "Wheel-Version: %s\nGenerator: wheelfactory\nRoot-Is-Purelib: %s\n" % (
        version, "true" if purelib else "false")
    for t in tags:
        s += "Tag: %s\n" % t
    if build is not None:
        s += "Build: %s\n" % build
    return s


def expand(tag):
    py, abi, plat = tag.split("-")
    return ["%s-%s-%s" % (x, y, z) for x in py.split(".")
            for y in abi.split(".") for z in plat.split(".")]


def wheel_bytes(name="demo_pkg", version="1.0", tag="py3-none-any",
                files=None, build=None, distinfo=None, wheel=None,
                metadata=None, record=None, record_extra=(),
                record_skip=(), record_mutate=None, extra_members=(),
                dirs=(), zip64=(), compression=zipfile.ZIP_DEFLATED,
                dist_last=True):
    """Build a wheel in memory. files: {path: bytes}. Hooks let tests
    break one thing: wheel/metadata/record replace the generated text
    (None: generate, False: omit); record_extra adds raw RECORD lines;
    record_skip leaves paths out of RECORD; record_mutate(lines) edits the
    RECORD lines; extra_members are (path, bytes, ZipInfo-tweak) written
    after everything, not in RECORD."""
    if files is None:
        files = {"%s/__init__.py" % name: b"VALUE = 42\n"}
    di = distinfo or "%s-%s.dist-info" % (name, version)
    members = []
    for d in dirs:
        members.append((d, None))
    for p, data in files.items():
        members.append((p, data))
    if metadata is None:
        metadata = metadata_text(name, version)
    if isinstance(metadata, str):
        metadata = metadata.encode()
    if metadata is not False:
        members.append((di + "/METADATA", metadata))
    if wheel is not False:
        w = wheel if wheel is not None else wheel_text(
            expand(tag), build=build)
        members.append((di + "/WHEEL", w.encode()))
    lines = []
    for p, data in members:
        if data is None or p in record_skip:
            continue
        lines.append(record_line(p, data))
    lines.append("%s/RECORD,," % di)
    lines.extend(record_extra)
    if record_mutate:
        lines = record_mutate(lines)
    rec = record if record is not None else ("\n".join(lines) + "\n")
    if not dist_last:
        members.reverse()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for p, data in members:
            if data is None:
                zi = zipfile.ZipInfo(p)
                zi.external_attr = (0o40755 << 16) | 0x10
                z.writestr(zi, b"")
                continue
            zi = zipfile.ZipInfo(p, date_time=(2024, 1, 1, 0, 0, 0))
            zi.compress_type = compression
            zi.external_attr = 0o100644 << 16
            if p in zip64:
                with z.open(zi, "w", force_zip64=True) as f:
                    f.write(data)
            else:
                z.writestr(zi, data)
        if record is not False:
            z.writestr(di + "/RECORD", rec.encode()
                       if isinstance(rec, str) else rec)
        for p, data, tweak in extra_members:
            zi = zipfile.ZipInfo(p, date_time=(2024, 1, 1, 0, 0, 0))
            zi.compress_type = compression
            zi.external_attr = 0o100644 << 16
            if tweak:
                tweak(zi)
            z.writestr(zi, data)
    return buf.getvalue()


def wheel_filename(name="demo_pkg", version="1.0", tag="py3-none-any",
                   build=None):
    return "-".join([name, version] + ([build] if build else []) +
                    [tag]) + ".whl"


def set_member_flag(data, member, bit):
    """Set a general-purpose flag bit on member in both headers."""
    data = bytearray(data)
    z = zipfile.ZipFile(io.BytesIO(bytes(data)))
    zi = z.getinfo(member)
    off = zi.header_offset + 6
    struct.pack_into("<H", data, off, struct.unpack_from("<H", data, off)[0]
                     | bit)
    # central directory entry
    p = data.find(b"PK\x01\x02")
    while p != -1:
        nlen = struct.unpack_from("<H", data, p + 28)[0]
        if data[p + 46:p + 46 + nlen] == member.encode():
            o = p + 8
            struct.pack_into("<H", data, o,
                             struct.unpack_from("<H", data, o)[0] | bit)
        p = data.find(b"PK\x01\x02", p + 4)
    return bytes(data)


def rename_local(data, old, new):
    """Change a member's name in its local header only (same length)."""
    assert len(old) == len(new)
    data = bytearray(data)
    z = zipfile.ZipFile(io.BytesIO(bytes(data)))
    off = z.getinfo(old).header_offset
    nlen = struct.unpack_from("<H", data, off + 26)[0]
    assert data[off + 30:off + 30 + nlen] == old.encode()
    data[off + 30:off + 30 + nlen] = new.encode()
    return bytes(data)


def patch_entry(data, member, local=True, central=True, **fields):
    """Overwrite header fields of member (crc, csize, usize, method,
    extra_len: local header only) in its local header and/or its central
    directory entry, leaving everything else as it is."""
    lofs = {"method": 8, "crc": 14, "csize": 18, "usize": 22,
            "extra_len": 28}
    cofs = {"method": 10, "crc": 16, "csize": 20, "usize": 24}
    data = bytearray(data)
    z = zipfile.ZipFile(io.BytesIO(bytes(data)))
    off = z.getinfo(member).header_offset
    for k, v in fields.items():
        fmt = "<H" if k in ("method", "extra_len") else "<I"
        if local:
            struct.pack_into(fmt, data, off + lofs[k], v)
    p = data.find(b"PK\x01\x02")
    while central and p != -1:
        nlen = struct.unpack_from("<H", data, p + 28)[0]
        if data[p + 46:p + 46 + nlen] == member.encode():
            for k, v in fields.items():
                if k in cofs:
                    fmt = "<H" if k == "method" else "<I"
                    struct.pack_into(fmt, data, p + cofs[k], v)
        p = data.find(b"PK\x01\x02", p + 4)
    return bytes(data)


def mixed_wheel():
    """A wheel of ~14 MB that spans many of the data pass's chunks (4 MiB)
    with every kind of member: incompressible and compressible deflated
    members of up to 5 MB, a stored one, a bzip2 one (not deflate, so it
    always goes through libarchive), thousands of small modules, dirs."""
    rng = __import__("random").Random(7)
    files = {"demo_pkg/__init__.py": b""}
    for i in range(6):
        files["demo_pkg/blob%d.bin" % i] = rng.randbytes(1500000)
    words = [b"def", b"return", b"self", b"value", b"import", b"data"]
    files["demo_pkg/big.txt"] = b"\n".join(
        b" ".join(rng.choice(words) for _ in range(10)) + b" %d" % i
        for i in range(120000))
    for i in range(3000):
        files["demo_pkg/m%02d/mod%04d.py" % (i % 40, i)] = (
            b"X = %d\n" % i) * rng.randint(1, 200)
    w = wheel_bytes(files=files, dirs=("demo_pkg/",))
    # Rewrite two members as stored and bzip2, keeping RECORD.
    out = io.BytesIO()
    special = {"demo_pkg/blob1.bin": zipfile.ZIP_STORED,
               "demo_pkg/m07/mod0007.py": zipfile.ZIP_BZIP2}
    with zipfile.ZipFile(io.BytesIO(w)) as zin, \
            zipfile.ZipFile(out, "w") as zout:
        for zi in zin.infolist():
            body = zin.read(zi.filename)
            zi.compress_type = special.get(zi.filename, zi.compress_type)
            zout.writestr(zi, body)
    return out.getvalue()


def tar_add(t, path, data=None, kind="file", target=None, mode=0o644):
    ti = tarfile.TarInfo(path)
    ti.mtime = 1700000000
    if kind == "dir":
        ti.type = tarfile.DIRTYPE
        ti.mode = 0o755
        t.addfile(ti)
    elif kind == "sym":
        ti.type = tarfile.SYMTYPE
        ti.linkname = target
        t.addfile(ti)
    elif kind == "hard":
        ti.type = tarfile.LNKTYPE
        ti.linkname = target
        t.addfile(ti)
    elif kind == "fifo":
        ti.type = tarfile.FIFOTYPE
        t.addfile(ti)
    else:
        ti.size = len(data)
        ti.mode = mode
        t.addfile(ti, io.BytesIO(data))


def pkg_info(name, version):
    return ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n"
            "Summary: sdist fixture\nRequires-Dist: idna\n" % (
                name, version)).encode()


def build_sdist(name="demo_pkg", version="1.0", top=None, members=None,
                pkginfo=None, fmt="tar.gz"):
    """members: list of (path-under-top or absolute spec, kind, data,
    target). Paths starting with '!' are used verbatim (no top dir)."""
    top = top or "%s-%s" % (name, version)
    items = [("", "dir", None, None)]
    if pkginfo is not False:
        items.append(("PKG-INFO", "file", pkginfo if pkginfo is not None
                      else pkg_info(name, version), None))
    items.append(("setup.py", "file",
                  b"from setuptools import setup\nsetup()\n", None))
    items.extend(members or [])

    def full(p):
        if p.startswith("!"):
            return p[1:]
        return top + ("/" + p if p else "")

    if fmt == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for p, kind, data, target in items:
                if kind == "dir":
                    zi = zipfile.ZipInfo(full(p) + "/")
                    zi.external_attr = (0o40755 << 16) | 0x10
                    z.writestr(zi, b"")
                elif kind == "sym":
                    zi = zipfile.ZipInfo(full(p))
                    zi.create_system = 3
                    zi.external_attr = 0o120777 << 16
                    z.writestr(zi, target.encode())
                else:
                    z.writestr(full(p), data)
        return buf.getvalue()
    buf = io.BytesIO()
    mode = "w:gz" if fmt == "tar.gz" else "w"
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.PAX_FORMAT) as t:
        for p, kind, data, target in items:
            tar_add(t, full(p), data, kind, target)
    return buf.getvalue()


def other_arch():
    return "aarch64" if ELF_HOST_ARCH == "x86_64" else "x86_64"


def host_elf():
    """A real ELF shared object of this machine (for ELF-bearing wheels)."""
    for p in ("/usr/lib/%s-linux-gnu/libz.so.1" % ELF_HOST_ARCH,
              "/lib/%s-linux-gnu/libc.so.6" % ELF_HOST_ARCH, "/bin/true"):
        if os.path.exists(p):
            with open(os.path.realpath(p), "rb") as f:
                return f.read()
    raise RuntimeError("no ELF file found")


def cases():
    """Yield (filename, bytes, expect, limits, mention, note)."""
    N, V = "demo_pkg", "1.0"
    fn = wheel_filename()
    di = "%s-%s.dist-info" % (N, V)
    ok = "ok"

    # ---- valid ----
    yield fn, wheel_bytes(), ok, {}, None, "minimal pure wheel"
    yield ("demo_pkg-1.0-py2.py3-none-any.whl",
           wheel_bytes(tag="py2.py3-none-any"), ok, {}, None,
           "compressed tag set")
    yield ("demo_pkg-1.0-1local-py3-none-any.whl",
           wheel_bytes(build="1local"), ok, {}, None, "build tag")
    yield ("demo_pkg-1.0-py3-none-any.whl",
           wheel_bytes(files={
               "demo_pkg/__init__.py": b"",
               "demo_pkg/d\u00e4t\u00e9n.txt":
                   "h\u00e9llo".encode(),
               "demo_pkg/we,ird \"name\".txt": b"quoted in RECORD",
               "demo_pkg-1.0.data/scripts/demo": b"#!python\nprint(1)\n",
               "demo_pkg-1.0.data/data/share/demo.txt": b"data\n",
               "demo_pkg-1.0.data/headers/demo.h": b"int x;\n",
               "top_module.py": b"X = 1\n",
           }, dirs=("demo_pkg/", "demo_pkg-1.0.data/")),
           ok, {}, None, "utf-8 names, quoted RECORD path, .data, dirs")
    yield (fn, wheel_bytes(record_extra=("%s/RECORD.jws,," % di,),
                           record_skip=(di + "/RECORD.jws",),
                           files={"demo_pkg/__init__.py": b"",
                                  di + "/RECORD.jws": b"{}"}),
           ok, {}, None, "RECORD.jws with empty hash")
    yield (fn, wheel_bytes(distinfo="Demo.Pkg-1.0.dist-info"), ok, {}, None,
           "unescaped dist-info spelling")
    yield (fn, wheel_bytes(files={"demo_pkg/big.bin": os.urandom(70000)},
                           zip64=("demo_pkg/big.bin",)), ok, {}, None,
           "zip64 member")
    yield (fn, wheel_bytes(files={"demo_pkg/m%d.py" % i: b"#\n"
                                  for i in range(70000)}), ok, {}, None,
           "70000 members: zip64 end of central directory")
    yield (fn, wheel_bytes(compression=zipfile.ZIP_STORED, dist_last=False),
           ok, {}, None, "stored, dist-info first")
    yield ("demo_pkg-1.0-py3-none-linux_%s.whl" % ELF_HOST_ARCH,
           wheel_bytes(tag="py3-none-linux_" + ELF_HOST_ARCH,
                       files={"demo_pkg/_lib.so": host_elf()}),
           ok, {}, None, "ELF member of the host arch")
    yield ("demo_pkg-1.0.tar.gz", build_sdist(members=[
        ("demo_pkg/__init__.py", "file", b"", None),
        ("docs", "dir", None, None),
        ("docs/link.py", "sym", None, "../demo_pkg/__init__.py"),
        ("demo_pkg/hard.py", "hard", None, "demo_pkg-1.0/demo_pkg/__init__.py"),
    ]), ok, {}, None, "sdist with inside links")
    yield ("demo_pkg-1.0.zip", build_sdist(fmt="zip"), ok, {}, None,
           "zip sdist")

    # ---- malformed wheels ----
    good = wheel_bytes()
    yield "demo_pkg-1.0.whl", good, "filename", {}, None, "no tags"
    yield fn, b"this is not a zip file at all" * 10, "format", {}, None, \
        "garbage"
    yield fn, build_sdist(), "format", {}, None, "a tar.gz named .whl"
    yield fn, b"JUNK" * 16 + good, "format", {}, None, "prepended data"
    yield (fn, rename_local(wheel_bytes(files={"demo_pkg/aaa.py": b"x=1\n"}),
                            "demo_pkg/aaa.py", "demo_pkg/bbb.py"),
           "format", {}, "aaa.py", "local header name differs")
    yield fn, good[:len(good) // 2], "truncated", {}, None, "cut in half"
    big = wheel_bytes(files={"demo_pkg/data.txt":
                             b"".join(b"line %d\n" % i for i in range(20000))})
    z = zipfile.ZipFile(io.BytesIO(big))
    off = z.getinfo("demo_pkg/data.txt").header_offset + 30 + \
        len("demo_pkg/data.txt") + 200
    corrupt = bytearray(big)
    for i in range(off, off + 64):
        corrupt[i] ^= 0x5a
    yield fn, bytes(corrupt), "truncated", {}, "data.txt", \
        "corrupt deflate data / CRC"
    # Headers that lie about the data (the data itself is intact).
    zi = zipfile.ZipFile(io.BytesIO(big)).getinfo("demo_pkg/data.txt")
    for fields, mention, note in (
            ({"usize": zi.file_size + 1}, "declares", "declared size too big"),
            ({"usize": zi.file_size - 1}, "declares",
             "declared size too small"),
            ({"crc": zi.CRC ^ 1}, "CRC", "CRC-32 mismatch")):
        yield (fn, patch_entry(big, "demo_pkg/data.txt", **fields),
               "truncated", {}, "data.txt", note)
    yield (fn, patch_entry(big, "demo_pkg/data.txt", central=False,
                           method=0), "format", {}, "data.txt",
           "local header says stored, central directory deflate")
    # A stored member whose first bytes read as a well-formed extra
    # field: a local header claiming them as its extra field moves the
    # data 20 bytes on, into the next entry.
    ext = wheel_bytes(files={"demo_pkg/__init__.py": b"",
                             "demo_pkg/a.bin": b"\xca\xfe\x10\x00" +
                             b"x" * 200}, compression=zipfile.ZIP_STORED)
    yield (fn, patch_entry(ext, "demo_pkg/a.bin", central=False,
                           extra_len=20), "format", {}, "a.bin",
           "local extra field runs into the next entry")
    mixed = mixed_wheel()
    yield fn, mixed, ok, {}, None, "mixed wheel over many chunks"
    yield (fn, mixed, ok, {"whole_member_max": 1000000}, None,
           "mixed wheel, big members streamed")
    for p in ("/etc/evil.py", "C:/evil.py", "\\evil.py"):
        yield (fn, wheel_bytes(files={"demo_pkg/__init__.py": b"",
                                      p: b"x"}),
               "absolute-path", {}, "evil.py", "absolute " + p)
    for p in ("../evil.py", "demo_pkg/../../evil.py",
              "demo_pkg\\..\\..\\evil.py"):
        yield (fn, wheel_bytes(files={"demo_pkg/__init__.py": b"", p: b"x"}),
               "traversal", {}, "evil.py", "traversal " + p)

    def symlink(zi):
        zi.create_system = 3
        zi.external_attr = 0o120777 << 16
    yield (fn, wheel_bytes(extra_members=(("demo_pkg/link", b"/etc/passwd",
                                           symlink),)),
           "link", {}, "demo_pkg/link", "symlink member")
    dup = wheel_bytes(extra_members=(("demo_pkg/__init__.py", b"other\n",
                                      None),))
    yield fn, dup, "duplicate", {}, "__init__.py", "same member twice"
    yield (fn, set_member_flag(good, "demo_pkg/__init__.py", 1),
           "encrypted", {}, "__init__.py", "encrypted flag")
    for files, mention, note in (
            ({"demo_pkg-1.0.data/unknown/x": b"x"}, "unknown",
             "unknown .data subdir"),
            ({"demo_pkg-1.0.data/x": b"x"}, ".data/x", "file directly in .data"),
            ({"other-2.0.data/purelib/x.py": b"x"}, "other-2.0.data",
             ".data of another dist"),
            ({"demo_pkg/a//b.py": b"x"}, "a//b", "empty component"),
            ({"demo_pkg/a\x01.py": b"x"}, "a?.py", "control character")):
        files = dict(files)
        files["demo_pkg/__init__.py"] = b""
        yield fn, wheel_bytes(files=files), "layout", {}, mention, note
    yield (fn, good, "file-too-big", {"max_file_size": 100}, None,
           "max_file_size")
    yield (fn, wheel_bytes(files={"demo_pkg/big.txt": b"a" * 5000}),
           "member-too-big", {"max_member_size": 4096}, "big.txt",
           "max_member_size")
    yield (fn, wheel_bytes(files={"demo_pkg/a.txt": b"a" * 3000,
                                  "demo_pkg/b.txt": b"b" * 3000}),
           "member-too-big", {"max_total_size": 5000}, None,
           "max_total_size")
    yield (fn, wheel_bytes(files={"demo_pkg/m%d.py" % i: b""
                                  for i in range(50)}),
           "too-many-members", {"max_members": 20}, None, "max_members")
    yield (fn, wheel_bytes(files={"demo_pkg/zeros.bin": bytes(30 << 20)}),
           "ratio", {}, None, "30 MiB of zeros (default limits)")
    yield (fn, good, "member-too-big", {"max_metadata_size": 100}, "METADATA",
           "metadata over max_metadata_size")
    yield (fn, wheel_bytes(wheel=False, metadata=False, record=False),
           "distinfo-missing", {}, None, "no dist-info")
    yield (fn, wheel_bytes(files={"demo_pkg/__init__.py": b"",
                                  "other-1.0.dist-info/METADATA": b"x"}),
           "distinfo-multiple", {}, "other-1.0.dist-info", "two dist-infos")
    yield (fn, wheel_bytes(files={"demo_pkg/__init__.py": b"",
                                  "demo_pkg-1.0.data/purelib/"
                                  "evil-1.0.dist-info/METADATA": b"x"}),
           "distinfo-multiple", {}, "evil-1.0.dist-info",
           "dist-info installed through .data/purelib")
    yield (fn, wheel_bytes(distinfo="other_pkg-1.0.dist-info"),
           "distinfo-name", {}, "other_pkg-1.0.dist-info",
           "dist-info of another project")
    yield (fn, wheel_bytes(distinfo="demo_pkg-2.0.dist-info"),
           "distinfo-name", {}, "demo_pkg-2.0.dist-info",
           "dist-info of another version")
    yield fn, wheel_bytes(wheel=False), "wheel-file", {}, "WHEEL", \
        "WHEEL missing"
    yield (fn, wheel_bytes(wheel="Wheel-Version: 1.0\nTag: py3-none-any\n"),
           "wheel-file", {}, "Root-Is-Purelib", "no Root-Is-Purelib")
    yield (fn, wheel_bytes(wheel="Wheel-Version: 1.0\nRoot-Is-Purelib: maybe\n"
                           "Tag: py3-none-any\n"),
           "wheel-file", {}, "maybe", "bad Root-Is-Purelib")
    yield (fn, wheel_bytes(wheel="Wheel-Version: 1.0\nthis is not a header\n"),
           "wheel-file", {}, "WHEEL", "malformed WHEEL")
    yield (fn, wheel_bytes(wheel=wheel_text(["py3-none-any"], version="2.0")),
           "wheel-version", {}, "2.0", "Wheel-Version 2.0")
    yield (fn, wheel_bytes(wheel=wheel_text(["py3-none-any"], version="one")),
           "wheel-version", {}, "one", "Wheel-Version not N.N")
    yield (fn, wheel_bytes(wheel=wheel_text(["py2-none-any"])),
           "tags", {}, "py3-none-any", "Tag lines differ")
    yield (fn, wheel_bytes(wheel=wheel_text(["py3-none-any",
                                             "py2-none-any"])),
           "tags", {}, "py2-none-any", "extra Tag line")
    yield (fn, wheel_bytes(wheel=wheel_text(["py3-none-any"], build="7")),
           "tags", {}, "Build", "Build without build tag")
    yield fn, wheel_bytes(metadata=False), "metadata", {}, "METADATA", \
        "METADATA missing"
    yield (fn, wheel_bytes(metadata="Metadata-Version: 2.1\nVersion: 1.0\n"),
           "metadata", {}, "Name", "no Name")
    yield (fn, wheel_bytes(metadata=b"Metadata-Version: 2.1\nName: demo_pkg\n"
                           b"Version: 1.0\nSummary: a\0b\n"),
           "metadata", {}, "NUL", "NUL byte")
    yield (fn, wheel_bytes(metadata=metadata_text("other-pkg", "1.0")),
           "metadata-mismatch", {}, "other-pkg", "Name differs")
    yield (fn, wheel_bytes(metadata=metadata_text("Demo.Pkg", "1.0.1")),
           "metadata-mismatch", {}, "1.0.1", "Version differs")
    yield fn, wheel_bytes(record=False), "record-missing", {}, "RECORD", \
        "RECORD missing"
    yield (fn, wheel_bytes(record_extra=('demo_pkg/x.py,"sha256=abc,1',)),
           "record-syntax", {}, "unterminated", "bad CSV")
    yield (fn, wheel_bytes(record_mutate=lambda ls: [
        l.replace("sha256=", "sha256=+/") if "__init__" in l else l
        for l in ls]), "record-syntax", {}, "__init__.py", "bad base64")
    yield (fn, wheel_bytes(record_mutate=lambda ls: [
        l.split(",")[0] + ",sha256=" + l.split(",")[1][7:] + ","
        if "__init__" in l else l for l in ls]),
        "record-syntax", {}, "__init__.py", "hash without size")
    for algo in ("md5", "sha1"):
        def mut(ls, algo=algo):
            out = []
            for l in ls:
                if "__init__" in l:
                    d = getattr(hashlib, algo)(b"VALUE = 42\n").digest()
                    l = "demo_pkg/__init__.py,%s=%s,11" % (
                        algo, base64.urlsafe_b64encode(d).rstrip(b"=")
                        .decode())
                out.append(l)
            return out
        yield (fn, wheel_bytes(record_mutate=mut), "record-hash-algo", {},
               algo, algo + " in RECORD")
    yield (fn, wheel_bytes(record_mutate=lambda ls: [
        l.replace(b64(b"VALUE = 42\n"), b64(b"VALUE = 43\n")) for l in ls]),
        "record-hash", {}, "__init__.py", "digest mismatch")
    yield (fn, wheel_bytes(record_mutate=lambda ls: [
        l[:-2] + "12" if l.endswith(",11") else l for l in ls]),
        "record-size", {}, "__init__.py", "size mismatch")
    yield (fn, wheel_bytes(files={"demo_pkg/__init__.py": b"",
                                  "demo_pkg/hidden.py": b"evil()\n"},
                           record_skip=("demo_pkg/hidden.py",)),
           "record-unlisted", {}, "hidden.py", "member not in RECORD")
    yield (fn, wheel_bytes(record_extra=(
        "demo_pkg/gone.py,sha256=%s,3" % b64(b"abc"),)),
        "record-extra", {}, "gone.py", "RECORD lists a missing file")
    yield (fn, wheel_bytes(record_mutate=lambda ls: ls + [
        l for l in ls if "__init__" in l]),
        "record-duplicate", {}, "__init__.py", "RECORD lists a path twice")
    yield (fn, wheel_bytes(record_extra=("%s/RECORD,," % di,)),
           "record-duplicate", {}, "RECORD", "RECORD lists itself twice")
    yield ("demo_pkg-1.0-py3-none-linux_%s.whl" % ELF_HOST_ARCH,
           wheel_bytes(tag="py3-none-linux_" + ELF_HOST_ARCH,
                       files={"demo_pkg/_bad.so":
                              b"\x7fELF\x02\x01\x01" + b"\0" * 9 + b"junk"}),
           "elf", {}, "_bad.so", "unreadable ELF")
    yield ("demo_pkg-1.0-py3-none-linux_%s.whl" % other_arch(),
           wheel_bytes(tag="py3-none-linux_" + other_arch(),
                       files={"demo_pkg/_lib.so": host_elf()}),
           "elf", {}, other_arch(), "ELF of another arch")
    yield ("demo_pkg-1.0-py3-none-linux_%s.whl" % ELF_HOST_ARCH,
           wheel_bytes(tag="py3-none-linux_" + ELF_HOST_ARCH,
                       files={"demo_pkg/_lib.so": host_elf()}),
           "elf", {"max_elf_size": 1000}, "_lib.so", "ELF over max_elf_size")

    # ---- malformed sdists ----
    sd = "demo_pkg-1.0.tar.gz"
    yield (sd, build_sdist(top="other-1.0"), "layout", {}, "other-1.0",
           "top dir of another project")
    yield (sd, build_sdist(members=[("!stray.txt", "file", b"x", None)]),
           "layout", {}, "stray.txt", "file outside the top dir")
    yield (sd, build_sdist(members=[("fifo", "fifo", None, None)]),
           "layout", {}, "fifo", "fifo member")
    yield (sd, build_sdist(members=[("evil", "sym", None, "../../etc/passwd")]),
           "link", {}, "evil", "symlink escaping the tree")
    yield (sd, build_sdist(members=[("evil", "sym", None, "/etc/passwd")]),
           "link", {}, "evil", "absolute symlink")
    yield (sd, build_sdist(members=[("evil", "hard", None, "/etc/passwd")]),
           "link", {}, "evil", "hard link outside")
    yield ("demo_pkg-1.0.zip",
           build_sdist(fmt="zip", members=[("evil", "sym", None, "/etc/x")]),
           "link", {}, "evil", "zip sdist absolute symlink")
    yield (sd, build_sdist(members=[("!../evil.py", "file", b"x", None)]),
           "traversal", {}, "evil.py", "tar traversal")
    yield (sd, build_sdist(members=[("!/tmp/evil.py", "file", b"x", None)]),
           "absolute-path", {}, "evil.py", "tar absolute")
    yield (sd, build_sdist(members=[("setup.py", "file", b"again", None)]),
           "duplicate", {}, "setup.py", "tar duplicate member")
    yield sd, build_sdist(pkginfo=False), "metadata", {}, "PKG-INFO", \
        "PKG-INFO missing"
    yield (sd, build_sdist(pkginfo=pkg_info("demo_pkg", "2.0")),
           "metadata-mismatch", {}, "2.0", "PKG-INFO version")
    whole = build_sdist(members=[("data.txt", "file", os.urandom(200000),
                                  None)])
    yield sd, whole[:len(whole) // 2], "truncated", {}, None, "tar.gz cut"
    yield sd, build_sdist(fmt="tar"), "format", {}, None, \
        "uncompressed tar named .tar.gz"
    yield (sd, build_sdist(members=[("big.txt", "file", b"a" * 9000, None)]),
           "member-too-big", {"max_member_size": 8192}, "big.txt",
           "sdist member over max_member_size")
    yield (sd, build_sdist(members=[("m%d" % i, "file", b"", None)
                                    for i in range(40)]),
           "too-many-members", {"max_members": 30}, None, "sdist members")
    yield (sd, build_sdist(members=[("zeros", "file", bytes(40 << 20),
                                     None)]),
           "ratio", {}, None, "sdist of zeros")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    manifest = []
    for i, (name, data, expect, limits, mention, note) in enumerate(cases()):
        d = os.path.join(out, "%03d" % i)
        os.makedirs(d, exist_ok=True)
        path = os.path.abspath(os.path.join(d, name))
        with open(path, "wb") as f:
            f.write(data)
        manifest.append({"file": path, "expect": expect, "limits": limits,
                         "mention": mention, "note": note})
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print("%d fixtures in %s" % (len(manifest), out))


if __name__ == "__main__":
    main()
