"""``kefu grade``: autograde every submission of an assignment in parallel with nbgrader.

nbgrader's autograde is serial and its SQLite gradebook does not take concurrent writers.
So each worker process runs nbgrader's own ``NbGraderAPI.autograde`` per trainee against a
PRIVATE SQLite gradebook (a copy of a template holding the assignment), and the parent then
copies each trainee's results into the course gradebook, one writer, in a single process.
The course gradebook ends up as serial ``nbgrader autograde`` would leave it.

Submissions nbgrader cannot read (not JSON, not a notebook) are never handed to it: they get
zero for every cell, as nbgrader does for a missing notebook, and the summary says why.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import tempfile
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from sqlalchemy.exc import SAWarning

from .course import Course


@dataclass
class Outcome:
    """What happened to one trainee's submission."""

    student: str
    status: str  # "graded" | "unreadable" | "failed"
    score: float = 0.0  # autograded points (code cells)
    max_score: float = 0.0  # autogradable points
    by_hand: float = 0.0  # points of the manually graded tasks, still to be given in formgrader
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- workers

_worker: dict = {}


def _init_worker(course_root: str, template_db: str, work_dir: str) -> None:
    """Per process: a private gradebook copied from the template, and nbgrader's API on it."""

    db_path = Path(work_dir) / f"worker-{os.getpid()}.db"
    shutil.copy(template_db, db_path)
    # Kernels inherit stderr and chatter on it; keep the instructor's terminal for the summary.
    log = os.open(Path(work_dir) / f"worker-{os.getpid()}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(log, 2)
    warnings.filterwarnings("ignore", category=SAWarning)
    _reuse_engines()
    course = Course(Path(course_root))
    config = course.nbgrader_config(db_url=f"sqlite:///{db_path}")
    coursedir = CourseDirectory(config=config)
    _worker.update(api=NbGraderAPI(coursedir=coursedir, config=config), db_url=f"sqlite:///{db_path}")


def _reuse_engines() -> None:
    """One SQLAlchemy engine per gradebook URL for this worker's life.

    nbgrader opens a new Gradebook, hence a new engine, for every submission it grades, so
    every SQL statement is compiled again each time: with a kernel-free executor that is the
    largest cost left. The worker only ever talks to its own private gradebook, so sharing the
    engine (and its statement cache) across submissions changes nothing but the time.
    """
    import functools

    import nbgrader.api

    if not hasattr(nbgrader.api.create_engine, "cache_info"):
        nbgrader.api.create_engine = functools.lru_cache(maxsize=8)(nbgrader.api.create_engine)


# nbgrader log lines worth telling the instructor (it repairs these; we name them).
_NOTABLE = ("Missing grade cell", "exists multiple times", "Cell type", "cell type", "Missing solution cell")


def _grade_one(assignment: str, student: str) -> tuple[str, str, bool, str, list[str]]:
    result = _worker["api"].autograde(assignment, student, force=True, create=True)
    log = result.get("log") or ""
    notes = [f"nbgrader: {line.split('] ', 1)[-1].strip()}" for line in log.splitlines()
             if "[WARNING]" in line and any(key in line for key in _NOTABLE)]
    return student, _worker["db_url"], bool(result.get("success")), result.get("error") or "", notes


# ----------------------------------------------------------------------------- gradebook copy


def _copy_results(src: Gradebook, dst: Gradebook, assignment: str, student: str) -> None:
    """Copy what autograde wrote for one submission from a worker gradebook into ``dst``."""
    submission = src.find_submission(assignment, student)
    try:
        dst.find_student(student)
    except MissingEntry:
        dst.update_or_create_student(student)
    dst.update_or_create_submission(assignment, student, timestamp=submission.timestamp)
    for notebook in submission.notebooks:
        target_nb = dst.find_submission_notebook(notebook.name, assignment, student)
        target_nb.flagged = notebook.flagged
        target_nb.late_submission_penalty = notebook.late_submission_penalty
        for grade in notebook.grades:
            target_grade = dst.find_grade(grade.name, notebook.name, assignment, student)
            target_grade.auto_score = grade.auto_score
            # nbgrader's SaveAutoGrades rule, applied against the course gradebook's manual score.
            target_grade.needs_manual_grade = target_grade.manual_score is not None or grade.auto_score is None
        for comment in notebook.comments:
            dst.find_comment(comment.name, notebook.name, assignment, student).auto_comment = comment.auto_comment
    dst.db.commit()


def _zero_submission(dst: Gradebook, assignment: str, student: str, timestamp=None) -> None:
    """nbgrader's treatment of a missing notebook: every cell scores zero, nothing to grade by hand."""
    try:
        dst.find_student(student)
    except MissingEntry:
        dst.update_or_create_student(student)
    submission = dst.update_or_create_submission(assignment, student, timestamp=timestamp)
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            grade.auto_score = 0
            grade.needs_manual_grade = False
    dst.db.commit()


# ----------------------------------------------------------------------------- the command


def _readable(path: Path) -> str | None:
    """None if nbgrader can read the notebook, else the reason (English, for the instructor)."""
    try:
        nb = nbformat.read(str(path), as_version=4)
        nbformat.validate(nb)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return f"not a JSON notebook ({type(exc).__name__}: {str(exc)[:80]})"
    except nbformat.ValidationError as exc:
        return f"invalid notebook structure ({exc.message[:80]})"
    except Exception as exc:  # nbformat raises many kinds for garbage input
        return f"unreadable notebook ({type(exc).__name__}: {str(exc)[:80]})"
    return None


def grade(course: Course, assignment: str, workers: int | None = None, progress: bool = True) -> list[Outcome]:
    """Autograde all submissions of ``assignment``; return one Outcome per trainee."""
    from tqdm import tqdm

    warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's own session use, harmless
    workers = workers or os.cpu_count() or 1
    if assignment not in course.assignments():
        raise SystemExit(f"unknown assignment {assignment!r}: source/ has {', '.join(course.assignments()) or 'none'}")
    students = course.submitted_students(assignment)
    if not students:
        raise SystemExit(f"no submissions found in {course.root / 'submitted'}/*/{assignment}/")
    course.ensure_assignment(assignment)

    outcomes: dict[str, Outcome] = {}
    gradable = []
    for student in students:
        problems = [f"{p.name}: {why}" for p in course.submitted_notebooks(assignment, student) if (why := _readable(p))]
        if problems:
            outcomes[student] = Outcome(student, "unreadable", notes=problems)
        else:
            gradable.append(student)

    # Worker gradebooks are private scratch copies: in memory-backed /dev/shm where there is one,
    # so their many small commits cost no disk syncs.
    scratch = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="kefu-grade-", dir=scratch) as work_dir:
        template = course.template_gradebook(assignment, Path(work_dir))
        finished: list[tuple[str, str, bool, str, list[str]]] = []
        if gradable:
            # fork: workers start with nbgrader already imported (~2.5 s each saved). Safe here: the
            # parent holds no open database connection or ZeroMQ socket at this point.
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(min(workers, len(gradable)), mp_context=context, initializer=_init_worker,
                                     initargs=(str(course.root), str(template), work_dir)) as pool:
                futures = [pool.submit(_grade_one, assignment, s) for s in gradable]
                for future in tqdm(as_completed(futures), total=len(futures), desc=f"grading {assignment}",
                                   unit="submission", disable=not progress):
                    finished.append(future.result())

        # One writer: copy every worker's results into the course gradebook.
        with Gradebook(course.db_url, course.course_id) as dst:
            for student, db_url, success, error, notes in sorted(finished):
                if success:
                    with Gradebook(db_url) as src:
                        _copy_results(src, dst, assignment, student)
                    outcomes[student] = Outcome(student, "graded", notes=notes)
                else:
                    _zero_submission(dst, assignment, student, course.timestamp(assignment, student))
                    last = [line for line in error.strip().splitlines() if line.strip()][-1:] or ["unknown error"]
                    outcomes[student] = Outcome(student, "failed", notes=[f"nbgrader autograde failed: {last[0][:120]}"])
            for student, outcome in outcomes.items():
                if outcome.status == "unreadable":
                    _zero_submission(dst, assignment, student, course.timestamp(assignment, student))
            for outcome in outcomes.values():
                submission = dst.find_submission(assignment, outcome.student)
                outcome.score, outcome.max_score = submission.code_score, submission.max_code_score
                outcome.by_hand = submission.max_written_score
                outcome.notes += course.sanitiser_notes(assignment, outcome.student)
                if outcome.status == "graded":
                    outcome.notes += course.tampering(assignment, outcome.student)
    return [outcomes[s] for s in students]


def summary_table(outcomes: list[Outcome]) -> str:
    rows = [("trainee", "status", "autograded", "notes")]
    for o in outcomes:
        notes = "; ".join(o.notes) if o.notes else "-"
        rows.append((o.student, o.status, f"{o.score:g}/{o.max_score:g}", notes if len(notes) <= 100 else notes[:97] + "..."))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows]
    lines.insert(1, "-" * min(120, len(lines[0])))
    graded = sum(o.status == "graded" for o in outcomes)
    lines.append(f"{len(outcomes)} submissions: {graded} graded, {len(outcomes) - graded} not gradable "
                 f"(scored 0); {sum(bool(o.notes) and o.status == 'graded' for o in outcomes)} had code removed")
    by_hand = max((o.by_hand for o in outcomes), default=0)
    if by_hand:
        lines.append(f"plus {by_hand:g} points per trainee of manually graded tasks: grade them in formgrader")
    return "\n".join(lines)
