"""S3 side of the end-to-end test (.ci/slurm-e2e.sh): uploads the test bucket and checks what
the photopress array job left there, against moto on loopback.

Runs with the moto venv's python (it has boto3); endpoint and credentials come from the AWS_*
variables the shell script exports. Each `check-*` subcommand is one check: exit status 0 when
it holds, 1 with the reasons on stderr when not, so that the shell script counts PASS/FAIL.

Assumptions about photopress that a check relies on are named where they are made (the spec is
/work/spec-scaleout.md: manifest records, shard rule, report fields).
"""

import argparse
import hashlib
import json
import os
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import boto3

DONE = ("compressed", "kept-original", "skipped")
WORKED = ("compressed", "kept-original")  # statuses that mean the image was processed now
PREFIX = "compressed_"  # photopress's default output-name prefix
MANIFEST_DIR = "_photopress"


def s3():
    return boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def split_url(url):
    """s3://bucket/prefix -> (bucket, 'prefix/') (prefix '' for the bucket's root)."""
    if not url.startswith("s3://"):
        raise SystemExit(f"not an s3:// url: {url}")
    bucket, _, prefix = url[5:].partition("/")
    prefix = prefix.strip("/")
    return bucket, (prefix + "/" if prefix else "")


def list_keys(url):
    """Relative keys (below the prefix) of every object under an s3:// url, sorted."""
    bucket, prefix = split_url(url)
    keys = []
    for page in s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"][len(prefix):] for o in page.get("Contents", [])]
    return sorted(keys)


def get(url, key):
    bucket, prefix = split_url(url)
    return s3().get_object(Bucket=bucket, Key=prefix + key)["Body"].read()


def shard_of(key, n):
    """The spec's shard rule (rclone --hash-filter): first 8 bytes of MD5, little-endian, mod N."""
    return int.from_bytes(hashlib.md5(key.encode()).digest()[:8], "little") % n


def output_name(key):
    d, _, name = key.rpartition("/")
    return f"{d}/{PREFIX}{name}" if d else PREFIX + name


class Failures:
    def __init__(self):
        self.errors = []

    def __call__(self, msg):
        self.errors.append(msg)

    def exit(self, ok_msg):
        if self.errors:
            for e in self.errors[:30]:
                print(f"    {e}", file=sys.stderr)
            if len(self.errors) > 30:
                print(f"    ... and {len(self.errors) - 30} more", file=sys.stderr)
            sys.exit(1)
        print(f"    {ok_msg}", file=sys.stderr)
        sys.exit(0)


def lines(path):
    return [line for line in Path(path).read_text().splitlines() if line]


# ------------------------------------------------------------------ setup


def cmd_upload(a):
    """Buckets, the photos under several sub-prefixes, and broken files; writes the key list."""
    client = s3()
    for b in a.buckets:
        client.create_bucket(Bucket=b)
    bucket, prefix = split_url(a.input)
    photos = sorted(p for p in Path(a.images).iterdir() if p.suffix.lower() == ".jpg")
    objects = {}
    for sub in a.subdirs:
        for p in photos:
            objects[f"{sub.strip('/')}/{p.name}"] = p.read_bytes()
    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
           b"\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00"
           b"\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
    broken = {
        "broken/empty.jpg": b"",
        "broken/notjpeg.jpg": png,
        "broken/truncated.jpg": photos[0].read_bytes()[:20 * 1024],
    }
    objects.update(broken)
    for key, body in objects.items():
        client.put_object(Bucket=bucket, Key=prefix + key, Body=body)
    Path(a.keys_out).write_text("".join(k + "\n" for k in sorted(objects)))
    Path(a.broken_out).write_text("".join(k + "\n" for k in sorted(broken)))
    print(f"    uploaded {len(objects)} objects to {a.input} ({len(broken)} broken)",
          file=sys.stderr)


def cmd_list(a):
    for k in list_keys(a.url):
        print(k)


def cmd_download(a):
    for k in list_keys(a.url):
        dest = Path(a.dest) / k
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(get(a.url, k))


def cmd_rm(a):
    bucket, prefix = split_url(a.url)
    keys = list_keys(a.url)
    client = s3()
    for i in range(0, len(keys), 1000):
        chunk = [{"Key": prefix + k} for k in keys[i:i + 1000]]
        client.delete_objects(Bucket=bucket, Delete={"Objects": chunk})
    print(f"    deleted {len(keys)} objects under {a.url}", file=sys.stderr)


