#!/usr/bin/env bash
# bench/targets.sh [CORPUS_DIR] [N] [SCORE]
#
# --target-quality and --target-size on the first N photos (by name; default all) of a corpus
# (default bench/corpus/photos, built by ../shared/bench/make_corpus.sh bench/corpus), all
# under --strip (image bytes only), one run each (the searches take minutes):
#   1. --target-quality ssimulacra2:SCORE (default 70): wall time, bytes, the qualities chosen;
#   2. every output scored again by an independent scorer (examples/ssimulacra2.rs: decoded by
#      libjpeg-turbo instead of zune-jpeg, scored by the ssimulacra2 crate's own entry point):
#      the worst score must reach SCORE (up to the decoders' rounding);
#   3. the fixed quality that reaches the same worst-case score: the highest quality the search
#      chose (scores grow with quality), run with -q: wall time and bytes against 1;
#   4. --target-size 25%: how many outputs fit, how many cannot (fail), wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-bench/corpus/photos}
n=${2:-0}
score=${3:-70}
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_setup "$corpus" "$n"
echo "photos: ${#photos[@]} from $corpus, $(du -shL "$work/in" | cut -f1)"

# timed OUT CMD...: runs CMD with its stdout into OUT; prints the wall seconds.
timed() {
  local out=$1 t0 t1
  shift
  t0=$(date +%s.%N)
  "$@" >"$out" || true
  t1=$(date +%s.%N)
  echo "scale=2; ($t1 - $t0)/1" | bc
}

t_target=$(timed "$work/tq.json" "$bin" "$work/in" -o "$work/tq" --strip \
  --target-quality "ssimulacra2:$score" --json --progress never --quiet)
python3 - "$work/tq.json" >"$work/tq.tsv" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for f in d["files"]:
    print(f["input"], f["output"], f["quality"], f.get("score"), f["output_bytes"], f["status"], sep="\t")
PY
qmax=$(cut -f3 "$work/tq.tsv" | sort -n | tail -1)
bytes_target=$(python3 -c "import json;print(json.load(open('$work/tq.json'))['totals']['output_bytes'])")
args=()
while IFS=$'\t' read -r input output _ _ _ status; do
  [ "$status" = compressed ] && args+=("$input" "$output")
done <"$work/tq.tsv"
"$scorer" "${args[@]}" >"$work/tq.scores"
worst_target=$(sort -n "$work/tq.scores" | head -1 | cut -f1)

t_fixed=$(timed "$work/fixed.json" "$bin" "$work/in" -o "$work/fixed" --strip -q "$qmax" --json \
  --progress never --quiet)
bytes_fixed=$(python3 -c "import json;print(json.load(open('$work/fixed.json'))['totals']['output_bytes'])")
args=()
for f in "$work"/in/*; do args+=("$f" "$work/fixed/compressed_$(basename "$f")"); done
"$scorer" "${args[@]}" >"$work/fixed.scores"
worst_fixed=$(sort -n "$work/fixed.scores" | head -1 | cut -f1)

t_size=$(timed "$work/ts.json" "$bin" "$work/in" -o "$work/ts" --strip --target-size 25% --json \
  --progress never --quiet)
python3 - "$work/ts.json" <<'PY' >"$work/ts.txt"
import json, os, sys
d = json.load(open(sys.argv[1]))
fit = sum(1 for f in d["files"] if f["status"] in ("compressed", "kept-original")
          and f["output_bytes"] <= f["input_bytes"] * 25 // 100)
over = sum(1 for f in d["files"] if f["status"] in ("compressed", "kept-original")
           and f["output_bytes"] > f["input_bytes"] * 25 // 100)
failed = sum(1 for f in d["files"] if f["status"] == "failed")
print(f"{fit} fit, {over} over the limit, {failed} cannot fit (failed)")
PY

echo
echo "| run | wall s | output bytes | worst SSIMULACRA 2 (independent) |"
echo "|---|---:|---:|---:|"
echo "| --target-quality ssimulacra2:$score (qualities $(cut -f3 "$work/tq.tsv" | sort -n | head -1)..$qmax) | $t_target | $bytes_target | $worst_target |"
echo "| -q $qmax (the fixed quality whose worst case reaches it) | $t_fixed | $bytes_fixed | $worst_fixed |"
echo
echo "bytes: target / fixed = $(echo "scale=3; $bytes_target / $bytes_fixed" | bc)"
echo "--target-size 25%: $(cat "$work/ts.txt"), $t_size s"
