"""``kefu grade``: autograde every submission of an assignment in parallel with nbgrader.

nbgrader's autograde is serial and its SQLite gradebook does not take concurrent writers.
So ``workers`` warm processes (worker.py), forked once, each grade one submission after another
with nbgrader's own ``NbGraderAPI.autograde`` against a PRIVATE SQLite gradebook (a copy of a
template holding the assignment); as each submission ends its worker sends the rows nbgrader
wrote and the parent copies them into the course gradebook, one writer. The course gradebook
ends up as serial ``nbgrader autograde`` would leave it, a killed run keeps every result
finished before, and a submission over its time limit is killed with its worker (which is
replaced) and scored 0 while the others go on.

nbgrader never sees the trainee's folder: each submission is first copied (by its worker) into a private
staging folder by ``safe_files.copy_submission`` (no link followed, FIFOs and devices refused,
hard links to files outside dropped) and nbgrader grades that copy. A notebook that was a
link counts as missing. Submissions nbgrader cannot read (not JSON, not a notebook) are never
handed to it either. Both get zero for every cell, as nbgrader does for a missing notebook, and
the summary says why.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

from .course import Course, describe_tampering, restore_metadata
from .safe_files import UnsafeSubmission, copy_submission, open_folder, printable

NOTES_SHOWN = 600  # characters of notes per summary row (every note is also in the Outcome)


@dataclass
class Outcome:
    """What happened to one trainee's submission."""

    student: str
    # "graded" | "failed" | "timed out" (nbgrader ran) or, scored 0 without running nbgrader:
    # "refused" (the folder is a link), "missing" (no notebook, or only a linked one), "unreadable"
    status: str
    score: float = 0.0  # autograded points (code cells)
    max_score: float = 0.0  # autogradable points
    by_hand: float = 0.0  # points of the manually graded tasks, still to be given in formgrader
    notes: list[str] = field(default_factory=list)
    timestamp: datetime | None = None  # the submission's timestamp.txt


DEFAULT_TIMEOUT = 600.0  # seconds per submission; an honest one takes a few


# ----------------------------------------------------------------------------- workers
#
# ``workers`` warm processes, forked after nbgrader and the checkers are imported and warmed.
# Each stages and grades one submission after another into its own private gradebook (worker.py)
# and sends back the rows nbgrader wrote; the parent, the course gradebook's only writer, copies
# them in as they arrive. A worker running one submission past the time limit is killed with
# everything it started (its own process group) and replaced; the others go on.


@dataclass
class _Slot:
    """One worker process and the submission it is grading (None: idle)."""

    process: multiprocessing.process.BaseProcess
    conn: object
    student: str | None = None
    started: float = 0.0


def _watch_parent(parent: int) -> None:
    """A worker whose ``kefu grade`` was killed stops too (a kernel follows it: ipykernel polls its parent)."""
    import threading

    def poll():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(3)

    threading.Thread(target=poll, daemon=True).start()


def _worker_main(conn, course: Course, assignment: str, db_path: str, staged_root: str, log_path: str,
                 parent: int) -> None:
    """In the forked worker: serve submissions until the parent says stop."""
    os.setsid()  # its own process group: a timed-out worker is killed with everything it started
    _watch_parent(parent)
    # Kernels (KEFU_EXECUTOR=kernel) inherit stderr and chatter on it; keep the terminal for the summary.
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 2)
    warnings.filterwarnings("ignore", category=SAWarning)
    from .worker import serve

    serve(conn, course, assignment, Path(db_path), Path(staged_root))


_IMPORTS = re.compile(r"^\s*(?:from\s+(toolkit[\w.]*)\s+import|import\s+(toolkit[\w.]*))", re.MULTILINE)


def _warm(course: Course, assignment: str) -> None:
    """Do in the parent, once, what every worker would otherwise do for itself after its fork: import
    nbgrader and the modules the assignment's own cells import, and make the checkers build their
    matchers and load the word segmenter (~0.4 s a process otherwise)."""
    import importlib

    import nbconvert.exporters  # noqa: F401
    import nbgrader.converters  # noqa: F401
    import nbgrader.preprocessors  # noqa: F401

    from .. import checks
    from ..exercise import question  # noqa: F401  (the tests' Question)
    from . import worker  # noqa: F401

    for path in course.source_notebooks(assignment):  # the instructor's notebooks: trusted
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                for found in _IMPORTS.finditer(cell.source):
                    importlib.import_module(found.group(1) or found.group(2))
    customer, reply = "我的快递三天了还没到，怎么回事？", "很抱歉让您久等了，我马上帮您查询，十分钟内给您回电。"
    checks.review_reply(reply, customer=customer)
    checks.find_forbidden(reply)
    checks.classify_question("您能说说具体的情况吗？")
    checks.spin_type("如果网速变快了，对您开视频会议有什么帮助？")
    checks.three_f("我理解您的感受，很多客户也有同感，后来他们发现这样更方便。")
    checks.complaint_type(customer)
    checks.fab_order(["这款路由器支持双频", "所以信号更稳定", "您晚上开会就不卡了"])


