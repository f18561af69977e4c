"""Fixtures of the wheel's tests: the shipped photos, a copy of them to work on, and the
cargo-built command to compare with (PHOTOPRESS_BIN, else the repository's target/)."""

import hashlib
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "IMAGES"


def digest(folder: Path) -> dict:
    """Every file of `folder` by name, as its SHA-256."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture
def images(tmp_path: Path) -> Path:
    """A copy of IMAGES/ (its four photos), checked unchanged after the test."""
    folder = tmp_path / "IMAGES"
    shutil.copytree(IMAGES, folder, ignore=shutil.ignore_patterns("*.md"))
    before = digest(folder)
    yield folder
    assert digest(folder) == before, "an input was modified"


@pytest.fixture(scope="session")
def cli() -> str:
    """The command as cargo builds it."""
    for candidate in (
        os.environ.get("PHOTOPRESS_BIN"),
        ROOT / "target" / "release" / "photopress",
        ROOT / "target" / "debug" / "photopress",
    ):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    pytest.fail("no cargo-built photopress: run cargo build, or set PHOTOPRESS_BIN")
