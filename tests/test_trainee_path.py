"""What a trainee gets, short of a browser (tests/test_browser.py walks it in Chromium):

- every course notebook opens with its code inputs hidden, and every character of its text has a
  glyph in the installed fonts (no missing-glyph boxes such as the old 👉);
- in a trainee's kernel (PYTHONSTARTUP from scripts/start.sh) a cell run out of order or any error
  gives a short Chinese message and no traceback, while the output is still an error (Run All
  stops, nbval fails), and an instructor's kernel still shows the real traceback;
- on one machine, after `bash scripts/start.sh` alone, the Assignment List (nbgrader's own server
  extension) lists, fetches and submits an assignment through the course's local exchange, and the
  instructor's `nbgrader collect` + `kefu grade` grade that submission.
"""

from __future__ import annotations

import getpass
import json
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
COURSE = sorted((ROOT / "course").glob("*.ipynb"))
# what a trainee opens (release/) and what it is generated from (source/)
ASSIGNMENTS = sorted((ROOT / "release").glob("*/*.ipynb")) + sorted((ROOT / "source").glob("*/*.ipynb"))
STARTUP = ROOT / "hub" / "jupyter" / "trainee" / "kernel_startup.py"
sys.path.insert(0, str(ROOT / "scripts"))


def _cells(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def test_course_notebooks_hide_every_code_input():
    assert len(COURSE) >= 13
    for path in COURSE:
        code = [c for c in _cells(path) if c["cell_type"] == "code"]
        assert code, f"{path.name} has no code cell"
        shown = [c.get("id") for c in code if not c.get("metadata", {}).get("jupyter", {}).get("source_hidden")]
        assert not shown, f"{path.name}: code inputs visible in cells {shown} (run python scripts/hide_code.py)"


def _is_answer(cell) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def test_assignments_show_only_the_answer_cells_input():
    """In an assignment the trainee sees the questions and the cells they write in; the checks,
    the setup and the self-check are collapsed (nbgrader keeps the metadata into release/)."""
    assert len(ASSIGNMENTS) >= 2 * 12
    for path in ASSIGNMENTS:
        cells = _cells(path)
        answers = [c for c in cells if _is_answer(c)]
        assert answers, f"{path}: no answer cell"
        assert not any(c.get("metadata", {}).get("jupyter", {}).get("source_hidden") for c in answers), path
        shown = [c["metadata"].get("nbgrader", {}).get("grade_id") for c in cells
                 if c["cell_type"] == "code" and not _is_answer(c)
                 and not c.get("metadata", {}).get("jupyter", {}).get("source_hidden")]
        assert not shown, f"{path}: code inputs visible in cells {shown} (run python scripts/hide_code.py)"


def test_collapsed_inputs_show_a_chinese_caption_not_code():
    """A hidden input still shows its first line on the collapsed bar: a Chinese caption, no code."""
    for path in COURSE + ASSIGNMENTS:
        for cell in _cells(path):
            if cell["cell_type"] == "code" and not _is_answer(cell):
                first = "".join(cell["source"]).split("\n", 1)[0]
                assert first.startswith("# ") and re.search(r"[\u4e00-\u9fff]", first), (path.name, first)
                assert not re.search(r"\w+_\w+|\w+\(|\bimport\b|=", first), (path.name, first)


def test_hide_code_script_hides_and_changes_nothing_twice(tmp_path):
    import hide_code

    nb = tmp_path / "n.ipynb"
    shutil.copy(COURSE[1], nb)
    raw = json.loads(nb.read_text(encoding="utf-8"))
    for cell in raw["cells"]:
        cell["metadata"] = {}
    nb.write_text(json.dumps(raw, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert hide_code.hide(nb) is True
    assert all(c["metadata"]["jupyter"]["source_hidden"] for c in _cells(nb) if c["cell_type"] == "code")
    assert hide_code.hide(nb) is False  # idempotent
    for path in COURSE:  # the committed notebooks are already in the script's form
        before = path.read_bytes()
        copy = tmp_path / path.name
        copy.write_bytes(before)
        assert hide_code.hide(copy) is False, f"{path.name} is not as scripts/hide_code.py writes it"
    for path in sorted((ROOT / "source").glob("*/*.ipynb")):
        copy = tmp_path / path.name
        copy.write_bytes(path.read_bytes())
        assert hide_code.hide(copy, keep_answers=True) is False, f"{path} is not as scripts/hide_code.py writes it"


def test_hide_code_keeps_answer_cells_open_and_captions_assignment_checks(tmp_path):
    import hide_code

    nb = tmp_path / "a.ipynb"
    raw = json.loads(sorted((ROOT / "source").glob("*/*.ipynb"))[0].read_text(encoding="utf-8"))
    for cell in raw["cells"]:
        cell.get("metadata", {}).pop("jupyter", None)
        if cell["cell_type"] == "code" and not _is_answer(cell):
            cell["source"] = [line for line in cell["source"] if not line.startswith("# 第")
                              and not line.startswith("# 准备") and not line.startswith("# 自检")]
    nb.write_text(json.dumps(raw, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert hide_code.hide(nb, keep_answers=True) is True
    cells = _cells(nb)
    tests = [c for c in cells if re.fullmatch(r"q\d+-test", c["metadata"].get("nbgrader", {}).get("grade_id", ""))]
    assert tests and all(c["source"][0].startswith("# 第") and c["metadata"]["jupyter"]["source_hidden"] for c in tests)
    assert all("jupyter" not in c["metadata"] for c in cells if _is_answer(c))
    assert hide_code.hide(nb, keep_answers=True) is False


def _covered() -> list[tuple[int, int]]:
    """Code point ranges some installed font has a glyph for (fontconfig's charsets, one call)."""
    out = subprocess.run(["fc-list", "--format=%{charset}\n"], capture_output=True, text=True, timeout=120)
    ranges = []
    for token in out.stdout.split():
        low, _, high = token.partition("-")
        ranges.append((int(low, 16), int(high or low, 16)))
    return ranges


def _fonts_cover(char: str, ranges) -> bool:
    return any(low <= ord(char) <= high for low, high in ranges)


def test_every_character_of_the_course_text_has_a_glyph():
    if not shutil.which("fc-list"):
        pytest.skip("fontconfig (fc-list) not installed: scripts/system-deps.sh installs fonts-noto-cjk")
    ranges = _covered()
    if not _fonts_cover("客", ranges):
        pytest.skip("no CJK font installed (scripts/system-deps.sh installs fonts-noto-cjk)")
    chars = set()
    for path in COURSE:
        for cell in _cells(path):
            if cell["cell_type"] == "markdown":
                chars |= {ch for ch in "".join(cell["source"]) if ord(ch) > 0x7F}
    missing = sorted(ch for ch in chars if unicodedata.category(ch)[0] != "C" and not _fonts_cover(ch, ranges))
    assert not missing, "no installed font has " + ", ".join(f"{ch} U+{ord(ch):04X}" for ch in missing)


# ----------------------------------------------------------------------------- errors in a kernel


def _run_cells(sources: list[str], startup: Path | None) -> list[list[dict]]:
    """Run ``sources`` in a real python3 kernel (with or without the trainee startup file)."""
    import os

    import jupyter_client

    env = {k: v for k, v in os.environ.items() if k != "PYTHONSTARTUP"}
    if startup:
        env["PYTHONSTARTUP"] = str(startup)
    km = jupyter_client.KernelManager(kernel_name="python3")
    km.start_kernel(env=env, cwd=str(ROOT / "course"))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        results = []
        for source in sources:
            outputs: list[dict] = []
            kc.execute_interactive(source, timeout=120,
                                   output_hook=lambda m: outputs.append({"type": m["msg_type"], **m["content"]}))
            results.append([o for o in outputs if o["type"] in ("stream", "error", "display_data", "execute_result")])
        return results
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _drill_cells(notebook: str) -> tuple[str, str]:
    """The first drill cell (imports the drills) and the next one (uses them), of a course notebook."""
    code = ["".join(c["source"]) for c in _cells(ROOT / "course" / notebook) if c["cell_type"] == "code"]
    importing = next(i for i, s in enumerate(code) if "from toolkit.widgets import" in s)
    return code[importing], code[importing + 1]


def test_cell_run_out_of_order_gives_a_chinese_message_not_a_traceback():
    from toolkit.trainee_errors import message_for

    _first, second = _drill_cells("02_开放式与封闭式提问.ipynb")
    out_of_order, crash, fine = _run_cells([second, "import json\njson.loads('{')", "print('好')"], STARTUP)
    for outputs, expected in ((out_of_order, message_for(NameError)), (crash, message_for(ValueError))):
        errors = [o for o in outputs if o["type"] == "error"]
        assert len(errors) == 1, outputs  # still an error: Run All stops, nbval fails
        shown = "\n".join(errors[0]["traceback"]) + "".join(o.get("text", "") for o in outputs)
        assert shown == expected and re.search(r"[\u4e00-\u9fff]{10}", shown)
        assert "Traceback" not in shown and "Error" not in shown and "File " not in shown
    assert "运行所有单元格" in message_for(NameError)  # says what to do
    assert [o.get("text") for o in fine] == ["好\n"]


def test_instructor_kernel_still_shows_the_real_traceback():
    _first, second = _drill_cells("02_开放式与封闭式提问.ipynb")
    (outputs,) = _run_cells([second], None)
    error = next(o for o in outputs if o["type"] == "error")
    assert error["ename"] == "NameError" and "NameError" in "\n".join(error["traceback"])


def test_message_for_each_kind_of_error():
    from toolkit.trainee_errors import message_for

    for exc in (NameError("x"), ModuleNotFoundError("No module named 'toolkit'", name="toolkit"),
                SyntaxError("x"), KeyboardInterrupt(), FileNotFoundError("x"), ZeroDivisionError()):
        text = message_for(exc)
        assert re.fullmatch(r"[^A-Za-z]*(scripts/start\.sh[^A-Za-z]*)?(Ctrl \+ Z[^A-Za-z]*)?", text), text
    # a message already written for trainees is kept; one with English in it is not shown
    assert message_for(ValueError("第1题：请先运行上面的准备格，再运行这一格。")) == "第1题：请先运行上面的准备格，再运行这一格。"
    assert message_for(ValueError("未知的练习模块 'x'(module must be one of ...)")) == message_for(ValueError)
    assert message_for(KeyError("回答1")) == message_for(KeyError)
    assert len({message_for(e) for e in (NameError, ModuleNotFoundError, SyntaxError, KeyboardInterrupt,
                                         FileNotFoundError, ZeroDivisionError)}) == 6


# ----------------------------------------------------------------------------- one machine: submit


ASSIGNMENT = "02_questions"


def fill_model_answers(notebook: Path, source: Path) -> dict[str, str]:
    """Write the source's model answers into the trainee's copy, cell by cell, as a trainee types
    them (the answer cells' text without nbgrader's solution delimiters)."""
    from toolkit.grading.cohort import model_answers

    answers = model_answers(nbformat.read(source, as_version=4))
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    nbformat.write(nb, notebook)
    return answers


def autograded_score(course: Path, assignment: str, student: str) -> tuple[float, float]:
    """(score, max score) of the autograded cells of ``student``'s submission, from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "kefu-lab") as gb:
        sub = gb.find_submission(assignment, student)
        return sub.code_score, sub.max_code_score  # the autograded (code) cells; manual tasks apart


def _status(lab, path: str) -> int:
    import urllib.error

    try:
        return lab.api(path)[0]
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.slow
def test_one_machine_fetch_submit_collect_grade(tmp_path):
    from local_course import run, started

    with started(tmp_path) as lab:
        # what the Assignment List panel asks nbgrader's server extension
        status, listed = lab.api("/assignments?course_id=kefu-lab")
        assert status == 200 and listed["success"], listed
        released = {a["assignment_id"]: a for a in listed["value"] if a["status"] == "released"}
        assert ASSIGNMENT in released and len(released) == len(list((ROOT / "release").iterdir()))
        assert _status(lab, "/formgrader") == 404  # no instructor tools in the trainee start
        status, after = lab.api("/assignments/fetch", "POST", {"course_id": "kefu-lab", "assignment_id": ASSIGNMENT})
        assert status == 200
        fetched = lab.served / "kefu-lab" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert fetched.is_file()
        # the lessons' "去做作业" link, ../release/<a>/<a>.ipynb from course/, opens the fetched copy
        assert (lab.served / "course" / ".." / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").resolve() == fetched.resolve()

        fill_model_answers(fetched, ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
        status, result = lab.api("/assignments/submit", "POST", {"course_id": "kefu-lab", "assignment_id": ASSIGNMENT})
        assert status == 200 and not (isinstance(result, dict) and result.get("success") is False), result
        submitted = [a for a in result["value"] if a["status"] == "submitted" and a["assignment_id"] == ASSIGNMENT]
        assert submitted, result

    # the instructor, on the same machine: collect from the local exchange, then grade
    kefu = str(Path(sys.executable).parent / "kefu")
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    collected = run([nbgrader, "collect", ASSIGNMENT], lab.course, lab.env)
    assert collected.returncode == 0, collected.stdout + collected.stderr
    student = getpass.getuser()
    assert (lab.course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file(), collected.stderr
    graded = run([kefu, "grade", ASSIGNMENT, "--workers", "1"], lab.course, lab.env)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    score, max_score = autograded_score(lab.course, ASSIGNMENT, student)
    assert max_score > 0 and score == max_score, (score, max_score, graded.stdout)
