#!/usr/bin/env bash
# Installs the Debian packages the project needs, when missing. Idempotent; quiet when all are present.
set -euo pipefail
packages=(libopenblas-dev libpng-dev libjpeg-dev zlib1g-dev libssl-dev pkg-config dataset-fashion-mnist)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if ! command -v swift >/dev/null 2>&1; then
  echo "error: the Swift toolchain (6.x) is not on PATH; install it from swift.org first" >&2
  exit 1
fi
