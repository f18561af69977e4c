#!/usr/bin/env bash
# End-to-end test of photopress as a Slurm array job over S3 (issue 11, "Done means"):
# a one-node Slurm and moto on loopback, the photos plus broken files in a bucket, the plan job
# and a 4-shard array job submitted with deploy/slurm/submit.sh, then checks: every key done
# exactly once (by its own shard), outputs byte-identical to a local run, the job report's totals
# equal to the local run's, the broken files failed alone and the tasks holding them exited 1.
# Then a crash and resume: outputs and manifests deleted, only tasks 0 and 2 run, the whole
# array resubmitted: only shards 1 and 3's keys are processed again (manifest records and the
# GETs moto recorded), and the final state is complete.
#
# Prints PASS/FAIL per check and ends with "N passed, M failed"; exit status 1 on any failure.
# Everything it starts is stopped on exit (also on failure or Ctrl-C).
#
# Environment:
#   PHOTOPRESS_E2E=services  only the service checks (Slurm, moto, jobs that are not photopress)
#   PHOTOPRESS_BIN=PATH      test this binary instead of building target/release/photopress
#   PHOTOPRESS_E2E_PROFILE=debug  test target/debug/photopress (saves CI a release build)
#   PHOTOPRESS_E2E_KEEP=1    keep the work folder (kept anyway when a check failed)
#   PHOTOPRESS_E2E_WAIT_S    bound on each wait for a job (default 120)
# Ports: moto on a free loopback port; Slurm on 6817/6818 (see .ci/services.sh).
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT" || exit 2
MODE=${PHOTOPRESS_E2E:-full}
WAIT_S=${PHOTOPRESS_E2E_WAIT_S:-120}
SHARDS=4
SERVICES="$ROOT/.ci/services.sh"
PY="$ROOT/.tools/moto-venv/bin/python"
S3PY="$ROOT/.ci/e2e_s3.py"
IN_BUCKET=photos-in   # S3 bucket names need 3 characters or more ("in" is refused)
OUT_BUCKET=photos-out
INPUT="s3://$IN_BUCKET/photos"
OUTPUT="s3://$OUT_BUCKET/compressed"
PLAN="s3://$OUT_BUCKET/plan"
MANIFESTS="$OUTPUT/_photopress/n$SHARDS"
WORK=$(mktemp -d /tmp/photopress-e2e.XXXXXX)
SLURM_LOGS="$WORK/slurm"
mkdir -p "$SLURM_LOGS"
T0=$SECONDS

passed=0
failed=0
say() { echo "[e2e $((SECONDS - T0))s] $*"; }
pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; }
# check DESCRIPTION COMMAND...: one check; the command's own output explains a failure.
check() {
    local desc=$1
    shift
    if "$@"; then
        pass "$desc"
    else
        fail "$desc"
        return 1
    fi
}
s3py() { "$PY" "$S3PY" "$@"; }

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    "$SERVICES" stop-all >/dev/null 2>&1 || "$SERVICES" stop-all
    if [ "$failed" -eq 0 ] && [ "$rc" -eq 0 ] && [ -z "${PHOTOPRESS_E2E_KEEP:-}" ]; then
        rm -rf "$WORK"
    else
        echo "work folder kept: $WORK (Slurm logs: ${PHOTOPRESS_SLURM_STATE:-/tmp/photopress-slurm})"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] && exit 0
    exit 1
}

