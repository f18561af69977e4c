"""Compress a folder of photos with Dask: one task per photo, on a LocalCluster.

    python dask_compress.py IMAGES COMPRESSED_IMAGES --workers 2 [--quality 30] [--strip]

Each task calls photopress.compress_file, which releases the GIL while Rust works: a worker
process per core (as here) or one process with a thread per core both keep every core busy.
For a real cluster, give Client the scheduler's address instead of starting a LocalCluster.
The outputs are those of `photopress IN -o OUT` (compressed_<name>), written atomically; a
photo that fails is reported and the others go on (exit status 1 if any failed).
"""

import argparse
import os
import sys
from pathlib import Path

import dask.bag as db
from dask.distributed import Client, LocalCluster

import photopress


def compress_one(path: str, out_dir: str, options: dict) -> dict:
    """One photo: its sizes, or the error that stopped it (the batch goes on)."""
    dest = os.path.join(out_dir, "compressed_" + os.path.basename(path))
    try:
        result = photopress.compress_file(path, dest, **options)
    except photopress.ImageError as err:
        return {"input": path, "input_bytes": 0, "output_bytes": 0, "error": str(err)}
    return {
        "input": path,
        "input_bytes": result.input_bytes,
        "output_bytes": result.output_bytes,
        "error": None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quality", type=int, default=None)
    parser.add_argument("--strip", action="store_true")
    args = parser.parse_args()
    options = {"quality": args.quality, "strip": args.strip}

    photos = sorted(
        str(p) for p in Path(args.input).iterdir() if p.suffix.lower() in (".jpg", ".jpeg")
    )
    os.makedirs(args.output, exist_ok=True)
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True) as cluster:
        with Client(cluster):
            bag = db.from_sequence(photos, npartitions=max(1, min(len(photos), 4 * args.workers)))
            records = bag.map(compress_one, args.output, options).compute()

    failed = [r for r in records if r["error"]]
    for record in failed:
        print(f"error: {record['error']}", file=sys.stderr)
    before = sum(r["input_bytes"] for r in records)
    after = sum(r["output_bytes"] for r in records)
    print(f"Total files size {before}")
    print(f"Total compressed files size {after}")
    print(f"Compression rate {after / before if before else 0:.2f}")
    print(f"Files compressed {len(records) - len(failed)}, failed {len(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
