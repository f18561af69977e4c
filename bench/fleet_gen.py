#!/usr/bin/env python3
"""Synthetic inputs for bench/fleet.sh: a tree of empty JPEG files, and a job's manifests.

    fleet_gen.py tree DIR N        N empty .jpg files, 1000 a folder, two levels deep:
                                   DIR/000/00/IMG_00000000.jpg ... (100 folders a top folder)
    fleet_gen.py manifests DIR N S the manifests of a job of S shards that wrote N records:
                                   DIR/_photopress/n<S>/shard-<K>/part-<ms>-<pid>-<seq>.ndjson

The records are what a run writes (src/fleet/manifest.rs: the fields in their order, parts of
256 records named by the run's start, process id and sequence), for a job with what a real
one has: about 99 % of the records are first attempts (90 % compressed, 4 % kept-original,
3 % skipped, 2 % failed, 1 % not-started) and 1 % are a second run's retries of failed or
not-started keys, in later parts; 1 key in 10,000 is also done by another shard (done twice)
and 1 in 1,000 with other settings. Each key is in the shard the shard rule gives it
(MD5's first 8 bytes, little-endian, modulo S). Deterministic (a fixed seed).
"""
import hashlib
import os
import random
import sys
import time

SETTINGS = 'q=30;method=auto;best=0;strip=0;strip_icc=0;allow_larger=0;accept_truncated=0;extended=0;prefix=\\"compressed_\\"'
OTHER_SETTINGS = SETTINGS.replace("q=30", "q=40")
PART_RECORDS = 256
T0_MS = 1_764_000_000_000  # the first run's start (Unix ms)


def key_of(i):
    return f"{i // 100_000:03}/{i // 1000 % 100:02}/IMG_{i:08}.jpg"


def tree(root, n):
    made = set()
    for i in range(n):
        key = key_of(i)
        folder = os.path.join(root, os.path.dirname(key))
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        os.close(os.open(os.path.join(root, key), os.O_CREAT | os.O_WRONLY, 0o644))


def shard_of(key, shards):
    return int.from_bytes(hashlib.md5(key.encode()).digest()[:8], "little") % shards


def iso(ms):
    # RFC 3339 with milliseconds, UTC, as chrono writes it.
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03}Z"


def line(key, status, shard, shards, started_ms, rng, settings=SETTINGS):
    size = rng.randrange(1_000_000, 8_000_000)
    method, error, out = "null", "null", 0
    if status == "compressed":
        method, out = ('"dct"' if rng.random() < 0.8 else '"pixel"'), size * 2 // 5
    elif status == "kept-original":
        method, out = '"dct"', size
    elif status == "skipped":
        out = size * 2 // 5
    elif status == "failed":
        error = '"not a valid JPEG: premature end of data segment"'
        out, size = 0, size if rng.random() < 0.5 else 0
    duration = 0.0 if status == "not-started" else round(rng.uniform(40, 900), 6)
    return (
        f'{{"key":"{key}","input":"/data/photos/{key}","version":"size:{size},mtime_ns:1700000000{shard:09}",'
        f'"output":"/data/out/compressed_{key}","input_bytes":{size},"output_bytes":{out},'
        f'"status":"{status}","method":{method},"settings":"{settings}",'
        f'"started":"{iso(started_ms)}","duration_ms":{duration},"error":{error},'
        f'"shard":{shard},"shards":{shards}}}\n'
    )


class Parts:
    """Each shard's lines, written a part (256 records) at a time, as a run writes them."""

    def __init__(self, base, shards, run_ms, pid):
        self.base, self.run_ms, self.pid = base, run_ms, pid
        self.pending = [[] for _ in range(shards)]
        self.seq = [0] * shards

    def add(self, shard, text):
        self.pending[shard].append(text)
        if len(self.pending[shard]) == PART_RECORDS:
            self.flush(shard)

    def flush(self, shard):
        if not self.pending[shard]:
            return
        folder = os.path.join(self.base, f"shard-{shard}")
        os.makedirs(folder, exist_ok=True)
        name = f"part-{self.run_ms + shard}-{self.pid + shard}-{self.seq[shard]}.ndjson"
        with open(os.path.join(folder, name), "w") as f:
            f.writelines(self.pending[shard])
        self.pending[shard] = []
        self.seq[shard] += 1

    def close(self):
        for shard in range(len(self.pending)):
            self.flush(shard)


def manifests(root, n, shards):
    rng = random.Random(28)
    base = os.path.join(root, "_photopress", f"n{shards}")
    statuses = ["compressed"] * 90 + ["kept-original"] * 4 + ["skipped"] * 3 + ["failed"] * 2 + ["not-started"]
    # The first run: each key once, in key order within each shard.
    first = Parts(base, shards, T0_MS, 4000)
    done = [0] * shards
    redo, twins = [], []
    keys = n - n // 100
    for i in range(keys):
        key = key_of(i)
        shard = shard_of(key, shards)
        status = statuses[rng.randrange(100)]
        settings = OTHER_SETTINGS if i % 1000 == 999 else SETTINGS
        first.add(shard, line(key, status, shard, shards, T0_MS + done[shard] * 300, rng, settings))
        done[shard] += 1
        if status in ("failed", "not-started"):
            redo.append((key, shard))
        if i % 10_000 == 5_000:
            twins.append((key, (shard + 1) % shards))
    first.close()
    # A second run, a day later: retries of failed and not-started keys, and the keys another
    # shard did too; the rest of the records.
    rng.shuffle(redo)
    second = Parts(base, shards, T0_MS + 86_400_000, 9000)
    done = [0] * shards
    again = [(k, s, "compressed") for k, s in twins]
    again += [(k, s, "compressed" if rng.random() < 0.9 else "failed") for k, s in redo]
    for key, shard, status in again[: n - keys]:
        started = T0_MS + 86_400_000 + done[shard] * 300
        second.add(shard, line(key, status, shard, shards, started, rng))
        done[shard] += 1
    second.close()


def main():
    what = sys.argv[1]
    if what == "tree":
        tree(sys.argv[2], int(sys.argv[3]))
    elif what == "manifests":
        manifests(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
