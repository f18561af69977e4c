#!/usr/bin/env bash
# bench/s3_bench.sh [CORPUS_DIR] [RUNS]
#
# Bucket-to-bucket against local, on the corpus (bench/corpus/photos by default, made by
# ../shared/bench/make_corpus.sh), with moto serving S3 on 127.0.0.1 (started and stopped
# here, from .tools/moto-venv: ./scripts/install-deps.sh makes it). Prints the median wall
# time of RUNS runs (default 3) of:
#   local      photopress CORPUS -o DIR                         (files to files)
#   s3         photopress s3://bench-in/photos -o s3://bench-out/cN (bucket to bucket)
#   transfer   the same GETs and PUTs alone (boto3, 4 threads): what the network part costs
#   task0      one array task over an empty key list (connect, manifest, nothing to do)
# local and s3 alternate within each round (local, s3, local, s3, ...). For both it also
# prints the CPU seconds (user + sys, medians) photopress spent, and for s3 moto's: moto serves
# on the same cores, so on a small machine the s3 row pays for the server too. JOBS=N runs
# both with -j N (JOBS=1 leaves the second core to the server: the per-worker comparison).
# Needs a release build (cargo build --release).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${1:-bench/corpus/photos}
RUNS=${2:-3}
BIN=${BIN:-target/release/photopress}
PY=.tools/moto-venv/bin/python
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 2; }
[ -d "$CORPUS" ] || { echo "no corpus at $CORPUS (../shared/bench/make_corpus.sh bench/corpus)" >&2; exit 2; }
PORT=$(.ci/services.sh free-port)
trap '.ci/services.sh stop-moto >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
WORK=$(mktemp -d)
.ci/services.sh start-moto "$PORT" >/dev/null
export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT AWS_ALLOW_HTTP=true AWS_ACCESS_KEY_ID=test \
    AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
"$PY" - "$CORPUS" <<'EOF'
import sys, pathlib, boto3
s3 = boto3.client("s3")
for b in ("bench-in", "bench-out"):
    s3.create_bucket(Bucket=b)
for p in sorted(pathlib.Path(sys.argv[1]).glob("*.jpg")):
    s3.upload_file(str(p), "bench-in", "photos/" + p.name)
EOF
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
wall() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s.%N); awk "BEGIN {print $t1 - $t0}"; }
# "wall cpu" of one photopress run (GNU time: elapsed, user + sys).
timed() { /usr/bin/time -f '%e %U %S' -o "$WORK/time" "$@" >/dev/null 2>&1 || true; awk '{print $1, $2 + $3}' "$WORK/time"; }
MOTO_PID=$(cat "${PHOTOPRESS_MOTO_STATE:-/tmp/photopress-moto}/moto.pid")
TICK=$(getconf CLK_TCK)
moto_cpu() { awk -v t="$TICK" '{print ($14 + $15) / t}' "/proc/$MOTO_PID/stat"; }
jobs=()
[ -n "${JOBS:-}" ] && jobs=(-j "$JOBS")
n=0
: > "$WORK/empty.keys"
: > "$WORK/local"; : > "$WORK/s3"
for _ in $(seq "$RUNS"); do
    rm -rf "$WORK/out"
    timed "$BIN" "$CORPUS" -o "$WORK/out" "${jobs[@]}" --progress never >> "$WORK/local"
    # A fresh output prefix each run: a bucket output keeps a manifest, and a rerun into the
    # same prefix would skip everything.
    n=$((n + 1))
    before=$(moto_cpu)
    row=$(timed "$BIN" s3://bench-in/photos -o "s3://bench-out/c$n" "${jobs[@]}" --progress never --quiet)
    echo "$row $(awk "BEGIN {print $(moto_cpu) - $before}")" >> "$WORK/s3"
done
local_wall=$(cut -d' ' -f1 "$WORK/local" | median)
s3_wall=$(cut -d' ' -f1 "$WORK/s3" | median)
echo "local $local_wall (photopress cpu $(cut -d' ' -f2 "$WORK/local" | median) s)"
echo "s3 $s3_wall (photopress cpu $(cut -d' ' -f2 "$WORK/s3" | median) s, moto cpu $(cut -d' ' -f3 "$WORK/s3" | median) s)"
echo "throughput bucket/local $(awk "BEGIN {printf \"%.3f\", $local_wall / $s3_wall}")${JOBS:+ at -j $JOBS}"
for what in transfer task0; do
    for _ in $(seq "$RUNS"); do
        case $what in
            transfer) wall "$PY" - "$WORK/out" <<'EOF'
import sys, pathlib, boto3
from concurrent.futures import ThreadPoolExecutor
s3 = boto3.client("s3")
keys = [o["Key"] for o in s3.list_objects_v2(Bucket="bench-in", Prefix="photos/")["Contents"]]
outs = {p.name: p.read_bytes() for p in pathlib.Path(sys.argv[1]).glob("*.jpg")}
def move(key):
    s3.get_object(Bucket="bench-in", Key=key)["Body"].read()
    name = "compressed_" + key.split("/")[-1]
    s3.put_object(Bucket="bench-out", Key="t/" + name, Body=outs.get(name, b""))
with ThreadPoolExecutor(4) as pool:
    list(pool.map(move, keys))
EOF
            ;;
            task0) wall "$BIN" s3://bench-in/photos -o s3://bench-out/c0 --shard-count 1000 \
                --shard-index 7 --keys-from "$WORK/empty.keys" --progress never --quiet ;;
        esac
    done | median | sed "s/^/$what /"
done
