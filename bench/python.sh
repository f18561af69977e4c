#!/usr/bin/env bash
# bench/python.sh
#
# Per-core throughput of the Python API (the wheel built from python/) against the command, on
# CORPUS (default bench/corpus, i.e. its photos/, built by ../shared/bench/make_corpus.sh
# bench/corpus when missing; any folder of JPEGs works, e.g. CORPUS=IMAGES), under --strip at
# the default quality with ONE worker (--jobs 1 / jobs=1). RUNS rounds (default 5), each running
# every contender once (the order rotated from round to round), the output folder cleared
# before each run, outside the timed part:
#   1. cli: `photopress IN -o OUT --jobs 1 --strip --quiet`, the whole process's wall time;
#   2. compress_dir(IN, OUT, jobs=1, strip=True) in a fresh interpreter: the call alone
#      (perf_counter inside the process) and, apart, the whole process (start + import + call)
#      timed from outside like the command;
#   3. compress(open(f, 'rb').read(), strip=True) for every file in one thread, the loop timed
#      inside the process (it reads the files and writes nothing).
# Prints the medians, MB of input a second on one core (10^6 bytes) and each Python variant's
# throughput / the command's. The goal: the wheel at most 5 % slower than the command (ratio
# >= 0.95, on the in-process rows; marked, not failed on, as timings are noisy).
# Exits 1 when the command's and compress_dir's output byte totals differ, 2 on a set-up error.
# Environment: RUNS=5, CORPUS=bench/corpus, PYTHON=.tools/py-venv/bin/python,
# PHOTOPRESS=target/release/photopress (built with cargo when it is the default and missing).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
corpus=${CORPUS:-bench/corpus}
python=${PYTHON:-.tools/py-venv/bin/python}
bin=${PHOTOPRESS:-target/release/photopress}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be at least 1" >&2; exit 2; }
if [ -z "${CORPUS:-}" ] && [ ! -d bench/corpus/photos ]; then
  echo "building the corpus: ../shared/bench/make_corpus.sh bench/corpus" >&2 && ../shared/bench/make_corpus.sh bench/corpus >&2
fi
[ -d "$corpus/photos" ] && corpus=$corpus/photos
[ -d "$corpus" ] || { echo "no corpus at $corpus" >&2; exit 2; }
if [ -z "${PHOTOPRESS:-}" ] && [ ! -x "$bin" ]; then cargo build --release --quiet --bin photopress; fi
[ -x "$bin" ] || { echo "PHOTOPRESS=$bin is not an executable" >&2; exit 2; }
"$python" -c 'import photopress' || { echo "no photopress module in PYTHON=$python" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A private copy of the JPEGs alone, so that all three see the same files (a folder may hold
# others, e.g. IMAGES/SOURCES.md).
mkdir -p "$work/in"
find -L "$corpus" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' \) -exec cp -p -t "$work/in" {} +
[ -n "$(ls -A "$work/in")" ] || { echo "no .jpg/.jpeg files in $corpus" >&2; exit 2; }

# realpath -s: a venv's python keeps its own path (a symlink), or it loses its packages.
RUNS=$runs BIN=$(realpath "$bin") PY=$(realpath -s "$python") "$python" - "$work" "$corpus" <<'PY'
import json, os, platform, shutil, statistics, subprocess, sys, time
import photopress

work, corpus = sys.argv[1], sys.argv[2]
runs, cli, py = int(os.environ["RUNS"]), os.environ["BIN"], os.environ["PY"]
src, out = os.path.join(work, "in"), os.path.join(work, "out")
files = sorted(os.path.join(src, f) for f in os.listdir(src))
in_bytes = sum(os.path.getsize(f) for f in files)

# The child of 2. and 3.: prints (JSON) the seconds of the timed part, the import left out,
# and the output bytes.
CHILD = r"""
import json, sys, time
import photopress
mode, src, out, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
t0 = time.perf_counter()
if mode == "dir":
    t = photopress.compress_dir(src, out, jobs=1, strip=True).totals
    n, bad = t.output_bytes, t.failed + t.not_started + (t.threads != 1)
else:
    n = bad = 0
    for f in files:
        n += photopress.compress(open(f, "rb").read(), strip=True).output_bytes
print(json.dumps({"secs": time.perf_counter() - t0, "bytes": n, "bad": bad}))
"""

def die(msg):
    print(msg, file=sys.stderr); sys.exit(2)

def run(*argv):
    """Clears the output folder, runs argv: its whole process wall seconds and stdout."""
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.PIPE, text=True)
    t = time.perf_counter() - t0
    if p.returncode != 0:
        die(f"{' '.join(argv[:3])} ...: exit status {p.returncode}")
    return t, p.stdout

times, size = {k: [] for k in ("cli", "dir_call", "dir_proc", "loop")}, {}

def do_cli():
    t, _ = run(cli, src, "-o", out, "--jobs", "1", "--strip", "--quiet", "--progress", "never")
    times["cli"].append(t)
    size["cli"] = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
def do_dir():
    t, o = run(py, "-c", CHILD, "dir", src, out)
    r = json.loads(o)
    if r["bad"]: die("compress_dir: files failed or not started, or more than one thread")
    times["dir_proc"].append(t); times["dir_call"].append(r["secs"]); size["dir"] = r["bytes"]
def do_loop():
    r = json.loads(run(py, "-c", CHILD, "loop", src, out, *files)[1])
    times["loop"].append(r["secs"]); size["loop"] = r["bytes"]

order = [do_cli, do_dir, do_loop]
for i in range(runs):
    for f in order[i % 3:] + order[:i % 3]:
        f()
    print(f"round {i + 1}/{runs}: " + ", ".join(f"{k} {v[-1]:.3f} s" for k, v in times.items()), flush=True)

med = {k: statistics.median(v) for k, v in times.items()}
mbs = {k: in_bytes / 1e6 / s for k, s in med.items()}
ver = subprocess.run([cli, "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
print(f"\n{len(files)} photos from {corpus}, {in_bytes / 1e6:.1f} MB; {os.cpu_count()} cores; {ver}, "
      f"wheel {photopress.__version__}, Python {platform.python_version()}; medians of {runs}\n")
print("| --strip, one worker | median s | MB/s a core | Python / command | goal >= 0.95 |")
print("|---|---:|---:|---:|---|")
for k, name in [("cli", "command `--jobs 1`, whole process"),
                ("dir_call", "`compress_dir(jobs=1)`, the call"),
                ("dir_proc", "`compress_dir(jobs=1)`, whole process (start + import)"),
                ("loop", "`compress()` loop, one thread, no writes")]:
    ratio, goal = mbs[k] / mbs["cli"], "ok" if mbs[k] / mbs["cli"] >= 0.95 else "SLOWER"
    cells = ("", "") if k == "cli" else (f"{ratio:.3f}", goal + (" (not the goal's measure)" if k == "dir_proc" else ""))
    print(f"| {name} | {med[k]:.3f} | {mbs[k]:.2f} | {cells[0]} | {cells[1]} |")
print(f"\noutput bytes: command {size['cli']}, compress_dir {size['dir']}, compress() loop {size['loop']}")
if size["cli"] != size["dir"]:
    print("FAILED: the command and compress_dir wrote different byte totals", file=sys.stderr)
    sys.exit(1)
if size["loop"] != size["cli"]:
    print("warning: the compress() loop's bytes differ from the command's", file=sys.stderr)
PY
