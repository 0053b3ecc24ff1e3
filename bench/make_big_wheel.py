#!/usr/bin/python3
"""make_big_wheel.py OUTDIR [MB]: write a large, valid, realistic wheel.

The mix imitates big real wheels (numpy, scipy, torch: 70-80 members per
compressed MB): shared-library-like blobs of 0.5-6 MB that deflate about
2.5:1 (machine code is part noise, part repetition), and thousands of
Python modules of 2-40 KB that deflate about 4:1. Deterministic (seeded)
so runs compare. Prints the wheel's path.
"""
import base64
import hashlib
import os
import random
import sys
import zipfile

out = sys.argv[1]
target = int(sys.argv[2]) if len(sys.argv) > 2 else 110
rng = random.Random(20240601)
name, ver = "wwbench", "1.0"
path = os.path.join(out, "%s-%s-py3-none-any.whl" % (name, ver))
if os.path.exists(path):
    print(path)
    sys.exit(0)
os.makedirs(out, exist_ok=True)
words = ["self", "return", "value", "import", "def", "class", "for", "in",
         "None", "data", "result", "items", "key", "index", "config",
         "buffer", "offset", "length", "name", "version", "if", "else"]
record = []


def add(z, p, data):
    z.writestr(zipfile.ZipInfo(p, (2024, 1, 1, 0, 0, 0)), data,
               compress_type=zipfile.ZIP_DEFLATED)
    d = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    record.append("%s,sha256=%s,%d" % (p, d.decode(), len(data)))


tmp = path + ".tmp"
with zipfile.ZipFile(tmp, "w") as z:
    i = 0
    # about 60% of the compressed size: library-like blobs
    chunks = [rng.randbytes(64) for _ in range(512)]
    while os.path.getsize(tmp) < target * 0.6 * 1e6:
        size = rng.randint(512 << 10, 6 << 20)
        parts = []
        while sum(map(len, parts)) < size:
            if rng.random() < 0.3:
                parts.append(rng.randbytes(4096))
            else:
                parts.append(b"".join(rng.choice(chunks)
                                      for _ in range(64)))
        add(z, "%s/.libs/libblob%03d.so.1" % (name, i), b"".join(parts))
        i += 1
    i = 0
    while os.path.getsize(tmp) < target * 1e6:
        lines = []
        for n in range(rng.randint(30, 600)):
            lines.append("    " * rng.randint(0, 3) + " ".join(
                rng.choice(words) for _ in range(rng.randint(3, 12))) +
                "  # %d" % rng.randint(0, 1 << 30))
        add(z, "%s/mod%d/src%05d.py" % (name, i % 80, i),
            ("\n".join(lines) + "\n").encode())
        i += 1
    di = "%s-%s.dist-info" % (name, ver)
    add(z, di + "/METADATA", ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n"
                              % (name, ver)).encode())
    add(z, di + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: bench\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    record.append(di + "/RECORD,,")
    z.writestr(di + "/RECORD", "\n".join(record) + "\n")
os.rename(tmp, path)
print(path)
