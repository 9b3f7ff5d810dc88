"""An answer typed in real JupyterLab (headless Chromium): Chinese quotes and punctuation, no
Python, recorded by the kernel from the cell metadata JupyterLab sends with the execute_request.

Needs /usr/bin/chromium (scripts/system-deps.sh); skipped with a reason when it is missing.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from ports import free_port

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ASSIGNMENT = "02_questions"
TIMEOUT_MS = 60_000

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed (scripts/system-deps.sh)")


@pytest.fixture
def lab(tmp_path):
    """JupyterLab on 127.0.0.1 serving a copy of one released assignment, throwaway Jupyter dirs."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", root)
    dirs = {name: tmp_path / name for name in ("home", "config", "data", "runtime")}
    for d in dirs.values():
        d.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "NBGRADER", "IPYTHON"))}
    env.update(HOME=str(dirs["home"]), JUPYTER_CONFIG_DIR=str(dirs["config"]), JUPYTER_DATA_DIR=str(dirs["data"]),
               JUPYTER_RUNTIME_DIR=str(dirs["runtime"]), PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}")
    port, token = free_port(), secrets.token_hex(16)
    log = (tmp_path / "jupyter.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
                             f"--port={port}", "--port-retries=0", f"--ServerApp.token={token}",
                             f"--ServerApp.root_dir={root}"], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        deadline = time.monotonic() + 45
        while True:
            try:
                opener.open(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "jupyter.log").read_text()[-3000:]
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/lab/tree/{ASSIGNMENT}.ipynb?token={token}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        log.close()


def test_an_answer_typed_in_jupyterlab_is_recorded_as_text(lab, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.goto(lab)
            cells = page.locator(".jp-Notebook .jp-Cell")
            expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_be_attached(timeout=TIMEOUT_MS)

            def run(index: int, text: str | None = None, wait_for: str = "") -> str:
                """Run cell ``index`` as a trainee does: type into it if it is the answer cell (the
                only code input shown), else Shift+Enter from the cell above (checks are collapsed)."""
                cell = cells.nth(index)
                if text is not None:
                    cell.locator(".jp-InputArea-editor").click()
                    page.keyboard.insert_text(text)  # as an input method commits it
                else:
                    assert cell.locator(".jp-InputPlaceholder").count() == 1  # collapsed: not the trainee's to edit
                    expect(cell).to_have_class(re.compile(r"\bjp-mod-active\b"), timeout=TIMEOUT_MS)
                page.keyboard.press("Shift+Enter")
                run.count += 1
                if text is not None:  # a collapsed input has no prompt on screen; what it runs shows later
                    expect(cell.locator(".jp-InputPrompt")).to_have_text(f"[{run.count}]:", timeout=TIMEOUT_MS)
                expect(cells.nth(index + 1)).to_have_class(re.compile(r"\bjp-mod-active\b"), timeout=TIMEOUT_MS)
                expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_be_attached(timeout=TIMEOUT_MS)
                if wait_for:
                    expect(cell.locator(".jp-OutputArea")).to_contain_text(wait_for, timeout=TIMEOUT_MS)
                return cell.locator(".jp-OutputArea").inner_text()

            run.count = 0
            expect(page.locator(".jp-StatusBar-TextItem", has_text="Idle").first).to_be_visible(timeout=TIMEOUT_MS)
            # Cells of the released 02: intro, setup text, setup, q1 text, q1 answer, q1 test.
            cells.nth(0).click()  # select the first cell, then go down with Shift+Enter
            page.keyboard.press("Shift+Enter")
            page.keyboard.press("Shift+Enter")
            assert run(2) == ""  # the setup cell shows nothing (q1's check below needs it to have run)
            page.keyboard.press("Shift+Enter")  # past q1's text
            recorded = run(4, "“您能详细说说断网时的情况吗？”", wait_for="已记下第 1 题的答案")
            assert "SyntaxError" not in recorded and "Traceback" not in recorded
            check = run(5, wait_for="是一个问句")
            assert "✔ 是一个问句" in check and "Error" not in check
            page.screenshot(path=str(tmp_path / "answer.png"))
        finally:
            browser.close()
