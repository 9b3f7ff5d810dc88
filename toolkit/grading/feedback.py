"""`kefu feedback ASSIGNMENT`: nbgrader's generate_feedback for every graded trainee.

nbgrader's feedback would show hidden tests (nbgrader #917); nbgrader_config.py adds
ClearHiddenTests to the feedback pipeline, and ``RefuseLeaks`` (with ``leaks`` below) fails a
trainee's page if an instructor cell still holds a marker. Only instructor-authored cells are
looked at: trainee text may say "BEGIN SOLUTION" (its markers are broken at autograde anyway).

Pages are generated into a scratch folder and moved into feedback/ trainee by trainee only once
written, so a failed run never deletes the feedback already there.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from . import markers
from .course import Course


def leaks(nb) -> list[str]:
    """Instructor cells of ``nb`` that still hold an nbgrader marker, named with the markers."""
    from .sanitize import instructor_cell

    return [f"{cell.metadata.nbgrader.grade_id}: {', '.join(found)}" for cell in nb.cells
            if instructor_cell(cell) and (found := markers.found(cell.source))]


def _check_config(course: Course) -> None:
    from .nbgrader_hooks import RefuseLeaks

    if RefuseLeaks not in list(course.config.GenerateFeedback.get("preprocessors", [])):
        raise SystemExit(f"{course.root / 'nbgrader_config.py'} does not check feedback for hidden tests: "
                         "it must call toolkit.grading.nbgrader_hooks.configure(c)")


def _move_into_place(scratch: Path, feedback: Path, assignment: str) -> list[str]:
    """Move each trainee's new pages over their old ones; return the trainees moved."""
    from nbgrader.utils import rmtree

    moved = []
    for new in sorted(scratch.glob(f"*/{assignment}")):
        if not any(new.glob("*.html")):
            continue
        student = new.parent.name
        target = feedback / student / assignment
        target.parent.mkdir(parents=True, exist_ok=True)
        old = target.with_name(f".{assignment}.old")
        if old.exists():
            rmtree(str(old))
        if target.exists():
            os.rename(target, old)
        os.rename(new, target)
        if old.exists():
            rmtree(str(old))
        moved.append(student)
    return moved


def generate(course: Course, assignment: str, student: str | None = None) -> list[Path]:
    """Feedback pages for every graded trainee (or one ``student``), moved into feedback/ only once written."""
    _check_config(course)
    feedback = course.root / course.config.CourseDirectory.get("feedback_directory", "feedback")
    scratch = Path(tempfile.mkdtemp(prefix=".kefu-feedback-", dir=course.root))  # same file system: rename
    try:
        result = course.api(feedback_directory=scratch.name).generate_feedback(assignment, student_id=student,
                                                                               force=True)
        moved = _move_into_place(scratch, feedback, assignment)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if not result.get("success"):
        log = f"{result.get('log') or ''}\n{result.get('error') or ''}"
        failed = sorted({line.split("for student ")[-1].strip(" '") for line in log.splitlines()
                         if "There was an error processing assignment '" in line})
        reasons = sorted({line.split("RuntimeError: ", 1)[1] for line in log.splitlines() if "RuntimeError: " in line})
        reason = "; ".join(reasons) or (log.strip().splitlines() or ["no log"])[-1]
        raise SystemExit(f"nbgrader generate_feedback {assignment} failed for {', '.join(failed) or 'some trainees'}"
                         f" (their earlier feedback is kept; {len(moved)} written): {reason}")
    return sorted(feedback.glob(f"*/{assignment}/*.html"))
