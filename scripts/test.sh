#!/usr/bin/env bash
# One command for the whole test suite: set up (as scripts/setup.sh), install the system
# packages the browser and database tests need when missing and possible, then run pytest.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -k checks`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/system-deps.sh || echo "[test] system packages could not be installed; tests that need them will say so"
bash hub/setup.sh || echo "[test] configurable-http-proxy not installed; the JupyterHub test will be skipped"
export PATH="$PWD/.venv/bin:$PATH"
exec .venv/bin/python -m pytest "$@"