# wait_job ID N: waits (at most WAIT_S) until job ID has left squeue and Slurm's completion
# log holds N records of it (array tasks, or the job itself when N is 1 and it is no array).
# On timeout: the queue, the job's output and the daemons' logs, then the job is cancelled.
wait_job() {
    local id=$1 n=$2 end=$((SECONDS + WAIT_S)) done_n=0 gone=""
    while [ "$SECONDS" -lt "$end" ]; do
        if [ -z "$(squeue -h -j "$id" 2>/dev/null)" ]; then
            done_n=$(grep -c -E "^JobId=$id |ArrayJobId=$id " "$JOBCOMP" 2>/dev/null)
            [ "${done_n:-0}" -ge "$n" ] && return 0
            # Out of the queue with fewer records (e.g. cancelled as a dependency failed): the
            # log is written at once, so 5 s more are plenty.
            gone=${gone:-$SECONDS}
            [ $((SECONDS - gone)) -ge 5 ] && break
        fi
        sleep 0.25
    done
    echo "    job $id: ${done_n:-0} of $n completion records after $((SECONDS - end + WAIT_S))s:" >&2
    grep -E "^JobId=$id |ArrayJobId=$id " "$JOBCOMP" | cut -c1-160 >&2
    squeue -a -l >&2 2>&1
    tail -n 20 "$SLURM_LOGS"/*"$id"* >&2 2>/dev/null
    tail -n 20 "$SLURM_STATE_DIR/slurmctld.log" "$SLURM_STATE_DIR/slurmd.log" >&2 2>/dev/null
    scancel "$id" 2>/dev/null
    return 1
}

# exit_codes ID: "task=code ..." of array job ID, from the completion log.
exit_codes() {
    grep "ArrayJobId=$1 " "$JOBCOMP" | sed -E 's/.*ArrayTaskId=([0-9]+).* ExitCode=([0-9]+):.*/\1=\2/' |
        sort -n | tr '\n' ' '
}

# ------------------------------------------------------------------ services

say "work folder $WORK, mode $MODE"
./scripts/install-deps.sh || { fail "scripts/install-deps.sh"; finish; }

if [ "$MODE" = full ]; then
    if [ -n "${PHOTOPRESS_BIN:-}" ]; then
        BIN=$PHOTOPRESS_BIN
    else
        if [ "${PHOTOPRESS_E2E_PROFILE:-release}" = debug ]; then
            BIN="$ROOT/target/debug/photopress"
            # cargo test --no-run: the binary exactly as cargo test builds it (with the
            # dev-dependencies' features), so after cargo test nothing is rebuilt.
            say "cargo test --no-run (debug binary, no release build)"
            check "cargo test --no-run" cargo test --no-run --quiet
        else
            BIN="$ROOT/target/release/photopress"
            say "cargo build --release"
            check "cargo build --release" cargo build --release --quiet
        fi
    fi
    check "photopress binary at $BIN" test -x "$BIN"
fi

MOTO_PORT=$("$SERVICES" free-port)
t=$SECONDS
check "moto starts on 127.0.0.1:$MOTO_PORT" "$SERVICES" start-moto "$MOTO_PORT" || finish
say "start-moto took $((SECONDS - t))s"
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" AWS_ALLOW_HTTP=true
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1

t=$SECONDS
check "Slurm starts (one node, loopback) and is idle" "$SERVICES" start-slurm || finish
say "start-slurm took $((SECONDS - t))s"
eval "$("$SERVICES" env)" # SLURM_CONF
SLURM_STATE_DIR=$(dirname "$SLURM_CONF")
JOBCOMP="$SLURM_STATE_DIR/jobcomp.log"
cd "$WORK" || exit 2 # sbatch's working folder: slurm-*.out files land here, not in the repo

KEYS="$WORK/keys.txt"
BROKEN="$WORK/broken.txt"
check "buckets, photos under photos/{a,b/c,d}/ and 3 broken files uploaded" \
    s3py upload "$ROOT/IMAGES" "$INPUT" --buckets "$IN_BUCKET" "$OUT_BUCKET" \
    --subdirs a b/c d --keys-out "$KEYS" --broken-out "$BROKEN"
check "listing the input prefix gives the uploaded keys" \
    bash -c '[ "$("$0" "$1" list "$2")" = "$(cat "$3")" ]' "$PY" "$S3PY" "$INPUT" "$KEYS"
NKEYS=$(wc -l <"$KEYS")
BROKEN_SHARDS=$(s3py shards "$BROKEN" --n "$SHARDS" | tr '\n' ' ')
say "$NKEYS keys; broken files in shards: $BROKEN_SHARDS"

