"""The `photopress` command pip installs: the cargo-built command's behaviour (outputs,
report, exit codes), and Ctrl-C in the API's batch."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import IMAGES, digest


def installed() -> str:
    """The entry point pip put next to this Python."""
    script = Path(sys.executable).with_name("photopress")
    assert script.is_file(), f"{script} missing: the wheel's entry point was not installed"
    return str(script)


def run(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=300, **kw)


def test_the_command_is_the_cargo_built_one(images, tmp_path, cli):
    mine = run(installed(), str(images), "-o", str(tmp_path / "py"), "--json", "--strip", "-q", "45")
    theirs = run(cli, str(images), "-o", str(tmp_path / "cli"), "--json", "--strip", "-q", "45")
    assert mine.returncode == theirs.returncode == 0, mine.stderr
    a, b = json.loads(mine.stdout), json.loads(theirs.stdout)
    for report in (a, b):
        del report["totals"]["duration_ms"]
        for record in report["files"]:
            record["output"] = Path(record["output"]).name
    assert a == b
    assert digest(tmp_path / "py") == digest(tmp_path / "cli")
    # The log lines name the command's thread as the binary does.
    assert " ProcessImages main INFO Start processing 4 images" in mine.stderr


def test_exit_codes_and_messages_are_the_commands(tmp_path, cli):
    for args in (
        [str(tmp_path / "missing"), "-o", str(tmp_path / "out")],
        ["--quality", "0"],
        ["--version"],
        ["restore"],
    ):
        mine, theirs = run(installed(), *args), run(cli, *args)
        assert (mine.returncode, mine.stdout, mine.stderr) == (
            theirs.returncode,
            theirs.stdout,
            theirs.stderr,
        ), args
    assert run(installed(), str(tmp_path / "missing"), "-o", str(tmp_path / "o")).returncode == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(installed(), str(empty), "-o", str(tmp_path / "o")).returncode == 3
    # python -m photopress is the same command.
    module = run(sys.executable, "-m", "photopress", "--version")
    assert module.returncode == 0 and module.stdout == run(cli, "--version").stdout


def test_ctrl_c_stops_a_batch_cleanly(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for copy in range(30):
        for photo in IMAGES.glob("*.jpg"):
            shutil.copy(photo, folder / f"{copy:02}-{photo.name}")
    out = tmp_path / "out"
    # Python keeps SIGINT ignored when its parent ignored it (a job started in the background
    # without job control does): the child asks for the usual Ctrl-C of a terminal.
    script = (
        "import photopress, signal, sys\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "try:\n"
        f"    photopress.compress_dir({str(folder)!r}, {str(out)!r}, jobs=1, target_quality=60)\n"
        "except KeyboardInterrupt:\n"
        "    sys.exit(42)\n"
        "sys.exit(0)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (out.exists() and any(p.suffix == ".jpg" for p in out.iterdir())):
        assert child.poll() is None, "the batch ended before it could be interrupted"
        assert time.monotonic() < deadline, "no output appeared"
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=120)
    assert child.returncode == 42, stderr
    written = [p.name for p in out.iterdir()]
    # Stopped early; every file there is complete (no temporary file left).
    assert 0 < len(written) < 120
    assert all(name.startswith("compressed_") and name.endswith(".jpg") for name in written)
