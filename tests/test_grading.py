"""The nbgrader pipeline for real: generate_assignment, parallel `kefu grade` on synthetic and hostile
cohorts, the gradebook against serial `nbgrader autograde`, feedback, export and report."""

from __future__ import annotations

import ast
import copy
import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from toolkit.grading import cohort
from toolkit.grading.sanitize import restore_answer_text, sanitize_notebook

ROOT = Path(__file__).resolve().parents[1]
KEFU = [sys.executable, "-m", "toolkit.cli"]
ASSIGNMENTS = sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir())


def run(cmd, cwd, **env):
    """Run a real command with the venv's bin/ on PATH (nbgrader shells out to alembic)."""
    full_env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **env}
    return subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=900)


def new_course(tmp_path: Path, name: str = "course") -> Path:
    course = tmp_path / name
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source", course / "source")
    shutil.copytree(ROOT / "release", course / "release")
    return course


def gradebook_rows(course: Path, assignment: str, db_url: str | None = None) -> dict:
    """Every grade and comment nbgrader keeps for the assignment, keyed for comparison."""
    from nbgrader.api import Gradebook

    rows = {}
    with Gradebook(db_url or f"sqlite:///{course / 'gradebook.db'}", "kefu-lab") as gb:
        for submission in gb.assignment_submissions(assignment):
            for notebook in submission.notebooks:
                rows[(submission.student_id, notebook.name, "late")] = notebook.late_submission_penalty
                for grade in notebook.grades:
                    rows[(submission.student_id, grade.name)] = (grade.auto_score, grade.manual_score,
                                                                 grade.needs_manual_grade)
                for comment in notebook.comments:
                    rows[(submission.student_id, comment.name, "comment")] = comment.auto_comment
    return rows


def autograded_totals(course: Path, assignment: str, db_url: str | None = None) -> dict[str, float]:
    totals: dict[str, float] = {}
    for key, value in gradebook_rows(course, assignment, db_url).items():
        if len(key) == 2:
            totals[key[0]] = totals.get(key[0], 0.0) + (value[0] or 0.0)
    return totals


# ----------------------------------------------------------------------------- assignments


def test_at_least_ten_assignments_with_manual_task():
    assert len(ASSIGNMENTS) >= 10
    for assignment in ASSIGNMENTS:
        nb = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
        metas = [c.metadata.get("nbgrader", {}) for c in nb.cells]
        assert any(m.get("grade") and m.get("solution") for m in metas), f"{assignment}: no manually graded task"
        assert cohort.questions(nb), f"{assignment}: no autograded question"
        assert any("BEGIN HIDDEN TESTS" in c.source for c in nb.cells), f"{assignment}: no hidden tests"


def test_release_matches_generate_assignment(tmp_path):
    """release/ is committed; regenerating it from source/ must give the same notebooks."""
    course = tmp_path / "regen"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source", course / "source")
    for assignment in ASSIGNMENTS:
        result = run(["nbgrader", "generate_assignment", assignment, "--force"], course)
        assert result.returncode == 0, result.stderr[-2000:]
    for assignment in ASSIGNMENTS:
        for path in (course / "release" / assignment).glob("*.ipynb"):
            fresh = json.loads(path.read_text(encoding="utf-8"))
            committed = json.loads((ROOT / "release" / assignment / path.name).read_text(encoding="utf-8"))
            assert fresh == committed, f"release/{assignment}/{path.name} is stale: run scripts/release.sh"


