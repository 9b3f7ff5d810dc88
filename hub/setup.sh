#!/usr/bin/env bash
# What hub/jupyterhub_config.py needs besides Python packages: configurable-http-proxy (the
# proxy JupyterHub starts), from npm into hub/node_modules, pinned by hub/package-lock.json.
# Idempotent: does nothing when the pinned version is already installed. Needs node and npm
# (Debian: apt-get install nodejs npm).
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null; then
  echo "[hub] npm not found (Debian: apt-get install nodejs npm); the JupyterHub test will be skipped"
  exit 1
fi
if [ ! -x node_modules/.bin/configurable-http-proxy ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[hub] installing configurable-http-proxy into hub/node_modules"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "[hub] configurable-http-proxy $(node_modules/.bin/configurable-http-proxy --version)"
