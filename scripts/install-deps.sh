#!/usr/bin/env bash
# Installs what photopress needs on a fresh Debian/Ubuntu machine:
# nasm (SIMD for the JPEG codec; the build fails without it) and, for the tests,
# libjpeg-turbo-progs (cjpeg/djpeg/jpegtran: fixtures, and a reference decoder),
# python3-pil (Pillow: a third decoder of the outputs), g++ (for the fuzz crate CI checks) and a Python venv with moto at
# .tools/moto-venv (the S3 server the object-storage tests start on a loopback port; they
# take $PHOTOPRESS_MOTO_SERVER instead when it is set), and Azurite at .tools/azurite (the Azure
# Blob emulator, npm). Does nothing, and says nothing, when
# everything is already there.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.tools/moto-venv"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
apt_updated=""
apt_install() {
    echo "[install-deps] installing: $*" >&2
    if [ -z "$apt_updated" ]; then $SUDO apt-get update -qq; apt_updated=1; fi
    $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing=()
command -v nasm >/dev/null 2>&1 || missing+=(nasm)
command -v jpegtran >/dev/null 2>&1 || missing+=(libjpeg-turbo-progs)
python3 -c 'import PIL' >/dev/null 2>&1 || missing+=(python3-pil)
# A C++ compiler: the fuzz crate's libFuzzer (.ci/run checks that crate) is C++.
command -v g++ >/dev/null 2>&1 || missing+=(g++)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
# A python3 first on PATH that is not the system's (pyenv, a venv) does not see the apt
# package: give it Pillow from PyPI.
if ! python3 -c 'import PIL' >/dev/null 2>&1; then
    echo "[install-deps] python3 ($(command -v python3)) has no PIL: pip install pillow" >&2
    python3 -m pip install --quiet pillow || python3 -m pip install --quiet --break-system-packages pillow
fi

# moto (S3 on loopback) in its own venv, so that its pinned dependencies touch nothing else.
if [ ! -x "$VENV/bin/moto_server" ]; then
    echo "[install-deps] creating $VENV with moto" >&2
    rm -rf "$VENV"
    mkdir -p "$ROOT/.tools"
    # Debian's python3 needs python3-venv for ensurepip; a pyenv python has it built in.
    if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
        rm -rf "$VENV"
        apt_install python3-venv
        python3 -m venv "$VENV" || { rm -rf "$VENV"; /usr/bin/python3 -m venv "$VENV"; }
    fi
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[s3]" flask flask-cors boto3
    [ -x "$VENV/bin/moto_server" ] || { echo "[install-deps] no moto_server in $VENV" >&2; exit 1; }
fi

# Azurite (Azure Blob Storage's emulator, npm) for the az:// tests, at .tools/azurite (they take
# $PHOTOPRESS_AZURITE instead when it is set). Needs Node.js and npm (Debian's, when missing).
AZURITE="$ROOT/.tools/azurite"
if [ ! -e "$AZURITE/node_modules/.bin/azurite-blob" ]; then
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    echo "[install-deps] installing azurite in $AZURITE" >&2
    mkdir -p "$AZURITE"
    (cd "$AZURITE" && npm install --silent --no-audit --no-fund azurite@3 >/dev/null)
    [ -e "$AZURITE/node_modules/.bin/azurite-blob" ] || { echo "[install-deps] no azurite-blob in $AZURITE" >&2; exit 1; }
fi
