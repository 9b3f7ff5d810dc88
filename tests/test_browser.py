"""Real-browser test: a trainee's whole path in JupyterLab 4, in Debian's headless Chromium.

`bash scripts/start.sh` (the trainee start) serves a scratch copy of the repository
(tests/local_course.py: throwaway HOME, Jupyter dirs and KEFU_PROGRESS, nothing written into the
checkout). Playwright then opens a module, runs a cell out of order (a Chinese message, no
traceback), runs the module from the Chinese 运行 menu, answers a drill and waits for the kernel's
feedback (so the ipywidgets front end is loaded and talking to the kernel), fetches the
assignment from Nbgrader > Assignment List, opens it from the module's 去做作业 link, types every
answer, runs it with 自检(), saves and submits it through the Assignment List; the instructor's
`nbgrader collect` + `kefu grade` must then give it full autograded marks. Along the way it
asserts that no code input, no English JupyterLab menu label and no traceback is visible.
Screenshots go to a temporary folder (printed), or to $KEFU_SCREENSHOT_DIR: run with
KEFU_SCREENSHOT_DIR=docs/screenshots to refresh the ones the README shows.

The `lab` fixture (plain JupyterLab on a copy of course/) stays for other browser tests.

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



# ----------------------------------------------------------------------------- the trainee path
#
# `bash scripts/start.sh` (trainee start) in a scratch course (tests/local_course.py), then in
# Chromium, as a trainee: open a module, run a cell out of order (a Chinese message), run the
# module, answer a drill, fetch the assignment from Nbgrader > Assignment List, open it from the
# module's 去做作业 link, answer every question in plain words (the answers the source notebook
# holds, typed into the answer cells), run it with 自检(), save, submit through the Assignment
# List; then the instructor collects and grades it with `nbgrader collect` + `kefu grade`.
# Screenshots go to a temporary folder, or to $KEFU_SCREENSHOT_DIR (docs/screenshots/ for the
# README: module.png, drill.png, answered.png, submit.png).

ASSIGNMENT = "02_questions"
CJK = re.compile(r"[\u4e00-\u9fff]")
# nbgrader's own menu and panel are not translatable (its lab extension has no translation domain)
UNTRANSLATED_MENUS = {"Nbgrader"}


@pytest.fixture(scope="module")
def trainee_lab(tmp_path_factory):
    from local_course import started

    tmp = tmp_path_factory.mktemp("trainee")
    with started(tmp) as lab:
        shots = Path(os.environ.get("KEFU_SCREENSHOT_DIR") or tmp / "screenshots")
        shots.mkdir(parents=True, exist_ok=True)
        lab.shots = shots
        lab.tmp = tmp
        yield lab


def _visible_panel(page):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")


def _wait_idle(page) -> None:
    """The status bar's kernel item says idle (空闲) once the kernel is connected and not busy."""
    page.locator("#jp-main-statusbar .jp-StatusBar-TextItem", has_text=re.compile(r"\|\s*空闲\s*$")).wait_for()


def _menu(page, top: str, item: str) -> None:
    page.locator(".lm-MenuBar-item", has_text=re.compile(rf"^\s*{re.escape(top)}\s*$")).click()
    page.locator(".lm-Menu-item:visible .lm-Menu-itemLabel", has_text=re.compile(rf"^\s*{re.escape(item)}")).first.click()


def _no_traceback(page) -> None:
    text = page.locator("#main").inner_text()
    for word in ("Traceback", "NameError", "SyntaxError", "Error displaying widget"):
        assert word not in text, f"{word!r} visible in the page"


def _shot(lab, page, name: str) -> None:
    page.wait_for_function("() => document.fonts.status === 'loaded'")
    page.screenshot(path=str(lab.shots / name))


def test_trainee_path_in_the_browser(trainee_lab, page):
    if not _has_cjk_font():
        warnings.warn("no CJK font (apt-get install fonts-noto-cjk): the screenshots will show boxes", stacklevel=1)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        _walk(trainee_lab, page, errors)
    except BaseException:
        try:
            page.screenshot(path=str(trainee_lab.shots / "failure.png"))
        except Exception:  # noqa: BLE001 - keep the original failure
            pass
        print(f"\n[test_browser] screenshots: {trainee_lab.shots}\n[test_browser] server log: {trainee_lab.log}\n"
              + trainee_lab.log.read_text(errors="replace")[-3000:])
        raise
    print(f"\n[test_browser] screenshots in {trainee_lab.shots}")


