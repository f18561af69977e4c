"""The module's API on real photos: outputs decode with Pillow at the right size, figures
match the cargo-built command's, bad input raises the documented exception and writes
nothing, and the GIL is released while Rust works."""

import io
import json
import subprocess
import threading
from pathlib import Path

import pytest
from PIL import Image

import photopress
from photopress import _native

from conftest import IMAGES, digest

PHOTOS = ["dogs.jpg", "fig.jpg", "leaf.jpg", "mountains.jpg"]


def size_of(data: bytes):
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.format == "JPEG"
        return image.size


def run_cli(cli: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([cli, *args], capture_output=True, text=True, timeout=300)


def test_compress_in_memory_matches_the_command(cli, tmp_path):
    data = (IMAGES / "leaf.jpg").read_bytes()
    out = photopress.compress(data)
    assert isinstance(out, photopress.Result)
    assert size_of(out.data) == size_of(data) == (1920, 1200)
    assert out.output_bytes == len(out.data) < len(data) / 4
    assert out.input_bytes == len(data)
    assert (out.method, out.quality, out.kept_original) == ("dct", 30, False)
    # The same bytes as the command writes for that photo (stdin to stdout).
    same = subprocess.run([cli, "-", "--quiet"], input=data, capture_output=True, timeout=300)
    assert same.returncode == 0, same.stderr
    assert same.stdout == out.data
    # Our own output again: kept as it is.
    again = photopress.compress(out.data)
    assert again.kept_original and again.data == out.data
    # bytearray and memoryview are taken too.
    assert photopress.compress(bytearray(data)).data == out.data


def test_options_reach_the_encoder():
    data = (IMAGES / "mountains.jpg").read_bytes()
    q30 = photopress.compress(data, strip=True)
    q60 = photopress.compress(data, strip=True, quality=60)
    assert q60.quality == 60 and q60.output_bytes > q30.output_bytes
    small = photopress.compress(data, long_edge=800, strip=True)
    assert max(size_of(small.data)) == 800
    assert small.dimensions == size_of(small.data)
    progressive = photopress.compress(data, progressive=True)
    with Image.open(io.BytesIO(progressive.data)) as image:
        assert image.info.get("progressive") or image.info.get("progression")
    capped = photopress.compress(data, target_size="150K", strip=True)
    assert capped.output_bytes <= 150 * 1024
    assert capped.candidates and capped.candidates > 1


def test_a_quality_target_is_met_and_reported():
    data = (IMAGES / "dogs.jpg").read_bytes()
    out = photopress.compress(data, target_quality=70, strip=True)
    assert out.score is not None and out.score >= 70
    assert out.quality is not None and 1 <= out.quality <= 95
    same = photopress.compress(data, target_quality="ssimulacra2:70", strip=True)
    assert same.data == out.data


def test_an_archive_restores_bit_for_bit():
    data = (IMAGES / "fig.jpg").read_bytes()
    archived = photopress.compress(data, archive=True)
    assert archived.method == "archive" and archived.output_bytes < len(data)
    restored = photopress.compress(archived.data, restore=True)
    assert restored.method == "restore" and restored.data == data


def test_bad_input_raises_the_documented_exceptions():
    with pytest.raises(photopress.ImageError, match="is a GIF file"):
        photopress.compress(b"GIF89a" + bytes(100))
    with pytest.raises(photopress.ImageError, match="the file is empty"):
        photopress.compress(b"")
    with pytest.raises(photopress.SetupError, match="quality must be between 1 and 100, got 0"):
        photopress.compress(b"\xff\xd8", quality=0)
    with pytest.raises(photopress.SetupError, match="target_quality and target_size cannot be combined"):
        photopress.compress(b"\xff\xd8", target_quality=70, target_size=1000)
    with pytest.raises(photopress.SetupError, match="method must be"):
        photopress.compress(b"\xff\xd8", method="fast")
    with pytest.raises(TypeError, match="unexpected keyword argument 'qualty'"):
        photopress.compress(b"\xff\xd8", qualty=40)
    with pytest.raises(TypeError, match="jobs applies to compress_dir only"):
        photopress.compress(b"\xff\xd8", jobs=2)
    with pytest.raises(TypeError, match="strip must be True or False"):
        photopress.compress(b"\xff\xd8", strip="yes")
    # Each is a photopress.Error, and an Exception.
    assert issubclass(photopress.ImageError, photopress.Error)
    assert issubclass(photopress.SetupError, photopress.Error)
    assert issubclass(photopress.Error, Exception)


def test_compress_file_writes_atomically_and_nothing_on_failure(images, tmp_path, cli):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = photopress.compress_file(images / "dogs.jpg", out_dir / "dogs.jpg")
    written = (out_dir / "dogs.jpg").read_bytes()
    assert result.output_bytes == len(written)
    assert result.input_bytes == (images / "dogs.jpg").stat().st_size
    assert size_of(written) == size_of((images / "dogs.jpg").read_bytes())
    cli_out = tmp_path / "cli"
    done = run_cli(cli, str(images / "dogs.jpg"), "-o", str(cli_out), "--quiet")
    assert done.returncode == 0, done.stderr
    assert (cli_out / "compressed_dogs.jpg").read_bytes() == written

    broken = images / "broken.jpg"
    broken.write_bytes((images / "leaf.jpg").read_bytes()[:3000])
    with pytest.raises(photopress.ImageError) as raised:
        photopress.compress_file(broken, out_dir / "broken.jpg")
    message = str(raised.value)
    assert message.startswith(f"{broken}: ")
    # The message is the command's for that file, naming a setting by its keyword where
    # the command names its flag.
    report = run_cli(cli, str(broken), "-o", str(tmp_path / "cli2"), "--json", "--quiet")
    assert report.returncode == 1
    theirs = json.loads(report.stdout)["files"][0]["error"]
    assert "--accept-corrupt" in theirs
    assert message == f"{broken}: " + theirs.replace("--accept-corrupt", "accept_corrupt")
    broken.unlink()
    # Nothing written: no output, no temporary file.
    assert sorted(p.name for p in out_dir.iterdir()) == ["dogs.jpg"]

    with pytest.raises(photopress.SetupError, match="is the input itself"):
        photopress.compress_file(images / "fig.jpg", images / "fig.jpg")
    with pytest.raises(photopress.ImageError, match="No such file or directory"):
        photopress.compress_file(images / "fig.jpg", tmp_path / "missing" / "fig.jpg")


def test_compress_dir_reports_as_the_command_does(images, tmp_path, cli):
    report = photopress.compress_dir(images, tmp_path / "py", jobs=2)
    done = run_cli(cli, str(images), "-o", str(tmp_path / "cli"), "--jobs", "2", "--json", "--quiet")
    assert done.returncode == 0, done.stderr
    expected = json.loads(done.stdout)
    assert isinstance(report, photopress.Report) and report.ok
    totals = vars(report.totals)
    for key, value in expected["totals"].items():
        if key != "duration_ms":
            assert totals[key] == value, key
    assert report.totals.files == 4 and report.totals.compressed == 4
    assert [Path(f.input).name for f in report.files] == PHOTOS
    for mine, theirs in zip(report.files, expected["files"]):
        assert (mine.input_bytes, mine.output_bytes, mine.status) == (
            theirs["input_bytes"],
            theirs["output_bytes"],
            theirs["status"],
        )
        assert Path(mine.output).name == "compressed_" + Path(mine.input).name
    # The same files, byte for byte, and each decodes at its input's size.
    assert digest(tmp_path / "py") == digest(tmp_path / "cli")
    for name in PHOTOS:
        out = (tmp_path / "py" / f"compressed_{name}").read_bytes()
        assert size_of(out) == size_of((images / name).read_bytes())
    assert "Total files size 3544880" in report.text
    assert f"Total compressed files size {report.totals.output_bytes}" in report.text


def test_a_bad_file_fails_alone_in_a_folder(images, tmp_path):
    (images / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    try:
        report = photopress.compress_dir(images, tmp_path / "out", prefix="")
    finally:
        (images / "broken.jpg").unlink()
    assert not report.ok
    assert report.totals.failed == 1 and report.totals.compressed == 4
    [(failed, message)] = report.errors.items()
    assert Path(failed).name == "broken.jpg" and "JPEG" in message
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == PHOTOS


def test_compress_dir_refuses_places_that_do_not_hold(tmp_path):
    with pytest.raises(photopress.SetupError, match="does not exist"):
        photopress.compress_dir(tmp_path / "nowhere", tmp_path / "out")
    with pytest.raises(photopress.SetupError, match="prefix"):
        photopress.compress_dir(IMAGES, tmp_path / "out", prefix="../x")
    assert not (tmp_path / "out").exists()


def test_two_python_threads_compress_in_parallel():
    data = (IMAGES / "mountains.jpg").read_bytes()
    _native._take_peak_parallel_calls()
    start = threading.Barrier(2)
    errors = []

    def work():
        try:
            start.wait()
            for _ in range(6):
                photopress.compress(data)
        except Exception as err:  # reported below, not lost in the thread
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    # Both threads were inside Rust at once: impossible had the GIL been held.
    assert _native._take_peak_parallel_calls() == 2


def test_on_file_sees_every_file_as_it_is_done(images, tmp_path):
    seen = []
    report = photopress.compress_dir(images, tmp_path / "out", on_file=seen.append, jobs=2)
    assert all(isinstance(record, photopress.FileRecord) for record in seen)
    assert sorted(seen, key=lambda r: r.input) == sorted(report.files, key=lambda r: r.input)


def test_an_exception_in_on_file_stops_the_batch_and_is_raised(images, tmp_path):
    many = tmp_path / "many"
    many.mkdir()
    for copy in range(10):
        for photo in images.glob("*.jpg"):
            (many / f"{copy}-{photo.name}").write_bytes(photo.read_bytes())

    def stop(record):
        raise RuntimeError(f"stop after {Path(record.input).name}")

    with pytest.raises(RuntimeError, match="stop after"):
        photopress.compress_dir(many, tmp_path / "out", on_file=stop, jobs=1)
    # No image started after it: one done (and any in progress), not 40.
    assert 1 <= len(list((tmp_path / "out").iterdir())) <= 2
