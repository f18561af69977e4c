#!/usr/bin/env python3
"""An in-memory stand-in for Google Cloud Storage's XML API, for photopress's tests.

It serves the requests that the `object_store` crate's GCS client (0.14) makes, answered the
way storage.googleapis.com answers them (Python 3 standard library only, no dependency):

    PUT    /BUCKET                          create the bucket (test hook; GCS's XML API
                                            creates buckets so too, with a project header)
    DELETE /BUCKET                          delete an empty bucket (204)
    GET    /                                list the buckets (ListAllMyBucketsResult; the
                                            harness's readiness probe)
    GET    /BUCKET?list-type=2&prefix=&delimiter=&max-keys=&continuation-token=&start-after=
                                            ListBucketResult: Contents (Key, Size,
                                            LastModified, ETag), CommonPrefixes, IsTruncated,
                                            NextContinuationToken (only when truncated)
    PUT    /BUCKET/KEY                      write an object; ETag "md5hex" (quoted),
                                            x-goog-generation; honours
                                            x-goog-if-generation-match (0: must not exist);
                                            with x-goog-copy-source: BUCKET/KEY, a copy
    GET    /BUCKET/KEY[?generation=N]       the object: ETag, Last-Modified (RFC 1123),
                                            Content-Length, x-goog-generation, Range
                                            (206 + Content-Range, 416), If-Match,
                                            If-None-Match, If-(Un)Modified-Since
    HEAD   /BUCKET/KEY                      the same headers, no body
    DELETE /BUCKET/KEY                      204; 404 NoSuchKey when absent (as GCS does,
                                            unlike S3)
    POST   /BUCKET/KEY?uploads              InitiateMultipartUploadResult (UploadId)
    PUT    /BUCKET/KEY?partNumber=N&uploadId=U
                                            one part (ETag); parts but the last >= 5 MiB
    POST   /BUCKET/KEY?uploadId=U           CompleteMultipartUpload -> ..Result (ETag)
    DELETE /BUCKET/KEY?uploadId=U           abort (204)

Bucket and key are percent-decoded (the client encodes every non-alphanumeric byte, `/` of a
key included: `in%2Fleaf%2Ejpg`). Errors are GCS's XML: `<Error><Code>NoSuchKey</Code>...`
(404), `NoSuchBucket` (404), `PreconditionFailed` (412), `InvalidRange` (416)... Credentials
are not checked (the client sends `Authorization: Bearer ` with an empty token when the
service-account file says `disable_oauth`).

Usage: server.py --host 127.0.0.1 --port N [--verbose] [--exit-on-stdin-eof]
  --port 0 binds a free port and prints it, alone on one line, to stdout.
  --exit-on-stdin-eof stops the server when its stdin closes (its parent died).
Nothing else is printed unless --verbose (one line per request, to stderr).
"""

import argparse
import base64
import email.utils
import hashlib
import itertools
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote
from xml.etree import ElementTree
from xml.sax.saxutils import escape

MIN_PART_SIZE = 5 << 20
XML_HEAD = "<?xml version='1.0' encoding='UTF-8'?>"


class Obj:
    __slots__ = ("data", "etag", "generation", "mtime", "headers")

    def __init__(self, data, etag, generation, headers):
        self.data = data
        self.etag = etag  # quoted, as GCS sends it
        self.generation = generation
        self.mtime = time.time()
        self.headers = headers  # content-type, cache-control, x-goog-meta-* ...


class Store:
    def __init__(self):
        self.lock = threading.Lock()
        self.buckets = {}  # name -> {key: Obj}
        self.uploads = {}  # upload id -> (bucket, key, {part number: (etag, bytes)}, headers)
        self.generations = itertools.count(int(time.time() * 1_000_000))
        self.upload_ids = itertools.count(1)

    def next_generation(self):
        return next(self.generations)


STORE = Store()

# Headers kept with an object and sent back with it.
KEPT_HEADERS = (
    "content-type",
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "x-goog-storage-class",
)


