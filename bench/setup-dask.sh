#!/usr/bin/env bash
# Installs the Dask side of the benchmark: Debian's python3-distributed (Dask 2022.12)
# for the system interpreter /usr/bin/python3 (not any pyenv python3 on PATH).
# Also python3-psutil (used by Dask itself); numpy is not needed.
# Exit 0 when `import distributed` works with /usr/bin/python3, non-zero otherwise.
set -uo pipefail

PY=/usr/bin/python3

have_dask() {
  "$PY" -c 'import distributed' >/dev/null 2>&1
}

if [ ! -x "$PY" ]; then
  echo "setup-dask: $PY not found; install Debian's python3 first" >&2
  exit 1
fi

if have_dask; then
  echo "setup-dask: distributed $("$PY" -c 'import distributed; print(distributed.__version__)') already installed" >&2
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-dask: apt-get not found; install python3-distributed for $PY by hand" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "setup-dask: must run as root (or with sudo available) to apt-get install" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "setup-dask: apt-get update..." >&2
if ! $SUDO apt-get update -qq >/dev/null; then
  echo "setup-dask: apt-get update failed" >&2
  exit 1
fi
echo "setup-dask: apt-get install python3-distributed python3-psutil..." >&2
if ! $SUDO apt-get install -y -qq --no-install-recommends python3-distributed python3-psutil >/dev/null; then
  echo "setup-dask: apt-get install python3-distributed failed" >&2
  exit 1
fi

if ! have_dask; then
  echo "setup-dask: python3-distributed installed but '$PY -c \"import distributed\"' still fails:" >&2
  "$PY" -c 'import distributed' >&2
  exit 1
fi
echo "setup-dask: distributed $("$PY" -c 'import distributed; print(distributed.__version__)') ready" >&2
exit 0
