#!/usr/bin/env bash
# Submits a whole photopress job to Slurm: the plan job, then the array of SHARDS tasks that
# starts only when the plan succeeded (afterok; the array is cancelled if the plan fails).
#
#   deploy/slurm/submit.sh INPUT OUTPUT SHARDS [PLAN]
#     INPUT   s3://bucket/prefix (or a folder on a shared file system)
#     OUTPUT  s3://bucket/prefix (or a folder)
#     SHARDS  number of array tasks (N); keep it the same for reruns of this job
#     PLAN    where the key lists go (default OUTPUT/_photopress/plan-nSHARDS)
#   Environment: PHOTOPRESS (binary, default photopress on PATH), PHOTOPRESS_ARGS (more
#   photopress options), SBATCH_ARGS (more sbatch options for both jobs, e.g.
#   "--partition=batch --cpus-per-task=8"), LOG_DIR (where the jobs' output goes, default .),
#   AWS_* (passed on to the jobs: sbatch exports the environment).
# Prints PLAN_JOB=<id> and ARRAY_JOB=<id>. Rerun failed or cancelled tasks with
#   sbatch --array=1,3 --export=ALL,INPUT=...,OUTPUT=...,SHARDS=...,PLAN=... compress.sbatch
# (or simply the whole array again: finished keys are skipped).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
    sed -n '2,18p' "$0" >&2
    exit 2
fi
INPUT=$1 OUTPUT=$2 SHARDS=$3
PLAN=${4:-${OUTPUT%/}/_photopress/plan-n$SHARDS}
[[ "$SHARDS" =~ ^[1-9][0-9]*$ ]] || { echo "SHARDS must be a positive number: $SHARDS" >&2; exit 2; }
LOG_DIR=${LOG_DIR:-.}
export INPUT OUTPUT SHARDS PLAN
# SBATCH_ARGS is split into words on purpose (several options in one variable).
# shellcheck disable=SC2086
plan_job=$(sbatch --parsable ${SBATCH_ARGS:-} \
    --output="$LOG_DIR/photopress-plan-%j.out" "$here/plan.sbatch")
plan_job=${plan_job%%;*}
# shellcheck disable=SC2086
array_job=$(sbatch --parsable ${SBATCH_ARGS:-} \
    --dependency="afterok:$plan_job" --kill-on-invalid-dep=yes \
    --array="0-$((SHARDS - 1))" \
    --output="$LOG_DIR/photopress-%A_%a.out" --error="$LOG_DIR/photopress-%A_%a.err" \
    "$here/compress.sbatch")
array_job=${array_job%%;*}
echo "PLAN_JOB=$plan_job"
echo "ARRAY_JOB=$array_job"
