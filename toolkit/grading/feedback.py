"""`kefu feedback ASSIGNMENT`: nbgrader's generate_feedback for every graded trainee.

nbgrader's feedback would show hidden tests (nbgrader #917); nbgrader_config.py adds
ClearHiddenTests to the feedback pipeline, and this command checks the result.
"""

from __future__ import annotations

from pathlib import Path

from .course import Course

HIDDEN_MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN SOLUTION")


def generate(course: Course, assignment: str) -> list[Path]:
    result = course.api().generate_feedback(assignment, force=True)
    if not result.get("success"):
        raise SystemExit(f"nbgrader generate_feedback {assignment} failed:\n{result.get('error') or result.get('log')}")
    pages = sorted((course.root / "feedback").glob(f"*/{assignment}/*.html"))
    leaking = [p for p in pages if any(m in p.read_text(encoding="utf-8") for m in HIDDEN_MARKERS)]
    if leaking:
        raise SystemExit(f"feedback would reveal hidden tests or solutions: {', '.join(map(str, leaking))}")
    return pages
