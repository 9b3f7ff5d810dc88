"""The in-process executor (toolkit/grading/inprocess.py) against nbgrader's kernel: the same
cohorts give identical gradebook rows; attacks earn exactly what their honest answers deserve."""

from __future__ import annotations

import pytest

from test_grading import ASSIGNMENTS, KEFU, autograded_totals, gradebook_rows, new_course, run
from toolkit.grading import cohort

pytestmark = pytest.mark.slow

KINDS = ["perfect", "partial", "blank", "wrong-types", "monkeypatch", "edited-test-cell", "deleted-cells"]


def _grade_both(tmp_path, assignments, kinds, seed=11):
    engine, kernel = new_course(tmp_path, "engine"), new_course(tmp_path, "kernel")
    for course in (engine, kernel):
        for assignment in assignments:
            cohort.write_cohort(course, assignment, kinds, seed=seed)
    for assignment in assignments:
        result = run(KEFU + ["grade", assignment, "--workers", "2", "--quiet"], engine)
        assert result.returncode == 0, result.stderr[-2000:]
    for command in (["generate_assignment", "*", "--force"], ["autograde", "*", "--create", "--force"]):
        result = run(["nbgrader", *command], kernel, KEFU_EXECUTOR="kernel")
        assert result.returncode == 0, result.stderr[-3000:]
    return engine, kernel


def test_engine_and_kernel_give_identical_gradebooks_on_every_assignment(tmp_path):
    engine, kernel = _grade_both(tmp_path, ASSIGNMENTS, KINDS)
    for assignment in ASSIGNMENTS:
        rows = gradebook_rows(engine, assignment)
        assert len(rows) > len(KINDS) * 3
        assert rows == gradebook_rows(kernel, assignment), assignment
