#!/usr/bin/env bash
# bench/method_cpu.sh [CORPUS_DIR]
#
# The CPU cost of photopress's two re-encoding methods on the same photos: the pixel path
# (`--method pixel`: decode with libjpeg, encode with mozjpeg) against the DCT-domain
# transcoder (`--method dct`: requantize the coefficients, no pixels), both `--sequential`
# (one thread: wall time is CPU time, no scheduling noise) at the default quality 30, on the
# corpus's YCbCr 4:2:0 baseline photos: the layout `--method auto` transcodes and the one both
# methods write, so their outputs are alike. Prints one markdown table:
#   method | median wall s | median user+sys s | MP per CPU s | output bytes | images dct/pixel
# and the pixel/dct CPU ratio.
#
# The photos are picked from their frame headers (python3, standard library only) and linked
# into a scratch folder; hyperfine times each method (--warmup 1, RUNS runs, the output folder
# removed before each run by --prepare), then /usr/bin/time (or, without it, python3's
# getrusage) takes user+sys CPU seconds over RUNS more runs per method, alternating, and the
# median is printed.
#
# CORPUS_DIR: a folder of .jpg/.jpeg files, or a folder holding photos/.
#   Default: bench/corpus, built with ../shared/bench/make_corpus.sh (43 photos).
# Environment:
#   RUNS=5             hyperfine runs, and CPU-time runs, per method (5 or more for figures
#                      worth quoting)
#   LAYOUT=baseline    which 4:2:0 photos: baseline (SOF0/SOF1), progressive (SOF2), or all.
#                      IMAGES/ holds no 4:2:0 baseline photo: try it with LAYOUT=all.
#                      LAYOUT=subsampled: the 4:4:4, 4:2:2 and 4:4:0 photos (any Huffman
#                      coding), timed as pixel against auto, which downsamples their chroma
#                      in the DCT domain (--method dct would keep it, a different output).
#   PHOTOPRESS=PATH    the binary to time (default: cargo build --release, target/release)
#   KEEP_WORK=1        keep the scratch folder (links, outputs, hyperfine JSON)
set -euo pipefail

RUNS=${RUNS:-5}
LAYOUT=${LAYOUT:-baseline}
QUALITY=30

