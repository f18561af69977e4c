#!/usr/bin/env bash
# shellcheck disable=SC2016  # command templates are expanded later, by hyperfine's shell
# bench/compare.sh [CORPUS_DIR]
#
# Times photopress against the exercise's Pillow reference and common JPEG tools
# on the same photos, all at JPEG quality 30, 4:2:0, optimized Huffman tables,
# metadata stripped the tool's usual way, and prints one markdown table
# (also written to bench/results.md, a generated file):
#   tool | median wall s | MP/s | output bytes | rate | score
# photopress has a row per re-encoding method (default auto, --method dct, --method pixel);
# --method dct keeps each input's chroma subsampling, so its row is not 4:2:0 throughout.
#
# CORPUS_DIR: a folder of .jpg/.jpeg files, or a folder holding photos/.
#   Default: bench/corpus, built with ../shared/bench/make_corpus.sh (43 photos).
# Environment:
#   RUNS=5               hyperfine timed runs per tool (after 1 warmup run)
#   CARGO_INSTALL_JOBS   -j for `cargo install` of missing tools (default: nproc)
#   CAESIUMCLT_VERSION, DSSIM_VERSION   crate versions installed when missing
#   KEEP_WORK=1          keep the scratch folder (inputs, kept outputs, hyperfine JSON)
#   SKIP_TOOLS=caesiumclt  do not install caesiumclt (a long cargo build); its row then
#                        reads "skipped" unless it is already installed
#   SCORE=0              do not score the outputs with dssim (most of a run's time: about
#                        16 of 23 minutes on the corpus here); bytes are still counted
#
# Installs what is missing (Debian/Ubuntu, as root or with sudo): hyperfine,
# GNU parallel, imagemagick, libjpeg-turbo-progs, libvips-tools (apt), Pillow
# (pip), caesiumclt and dssim (cargo). A tool that cannot be installed or fails
# to run gets a "skipped"/"failed" row instead of aborting the whole benchmark.
#
# Score: mean over images of `dssim SOURCE OUTPUT` (kornelski's dssim, a
# multi-scale SSIM in a perceptual colour space, reported as 1/SSIM - 1:
# 0 = identical, lower is better). The same metric is used for every tool.
set -euo pipefail

RUNS=${RUNS:-5}
QUALITY=30
NPROC=$(nproc)
CARGO_INSTALL_JOBS=${CARGO_INSTALL_JOBS:-$NPROC}
CAESIUMCLT_VERSION=${CAESIUMCLT_VERSION:-1.5.0}   # latest on crates.io when this script was written
DSSIM_VERSION=${DSSIM_VERSION:-3.5.1}

