#!/usr/bin/env bash
# One command for trainees and instructors: set everything up, then start JupyterLab on the
# course. Prints the URL (with token) so it also works on a headless machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
PORT=${KEFU_PORT:-8888}
EXTRA=()
# Containers and fresh cloud machines often log in as root; Jupyter refuses root unless told.
if [ "$(id -u)" = 0 ]; then EXTRA+=(--allow-root); fi
echo "[start] JupyterLab on http://127.0.0.1:$PORT/lab (open the URL with the token printed below)"
exec .venv/bin/jupyter lab --no-browser --ip="${KEFU_IP:-127.0.0.1}" --port="$PORT" \
  --ServerApp.root_dir="$PWD" --LabApp.default_url="/lab/tree/course/00_开始.ipynb" "${EXTRA[@]}"
