#!/usr/bin/env bash
# bench/scaling.sh [PHOTOS_DIR [THREADS...]]
#
# How the batch scales with cores: the wall time of one photopress run over COPIES copies of a
# photo folder at each thread count (-j N, default 1 2 4 8 12 16, capped at nproc), the median
# of RUNS runs, and the speed-up against -j 1 and against --sequential (no pool). Default
# settings (auto method, quality 30); outputs go to a scratch folder that is emptied before
# every run, so each run does the whole job. The copies (hard links where the file system
# allows) give the pool enough photos that the last big one does not dominate the tail.
# Prints one markdown table: threads | median wall s | that run's user+sys CPU s | speed-up
# vs -j 1 | vs --sequential | efficiency (speed-up / threads).
#
# PHOTOS_DIR: a folder of .jpg files (default: bench/corpus/photos, from
#   ../shared/bench/make_corpus.sh).
# Environment:
#   RUNS=3          runs per thread count (the median is printed)
#   COPIES=4        copies of the folder in the input
#   PHOTOPRESS=PATH the binary (default: cargo build --release, target/release/photopress)
#   WORK=DIR        scratch folder (default: a mktemp folder, removed at the end)
set -euo pipefail

RUNS=${RUNS:-3}
COPIES=${COPIES:-4}
src=${1:-bench/corpus/photos}
shift || true
threads=("$@")
cores=$(nproc)
if [ ${#threads[@]} -eq 0 ]; then
    threads=()
    for t in 1 2 4 8 12 16 24 32; do
        [ "$t" -le "$cores" ] && threads+=("$t")
    done
fi

log() { printf '[scaling] %s\n' "$*" >&2; }
[ -d "$src" ] || { log "error: no folder $src"; exit 1; }

bin=${PHOTOPRESS:-}
if [ -z "$bin" ]; then
    cargo build --release --quiet
    bin=target/release/photopress
fi

work=${WORK:-$(mktemp -d)}
cleanup() { [ -n "${WORK:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/in"
for c in $(seq 1 "$COPIES"); do
    mkdir -p "$work/in/copy$c"
    cp -l "$src"/*.jpg "$work/in/copy$c/" 2>/dev/null || cp "$src"/*.jpg "$work/in/copy$c/"
done
n=$(find "$work/in" -name '*.jpg' | wc -l)
mp=$(find "$work/in" -name '*.jpg' -printf '%s\n' | awk '{s += $1} END {print s}')
log "$n photos ($mp bytes) in $COPIES copies, $cores cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- || true)"

# One timed run: prints its wall seconds and its user+sys CPU seconds.
run_once() {
    rm -rf "$work/out"
    local TIMEFORMAT='%R %U %S'
    { time "$bin" "$@" -r -o "$work/out" "$work/in" >"$work/last.log" 2>&1; } 2>"$work/time" || {
        log "error: photopress failed:"; tail -5 "$work/last.log" >&2; exit 1; }
    awk '{print $1, $2 + $3}' "$work/time"
}

# The run with the median wall time, of several (wall cpu lines).
median() { sort -g | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }

# Warm the page cache and check the job once.
run_once -j "${threads[-1]}" >/dev/null
grep -E 'Total compressed files size|Methods' "$work/last.log" >&2 || true

read -r seq_s seq_cpu < <(for _ in $(seq 1 "$RUNS"); do run_once --sequential; done | median)
printf '| threads | median wall s (of %s) | its CPU s | speed-up vs -j 1 | vs --sequential | efficiency |\n' "$RUNS"
printf '|---:|---:|---:|---:|---:|---:|\n'
printf '| --sequential | %.2f | %.2f | | 1.00x | |\n' "$seq_s" "$seq_cpu"
base=""
for t in "${threads[@]}"; do
    read -r s cpu < <(for _ in $(seq 1 "$RUNS"); do run_once -j "$t"; done | median)
    [ -n "$base" ] || base=$s
    awk -v t="$t" -v s="$s" -v c="$cpu" -v b="$base" -v q="$seq_s" \
        'BEGIN {printf "| %s | %.2f | %.2f | %.2fx | %.2fx | %.0f %% |\n", t, s, c, b / s, q / s, 100 * b / s / t}'
done
