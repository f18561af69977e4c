#!/usr/bin/env bash
# Checks the deployment files in deploy/ that CI cannot run on a real engine: the Kubernetes
# Job parses and is an Indexed Job whose shard count matches its completions, the AWS Batch job
# definition parses and takes the array index; the Slurm scripts pass `bash -n` (they are run for
# real by .ci/slurm-e2e.sh). Prints PASS/FAIL lines and "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
passed=0
failed=0
check() {
    local desc=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
        echo "PASS: $desc"
    else
        failed=$((failed + 1))
        echo "FAIL: $desc"
    fi
}
# python3 with PyYAML: the system's (python3-yaml) or the moto venv's (moto depends on it).
PY=python3
python3 -c 'import yaml' 2>/dev/null || PY=.tools/moto-venv/bin/python

for f in deploy/slurm/plan.sbatch deploy/slurm/compress.sbatch deploy/slurm/submit.sh; do
    check "$f passes bash -n" bash -n "$f"
done
check "compress.sbatch: shard list from SLURM_ARRAY_TASK_ID, -j \$SLURM_CPUS_PER_TASK" \
    bash -c 'grep -q -- "--keys-from \"\$PLAN/shard-\$SLURM_ARRAY_TASK_ID.keys\"" "$0" &&
             grep -q -- "-j \"\${SLURM_CPUS_PER_TASK" "$0"' deploy/slurm/compress.sbatch
check "submit.sh: the array job depends on the plan job (afterok)" \
    grep -q -- '--dependency="afterok:$plan_job"' deploy/slurm/submit.sh
check "deploy/slurm/*.sbatch are the files .ci/slurm-e2e.sh submits" \
    grep -q 'deploy/slurm/compress.sbatch' .ci/slurm-e2e.sh

check "deploy/kubernetes/job.yaml: an Indexed Job, shards = completions, index from JOB_COMPLETION_INDEX" \
    "$PY" - deploy/kubernetes/job.yaml <<'PYEOF'
import re, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
errors = []
jobs = [d for d in docs if d.get("kind") == "Job"]
indexed = [j for j in jobs if j["spec"].get("completionMode") == "Indexed"]
if len(indexed) != 1:
    errors.append(f"{len(indexed)} Indexed Jobs")
for j in indexed:
    spec = j["spec"]
    pod = spec["template"]["spec"]
    c = pod["containers"][0]
    cmd = " ".join(str(x) for x in c.get("command", []) + c.get("args", []))
    m = re.search(r"--shard-count\s+(\d+)", cmd)
    if not m or int(m.group(1)) != spec.get("completions"):
        errors.append(f"--shard-count {m and m.group(1)} != completions {spec.get('completions')}")
    if "JOB_COMPLETION_INDEX" not in cmd or "--keys-from" not in cmd:
        errors.append("no --keys-from with JOB_COMPLETION_INDEX in the command")
    if not isinstance(spec.get("backoffLimitPerIndex"), int):
        errors.append("no backoffLimitPerIndex")
    if pod.get("restartPolicy") != "Never":
        errors.append("restartPolicy must be Never with backoffLimitPerIndex")
    if not any("secretRef" in e for e in c.get("envFrom", [])):
        errors.append("AWS_* not taken from a Secret (envFrom secretRef)")
    if not isinstance(spec.get("parallelism"), int):
        errors.append("no parallelism")
plans = [j for j in jobs if "plan" in str(j["spec"]["template"]["spec"]["containers"][0].get("args"))]
if not plans:
    errors.append("no plan Job")
for e in errors:
    print("    " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
PYEOF

check "deploy/aws-batch/job-definition.json: an array task taking AWS_BATCH_JOB_ARRAY_INDEX" \
    "$PY" - deploy/aws-batch/job-definition.json <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
cmd = " ".join(d["containerProperties"]["command"])
errors = [m for ok, m in [
    (d.get("type") == "container", "type is not container"),
    ("AWS_BATCH_JOB_ARRAY_INDEX" in cmd, "command does not use AWS_BATCH_JOB_ARRAY_INDEX"),
    ("--shard-count" in cmd and "--keys-from" in cmd, "no --shard-count / --keys-from"),
    (all(f"Ref::{p}" in cmd for p in d.get("parameters", {})), "a parameter is not used"),
] if not ok]
for e in errors:
    print("    " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
PYEOF

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
