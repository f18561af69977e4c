#!/usr/bin/env python3
"""Helper of bench/compare.sh: corpus statistics and per-tool output scoring.

  score.py corpus LIST
      LIST: NUL-separated source files. Prints (tab-separated):
      files  bytes  megapixels

  score.py tool LIST OUTDIR [--dssim PATH]
      Matches every source to OUTDIR/<same file name> and prints (tab-separated):
      outputs_found  output_bytes  mean_dssim|n/a  scored  formats
      mean_dssim is the mean over images of `dssim SRC OUT` (kornelski's
      multi-scale SSIM in a perceptual colour space, 1/SSIM - 1: 0 = identical,
      lower is better). formats summarises the outputs' JPEG chroma subsampling
      and progressive flag, e.g. "4:2:0 x3, progressive x0".

Pixel counts come from the JPEG headers (Pillow opens lazily; nothing is decoded).
"""
import os
import subprocess
import sys
from collections import Counter

from PIL import Image, JpegImagePlugin


def read_list(path):
    with open(path, "rb") as f:
        return [os.fsdecode(p) for p in f.read().split(b"\0") if p]


def find_output(outdir, src):
    name = os.path.basename(src)
    cand = os.path.join(outdir, name)
    if os.path.isfile(cand):
        return cand
    # Tolerate a tool that changes the extension's case or .jpeg <-> .jpg.
    stem = os.path.splitext(name)[0].lower()
    for other in os.listdir(outdir):
        s, e = os.path.splitext(other)
        if s.lower() == stem and e.lower() in (".jpg", ".jpeg"):
            return os.path.join(outdir, other)
    return None


SAMPLING = {0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}


def describe(path):
    try:
        with Image.open(path) as im:
            if im.format != "JPEG":
                return f"not JPEG ({im.format})", False
            if im.mode == "L":
                sub = "grey"
            else:
                sub = SAMPLING.get(JpegImagePlugin.get_sampling(im), "other")
            return sub, bool(im.info.get("progressive") or im.info.get("progression"))
    except Exception as e:  # unreadable output: report, do not crash the benchmark
        return f"unreadable ({type(e).__name__})", False


def dssim_of(dssim, src, out):
    r = subprocess.run([dssim, src, out], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    try:
        return float(r.stdout.split()[0])
    except (IndexError, ValueError):
        return None


def cmd_corpus(lst):
    files = read_list(lst)
    total_bytes = sum(os.path.getsize(f) for f in files)
    px = 0
    for f in files:
        with Image.open(f) as im:
            w, h = im.size
        px += w * h
    print(f"{len(files)}\t{total_bytes}\t{px / 1e6:.3f}")


def cmd_tool(lst, outdir, dssim):
    files = read_list(lst)
    found = 0
    out_bytes = 0
    scores = []
    subs = Counter()
    progressive = 0
    for src in files:
        out = find_output(outdir, src) if os.path.isdir(outdir) else None
        if out is None:
            continue
        found += 1
        out_bytes += os.path.getsize(out)
        sub, prog = describe(out)
        subs[sub] += 1
        progressive += prog
        if dssim:
            s = dssim_of(dssim, src, out)
            if s is not None:
                scores.append(s)
    mean = f"{sum(scores) / len(scores):.6f}" if scores else "n/a"
    fmt = ", ".join(f"{k} x{v}" for k, v in sorted(subs.items()))
    fmt = (fmt + ", " if fmt else "") + f"progressive x{progressive}"
    print(f"{found}\t{out_bytes}\t{mean}\t{len(scores)}\t{fmt}")


def main(argv):
    if len(argv) >= 2 and argv[0] == "corpus":
        cmd_corpus(argv[1])
    elif len(argv) >= 3 and argv[0] == "tool":
        dssim = None
        if len(argv) >= 5 and argv[3] == "--dssim":
            dssim = argv[4]
        cmd_tool(argv[1], argv[2], dssim)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
