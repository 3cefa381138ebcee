#!/usr/bin/env bash
# Installs the Debian packages the project needs, when missing. Idempotent; quiet when all are present.
# --with-browser also installs chromium, which the tests use to render the HTML report; when it
# cannot be installed the script says so loudly and carries on (the rendering test then skips).
# --with-mpi also installs Open MPI's mpirun and libmpi.so.40 (openmpi-bin): `mpirun -np N abl run`
# and its tests need them; `abl` loads the library only when mpirun or srun starts it, and needs no
# MPI header to build (so not libopenmpi-dev; docs/SCALING.md).
set -euo pipefail
packages=(libopenblas-dev libpng-dev libjpeg-dev zlib1g-dev libssl-dev pkg-config dataset-fashion-mnist)
optional=()
for arg in "$@"; do
  case "$arg" in
    --with-browser) optional+=(chromium) ;;
    --with-mpi) packages+=(openmpi-bin) ;;
    *) echo "usage: $0 [--with-browser] [--with-mpi]" >&2; exit 2 ;;
  esac
done

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
updated=false
missing_of() {
  local out=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || out+=("$p")
  done
  echo "${out[@]:-}"
}
install() {
  echo "installing: $*" >&2
  if [ "$updated" = false ]; then $SUDO apt-get update -q; updated=true; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "$@"
}

read -r -a missing <<< "$(missing_of "${packages[@]}")"
[ ${#missing[@]} -eq 0 ] || install "${missing[@]}"

if [ ${#optional[@]} -gt 0 ]; then
  read -r -a missing <<< "$(missing_of "${optional[@]}")"
  if [ ${#missing[@]} -gt 0 ] && ! install "${missing[@]}"; then
    echo "################################################################################" >&2
    echo "WARNING: could not install ${missing[*]}: the HTML report's browser test will SKIP." >&2
    echo "################################################################################" >&2
  fi
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "error: the Swift toolchain (6.x) is not on PATH; install it from swift.org first" >&2
  exit 1
fi
