#!/usr/bin/env bash
# Debian packages some tests need (headless Chromium for the browser test, PostgreSQL for the
# gradebook test, Node.js for JupyterHub's configurable-http-proxy, espeak-ng and sox for the
# voice drill's tests: Mandarin speech synthesised and measured). Installs only what is missing, and only when running as root with apt.
set -euo pipefail
need=()
# tests/test_browser.py drives Debian's /usr/bin/chromium; CJK fonts so its screenshot shows Chinese.
[ -x /usr/bin/chromium ] || need+=(chromium)
{ command -v fc-list >/dev/null && [ -n "$(fc-list :lang=zh family)" ]; } || need+=(fonts-noto-cjk)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v npm >/dev/null || need+=(nodejs npm)
# tests/test_voice.py and tests/test_voice_browser.py: real Mandarin audio (decoding itself is PyAV's).
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "[system-deps] missing ${need[*]} (need root and apt-get to install)"; exit 1
fi
echo "[system-deps] installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
