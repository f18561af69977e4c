import os
from dataclasses import dataclass
from typing import Dict, List, Literal, Optional, Sequence, Tuple, TypedDict, Union

from typing_extensions import Unpack

from ._native import Error as Error
from ._native import ImageError as ImageError
from ._native import SetupError as SetupError

__version__: str
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

PathLike = Union[str, os.PathLike[str]]
Size = Union[int, str]

class Options(TypedDict, total=False):
    """The options of every call (keyword arguments)."""

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
    """The options of compress_file: every call's, and how the file is written."""

    fsync: bool
    preserve: bool

class DirOptions(FileOptions, total=False):
    """The options of compress_dir: a file's, and the batch's."""

    jobs: Optional[int]
    sequential: bool
    prefix: Optional[str]
    recursive: bool
    skip_existing: bool
    hidden: bool
    exclude: Optional[Sequence[str]]

@dataclass(frozen=True)
class FileResult:
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
    data: bytes = ...

@dataclass(frozen=True)
class FileRecord:
    input: str
    output: Optional[str]
    input_bytes: int
    output_bytes: int
    status: str
    method: Optional[str]
    quality: Optional[int]
    progressive: Optional[bool]
    error: Optional[str]
    score: Optional[float] = ...
    candidates: Optional[int] = ...
    verified: Optional[bool] = ...
    width: Optional[int] = ...
    height: Optional[int] = ...

@dataclass(frozen=True)
class Totals:
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
    files: List[FileRecord]
    totals: Totals
    text: str
    @property
    def ok(self) -> bool: ...
    @property
    def errors(self) -> Dict[str, str]: ...

def compress(data: bytes, **options: Unpack[Options]) -> Result:
    """Compresses one JPEG held in memory and returns its bytes and figures."""

def compress_file(input: PathLike, output: PathLike, **options: Unpack[FileOptions]) -> FileResult:
    """Compresses the JPEG file `input` into the file `output`, atomically."""

def compress_dir(
    inputs: Union[PathLike, Sequence[PathLike]],
    output: PathLike = ...,
    **options: Unpack[DirOptions],
) -> Report:
    """Compresses every JPEG of folders, files or bucket prefixes into a folder or prefix."""
