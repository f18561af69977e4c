from typing import Any, Callable, Dict, List, Optional, Tuple

__version__: str
__all__ = [
    "Error",
    "ImageError",
    "SetupError",
    "__version__",
    "compress",
    "compress_file",
    "compress_dir",
    "main",
    "_take_peak_parallel_calls",
]

class Error(Exception): ...
class ImageError(Error): ...
class SetupError(Error): ...

def compress(data: bytes, **options: Any) -> Dict[str, Any]: ...
def compress_file(input: str, output: str, **options: Any) -> Dict[str, Any]: ...
def compress_dir(
    inputs: List[str],
    output: str,
    on_file: Optional[Callable[[str], None]] = None,
    **options: Any,
) -> Tuple[str, str]: ...
def main(argv: List[str]) -> int: ...
def _take_peak_parallel_calls() -> int: ...