def _walk(lab, page, errors: list[str]) -> None:
    from toolkit.trainee_errors import message_for

    # -- 1. open a module: Chinese menus, no code inputs, no news pop-up
    page.goto(f"{lab.base}/lab/tree/course/{urllib.parse.quote(NOTEBOOK)}?reset&token={lab.token}")
    panel = _visible_panel(page)
    panel.locator(".jp-Notebook .jp-Cell").first.wait_for()
    _wait_idle(page)
    menus = [m.strip() for m in page.locator(".lm-MenuBar-item").all_inner_texts()]
    assert len(menus) >= 6 and "运行" in menus and "内核" in menus, menus
    english = [m for m in menus if not CJK.search(m) and m not in UNTRANSLATED_MENUS]
    assert not english, f"English menu labels: {english}"
    code_cells = panel.locator(".jp-CodeCell")
    assert code_cells.count() >= 2
    assert panel.locator(".jp-CodeCell .jp-InputArea-editor:visible").count() == 0  # no code input shown
    assert panel.locator(".jp-CodeCell .jp-InputPlaceholder").count() == code_cells.count()
    assert page.locator(".jp-toast-container, .Toastify__toast").filter(has_text="news").count() == 0

    # -- 2. a cell run out of order: a short Chinese message, no traceback
    index = _cell_index(ROOT / "course" / NOTEBOOK, "# 练习 2")
    assert _cell_type(ROOT / "course" / NOTEBOOK, index - 1) == "markdown"
    # as a trainee goes down the page: click the text above, Shift+Enter twice (a collapsed input
    # is never clicked: that would show its code)
    panel.locator(f".jp-Cell[data-windowed-list-index='{index - 1}'] .jp-MarkdownOutput").click()
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("Shift+Enter")
    stderr = panel.locator(f".jp-Cell[data-windowed-list-index='{index}'] "
                           ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    stderr.wait_for()
    assert stderr.inner_text().strip() == message_for(NameError)
    _no_traceback(page)

    # -- 3. run the module from the Chinese menu; answer a drill (one wrong on purpose)
    _menu(page, "运行", "运行所有单元格")
    ui, labels = _ui(), _question_labels()
    bucket_name = ui["question_types"]
    title = ui["sort"]["title_questions"]
    drill = panel.locator(".widget-vbox:has(> .widget-html h3)", has_text=title).first
    drill.wait_for()
    _wait_idle(page)
    assert stderr.count() == 0  # the out-of-order message is gone once the cells ran in order
    panel.locator(".jp-Cell").first.evaluate("el => el.scrollIntoView({block: 'start'})")
    _shot(lab, page, "module.png")
    rows = drill.locator(".widget-vbox:has(> .widget-dropdown)")
    rows.first.locator("select").wait_for()
    n = rows.count()
    assert n >= 2, f"expected several questions in the sort drill, found {n}"
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
    drill.get_by_text(ui["text"]["round_score"].format(n=n, right=n - 1)).wait_for()
    for row, correct, chosen, right in expected:
        result = row.locator(".widget-html").last.inner_text()
        if correct:
            assert result.startswith("✔") and re.search(r"[\u4e00-\u9fff]{4}", result), result
        else:
            told = ui["sort"]["your_answer"].format(chosen=chosen, right=right)
            assert result.startswith("✘") and told in result, result
    with closing(sqlite3.connect(lab.env["KEFU_PROGRESS"])) as db:
        stored = db.execute("SELECT COUNT(*), SUM(correct) FROM attempts WHERE module = 'questions'").fetchone()
    assert stored == (n, n - 1)
    drill.evaluate("el => el.closest('.jp-CodeCell').scrollIntoView({block: 'start'})")
    _shot(lab, page, "drill.png")
    _no_traceback(page)

    # -- 4. fetch the assignment: Nbgrader > Assignment List (nbgrader's own panel)
    _menu(page, "Nbgrader", "Assignment List")
    released = page.locator("#released_assignments_list .list_item", has_text=ASSIGNMENT)
    released.locator("button", has_text="Fetch").click()
    fetched_row = page.locator("#fetched_assignments_list .list_item", has_text=ASSIGNMENT).first
    fetched_row.wait_for()
    fetched = lab.served / "kefu-lab" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert fetched.is_file()

    # -- 5. open it from the module's 去做作业 link, answer every question, run it, 自检()
    page.locator(".lm-TabBar-tab", has_text=NOTEBOOK.removesuffix(".ipynb")[:6]).first.click()
    link = _visible_panel(page).locator("a", has_text="去做作业").first
    link.scroll_into_view_if_needed()
    link.click()
    assignment = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)", has=page.locator(".jp-Cell"))
    page.locator(".lm-TabBar-tab.lm-mod-current", has_text=ASSIGNMENT).wait_for()
    assignment.locator(".jp-Cell").first.wait_for()
    _wait_idle(page)
    answers = _answers_by_cell(fetched)
    assert answers, "no answer cells found in the fetched assignment"
    assert any(re.search(r"[\u4e00-\u9fff].*[？，。！]", t) for t in answers.values())  # Chinese, full-width marks
    for index, text in answers.items():
        cell = assignment.locator(f".jp-Cell[data-windowed-list-index='{index}']")
        cell.scroll_into_view_if_needed()
        editor = cell.locator(".cm-content")
        editor.click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(text)
        page.keyboard.press("Escape")
    # the trainee sees the answer cells' input only: checks, set-up and self-check are collapsed
    code = assignment.locator(".jp-CodeCell")
    shown = {int(code.nth(i).get_attribute("data-windowed-list-index")) for i in range(code.count())
             if code.nth(i).locator(".jp-InputArea-editor").first.is_visible()}
    assert shown and shown <= set(answers), (sorted(shown), sorted(answers))
    assert assignment.locator(".jp-CodeCell .jp-InputPlaceholder").count() >= 1
    for index, text in answers.items():  # what the trainee typed is in the cells
        got = assignment.locator(f".jp-Cell[data-windowed-list-index='{index}'] .cm-content").inner_text()
        assert got.strip() == text.strip(), (index, got, text)
    _menu(page, "运行", "运行所有单元格")
    selfcheck = assignment.locator(".jp-CodeCell").last
    selfcheck.locator(".jp-OutputArea-output").first.wait_for()
    _wait_idle(page)
    report = selfcheck.locator(".jp-OutputArea").inner_text()
    assert CJK.search(report), report
    assert assignment.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    _no_traceback(page)
    selfcheck.scroll_into_view_if_needed()
    _shot(lab, page, "answered.png")
    page.keyboard.press("Control+s")
    page.locator(".lm-TabBar-tab.lm-mod-current.jp-mod-dirty").wait_for(state="detached")

    # -- 6. submit through the Assignment List
    _menu(page, "Nbgrader", "Assignment List")
    page.locator("#fetched_assignments_list .list_item", has_text=ASSIGNMENT).locator("button", has_text="Submit").click()
    page.locator("#submitted_assignments_list .list_item", has_text=ASSIGNMENT).first.wait_for()
    _shot(lab, page, "submit.png")
    assert not errors, f"JavaScript errors in the page: {errors}"

    # -- 7. the instructor on the same machine collects and grades the submission
    _instructor_grades(lab)


