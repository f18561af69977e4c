#!/usr/bin/env bash
# bench/fleet.sh [N...]: time and peak memory of the array job's whole-job steps, `photopress
# plan` and `photopress report`, on synthetic jobs of N keys (default: 100000 1000000).
#
# For each N it makes (once, kept in $WORK; bench/fleet_gen.py):
#   - tree-N: N empty .jpg files, 1000 a folder, two levels deep (000/00/IMG_00000000.jpg);
#   - job-N/_photopress/n$SHARDS: the manifests of a job of $SHARDS shards that wrote N
#     records (the format and part layout of a real run; retries, failures, kept originals, a
#     few keys done twice or with other settings);
# and measures, with /usr/bin/time (wall seconds, peak RSS):
#   - list:   the listing alone, `find -L tree-N -name '*.jpg' -printf '%P\t%s\n'` (every name
#             and size, what the key lists hold; find stats each entry, as the plan does, but
#             neither sorts a folder's names nor hashes nor writes);
#   - plan:   `photopress plan tree-N -r --shard-count $SHARDS --to plan-N`;
#   - report: `photopress report job-N/_photopress/n$SHARDS` (text) and `... --json`;
# each $RUNS times (median printed, with every run's time; the largest peak), for $PHOTOPRESS
# and, when set, $BASE (an older binary: its runs first). With $BASE it also checks that both wrote the same key lists (cmp) and the same
# report (the JSON document, `summed_ms` to 1e-9: the older report added durations in a hash
# table's order) and prints SAME or DIFFERENT.
#
# Environment: PHOTOPRESS (default target/release/photopress), BASE (none), SHARDS (1000),
# RUNS (3), WORK (/tmp/pp-fleet; trees of 10^7 files take 10^7 inodes and a few minutes to
# make: check `df -i`), SKIP_BASE_ABOVE (N above which BASE is not run, default 1000000: the
# older report holds about 1.6 KB a record, 16 GB at 10^7), KEEP (1: keep the plans' folders;
# the trees and manifests are always kept for the next run: rm -rf $WORK when done).
# The caches are warmed before each N, but a tree of 10^7 files does not stay in them from one
# step to the next on a small machine: compare the runs' times, not only the median.
#
# Example (before/after a change):
#   git worktree add /tmp/pp-base HEAD~1 && (cd /tmp/pp-base && cargo build --release)
#   cargo build --release && BASE=/tmp/pp-base/target/release/photopress bench/fleet.sh
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
PHOTOPRESS=${PHOTOPRESS:-$HERE/../target/release/photopress}
BASE=${BASE:-}
SHARDS=${SHARDS:-1000}
RUNS=${RUNS:-3}
WORK=${WORK:-/tmp/pp-fleet}
SKIP_BASE_ABOVE=${SKIP_BASE_ABOVE:-1000000}
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(100000 1000000)
mkdir -p "$WORK"
echo "photopress: $PHOTOPRESS${BASE:+, base: $BASE}; $SHARDS shards, $RUNS runs; $(nproc) cores"

# measure LABEL CMD...: runs CMD (stdout to $WORK/out), prints "LABEL  S s  KB KB"; sets
# $SECONDS_TAKEN and $PEAK_KB.
measure() {
  local label=$1
  shift
  /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" > "$WORK/out" 2> "$WORK/err" || {
    local rc=$?
    # plan and report exit 1 for a job with problems (the synthetic one has some).
    if [ $rc -ne 1 ]; then
      echo "$label: exit $rc" >&2
      tail -5 "$WORK/err" >&2
      exit 1
    fi
  }
  read -r SECONDS_TAKEN PEAK_KB < <(tail -1 "$WORK/time")
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# runs LABEL N CMD...: RUNS runs, prints the median time and the largest peak RSS.
declare -A RESULT
runs() {
  local label=$1 n=$2
  shift 2
  local times=() peaks=()
  for _ in $(seq "$RUNS"); do
    measure "$label" "$@"
    times+=("$SECONDS_TAKEN")
    peaks+=("$PEAK_KB")
  done
  local t m
  t=$(printf '%s\n' "${times[@]}" | median)
  m=$(printf '%s\n' "${peaks[@]}" | sort -n | tail -1)
  RESULT[$label,$n]="$t $m"
  printf '%-16s N=%-9s %8.2f s  %8.1f MB peak  (runs: %s)\n' "$label" "$n" "$t" \
    "$(echo "$m / 1024" | bc -l)" "${times[*]}"
}

