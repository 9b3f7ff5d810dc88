#!/usr/bin/env bash
# Create ./.venv and install kefu-lab with its test extras. Idempotent: re-running only
# reinstalls when pyproject.toml changed. Needs only python3 (3.11) with venv and pip.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
stamp=.venv/.kefu-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[setup] installing kefu-lab and dependencies (first time: ~2-3 min)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[test]"
  echo "$want" > "$stamp"
fi
# Jupyter's own trust/config lives inside the repo-local venv, not in $HOME.
.venv/bin/python -m toolkit.cli check-data