# ----------------------------------------------------------------------------- gradebook copy


def _copy_results(dst: Gradebook, assignment: str, result) -> None:
    """Copy what autograde wrote for one submission (a worker's Result) into ``dst`` (not committed).

    The rows are nbgrader's (its own calls create the student and submission as autograde would);
    the scores go in as one UPDATE (executemany) per table by primary key, not one ORM load per grade.
    """
    from nbgrader import utils
    from nbgrader.api import Assignment, BaseCell, Comment, Grade, Notebook, SubmittedAssignment, SubmittedNotebook
    from sqlalchemy import bindparam, select, update

    student, db = result.student, dst.db
    submission_id = db.execute(select(SubmittedAssignment.id).join(Assignment, SubmittedAssignment.assignment_id
                                                                   == Assignment.id)
                               .where(Assignment.name == assignment, SubmittedAssignment.student_id == student)
                               ).scalar()
    if submission_id is None:  # new here: nbgrader makes the student, the submission and all its rows
        try:
            dst.find_student(student)
        except MissingEntry:
            dst.update_or_create_student(student)
        submission_id = dst.update_or_create_submission(assignment, student, timestamp=result.submitted).id
    else:  # what nbgrader's update_or_create_submission sets on an existing one
        table = SubmittedAssignment.__table__
        db.execute(update(table).where(table.c.id == submission_id).values(
            timestamp=utils.parse_utc(result.submitted)))
    notebooks = dict(db.execute(select(Notebook.name, SubmittedNotebook.id)
                                .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
                                .where(SubmittedNotebook.assignment_id == submission_id)).all())
    changes = {SubmittedNotebook: [], Grade: [], Comment: []}
    for name, copied in result.notebooks.items():
        notebook_id = notebooks[name]
        changes[SubmittedNotebook].append({"id": notebook_id, "flagged": copied["flagged"],
                                           "late_submission_penalty": copied["late"]})
        grades = {cell: (grade_id, manual) for grade_id, cell, manual in db.execute(
            select(Grade.id, BaseCell.name, Grade.manual_score).join(BaseCell, Grade.cell_id == BaseCell.id)
            .where(Grade.notebook_id == notebook_id))}
        for cell, auto_score in copied["grades"].items():
            grade_id, manual = grades[cell]
            # nbgrader's SaveAutoGrades rule, applied against the course gradebook's manual score.
            changes[Grade].append({"id": grade_id, "auto_score": auto_score,
                                   "needs_manual_grade": manual is not None or auto_score is None})
        comments = dict(db.execute(select(BaseCell.name, Comment.id).join(BaseCell, Comment.cell_id == BaseCell.id)
                                   .where(Comment.notebook_id == notebook_id)).all())
        for cell, auto_comment in copied["comments"].items():
            changes[Comment].append({"id": comments[cell], "auto_comment": auto_comment})
    db.flush()
    for model, rows in changes.items():
        if rows:  # one executemany per table
            table = model.__table__
            db.execute(update(table).where(table.c.id == bindparam("row_id")).values(
                {key: bindparam(key) for key in rows[0] if key != "id"}),
                [{**{k: v for k, v in row.items() if k != "id"}, "row_id": row["id"]} for row in rows])


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
    dst.db.flush()


# ----------------------------------------------------------------------------- staging


def _read(path: Path):
    """(notebook, None) if nbgrader can read it, else (None, the reason, for the instructor)."""
    try:
        nb = nbformat.read(str(path), as_version=4)
        nbformat.validate(nb)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, f"not a JSON notebook ({type(exc).__name__}: {str(exc)[:80]})"
    except nbformat.ValidationError as exc:
        return None, f"invalid notebook structure ({exc.message[:80]})"
    except Exception as exc:  # nbformat raises many kinds for garbage input
        return None, f"unreadable notebook ({type(exc).__name__}: {str(exc)[:80]})"
    return nb, None