def cmd_shards(a):
    """Which shards hold a key of the file (one index per line, sorted)."""
    for s in sorted({shard_of(k, a.n) for k in lines(a.keys)}):
        print(s)


def recorder(a):
    base = os.environ["AWS_ENDPOINT_URL"].rstrip("/")
    req = urllib.request.Request(f"{base}/moto-api/recorder/{a.action}", method="POST")
    urllib.request.urlopen(req, timeout=10).read()


# ------------------------------------------------------------------ manifests


def read_manifests(root):
    """Every record under MANIFEST_ROOT (s3://.../_photopress/nN), in write order.

    Order: by part name's <unix_ms>-<pid>-<seq> (spec: part-<unix_ms>-<pid>-<seq>.ndjson),
    then line order. Each record gets '_part' (its part's key below root)."""
    parts = [k for k in list_keys(root) if k.endswith(".ndjson")]

    def order(k):
        stem = k.rsplit("/", 1)[-1][len("part-"):-len(".ndjson")].split("-")
        return [int(x) if x.isdigit() else 0 for x in stem], k

    records = []
    for part in sorted(parts, key=order):
        for n, line in enumerate(get(root, part).decode().splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                print(f"    unparsable manifest line {part}:{n}", file=sys.stderr)
                continue
            rec["_part"] = part
            records.append(rec)
    return parts, records


def cmd_manifest_parts(a):
    for p in read_manifests(a.root)[0]:
        print(p)


def latest(records):
    out = {}
    for r in records:
        out[r.get("key")] = r
    return out


def cmd_check_plan(a):
    """plan wrote shard-K.keys for every K, their union is the listing, each key in its shard."""
    f = Failures()
    keys = set(lines(a.keys))
    listed = set(list_keys(a.plan))
    seen = {}
    for k in range(a.n):
        name = f"shard-{k}.keys"
        if name not in listed:
            f(f"no {name} in {a.plan}")
            continue
        for line in get(a.plan, name).decode().splitlines():
            if not line:
                continue
            # A key list line: the key, then optionally TAB size TAB ETag.
            key = line.split("\t")[0]
            if key in seen:
                f(f"{key} in shard-{seen[key]}.keys and {name}")
            seen[key] = k
            if shard_of(key, a.n) != k:
                f(f"{key} in {name}, but its shard is {shard_of(key, a.n)}")
    if set(seen) != keys:
        f(f"plan keys differ from the upload: missing {sorted(keys - set(seen))}, "
          f"extra {sorted(set(seen) - keys)}")
    if "plan.json" not in listed:
        f(f"no plan.json in {a.plan}")
    else:
        plan = json.loads(get(a.plan, "plan.json"))
        if plan.get("shard_count") != a.n:
            f(f"plan.json shard_count {plan.get('shard_count')} != {a.n}")
        if plan.get("keys") != len(keys):
            f(f"plan.json keys {plan.get('keys')} != {len(keys)}")
    f.exit(f"{len(seen)} keys in {a.n} shard lists, each in its hash shard")


def cmd_check_manifest(a):
    """Every key recorded by exactly one shard (its own), latest status: done for a good key,
    failed for a broken one; the union of the manifests is the listing."""
    f = Failures()
    keys = set(lines(a.keys))
    broken = set(lines(a.broken))
    _, records = read_manifests(a.root)
    shards_of = {}
    for r in records:
        shards_of.setdefault(r.get("key"), set()).add(r.get("shard"))
        if r.get("shards") != a.n:
            f(f"{r.get('_part')}: record for {r.get('key')} says shards={r.get('shards')}")
        if f"shard-{r.get('shard')}/" not in r["_part"]:
            f(f"{r['_part']}: record for {r.get('key')} says shard {r.get('shard')}")
    if set(shards_of) != keys:
        f(f"manifest keys != listing: missing {sorted(keys - set(shards_of))}, "
          f"extra {sorted(set(shards_of) - keys)}")
    for key, shards in sorted(shards_of.items(), key=lambda kv: str(kv[0])):
        if key in keys and shards != {shard_of(key, a.n)}:
            f(f"{key} recorded by shards {sorted(shards)}, its shard is {shard_of(key, a.n)}")
    for key, r in latest(records).items():
        want = ("failed",) if key in broken else DONE
        if r.get("status") not in want:
            f(f"{key}: latest status {r.get('status')!r}, want one of {want} "
              f"(error {r.get('error')!r})")
    f.exit(f"{len(records)} records, {len(shards_of)} keys, each in its own shard only")


def cmd_check_outputs(a):
    """One output object per good key, byte-identical to the local run's file; nothing for
    the broken keys; no other objects outside the manifest folder."""
    f = Failures()
    keys = set(lines(a.keys))
    broken = set(lines(a.broken))
    want = {output_name(k) for k in keys - broken}
    have = {k for k in list_keys(a.output) if not k.startswith(MANIFEST_DIR + "/")}
    if have != want:
        f(f"outputs missing {sorted(want - have)}, unexpected {sorted(have - want)}")
    local = Path(a.local)
    local_files = {str(p.relative_to(local)) for p in local.rglob("*") if p.is_file()}
    if local_files != want:
        f(f"local run's outputs differ from the expected names: missing "
          f"{sorted(want - local_files)}, extra {sorted(local_files - want)}")
    same = 0
    for name in sorted(want & have & local_files):
        if get(a.output, name) == (local / name).read_bytes():
            same += 1
        else:
            f(f"{name}: bucket object differs from the local run's file")
    f.exit(f"{same} outputs, byte-identical to the local run")


def find_number(doc, names):
    """The first of `names` found in doc, doc['totals'], doc['counts'], doc['statuses'] (the
    report's JSON layout is the lead's; these are the places the spec's wording suggests)."""
    for where in (doc.get("totals"), doc.get("counts"), doc.get("statuses"),
                  doc.get("status_counts"), doc):
        if isinstance(where, dict):
            for n in names:
                if isinstance(where.get(n), (int, float)):
                    return where[n]
    return None


def cmd_check_report(a):
    """The job report's totals equal the local run's (bytes, compressed, failed counts)."""
    f = Failures()
    text = Path(a.report).read_text()
    try:
        report = json.loads(text)
    except ValueError:
        err = Path(a.report).with_suffix(".err")
        tail = err.read_text()[-600:] if err.exists() else ""
        f(f"the report is not JSON: {text[:300]!r}; its stderr ends: {tail!r}")
        f.exit("")
    local = json.loads(Path(a.local).read_text())["totals"]
    for field in ("input_bytes", "output_bytes", "failed"):
        got = find_number(report, [field])
        if got != local[field]:
            f(f"report {field} = {got}, local run {local[field]}")
    done = [find_number(report, [n]) or 0 for n in ("compressed", "kept_original",
                                                    "kept-original", "skipped")]
    local_done = local["compressed"] + local["kept_original"] + local["skipped"]
    if a.resumed:
        # After a resume a key's latest record may say skipped: only the sum must match.
        if done[0] + max(done[1], done[2]) + done[3] != local_done:
            f(f"report compressed+kept+skipped = {done}, local run {local_done}")
    elif done[0] != local["compressed"]:
        f(f"report compressed = {done[0]}, local run {local['compressed']}")
    for field in ("missing", "done_twice", "other_settings"):
        v = report.get(field)
        if isinstance(v, list) and v:
            f(f"report {field}: {v}")
    f.exit(f"totals equal: {local['input_bytes']} -> {local['output_bytes']} bytes, "
           f"{local['compressed']} compressed, {local['failed']} failed")


def cmd_check_exit(a):
    """Each array task's exit code in Slurm's completion log: 1 where its shard holds a broken
    key, 0 elsewhere."""
    f = Failures()
    broken_shards = {shard_of(k, a.n) for k in lines(a.broken)}
    got = {}
    for line in lines(a.jobcomp):
        fields = dict(x.split("=", 1) for x in line.split() if "=" in x)
        if fields.get("ArrayJobId") == a.job:
            got[int(fields["ArrayTaskId"])] = fields.get("ExitCode", "?").split(":")[0]
    for t in a.tasks.split(","):
        t = int(t)
        want = "1" if t in broken_shards else "0"
        if got.get(t) != want:
            f(f"task {a.job}_{t}: exit code {got.get(t)}, want {want} "
              f"(broken keys in shards {sorted(broken_shards)})")
            err = Path(a.logs) / f"photopress-{a.job}_{t}.err"
            if err.exists():
                f(f"  its stderr ends: {err.read_text()[-400:]!r}")
    f.exit(f"exit codes {dict(sorted(got.items()))}, 1 exactly where a broken file is")


def cmd_check_resume(a):
    """The second submission processed only the keys the first one had not done.

    New parts = manifest parts not there before the resubmission. In them, a record that
    says compressed/kept-original (work done now) must be a key of a shard the first
    submission did not run; every good key of those shards must be among them. Keys of the
    shards that ran may appear only as skipped (or failed, for the broken keys, which a rerun
    tries again). With the moto recording, no GET of a finished key's input either."""
    f = Failures()
    keys = set(lines(a.keys))
    broken = set(lines(a.broken))
    ran = {int(x) for x in a.ran.split(",")}
    before = set(lines(a.parts_before)) if Path(a.parts_before).stat().st_size else set()
    parts, records = read_manifests(a.root)
    new = [r for r in records if r["_part"] not in before]
    redo = {k for k in keys - broken if shard_of(k, a.n) not in ran}
    finished = {k for k in keys - broken if shard_of(k, a.n) in ran}
    worked = {r.get("key") for r in new if r.get("status") in WORKED}
    if worked != redo:
        f(f"processed again: {sorted(worked)}; should be exactly {sorted(redo)}")
    for r in new:
        if r.get("key") in finished and r.get("status") != "skipped":
            f(f"{r['_part']}: finished key {r.get('key')} has status {r.get('status')!r}")
    if a.recording:
        bucket, prefix = split_url(a.input)
        gets = {}
        for line in lines(a.recording):
            e = json.loads(line)
            path = urllib.parse.unquote(urllib.parse.urlsplit(e["url"]).path)
            if e["method"] == "GET" and path.startswith(f"/{bucket}/{prefix}"):
                k = path[len(f"/{bucket}/{prefix}"):]
                gets[k] = gets.get(k, 0) + 1
        again = sorted(k for k in gets if k in finished)
        if again:
            f(f"GET of finished keys' inputs: {again}")
        missing = sorted(redo - set(gets))
        if missing:
            f(f"no GET of keys that had to be done: {missing}")
        print(f"    GETs of inputs in the second submission: {dict(sorted(gets.items()))}",
              file=sys.stderr)
    f.exit(f"second submission processed {len(worked)} keys (shards not run before), "
           f"{len(new)} new records")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    def add(name, fn, *args):
        sp = sub.add_parser(name)
        for arg in args:
            if arg.startswith("--"):
                sp.add_argument(arg, type=int if arg == "--n" else str,
                                required=arg not in ("--recording",), default=None)
            elif arg == "*subdirs":
                sp.add_argument("--subdirs", nargs="+", required=True)
            elif arg == "*buckets":
                sp.add_argument("--buckets", nargs="+", required=True)
            elif arg == "?resumed":
                sp.add_argument("--resumed", action="store_true")
            else:
                sp.add_argument(arg)
        sp.set_defaults(fn=fn)

    add("upload", cmd_upload, "images", "input", "*buckets", "*subdirs", "--keys-out",
        "--broken-out")
    add("list", cmd_list, "url")
    add("download", cmd_download, "url", "dest")
    add("rm", cmd_rm, "url")
    add("shards", cmd_shards, "keys", "--n")
    add("recorder", recorder, "action")
    add("manifest-parts", cmd_manifest_parts, "root")
    add("check-plan", cmd_check_plan, "plan", "--keys", "--n")
    add("check-manifest", cmd_check_manifest, "root", "--keys", "--broken", "--n")
    add("check-outputs", cmd_check_outputs, "output", "--local", "--keys", "--broken")
    add("check-report", cmd_check_report, "report", "--local", "?resumed")
    add("check-exit", cmd_check_exit, "jobcomp", "--job", "--tasks", "--broken", "--n", "--logs")
    add("check-resume", cmd_check_resume, "root", "--input", "--keys", "--broken", "--ran",
        "--parts-before", "--recording", "--n")
    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
