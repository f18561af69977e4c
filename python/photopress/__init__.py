"""photopress: compress JPEG photos, one in memory, one file, or a whole folder or bucket in
parallel, and know exactly what it saved.

The work is done in Rust with the GIL released, so Python threads compress in parallel; a
folder is compressed by photopress's own pool of worker threads (``jobs``).

Options are keyword arguments, named as the command's flags with ``_`` for ``-``:
``quality`` (1..100, default 30; 95 is the ceiling of a target's search), ``strip``,
``strip_icc``, ``progressive``, ``lossless``, ``best``, ``extended``, ``method``
(``"auto"``, ``"dct"``, ``"pixel"``), ``target_quality`` (``70`` or ``"ssimulacra2:70"``),
``target_size`` and ``min_savings`` (bytes, or ``"200K"``, ``"60%"``), ``long_edge``,
``width``, ``height``, ``upscale``, ``allow_larger``, ``accept_corrupt``, ``max_file_size``
and ``max_memory`` (bytes or ``"512M"``), ``archive``, ``restore``, ``archive_strict``;
files and folders also take ``fsync`` and ``preserve``; folders also ``jobs``,
``sequential``, ``prefix``, ``recursive``, ``skip_existing``, ``hidden``, ``exclude``.
An unknown keyword raises ``TypeError``; a wrong value ``SetupError``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    List,
    Literal,
    Optional,
    Sequence,
    Tuple,
    TypedDict,
    Union,
)

from . import _native
from ._native import Error, ImageError, SetupError

if TYPE_CHECKING:  # typing_extensions for Python < 3.11, for type checkers only
    from typing_extensions import Unpack

__version__: str = _native.__version__

__all__ = [
    "Options",
    "FileOptions",
    "DirOptions",
    "Error",
    "ImageError",
    "SetupError",
    "Result",
    "FileResult",
    "FileRecord",
    "Totals",
    "Report",
    "compress",
    "compress_file",
    "compress_dir",
]

PathLike = Union[str, "os.PathLike[str]"]
Size = Union[int, str]


class Options(TypedDict, total=False):
    """The keyword arguments every call takes (see the module's documentation)."""

    quality: Optional[int]
    strip: bool
    strip_icc: bool
    progressive: bool
    lossless: bool
    best: bool
    extended: bool
    method: Literal["auto", "dct", "pixel"]
    target_quality: Union[float, str, None]
    target_size: Optional[Size]
    min_savings: Optional[Size]
    long_edge: Optional[int]
    width: Optional[int]
    height: Optional[int]
    upscale: bool
    allow_larger: bool
    accept_corrupt: bool
    max_file_size: Optional[Size]
    max_memory: Optional[Size]
    archive: bool
    restore: bool
    archive_strict: bool


class FileOptions(Options, total=False):
    """The keyword arguments of :func:`compress_file`: every call's, and how it writes."""

    fsync: bool
    preserve: bool


class DirOptions(FileOptions, total=False):
    """The keyword arguments of :func:`compress_dir`: a file's, and the batch's."""

    jobs: Optional[int]
    sequential: bool
    prefix: Optional[str]
    recursive: bool
    skip_existing: bool
    hidden: bool
    exclude: Optional[Sequence[str]]


@dataclass(frozen=True)
class FileResult:
    """What compressing one image did.

    ``output_bytes`` is the size written; ``kept_original`` is true when re-encoding did not
    pay (the output is then the input's own bytes). ``method`` is ``"dct"`` (transcoded
    without decoding to pixels), ``"pixel"``, ``"archive"`` or ``"restore"``; ``quality`` the
    quality written (chosen per image under a target); ``score`` its SSIMULACRA 2 score
    against the input under ``target_quality``; ``candidates`` the encodes a target tried;
    ``dimensions`` the displayed (width, height) when resized.
    """

    input_bytes: int
    output_bytes: int
    kept_original: bool
    method: Optional[str]
    quality: Optional[int]
    score: Optional[float]
    candidates: Optional[int]
    dimensions: Optional[Tuple[int, int]]


@dataclass(frozen=True)
class Result(FileResult):
    """What :func:`compress` made: :class:`FileResult`'s figures and ``data``, the output's bytes."""

    data: bytes = b""


@dataclass(frozen=True)
class FileRecord:
    """One file of a :class:`Report`, as the command's ``--json`` report gives it.

    ``status`` is ``"compressed"``, ``"kept-original"``, ``"skipped"``, ``"failed"`` or
    ``"not-started"``; ``error`` says why a file failed (``output`` is then ``None``).
    """

    input: str
    output: Optional[str]
    input_bytes: int
    output_bytes: int
    status: str
    method: Optional[str]
    quality: Optional[int]
    progressive: Optional[bool]
    error: Optional[str]
    score: Optional[float] = None
    candidates: Optional[int] = None
    verified: Optional[bool] = None
    width: Optional[int] = None
    height: Optional[int] = None


@dataclass(frozen=True)
class Totals:
    """The report's totals: counts per status, bytes before and after, ``rate`` (after /
    before), ``duration_ms`` and the ``threads`` that did the work."""

    files: int
    compressed: int
    kept_original: int
    skipped: int
    failed: int
    not_started: int
    input_bytes: int
    output_bytes: int
    dct: int
    pixel: int
    rate: float
    duration_ms: float
    threads: int


@dataclass(frozen=True)
class Report:
    """What :func:`compress_dir` did: one :class:`FileRecord` per file, the :class:`Totals`,
    and ``text``, the command's own report (``Total files size``, ... as it prints them)."""

    files: List[FileRecord]
    totals: Totals
    text: str

    @property
    def ok(self) -> bool:
        """True when no file failed (the command's exit status 0 or 3)."""
        return self.totals.failed == 0 and self.totals.not_started == 0

    @property
    def errors(self) -> Dict[str, str]:
        """The failed files' inputs and their messages."""
        return {f.input: f.error for f in self.files if f.error is not None}


def _file_result(fields: Dict[str, Any]) -> FileResult:
    return FileResult(**fields)


def compress(data: bytes, **options: Unpack[Options]) -> Result:
    """Compresses one JPEG held in memory and returns its bytes and figures.

    Raises :class:`ImageError` when the input cannot be compressed (not a JPEG, corrupt,
    too large) and :class:`SetupError` when the options do not hold together. Batch and file
    options (``jobs``, ``prefix``, ``fsync``, ...) raise ``TypeError``.
    """
    if not isinstance(data, bytes):
        data = bytes(data)
    return Result(**_native.compress(data, **options))


def compress_file(
    input: PathLike, output: PathLike, **options: Unpack[FileOptions]
) -> FileResult:
    """Compresses the JPEG file ``input`` into the file ``output`` (its folder must exist).

    The output is written under a temporary name and renamed into place: on any error
    nothing is written. ``output`` naming the input itself raises :class:`SetupError`; an
    image that cannot be compressed raises :class:`ImageError` whose message starts with
    the input's path.
    """
    return _file_result(_native.compress_file(os.fspath(input), os.fspath(output), **options))


def compress_dir(
    inputs: Union[PathLike, Sequence[PathLike]],
    output: PathLike = "COMPRESSED_IMAGES",
    on_file: Optional[Callable[[FileRecord], None]] = None,
    **options: Unpack[DirOptions],
) -> Report:
    """Compresses every JPEG of the folders, files or bucket prefixes ``inputs`` (``s3://``,
    ``gs://``, ``az://`` too) into ``output`` (a folder or a bucket prefix) as the command
    does: ``<prefix><name>`` (``compressed_`` by default), on ``jobs`` worker threads (all
    cores by default).

    A file that fails does not stop the others: it is a :class:`FileRecord` with an
    ``error`` (see :attr:`Report.ok`). Places or options that do not hold together raise
    :class:`SetupError` before anything is written. Ctrl-C stops the batch as it stops the
    command (no image starts after it; those in progress finish), then raises
    ``KeyboardInterrupt``.

    ``on_file``, when given, is called with each file's :class:`FileRecord` as it is done
    (from the worker thread that did it, in the order they finish: a progress bar, a
    database row). An exception it raises stops the batch the same way and is raised.
    """
    if isinstance(inputs, (str, bytes, os.PathLike)):
        inputs = [inputs]
    paths = [os.fspath(i) for i in inputs]
    call = None
    if on_file is not None:
        callback = on_file

        def call(line: str) -> None:
            callback(FileRecord(**json.loads(line)))

    report_json, text = _native.compress_dir(paths, os.fspath(output), call, **options)
    report = json.loads(report_json)
    return Report(
        files=[FileRecord(**record) for record in report["files"]],
        totals=Totals(**report["totals"]),
        text=text,
    )
