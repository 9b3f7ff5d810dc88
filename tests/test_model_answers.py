"""Every assignment's model answers earn full marks, under plain `nbgrader autograde` and under
`kefu grade`; and every hostile kind earns exactly what its honest answers deserve, on ALL
assignments (the equivalent of `kefu demo` over the whole course, without feedback/report)."""

from __future__ import annotations

import pytest

from test_grading import ASSIGNMENTS, KEFU, autograded_totals, new_course, run
from toolkit.grading import cohort

pytestmark = pytest.mark.slow


def _max_autograded(course, assignment: str) -> float:
    import nbformat

    name = cohort.notebook_name(course, assignment)
    nb = nbformat.read(course / "source" / assignment / name, as_version=4)
    return sum(q.points for q in cohort.questions(nb))


def test_model_answers_earn_full_marks_under_plain_nbgrader(tmp_path):
    course = new_course(tmp_path)
    for assignment in ASSIGNMENTS:
        cohort.write_cohort(course, assignment, ["perfect"], prefix="model")
    # nbgrader's glob over assignments: one process each for generate and autograde.
    for command in (["generate_assignment", "*", "--force"], ["autograde", "*", "--create", "--force"]):
        result = run(["nbgrader", *command], course)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    for assignment in ASSIGNMENTS:
        full = _max_autograded(course, assignment)
        assert full > 0
        assert autograded_totals(course, assignment)["model001"] == pytest.approx(full), assignment


def test_every_assignment_grades_model_and_hostile_cohorts_exactly(tmp_path):
    course = new_course(tmp_path)
    kinds = ["perfect", "blank", *cohort.HOSTILE]
    expected = {}
    for assignment in ASSIGNMENTS:
        expected[assignment] = cohort.write_cohort(course, assignment, kinds, seed=7)
        result = run(KEFU + ["grade", assignment, "--workers", "2", "--quiet"], course)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for assignment in ASSIGNMENTS:
        totals = autograded_totals(course, assignment)
        full = _max_autograded(course, assignment)
        for submission in expected[assignment]:
            if submission.kind == "perfect":
                assert submission.expected == pytest.approx(full)
            assert totals[submission.student] == pytest.approx(submission.expected), (assignment, submission.kind)
