#!/usr/bin/python3
"""make_index_corpus.py OUTDIR: the wheels for bench/indexd_bench.sh.

From bench/data/top1000.tsv (a copy of ../shared/data/pypi-top1000.tsv):
1000 real project names, each with 5 releases of 2 wheels (a pure one and
a cp311 manylinux one) = 10 files; one project with 2000 releases; and a
project holding a 20 KB and a 5 MB wheel for the file benchmarks.
Wheels are real (METADATA, WHEEL, RECORD) and go through indexctl import.
Deterministic apart from the random padding of the two big files.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "lib"))
from indexd_harness import make_wheel  # noqa: E402


def releases(latest):
    """Five plausible versions ending at the project's latest."""
    parts = [p for p in latest.split(".") if p.isdigit()][:3]
    if len(parts) < 2:
        parts = ["1", "0"]
    major, minor = int(parts[0]), int(parts[1])
    out = []
    for i in range(5):
        m = minor - (4 - i)
        if m >= 0:
            out.append("%d.%d.0" % (major, m))
        else:
            out.append("%d.0.%d" % (max(major - 1, 0), 10 + i))
    return out


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    names = []
    with open(os.path.join(HERE, "data", "top1000.tsv")) as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if cols and cols[0]:
                names.append((cols[0], cols[1] if len(cols) > 1 else ""))
    n = 0
    for name, latest in names[:1000]:
        d = os.path.join(out, "projects", name[:2].lower())
        for v in releases(latest or "1.0"):
            make_wheel(d, name, v, requires_python=">=3.8",
                       requires_dist=["requests>=2"], module="m_" +
                       name.lower().replace("-", "_").replace(".", "_"))
            make_wheel(d, name, v, tag="cp311-cp311-manylinux_2_17_x86_64",
                       module="m_" + name.lower().replace("-", "_")
                       .replace(".", "_"))
            n += 2
    big = os.path.join(out, "big")
    for i in range(2000):
        make_wheel(big, "bench-many-versions", "%d.%d.%d" %
                   (i // 100, (i // 10) % 10, i % 10),
                   requires_python=">=3.8")
        n += 1
    files = os.path.join(out, "files")
    make_wheel(files, "bench-files", "1.0", payload_size=20 * 1024 - 1400)
    make_wheel(files, "bench-files", "2.0", payload_size=5 * 1024 * 1024)
    n += 2
    print("%d wheels in %s" % (n, out))


if __name__ == "__main__":
    main()
