"""`kefu demo`: the instructor's whole job, end to end, on the embedded course.

In a scratch course folder (default ./demo, gitignored): generate the release of every
assignment, write a synthetic cohort (perfect, partial, blank, every kind of hostile
submission, and a notebook that is not JSON), grade it in parallel, write feedback,
export the grades and build a report per assignment. It then compares every trainee's
autograded score with what their answers deserve and says so.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from . import cohort, export, feedback, report
from .course import Course
from .parallel import grade, summary_table

KINDS = ["perfect", "perfect", "partial", "partial", "partial", "blank", *cohort.HOSTILE]


def run(repo: Course, folder: Path, assignments: list[str] | None, workers: int | None) -> int:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    shutil.copy(repo.root / "nbgrader_config.py", folder / "nbgrader_config.py")
    shutil.copytree(repo.root / "source", folder / "source")
    course = Course(folder)
    names = assignments or course.assignments()
    print(f"[demo] course folder: {folder}  assignments: {', '.join(names)}")
    mismatches = []
    for assignment in names:
        course.generate(assignment)
        expected = {s.student: s for s in cohort.write_cohort(folder, assignment, KINDS, seed=len(assignment))}
        cohort.write_broken(folder, assignment, "trainee999")
        outcomes = grade(course, assignment, workers=workers)
        print(f"\n[demo] {assignment}\n" + summary_table(outcomes))
        auto = export.cell_scores(course, [assignment]).query("kind == 'auto'").groupby("student")["score"].sum()
        for student, submission in expected.items():
            if abs(auto[student] - submission.expected) > 1e-9:
                mismatches.append(f"{assignment}/{student} ({submission.kind}): got {auto[student]:g}, deserves {submission.expected:g}")
        pages = feedback.generate(course, assignment)
        page = report.render(course, assignment, folder / "reports" / f"{assignment}.html")
        print(f"[demo] feedback: {len(pages)} pages under {folder / 'feedback'}; report: {page}")
    files = export.export(course, folder / "exports")
    print(f"\n[demo] grades exported: {', '.join(map(str, files))}")
    if mismatches:
        print("[demo] MISMATCH between autograded scores and what the answers deserve:\n  " + "\n  ".join(mismatches))
        return 1
    print("[demo] every trainee's autograded score equals what their answers deserve")
    return 0
