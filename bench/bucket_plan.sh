#!/usr/bin/env bash
# bench/bucket_plan.sh [N...]   (default 20000 100000)
#
# `photopress plan` over a bucket: time and peak memory as the listing grows. For each N, a
# bucket on moto (127.0.0.1, started and stopped here) gets N empty `.jpg` objects, 1000 a
# prefix (`d0007/p0042.jpg`); then, RUNS times (default 3; median wall, largest peak RSS):
#   photopress plan s3://plan-N -r --shard-count 1000 --to DIR
# for PHOTOPRESS (default target/release/photopress) and, when given, BASE (an older binary,
# alternated), checking that both wrote the same 1000 key lists and plan.json (cmp). A plan
# that holds its listing grows with N; one that streams it does not.
# Needs .tools/moto-venv (./scripts/install-deps.sh). Uploading is the slow part (moto takes
# about 1000 empty PUTs a second here), and moto's listing walks every key for every page.
# SERVER=synthetic lists bench/list_server.py's made-up buckets instead (N objects of 4096
# bytes, generated page by page): the sizes moto cannot reach (10^6, 10^7).
set -euo pipefail
cd "$(dirname "$0")/.."
PHOTOPRESS=${PHOTOPRESS:-target/release/photopress}
BASE=${BASE:-}
RUNS=${RUNS:-3}
PY=.tools/moto-venv/bin/python
SERVER=${SERVER:-moto}
[ $# -gt 0 ] || set -- 20000 100000
[ -x "$PHOTOPRESS" ] || { echo "build first: cargo build --release" >&2; exit 2; }
[ -x "$PY" ] || { echo "no $PY (./scripts/install-deps.sh)" >&2; exit 2; }
PORT=$(.ci/services.sh free-port)
WORK=$(mktemp -d)
if [ "$SERVER" = synthetic ]; then
    python3 bench/list_server.py "$PORT" &
    LISTER=$!
    trap 'kill $LISTER 2>/dev/null || true; rm -rf "$WORK"' EXIT
    sleep 1
else
    trap '.ci/services.sh stop-moto >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
    .ci/services.sh start-moto "$PORT" >/dev/null
fi
export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT AWS_ALLOW_HTTP=true AWS_ACCESS_KEY_ID=test \
    AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| keys | binary | wall (median of $RUNS) | peak RSS |"
echo "|---:|---|---:|---:|"
for n in "$@"; do
    bucket=plan-$n
    [ "$SERVER" = synthetic ] && bucket=synthetic-$n
    [ "$SERVER" = synthetic ] || "$PY" - "$n" <<'PYEOF'
import sys, boto3
from concurrent.futures import ThreadPoolExecutor
n = int(sys.argv[1])
s3 = boto3.client("s3")
bucket = f"plan-{n}"
s3.create_bucket(Bucket=bucket)
def put(i):
    s3.put_object(Bucket=bucket, Key=f"d{i // 1000:04}/p{i % 1000:04}.jpg", Body=b"")
with ThreadPoolExecutor(16) as pool:
    list(pool.map(put, range(n), chunksize=256))
PYEOF
    binaries=("$PHOTOPRESS")
    [ -n "$BASE" ] && binaries+=("$BASE")
    for _ in $(seq "$RUNS"); do
        for i in "${!binaries[@]}"; do
            rm -rf "$WORK/plan-$i"
            /usr/bin/time -f '%e %M' -o "$WORK/time" "${binaries[$i]}" plan "s3://$bucket" -r \
                --shard-count 1000 --to "$WORK/plan-$i" >/dev/null
            cat "$WORK/time" >> "$WORK/times-$n-$i"
        done
    done
    if [ -n "$BASE" ]; then
        for f in "$WORK/plan-0"/*; do
            cmp -s "$f" "$WORK/plan-1/$(basename "$f")" || { echo "plans differ: $(basename "$f")" >&2; exit 1; }
        done
    fi
    for i in "${!binaries[@]}"; do
        wall=$(cut -d' ' -f1 "$WORK/times-$n-$i" | median)
        peak=$(cut -d' ' -f2 "$WORK/times-$n-$i" | sort -n | tail -1)
        echo "| $n | ${binaries[$i]} | $wall s | $((peak / 1024)) MB |"
    done
done
