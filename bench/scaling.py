#!/usr/bin/env python3
"""How the batch scales with threads: photopress at -j 1, 2, 4, ... and --sequential, and
(optionally) the threaded and sequential Pillow programs, on the same photos in one run.

Usage: scaling.py [--photopress [NAME=]BIN ...] [--threads 1,2,4,...] [--rounds 5]
                  [--warmup 1] [--copies 1] [--no-sequential] [--pillow] [--work DIR]
                  [--extra ARG ...] PHOTOS_DIR

Each round runs every configuration once, in turn (so a slow spell of the machine hits all of
them alike); a warm-up round goes first and is not counted. Reported per configuration: the
median wall time, the median CPU time (user + sys of the process and its threads),
the speed-up against photopress -j 1 and the efficiency (speed-up / threads). Threads default
to 1, 2, 4, 8, 12, 16, 24, 32 up to the machine's CPUs. --copies N makes a batch
of N copies of every photo (hard links where possible, under new names), for a batch that is
long against the thread count. Several --photopress builds (NAME=BIN) are measured in the same
rounds, each against its own -j 1; the Pillow rows' speed-up is against the last build's -j 1.
Only the Python standard library is used.
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time


def run(cmd):
    """Wall seconds and CPU seconds (user + sys) of one command; fails loudly on a non-zero exit.
    The CPU time is the growth of this process's waited-for children's usage (runs are one at a
    time); stderr is collected by communicate(), so a chatty run cannot fill the pipe and stall."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace")
        sys.exit(f"{' '.join(cmd)} exited with {proc.returncode}:\n{err}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def make_batch(photos, copies, work):
    """The input folder: `photos` itself, or `copies` renamed copies of each of its JPEGs."""
    if copies <= 1:
        return photos
    batch = os.path.join(work, f"batch-x{copies}")
    shutil.rmtree(batch, ignore_errors=True)
    os.makedirs(batch)
    names = sorted(n for n in os.listdir(photos) if n.lower().endswith((".jpg", ".jpeg")))
    for k in range(copies):
        for name in names:
            src = os.path.join(photos, name)
            dst = os.path.join(batch, f"c{k}_{name}")
            try:
                os.link(src, dst)
            except OSError:
                shutil.copyfile(src, dst)
    return batch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("photos")
    ap.add_argument("--photopress", action="append", default=[],
                    help="[NAME=]BIN, repeatable (default target/release/photopress)")
    ap.add_argument("--threads", default="", help="comma-separated (default: powers of two "
                    "and 12, 24 up to the CPUs)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1, help="rounds run first and not counted")
    ap.add_argument("--no-sequential", action="store_true", help="leave out --sequential")
    ap.add_argument("--copies", type=int, default=1)
    ap.add_argument("--pillow", action="store_true", help="also the Pillow programs")
    ap.add_argument("--work", default="/tmp/photopress-scaling")
    ap.add_argument("--quality", default="30")
    ap.add_argument("--extra", action="append", default=[], help="more photopress arguments")
    args = ap.parse_args()

    threads = [int(t) for t in args.threads.split(",") if t] or [
        t for t in (1, 2, 4, 8, 12, 16, 24, 32) if t <= (os.cpu_count() or 1)]
    os.makedirs(args.work, exist_ok=True)
    batch = make_batch(args.photos, args.copies, args.work)
    count = len([n for n in os.listdir(batch) if n.lower().endswith((".jpg", ".jpeg"))])
    out = os.path.join(args.work, "out")
    here = os.path.dirname(os.path.abspath(__file__))

    builds = []
    for spec in args.photopress or ["target/release/photopress"]:
        name, _, binary = spec.rpartition("=")
        builds.append((name or ("photopress" if len(args.photopress) <= 1 else binary), binary))
    configs = []
    for label, binary in builds:
        base = [binary, "--quiet", "--progress", "never", "--strip", "--prefix", "",
                "-q", args.quality, "-o", out] + args.extra
        configs += [(f"{label} -j {t}", base + ["-j", str(t), batch]) for t in threads]
        if not args.no_sequential:
            configs.append((f"{label} --sequential", base + ["--sequential", batch]))
    if args.pillow:
        ref = [sys.executable, os.path.join(here, "pillow_ref.py"), "-q", args.quality, "-o", out]
        configs.append(("Pillow (thread per image)", ref + [batch]))
        configs.append(("Pillow --sequential", ref + ["--sequential", batch]))

    walls = {name: [] for name, _ in configs}
    cpus = {name: [] for name, _ in configs}
    for rnd in range(args.warmup + args.rounds):
        for name, cmd in configs:
            shutil.rmtree(out, ignore_errors=True)
            wall, cpu = run(cmd)
            if rnd >= args.warmup:
                walls[name].append(wall)
                cpus[name].append(cpu)
        warm = " (warm-up)" if rnd < args.warmup else ""
        print(f"round {rnd + 1}{warm} done", file=sys.stderr, flush=True)

    print(f"{count} photos from {args.photos} (x{args.copies}), {args.rounds} rounds, "
          f"{os.cpu_count()} CPUs; medians; speed-ups against the same build's -j {threads[0]}")
    print("| Run | Wall | CPU (user+sys) | Speed-up | Efficiency |")
    print("|---|---:|---:|---:|---:|")
    base_wall = None
    for name, _ in configs:
        w = statistics.median(walls[name])
        c = statistics.median(cpus[name])
        label = name.rsplit(" -j ", 1)[0] if " -j " in name else None
        if label is not None and name == f"{label} -j {threads[0]}":
            base_wall = w
        ratio = f"{base_wall / w:.2f}x" if base_wall else ""
        per = ""
        if base_wall and " -j " in name:
            per = f"{100 * base_wall / w / int(name.rsplit(' -j ', 1)[1]):.0f} %"
        print(f"| {name} | {w:.3f} s | {c:.3f} s | {ratio} | {per} |")

if __name__ == "__main__":
    main()
