"""One warm grading process: stages and autogrades one submission after another with nbgrader.

``kefu grade`` (parallel.py) forks a few of these after importing nbgrader and warming the
checkers once. Each keeps, for its whole life, what plain ``nbgrader autograde`` rebuilds for
every submission: its private SQLite gradebook (a copy of a template holding the assignment)
behind ONE SQLAlchemy engine, so nbgrader's statements are compiled once and its tables are
not re-inspected at every ``Gradebook(...)``; the course's nbgrader config, loaded once; the
released notebooks, parsed once. nbgrader's own ``Autograde`` still does every step and
writes every gradebook row; the worker then reads the rows it wrote for the trainee and hands
them to the parent, which is the course gradebook's only writer.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from sqlalchemy import event
from sqlalchemy.orm import scoped_session, sessionmaker

from .course import Course

FRESH_EVERY = 100  # submissions a worker grades into its private gradebook before starting a fresh one

# nbgrader log lines worth telling the instructor (it repairs these; we name them).
NOTABLE = ("Missing grade cell", "exists multiple times", "Cell type", "cell type", "Missing solution cell")


@dataclass
class Result:
    """What one submission produced in a worker, sent to the parent (picklable)."""

    student: str
    # "graded" | "failed" (nbgrader ran) or "refused" | "missing" | "unreadable" (it did not)
    status: str
    notes: list[str] = field(default_factory=list)
    timestamp: datetime | None = None
    # graded only: {notebook: {"flagged", "late", "grades": {name: auto_score}, "comments": {name: text}}}
    notebooks: dict = field(default_factory=dict)
    submitted: datetime | None = None  # the submission row's timestamp, as nbgrader set it
    removed: list[str] = field(default_factory=list)  # what the sanitiser removed


# ----------------------------------------------------------------------------- one engine


class _Shared:
    url: str | None = None
    engine = None
    sessions = None
    courses: set = set()  # course ids known to be in the gradebook


def _scratch_pragmas(dbapi_connection, _record) -> None:
    """The worker's gradebook is scratch (a killed worker's copy is thrown away): no syncs."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute("PRAGMA journal_mode=MEMORY")
    cursor.close()


class WorkerGradebook(Gradebook):
    """nbgrader's Gradebook; on the worker's own gradebook URL every instance shares one engine.

    nbgrader opens and closes a Gradebook about ten times per submission, and each time builds
    an engine, inspects the tables, runs ``create_all`` and compiles its SQL afresh. On the
    worker's private gradebook the tables are known to exist (it is a copy of a template
    nbgrader made), so an instance here is a new session on the shared engine; queries,
    writes and commits are nbgrader's own. Any other URL gets nbgrader's Gradebook unchanged.
    """

    def __init__(self, db_url: str, course_id: str = "default_course", authenticator=None):
        if db_url != _Shared.url or _Shared.engine is None:
            super().__init__(db_url, course_id, authenticator)
            if db_url == _Shared.url:
                self.db.remove()
                self.engine.dispose()  # reconnect with the pragmas below
                event.listen(self.engine, "connect", _scratch_pragmas)
                _Shared.engine = self.engine
                _Shared.sessions = sessionmaker(autoflush=True, bind=self.engine, future=True)
                _Shared.courses = {course_id}
                self.db = scoped_session(_Shared.sessions)
            return
        self.engine = _Shared.engine
        self.db = scoped_session(_Shared.sessions)
        if course_id not in _Shared.courses:  # nbgrader's check: find, else add, the course row
            self.check_course(course_id=course_id)
            _Shared.courses.add(course_id)
        self.course_id = course_id
        self.authenticator = authenticator

    def close(self) -> None:
        if self.engine is _Shared.engine:
            self.db.remove()  # the connection goes back to the pool; the engine stays
        else:
            super().close()


def share_engine(db_url: str) -> None:
    """Every ``Gradebook`` nbgrader opens in this process on ``db_url`` shares one engine."""
    _Shared.url, _Shared.engine = db_url, None
    for name, module in list(sys.modules.items()):
        if name.startswith("nbgrader.") and getattr(module, "Gradebook", None) is Gradebook:
            module.Gradebook = WorkerGradebook


# ----------------------------------------------------------------------------- the worker


