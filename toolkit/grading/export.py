"""Grades out of nbgrader's gradebook as pandas tables, and `kefu export` (CSV + Excel).

Late penalties: nbgrader stores a penalty per submitted notebook (``late_submission_penalty``,
summed per assignment by ``SubmittedAssignment.late_submission_penalty``) and never subtracts it
from ``score``. Its own feedback and CSV export show ``max(0, score - penalty)``; so do every kefu
table and report (``submission_scores``), so the figures agree everywhere.

A trainee who never submitted an assignment has no submission in the gradebook: their cell for
that assignment is left empty (not 0) and ``not_submitted`` names it; totals count it as 0.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from nbgrader.api import Gradebook, MissingEntry

from .course import Course


def display_name(student) -> str:
    """The roster name of an nbgrader Student (Chinese names: surname + given name, no space), else the id."""
    last, first = (student.last_name or "").strip(), (student.first_name or "").strip()
    if not (last or first):
        return student.id
    if first and last and all(ord(c) > 0x2E80 for c in last + first):
        return last + first
    return " ".join(p for p in (last, first) if p)


def names(course: Course) -> dict[str, str]:
    """Student id -> roster name (the id when the roster gave none)."""
    with Gradebook(course.db_url, course.course_id) as gb:
        return {s.id: display_name(s) for s in gb.students}


def cell_scores(course: Course, assignments: list[str] | None = None) -> pd.DataFrame:
    """One row per trainee x graded cell: the long table every report is built from."""
    rows = []
    with Gradebook(course.db_url, course.course_id) as gb:
        wanted = assignments or [a.name for a in gb.assignments]
        for student in gb.students:
            for assignment in wanted:
                try:
                    submission = gb.find_submission(assignment, student.id)
                except MissingEntry:
                    submission = None
                notebooks = submission.notebooks if submission else gb.find_assignment(assignment).notebooks
                for notebook in notebooks:
                    grades = notebook.grades if submission else notebook.grade_cells
                    for grade in grades:
                        cell = grade.cell if submission else grade
                        rows.append({
                            "student": student.id,
                            "assignment": assignment,
                            "notebook": notebook.name,
                            "question": grade.name,
                            "kind": "manual" if cell.cell_type == "markdown" else "auto",
                            "score": float(grade.score) if submission else 0.0,
                            "max_score": float(grade.max_score),
                            "needs_manual_grade": bool(submission and grade.needs_manual_grade),
                            "submitted": submission is not None,
                        })
    return pd.DataFrame(rows, columns=["student", "assignment", "notebook", "question", "kind", "score",
                                       "max_score", "needs_manual_grade", "submitted"])


def submission_scores(course: Course, assignments: list[str] | None = None) -> pd.DataFrame:
    """One row per trainee x assignment, with nbgrader's own figures: raw score, late penalty and
    the score after it (as nbgrader's feedback and ``nbgrader export`` compute it)."""
    rows = []
    with Gradebook(course.db_url, course.course_id) as gb:
        chosen = [a for a in gb.assignments if not assignments or a.name in assignments]
        for student in gb.students:
            for assignment in chosen:
                row = {"student": student.id, "name": display_name(student), "assignment": assignment.name,
                       "duedate": assignment.duedate, "max_score": float(assignment.max_score)}
                try:
                    submission = gb.find_submission(assignment.name, student.id)
                except MissingEntry:
                    row.update(submitted=False, timestamp=None, raw_score=0.0, late_penalty=0.0, score=0.0,
                               to_grade_by_hand=0)
                else:
                    raw, penalty = float(submission.score), float(submission.late_submission_penalty or 0.0)
                    row.update(submitted=True, timestamp=submission.timestamp, raw_score=raw, late_penalty=penalty,
                               score=max(0.0, raw - penalty),
                               to_grade_by_hand=sum(bool(g.needs_manual_grade) for nb in submission.notebooks
                                                    for g in nb.grades))
                rows.append(row)
    return pd.DataFrame(rows, columns=["student", "name", "assignment", "duedate", "submitted", "timestamp",
                                       "raw_score", "late_penalty", "score", "max_score", "to_grade_by_hand"])


def grade_table(course: Course, assignments: list[str] | None = None) -> pd.DataFrame:
    """One row per trainee: score per assignment after late penalties (empty if not submitted),
    penalties, total, maximum, percentage, what was not submitted and what is left to grade by hand."""
    subs = submission_scores(course, assignments)
    if subs.empty:
        return pd.DataFrame(columns=["student", "name", "total", "max_score", "percent"])
    order = list(dict.fromkeys(subs["assignment"]))
    shown = subs.assign(score=subs["score"].where(subs["submitted"]))  # NaN = not submitted, never 0
    table = shown.pivot(index="student", columns="assignment", values="score")[order]
    by_student = subs.groupby("student")
    table.insert(0, "name", by_student["name"].first())
    table["late_penalty"] = by_student["late_penalty"].sum()
    table["total"] = by_student["score"].sum()
    table["max_score"] = by_student["max_score"].sum()
    table["percent"] = (100 * table["total"] / table["max_score"]).round(1)
    missing = subs[~subs["submitted"]].groupby("student")["assignment"].agg(" ".join)
    table["not_submitted"] = missing.reindex(table.index).fillna("")
    table["to_grade_by_hand"] = by_student["to_grade_by_hand"].sum().astype(int)
    return table.reset_index().rename_axis(columns=None)


def export(course: Course, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    table = grade_table(course)
    csv, xlsx = out_dir / "grades.csv", out_dir / "grades.xlsx"
    table.to_csv(csv, index=False, encoding="utf-8-sig")  # BOM: Excel opens Chinese names correctly
    with pd.ExcelWriter(xlsx) as writer:
        table.to_excel(writer, sheet_name="grades", index=False)
        cell_scores(course).to_excel(writer, sheet_name="by question", index=False)
    return [csv, xlsx]