# A trivial array job: each task lists the bucket with the exported AWS_* (so the jobs see the
# endpoint and credentials) and exits with its index's parity (so exit codes are read right).
job=$(sbatch --parsable --array=0-3 --cpus-per-task=1 -o "$SLURM_LOGS/trivial-%A_%a.out" \
    --wrap "\"$PY\" \"$S3PY\" list \"$INPUT\" >\"$WORK/trivial-\$SLURM_ARRAY_TASK_ID.keys\"
            [ \$? = 0 ] || exit 3; exit \$((SLURM_ARRAY_TASK_ID % 2))")
check "trivial 4-task array job (sbatch $job) finishes" wait_job "$job" 4
check "each trivial task read the bucket with the job's AWS_* environment" \
    bash -c 'for i in 0 1 2 3; do cmp -s "$0/trivial-$i.keys" "$1" || exit 1; done' "$WORK" "$KEYS"
check "trivial tasks' exit codes from the completion log: 0=0 1=1 2=0 3=1" \
    test "$(exit_codes "$job")" = "0=0 1=1 2=0 3=1 "

# scancel: a running array job is cancelled and leaves the queue. Slurm's completion log then
# holds a record per running task and one for the tasks still pending, all CANCELLED.
job=$(sbatch --parsable --array=0-3 --cpus-per-task=1 -o /dev/null --wrap "sleep 300")
running_want=$(($(nproc) < 4 ? $(nproc) : 4))
end=$((SECONDS + 30))
until [ "$(squeue -h -j "$job" -t RUNNING 2>/dev/null | wc -l)" -ge "$running_want" ] ||
    [ "$SECONDS" -ge "$end" ]; do sleep 0.2; done
scancel "$job"
records_want=$((running_want + (running_want < 4 ? 1 : 0)))
check "scancel ends a running array job (sbatch $job, $running_want tasks running)" \
    wait_job "$job" "$records_want"
check "the completion log says CANCELLED for each of its $records_want records" \
    test "$(grep -E "^JobId=$job |ArrayJobId=$job " "$JOBCOMP" | grep -c 'JobState=CANCELLED')" -eq "$records_want"

if [ "$MODE" != full ]; then
    say "PHOTOPRESS_E2E=$MODE: the photopress part is skipped"
    finish
fi

# ------------------------------------------------------------------ photopress (to the contract)
# Everything below runs photopress's object-storage, plan, shard, manifest and report features
# (spec: /work/spec-scaleout.md).

# Local reference: the same keys as files, one run, the same options as the array tasks.
s3py download "$INPUT" "$WORK/local-in"
# photopress: local run (exit 1 expected: the broken files fail).
"$BIN" "$WORK/local-in" -r -o "$WORK/local-out" --json >"$WORK/local.json" 2>"$WORK/local.err"
rc=$?
check "local run exits 1 (broken files failed, the others done)" test "$rc" -eq 1
check "local run's JSON report parses and counts ${NKEYS} files" \
    "$PY" -c 'import json,sys; t=json.load(open(sys.argv[1]))["totals"]; sys.exit(t["files"] != int(sys.argv[2]))' \
    "$WORK/local.json" "$NKEYS"

export PHOTOPRESS="$BIN" SBATCH_ARGS="--cpus-per-task=1" LOG_DIR="$SLURM_LOGS"
# photopress: plan job + array job, as deploy/slurm/submit.sh submits them.
ids=$("$ROOT/deploy/slurm/submit.sh" "$INPUT" "$OUTPUT" "$SHARDS" "$PLAN")
plan_job=$(sed -n 's/^PLAN_JOB=//p' <<<"$ids")
array_job=$(sed -n 's/^ARRAY_JOB=//p' <<<"$ids")
check "deploy/slurm/submit.sh submitted the plan and the array job ($plan_job, $array_job)" \
    test -n "$plan_job" -a -n "$array_job"
plan_ok() {
    wait_job "$plan_job" 1 && grep -q "^JobId=$plan_job .* ExitCode=0:0" "$JOBCOMP" && return 0
    tail -n 5 "$SLURM_LOGS/photopress-plan-$plan_job.out" >&2
    return 1
}
check "plan job finishes with exit code 0" plan_ok
check "plan wrote shard-0..3.keys (each key in its hash shard) and plan.json" \
    s3py check-plan "$PLAN" --keys "$KEYS" --n "$SHARDS"
check "array job ($array_job, 4 tasks) finishes" wait_job "$array_job" 4
check "tasks exit 1 exactly where their shard holds a broken file ($(exit_codes "$array_job"))" \
    s3py check-exit "$JOBCOMP" --job "$array_job" --tasks 0,1,2,3 --broken "$BROKEN" --n "$SHARDS" --logs "$SLURM_LOGS"
check "manifests: every key recorded once, by its own shard; good done, broken failed" \
    s3py check-manifest "$MANIFESTS" --keys "$KEYS" --broken "$BROKEN" --n "$SHARDS"
check "outputs: one per good key, byte-identical to the local run, none for broken files" \
    s3py check-outputs "$OUTPUT" --local "$WORK/local-out" --keys "$KEYS" --broken "$BROKEN"
# photopress: the job's report.
"$BIN" report "$MANIFESTS" --plan "$PLAN" --json >"$WORK/report.json" 2>"$WORK/report.err"
check "job report's totals equal the local run's" \
    s3py check-report "$WORK/report.json" --local "$WORK/local.json"

# Crash and resume: start again from nothing, run only tasks 0 and 2 ...
s3py rm "$OUTPUT"
export INPUT OUTPUT SHARDS PLAN
sbatch_compress() {
    sbatch --parsable --cpus-per-task=1 --array="$1" \
        -o "$SLURM_LOGS/photopress-%A_%a.out" -e "$SLURM_LOGS/photopress-%A_%a.err" \
        "$ROOT/deploy/slurm/compress.sbatch"
}
# photopress: array tasks 0 and 2 only.
job=$(sbatch_compress 0,2)
check "partial submission --array=0,2 ($job) finishes" wait_job "$job" 2
check "partial submission's exit codes ($(exit_codes "$job"))" \
    s3py check-exit "$JOBCOMP" --job "$job" --tasks 0,2 --broken "$BROKEN" --n "$SHARDS" --logs "$SLURM_LOGS"
s3py manifest-parts "$MANIFESTS" >"$WORK/parts-before.txt"
# ... then resubmit the whole array, with moto recording the requests.
rm -f "${PHOTOPRESS_MOTO_STATE:-/tmp/photopress-moto}/recording.ndjson"
s3py recorder reset-recording && s3py recorder start-recording
# photopress: the whole array again.
job=$(sbatch_compress 0-3)
check "resubmitted --array=0-3 ($job) finishes" wait_job "$job" 4
s3py recorder stop-recording
check "resubmission's exit codes ($(exit_codes "$job"))" \
    s3py check-exit "$JOBCOMP" --job "$job" --tasks 0,1,2,3 --broken "$BROKEN" --n "$SHARDS" --logs "$SLURM_LOGS"
check "resubmission processed only shards 1 and 3's keys (manifest records, GETs)" \
    s3py check-resume "$MANIFESTS" --input "$INPUT" --keys "$KEYS" --broken "$BROKEN" \
    --ran 0,2 --parts-before "$WORK/parts-before.txt" --n "$SHARDS" \
    --recording "${PHOTOPRESS_MOTO_STATE:-/tmp/photopress-moto}/recording.ndjson"
check "after resume: every key recorded once, by its own shard; good done, broken failed" \
    s3py check-manifest "$MANIFESTS" --keys "$KEYS" --broken "$BROKEN" --n "$SHARDS"
check "after resume: outputs complete and byte-identical to the local run" \
    s3py check-outputs "$OUTPUT" --local "$WORK/local-out" --keys "$KEYS" --broken "$BROKEN"
# photopress: the job's report after the resume.
"$BIN" report "$MANIFESTS" --plan "$PLAN" --json >"$WORK/report2.json" 2>"$WORK/report2.err"
check "after resume: job report's totals equal the local run's" \
    s3py check-report "$WORK/report2.json" --local "$WORK/local.json" --resumed

say "done"
finish
