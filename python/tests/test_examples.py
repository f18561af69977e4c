"""The documented Dask and Ray examples, run as a user runs them on 2 workers over a folder
of copies of IMAGES/: every photo is written, decodes, and holds the bytes compress_dir
writes for it; the summary's figures are the report's."""

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import photopress

from conftest import IMAGES, digest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copies = tmp_path / "copies"
    copies.mkdir()
    for copy in range(3):
        for photo in sorted(IMAGES.glob("*.jpg")):
            shutil.copy(photo, copies / f"{copy}-{photo.name}")
    return copies


@pytest.mark.parametrize("example", ["dask_compress.py", "ray_compress.py"])
def test_example_compresses_every_photo_as_compress_dir_does(example, folder, tmp_path):
    out = tmp_path / "out"
    flag = "--workers" if example.startswith("dask") else "--cpus"
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / example), str(folder), str(out), flag, "2", "--strip"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    expected = photopress.compress_dir(folder, tmp_path / "expected", strip=True)
    assert expected.totals.files == 12
    assert digest(out) == digest(tmp_path / "expected")
    for photo in out.iterdir():
        with Image.open(io.BytesIO(photo.read_bytes())) as image:
            image.load()
    assert f"Total files size {expected.totals.input_bytes}\n" in done.stdout
    assert f"Total compressed files size {expected.totals.output_bytes}\n" in done.stdout
    assert "Files compressed 12, failed 0" in done.stdout
