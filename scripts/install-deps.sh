#!/usr/bin/env bash
# Installs the system packages photopress needs on a fresh Debian/Ubuntu machine:
# nasm (SIMD for the JPEG codec; the build fails without it) and, for the tests' fixtures,
# libjpeg-turbo-progs (cjpeg/djpeg/jpegtran). Does nothing when everything is already there.
set -euo pipefail
missing=()
command -v nasm >/dev/null 2>&1 || missing+=(nasm)
command -v jpegtran >/dev/null 2>&1 || missing+=(libjpeg-turbo-progs)
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "[install-deps] installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
