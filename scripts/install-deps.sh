#!/usr/bin/env bash
# Installs the system packages photopress needs on a fresh Debian/Ubuntu machine:
# nasm (SIMD for the JPEG codec; the build fails without it) and, for the tests,
# libjpeg-turbo-progs (cjpeg/djpeg/jpegtran: fixtures, and a reference decoder) and
# python3-pil (Pillow: a third decoder of the outputs). Does nothing when everything is
# already there.
set -euo pipefail
missing=()
command -v nasm >/dev/null 2>&1 || missing+=(nasm)
command -v jpegtran >/dev/null 2>&1 || missing+=(libjpeg-turbo-progs)
python3 -c 'import PIL' >/dev/null 2>&1 || missing+=(python3-pil)
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "[install-deps] installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
# A python3 first on PATH that is not the system's (pyenv, a venv) does not see the apt
# package: give it Pillow from PyPI.
if ! python3 -c 'import PIL' >/dev/null 2>&1; then
    echo "[install-deps] python3 ($(command -v python3)) has no PIL: pip install pillow" >&2
    python3 -m pip install --quiet pillow || python3 -m pip install --quiet --break-system-packages pillow
fi