def stage(course: Course, assignment: str, student: str, staged_root: Path,
          released: dict | None = None) -> tuple[str | None, list[str]]:
    """Copy one submission into ``staged_root`` without following any link; (status, notes).

    status None: ready for nbgrader; "refused"/"missing"/"unreadable": scored 0 without nbgrader.
    ``released``: the released notebooks already parsed ({name: notebook or None}); read if not given.
    """
    notes = course.collect_notes(assignment, student)
    notebooks = {p.name for p in course.source_notebooks(assignment)}
    dest = staged_root / student / assignment
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        refused = copy_submission(open_folder(course.root / "submitted", student, assignment), dest)
    except (UnsafeSubmission, OSError) as exc:
        return "refused", notes + [f"submission refused: {exc}"]
    for entry in refused:
        if "/" not in entry.path and entry.path in notebooks:
            notes.append(f"{entry}: notebook scored as missing")
        else:
            notes.append(f"{entry}: dropped")
    present = sorted(name for name in notebooks if (dest / name).is_file())
    if not present:
        if not any(n.endswith("scored as missing") for n in notes):
            notes.append(f"no notebook submitted ({', '.join(sorted(notebooks))} missing)")
        return "missing", notes
    problems = []
    for name in present:
        nb, why = _read(dest / name)
        if why:
            problems.append(f"{name}: {why}")
            continue
        if released is not None:
            original = released.get(name)
        else:
            try:
                original = nbformat.read(course.root / "release" / assignment / name, as_version=4)
            except (OSError, ValueError):
                original = None
        if original is None:
            continue  # no released notebook to compare with: nbgrader's own checks only
        notes += describe_tampering(nb, original)
        if restore_metadata(nb, original):  # else nbgrader fails the notebook on a checksum
            nbformat.write(nb, dest / name)
    if problems:
        return "unreadable", notes + problems
    return None, notes


# ----------------------------------------------------------------------------- the command


def _kill(process) -> None:
    """SIGKILL a worker and everything in its process group (nbgrader's kernel follows its parent)."""
    import signal

    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.join()


