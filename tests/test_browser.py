"""Real-browser test: the drills work in JupyterLab 4, not only in a kernel.

JupyterLab is served on 127.0.0.1 from a temporary copy of course/ (with a throwaway HOME,
Jupyter config/data/runtime dirs and KEFU_PROGRESS, so nothing leaks into the repo or the
user's profile), opened in Debian's headless Chromium driven by Playwright, and one module
notebook is run with Run > Run All Cells. The test then answers a drill in the page, clicks its
check button and waits for the rendered feedback, which proves the ipywidgets front-end
extension is loaded and talking to the kernel. A screenshot goes to tests/artifacts/drill.png
(copy it to docs/screenshots/drill.png to refresh the one the README shows).

Needs /usr/bin/chromium and fonts-noto-cjk (scripts/system-deps.sh installs both); skipped
with a reason when Chromium is missing. No `playwright install`: the browser is Debian's.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
import warnings
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

import pytest
from ports import free_port

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
NOTEBOOK = "02_开放式与封闭式提问.ipynb"
SCREENSHOT = ROOT / "tests" / "artifacts" / "drill.png"
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_S = 45  # waits are upper bounds on conditions, never sleeps
UI_TIMEOUT_MS = 45_000

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} not installed (run scripts/system-deps.sh as root: apt-get install chromium fonts-noto-cjk)",
)


def _write_lab_settings(config_dir: Path) -> None:
    """User settings for the throwaway profile: no news pop-up, no update check."""
    settings = config_dir / "lab" / "user-settings" / "@jupyterlab"
    notification = settings / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on 127.0.0.1 serving a temp copy of course/, with a throwaway HOME and Jupyter
    dirs and its own KEFU_PROGRESS store. Always shut down (with its kernels) afterwards."""
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "course"
    shutil.copytree(ROOT / "course", root)  # the lab autosaves run notebooks: never the repo's
    home, config, data, runtime = (tmp / d for d in ("home", "config", "data", "runtime"))
    for d in (home, config, data, runtime):
        d.mkdir()
    _write_lab_settings(config)

    venv_bin = str(Path(sys.executable).parent)  # the kernelspec runs plain `python`
    drop = ("JUPYTER", "XDG_", "IPYTHON", "KEFU_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_DATA_DIR=str(data),
        JUPYTER_RUNTIME_DIR=str(runtime),
        KEFU_PROGRESS=str(tmp / "progress.sqlite3"),
        PATH=venv_bin + os.pathsep + env.get("PATH", ""),
        PYTHONUNBUFFERED="1",
    )
    port, token = free_port(), secrets.token_hex(16)
    log_path = tmp / "jupyter.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
            "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
            f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so teardown can also reach the kernel
    )
    base = f"http://127.0.0.1:{port}"
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                req = urllib.request.Request(f"{base}/api/status", headers={"Authorization": f"token {token}"})
                with no_proxy.open(req, timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not answer /api/status within {SERVER_START_S}s:\n"
                            f"{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield SimpleNamespace(base=base, token=token, root=root, tmp=tmp, log=log_path,
                              progress=tmp / "progress.sqlite3")
    finally:
        proc.terminate()  # jupyter shuts its kernels down on SIGTERM
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture
def page(tmp_path):
    from playwright.sync_api import sync_playwright

    home = tmp_path / "chromium-home"  # Chromium's dconf/cache files stay out of the real HOME
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"))
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh --user-data-dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            env=env,
            viewport={"width": 1280, "height": 1400},
            locale="zh-CN",
        )
        try:
            context.set_default_timeout(UI_TIMEOUT_MS)
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def _has_cjk_font() -> bool:
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(out.stdout.strip())


def _ui() -> dict:
    return tomllib.loads((ROOT / "toolkit" / "widgets" / "ui.toml").read_text(encoding="utf-8"))


def _question_labels() -> dict[str, str]:
    """Question text -> "open"/"closed", from the knowledge base the drill deals from."""
    raw = (ROOT / "toolkit" / "data" / "questions.toml").read_text(encoding="utf-8")
    questions = tomllib.loads(raw)["question"]
    labels = {q["text"]: q["type"] for q in questions}
    assert len(labels) == len(questions), "questions.toml has duplicate texts; the test cannot tell the answer"
    return labels


