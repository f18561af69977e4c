#!/usr/bin/env bash
# bench/identical.sh BEFORE_BIN AFTER_BIN [DIR...]
#
# Proves that a refactor preserves behaviour: same bytes, same exit codes, same reports, and
# (printed, never failed on) about the same speed. Build the old binary and the new one, e.g.
#   git worktree add /tmp/pp-old HEAD && (cd /tmp/pp-old && cargo build --release)
#   cargo build --release && RUNS=5 bench/identical.sh /tmp/pp-old/target/release/photopress \
#     target/release/photopress
#
# DIRs (default: bench/corpus/photos, built with ../shared/bench/make_corpus.sh bench/corpus if
# missing; IMAGES; and the test images: tests/fixtures, or else every folder under tests/ that
# holds JPEGs, today tests/fuzz_regressions and its transcode/ folder, hostile inputs that fail).
#
# For each setting family below (a list of extra flags), both binaries compress each DIR with
# `-o`: BEFORE's outputs end in before/, AFTER's in after/. Both write to the same path, moved
# away after each run, so the output paths printed in the reports are the same. Then it checks:
#   - the output trees: the same names (files and folders) and every file the same bytes (cmp);
#   - the exit codes;
#   - stdout (the text or JSON report), once the timing lines ("Processing duration (ms)",
#     "Duration ... on N threads") and timing fields ("duration_ms", "wall_ms", ...) are removed.
# stderr (the log: timestamps, thread order) is not compared. One line per family: OK, or
# DIFFERENT with up to 5 of the differences (DIR label/file, exit codes, report), with the
# number of output files compared and the seconds BEFORE / AFTER took; exit status 1
# when any family differs, 2 on a usage error.
#
# Scopes: "all" runs every DIR; "few" only the first 6 JPEGs (by name) of each DIR, copied into a
# temp folder (the --target-quality search takes ~45 s on the whole corpus); "nested" runs once
# on a nested copy of the DIRs (sub-folders, a hidden folder, an upper-case extension) with -r.
#
# Speed: the default family and --best on the first DIR (the corpus), BEFORE and AFTER
# alternated RUNS times (env RUNS, default 3); prints the median wall times and AFTER/BEFORE.
#
# Environment: RUNS=3 (speed runs; 0 skips the speed part), KEEP_WORK=1 (keep the temp folder
# and the trees of differing families, and print where).
set -euo pipefail
export LC_NUMERIC=C

# scope|flags. Add a family here; -o and the input are appended.
FAMILIES=(
  "all|"
  "all|--best"
  "all|--progressive"
  "all|--lossless"
  "all|--lossless --progressive"
  "all|--strip"
  "all|--method pixel"
  "all|-q 71 --strip"
  "few|--target-quality 70 --strip"
  "all|--target-size 40%"
  "all|--long-edge 1200 -q 71"
  "all|--json"
  "nested|-r"
)
FEW=6

