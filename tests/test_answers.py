"""Answers in plain words: the parsers, and the trainee's own kernel run the way JupyterLab runs it
(answer cells record their text and never execute it; 自检() checks content, shows no score)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import nbformat
import pytest

from labkernel import LabKernel
from toolkit.grading import cohort
from toolkit.exercise.answers import answer_name, answer_text, choice, is_question, letters, lines, ordered

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- parsers


@pytest.mark.parametrize("text, expected", [
    ("C", "C"), ("c", "C"), ("Ｃ", "C"), ("“C”", "C"), ("选C。", "C"), ("答案：Ｃ", "C"), ("（C）", "C"),
    ('回答2 = "C"', "2=C"), ("CD", "CD"), ("", ""),
])
def test_choice(text, expected):
    assert choice(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("BFA", "BFA"), ("b f a", "BFA"), ("Ｂ、Ｆ、Ａ", "BFA"), ("“B，F，A”。", "BFA"), ("B\nF\nA", "BFA"),
])
def test_letters(text, expected):
    assert letters(text) == expected


def test_lines_and_orderings():
    assert lines("1. 忽视地听\n2、假装在听\n\n（3）有选择地听") == ["忽视地听", "假装在听", "有选择地听"]
    assert lines("特点一句。优点一句！利益一句？") == ["特点一句。", "优点一句！", "利益一句？"]
    assert lines("3月9日、3月11日", sentences=False) == ["3月9日", "3月11日"]
    assert lines("3月9日 3月11日", sentences=False) == ["3月9日", "3月11日"]
    options = {"A": "遇到一些困难", "B": "要立刻改变", "C": "几乎完美", "D": "有一点不满"}
    assert ordered("CDAB", options) == ordered("ｃ、ｄ、ａ、ｂ", options) == ["几乎完美", "有一点不满", "遇到一些困难", "要立刻改变"]
    assert ordered("几乎完美\n有一点不满\n遇到一些困难\n要立刻改变", options)[0] == "几乎完美"
    assert ordered("CDAE", options)[-1] == "E"  # a letter that is no option stays wrong


def test_answer_names_text_and_questions():
    assert answer_name("q3-answer") == "回答3" and answer_name("q3-test") is None and answer_name("") is None
    assert answer_text("### BEGIN SOLUTION\n  第一行  \n第二行\n### END SOLUTION\n") == "第一行\n第二行"
    assert is_question("您能说说吗") and is_question("請問您是哪天收到的？") and not is_question("好的。")


# ----------------------------------------------------------------------------- trainee kernel


def _cells(nb):
    return {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}


def _notebook(tmp_path: Path, assignment: str, kind: str = "perfect", answers: dict | None = None):
    source = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    release = nbformat.read(ROOT / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    nb, _, _ = cohort.build(release, source, kind, random.Random(0))
    if answers:
        cohort.fill_answers(nb, answers)
    path = tmp_path / f"{assignment}.ipynb"
    nbformat.write(nb, path)
    return nb, path


@pytest.fixture
def kernels():
    opened = []

    def open_kernel(path: Path) -> LabKernel:
        opened.append(LabKernel(path.parent, path))
        return opened[-1]

    yield open_kernel
    for kernel in opened:
        kernel.close()


def test_answer_cells_record_text_and_never_run_it(tmp_path, kernels):
    nb, path = _notebook(tmp_path, "03_fab", answers={
        "q1-answer": "“Ｂ、Ｆ、Ａ”",  # a Chinese input method: full-width letters, Chinese quotes
        "q2-answer": "while True:\n    pass",
        "q4-answer": "import os\nos._exit(1)",
    })
    cells, kernel = _cells(nb), kernels(path)
    assert kernel.run(cells["setup"]).status == "ok"
    first = kernel.run(cells["q1-answer"])
    assert first.status == "ok" and not first.errors and "已记下第 1 题的答案" in first.text
    loop = kernel.run(cells["q2-answer"], timeout=10)  # would hang if it ran as code
    assert loop.status == "ok" and "已记下第 2 题的答案" in loop.text
    assert kernel.run(cells["q4-answer"]).status == "ok"  # would kill the kernel if it ran
    check = kernel.run(cells["q2-test"])
    assert check.status == "ok" and not check.errors and "✘ 只写一个字母" in check.text
    check = kernel.run(cells["q1-test"])
    assert "✔" in check.text and "✘" not in check.text and not re.search(r"\d+ / \d+ 分", check.text)
    probe = nbformat.v4.new_code_cell("print(repr(回答2), repr(回答4))")
    assert kernel.run(probe).text.strip() == "'while True:\\n    pass' 'import os\\nos._exit(1)'"


def test_a_test_cell_run_before_its_answer_says_so_in_chinese(tmp_path, kernels):
    nb, path = _notebook(tmp_path, "02_questions")
    cells, kernel = _cells(nb), kernels(path)
    kernel.run(cells["setup"])
    early = kernel.run(cells["q3-test"])
    assert not early.errors and "第 3 题还没有作答" in early.text and "Traceback" not in early.text


def test_selfcheck_runs_visible_content_checks_without_a_score(tmp_path, kernels):
    nb, path = _notebook(tmp_path, "03_fab")
    cells, kernel = _cells(nb), kernels(path)
    for cell in nb.cells:  # Run All, as a trainee does at the end
        if cell.cell_type == "code":
            result = kernel.run(cell)
            assert result.status == "ok" and not result.errors, (cell.source, result.errors)
    text = result.text
    assert "自检结果" in text and "✔" in text and "✘" not in text
    assert not re.search(r"\d+(\.\d+)? / \d+ 分", text)  # no score before the hidden checks run
    assert not any("BEGIN HIDDEN TESTS" in c.source for c in nb.cells)

    # Content, not format: "FFF" has three F/A/B letters but is not an FAB split.
    cells["q1-answer"].source = "FFF"
    kernel.run(cells["q1-answer"])
    text = kernel.run(cells["selfcheck"]).text
    first = text.split("第1题")[1].split("第2题")[0]
    assert "✘ 这三句合起来是一段完整的 FAB 介绍" in first and "格式正确" not in first


def test_selfcheck_uses_saved_answers_of_cells_not_run(tmp_path, kernels):
    nb, path = _notebook(tmp_path, "05_three_f", answers={"q1-answer": "FFF"})
    cells, kernel = _cells(nb), kernels(path)
    kernel.run(cells["setup"])
    text = kernel.run(cells["selfcheck"]).text
    assert "按笔记本里已保存的内容检查" in text
    first = text.split("第1题")[1].split("第2题")[0]
    assert "✘ 请写一句完整的话" in first and "✘ 3F 还不完整" in first  # the 3F question checks its parts
    assert "第2题" in text and "✔" in text.split("第2题")[1]


def test_nbgrader_validate_reads_answers_as_text(tmp_path):
    """The Assignment List's Validate button runs `nbgrader validate`: answers are text there too."""
    import shutil
    import subprocess
    import sys

    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    _, path = _notebook(course, "02_questions", answers={"q2-answer": "while True:\n    pass"})
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(["nbgrader", "validate", path.name], cwd=course, env=env,
                            capture_output=True, text=True, timeout=300)
    out = result.stdout + result.stderr
    assert "SyntaxError" not in out and "NameError" not in out
    # Only the hand-graded task (unanswered) fails; answer cells, even one holding a loop, ran as text.
    assert "VALIDATION FAILED ON 1 CELL(S)" in out and "You did not provide a response." in out