log() { printf '[method_cpu] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

CORPUS_ARG=""
if [ $# -ge 1 ]; then
  [ -d "$1" ] || die "corpus folder '$1' not found"
  CORPUS_ARG=$(cd "$1" && pwd)
fi
[ $# -le 1 ] || die "usage: $0 [CORPUS_DIR]"
case $LAYOUT in baseline|progressive|all|subsampled) ;; *) die "LAYOUT must be baseline, progressive, all or subsampled" ;; esac
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number"
[ "$RUNS" -ge 5 ] || log "RUNS=$RUNS: fewer than 5 runs, a smoke test rather than a measurement"

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$SCRIPT_DIR" rev-parse --show-toplevel 2>/dev/null || dirname "$SCRIPT_DIR")
cd "$ROOT"

command -v hyperfine >/dev/null || die "hyperfine is required (apt-get install hyperfine)"
command -v python3 >/dev/null || die "python3 is required"

if [ -z "${PHOTOPRESS:-}" ]; then
  [ -x scripts/install-deps.sh ] && scripts/install-deps.sh
  log "cargo build --release"
  cargo build --release --quiet || die "cargo build --release failed"
  PHOTOPRESS="$ROOT/target/release/photopress"
fi
[ -x "$PHOTOPRESS" ] || die "$PHOTOPRESS is not an executable"

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

WORK=$(mktemp -d "${TMPDIR:-/tmp}/photopress-method.XXXXXX")
if [ "${KEEP_WORK:-0}" = 1 ]; then
  trap 'log "scratch folder kept: $WORK"' EXIT
else
  trap 'rm -rf "$WORK"' EXIT
fi
IN="$WORK/in" OUT="$WORK/out"
mkdir -p "$IN"

# ------------------------------------------------------------------ select --
# Links to the YCbCr 4:2:0 photos of the chosen coding; prints "files bytes megapixels" and
# lists what it left out (with why) on stderr.
read -r N_FILES IN_BYTES MEGAPIXELS < <(python3 - "$CORPUS" "$IN" "$LAYOUT" <<'PY'
import os, sys

corpus, dest, layout = sys.argv[1:4]

def frame(path):
    """(SOF marker, [(h, v)...], width, height, Adobe transform or None), or None."""
    with open(path, "rb") as f:
        data = f.read(1 << 20)  # the headers; a frame header further in is not a photo's
    if data[:2] != b"\xff\xd8":
        return None
    i, adobe = 2, None
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        body = data[i + 4:i + 2 + length]
        if marker == 0xEE and body[:5] == b"Adobe" and len(body) >= 12:
            adobe = body[11]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if len(body) < 6:
                return None
            height = int.from_bytes(body[1:3], "big")
            width = int.from_bytes(body[3:5], "big")
            n = body[5]
            factors = [(body[7 + 3 * k] >> 4, body[7 + 3 * k] & 15) for k in range(n)
                       if 8 + 3 * k <= len(body)]
            return marker, factors, width, height, adobe
        if marker in (0xDA, 0xD9):
            return None
        i += 2 + length
    return None

files = total = pixels = 0
for name in sorted(os.listdir(corpus)):
    path = os.path.join(corpus, name)
    if not (os.path.isfile(path) and name.lower().endswith((".jpg", ".jpeg"))):
        continue
    f = frame(path)
    if f is None:
        why = "no frame header found"
    else:
        marker, factors, width, height, adobe = f
        coding = {0xC0: "baseline", 0xC1: "baseline", 0xC2: "progressive"}.get(marker)
        wanted = [[(2, 2), (1, 1), (1, 1)]]
        if layout == "subsampled":
            wanted = [[(1, 1)] * 3, [(2, 1), (1, 1), (1, 1)], [(1, 2), (1, 1), (1, 1)]]
        if factors not in wanted or adobe == 0:
            why = "not YCbCr 4:2:0 (" + ",".join(f"{h}x{v}" for h, v in factors) + ")"
        elif coding is None:
            why = f"coding SOF{marker - 0xC0} (not Huffman baseline/progressive)"
        elif layout not in ("all", "subsampled") and coding != layout:
            why = coding
        else:
            why = None
    if why:
        print(f"  left out {name}: {why}", file=sys.stderr)
        continue
    os.symlink(os.path.abspath(path), os.path.join(dest, name))
    files += 1
    total += os.path.getsize(path)
    pixels += width * height
print(files, total, f"{pixels / 1e6:.1f}")
PY
)
[ "$N_FILES" -gt 0 ] || die "no YCbCr 4:2:0 photo of layout '$LAYOUT' in $CORPUS (LAYOUT=all takes progressive ones too)"
log "$N_FILES photos ($LAYOUT 4:2:0), $IN_BYTES bytes, $MEGAPIXELS MP, from $CORPUS"

# ------------------------------------------------------------------- time --
# The transcoder's method: dct, or auto where the chroma is downsampled.
TRANSCODER=dct
[ "$LAYOUT" = subsampled ] && TRANSCODER=auto
METHODS=(pixel "$TRANSCODER")
cmd() {  # cmd METHOD [OUTDIR]: the command line, quoted for a shell
  printf '%q ' "$PHOTOPRESS" --quiet --progress never --sequential --method "$1" \
    -q "$QUALITY" -o "${2:-$OUT}" "$IN"
}

# Untimed: what each method did (images transcoded / decoded to pixels), and its bytes.
declare -A DID BYTES
for m in "${METHODS[@]}"; do
  rm -rf "$OUT"
  eval "$(cmd "$m") --json" > "$WORK/$m.json" || die "photopress --method $m failed"
  read -r dct pixel bytes failed < <(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["totals"]
print(t.get("dct", 0), t.get("pixel", 0), t["output_bytes"], t["failed"])' "$WORK/$m.json")
  [ "$failed" = 0 ] || die "photopress --method $m failed $failed images (see $WORK/$m.json)"
  DID[$m]="$dct/$pixel"
  BYTES[$m]=$bytes
done
[ "${DID[$TRANSCODER]%/*}" = "$N_FILES" ] ||
  log "warning: --method $TRANSCODER transcoded only ${DID[$TRANSCODER]%/*} of $N_FILES images (the rest took the pixel path)"

hf_args=()
for m in "${METHODS[@]}"; do hf_args+=(-n "$m" "$(cmd "$m")"); done
log "hyperfine: ${#METHODS[@]} methods x (1 warmup + $RUNS runs)"
hyperfine --warmup 1 --runs "$RUNS" --prepare "rm -rf $(printf '%q' "$OUT")" \
  --export-json "$WORK/hyperfine.json" "${hf_args[@]}" >&2

# CPU seconds (user + sys) of each run, the methods alternating so drift hits both alike.
cpu_run() {  # cpu_run METHOD: prints user+sys seconds of one run
  rm -rf "$OUT"
  if [ -x /usr/bin/time ]; then
    eval "/usr/bin/time -f '%U %S' -o $(printf '%q' "$WORK/time") $(cmd "$1")" >/dev/null
    awk '{ printf "%.3f\n", $1 + $2 }' "$WORK/time"
  else
    python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1], shell=True, check=True, stdout=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{r.ru_utime + r.ru_stime:.3f}")' "$(cmd "$1")"
  fi
}
log "CPU time: ${#METHODS[@]} methods x $RUNS runs"
declare -A CPU
for ((r = 0; r < RUNS; r++)); do
  for m in "${METHODS[@]}"; do CPU[$m]+="$(cpu_run "$m") "; done
done

# ----------------------------------------------------------------- report --
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
WALL=$(python3 -c '
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(r["command"], r["median"])' "$WORK/hyperfine.json")
echo "# photopress: pixel path against DCT-domain transcoder, CPU"
echo
printf '%s, %s, CPU %s; %s YCbCr photos (LAYOUT=%s), %s bytes, %s MP (%s); quality %s, --sequential; hyperfine --warmup 1 --runs %s; CPU = median of %s runs of user+sys.\n' \
  "$(date -u '+%Y-%m-%d %H:%M UTC')" "$("$PHOTOPRESS" --version 2>/dev/null | head -n1)" \
  "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)" \
  "$N_FILES" "$LAYOUT" "$IN_BYTES" "$MEGAPIXELS" "$CORPUS" "$QUALITY" "$RUNS" "$RUNS"
echo
echo "| method | median wall s | median user+sys s | MP per CPU s | output bytes | images dct/pixel |"
echo "|---|---:|---:|---:|---:|---:|"
for m in "${METHODS[@]}"; do
  wall=$(awk -v m="$m" '$1 == m { print $2 }' <<<"$WALL")
  cpu=$(median <<<"${CPU[$m]}")
  awk -v m="$m" -v w="$wall" -v c="$cpu" -v mp="$MEGAPIXELS" -v b="${BYTES[$m]}" -v d="${DID[$m]}" \
    'BEGIN { printf "| --method %s | %.3f | %.3f | %.1f | %d | %s |\n", m, w, c, mp / c, b, d }'
done
echo
awk -v p="$(median <<<"${CPU[pixel]}")" -v d="$(median <<<"${CPU[$TRANSCODER]}")" -v t="$TRANSCODER" \
  'BEGIN { if (d > 0) printf "CPU ratio pixel / %s: %.2fx (%s / pixel: %.2fx)\n", t, p / d, t, d / p; else print "CPU ratio: n/a (the transcoder took no measurable time)" }'
echo "CPU seconds per run: pixel ${CPU[pixel]}; $TRANSCODER ${CPU[$TRANSCODER]}"