def test_release_hides_solutions_and_hidden_tests():
    for assignment in ASSIGNMENTS:
        text = (ROOT / "release" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8")
        assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text


# ----------------------------------------------------------------------------- sanitiser


@pytest.mark.parametrize("source, text", [
    ("您能详细说说断网时的情况吗？", "您能详细说说断网时的情况吗？"),
    ("“您好，请问有什么可以帮您？”", "“您好，请问有什么可以帮您？”"),  # a Chinese keyboard's quotes
    ("  Ｃ  \n", "Ｃ"),
    ("忽视地听\n假装在听\n有选择地听", "忽视地听\n假装在听\n有选择地听"),
    ("### BEGIN SOLUTION\nB\n### END SOLUTION", "B"),  # the instructor's source notebook
    ('回答1 = "您好"', '回答1 = "您好"'),  # the old Python form is just text now
    ("while True:\n    pass", "while True:\n    pass"),
    ("import os\nos._exit(1)", "import os\nos._exit(1)"),
    ("__builtins__ = {}", "__builtins__ = {}"),
    ('"""\'\'\'\\\n\\x00 {回答1}', '"""\'\'\'\\\n\\x00 {回答1}'),  # quotes and backslashes stay data
    ("\ud800 \u200b", "\ud800 \u200b"),
])
def test_sanitiser_turns_answer_text_into_a_literal(source, text):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade_id": "q1-answer", "solution": True, "grade": False, "locked": False}
    added = nbformat.v4.new_code_cell("import os\nos._exit(1)")
    nb.cells = [cell, added]
    report = sanitize_notebook(nb)
    assert report == ["added code cell: removed `import os`"]
    tree = ast.parse(cell.source)  # exactly one assignment of a str constant, built by kefu
    assert len(tree.body) == 1 and isinstance(tree.body[0], ast.Assign)
    assert [t.id for t in tree.body[0].targets] == ["回答1"] and isinstance(tree.body[0].value, ast.Constant)
    scope = {}
    exec(compile(cell.source, "<answer>", "exec"), {"__builtins__": {}}, scope)
    assert scope == {"回答1": text}
    assert "os._exit" not in added.source  # a cell the trainee added never runs
    restore_answer_text(nb)
    assert cell.source == text  # feedback shows the answer as written


def test_sanitiser_retyped_and_unknown_answer_cells():
    nb = nbformat.v4.new_notebook()
    retyped = nbformat.v4.new_markdown_cell("B")
    retyped.metadata["nbgrader"] = {"grade_id": "q2-answer", "solution": True, "grade": False, "locked": False}
    odd = nbformat.v4.new_code_cell("print('hi')")
    odd.metadata["nbgrader"] = {"grade_id": "extra", "solution": True, "grade": False, "locked": False}
    nb.cells = [retyped, odd]
    report = sanitize_notebook(nb)
    assert retyped.cell_type == "code" and retyped.source == "回答2 = 'B'\n"
    assert "print" not in odd.source and report == ["extra: not an answer cell id, emptied"]


def test_fill_answers_by_grade_id():
    assignment = ASSIGNMENTS[1]
    nb = nbformat.read(ROOT / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    cohort.fill_answers(nb, {"q2-answer": "Ｃ。", "q1-answer": "您能说说\n当时的情况吗？"})
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in nb.cells}
    assert cells["q2-answer"] == "Ｃ。" and cells["q1-answer"] == "您能说说\n当时的情况吗？"
    with pytest.raises(ValueError, match="no answer cell q9-answer"):
        cohort.fill_answers(nb, {"q9-answer": "A"})


# ----------------------------------------------------------------------------- cohorts


@pytest.fixture(scope="module")
def graded_cohort(tmp_path_factory):
    """>= 30 trainees x 2 assignments, plus every hostile kind and a non-JSON notebook, graded by `kefu grade`."""
    course = new_course(tmp_path_factory.mktemp("cohort"))
    rng = random.Random(2026)
    expected = {}
    for assignment in ASSIGNMENTS[:2]:
        kinds = [rng.choice(["perfect", "partial", "partial", "blank"]) for _ in range(30)] + list(cohort.HOSTILE)
        expected[assignment] = {s.student: s for s in cohort.write_cohort(course, assignment, kinds, seed=rng.random())}
        cohort.write_broken(course, assignment, "trainee999")
    outputs = {}
    for assignment in ASSIGNMENTS[:2]:
        result = run(KEFU + ["grade", assignment, "--workers", "2", "--quiet"], course)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        outputs[assignment] = result.stdout
    return course, expected, outputs


def test_every_trainee_gets_exactly_what_their_answers_deserve(graded_cohort):
    course, expected, _ = graded_cohort
    for assignment, submissions in expected.items():
        totals = autograded_totals(course, assignment)
        assert len(submissions) >= 30 + len(cohort.HOSTILE)
        for student, submission in submissions.items():
            assert totals[student] == pytest.approx(submission.expected), (assignment, student, submission.kind)
        assert totals["trainee999"] == 0


def test_summary_names_what_happened(graded_cohort):
    course, expected, outputs = graded_cohort
    for assignment, submissions in expected.items():
        rows = [line for line in outputs[assignment].splitlines() if line.startswith("trainee")]
        lines = {line.split()[0]: line for line in rows[1:]}  # rows[0] is the table header
        assert "unreadable" in lines["trainee999"] and "not a JSON notebook" in lines["trainee999"] \
            or "unreadable notebook" in lines["trainee999"]
        by_kind = {s.kind: lines[s.student] for s in submissions.values()}
        # Code typed into an answer cell is text (graded as such, nothing removed); code cells the
        # trainee added are emptied and named.
        assert "removed" not in by_kind["infinite-loop"] and "removed" not in by_kind["sys-exit"]
        assert "import os" in by_kind["os-exit"]
        assert "code removed: added code cell" in by_kind["os-exit"] and "code removed: code removed" not in by_kind["os-exit"]
        removed = sum("code removed:" in line for line in lines.values())
        assert f"; {removed} had code removed" in outputs[assignment]  # not those with other notes only
        assert "ctypes" in by_kind["kernel-crash"]
        assert "刷屏" in by_kind["output-flood"]
        assert "import builtins" in by_kind["monkeypatch"] and "toolkit.checks" not in by_kind["monkeypatch"]
        assert "test cell" in by_kind["edited-test-cell"] and "edited (restored)" in by_kind["edited-test-cell"]
        assert "Missing grade cell" in by_kind["deleted-cells"]
        assert "exists multiple times" in by_kind["duplicated-cells"]
        assert "cell type of test cell" in by_kind["retyped-cells"]
        assert all(" graded " in line for student, line in lines.items() if student != "trainee999")
        # Each row shows the autograded points out of the autogradable ones; hand-graded points are
        # announced once, not silently counted as lost.
        auto_max = sum(q.points for q in cohort.questions(nbformat.read(
            next((course / "source" / assignment).glob("*.ipynb")), as_version=4)))
        for submission in submissions.values():
            assert f" {submission.expected:g}/{auto_max:g} " in lines[submission.student], submission.kind
        assert "points per trainee of manually graded tasks: grade them in formgrader" in outputs[assignment]


def test_regrading_is_idempotent(graded_cohort):
    course, expected, _ = graded_cohort
    assignment = next(iter(expected))
    before = gradebook_rows(course, assignment)
    result = run(KEFU + ["grade", assignment, "--quiet"], course)
    assert result.returncode == 0, result.stderr[-2000:]
    assert gradebook_rows(course, assignment) == before


def test_feedback_export_and_report(graded_cohort):
    course, expected, _ = graded_cohort
    assignment = next(iter(expected))
    result = run(KEFU + ["feedback", assignment], course)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    pages = sorted((course / "feedback").glob(f"*/{assignment}/*.html"))
    assert len(pages) == len(expected[assignment])  # every graded trainee, not the unreadable one
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "BEGIN HIDDEN TESTS" not in text and "Traceback (most recent call last)" not in text
    perfect = next(s for s in expected[assignment].values() if s.kind == "perfect")
    assert "✔" in (course / "feedback" / perfect.student / assignment / f"{assignment}.html").read_text(encoding="utf-8")

    result = run(KEFU + ["export"], course)
    assert result.returncode == 0, result.stderr[-2000:]
    import pandas as pd

    table = pd.read_csv(course / "exports" / "grades.csv")
    assert len(table) == len(expected[assignment]) + 1  # one row per trainee, the unreadable one too
    assert set(expected) <= set(table.columns)
    excel = pd.read_excel(course / "exports" / "grades.xlsx", sheet_name=None)
    assert set(excel) == {"grades", "by question"}

    result = run(KEFU + ["report", assignment], course)
    assert result.returncode == 0, result.stderr[-2000:]
    html = (course / "reports" / f"{assignment}.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 3
    assert "最需要帮助的学员" in html and "trainee999" in html


def test_parallel_gradebook_equals_serial_nbgrader(tmp_path):
    """The same submissions graded by `kefu grade` and by plain serial `nbgrader autograde`."""
    kinds = ["perfect", "partial", "blank", "monkeypatch", "deleted-cells", "wrong-types"]
    parallel, serial = new_course(tmp_path, "parallel"), new_course(tmp_path, "serial")
    for course in (parallel, serial):
        cohort.write_cohort(course, ASSIGNMENTS[0], kinds, seed=5)
    result = run(KEFU + ["grade", ASSIGNMENTS[0], "--workers", "2", "--quiet"], parallel)
    assert result.returncode == 0, result.stderr[-2000:]
    assert run(["nbgrader", "generate_assignment", ASSIGNMENTS[0], "--force"], serial).returncode == 0
    result = run(["nbgrader", "autograde", ASSIGNMENTS[0], "--create", "--force"], serial, KEFU_EXECUTOR="kernel")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = gradebook_rows(parallel, ASSIGNMENTS[0])
    assert rows == gradebook_rows(serial, ASSIGNMENTS[0])
    assert len(rows) > 6 * 3


# ----------------------------------------------------------------------------- self-check
# 自检() in the trainee's kernel, run as JupyterLab runs it: tests/test_answers.py


def test_demo_runs_the_whole_job(tmp_path):
    """`kefu demo`: release, synthetic cohort, grade, feedback, export, report, and its own check."""
    result = run(KEFU + ["demo", "--dir", str(tmp_path / "demo"), "--assignments", ASSIGNMENTS[1]], ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "every trainee's autograded score equals what their answers deserve" in result.stdout
    assert (tmp_path / "demo" / "exports" / "grades.xlsx").is_file()
    assert (tmp_path / "demo" / "reports" / f"{ASSIGNMENTS[1]}.html").is_file()


def test_instructor_mistakes_get_a_clear_message_and_no_files(tmp_path):
    course = new_course(tmp_path)
    result = run(KEFU + ["grade", "02_question"], course)  # typo
    assert result.returncode == 1 and "unknown assignment '02_question': source/ has 01_listening" in result.stderr
    result = run(KEFU + ["grade", ASSIGNMENTS[1]], course)
    assert result.returncode == 1 and f"no submissions found in {course / 'submitted'}/*/{ASSIGNMENTS[1]}/" in result.stderr
    result = run(KEFU + ["export"], course)
    assert result.returncode == 1 and "no grades in the gradebook yet" in result.stderr
    assert not (course / "exports").exists() and not (course / "autograded").exists()
    result = run(KEFU + ["grade", ASSIGNMENTS[1]], tmp_path)  # not inside a course
    assert result.returncode == 1 and "no nbgrader_config.py here" in result.stderr


# ----------------------------------------------------------------------------- bad replies

BAD_REPLIES = {
    "stuffing": "您好请谢谢对不起",
    "abuse": "您可以滚了",
    "off-topic": "今天天气不错，我们一起去公园散步吧。",
}


def free_text_questions(source_nb) -> list[cohort.QuestionCells]:
    """Questions whose model answer is written Chinese (a sentence with full-width punctuation):
    not letters, numbers, times, dates or names from a list."""
    model = cohort.model_answers(source_nb)
    return [q for q in cohort.questions(source_nb) if re.search("[，。？！]", model[q.answer_id])]


def test_stuffing_abuse_and_off_topic_replies_earn_nothing(tmp_path):
    """Every free-text question of every assignment, answered with polite-word stuffing, abuse or an
    off-topic sentence, graded by real nbgrader (`kefu grade`): 0 for that question, while the other
    questions (model answers) keep their points."""
    course = new_course(tmp_path)
    failures = []
    for assignment in ASSIGNMENTS:
        name = cohort.notebook_name(course, assignment)
        source = nbformat.read(course / "source" / assignment / name, as_version=4)
        release = nbformat.read(course / "release" / assignment / name, as_version=4)
        free = free_text_questions(source)
        assert free, assignment
        model = cohort.model_answers(source)
        for number, (kind, text) in enumerate(BAD_REPLIES.items(), 1):
            nb = copy.deepcopy(release)
            cohort.fill_answers(nb, {**model, **{q.answer_id: text for q in free}})
            folder = course / "submitted" / f"{kind}{number}" / assignment
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / name)
        result = run(KEFU + ["grade", assignment, "--workers", "2", "--quiet"], course)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        rows = gradebook_rows(course, assignment)
        for number, kind in enumerate(BAD_REPLIES, 1):
            for q in cohort.questions(source):
                earned = rows[(f"{kind}{number}", q.test_id)][0]
                deserved = 0.0 if q in free else q.points
                if earned != pytest.approx(deserved):
                    failures.append(f"{assignment} {q.test_id} {kind}: {earned:g} instead of {deserved:g}")
    assert not failures, "\n".join(failures)
