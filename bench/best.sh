#!/usr/bin/env bash
# bench/best.sh [CORPUS_DIR] [N]
#
# Bytes at equal quality against the Pillow program: for each of the first N photos (by name;
# default 12) of a corpus (default bench/corpus/photos, from ../shared/bench/make_corpus.sh
# bench/corpus):
#   1. Pillow, `save(quality=30, optimize=True)` (bench/pillow_ref.py): its bytes and its
#      SSIMULACRA2 score S against the input (examples/ssimulacra2.rs: decoded by libjpeg-turbo,
#      scored by the ssimulacra2 crate's own entry point);
#   2. photopress --best --target-quality ssimulacra2:S (the lowest quality whose output
#      reaches S: qualities are whole numbers, so its score is S or up to one quality step
#      above, which favours Pillow), and the same for the default (auto);
#   3. every photopress output scored again by the same scorer; and, since whole-number
#      qualities overshoot S, the output one quality lower is made and scored too, and the
#      bytes at exactly S interpolated linearly between the two (the "at S" columns).
# Prints one row per photo (bytes and score of each, the ratios to Pillow's bytes) and the
# totals; all under --strip (Pillow drops the metadata too). Also times `photopress --best
# -q 30` on the same photos against the default (one run each), the wall-time side.
# One run each: the searches take minutes (several candidates per photo, each scored).
# Environment:
#   MODES="best auto"  which photopress columns to search (MODES=best halves the time)
#   CEILING=95         the searches' highest quality (-q): CEILING=45 takes one candidate
#                      fewer, and equal-score qualities at Pillow-q30 scores sit near 30-40
#   WALL=1             time the default and --best at -q 30 at the end (WALL=0: skip it,
#                      e.g. while something else runs beside it)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-bench/corpus/photos}
n=${2:-12}
modes=" ${MODES:-best auto} "
ceiling=${CEILING:-95}
[[ $ceiling =~ ^[1-9][0-9]?$|^100$ ]] || { echo "CEILING must be 1..100" >&2; exit 2; }
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_setup "$corpus" "$n"
mkdir -p "$work/pillow"
echo "photos: ${#photos[@]} from $corpus"

python3 bench/pillow_ref.py -q 30 -o "$work/pillow" "$work/in" >/dev/null
score() { "$scorer" "$1" "$2" | cut -f1; }
size() { stat -c %s "$1"; }

# bytes_at S BYTES SCORE BELOW_BYTES BELOW_SCORE: the bytes at score S, linear between the
# output one quality lower and the chosen one (the chosen bytes when S is not between them).
bytes_at() {
  python3 -c "
s, b1, s1, b0, s0 = $1, $2, $3, $4, $5
print(round(b0 + (s - s0) / (s1 - s0) * (b1 - b0)) if s0 < s <= s1 else b1)"
}
# ratio BYTES OF: BYTES / OF to 3 decimals.
ratio() { python3 -c "print(f'{$1 / $2:.3f}')"; }

printf '| photo | Pillow bytes | Pillow score | --best q | bytes | score | x Pillow | at S | x Pillow | auto q | bytes | score | x Pillow | at S | x Pillow |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
tot_p=0 tot_b=0 tot_a=0 tot_bi=0 tot_ai=0
for p in "$work"/in/*; do
  name=$(basename "$p")
  s=$(score "$p" "$work/pillow/$name")
  bp=$(size "$work/pillow/$name")
  row="| $name | $bp | $s"
  for mode in best auto; do
    if [[ $modes != *" $mode "* ]]; then
      row="$row | – | | | | | "
      continue
    fi
    extra=()
    [ "$mode" = best ] && extra=(--best)
    q=$("$bin" "$p" -o "$work/$mode" --strip --prefix '' --quiet --progress never "${extra[@]}" \
      -q "$ceiling" --target-quality "ssimulacra2:$s" --json 2>/dev/null |
      python3 -c "import json, sys; print(json.load(sys.stdin)['files'][0]['quality'])" || true)
    out="$work/$mode/$name"
    if [ -f "$out" ] && [ -n "$q" ]; then
      b=$(size "$out")
      sq=$(score "$p" "$out")
      bi=$b
      if [ "$q" -gt 1 ]; then
        "$bin" "$p" -o "$work/$mode-below" --strip --prefix '' --quiet --progress never \
          "${extra[@]}" -q $((q - 1)) >/dev/null 2>&1 || true
        below="$work/$mode-below/$name"
        [ -f "$below" ] && bi=$(bytes_at "$s" "$b" "$sq" "$(size "$below")" "$(score "$p" "$below")")
      fi
      row="$row | $q | $b | $sq | $(ratio "$b" "$bp") | $bi | $(ratio "$bi" "$bp")"
      if [ "$mode" = best ]; then
        tot_b=$((tot_b + b)) tot_bi=$((tot_bi + bi))
      else
        tot_a=$((tot_a + b)) tot_ai=$((tot_ai + bi))
      fi
    else
      row="$row | failed | | | | | "
    fi
  done
  tot_p=$((tot_p + bp))
  echo "$row |"
done
python3 -c "
p = $tot_p
print(f'| total | {p} | | | $tot_b | | {$tot_b / p:.3f} | $tot_bi | {$tot_bi / p:.3f} | | $tot_a | | {$tot_a / p:.3f} | $tot_ai | {$tot_ai / p:.3f} |')"

# Wall time at a fixed quality: today's --best against the default, one run each.
wall() {
  local t0 t1
  rm -rf "$work/timed"
  t0=$(date +%s.%N)
  "$bin" "$work/in" -o "$work/timed" --strip --quiet --progress never "$@" >/dev/null 2>&1 || true
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1 - $t0:.2f}')"
}
if [ "${WALL:-1}" != 0 ]; then
  echo
  echo "wall, -q 30: default $(wall) s, --best $(wall --best) s"
fi
