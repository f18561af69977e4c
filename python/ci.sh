#!/usr/bin/env bash
# The Python package's checks, as CI runs them: build the wheel (maturin, release), install it
# into a fresh venv with the test dependencies (pytest, Pillow, mypy, Dask, Ray Data), check
# the type stubs against the module (mypy's stubtest), and run the
# pytest suite, which compares the wheel with the cargo-built command (PHOTOPRESS_BIN; by
# default the debug build `cargo test` leaves) and runs the Dask and Ray examples.
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$(cd .. && pwd)"
VENV="$ROOT/.tools/py-ci"
export PHOTOPRESS_BIN="${PHOTOPRESS_BIN:-$ROOT/target/debug/photopress}"
[ -x "$PHOTOPRESS_BIN" ] || (cd "$ROOT" && cargo build --bin photopress)

rm -rf "$VENV" target/wheels
# Debian's python3 needs python3-venv for ensurepip (scripts/install-deps.sh installs it).
python3 -m venv "$VENV" || { rm -rf "$VENV"; /usr/bin/python3 -m venv "$VENV"; }
# Dask and distributed are released in lockstep and must match: unpinned, pip once paired
# dask 2026.11.0 with an older distributed that imports a name dask had dropped, and the Dask
# example failed. Pinned to a pair (and Ray) that passed; move them together.
"$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "maturin>=1.9,<2" pytest Pillow mypy \
    "dask[bag]==2026.8.0" "distributed==2026.8.0" "ray[data]==2.60.0"
"$VENV/bin/maturin" build --release --out target/wheels
wheel=(target/wheels/photopress-*.whl)
echo "[python] built ${wheel[0]##*/} ($(du -h "${wheel[0]}" | cut -f1))"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "${wheel[0]}"
# From the repository root: the tests import the installed package, not python/photopress.
cd "$ROOT"
# The type stubs against the installed module (names, signatures, __all__), and the
# examples type-checked against them.
"$VENV/bin/python" -m mypy.stubtest photopress
"$VENV/bin/python" -m mypy --ignore-missing-imports --no-error-summary python/examples
"$VENV/bin/pytest" -q -p no:cacheprovider python/tests
