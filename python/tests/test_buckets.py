"""compress_dir between buckets, from Python: moto on loopback (started and stopped here, by
.ci/services.sh, with the venv scripts/install-deps.sh makes). The outputs are the bytes a
local run writes, the report says what the command's would, a rerun skips what is done, and a
missing bucket is one SetupError."""

import json
import os
import subprocess
from pathlib import Path

import pytest

import photopress

from conftest import IMAGES, ROOT

SERVICES = ROOT / ".ci" / "services.sh"
MOTO_PY = ROOT / ".tools" / "moto-venv" / "bin" / "python"


@pytest.fixture
def s3(tmp_path, monkeypatch):
    """A moto server with a bucket `photos-in` holding IMAGES/ under photos/, and a bucket `photos-out`;
    the AWS_* variables point at it."""
    assert MOTO_PY.is_file(), "no moto venv: run ./scripts/install-deps.sh"
    port = subprocess.run(
        [str(SERVICES), "free-port"], capture_output=True, text=True, check=True
    ).stdout.strip()
    env = {**os.environ, "PHOTOPRESS_MOTO_STATE": str(tmp_path / "moto")}
    subprocess.run([str(SERVICES), "start-moto", port], env=env, check=True, capture_output=True)
    settings = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    upload = (
        "import sys, pathlib, boto3\n"
        "s3 = boto3.client('s3')\n"
        "for b in ('photos-in', 'photos-out'): s3.create_bucket(Bucket=b)\n"
        "for p in sorted(pathlib.Path(sys.argv[1]).glob('*.jpg')):\n"
        "    s3.upload_file(str(p), 'photos-in', 'photos/' + p.name)\n"
    )
    subprocess.run([str(MOTO_PY), "-c", upload, str(IMAGES)], env={**env, **settings}, check=True)
    try:
        yield settings
    finally:
        subprocess.run([str(SERVICES), "stop-moto"], env=env, capture_output=True)


def download(settings, prefix: str) -> dict:
    listing = (
        "import sys, json, boto3\n"
        "s3 = boto3.client('s3')\n"
        "out = {}\n"
        "for o in s3.list_objects_v2(Bucket='photos-out', Prefix=sys.argv[1]).get('Contents', []):\n"
        "    out[o['Key']] = s3.get_object(Bucket='photos-out', Key=o['Key'])['Body'].read().hex()\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [str(MOTO_PY), "-c", listing, prefix],
        env={**os.environ, **settings},
        capture_output=True,
        text=True,
        check=True,
    )
    return {k: bytes.fromhex(v) for k, v in json.loads(done.stdout).items()}


def test_bucket_to_bucket_as_a_local_run(s3, tmp_path):
    report = photopress.compress_dir("s3://photos-in/photos", "s3://photos-out/small", jobs=2)
    assert report.ok and report.totals.compressed == 4
    assert report.totals.input_bytes == 3544880
    local = photopress.compress_dir(IMAGES, tmp_path / "local", jobs=2)
    assert report.totals.output_bytes == local.totals.output_bytes
    objects = download(s3, "small/")
    for name in ("dogs.jpg", "fig.jpg", "leaf.jpg", "mountains.jpg"):
        key = f"small/compressed_{name}"
        assert objects[key] == (tmp_path / "local" / f"compressed_{name}").read_bytes(), key
    # The manifest a bucket output keeps makes a rerun skip everything.
    assert any(k.startswith("small/_photopress/") for k in objects)
    again = photopress.compress_dir("s3://photos-in/photos", "s3://photos-out/small", jobs=2)
    assert again.totals.skipped == 4 and again.totals.compressed == 0


def test_a_missing_bucket_is_one_setup_error(s3, tmp_path):
    with pytest.raises(photopress.SetupError, match="bucket nowhere does not exist"):
        photopress.compress_dir("s3://nowhere/photos", tmp_path / "out")
    assert not Path(tmp_path / "out").exists()
