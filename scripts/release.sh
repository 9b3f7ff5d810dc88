#!/usr/bin/env bash
# Regenerate release/ from source/ with nbgrader (commit the result; a test checks they match).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
for dir in source/*/; do
  nbgrader generate_assignment "$(basename "$dir")" --force --log-level=WARN
done
