"""The package's types as a type checker sees them (mypy, on the installed package): good calls
pass, a misspelt or misplaced keyword and a wrong value type are errors."""

import textwrap

from mypy import api


def check(code: str) -> str:
    stdout, _, _ = api.run(["--no-incremental", "--no-error-summary", "-c", textwrap.dedent(code)])
    return stdout


def test_good_calls_type_check():
    assert check(
        """
        import photopress
        out = photopress.compress(b"", quality=30, strip=True, target_quality="ssimulacra2:70")
        size: int = out.output_bytes
        data: bytes = out.data
        report = photopress.compress_dir("IMAGES", "out", jobs=2, prefix="", exclude=["*.tmp"])
        rate: float = report.totals.rate
        photopress.compress_file("a.jpg", "b.jpg", fsync=True, long_edge=800)
        """
    ) == ""


def test_wrong_keywords_and_types_are_errors():
    found = check(
        """
        import photopress
        photopress.compress(b"", qualty=30)
        photopress.compress(b"", jobs=2)
        photopress.compress(b"", method="fast")
        photopress.compress_file("a.jpg", "b.jpg", recursive=True)
        """
    )
    assert 'Unexpected keyword argument "qualty"' in found
    assert 'Unexpected keyword argument "jobs"' in found
    assert 'Argument "method" to "compress" has incompatible type' in found
    assert 'Unexpected keyword argument "recursive"' in found
