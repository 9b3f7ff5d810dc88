"""The README's first command: `bash scripts/start.sh` sets up and serves the course.

Runs the real script (as whatever user the suite runs as: root in CI) on a free port with a
throwaway HOME and Jupyter dirs, reads the URL and token it prints, and asks the server for the
start notebook. Always stops the server and its process group afterwards.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

from ports import free_port

ROOT = Path(__file__).resolve().parents[1]
START_NOTEBOOK = "course/00_开始.ipynb"
WAIT_S = 120  # upper bound on set-up (already stamped in a test run) plus server start


def test_start_script_serves_the_course(tmp_path):
    port = free_port()
    env = dict(
        os.environ,
        KEFU_PORT=str(port),
        HOME=str(tmp_path),
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        KEFU_PROGRESS=str(tmp_path / "progress.sqlite3"),
    )
    log = tmp_path / "start.log"
    with log.open("wb") as out:
        server = subprocess.Popen(["bash", "scripts/start.sh"], cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url_pattern = re.compile(rf"http://127\.0\.0\.1:{port}/lab[^\s]*\?token=(\w+)")
        deadline = time.monotonic() + WAIT_S
        token = None
        while token is None and time.monotonic() < deadline and server.poll() is None:
            match = url_pattern.search(log.read_text(errors="replace"))
            token = match and match.group(1)
            time.sleep(0.5)
        text = log.read_text(errors="replace")
        assert token, f"start.sh printed no URL with a token (exit {server.poll()}):\n{text[-3000:]}"
        assert f"[start] JupyterLab on http://127.0.0.1:{port}/lab" in text

        path = urllib.parse.quote(START_NOTEBOOK)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/contents/{path}?content=0",
                                         headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            model = json.load(response)
        assert model["type"] == "notebook" and model["path"] == START_NOTEBOOK
    finally:
        _stop(server)


def _stop(server: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(server.pid, sig)
            server.wait(timeout=20)
            return
        except ProcessLookupError:  # already exited (e.g. the script failed)
            return
        except subprocess.TimeoutExpired:
            continue
