"""Untrusted trainee text: the sanitiser's size cap and speed, inert markdown and markers, and (with
a real formgrader in headless Chromium) that no trainee HTML ever runs in the instructor's browser."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from ports import free_port
from test_browser import CHROMIUM, page  # noqa: F401 - the headless Chromium page fixture
from toolkit.grading import markers
from toolkit.grading.html_safety import TEXT_TAGS, clean_markdown
from toolkit.grading.sanitize import MAX_ANSWER_CHARS, answer_as_data, sanitize_notebook

HOSTILE_MARKDOWN = [
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=1</script>",
    '<svg onload="window.__pwned=1"><circle r="9"/></svg>',
    '<a href="javascript:window.__pwned=1">点我</a>',
    "[点我](javascript:window.__pwned=1)",
    "[点我](&#106;avascript:window.__pwned=1)",
    "<javascript:window.__pwned=1>",
    "[点我][r]\n\n[r]: javascript:window.__pwned=1",
    "![](/api/contents/pwned.txt)",
    '<iframe src="/api/contents"></iframe>',
    '<details open ontoggle="window.__pwned=1">x</details>',
    "\\[点我](javascript:window.__pwned=1)",
    '<p style="background:url(/api/contents)">x</p>',
]


def _answer_cell(source: str, cell_type: str = "code", grade: bool = False):
    cell = nbformat.v4.new_code_cell(source) if cell_type == "code" else nbformat.v4.new_markdown_cell(source)
    cell.metadata["nbgrader"] = {"grade_id": "q1-answer", "solution": True, "grade": grade, "locked": False}
    if grade:
        cell.metadata["nbgrader"]["points"] = 5
    return cell


def _elements(html: str) -> list[tuple[str, list]]:
    """Every element a browser parses out of ``html``, with its attributes."""
    from html.parser import HTMLParser

    found = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collect().feed(html)
    return found


def _render(markdown: str) -> str:
    """What nbgrader's formgrade and feedback templates do with a markdown cell."""
    from nbconvert.exporters import HTMLExporter
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    assert HTMLExporter  # the same renderer the exporter's markdown2html filter builds
    return MarkdownWithMath(renderer=IPythonRenderer(escape=False)).render(markdown)


# ----------------------------------------------------------------------------- size and speed


def _as_data(text: str):
    """(source kefu wrote, whether it cut) for an answer cell holding ``text``."""
    cell = _answer_cell(text)
    _, cut = answer_as_data(cell)
    return cell.source, cut