log() { printf '[compare] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Resolve the corpus argument before changing directory, so relative paths work.
CORPUS_ARG=""
if [ $# -ge 1 ]; then
  [ -d "$1" ] || die "corpus folder '$1' not found"
  CORPUS_ARG=$(cd "$1" && pwd)
fi
[ $# -le 1 ] || die "usage: $0 [CORPUS_DIR]"

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$SCRIPT_DIR" rev-parse --show-toplevel 2>/dev/null || dirname "$SCRIPT_DIR")
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"   # where `cargo install` puts caesiumclt and dssim

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

# ---------------------------------------------------------------- installs --
# Notes printed under the table: skipped tools, failed installs, output formats.
NOTES=()
note() { NOTES+=("$*"); log "$*"; }

apt_updated=0
apt_install() {  # apt_install PKG...: install the ones dpkg does not list as installed
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  command -v apt-get >/dev/null || { log "apt-get not found; cannot install ${missing[*]}"; return 0; }
  log "apt-get install ${missing[*]}"
  local t0=$SECONDS
  export DEBIAN_FRONTEND=noninteractive
  # One package at a time after an update, so a single failure skips only that tool.
  if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    [ $apt_updated = 1 ] || { $SUDO apt-get update -qq || true; apt_updated=1; }
    for p in "${missing[@]}"; do
      $SUDO apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1 || note "apt-get install $p failed"
    done
  fi
  log "apt-get install took $((SECONDS - t0)) s"
}

cargo_install() {  # cargo_install BINARY CRATE VERSION
  local bin=$1 crate=$2 version=$3
  command -v "$bin" >/dev/null && return 0
  command -v cargo >/dev/null || { log "cargo not found; cannot install $crate"; return 0; }
  log "cargo install --locked $crate@$version (-j$CARGO_INSTALL_JOBS; takes minutes)"
  local t0=$SECONDS
  if cargo install --locked -j "$CARGO_INSTALL_JOBS" --version "$version" "$crate" >"$WORK/cargo-install-$crate.log" 2>&1; then
    log "cargo install $crate took $((SECONDS - t0)) s"
  else
    log "cargo install $crate failed after $((SECONDS - t0)) s; last lines:"
    tail -n 15 "$WORK/cargo-install-$crate.log" >&2 || true
    note "cargo install --locked $crate@$version failed: $(grep -m1 '^error' "$WORK/cargo-install-$crate.log" || echo 'see log')"
  fi
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/photopress-bench.XXXXXX")
if [ "${KEEP_WORK:-0}" = 1 ]; then
  trap 'log "scratch folder kept: $WORK"' EXIT
else
  trap 'rm -rf "$WORK"' EXIT
fi

apt_install hyperfine parallel imagemagick libjpeg-turbo-progs libvips-tools
command -v hyperfine >/dev/null || die "hyperfine is required and could not be installed"
command -v python3 >/dev/null || die "python3 is required"

# The interpreter itself rather than a version-manager shim (pyenv's adds
# start-up time to every timed run of the Pillow reference).
PYTHON=$(python3 -c 'import sys; print(sys.executable)')
if ! "$PYTHON" -c 'import PIL' 2>/dev/null; then
  log "pip install Pillow"
  "$PYTHON" -m pip install --quiet Pillow >&2 || apt_install python3-pil
fi
"$PYTHON" -c 'import PIL' 2>/dev/null || die "Pillow is required (corpus pixel counts, scoring) and could not be installed"

cargo_install dssim dssim "$DSSIM_VERSION"
skipping() { case " ${SKIP_TOOLS:-} " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
if skipping caesiumclt; then
  note "caesiumclt: skipped (SKIP_TOOLS)"
else
  cargo_install caesiumclt caesiumclt "$CAESIUMCLT_VERSION"
fi
DSSIM=$(command -v dssim || true)
if [ "${SCORE:-1}" = 0 ]; then
  DSSIM=""
  note "SCORE=0: outputs not scored, the score column is n/a for every tool."
else
  [ -n "$DSSIM" ] || note "dssim could not be installed: the score column is n/a for every tool."
fi

# photopress itself (scripts/install-deps.sh provides nasm for its JPEG codec).
[ -x scripts/install-deps.sh ] && scripts/install-deps.sh
log "cargo build --release"
cargo build --release --quiet || die "cargo build --release failed"
export PHOTOPRESS="$ROOT/target/release/photopress"

# ImageMagick: a real binary, not a wrapper script that forwards to it (some
# machines put a stand-in `convert` first in PATH; its interpreter start-up
# would be timed once per image). IM7 names it magick, IM6 convert.
IM=""
while IFS= read -r c; do
  real=$(readlink -f "$c")
  [ "$(head -c4 "$real" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ] || continue
  "$real" -version 2>/dev/null | grep -q 'ImageMagick' || continue
  IM=$real; break
done < <(type -ap magick convert-im6.q16 convert 2>/dev/null)
export IM

# ------------------------------------------------------------------ corpus --
if [ -z "$CORPUS_ARG" ]; then
  MAKE_CORPUS="$ROOT/../shared/bench/make_corpus.sh"
  [ -x "$MAKE_CORPUS" ] || die "$MAKE_CORPUS not found; pass a CORPUS_DIR instead"
  "$MAKE_CORPUS" bench/corpus >&2
  CORPUS="$ROOT/bench/corpus/photos"
elif [ -d "$CORPUS_ARG/photos" ]; then
  CORPUS="$CORPUS_ARG/photos"
else
  CORPUS="$CORPUS_ARG"
fi

# Every tool reads the same private copy holding only the JPEGs, so folder-taking
# tools (photopress, caesiumclt) and per-file tools see exactly the same set.
export BENCH_IN="$WORK/in"
mkdir -p "$BENCH_IN"
find "$CORPUS" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' \) -print0 |
  xargs -0 -r cp -p -t "$BENCH_IN"
find "$BENCH_IN" -type f -print0 | sort -z > "$WORK/list"
[ -s "$WORK/list" ] || die "no .jpg/.jpeg files in $CORPUS"
IFS=$'\t' read -r N_FILES IN_BYTES MEGAPIXELS < <("$PYTHON" bench/score.py corpus "$WORK/list")
log "corpus: $N_FILES files, $IN_BYTES bytes, $MEGAPIXELS MP from $CORPUS"

# ------------------------------------------------------------------- tools --
# Each command is run by bash (hyperfine --shell bash) with these variables in
# the environment; $BENCH_OUT is the output folder. The templates are single-quoted
# on purpose (SC2016 is off for that): hyperfine's shell expands them, so the kept
# run can point BENCH_OUT elsewhere.
export PHOTOPRESS PYTHON IM NPROC QUALITY BENCH_IN
NAMES=() NEEDS=() CMDS=()
tool() { NAMES+=("$1"); NEEDS+=("$2"); CMDS+=("$3"); }  # tool NAME "NEEDED COMMANDS" COMMAND

tool "photopress (parallel, $NPROC threads)" "" \
  '"$PHOTOPRESS" --quiet --progress never --strip --prefix "" -q "$QUALITY" -o "$BENCH_OUT" "$BENCH_IN"'
# Metadata stripped as Pillow strips it (the ICC profile too): bytes and score like for like.
tool "photopress --strip-icc (parallel, $NPROC threads)" "" \
  '"$PHOTOPRESS" --quiet --progress never --strip --strip-icc --prefix "" -q "$QUALITY" -o "$BENCH_OUT" "$BENCH_IN"'
# One row per re-encoding method (the rows without --method use the default, auto).
tool "photopress --method dct (parallel, $NPROC threads)" "" \
  '"$PHOTOPRESS" --quiet --progress never --strip --prefix "" -q "$QUALITY" --method dct -o "$BENCH_OUT" "$BENCH_IN"'
tool "photopress --method pixel (parallel, $NPROC threads)" "" \
  '"$PHOTOPRESS" --quiet --progress never --strip --prefix "" -q "$QUALITY" --method pixel -o "$BENCH_OUT" "$BENCH_IN"'
tool "photopress --sequential" "" \
  '"$PHOTOPRESS" --quiet --progress never --strip --prefix "" -q "$QUALITY" --sequential -o "$BENCH_OUT" "$BENCH_IN"'
tool "photopress --best (parallel, $NPROC threads)" "" \
  '"$PHOTOPRESS" --quiet --progress never --strip --best --prefix "" -q "$QUALITY" -o "$BENCH_OUT" "$BENCH_IN"'
tool "photopress --method dct --best (parallel, $NPROC threads)" "" \
  '"$PHOTOPRESS" --quiet --progress never --strip --best --method dct --prefix "" -q "$QUALITY" -o "$BENCH_OUT" "$BENCH_IN"'
tool "Pillow reference (thread per image)" "" \
  '"$PYTHON" bench/pillow_ref.py -q "$QUALITY" -o "$BENCH_OUT" "$BENCH_IN" >/dev/null'
tool "Pillow reference --sequential" "" \
  '"$PYTHON" bench/pillow_ref.py --sequential -q "$QUALITY" -o "$BENCH_OUT" "$BENCH_IN" >/dev/null'
# Per-file tools: GNU parallel, one single-threaded job per core (MAGICK_THREAD_LIMIT,
# VIPS_CONCURRENCY) so cores are not oversubscribed. They cd into $BENCH_OUT and
# write {/} (the input's file name): parallel quotes {} and {/} itself, so names
# with spaces survive the shell it runs each job in.
tool "ImageMagick convert (parallel -j$NPROC)" "imagemagick parallel" \
  'cd "$BENCH_OUT" && MAGICK_THREAD_LIMIT=1 parallel --will-cite -j "$NPROC" "$IM" {} -quality "$QUALITY" -sampling-factor 4:2:0 -define jpeg:optimize-coding=true -strip {/} ::: "$BENCH_IN"/*'
tool "libjpeg-turbo djpeg \\| cjpeg (parallel -j$NPROC)" "djpeg cjpeg parallel" \
  'cd "$BENCH_OUT" && parallel --will-cite -j "$NPROC" "djpeg {} | cjpeg -optimize -quality $QUALITY -sample 2x2 > {/}" ::: "$BENCH_IN"/*'
tool "vips jpegsave (parallel -j$NPROC)" "vips parallel" \
  'cd "$BENCH_OUT" && VIPS_CONCURRENCY=1 parallel --will-cite -j "$NPROC" vips jpegsave {} {/} --Q "$QUALITY" --optimize-coding --strip --subsample-mode on ::: "$BENCH_IN"/*'
tool "caesiumclt ($NPROC threads)" "caesiumclt" \
  'caesiumclt --quality "$QUALITY" --jpeg-chroma-subsampling 4:2:0 --output "$BENCH_OUT" --threads "$NPROC" --quiet "$BENCH_IN"'

have() {  # have NAME: a command on PATH, or the ImageMagick binary found above
  if [ "$1" = imagemagick ]; then [ -n "$IM" ]; else command -v "$1" >/dev/null; fi
}

# Outputs go into a fresh empty folder for every timed run.
export BENCH_OUT="$WORK/out"
PREPARE='rm -rf "$BENCH_OUT" && mkdir -p "$BENCH_OUT"'

mkdir -p "$WORK/json" "$WORK/kept"
# Every tool is timed first and scored afterwards: scoring is slow and CPU-heavy, and
# keeping it out of the timing phase keeps the timings clean (and tells the person at the
# machine when the timing is over).
MEDIANS=()
for i in "${!NAMES[@]}"; do
  name=${NAMES[$i]} cmd=${CMDS[$i]}
  MEDIANS[i]=""
  absent=""
  for b in ${NEEDS[$i]}; do have "$b" || absent+=" $b"; done
  if [ -n "$absent" ]; then
    MEDIANS[i]="skipped: not installed:$absent"
    note "$name skipped: not installed:$absent"
    continue
  fi
  log "[$((i + 1))/${#NAMES[@]}] $name: $cmd"
  json="$WORK/json/$i.json"
  if ! hyperfine --shell bash --warmup 1 --runs "$RUNS" --prepare "$PREPARE" \
        --export-json "$json" -n "$name" "$cmd" >&2; then
    MEDIANS[i]="failed (see log)"
    note "$name failed under hyperfine; command: $cmd"
    continue
  fi
  MEDIANS[i]=$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$json")
  # One more (untimed) run into a kept folder, for sizes and quality.
  kept="$WORK/kept/$i"
  mkdir -p "$kept"
  BENCH_OUT="$kept" bash -c "$cmd" >/dev/null 2>&1 || note "$name: the kept (untimed) run failed"
done
log "timing done; scoring the outputs"

ROWS=()
for i in "${!NAMES[@]}"; do
  name=${NAMES[$i]} median=${MEDIANS[$i]}
  case $median in
    skipped*|failed*) ROWS+=("| $name | $median | | | | |"); continue ;;
  esac
  kept="$WORK/kept/$i"
  log "scoring $name"
  IFS=$'\t' read -r found out_bytes score scored formats < <(
    "$PYTHON" bench/score.py tool "$WORK/list" "$kept" ${DSSIM:+--dssim "$DSSIM"})
  [ "$found" = "$N_FILES" ] || note "$name: only $found of $N_FILES outputs found"
  [ "$score" = n/a ] || [ "$scored" = "$found" ] || note "$name: dssim scored only $scored of $found outputs"
  note "$name outputs: $formats"
  ROWS+=("$(awk -v n="$name" -v m="$median" -v mp="$MEGAPIXELS" -v ob="$out_bytes" -v ib="$IN_BYTES" -v s="$score" \
    'BEGIN { printf "| %s | %.3f | %.1f | %d | %.1f %% | %s |", n, m, mp / m, ob, 100 * ob / ib, s }')")
done

# ------------------------------------------------------------------ report --
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
ver() {  # ver COMMAND...: first line of its version output, or "not installed"
  if command -v "$1" >/dev/null 2>&1 || [ -x "$1" ]; then
    { "$@" 2>&1 || true; } | head -n1 | tr -d '\r'
  else
    echo "not installed"
  fi
}
versions=(
  "photopress: $(ver "$PHOTOPRESS" --version)"
  "Pillow $("$PYTHON" -c 'import PIL, platform; print(PIL.__version__ + ", Python " + platform.python_version())')"
  "ImageMagick: $(ver "${IM:-convert-not-found}" -version | sed "s/^Version: //")"
  "libjpeg-turbo: $(ver cjpeg -version)"
  "vips: $(ver vips --version)"
  "caesiumclt: $(ver caesiumclt --version)"
  "dssim: $(cargo install --list 2>/dev/null | awk '/^dssim /{ print $2 }' | tr -d ':' || true)"
  "hyperfine: $(ver hyperfine --version)"
  "GNU parallel: $(ver parallel --version)"
)
{
  echo "# photopress comparison"
  echo
  printf '%s, nproc %s, CPU %s; corpus: %s JPEGs, %s bytes (%.1f MiB), %s MP (%s); quality %s, 4:2:0, optimized Huffman, metadata stripped; hyperfine --warmup 1 --runs %s.\n' \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$NPROC" "${cpu:-unknown}" "$N_FILES" "$IN_BYTES" \
    "$(awk -v b="$IN_BYTES" 'BEGIN { print b / 1048576 }')" "$MEGAPIXELS" "$CORPUS" "$QUALITY" "$RUNS"
  echo
  echo "MP/s = corpus megapixels / median wall time. rate = output bytes / input bytes. score = mean dssim (1/SSIM - 1, multi-scale, perceptual colour space) of each output against its input: lower is better, 0 = identical."
  echo
  echo "| tool | median wall s | MP/s | output bytes | rate | score (mean dssim) |"
  echo "|---|---:|---:|---:|---:|---:|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "Notes:"
  echo "- Metadata: photopress --strip keeps the ICC profile; Pillow (no icc_profile passed), ImageMagick -strip, djpeg|cjpeg and vips --strip drop it too; caesiumclt drops EXIF (no -e) but, like photopress, keeps ICC; it writes progressive JPEGs by default (mozjpeg), as the outputs line below shows. dssim honours ICC profiles, so a dropped non-sRGB profile shows up in the score."
  echo "- photopress re-encoding methods: the rows without --method use the default, auto (the DCT-domain transcoder for every YCbCr and gray baseline/progressive Huffman input it can write as 4:2:0, downsampling 4:4:4/4:2:2/4:4:0 chroma in the DCT domain, and under --best with trellis quantization of those coefficients; the pixel path for the rest); --method dct transcodes every input it covers and keeps that input's chroma subsampling (see its outputs line), with --best as well; --method pixel decodes and re-encodes every image with mozjpeg (with --best: mozjpeg's trellis on pixels, the old --best). bench/method_cpu.sh times the two methods' CPU."
  echo "- Per-file tools run under GNU parallel, one single-threaded job per core; photopress, caesiumclt and the Pillow reference use their own threads."
  for n in "${NOTES[@]}"; do echo "- $n"; done
  echo
  echo "Versions:"
  for v in "${versions[@]}"; do echo "- $v"; done
} > "$WORK/results.md"

cp "$WORK/results.md" bench/results.md
cat "$WORK/results.md"
log "table written to bench/results.md"