class Worker:
    """Grades the staged submissions of one assignment, one at a time, into its own gradebook."""

    def __init__(self, course: Course, assignment: str, db_path: Path, staged_root: Path):
        from nbgrader.apps import NbGraderAPI
        from nbgrader.converters import Autograde
        from nbgrader.coursedir import CourseDirectory

        self.course, self.assignment, self.staged_root = course, assignment, staged_root
        self.db_path, self.db_url = db_path, f"sqlite:///{db_path}"
        self.template = db_path.with_name(db_path.name + ".template")
        shutil.copy(db_path, self.template)  # the fresh gradebook, to start again from
        self.graded = 0
        share_engine(self.db_url)
        config = course.nbgrader_config(db_url=self.db_url)
        config.CourseDirectory.submitted_directory = str(staged_root)  # the checked copies only
        # nbconvert's own option: validate the notebook once after all of a pass's preprocessors,
        # not after each of them (an invalid notebook still fails the submission).
        config.Exporter.optimistic_validation = True
        self.api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        # nbgrader's Autograde app, built once (NbGraderAPI.autograde builds one per call).
        self.app = Autograde(coursedir=self.api.coursedir, parent=self.api)
        self.app.force, self.app.create_student = True, True
        self.api.coursedir.assignment_id = assignment
        self.released = {}  # notebook name -> parsed released notebook (None: none released)
        for path in course.source_notebooks(assignment):
            try:
                self.released[path.name] = nbformat.read(course.root / "release" / assignment / path.name,
                                                         as_version=4)
            except (OSError, ValueError):
                self.released[path.name] = None

    def grade(self, student: str) -> Result:
        from nbgrader.utils import capture_log

        from .parallel import stage

        status, notes = stage(self.course, self.assignment, student, self.staged_root, self.released)
        folder = self.staged_root / student / self.assignment
        timestamp = self.course.timestamp(self.assignment, student, folder=folder)
        if status is not None:
            return Result(student, status, notes, timestamp)
        self.api.coursedir.student_id = student
        answer = capture_log(self.app)  # as NbGraderAPI.autograde runs it
        text = answer.get("log") or ""
        notes += [f"nbgrader: {line.split('] ', 1)[-1].strip()}" for line in text.splitlines()
                  if "[WARNING]" in line and any(key in line for key in NOTABLE)]
        if not answer.get("success"):
            error = answer.get("error") or ""
            last = [line for line in error.strip().splitlines() if line.strip()][-1:] or ["unknown error"]
            return Result(student, "failed", notes + [f"nbgrader autograde failed: {last[0][:300]}"], timestamp)
        result = Result(student, "graded", notes, timestamp)
        self._read_rows(result)
        result.removed = self.course.sanitiser_notes(self.assignment, student)
        self.graded += 1
        if self.graded % FRESH_EVERY == 0:
            self._fresh_gradebook()
        return result

    def _fresh_gradebook(self) -> None:
        """Start again from the fresh gradebook: nbgrader's lookups (SQLite has no index on its
        foreign keys) slow down as the private gradebook fills (~15 % after 400 submissions).
        Its rows have all been sent to the parent. The engine and its compiled SQL stay."""
        _Shared.engine.dispose()  # no Gradebook is open between submissions
        shutil.copy(self.template, self.db_path)
        _Shared.courses = set()

    def _read_rows(self, result: Result) -> None:
        """What nbgrader's autograde wrote for the trainee, from this worker's gradebook."""
        from nbgrader.api import BaseCell, Comment, Grade, Notebook, SubmittedNotebook
        from sqlalchemy import select

        with WorkerGradebook(self.db_url, self.course.course_id) as gb:
            submission = gb.find_submission(self.assignment, result.student)
            result.submitted = submission.timestamp
            db = gb.db
            for notebook_id, name, flagged, late in db.execute(
                    select(SubmittedNotebook.id, Notebook.name, SubmittedNotebook.flagged,
                           SubmittedNotebook.late_submission_penalty)
                    .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
                    .where(SubmittedNotebook.assignment_id == submission.id)).all():
                result.notebooks[name] = {
                    "flagged": flagged,
                    "late": late,
                    "grades": dict(db.execute(select(BaseCell.name, Grade.auto_score)
                                              .join(BaseCell, Grade.cell_id == BaseCell.id)
                                              .where(Grade.notebook_id == notebook_id)).all()),
                    "comments": dict(db.execute(select(BaseCell.name, Comment.auto_comment)
                                                .join(BaseCell, Comment.cell_id == BaseCell.id)
                                                .where(Comment.notebook_id == notebook_id)).all()),
                }


def serve(conn, course: Course, assignment: str, db_path: Path, staged_root: Path) -> None:
    """The worker's loop: a trainee id in, a Result out, until the parent sends None or goes."""
    worker = Worker(course, assignment, db_path, staged_root)
    while True:
        try:
            student = conn.recv()
        except EOFError:
            return
        if student is None:
            return
        try:
            result = worker.grade(student)
        except Exception as exc:  # this submission fails; the worker goes on with the next
            result = Result(student, "failed", [f"grading failed: {type(exc).__name__}: {str(exc)[:300]}"])
        conn.send(result)
