"""The README's one-machine course, for the tests: a scratch copy of the repository started with
the real `bash scripts/start.sh [--instructor]` (local exchange, trainee workspace, config), a
throwaway HOME and Jupyter dirs, on a free port. Shared by test_start, test_trainee_path and
test_browser.

The copy holds the working tree without its generated folders and uses the repository's .venv
(a symlink) with KEFU_SKIP_SETUP=1, so the test never writes into the checkout and never
reinstalls anything (an install from the copy would point the shared venv's editable toolkit at
a temporary folder).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

from ports import free_port

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
START_S = 240  # upper bound: setup check + releasing every assignment (first start) + server start
# generated or local-only folders of a checkout, never copied into the scratch course
SKIP = {".git", ".venv", "exchange", "workspace", "submitted", "autograded", "feedback", "demo", "exports",
        "reports", "backups", "artifacts", "node_modules", ".ipynb_checkpoints", "__pycache__",
        ".pytest_cache", "kefu_lab.egg-info"}
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def copy_course(dest: Path) -> Path:
    """The working tree (minus generated folders and gradebooks) at ``dest``, with the repo's venv."""

    def ignore(folder, names):
        return {n for n in names if n in SKIP or n.endswith((".db", ".db-journal", ".sqlite3"))}

    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest


def course_env(tmp: Path, **extra) -> dict:
    """A clean environment: no Jupyter/IPython/KEFU settings of the caller, throwaway HOME."""
    drop = ("JUPYTER", "XDG_", "IPYTHON", "KEFU_", "PYTHONSTARTUP")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    home = tmp / "home"
    for d in ("home", "config", "data", "runtime"):
        (tmp / d).mkdir(exist_ok=True)
    env.update(KEFU_SKIP_SETUP="1", HOME=str(home), JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_DATA_DIR=str(tmp / "data"),
               JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), KEFU_PROGRESS=str(tmp / "progress.sqlite3"),
               PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


@contextmanager
def started(tmp: Path, *args: str, course: Path | None = None):
    """`bash scripts/start.sh ARGS` in a scratch course under ``tmp``; yields base, token, course,
    served (the folder JupyterLab serves), log, env and api(path, method, data). Always stopped."""
    course = course or copy_course(tmp / "course")
    port = free_port()
    env = course_env(tmp, KEFU_PORT=str(port))
    log = tmp / f"start{'-'.join(('',) + args)}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(["bash", "scripts/start.sh", *args], cwd=course, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        pattern = re.compile(rf"http://127\.0\.0\.1:{port}/lab[^\s]*\?token=(\w+)")
        deadline = time.monotonic() + START_S
        token = None
        while token is None and time.monotonic() < deadline and proc.poll() is None:
            match = pattern.search(log.read_text(errors="replace"))
            token = match and match.group(1)
            time.sleep(0.5)
        text = log.read_text(errors="replace")
        if not token:
            raise AssertionError(f"start.sh {' '.join(args)} printed no URL with a token "
                                 f"(exit {proc.poll()}):\n{text[-4000:]}")
        served = course / "workspace" if "--instructor" not in args else course
        base = f"http://127.0.0.1:{port}"

        def api(path: str, method: str = "GET", data: dict | None = None):
            body = urllib.parse.urlencode(data).encode() if data is not None else None
            req = urllib.request.Request(base + path, data=body, method=method,
                                         headers={"Authorization": f"token {token}"})
            with NO_PROXY.open(req, timeout=120) as r:
                raw = r.read()
                return r.status, (json.loads(raw) if raw[:1] in (b"{", b"[") else raw.decode(errors="replace"))

        _wait_ready(api, proc, log)
        yield SimpleNamespace(base=base, token=token, course=course, served=served, log=log, env=env, api=api,
                              proc=proc)
    finally:
        stop(proc)


def _wait_ready(api, proc, log) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if api("/api/status")[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise AssertionError(f"JupyterLab did not answer /api/status:\n{log.read_text(errors='replace')[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the server's process group (Jupyter shuts its kernels down), SIGKILL if it hangs."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=20)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def run(cmd: list[str], course: Path, env: dict, timeout: int = 600) -> subprocess.CompletedProcess:
    """An instructor command in the scratch course (the course folder as cwd, the same env)."""
    return subprocess.run(cmd, cwd=course, env=env, capture_output=True, text=True, timeout=timeout)
