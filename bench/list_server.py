"""A synthetic S3 listing on 127.0.0.1, for bench/bucket_plan.sh at sizes moto cannot list in
reasonable time (moto's ListObjectsV2 walks every key for every page): bucket `synthetic-N`
holds N objects `d0000/p0000.jpg` ... (1000 a prefix), each 4096 bytes with a made-up ETag,
generated page by page, nothing stored. Only ListObjectsV2 (prefix, continuation-token,
start-after, max-keys) is served; anything else is a 404.

    python3 bench/list_server.py PORT
"""

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def key(i: int) -> str:
    return f"d{i // 1000:04}/p{i % 1000:04}.jpg"


def index_after(after: str, n: int) -> int:
    """The index of the first of the N keys sorted after `after` (keys sort as their indexes
    do, below 10^7)."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if key(mid) <= after:
            lo = mid + 1
        else:
            hi = mid
    return lo


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlparse(self.path)
        bucket = url.path.strip("/")
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        if not bucket.startswith("synthetic-") or query.get("list-type") != "2":
            return self.reply(404, b"<Error><Code>NoSuchKey</Code></Error>")
        n = min(int(bucket.split("-", 1)[1]), 10**7)
        after = query.get("continuation-token") or query.get("start-after") or ""
        start = index_after(after, n) if after else 0
        if query.get("prefix"):
            return self.reply(400, b"<Error><Code>NotImplemented</Code></Error>")
        count = min(int(query.get("max-keys", "1000")), 1000, max(n - start, 0))
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
            f"<Name>{bucket}</Name><Prefix></Prefix><KeyCount>{count}</KeyCount>",
            f"<MaxKeys>1000</MaxKeys><IsTruncated>{'true' if start + count < n else 'false'}</IsTruncated>",
        ]
        for i in range(start, start + count):
            parts.append(
                f"<Contents><Key>{key(i)}</Key><LastModified>2026-12-05T00:00:00.000Z</LastModified>"
                f'<ETag>"{i:032x}"</ETag><Size>4096</Size><StorageClass>STANDARD</StorageClass></Contents>'
            )
        if start + count < n:
            parts.append(f"<NextContinuationToken>{key(start + count - 1)}</NextContinuationToken>")
        parts.append("</ListBucketResult>")
        self.reply(200, "".join(parts).encode())

    def reply(self, status: int, body: bytes):
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