def test_a_ten_megabyte_answer_is_cut_in_linear_time():
    figures = {}
    for size in (1_000_000, 10_000_000):
        text = "您好" * (size // 2)
        start = time.perf_counter()
        source, cut = _as_data(text)
        figures[size] = time.perf_counter() - start
        assert cut and source == f'回答1 = {"您好" * (MAX_ANSWER_CHARS // 2)!r}\n'
    print(f"\n[sanitiser] answer of 1 MB: {figures[1_000_000]:.2f} s, of 10 MB: {figures[10_000_000]:.2f} s (goal <= 1 s)")
    assert figures[10_000_000] < 10  # sanity bound only; the old sanitiser took 22 s for 1 MB
    # Linear, not quadratic: ten times the text, far less than a hundred times the time.
    assert figures[10_000_000] < 40 * max(figures[1_000_000], 0.01)


def test_cut_answers_are_named_in_the_report_and_stay_defined():
    nb = nbformat.v4.new_notebook()
    nb.cells = [_answer_cell("好" * 30_000), _answer_cell("手写" * 20_000, "markdown", grade=True)]
    nb.cells[1].metadata.nbgrader["grade_id"] = "task-answer"
    report = sanitize_notebook(nb)
    assert f"q1-answer: answer cut at {MAX_ANSWER_CHARS} characters" in report
    assert f"task-answer: answer cut at {MAX_ANSWER_CHARS} characters" in report
    assert nb.cells[0].source == f"回答1 = {'好' * MAX_ANSWER_CHARS!r}\n"
    assert len(nb.cells[1].source) == MAX_ANSWER_CHARS
    # An answer of one item per line is cut across its lines; the limit is configurable.
    cell = _answer_cell("一二三\n四五六\n七八九")
    assert answer_as_data(cell, limit=6) == ("一二三\n四五", True)


@pytest.mark.parametrize("text", [
    "x = 1\n" * 200_000,  # many statements: text now, never parsed
    "[" + '"好",' * 200_000 + "]",
    "Dear customer, sorry,\n" * 200_000,  # commas and lines inside a long answer
])
def test_long_answers_of_many_pieces_are_cut_fast_not_voided(text):
    start = time.perf_counter()
    source, cut = _as_data(text)
    assert time.perf_counter() - start < 2
    assert cut and len(eval(source.split("=", 1)[1])) == MAX_ANSWER_CHARS  # noqa: S307 - kefu's literal


def test_an_answer_within_the_limit_is_kept_as_typed():
    text = "您好，请问有什么可以帮您？\n（第二行）"
    assert _as_data(text) == (f"回答1 = {text!r}\n", False)


# ----------------------------------------------------------------------------- markdown


@pytest.mark.parametrize("payload", HOSTILE_MARKDOWN)
def test_hand_graded_markdown_keeps_its_text_and_loses_everything_live(payload):
    html = _render(clean_markdown("我的回答：" + payload))
    assert "我的回答：" in html
    # Nothing a browser would act on: only inert formatting elements, not one attribute.
    tags = _elements(html)
    assert {name for name, _ in tags} <= TEXT_TAGS, html
    assert not any(attrs for _, attrs in tags), html


def test_markdown_cells_the_trainee_added_are_emptied_and_reported():
    nb = nbformat.v4.new_notebook()
    locked = nbformat.v4.new_markdown_cell("## 第1题\n<b>说明</b>")
    locked.metadata["nbgrader"] = {"grade_id": "intro", "locked": True, "solution": False, "grade": False}
    added = nbformat.v4.new_markdown_cell('<img src=x onerror="window.__pwned=1">')
    added["attachments"] = {"x.svg": {"image/svg+xml": "<svg onload='x'/>"}}
    raw = nbformat.v4.new_raw_cell("<script>window.__pwned=1</script>")
    raw.metadata["raw_mimetype"] = "text/html"
    forged = nbformat.v4.new_markdown_cell("<script>1</script>")  # claims to be locked, has no grade_id
    forged.metadata["nbgrader"] = {"locked": True}
    nb.cells = [locked, added, raw, forged]
    report = sanitize_notebook(nb)
    assert locked.source == "## 第1题\n<b>说明</b>"  # instructor cells are OverwriteCells' business
    for cell in (added, raw, forged):
        assert "<" not in cell.source and "评分时已移除" in cell.source
    assert "attachments" not in added
    assert sum(line.startswith("added markdown cell: removed") for line in report) == 2
    assert any(line.startswith("added raw cell: removed `<script>") for line in report)


# ----------------------------------------------------------------------------- markers


@pytest.mark.parametrize("text", ["BEGIN SOLUTION", "### BEGIN HIDDEN TESTS\n回答", "END HIDDEN TESTS", "BEGIN MARK SCHEME"])
def test_markers_in_trainee_cells_are_broken_for_nbgrader_but_read_the_same(text):
    from toolkit.normalize import normalize  # what every checker reads

    nb = nbformat.v4.new_notebook()
    nb.cells = [_answer_cell(text), _answer_cell(text, "markdown", grade=True)]
    nb.cells[1].metadata.nbgrader["grade_id"] = "task-answer"
    sanitize_notebook(nb)
    for cell in nb.cells:
        assert not markers.found(cell.source), cell.source
    value = nb.cells[0].source.split("=", 1)[1].strip()
    assert normalize(eval(value)) == normalize(text)  # noqa: S307 - a literal the test built


# ----------------------------------------------------------------------------- a real course

ASSIGNMENT = "01_listening"


def _js(tag: str) -> str:
    """A payload that marks the page and writes pwned-TAG.txt through the Jupyter contents API
    with the instructor's cookies (as a stored-script attack on formgrader would)."""
    return ("window.__pwned=(window.__pwned||[]).concat('" + tag + "');"
            "try{fetch('/api/contents/pwned-" + tag + ".txt',{method:'PUT',credentials:'include',"
            "headers:{'Content-Type':'application/json','X-XSRFToken':"
            "(document.cookie.match(/_xsrf=([^;]+)/)||[])[1]||''},"
            "body:JSON.stringify({type:'file',format:'text',content:'pwned'})})}catch(e){}")


def hostile_markdown(tag: str) -> str:
    js = _js(tag)
    return (f'<img src=x onerror="{js}">\n\n<script>{js}</script>\n\n<svg onload="{js}"></svg>\n\n'
            f'<details open ontoggle="{js}">x</details>\n\n<iframe src="/api/contents"></iframe>\n\n'
            f"[点我](javascript:{js})\n\n![](/api/contents/pwned-{tag}-img.txt)\n\n"
            f'<a href="javascript:{js}">链接</a>\n\n'
            "我的回答：先倾听，再复述客户的话。BEGIN HIDDEN TESTS\n")


def _with_marker(answer: str) -> str:
    """An answer with "BEGIN SOLUTION" typed into its text (whatever the answer format)."""
    if re.search(r"[\"']([\u4e00-\u9fff])", answer):
        return re.sub(r"([\"'])([\u4e00-\u9fff])", r"\1BEGIN SOLUTION \2", answer, count=1)
    return re.sub(r"([\u4e00-\u9fff])", r"BEGIN SOLUTION \1", answer, count=1)


def make_hostile(path, tag: str) -> None:
    """Turn a submitted notebook into a hostile one: HTML payloads in the hand-graded answer, in an
    added markdown cell and an added raw cell, nbgrader markers typed into two answers."""
    from toolkit.grading import cohort

    nb = nbformat.read(path, as_version=4)
    manual = next(c for c in nb.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution"))
    manual.source = hostile_markdown(tag + "-answer") + "好" * MAX_ANSWER_CHARS  # cut at the limit
    at = nb.cells.index(manual)
    nb.cells.insert(at, nbformat.v4.new_markdown_cell(hostile_markdown(tag + "-added")))
    raw = nbformat.v4.new_raw_cell(f"<script>{_js(tag + '-raw')}</script>")
    raw.metadata["raw_mimetype"] = "text/html"
    nb.cells.insert(at, raw)
    source = nbformat.read(path.parents[3] / "source" / ASSIGNMENT / path.name, as_version=4)
    first = cohort.questions(source)[0].answer_id
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == first)
    answer.source = _with_marker(answer.source)
    nbformat.write(nb, path)


def _env() -> dict:
    """The venv's bin/ on PATH: nbgrader shells out to alembic."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def _kefu(args, cwd):
    return subprocess.run([sys.executable, "-m", "toolkit.cli", *args], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def hostile_course(tmp_path_factory):
    """A graded course: trainee001 honest, trainee002 hostile; trainee003 hostile with an
    autograded notebook as an autograde WITHOUT kefu's sanitiser would leave it (payloads intact),
    to show the pages are safe even then. Feedback is generated for all three."""
    from test_grading import new_course
    from toolkit.grading import cohort

    course = new_course(tmp_path_factory.mktemp("untrusted"))
    cohort.write_cohort(course, ASSIGNMENT, ["perfect", "perfect", "perfect"])
    name = cohort.notebook_name(course, ASSIGNMENT)
    for student in ("trainee002", "trainee003"):
        make_hostile(course / "submitted" / student / ASSIGNMENT / name, student)
    graded = _kefu(["grade", ASSIGNMENT, "--workers", "2", "--quiet"], course)
    assert graded.returncode == 0, graded.stdout[-2000:] + graded.stderr[-2000:]
    legacy = course / "autograded" / "trainee003" / ASSIGNMENT / name
    shutil.copy(course / "submitted" / "trainee003" / ASSIGNMENT / name, legacy)
    feedback = _kefu(["feedback", ASSIGNMENT], course)
    return course, name, graded, feedback


@pytest.mark.slow
def test_trainee_text_with_markers_neither_breaks_grading_nor_feedback(hostile_course):
    course, name, graded, feedback = hostile_course
    assert feedback.returncode == 0, feedback.stdout[-2000:] + feedback.stderr[-2000:]
    assert "Traceback (most recent call last)" not in feedback.stderr
    for student in ("trainee001", "trainee002", "trainee003"):
        page = (course / "feedback" / student / ASSIGNMENT / name.replace(".ipynb", ".html")).read_text(encoding="utf-8")
        assert not markers.found(page)  # hidden tests removed; the trainee's markers broken
        if student != "trainee001":
            assert "我的回答：先倾听，再复述客户的话。BEGIN\u00a0HIDDEN\u00a0TESTS" in page  # text kept
    rows = {line.split()[0]: line for line in graded.stdout.splitlines() if line.startswith("trainee")}
    assert "added markdown cell: removed" in rows["trainee002"] or "added raw cell: removed" in rows["trainee002"]
    autograded = nbformat.read(course / "autograded" / "trainee002" / ASSIGNMENT / name, as_version=4)
    assert not any(markers.found(c.source) for c in autograded.cells if c.metadata.get("nbgrader", {}).get("solution"))
    notes = autograded.metadata.kefu.removed
    assert any(n.startswith("added markdown cell: removed `<img") for n in notes)
    assert any(n.startswith("added raw cell: removed `<script>") for n in notes)
    assert any("HTML in the answer shown as text" in n for n in notes)
    manual = next(c for c in autograded.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution"))
    assert f"{manual.metadata.nbgrader.grade_id}: answer cut at {MAX_ANSWER_CHARS} characters" in notes
    # Plain nbgrader, with the course's configuration, is just as unbothered by the markers.
    plain = subprocess.run(["nbgrader", "generate_feedback", ASSIGNMENT, "--force"], cwd=course, env=_env(),
                           capture_output=True, text=True, timeout=600)
    assert plain.returncode == 0 and "Traceback (most recent call last)" not in plain.stderr, plain.stderr[-2000:]


@pytest.fixture(scope="module")
def formgrader(hostile_course, tmp_path_factory):
    """A real Jupyter server with nbgrader's formgrader extension, in the course folder (as the
    instructor runs it, and as the hub's course service does), on 127.0.0.1 with a throwaway HOME
    and Jupyter dirs. Always shut down afterwards."""
    course = hostile_course[0]
    tmp = tmp_path_factory.mktemp("formgrader")
    dirs = {d: tmp / d for d in ("home", "config", "data", "runtime")}
    for d in dirs.values():
        d.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "XDG_", "IPYTHON", "KEFU_"))}
    env.update(HOME=str(dirs["home"]), JUPYTER_CONFIG_DIR=str(dirs["config"]), JUPYTER_DATA_DIR=str(dirs["data"]),
               JUPYTER_RUNTIME_DIR=str(dirs["runtime"]), PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}")
    port, token = free_port(), secrets.token_hex(16)
    log_path = tmp / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "server", "--no-browser", "--allow-root", "--ip=127.0.0.1",
             f"--port={port}", "--port-retries=0", f"--ServerApp.token={token}", f"--ServerApp.root_dir={course}"],
            cwd=course, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter server exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                request = urllib.request.Request(f"{base}/formgrader/api/assignments",
                                                 headers={"Authorization": f"token {token}"})
                with opener.open(request, timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"formgrader did not answer within 60 s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield SimpleNamespace(base=base, token=token, root=course, log=log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _submission_id(course, student: str) -> str:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "kefu-lab") as gb:
        return gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student).id


def _visit(page, show) -> dict:
    """Run ``show`` (which loads a page) with every request watched; what payloads did there."""
    from urllib.parse import urlparse

    requests = []

    def watch(request):
        requests.append((request.method, urlparse(request.url).path))

    page.on("request", watch)
    try:
        show()
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)  # handlers of images that failed to load fire right after them
    finally:
        page.remove_listener("request", watch)
    found = page.evaluate("""() => ({
        pwned: window.__pwned || [],
        links: [...document.querySelectorAll('a[href]')].map(a => a.href)
                  .filter(h => !/^(https?:|mailto:)/i.test(h)),
        frames: document.querySelectorAll('iframe, embed, object').length,
    })""")
    found["api"] = [(method, path) for method, path in requests if path.startswith("/api/")]
    return found


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed (run scripts/system-deps.sh as root)")
def test_no_trainee_html_runs_in_formgrader_or_feedback(hostile_course, formgrader, page):
    """The instructor opens each hostile submission in formgrader and each feedback page (served
    from the server's own origin with the instructor's cookies); nothing of the trainee's runs."""
    from nbconvert.exporters import HTMLExporter

    course, name, _, _ = hostile_course
    page.goto(f"{formgrader.base}/formgrader?token={formgrader.token}")  # logs in: cookies, _xsrf
    blank = f"{formgrader.base}/formgrader/static/css/formgrade.css"  # the server's origin, no script

    # Control: the same hostile notebook rendered by plain nbconvert on the same origin. Its payloads
    # run and write into the course through the contents API, so the checks below can see an attack.
    raw_html, _ = HTMLExporter().from_filename(str(course / "submitted" / "trainee002" / ASSIGNMENT / name))
    control = _visit(page, lambda: (page.goto(blank), page.set_content(raw_html)))
    assert "trainee002-answer" in control["pwned"] and control["links"], control
    assert ("PUT", "/api/contents/pwned-trainee002-answer.txt") in control["api"], control
    page.wait_for_function("() => true")
    assert (course / "pwned-trainee002-answer.txt").is_file()
    for leftover in course.glob("pwned-*"):
        leftover.unlink()

    for student in ("trainee002", "trainee003"):
        url = f"{formgrader.base}/formgrader/submissions/{_submission_id(course, student)}/"
        seen = _visit(page, lambda: page.goto(url))
        assert page.get_by_text("我的回答：先倾听").count() >= 1, "the hand-graded answer's text is shown"
        assert seen == {"pwned": [], "links": [], "frames": 0, "api": []}, (student, seen)

        feedback = (course / "feedback" / student / ASSIGNMENT / name.replace(".ipynb", ".html")).read_text(encoding="utf-8")
        seen = _visit(page, lambda: (page.goto(blank), page.set_content(feedback)))
        assert page.get_by_text("我的回答：先倾听").count() >= 1
        assert seen == {"pwned": [], "links": [], "frames": 0, "api": []}, (student, seen)
    assert not list(course.glob("pwned-*")), "a payload wrote into the course through the contents API"


@pytest.mark.slow
def test_a_failed_feedback_run_keeps_the_pages_already_written(hostile_course, tmp_path):
    """An instructor cell that would show a solution fails that trainee's feedback: the command says
    so in one line and exits 1, the trainee's earlier page stays, the others are rewritten."""
    course = tmp_path / "course"
    shutil.copytree(hostile_course[0], course)
    name = hostile_course[1]
    page_of = {s: course / "feedback" / s / ASSIGNMENT / name.replace(".ipynb", ".html")
               for s in ("trainee001", "trainee002", "trainee003")}
    before = {s: p.read_bytes() for s, p in page_of.items()}
    for p in page_of.values():
        p.write_bytes(p.read_bytes() + b"<!-- old -->")
    path = course / "autograded" / "trainee003" / ASSIGNMENT / name
    nb = nbformat.read(path, as_version=4)
    intro = next(c for c in nb.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("locked"))
    intro.source += "\n\n### BEGIN SOLUTION\n模型答案\n### END SOLUTION"
    nbformat.write(nb, path)

    result = _kefu(["feedback", ASSIGNMENT], course)
    assert result.returncode == 1 and "Traceback (most recent call last)" not in result.stderr, result.stderr[-2000:]
    message = result.stderr.strip().splitlines()
    assert len(message) == 1 and "failed for trainee003" in message[0] and "earlier feedback is kept" in message[0]
    assert f"{intro.metadata.nbgrader.grade_id}: BEGIN SOLUTION, END SOLUTION" in message[0]
    assert page_of["trainee003"].read_bytes() == before["trainee003"] + b"<!-- old -->"  # untouched
    for student in ("trainee001", "trainee002"):
        assert page_of[student].read_bytes() == before[student]  # regenerated
    assert not list(course.glob(".kefu-feedback-*"))


@pytest.mark.slow
def test_feedback_refuses_a_course_config_that_does_not_check_for_leaks(hostile_course, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(hostile_course[0], course)
    config = course / "nbgrader_config.py"
    config.write_text(config.read_text(encoding="utf-8").replace("\nconfigure(c)", "\n"), encoding="utf-8")
    page = next((course / "feedback" / "trainee002").rglob("*.html"))
    kept = page.read_bytes()
    result = _kefu(["feedback", ASSIGNMENT], course)
    assert result.returncode == 1 and "must call toolkit.grading.nbgrader_hooks.configure(c)" in result.stderr
    assert page.read_bytes() == kept


def test_the_answer_limit_is_nbgrader_configuration():
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    from toolkit.grading.nbgrader_hooks import StripTraineeCode

    course = PyFileConfigLoader("nbgrader_config.py", path=str(Path(__file__).resolve().parents[1])).load_config()
    assert StripTraineeCode(config=course).max_answer_chars == MAX_ANSWER_CHARS
    config = Config()
    config.StripTraineeCode.max_answer_chars = 4
    nb = nbformat.v4.new_notebook()
    nb.cells = [_answer_cell("您好，请问")]
    StripTraineeCode(config=config).preprocess(nb, {})
    assert nb.cells[0].source == "回答1 = '您好，请'\n"
    assert nb.metadata["kefu"]["removed"] == ["q1-answer: answer cut at 4 characters"]