def grade(course: Course, assignment: str, workers: int | None = None, progress: bool = True,
          timeout: float | None = None, only: list[str] | None = None) -> list[Outcome]:
    """Autograde all submissions of ``assignment``; return one Outcome per trainee.

    Each trainee's result is in the course gradebook as soon as it arrives, so a run that is
    interrupted keeps what it graded. A submission taking longer than ``timeout`` seconds (default
    DEFAULT_TIMEOUT, env KEFU_GRADE_TIMEOUT) is stopped, reported "timed out" and scored 0.
    ``only`` limits the run to those trainees.
    """
    from multiprocessing.connection import wait
    from tqdm import tqdm

    from .worker import Result

    warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's own session use, harmless
    workers = workers or os.cpu_count() or 1
    if workers < 1:
        raise SystemExit(f"the number of workers must be at least 1, not {workers}")
    if timeout is None:
        try:
            timeout = float(os.environ.get("KEFU_GRADE_TIMEOUT") or DEFAULT_TIMEOUT)
        except ValueError:
            raise SystemExit(f"KEFU_GRADE_TIMEOUT={os.environ['KEFU_GRADE_TIMEOUT']!r} is not a number of seconds")
    if not timeout > 0:
        raise SystemExit(f"the time limit per submission must be a positive number of seconds, not {timeout:g}")
    if assignment not in course.assignments():
        raise SystemExit(f"unknown assignment {assignment!r}: source/ has {', '.join(course.assignments()) or 'none'}")
    students = course.submitted_students(assignment)
    if not students:
        raise SystemExit(f"no submissions found in {course.root / 'submitted'}/*/{assignment}/")
    if only is not None:  # `kefu grade --watch`: the new or changed submissions only
        students = [s for s in students if s in set(only)]
    course.ensure_assignment(assignment)

    outcomes: dict[str, Outcome] = {}
    # Worker gradebooks are private scratch copies: in memory-backed /dev/shm where there is one, so
    # their many small commits cost no disk syncs. Staged submissions (any size) stay on disk.
    scratch = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="kefu-grade-", dir=scratch) as work_dir, \
            tempfile.TemporaryDirectory(prefix="kefu-stage-") as stage_dir:
        work = Path(work_dir)
        staged_root = Path(stage_dir) / "submitted"
        staged_root.mkdir()
        template = str(course.template_gradebook(assignment, work))
        _warm(course, assignment)
        context = multiprocessing.get_context("fork")
        queue, slots, started = list(reversed(students)), [], 0
        dst: Gradebook | None = None  # the course gradebook, closed at every fork

        def start_worker() -> _Slot:
            nonlocal started, dst
            if dst is not None:  # no database connection is open at any fork
                dst.db.commit()
                dst.close()
                dst = None
            db_path = work / f"worker-{started}.db"
            shutil.copy(template, db_path)
            mine, theirs = context.Pipe()
            process = context.Process(target=_worker_main, daemon=False, args=(
                theirs, course, assignment, str(db_path), str(staged_root), str(work / f"worker-{started}.log"),
                os.getpid()))
            process.start()
            theirs.close()
            started += 1
            return _Slot(process, mine)

        def dispatch(slot: _Slot) -> None:
            slot.student = queue.pop() if queue else None
            if slot.student is not None:
                slot.started = time.monotonic()
                slot.conn.send(slot.student)

        def record(result: Result) -> None:
            nonlocal dst
            if dst is None:
                dst = Gradebook(course.db_url, course.course_id)
            # nbgrader's Gradebook methods commit after each change (a disk sync each); here they
            # only flush, and each round of results is committed once below.
            dst.db.commit = dst.db.flush
            try:
                if result.status == "graded":
                    _copy_results(dst, assignment, result)
                else:
                    _zero_submission(dst, assignment, result.student, result.timestamp)
            finally:
                del dst.db.commit
            outcomes[result.student] = Outcome(result.student, result.status, notes=result.notes + result.removed,
                                               timestamp=result.timestamp)  # removed: "code removed: …" already
            bar.update()

        bar = tqdm(total=len(students), desc=f"grading {assignment}", unit="submission", disable=not progress)
        try:
            while queue or any(slot.student for slot in slots):
                while queue and len(slots) < workers:
                    slots.append(start_worker())
                    dispatch(slots[-1])
                busy = [slot for slot in slots if slot.student is not None]
                deadline = min(slot.started + timeout for slot in busy)
                wait([slot.conn for slot in busy] + [slot.process.sentinel for slot in busy],
                     timeout=max(0.05, deadline - time.monotonic()))
                for slot in busy:
                    student, result = slot.student, None
                    if slot.conn.poll():
                        try:
                            result = slot.conn.recv()
                        except (EOFError, OSError):
                            pass
                    if result is not None:
                        dispatch(slot)  # the next submission goes out before this one is written
                        record(result)
                        continue
                    if slot.process.exitcode is not None or slot.conn.closed:
                        slot.process.join()
                        note = f"grading process exited with code {slot.process.exitcode}"
                        result = Result(student, "failed", [note])
                    elif time.monotonic() - slot.started > timeout:
                        _kill(slot.process)
                        result = Result(student, "timed out", [
                            f"grading took longer than {timeout:g} s: stopped, scored 0 (limit: --timeout)"])
                    else:
                        continue
                    result.timestamp = course.timestamp(assignment, student, folder=staged_root / student / assignment)
                    slot.conn.close()
                    slots.remove(slot)
                    record(result)
                if dst is not None:
                    dst.db.commit()  # every result that has arrived is in the course gradebook now
                    dst.db.close()  # and the session forgets its objects (its flushes stay short)
        finally:
            for slot in slots:
                try:
                    slot.conn.send(None)
                except OSError:
                    pass
            for slot in slots:
                slot.process.join(5)
                if slot.process.exitcode is None:
                    _kill(slot.process)
            if dst is not None:
                dst.db.commit()
                dst.close()
            bar.close()

    with Gradebook(course.db_url, course.course_id) as dst:
        scores = {row["student"]: row for row in dst.submission_dicts(assignment)}
        for outcome in outcomes.values():
            row = scores.get(outcome.student)
            if row is None:
                submission = dst.find_submission(assignment, outcome.student)
                row = {"code_score": submission.code_score, "max_code_score": submission.max_code_score,
                       "max_written_score": submission.max_written_score}
            outcome.score, outcome.max_score = row["code_score"], row["max_code_score"]
            outcome.by_hand = row["max_written_score"]
    return [outcomes[s] for s in students]


def summary_table(outcomes: list[Outcome]) -> str:
    rows = [("trainee", "status", "autograded", "notes")]
    for o in outcomes:
        notes = "; ".join(o.notes) if o.notes else "-"
        if len(notes) > NOTES_SHOWN:
            notes = notes[: NOTES_SHOWN - 20] + f"… ({len(o.notes)} notes)"
        rows.append((printable(o.student, 40), o.status, f"{o.score:g}/{o.max_score:g}", notes))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows]
    lines.insert(1, "-" * min(120, len(lines[0])))
    graded = sum(o.status == "graded" for o in outcomes)
    lines.append(f"{len(outcomes)} submissions: {graded} graded, {len(outcomes) - graded} not gradable "
                 f"(scored 0); {sum(o.status == 'graded' and any(n.startswith('code removed:') for n in o.notes) for o in outcomes)}"
                 " had code removed")
    by_hand = max((o.by_hand for o in outcomes), default=0)
    if by_hand:
        lines.append(f"plus {by_hand:g} points per trainee of manually graded tasks: grade them in formgrader")
    return "\n".join(lines)
