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

check "deploy/lambda/bootstrap passes sh -n and bash -n" bash -c 'sh -n "$0" && bash -n "$0"' deploy/lambda/bootstrap

# The Dockerfiles: built when a container builder answers here, else read: every instruction
# known, each COPY --from names an earlier stage, the last stage copies the release binary and
# has an ENTRYPOINT, and the build context leaves out target/ (.dockerignore).
for f in deploy/container/Dockerfile deploy/lambda/Dockerfile; do
    check "$f: stages, COPY --from, the binary and an ENTRYPOINT" "$PY" - "$f" <<'PYEOF'
import re, sys
known = {"FROM", "RUN", "COPY", "ADD", "WORKDIR", "ENV", "ARG", "ENTRYPOINT", "CMD", "USER",
         "LABEL", "EXPOSE", "VOLUME", "SHELL", "HEALTHCHECK", "STOPSIGNAL", "ONBUILD"}
text = open(sys.argv[1]).read()
lines, cur = [], ""
for raw in text.splitlines():
    if raw.strip().startswith("#") and not cur:
        continue
    cur += raw.rstrip("\\").strip() + " "
    if not raw.rstrip().endswith("\\"):
        if cur.strip():
            lines.append(cur.strip())
        cur = ""
errors, stages, last_stage_lines = [], [], []
for line in lines:
    word = line.split()[0].upper()
    if word not in known:
        errors.append(f"unknown instruction {word}")
    if word == "FROM":
        m = re.match(r"FROM\s+\S+(?:\s+AS\s+(\S+))?", line, re.I)
        stages.append(m.group(1) if m and m.group(1) else None)
        last_stage_lines = []
    last_stage_lines.append(line)
    m = re.search(r"--from=(\S+)", line)
    if m and m.group(1) not in stages[:-1]:
        errors.append(f"COPY --from={m.group(1)}: no earlier stage of that name")
if len(stages) < 2:
    errors.append("not a multi-stage build")
if not any(l.upper().startswith("ENTRYPOINT") for l in last_stage_lines):
    errors.append("the final stage has no ENTRYPOINT")
if not any("target/release/photopress" in l for l in last_stage_lines if l.upper().startswith("COPY")):
    errors.append("the final stage does not copy target/release/photopress")
for e in errors:
    print("    " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
PYEOF
done
check ".dockerignore leaves target/ and the corpora out of the build context" \
    bash -c 'grep -qx target .dockerignore && grep -qx bench/corpus .dockerignore'
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    check "deploy/container/Dockerfile builds (docker build)" \
        docker build -q -f deploy/container/Dockerfile -t photopress:ci .
    echo "container image: built ($(docker image inspect photopress:ci --format '{{.Size}}' 2>/dev/null) bytes)"
else
    echo "container image: not built (no container builder answers here: docker info fails); the Dockerfiles were checked as text only"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