def _cell_index(notebook: Path, first_line: str) -> int:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return next(i for i, c in enumerate(cells) if "".join(c["source"]).startswith(first_line))


def _cell_type(notebook: Path, index: int) -> str:
    return json.loads(notebook.read_text(encoding="utf-8"))["cells"][index]["cell_type"]


def _answers_by_cell(notebook: Path) -> dict[int, str]:
    """Cell index -> what the trainee types: the source notebook's model answer of each answer cell."""
    import nbformat
    from toolkit.grading.cohort import model_answers

    model = model_answers(nbformat.read(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4))
    nb = nbformat.read(notebook, as_version=4)
    out = {}
    for i, cell in enumerate(nb.cells):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in model:
            out[i] = model[grade_id]
    return out


def _instructor_grades(lab) -> None:
    import getpass

    from local_course import run
    from nbgrader.api import Gradebook

    bin_dir = Path(sys.executable).parent
    collected = run([str(bin_dir / "nbgrader"), "collect", ASSIGNMENT], lab.course, lab.env)
    assert collected.returncode == 0, collected.stdout + collected.stderr
    graded = run([str(bin_dir / "kefu"), "grade", ASSIGNMENT, "--workers", "1"], lab.course, lab.env)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    student = getpass.getuser()
    with Gradebook(f"sqlite:///{lab.course / 'gradebook.db'}", "kefu-lab") as gb:
        sub = gb.find_submission(ASSIGNMENT, student)
        score, max_score = sub.code_score, sub.max_code_score
    assert max_score > 0 and score == max_score, (score, max_score, graded.stdout)