usage() { echo "usage: $0 BEFORE_BIN AFTER_BIN [DIR...]   (env RUNS=3, KEEP_WORK=1)" >&2; exit 2; }
[ $# -ge 2 ] || usage

# An executable given as a path or as a name on PATH, made absolute (we cd below).
resolve_bin() {
  local p
  if [[ $1 == */* ]]; then p=$(realpath -e -- "$1" 2>/dev/null) || p=""; else p=$(command -v -- "$1" || true); fi
  [ -n "$p" ] && [ -x "$p" ] || { echo "not an executable: $1" >&2; exit 2; }
  echo "$p"
}
before_bin=$(resolve_bin "$1")
after_bin=$(resolve_bin "$2")
shift 2
runs=${RUNS:-3}
[[ $runs =~ ^[0-9]+$ ]] || { echo "RUNS must be a whole number" >&2; exit 2; }

dirs=()
for d in "$@"; do
  [ -d "$d" ] || { echo "not a folder: $d" >&2; exit 2; }
  dirs+=("$(realpath -- "$d")")
done
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
if [ ${#dirs[@]} -eq 0 ]; then
  if [ ! -d bench/corpus/photos ]; then
    echo "building the corpus: ../shared/bench/make_corpus.sh bench/corpus" >&2
    ../shared/bench/make_corpus.sh bench/corpus >&2
  fi
  dirs=(bench/corpus/photos IMAGES)
  if [ -d tests/fixtures ]; then
    dirs+=(tests/fixtures)
  else
    mapfile -t test_dirs < <(find tests -type f \( -iname '*.jpg' -o -iname '*.jpeg' \) -printf '%h\n' | LC_ALL=C sort -u)
    dirs+=("${test_dirs[@]}")
  fi
fi

# A label per DIR for the output trees and the messages: its path below the repository, / -> _.
labels=()
for d in "${dirs[@]}"; do
  l=${d#"$root"/}; l=${l#/}; l=${l//\//_}
  labels+=("$l")
done

work=$(mktemp -d)
if [ -n "${KEEP_WORK:-}" ]; then echo "work folder (kept): $work"; else trap 'rm -rf "$work"' EXIT; fi

# JPEGs directly in a folder, by name.
jpegs_in() { find -L "$1" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' \) | LC_ALL=C sort; }

# The "few" inputs: the first $FEW JPEGs of each DIR.
for i in "${!dirs[@]}"; do
  mkdir -p "$work/few/${labels[i]}"
  mapfile -t some < <(jpegs_in "${dirs[i]}" | head -n "$FEW")
  [ ${#some[@]} -eq 0 ] || cp -L -- "${some[@]}" "$work/few/${labels[i]}/"
done

# The nested copy for -r: each DIR whole (with its own sub-folders) one level down, one photo at
# the top, one three levels down, one with an upper-case extension, one in a hidden folder
# (left out without --hidden) and a file that is not a JPEG.
nested=$work/nested
mkdir -p "$nested/.hidden"
for i in "${!dirs[@]}"; do cp -RL -- "${dirs[i]}" "$nested/${labels[i]}"; done
mapfile -t first < <(jpegs_in "${dirs[0]}" | head -n 4)
if [ ${#first[@]} -ge 1 ]; then
  mkdir -p "$nested/${labels[0]}/deeper/still"
  cp -L -- "${first[0]}" "$nested/top.jpg"
  cp -L -- "${first[${#first[@]}-1]}" "$nested/${labels[0]}/deeper/still/deep.jpg"
  cp -L -- "${first[0]}" "$nested/${labels[0]}/deeper/UPPER.JPEG"
  cp -L -- "${first[0]}" "$nested/.hidden/hidden.jpg"
fi
echo "not a photo" > "$nested/${labels[0]}/notes.txt"

# stdout without what depends on the clock.
normalize() {
  sed -E -e '/^(Processing duration|Summed image duration|Duration) /d' \
         -e 's/"[A-Za-z_]*(duration|elapsed|wall|_ms|_secs|seconds)[A-Za-z_]*": *[-+0-9.eE]+,? *//g' "$1"
}

# run BIN FLAGS INPUT DEST: one run into "$work/out", moved to DEST (left missing when the
# binary wrote no output folder); stdout in DEST.stdout, stderr in DEST.stderr, the exit code
# in DEST.rc, the wall time in seconds on stdout.
run() {
  local bin=$1 flags=$2 input=$3 dest=$4 rc=0 t0 t1 args=()
  read -ra args <<<"$flags"
  rm -rf "$work/out"
  mkdir -p "$(dirname "$dest")"
  t0=$EPOCHREALTIME
  "$bin" "${args[@]}" --progress never -o "$work/out" "$input" >"$dest.stdout" 2>"$dest.stderr" || rc=$?
  t1=$EPOCHREALTIME
  echo "$rc" >"$dest.rc"
  if [ -e "$work/out" ]; then mv "$work/out" "$dest"; fi
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

# The entries of a tree, type and path ("f sub/x.jpg"), sorted; a marker when there is none.
entries() {
  if [ -d "$1" ]; then (cd "$1" && find . -mindepth 1 -printf '%y %P\n' | LC_ALL=C sort); else echo "(no output folder)"; fi
}

# compare BEFORE_DEST AFTER_DEST LABEL: appends what differs to the array `diffs` and counts
# BEFORE's output files in `nfiles`.
compare() {
  local b=$1 a=$2 label=$3 line f side
  if [ "$(cat "$b.rc")" != "$(cat "$a.rc")" ]; then
    diffs+=("$label: exit $(cat "$b.rc") vs $(cat "$a.rc")")
  fi
  if ! cmp -s <(normalize "$b.stdout") <(normalize "$a.stdout"); then
    diffs+=("$label: report")
  fi
  while IFS= read -r line; do
    side="only before"
    if [[ $line == $'\t'* ]]; then side="only after"; line=${line#$'\t'}; fi
    if [ "$line" = "(no output folder)" ]; then diffs+=("$label: no output folder ${side#only }")
    else diffs+=("$label/${line#? } ($side)"); fi
  done < <(LC_ALL=C comm -3 <(entries "$b") <(entries "$a"))
  if [ -d "$b" ]; then nfiles=$((nfiles + $(find "$b" -type f | wc -l))); fi
  [ -d "$b" ] && [ -d "$a" ] || return 0
  while IFS= read -r -d '' f; do
    if [ -f "$a/$f" ] && ! cmp -s -- "$b/$f" "$a/$f"; then diffs+=("$label/$f"); fi
  done < <(cd "$b" && find . -type f -printf '%P\0' | LC_ALL=C sort -z)
}

status=0
echo "before: $before_bin"
echo "after:  $after_bin"
echo "dirs:   ${dirs[*]}"
for fam in "${FAMILIES[@]}"; do
  scope=${fam%%|*} flags=${fam#*|}
  name=${flags:-default}
  inputs=() ids=()
  case $scope in
    all) inputs=("${dirs[@]}"); ids=("${labels[@]}") ;;
    few) for l in "${labels[@]}"; do inputs+=("$work/few/$l"); ids+=("$l"); done ;;
    nested) inputs=("$nested"); ids=(nested) ;;
  esac
  diffs=()
  nfiles=0 tb=0 ta=0
  fdir=$work/family
  rm -rf "$fdir"
  for i in "${!inputs[@]}"; do
    t=$(run "$before_bin" "$flags" "${inputs[i]}" "$fdir/before/${ids[i]}"); tb=$(awk -v a="$tb" -v b="$t" 'BEGIN { print a + b }')
    t=$(run "$after_bin" "$flags" "${inputs[i]}" "$fdir/after/${ids[i]}"); ta=$(awk -v a="$ta" -v b="$t" 'BEGIN { print a + b }')
    compare "$fdir/before/${ids[i]}" "$fdir/after/${ids[i]}" "${ids[i]}"
  done
  times=$(printf '(%s: %d files, %.1f s / %.1f s)' "$scope" "$nfiles" "$tb" "$ta")
  if [ ${#diffs[@]} -eq 0 ]; then
    printf 'OK         %-32s %s\n' "$name" "$times"
  else
    status=1
    shown=$(printf '%s; ' "${diffs[@]:0:5}")
    more=""
    [ ${#diffs[@]} -le 5 ] || more=" ... and $(( ${#diffs[@]} - 5 )) more"
    printf 'DIFFERENT  %-32s %s: %s%s\n' "$name" "$times" "${shown%; }" "$more"
    if [ -n "${KEEP_WORK:-}" ]; then
      mv "$fdir" "$work/different-${name//[^A-Za-z0-9_-]/_}"
    fi
  fi
  rm -rf "$fdir"
done

median() { LC_ALL=C sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
if [ "$runs" -gt 0 ]; then
  echo "speed: ${dirs[0]}, $runs alternated runs each, median wall seconds"
  for flags in "" "--best"; do
    tb=() ta=()
    for ((r = 0; r < runs; r++)); do
      tb+=("$(run "$before_bin" "$flags" "${dirs[0]}" "$work/speed/before")")
      rm -rf "$work/speed"
      ta+=("$(run "$after_bin" "$flags" "${dirs[0]}" "$work/speed/after")")
      rm -rf "$work/speed"
    done
    mb=$(printf '%s\n' "${tb[@]}" | median)
    ma=$(printf '%s\n' "${ta[@]}" | median)
    awk -v n="${flags:-default}" -v b="$mb" -v a="$ma" -v lb="${tb[*]}" -v la="${ta[*]}" \
      'BEGIN { printf "  %-10s before %7.3f s  after %7.3f s  after/before %.3f   (before: %s; after: %s)\n", n, b, a, (b > 0 ? a / b : 0), lb, la }'
  done
fi

if [ "$status" -ne 0 ]; then
  echo "DIFFERENT: the two binaries do not behave the same${KEEP_WORK:+ (trees and reports kept under $work/different-*)}"
else
  echo "OK: same outputs, exit codes and reports in every family"
fi
exit "$status"
