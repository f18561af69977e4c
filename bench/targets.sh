#!/usr/bin/env bash
# bench/targets.sh [CORPUS_DIR] [N] [SCORE]
#
# --target-quality against fixed qualities on the first N photos (by name; default all) of a
# corpus (default bench/corpus/photos, built by ../shared/bench/make_corpus.sh bench/corpus),
# every run under --strip (image bytes only) with the default number of jobs:
#   1. RUNS (default 3) alternated runs of --target-quality ssimulacra2:SCORE (default 70) and
#      of -q FIXED (default 71): the median wall time of each and their ratio (the issue's
#      done-means: at most 15x), the peak memory (max RSS, /usr/bin/time) of each;
#   2. the candidates each photo's search encoded (--json `candidates`): mean and max;
#   3. every written photo's score as --json reports it (full resolution) and the same scored
#      again independently: input and output decoded by the system's `djpeg -ppm`
#      (libjpeg-turbo's tool, not photopress's build of the codec), scored by the ssimulacra2
#      crate's own entry point (examples/ssimulacra2.rs --djpeg); must hold: no independent
#      score below SCORE, |reported - independent| <= 0.2;
#   4. the fixed quality with the same worst case: the lowest whose worst independent score
#      reaches SCORE, looked for from the highest quality the search chose down
#      (scores grow with quality), run with -q, scored again the same way: bytes target /
#      fixed must be <= 0.80;
#   5. the scorer alone (examples/score_speed.rs): megapixels per second of one score of a
#      prepared reference, one thread, median of SPEED_RUNS (default 3), on 3 of the photos
#      (smallest, middle, biggest file) against their -q FIXED outputs;
#   6. --target-size SIZE (default 25%; SIZE= skips it): how many outputs fit, wall time.
# Ends with a markdown table for docs/benchmarks.md. Exits 1 when a "must" above fails (after
# printing everything), 2 on a usage or set-up error.
# Environment: RUNS=3, FIXED=71, SIZE=25%, SPEED_RUNS=3, SCORE_JOBS (parallel independent
# scorers; default: the cores, capped at one per 4 GB available, the crate's ~160 B a pixel),
# KEEP_WORK=1 keeps the scratch folder.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-bench/corpus/photos}
n=${2:-0}
score=${3:-70}
runs=${RUNS:-3}
fixed=${FIXED:-71}
size=${SIZE-25%}
speed_runs=${SPEED_RUNS:-3}
[[ $n =~ ^[0-9]+$ ]] || { echo "N must be a whole number (0: all)" >&2; exit 2; }
[[ $score =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "SCORE must be a number" >&2; exit 2; }
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be at least 1" >&2; exit 2; }
[[ $speed_runs =~ ^[1-9][0-9]*$ ]] || { echo "SPEED_RUNS must be at least 1" >&2; exit 2; }
[[ $fixed =~ ^[1-9][0-9]?$|^100$ ]] || { echo "FIXED must be 1..100" >&2; exit 2; }
command -v djpeg >/dev/null || { echo "no djpeg (libjpeg-turbo-progs) on PATH" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "no /usr/bin/time (GNU time) for the peak memory" >&2; exit 2; }
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_setup "$corpus" "$n"
[ "${#photos[@]}" -gt 0 ] || { echo "no JPEG in $corpus" >&2; exit 2; }
cargo build --release --quiet --example score_speed
speed=target/release/examples/score_speed
# The processor, for the MP/s: the same count of cores can be twice as fast on another kind.
cpu=$(awk -F': ' '/^model name/ {n = $2} /^cpu family/ {f = $2} /^model\t/ {m = $2}
  END {if (n != "") print n ", family " f " model " m}' /proc/cpuinfo 2>/dev/null || true)
echo "photos: ${#photos[@]} from $corpus, $(du -shL "$work/in" | cut -f1); $(nproc) cores (${cpu:-unknown CPU}); $(djpeg -version 2>&1 | head -1)"

# timed NAME ARGS...: photopress on the photos into a fresh $work/NAME with ARGS, under
# --strip, its --json into $work/NAME.json and its peak memory (KB) into $work/NAME.rss;
# prints the wall seconds. A failed run stops the script.
timed() {
  local name=$1 t0 t1 rc=0
  shift
  rm -rf "${work:?}/$name"
  t0=$(date +%s.%N)
  /usr/bin/time -f %M -o "$work/$name.time" "$bin" "$work/in" -o "$work/$name" --strip --json \
    --progress never --quiet "$@" >"$work/$name.json" || rc=$?
  t1=$(date +%s.%N)
  if [ "$rc" -ne 0 ]; then
    echo "photopress $* (run $name): exit status $rc" >&2
    exit 2
  fi
  tail -1 "$work/$name.time" >"$work/$name.rss"
  printf '%.3f\n' "$(echo "$t1 - $t0" | bc)"
}
# total JSON: the output bytes of a run.
total() { python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['totals']['output_bytes'])" "$1"; }
# median FILE: the median of the numbers of FILE, one a line.
median() { python3 -c "import statistics,sys;print(f'{statistics.median(float(l) for l in open(sys.argv[1])):.3f}')" "$1"; }
# independent JSON SCORES: every written output of a run scored again (--djpeg), in parallel;
# lines `SCORE<TAB>OUTPUT`.
independent() {
  python3 - "$1" <<'PY' | xargs -0 -r -n 2 -P "$score_jobs" "$scorer" --djpeg >"$2"
import json, sys
for f in json.load(open(sys.argv[1]))["files"]:
    if f["status"] == "compressed":
        sys.stdout.write(f["input"] + "\0" + f["output"] + "\0")
PY
}
mem_kb=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
score_jobs=${SCORE_JOBS:-$(( mem_kb / 4000000 < $(nproc) ? mem_kb / 4000000 : $(nproc) ))}
[ "$score_jobs" -ge 1 ] || score_jobs=1

# 1. Alternated runs.
: >"$work/t_target" && : >"$work/t_fixed" && : >"$work/rss_target" && : >"$work/rss_fixed"
for i in $(seq 1 "$runs"); do
  t=$(timed tq --target-quality "ssimulacra2:$score")
  echo "$t" >>"$work/t_target" && cat "$work/tq.rss" >>"$work/rss_target"
  f=$(timed "q$fixed" -q "$fixed")
  echo "$f" >>"$work/t_fixed" && cat "$work/q$fixed.rss" >>"$work/rss_fixed"
  echo "run $i/$runs: --target-quality ssimulacra2:$score $t s ($(cat "$work/tq.rss") KB), -q $fixed $f s ($(cat "$work/q$fixed.rss") KB)"
done
t_target=$(median "$work/t_target")
t_fixed=$(median "$work/t_fixed")
time_ratio=$(python3 -c "print(f'{$t_target / $t_fixed:.1f}')")
rss_target=$(( $(sort -n "$work/rss_target" | tail -1) / 1024 ))
rss_fixed=$(( $(sort -n "$work/rss_fixed" | tail -1) / 1024 ))

# 2.-3. The last target run: candidates, reported and independent scores.
independent "$work/tq.json" "$work/tq.scores"
python3 - "$work/tq.json" "$work/tq.scores" "$score" >"$work/tq.report" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
indep = {}
for line in open(sys.argv[2]):
    s, path = line.rstrip("\n").split("\t", 1)
    indep[path] = float(s)
target = float(sys.argv[3])
files = d["files"]
cands = [f["candidates"] for f in files if f.get("candidates") is not None]
below, diffs, quals, other = 0, [], [], []
print("| photo | quality | reported | independent | reported - independent |")
print("|---|---:|---:|---:|---:|")
for f in files:
    name = os.path.basename(f["input"])
    if f["status"] != "compressed":
        other.append(f"{name}: {f['status']}" + (f": {f['error']}" if f.get("error") else ""))
        continue
    rep, ind = f.get("score"), indep[f["output"]]
    quals.append(f["quality"])
    below += ind < target
    rep_s = "-" if rep is None else f"{rep:.3f}"
    diff = "-" if rep is None else f"{rep - ind:+.4f}"
    if rep is not None:
        diffs.append(abs(rep - ind))
    print(f"| {name} | {f['quality']} | {rep_s} | {ind:.4f} | {diff} |")
for o in other:
    print(f"not written: {o}")
# Key=value lines for the shell (prefixed with '=').
print(f"=cand_mean={sum(cands) / len(cands):.2f}" if cands else "=cand_mean=-")
print(f"=cand_max={max(cands)}" if cands else "=cand_max=-")
print(f"=written={len(quals)}")
print(f"=not_written={len(other)}")
print(f"=missing_scores={sum(1 for f in files if f['status'] == 'compressed' and f.get('score') is None)}")
print(f"=below={below}")
print(f"=maxdiff={max(diffs):.4f}" if diffs else "=maxdiff=-")
print(f"=qmin={min(quals)}" if quals else "=qmin=-")
print(f"=qmax={max(quals)}" if quals else "=qmax=-")
print(f"=worst={min(indep.values()):.4f}" if indep else "=worst=-")
PY
grep -v '^=' "$work/tq.report"
val() { grep "^=$1=" "$work/tq.report" | cut -d= -f3; }
cand_mean=$(val cand_mean) cand_max=$(val cand_max) written=$(val written) below=$(val below)
maxdiff=$(val maxdiff) qmin=$(val qmin) qmax=$(val qmax) worst_target=$(val worst)
not_written=$(val not_written) missing=$(val missing_scores)
bytes_target=$(total "$work/tq.json")
[ "$written" -gt 0 ] || { echo "the target run wrote no photo" >&2; exit 2; }

# 4. The fixed quality with the same worst case: the lowest whose worst independent score
# reaches SCORE. The search may stop a step above a photo's lowest passing quality, so the
# highest quality it chose can be above that: from it down, while the worst case holds (at
# most 3 steps).
qsame=$qmax
t_same=$(timed same -q "$qmax")
bytes_same=$(total "$work/same.json")
independent "$work/same.json" "$work/same.scores"
worst_same=$(sort -n "$work/same.scores" | head -1 | cut -f1)
for q in $(seq $(( qmax - 1 )) -1 $(( qmax > 3 ? qmax - 3 : 1 ))); do
  python3 -c "import sys; sys.exit(0 if $worst_same >= $score else 1)" || break
  t_lower=$(timed lower -q "$q")
  independent "$work/lower.json" "$work/lower.scores"
  worst_lower=$(sort -n "$work/lower.scores" | head -1 | cut -f1)
  python3 -c "import sys; sys.exit(0 if $worst_lower >= $score else 1)" || break
  qsame=$q t_same=$t_lower worst_same=$worst_lower bytes_same=$(total "$work/lower.json")
done
bytes_ratio=$(python3 -c "print(f'{$bytes_target / $bytes_same:.3f}')")
bytes_fixed=$(total "$work/q$fixed.json")

# 5. The scorer alone: 3 photos (smallest, middle, biggest file) against their -q FIXED outputs.
mapfile -t by_size < <(for p in "$work"/in/*; do echo "$(stat -L -c %s "$p") $p"; done | sort -n | cut -d' ' -f2-)
picks=("${by_size[0]}")
[ "${#by_size[@]}" -ge 3 ] && picks+=("${by_size[$(( ${#by_size[@]} / 2 ))]}")
[ "${#by_size[@]}" -ge 2 ] && picks+=("${by_size[-1]}")
args=()
for p in "${picks[@]}"; do
  out=$(python3 -c "
import json, sys
for f in json.load(open(sys.argv[1]))['files']:
    if f['input'] == sys.argv[2] and f['status'] == 'compressed':
        print(f['output'])" "$work/q$fixed.json" "$p")
  [ -n "$out" ] && args+=("$p" "$out")
done
mps=- speed_mp=-
: >"$work/speed.tsv"
if [ "${#args[@]}" -gt 0 ]; then
  "$speed" --runs "$speed_runs" "${args[@]}" >"$work/speed.tsv"
  mps=$(awk -F'\t' '$1 == "total" {print $5}' "$work/speed.tsv")
  speed_mp=$(awk -F'\t' '$1 == "total" {print $2}' "$work/speed.tsv")
fi

# 6. --target-size.
if [ -n "$size" ]; then
  t_size=$(timed ts --target-size "$size")
  size_line=$(python3 - "$work/ts.json" "$size" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
limit = sys.argv[2]
def cap(f):
    return f["input_bytes"] * float(limit[:-1]) / 100 if limit.endswith("%") else None
done = [f for f in d["files"] if f["status"] in ("compressed", "kept-original")]
fit = sum(1 for f in done if cap(f) is None or f["output_bytes"] <= cap(f))
failed = sum(1 for f in d["files"] if f["status"] == "failed")
print(f"{fit} fit, {len(done) - fit} over the limit, {failed} cannot fit (failed)")
PY
)
fi

echo
echo "scorer alone (examples/score_speed.rs, one thread, median of $speed_runs scores, against -q $fixed outputs):"
awk -F'\t' 'NR > 1 && $1 != "total" {n = split($7, p, "/"); printf "  %s: %.2f MP, %s s, %s MP/s (score %s)\n", p[n], $2, $4, $5, $6}' "$work/speed.tsv"
echo "timings (s): --target-quality $(paste -sd' ' "$work/t_target"); -q $fixed $(paste -sd' ' "$work/t_fixed"); -q $qsame $t_same"
[ "$not_written" -eq 0 ] || echo "warning: $not_written photo(s) not written by the target run (listed above)"
[ "$missing" -eq 0 ] || echo "warning: $missing written photo(s) without a score in the JSON"

fails=()
check() { python3 -c "import sys; sys.exit(0 if $1 else 1)" || fails+=("$2"); }
check "$time_ratio <= 15" "time ratio $time_ratio > 15"
check "$below == 0" "$below independent score(s) below $score"
[ "$maxdiff" = - ] || check "$maxdiff <= 0.2" "max |reported - independent| $maxdiff > 0.2"
check "$bytes_ratio <= 0.80" "bytes target / fixed $bytes_ratio > 0.80"
ok() { for f in "${fails[@]}"; do [[ $f == *"$1"* ]] && { echo FAIL; return; }; done; echo ok; }

echo
echo "| ${#photos[@]} photos ($(du -shL "$work/in" | cut -f1)), --strip, $(nproc) cores | measured | must |"
echo "|---|---:|---|"
echo "| \`--target-quality ssimulacra2:$score\`, median wall of $runs | $t_target s | |"
echo "| \`-q $fixed\`, median wall of $runs (alternated) | $t_fixed s | |"
echo "| time target / fixed | ${time_ratio}x | <= 15x: $(ok 'time ratio') |"
echo "| candidates per photo, mean / max | $cand_mean / $cand_max | |"
echo "| qualities chosen | $qmin..$qmax | |"
echo "| photos scored below $score independently (djpeg + ssimulacra2 crate) | $below of $written | 0: $(ok 'below') |"
echo "| max \\|reported - independent\\| | $maxdiff | <= 0.2: $(ok 'max |') |"
echo "| worst independent score, target / \`-q $qsame\` | $worst_target / $worst_same | |"
echo "| bytes, target / \`-q $qsame\` (same worst case) | $bytes_target / $bytes_same = $bytes_ratio | <= 0.80: $(ok 'bytes') |"
echo "| bytes at \`-q $fixed\` | $bytes_fixed | |"
echo "| scorer alone, one score of a prepared reference | $mps MP/s a core ($speed_mp MP in $(( ${#args[@]} / 2 )) photos) | |"
echo "| peak memory (max RSS), target / \`-q $fixed\` | $rss_target / $rss_fixed MiB | |"
[ -z "$size" ] || echo "| \`--target-size $size\` | $size_line, $t_size s | |"

if [ "${#fails[@]}" -gt 0 ]; then
  printf 'FAILED: %s\n' "${fails[@]}" >&2
  exit 1
fi