def kept_headers(headers):
    out = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in KEPT_HEADERS or lower.startswith("x-goog-meta-"):
            out[lower] = value
    out.setdefault("content-type", "application/octet-stream")
    return out


def quoted_md5(data):
    return '"%s"' % hashlib.md5(data).hexdigest()


def iso_time(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + ".%03dZ" % int(ts % 1 * 1000)


def http_time(ts):
    return email.utils.formatdate(ts, usegmt=True)


class HttpError(Exception):
    def __init__(self, status, code, message, details=None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


class NotModified(HttpError):
    def __init__(self, headers):
        super().__init__(304, "NotModified", "Not modified.")
        self.headers = {k: v for k, v in headers.items() if k in ("ETag", "Last-Modified")}


def no_such_bucket(bucket):
    return HttpError(404, "NoSuchBucket", "The specified bucket does not exist.", bucket)


def no_such_key(bucket, key):
    return HttpError(
        404, "NoSuchKey", "The specified key does not exist.", "No such object: %s/%s" % (bucket, key)
    )


def no_such_upload(upload_id):
    return HttpError(
        404,
        "NoSuchUpload",
        "The requested upload was not found.",
        "No such upload: %s" % upload_id,
    )


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "photopress-gcs-standin/1"
    verbose = False

    # -- plumbing ---------------------------------------------------------------------------

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        if self.verbose:
            sys.stderr.write("gcs: %s\n" % (fmt % args))

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status, body=b"", headers=None, content_type=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status not in (204, 304):
            if content_type:
                self.send_header("Content-Type", content_type)
            if not any(k.lower() == "content-length" for k in (headers or {})):
                self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304) and body:
            self.wfile.write(body)

    def send_xml(self, status, xml, headers=None):
        self.send(status, XML_HEAD + xml, headers, "application/xml; charset=UTF-8")

    def send_error_xml(self, err):
        if isinstance(err, NotModified):
            return self.send(304, b"", err.headers)
        xml = "<Error><Code>%s</Code><Message>%s</Message>" % (escape(err.code), escape(err.message))
        if err.details:
            xml += "<Details>%s</Details>" % escape(err.details)
        xml += "</Error>"
        self.send_xml(err.status, xml, err.headers)

    def parse(self):
        raw_path, _, raw_query = self.path.partition("?")
        if raw_path.startswith("http://") or raw_path.startswith("https://"):
            raw_path = "/" + raw_path.split("/", 3)[3] if raw_path.count("/") >= 3 else "/"
        rest = raw_path[1:] if raw_path.startswith("/") else raw_path
        bucket_raw, slash, key_raw = rest.partition("/")
        bucket = unquote(bucket_raw, errors="strict")
        key = unquote(key_raw, errors="strict") if slash else None
        query = parse_qs(raw_query, keep_blank_values=True)
        query = {k: v[-1] for k, v in query.items()}
        return bucket, key, query

    def dispatch(self, method):
        body = self.read_body() if method in ("PUT", "POST", "DELETE", "GET") else b""
        try:
            bucket, key, query = self.parse()
            if bucket == "":
                if method == "GET":
                    return self.list_buckets()
                raise HttpError(400, "InvalidURI", "Couldn't parse the specified URI.")
            if key is None:
                return self.bucket_request(method, bucket, query, body)
            if key == "":
                raise HttpError(400, "InvalidArgument", "Object name is empty.", None)
            if len(key.encode("utf-8")) > 1024:
                raise HttpError(400, "InvalidArgument", "Object name is too long.", None)
            return self.object_request(method, bucket, key, query, body)
        except HttpError as err:
            self.send_error_xml(err)
        except (UnicodeDecodeError, ValueError) as err:
            self.send_error_xml(HttpError(400, "InvalidArgument", "Invalid argument.", str(err)))

    def do_GET(self):
        self.dispatch("GET")

    def do_HEAD(self):
        self.dispatch("HEAD")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    # -- buckets ----------------------------------------------------------------------------

    def list_buckets(self):
        with STORE.lock:
            names = sorted(STORE.buckets)
        items = "".join(
            "<Bucket><Name>%s</Name><CreationDate>%s</CreationDate></Bucket>"
            % (escape(n), iso_time(0))
            for n in names
        )
        self.send_xml(
            200,
            "<ListAllMyBucketsResult><Owner><ID>photopress-tests</ID></Owner>"
            "<Buckets>%s</Buckets></ListAllMyBucketsResult>" % items,
        )

    def bucket_request(self, method, bucket, query, body):
        if method == "PUT":
            with STORE.lock:
                if bucket in STORE.buckets:
                    raise HttpError(
                        409,
                        "BucketAlreadyOwnedByYou",
                        "Your previous request to create the named bucket succeeded and you "
                        "already own it.",
                    )
                STORE.buckets[bucket] = {}
            return self.send(200)
        if method == "DELETE":
            with STORE.lock:
                if bucket not in STORE.buckets:
                    raise no_such_bucket(bucket)
                if STORE.buckets[bucket]:
                    raise HttpError(
                        409, "BucketNotEmpty", "The bucket you tried to delete is not empty.", bucket
                    )
                del STORE.buckets[bucket]
            return self.send(204)
        if method in ("GET", "HEAD"):
            return self.list_objects(bucket, query)
        raise HttpError(405, "MethodNotAllowed", "The specified method is not allowed.")

    def list_objects(self, bucket, query):
        prefix = query.get("prefix", "")
        delimiter = query.get("delimiter", "")
        start_after = query.get("start-after", "")
        token = query.get("continuation-token")
        try:
            max_keys = int(query.get("max-keys", "1000"))
        except ValueError:
            raise HttpError(400, "InvalidArgument", "Invalid argument.", "max-keys")
        if max_keys < 0:
            raise HttpError(400, "InvalidArgument", "Invalid argument.", "max-keys")
        max_keys = min(max_keys, 1000)
        after = None  # list the keys after this one
        after_prefix = None  # ...and none below this common prefix (the last page's end)
        if token is not None:
            # The token is opaque to clients: "K" + the last key, or "P" + the last prefix.
            try:
                decoded = base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
            except ValueError:
                decoded = ""
            if decoded[:1] not in ("K", "P"):
                raise HttpError(400, "InvalidArgument", "Invalid argument.", "continuation-token")
            after = decoded[1:]
            if decoded[0] == "P":
                after_prefix = after
        elif start_after:
            after = start_after

        with STORE.lock:
            if bucket not in STORE.buckets:
                raise no_such_bucket(bucket)
            objects = sorted(
                (k, o) for k, o in STORE.buckets[bucket].items() if k.startswith(prefix)
            )

        entries = []  # (name, obj or None for a common prefix), in key order
        seen_prefixes = set()
        truncated = False
        for key, obj in objects:
            if after is not None and key <= after:
                continue
            if after_prefix is not None and key.startswith(after_prefix):
                continue
            name, entry = key, obj
            if delimiter:
                cut = key.find(delimiter, len(prefix))
                if cut >= 0:
                    name, entry = key[: cut + len(delimiter)], None
                    if name in seen_prefixes:
                        continue
                    seen_prefixes.add(name)
            if len(entries) == max_keys:
                truncated = True
                break
            entries.append((name, entry))

        parts = ["<ListBucketResult xmlns='http://doc.s3.amazonaws.com/2006-03-01'>"]
        parts.append("<Name>%s</Name>" % escape(bucket))
        parts.append("<Prefix>%s</Prefix>" % escape(prefix))
        if delimiter:
            parts.append("<Delimiter>%s</Delimiter>" % escape(delimiter))
        if start_after:
            parts.append("<StartAfter>%s</StartAfter>" % escape(start_after))
        if token is not None:
            parts.append("<ContinuationToken>%s</ContinuationToken>" % escape(token))
        parts.append("<KeyCount>%d</KeyCount>" % len(entries))
        parts.append("<MaxKeys>%d</MaxKeys>" % max_keys)
        parts.append("<IsTruncated>%s</IsTruncated>" % ("true" if truncated else "false"))
        if truncated and entries:
            name, obj = entries[-1]
            last = (("K" if obj is not None else "P") + name).encode("utf-8")
            next_token = base64.urlsafe_b64encode(last).decode("ascii")
            parts.append("<NextContinuationToken>%s</NextContinuationToken>" % next_token)
        for name, obj in entries:
            if obj is None:
                continue
            parts.append(
                "<Contents><Key>%s</Key><Generation>%d</Generation><MetaGeneration>1"
                "</MetaGeneration><LastModified>%s</LastModified><ETag>%s</ETag>"
                "<Size>%d</Size><StorageClass>STANDARD</StorageClass></Contents>"
                % (escape(name), obj.generation, iso_time(obj.mtime), escape(obj.etag), len(obj.data))
            )
        for name, obj in entries:
            if obj is None:
                parts.append("<CommonPrefixes><Prefix>%s</Prefix></CommonPrefixes>" % escape(name))
        parts.append("</ListBucketResult>")
        self.send_xml(200, "".join(parts))

    # -- objects ----------------------------------------------------------------------------

    def object_request(self, method, bucket, key, query, body):
        if "uploads" in query and method == "POST":
            return self.initiate_upload(bucket, key)
        if "uploadId" in query:
            upload_id = query["uploadId"]
            if method == "PUT" and "partNumber" in query:
                return self.put_part(bucket, key, upload_id, query["partNumber"], body)
            if method == "POST":
                return self.complete_upload(bucket, key, upload_id, body)
            if method == "DELETE":
                return self.abort_upload(bucket, key, upload_id)
            raise HttpError(400, "InvalidArgument", "Invalid argument.", "uploadId")
        if method == "PUT":
            if "x-goog-copy-source" in self.headers:
                return self.copy_object(bucket, key)
            return self.put_object(bucket, key, body)
        if method in ("GET", "HEAD"):
            return self.get_object(bucket, key, query)
        if method == "DELETE":
            with STORE.lock:
                objects = STORE.buckets.get(bucket)
                if objects is None:
                    raise no_such_bucket(bucket)
                if key not in objects:
                    raise no_such_key(bucket, key)
                del objects[key]
            return self.send(204)
        raise HttpError(405, "MethodNotAllowed", "The specified method is not allowed.")

    def check_generation_match(self, objects, key):
        """x-goog-if-generation-match: 0 = must not exist, else the current generation."""
        wanted = self.headers.get("x-goog-if-generation-match")
        if wanted is None:
            return
        current = objects.get(key)
        ok = (current is None) if wanted.strip() == "0" else (
            current is not None and str(current.generation) == wanted.strip()
        )
        if not ok:
            raise HttpError(
                412,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold.",
                "x-goog-if-generation-match",
            )

    def store_object(self, bucket, key, obj):
        """Stores obj under the precondition headers; caller holds no lock."""
        with STORE.lock:
            objects = STORE.buckets.get(bucket)
            if objects is None:
                raise no_such_bucket(bucket)
            self.check_generation_match(objects, key)
            obj.generation = STORE.next_generation()
            objects[key] = obj

    def object_headers(self, obj):
        md5 = base64.b64encode(hashlib.md5(obj.data).digest()).decode("ascii")
        return {
            "ETag": obj.etag,
            "x-goog-generation": str(obj.generation),
            "x-goog-metageneration": "1",
            "x-goog-hash": "md5=%s" % md5,
            "x-goog-stored-content-length": str(len(obj.data)),
        }

    def put_object(self, bucket, key, body):
        obj = Obj(body, quoted_md5(body), 0, kept_headers(self.headers))
        self.store_object(bucket, key, obj)
        self.send(200, b"", self.object_headers(obj))

    def copy_object(self, bucket, key):
        source = self.headers["x-goog-copy-source"].lstrip("/")
        src_bucket_raw, _, src_key_raw = source.partition("/")
        src_bucket = unquote(src_bucket_raw, errors="strict")
        src_key = unquote(src_key_raw, errors="strict")
        with STORE.lock:
            objects = STORE.buckets.get(src_bucket)
            if objects is None:
                raise no_such_bucket(src_bucket)
            src = objects.get(src_key)
            if src is None:
                raise no_such_key(src_bucket, src_key)
            obj = Obj(src.data, src.etag, 0, dict(src.headers))
        self.store_object(bucket, key, obj)
        self.send_xml(
            200,
            "<CopyObjectResult><LastModified>%s</LastModified><ETag>%s</ETag></CopyObjectResult>"
            % (iso_time(obj.mtime), escape(obj.etag)),
            self.object_headers(obj),
        )

    def get_object(self, bucket, key, query):
        with STORE.lock:
            objects = STORE.buckets.get(bucket)
            if objects is None:
                raise no_such_bucket(bucket)
            obj = objects.get(key)
        if obj is None or ("generation" in query and query["generation"] != str(obj.generation)):
            raise no_such_key(bucket, key)

        headers = self.object_headers(obj)
        headers["Last-Modified"] = http_time(obj.mtime)
        headers["Accept-Ranges"] = "bytes"
        for name, value in obj.headers.items():
            headers[name] = value
        self.check_conditions(obj, headers)

        data = obj.data
        size = len(data)
        status = 200
        wanted = self.headers.get("Range")
        if wanted:
            span = parse_range(wanted, size)
            if span is None:
                raise HttpError(
                    416,
                    "InvalidRange",
                    "The requested range cannot be satisfied.",
                    wanted,
                    {"Content-Range": "bytes */%d" % size},
                )
            if span is not False:
                start, end = span
                data = data[start : end + 1]
                status = 206
                headers["Content-Range"] = "bytes %d-%d/%d" % (start, end, size)
        headers["Content-Length"] = str(len(data))
        content_type = headers.pop("content-type", "application/octet-stream")
        self.send(status, data, headers, content_type)

    def check_conditions(self, obj, headers):
        def etag_matches(header):
            tags = [t.strip() for t in header.split(",")]
            return "*" in tags or obj.etag in tags or obj.etag.strip('"') in tags

        mtime = int(obj.mtime)
        if_match = self.headers.get("If-Match")
        if if_match is not None and not etag_matches(if_match):
            raise HttpError(
                412, "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold.", "If-Match",
            )
        since = parse_http_time(self.headers.get("If-Unmodified-Since"))
        if if_match is None and since is not None and mtime > since:
            raise HttpError(
                412, "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold.",
                "If-Unmodified-Since",
            )
        if_none = self.headers.get("If-None-Match")
        if if_none is not None and etag_matches(if_none):
            raise NotModified(headers)
        since = parse_http_time(self.headers.get("If-Modified-Since"))
        if if_none is None and since is not None and mtime <= since:
            raise NotModified(headers)

    # -- multipart --------------------------------------------------------------------------

    def initiate_upload(self, bucket, key):
        with STORE.lock:
            if bucket not in STORE.buckets:
                raise no_such_bucket(bucket)
            upload_id = "upload-%d-%s" % (
                next(STORE.upload_ids),
                hashlib.md5(("%s/%s/%f" % (bucket, key, time.time())).encode()).hexdigest()[:16],
            )
            STORE.uploads[upload_id] = (bucket, key, {}, kept_headers(self.headers))
        self.send_xml(
            200,
            "<InitiateMultipartUploadResult><Bucket>%s</Bucket><Key>%s</Key>"
            "<UploadId>%s</UploadId></InitiateMultipartUploadResult>"
            % (escape(bucket), escape(key), escape(upload_id)),
        )

    def upload(self, bucket, key, upload_id):
        upload = STORE.uploads.get(upload_id)
        if upload is None or upload[0] != bucket or upload[1] != key:
            raise no_such_upload(upload_id)
        return upload

    def put_part(self, bucket, key, upload_id, number, body):
        try:
            number = int(number)
        except ValueError:
            raise HttpError(400, "InvalidArgument", "Invalid argument.", "partNumber")
        if not 1 <= number <= 10000:
            raise HttpError(400, "InvalidArgument", "Invalid argument.", "partNumber")
        etag = quoted_md5(body)
        with STORE.lock:
            self.upload(bucket, key, upload_id)[2][number] = (etag, body)
        self.send(200, b"", {"ETag": etag})

    def complete_upload(self, bucket, key, upload_id, body):
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError as err:
            raise HttpError(400, "MalformedXML", "The XML you provided was not well-formed.", str(err))
        wanted = []
        for part in root.iter():
            if part.tag.rsplit("}", 1)[-1] != "Part":
                continue
            fields = {child.tag.rsplit("}", 1)[-1]: (child.text or "") for child in part}
            try:
                wanted.append((int(fields["PartNumber"]), fields["ETag"].strip()))
            except (KeyError, ValueError):
                raise HttpError(400, "MalformedXML", "The XML you provided was not well-formed.")
        if not wanted:
            raise HttpError(400, "MalformedXML", "The XML you provided was not well-formed.")
        numbers = [n for n, _ in wanted]
        if numbers != sorted(set(numbers)):
            raise HttpError(
                400, "InvalidPartOrder", "The list of parts was not in ascending order."
            )
        with STORE.lock:
            _, _, parts, headers = self.upload(bucket, key, upload_id)
            chosen = []
            for index, (number, etag) in enumerate(wanted):
                part = parts.get(number)
                if part is None or part[0].strip('"') != etag.strip('"'):
                    raise HttpError(
                        400, "InvalidPart", "One or more of the specified parts could not be found.",
                        "part %d" % number,
                    )
                if index < len(wanted) - 1 and len(part[1]) < MIN_PART_SIZE:
                    raise HttpError(
                        400, "EntityTooSmall",
                        "Your proposed upload is smaller than the minimum allowed object size.",
                        "part %d" % number,
                    )
                chosen.append(part)
            data = b"".join(p[1] for p in chosen)
            digest = hashlib.md5(b"".join(bytes.fromhex(p[0].strip('"')) for p in chosen))
            etag = '"%s-%d"' % (digest.hexdigest(), len(chosen))
            obj = Obj(data, etag, 0, headers)
            objects = STORE.buckets.get(bucket)
            if objects is None:
                raise no_such_bucket(bucket)
            obj.generation = STORE.next_generation()
            objects[key] = obj
            del STORE.uploads[upload_id]
        self.send_xml(
            200,
            "<CompleteMultipartUploadResult><Location>/%s/%s</Location><Bucket>%s</Bucket>"
            "<Key>%s</Key><ETag>%s</ETag></CompleteMultipartUploadResult>"
            % (escape(bucket), escape(key), escape(bucket), escape(key), escape(etag)),
            {"x-goog-generation": str(obj.generation)},
        )

    def abort_upload(self, bucket, key, upload_id):
        with STORE.lock:
            self.upload(bucket, key, upload_id)
            del STORE.uploads[upload_id]
        self.send(204)


def parse_range(header, size):
    """(start, end) inclusive; None when unsatisfiable; False to ignore the header."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return False
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return False
    try:
        if first == "":
            n = int(last)
            if n <= 0 or size == 0:
                return None
            return max(0, size - n), size - 1
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return False
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)


def parse_http_time(value):
    if not value:
        return None
    try:
        return int(email.utils.parsedate_to_datetime(value).timestamp())
    except (TypeError, ValueError):
        return None


def main():
    parser = argparse.ArgumentParser(description="In-memory Google Cloud Storage XML-API stand-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    parser.add_argument(
        "--exit-on-stdin-eof", action="store_true", help="stop when stdin is closed"
    )
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("binds loopback only (127.0.0.1, localhost or ::1)")

    Handler.verbose = args.verbose
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.allow_reuse_address = True
    if ":" in args.host:
        import socket

        ThreadingHTTPServer.address_family = socket.AF_INET6
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    if args.port == 0:
        print(server.server_address[1], flush=True)
    if args.verbose:
        sys.stderr.write("gcs: listening on %s:%d\n" % (args.host, server.server_address[1]))
    if args.exit_on_stdin_eof:
        def watch():
            while sys.stdin.buffer.read(4096):
                pass
            server.shutdown()

        threading.Thread(target=watch, daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