def test_drill_feedback_renders_in_jupyterlab(lab, page):
    assert (lab.root / NOTEBOOK).exists(), f"course/{NOTEBOOK} is missing"
    if not _has_cjk_font():
        warnings.warn("no CJK font (apt-get install fonts-noto-cjk): the screenshot will show boxes", stacklevel=1)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        _run_notebook_and_answer_drill(lab, page, errors)
    except BaseException:
        shot = lab.tmp / "failure.png"
        try:
            page.screenshot(path=str(shot))
        except Exception as exc:  # noqa: BLE001 - keep the original failure
            shot = f"(no screenshot: {exc})"
        print(f"\n[test_browser] page at failure: {shot}\n[test_browser] server log: {lab.log}\n"
              + lab.log.read_text(errors="replace")[-2000:])
        raise


def _run_notebook_and_answer_drill(lab, page, errors: list[str]) -> None:
    ui, labels = _ui(), _question_labels()
    bucket_name = ui["question_types"]  # {"open": "开放式问题", "closed": "封闭式问题"}

    page.goto(f"{lab.base}/lab/tree/{urllib.parse.quote(NOTEBOOK)}?token={lab.token}")
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    panel.locator(".jp-Notebook .jp-Cell").first.wait_for()
    # Kernel connected and idle before running anything: the status bar's kernel item. (The
    # toolbar's execution indicator says "idle" before any kernel is attached: not a signal.)
    idle = re.compile(r"\|\s*Idle\s*$")
    page.locator("#jp-main-statusbar .jp-StatusBar-TextItem", has_text=idle).wait_for()

    # Run > Run All Cells, through the menu bar as a trainee would.
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^\s*Run\s*$")).click()
    page.locator(".lm-Menu-item:visible .lm-Menu-itemLabel", has_text=re.compile(r"^\s*Run All Cells\s*$")).click()

    # The open/closed sort drill as a real widget view (not "Loading widget..." or the
    # plain-text repr of a VBox): its title, a dropdown per question, the 检查 button.
    title = ui["sort"]["title_questions"]
    drill = panel.locator(".widget-vbox:has(> .widget-html h3)", has_text=title).first
    drill.wait_for()
    rows = drill.locator(".widget-vbox:has(> .widget-dropdown)")
    rows.first.locator("select").wait_for()
    n = rows.count()
    assert n >= 2, f"expected several questions in the sort drill, found {n}"

    # Answer every question right except the first one, then press 检查.
    expected = []
    for i in range(n):
        row = rows.nth(i)
        text = re.sub(r"^\s*\d+\.\s*", "", row.locator(".widget-html").first.inner_text()).strip()
        assert text in labels, f"question {text!r} is not in toolkit/data/questions.toml"
        right = labels[text]
        pick = right if i else ("closed" if right == "open" else "open")
        row.locator("select").select_option(label=bucket_name[pick])
        expected.append((row, pick == right, bucket_name[pick], bucket_name[right]))
    drill.locator(".widget-button", has_text=ui["text"]["check"]).first.click()

    # The kernel graded the answers and the front end rendered its feedback.
    drill.get_by_text(ui["text"]["round_score"].format(n=n, right=n - 1)).wait_for()
    for row, correct, chosen, right in expected:
        result = row.locator(".widget-html").last.inner_text()
        if correct:  # ✔ and the Chinese reason
            assert result.startswith("✔") and re.search(r"[\u4e00-\u9fff]{4}", result), result
        else:  # ✘, what was chosen and what is right, then the reason
            told = ui["sort"]["your_answer"].format(chosen=chosen, right=right)
            assert result.startswith("✘") and told in result, result
        assert row.locator("select").is_disabled()
    assert page.get_by_text("Error displaying widget").count() == 0
    assert not errors, f"JavaScript errors in the page: {errors}"

    # The answers went to this test's KEFU_PROGRESS store (not the user's home).
    with closing(sqlite3.connect(lab.progress)) as db:
        query = "SELECT COUNT(*), SUM(correct) FROM attempts WHERE module = 'questions'"
        stored = db.execute(query).fetchone()
    assert stored == (n, n - 1)

    # Screenshot: the drill's cell at the top of the notebook view, with its feedback.
    drill.evaluate("el => el.closest('.jp-CodeCell').scrollIntoView({block: 'start'})")
    page.wait_for_function("() => document.fonts.status === 'loaded'")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
