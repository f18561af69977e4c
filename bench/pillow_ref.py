#!/usr/bin/env python3
"""Reference implementation of the exercise, used as a baseline by bench/compare.sh.

One threading.Thread per image, each doing
    Image.open(src).save(dst, "JPEG", optimize=True, quality=30)
then join them all and print the total sizes before/after. With --sequential the
same work runs in a plain loop on the main thread.

Usage: pillow_ref.py [--sequential] [-q N] [-o OUTDIR] [INPUT ...]
INPUT is a folder (its *.jpg / *.jpeg files, any case) or a file; default IMAGES.
Outputs keep the input's file name, so they can be matched back to their source.
"""
import argparse
import os
import sys
import threading

from PIL import Image


def compress(src, dst, quality):
    # Exactly the exercise's one-liner: no exif/icc_profile passed, so Pillow
    # writes neither (all metadata dropped); default subsampling is 4:2:0.
    Image.open(src).save(dst, "JPEG", optimize=True, quality=quality)


def collect(inputs):
    files = []
    for p in inputs:
        if os.path.isdir(p):
            for name in sorted(os.listdir(p)):
                full = os.path.join(p, name)
                if os.path.isfile(full) and name.lower().endswith((".jpg", ".jpeg")):
                    files.append(full)
        else:
            files.append(p)
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="*", default=["IMAGES"])
    ap.add_argument("-o", "--output", default="COMPRESSED_IMAGES")
    ap.add_argument("-q", "--quality", type=int, default=30)
    ap.add_argument("--sequential", action="store_true", help="no threads: a plain loop")
    args = ap.parse_args()

    files = collect(args.inputs)
    os.makedirs(args.output, exist_ok=True)
    jobs = [(src, os.path.join(args.output, os.path.basename(src))) for src in files]

    errors = []

    def run(src, dst):
        try:
            compress(src, dst, args.quality)
        except Exception as e:  # keep going, like the threaded version would
            errors.append(f"{src}: {e}")

    if args.sequential:
        for src, dst in jobs:
            run(src, dst)
    else:
        threads = [threading.Thread(target=run, args=job) for job in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    before = sum(os.path.getsize(src) for src, _ in jobs)
    after = sum(os.path.getsize(dst) for _, dst in jobs if os.path.exists(dst))
    print(f"{len(jobs)} images: {before} bytes before, {after} bytes after"
          + (f" ({after / before:.1%})" if before else ""))
    for e in errors:
        print("error:", e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