for n in "${SIZES[@]}"; do
  tree=$WORK/tree-$n
  job=$WORK/job-$n
  if [ ! -e "$tree/.done" ]; then
    echo "making $tree ($n files)..."
    rm -rf "$tree"
    python3 "$HERE/fleet_gen.py" tree "$tree" "$n"
    touch "$tree/.done"
  fi
  if [ ! -e "$job/.done" ]; then
    echo "making $job ($n records, $SHARDS shards)..."
    rm -rf "$job"
    python3 "$HERE/fleet_gen.py" manifests "$job" "$n" "$SHARDS"
    touch "$job/.done"
  fi
  manifests=$job/_photopress/n$SHARDS
  echo "N=$n: $(du -sh "$manifests" | cut -f1) of manifests in $(find "$manifests" -name '*.ndjson' | wc -l) parts"
  # Warm the caches: every run reads from memory, not from the disk.
  find -L "$tree" > /dev/null
  find "$manifests" -name '*.ndjson' -exec cat {} + > /dev/null

  bins=(after)
  if [ -n "$BASE" ] && [ "$n" -le "$SKIP_BASE_ABOVE" ]; then bins=(before after); fi
  runs list "$n" find -L "$tree" -name '*.jpg' -printf '%P\t%s\n'
  for bin in "${bins[@]}"; do
    exe=$PHOTOPRESS
    [ "$bin" = before ] && exe=$BASE
    rm -rf "$WORK/plan-$n-$bin"
    runs "plan $bin" "$n" "$exe" plan "$tree" -r --shard-count "$SHARDS" --to "$WORK/plan-$n-$bin"
    cp "$WORK/out" "$WORK/plan-$n-$bin.txt"
    runs "report $bin" "$n" "$exe" report "$manifests"
    cp "$WORK/out" "$WORK/report-$n-$bin.txt"
    runs "report --json $bin" "$n" "$exe" report "$manifests" --json
    cp "$WORK/out" "$WORK/report-$n-$bin.json"
  done
  read -r list_s _ <<< "${RESULT[list,$n]}"
  read -r plan_s _ <<< "${RESULT[plan after,$n]}"
  printf 'plan / listing alone at N=%s: %.2f\n' "$n" "$(echo "$plan_s / $list_s" | bc -l)"
  if [ ${#bins[@]} -eq 2 ]; then
    same=SAME
    for k in $(seq 0 $((SHARDS - 1))) json; do
      f=shard-$k.keys
      [ "$k" = json ] && f=plan.json
      cmp -s "$WORK/plan-$n-before/$f" "$WORK/plan-$n-after/$f" || { same="DIFFERENT ($f)"; break; }
    done
    echo "key lists before/after at N=$n: $same"
    python3 - "$WORK/report-$n-before.json" "$WORK/report-$n-after.json" \
      "$WORK/report-$n-before.txt" "$WORK/report-$n-after.txt" <<'EOF'
import json, sys
before, after = (json.load(open(p)) for p in sys.argv[1:3])
sb, sa = before.pop("summed_ms"), after.pop("summed_ms")
same = before == after and abs(sb - sa) <= 1e-9 * max(1.0, abs(sb))
text_same = open(sys.argv[3]).read() == open(sys.argv[4]).read()
print(f"report before/after: JSON {'SAME' if same else 'DIFFERENT'} (summed_ms {sb!r} / {sa!r}), "
      f"text {'SAME' if text_same else 'DIFFERENT'}")
EOF
  fi
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$WORK"/plan-"$n"-*; fi
done
