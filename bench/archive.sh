#!/usr/bin/env bash
# bench/archive.sh [CORPUS_DIR...]
#
# The reversible archive (--archive / restore) on each corpus (default: bench/corpus/photos,
# built by ../shared/bench/make_corpus.sh bench/corpus, and IMAGES), in one run:
#   1. saving: mean per file (1 - archive/original) and in all (1 - total archives/total
#      originals); how many archives are verified Lepton bodies (`"verified":true` and status
#      compressed) and how many were stored as they are (kept-original);
#   2. restore: every restored file compared byte for byte with its original (cmp);
#   3. throughput, medians of RUNS (default 3) alternated runs, in MB of originals a second:
#      photopress --archive and restore on the default jobs (every core) and --sequential
#      (one core), their ratio (the issue asks >= 1.8x on 2 cores); `jpegtran -optimize -copy
#      all` (libjpeg-turbo's lossless optimization, one process a file, one core) and the
#      lepton_jpeg crate's own tool (LEPTON=path to lepton_jpeg_util, one file a process,
#      --threads 1; skipped when LEPTON is unset or missing) for comparison, per core;
#   4. peak memory (max RSS, /usr/bin/time) of the parallel archive and restore runs.
# Exits 1 when a restored file differs from its original, 2 on a set-up error.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be at least 1" >&2; exit 2; }
if [ $# -eq 0 ]; then set -- bench/corpus/photos IMAGES; fi
cargo build --release --quiet --bin photopress
bin=$PWD/target/release/photopress
lepton=${LEPTON:-}
if [ -n "$lepton" ] && [ ! -x "$lepton" ]; then echo "LEPTON=$lepton is not an executable" >&2; exit 2; fi
cores=$(nproc)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

# secs CMD...: wall seconds of one run (output discarded).
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# peak_mb CMD...: max RSS in MB.
peak_mb() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.0f", $1/1024}'; }

rows=()
for corpus in "$@"; do
  [ -d "$corpus" ] || { echo "no corpus at $corpus (run ../shared/bench/make_corpus.sh bench/corpus)" >&2; exit 2; }
  name=$(basename "$corpus")
  in="$work/$name/in"
  mkdir -p "$in"
  mapfile -t photos < <(find -L "$corpus" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' \) | sort)
  for p in "${photos[@]}"; do cp "$p" "$in/"; done
  n=${#photos[@]}
  bytes=$(cat "$in"/* | wc -c)
  mb=$(echo "$bytes / 1000000" | bc -l)
  echo "== $corpus: $n photos, $(printf '%.1f' "$mb") MB"

  # 1-2. One archive run with its JSON, one restore, compared.
  "$bin" --archive "$in" -o "$work/$name/arch" --json --progress never --quiet > "$work/$name/arch.json"
  "$bin" restore "$work/$name/arch" -o "$work/$name/back" --progress never --quiet >/dev/null
  read -r mean_saving total_saving lepton_n stored_n < <(python3 - "$work/$name/arch.json" <<'EOF'
import json, sys
files = json.load(open(sys.argv[1]))["files"]
done = [f for f in files if f["status"] in ("compressed", "kept-original")]
mean = sum(1 - f["output_bytes"] / f["input_bytes"] for f in done) / max(1, len(done))
total = 1 - sum(f["output_bytes"] for f in done) / max(1, sum(f["input_bytes"] for f in done))
lep = sum(1 for f in files if f["status"] == "compressed" and f.get("verified") is True)
stored = sum(1 for f in files if f["status"] == "kept-original")
print(f"{mean*100:.2f} {total*100:.2f} {lep} {stored}")
EOF
)
  same=0
  for p in "${photos[@]}"; do
    b=$(basename "$p")
    if cmp -s "$p" "$work/$name/back/compressed_$b"; then same=$((same + 1)); else echo "DIFFERS: $b" >&2; status=1; fi
  done
  echo "saving: mean $mean_saving % a file, $total_saving % in all; $lepton_n verified Lepton archives, $stored_n stored as they are; restored bit for bit: $same/$n"

  # 3. Throughput, alternated.
  : > "$work/t_ap"; : > "$work/t_as"; : > "$work/t_rp"; : > "$work/t_rs"; : > "$work/t_jt"; : > "$work/t_ll"; : > "$work/t_ld"
  for r in $(seq "$runs"); do
    rm -rf "$work/$name/a"; secs "$bin" --archive "$in" -o "$work/$name/a" --progress never >> "$work/t_ap"
    rm -rf "$work/$name/b"; secs "$bin" --archive "$in" -o "$work/$name/b" --sequential --progress never >> "$work/t_as"
    rm -rf "$work/$name/r"; secs "$bin" restore "$work/$name/a" -o "$work/$name/r" --progress never >> "$work/t_rp"
    rm -rf "$work/$name/s"; secs "$bin" restore "$work/$name/a" -o "$work/$name/s" --sequential --progress never >> "$work/t_rs"
    mkdir -p "$work/$name/jt"
    secs bash -c 'for f in "$1"/*; do jpegtran -optimize -copy all "$f" > "$2/$(basename "$f")"; done' _ "$in" "$work/$name/jt" >> "$work/t_jt"
    if [ -n "$lepton" ]; then
      mkdir -p "$work/$name/ll" "$work/$name/ld"
      secs bash -c 'for f in "$1"/*; do "$3" --threads 1 --overwrite --quiet "$f" "$2/$(basename "$f").lep"; done' _ "$in" "$work/$name/ll" "$lepton" >> "$work/t_ll"
      secs bash -c 'for f in "$1"/*.lep; do "$3" --threads 1 --overwrite --quiet "$f" "$2/$(basename "$f" .lep)"; done' _ "$work/$name/ll" "$work/$name/ld" "$lepton" >> "$work/t_ld"
    fi
  done
  ap=$(median < "$work/t_ap"); as=$(median < "$work/t_as")
  rp=$(median < "$work/t_rp"); rs=$(median < "$work/t_rs")
  jt=$(median < "$work/t_jt")
  jt_saving=$(python3 -c "import os,sys; a=sum(os.path.getsize(os.path.join(sys.argv[1],f)) for f in os.listdir(sys.argv[1])); b=sum(os.path.getsize(os.path.join(sys.argv[2],f)) for f in os.listdir(sys.argv[2])); print(f'{(1-b/a)*100:.2f}')" "$in" "$work/$name/jt")
  rate() { printf '%.1f' "$(echo "$mb / $1" | bc -l)"; }
  echo "archive: $(rate "$ap") MB/s on $cores cores ($(printf '%.2f' "$ap") s), $(rate "$as") MB/s sequential ($(printf '%.2f' "$as") s): parallel/sequential $(printf '%.2f' "$(echo "$as / $ap" | bc -l)")x"
  echo "restore: $(rate "$rp") MB/s on $cores cores ($(printf '%.2f' "$rp") s), $(rate "$rs") MB/s sequential ($(printf '%.2f' "$rs") s): parallel/sequential $(printf '%.2f' "$(echo "$rs / $rp" | bc -l)")x"
  echo "jpegtran -optimize -copy all, one core: $(rate "$jt") MB/s ($(printf '%.2f' "$jt") s), saving $jt_saving % in all"
  ll_cell="–"; ld_cell="–"
  if [ -n "$lepton" ]; then
    ll=$(median < "$work/t_ll"); ld=$(median < "$work/t_ld")
    ll_saving=$(python3 -c "import os,sys; a=sum(os.path.getsize(os.path.join(sys.argv[1],f)) for f in os.listdir(sys.argv[1])); b=sum(os.path.getsize(os.path.join(sys.argv[2],f)) for f in os.listdir(sys.argv[2])); print(f'{(1-b/a)*100:.2f}')" "$in" "$work/$name/ll")
    echo "lepton_jpeg_util --threads 1, one core: compress $(rate "$ll") MB/s ($(printf '%.2f' "$ll") s, saving $ll_saving % in all), decompress $(rate "$ld") MB/s ($(printf '%.2f' "$ld") s)"
    ll_cell="$(rate "$ll") / $(rate "$ld")"
  fi

  # 4. Peak memory.
  rm -rf "$work/$name/m"; pa=$(peak_mb "$bin" --archive "$in" -o "$work/$name/m" --progress never)
  rm -rf "$work/$name/mr"; pr=$(peak_mb "$bin" restore "$work/$name/m" -o "$work/$name/mr" --progress never)
  echo "peak memory: archive $pa MB, restore $pr MB"
  rows+=("| $name ($n, $(printf '%.1f' "$mb") MB) | $mean_saving / $total_saving | $lepton_n + $stored_n stored; $same/$n | $(rate "$ap") / $(rate "$as") ($(printf '%.2f' "$(echo "$as / $ap" | bc -l)")x) | $(rate "$rp") / $(rate "$rs") ($(printf '%.2f' "$(echo "$rs / $rp" | bc -l)")x) | $(rate "$jt") ($jt_saving %) | $ll_cell | $pa / $pr |")
done

echo
echo "| corpus | saving % (mean a file / in all) | Lepton archives + stored; restored exactly | archive MB/s, $cores cores / 1 (ratio) | restore MB/s, $cores cores / 1 (ratio) | jpegtran -optimize MB/s, 1 core (saving) | lepton_jpeg_util MB/s, 1 core (compress / decompress) | peak MB (archive / restore) |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
exit $status
