"""Grades out of nbgrader's gradebook as pandas tables, and `kefu export` (CSV + Excel)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from nbgrader.api import Gradebook, MissingEntry

from .course import Course


def cell_scores(course: Course, assignments: list[str] | None = None) -> pd.DataFrame:
    """One row per trainee x graded cell: the long table every report is built from."""
    rows = []
    with Gradebook(course.db_url, course.course_id) as gb:
        names = assignments or [a.name for a in gb.assignments]
        for student in gb.students:
            for assignment in names:
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
                            "question": grade.name,
                            "kind": "manual" if cell.cell_type == "markdown" else "auto",
                            "score": float(grade.score) if submission else 0.0,
                            "max_score": float(grade.max_score),
                            "needs_manual_grade": bool(submission and grade.needs_manual_grade),
                            "submitted": submission is not None,
                        })
    return pd.DataFrame(rows, columns=["student", "assignment", "question", "kind", "score", "max_score",
                                       "needs_manual_grade", "submitted"])


def grade_table(course: Course, assignments: list[str] | None = None) -> pd.DataFrame:
    """One row per trainee: score per assignment, total, maximum and percentage."""
    cells = cell_scores(course, assignments)
    if cells.empty:
        return pd.DataFrame(columns=["student", "total", "max_score", "percent"])
    scores = cells.pivot_table(index="student", columns="assignment", values="score", aggfunc="sum")
    maxima = cells.groupby("assignment")["max_score"].sum() / cells["student"].nunique()
    table = scores.copy()
    table["total"] = scores.sum(axis=1)
    table["max_score"] = float(maxima.sum())
    table["percent"] = (100 * table["total"] / table["max_score"]).round(1)
    table["to_grade_by_hand"] = cells.groupby("student")["needs_manual_grade"].sum().astype(int)
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
