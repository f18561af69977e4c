"""The ``photopress`` command installed by pip: the Rust binary's own code, run in-process."""

import sys

from . import _native


def main() -> None:
    """Runs the command with ``sys.argv`` and exits with its status."""
    # Python's buffered output first: the command writes to the same descriptors.
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(_native.main(["photopress", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
