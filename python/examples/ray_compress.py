"""Compress a folder of photos with Ray Data: map_batches over the photos' paths.

    python ray_compress.py IMAGES COMPRESSED_IMAGES [--cpus 2] [--quality 30] [--strip]

Each batch calls photopress.compress_file per photo (the GIL released while Rust works). On a
Ray cluster, drop num_cpus and connect with ray.init(address="auto"). The outputs are those of
`photopress IN -o OUT` (compressed_<name>), written atomically; a photo that fails is
reported and the others go on (exit status 1 if any failed).
"""

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Dict, List

import ray

import photopress


class Compress:
    """The map_batches function: a batch of paths in, their sizes (or errors) out."""

    def __init__(self, out_dir: str, options: dict):
        self.out_dir = out_dir
        self.options = options

    def __call__(self, batch: dict) -> dict:
        rows: Dict[str, List[Any]] = {"input": [], "input_bytes": [], "output_bytes": [], "error": []}
        for path in batch["path"]:
            path = str(path)
            dest = os.path.join(self.out_dir, "compressed_" + os.path.basename(path))
            try:
                result = photopress.compress_file(path, dest, **self.options)
                sizes, error = (result.input_bytes, result.output_bytes), ""
            except photopress.ImageError as err:
                sizes, error = (0, 0), str(err)
            rows["input"].append(path)
            rows["input_bytes"].append(sizes[0])
            rows["output_bytes"].append(sizes[1])
            rows["error"].append(error)
        return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quality", type=int, default=None)
    parser.add_argument("--strip", action="store_true")
    args = parser.parse_args()
    options = {"quality": args.quality, "strip": args.strip}

    photos = sorted(
        str(p) for p in Path(args.input).iterdir() if p.suffix.lower() in (".jpg", ".jpeg")
    )
    os.makedirs(args.output, exist_ok=True)
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    try:
        records = (
            ray.data.from_items([{"path": p} for p in photos])
            .map_batches(Compress(args.output, options), batch_size=4)
            .take_all()
        )
    finally:
        ray.shutdown()

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