def test_the_ipython_extension_makes_answers_text_before_the_setup_cell(tmp_path, kernels):
    """For a course kernel that loads it at start (c.InteractiveShellApp.extensions)."""
    nb, path = _notebook(tmp_path, "08_telephone", answers={"q4-answer": "２７０ 字"})
    cells, kernel = _cells(nb), kernels(path)
    assert kernel.run(nbformat.v4.new_code_cell("%load_ext toolkit.exercise.answers")).status == "ok"
    answered = kernel.run(cells["q4-answer"])
    assert answered.status == "ok" and "已记下第 4 题的答案" in answered.text
    assert kernel.run(nbformat.v4.new_code_cell("print(回答4)")).text.strip() == "２７０ 字"


@pytest.mark.parametrize("assignment", sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir()))
def test_model_answers_pass_every_visible_check(assignment, tmp_path):
    """自检 on the released notebook with the model answers typed in: every public check passes, and
    each test cell runs on its own (the self-check runs them one by one)."""
    from toolkit.exercise.selfcheck import run_visible_checks

    _, path = _notebook(tmp_path, assignment)
    results = run_visible_checks(path, {})
    answered = {q.test_id for q in cohort.questions(nbformat.read(path, as_version=4))}  # not the recording
    checked = [report for cell_id, report in results if cell_id in answered]
    assert len(checked) == len(answered)
    assert checked and all("✘" not in report and "✔" in report for report in checked), results
