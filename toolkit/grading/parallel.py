"""``kefu grade``: autograde every submission of an assignment in parallel with nbgrader.

nbgrader's autograde is serial and its SQLite gradebook does not take concurrent writers.
So each submission is graded by nbgrader's own ``NbGraderAPI.autograde`` in a forked process
against a PRIVATE SQLite gradebook (a copy of a template holding the assignment), at most
``workers`` at a time; as soon as a job ends the parent copies its results into the course
gradebook, one writer. The course gradebook ends up as serial ``nbgrader autograde`` would
leave it, a killed run keeps every result finished before, and a job over its time limit is
killed and scored 0 while the others go on.

nbgrader never sees the trainee's folder: each submission is first copied into a private
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
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
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
# One forked process per submission, at most ``workers`` at a time. Each job has its own private
# gradebook (a copy of the template), so the parent may read a finished job's results while other
# jobs still write theirs, and a job that overruns its time limit is killed without harming the
# rest. Forking keeps nbgrader imported (~2.5 s a process saved).


@dataclass
class _Job:
    student: str
    number: int
    db_path: Path
    result_path: Path
    process: multiprocessing.process.BaseProcess | None = None
    started: float = 0.0


def _watch_parent(parent: int) -> None:
    """A job whose ``kefu grade`` was killed stops too (its kernel follows it: ipykernel polls its parent)."""
    import threading

    def poll():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(3)

    threading.Thread(target=poll, daemon=True).start()


def _run_job(course: Course, staged: str, template_db: str, work_dir: str, assignment: str, job: _Job,
             parent: int) -> None:
    """In the forked child: autograde one staged submission into the job's private gradebook."""
    os.setsid()  # its own process group: a timed-out job is killed with everything it started
    _watch_parent(parent)
    # Kernels inherit stderr and chatter on it; keep the instructor's terminal for the summary.
    log = os.open(Path(work_dir) / f"job-{job.number}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 2)
    warnings.filterwarnings("ignore", category=SAWarning)
    _reuse_engines()
    shutil.copy(template_db, job.db_path)
    config = course.nbgrader_config(db_url=f"sqlite:///{job.db_path}")
    config.CourseDirectory.submitted_directory = staged  # the checked copy, never the trainee's files
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    result = api.autograde(assignment, job.student, force=True, create=True)
    text = result.get("log") or ""
    notes = [f"nbgrader: {line.split('] ', 1)[-1].strip()}" for line in text.splitlines()
             if "[WARNING]" in line and any(key in line for key in _NOTABLE)]
    job.result_path.write_text(json.dumps({"success": bool(result.get("success")),
                                           "error": result.get("error") or "", "notes": notes}))


_IMPORTS = re.compile(r"^\s*(?:from\s+(toolkit[\w.]*)\s+import|import\s+(toolkit[\w.]*))", re.MULTILINE)


def _warm(course: Course, assignment: str) -> None:
    """Do in the parent, once, what every job would otherwise do for itself after its fork: import
    nbgrader and the modules the assignment's own cells import, and make the checkers build their
    matchers and load the word segmenter (~0.4 s a job otherwise)."""
    import importlib

    import nbconvert.exporters  # noqa: F401
    import nbgrader.converters  # noqa: F401
    import nbgrader.preprocessors  # noqa: F401

    from .. import checks
    from ..exercise import question  # noqa: F401  (the tests' Question)

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


def _reuse_engines() -> None:
    """One SQLAlchemy engine per gradebook URL for this job's life.

    nbgrader opens a new Gradebook, hence a new engine, several times per submission, so every
    SQL statement is compiled again each time: with a kernel-free executor that is the largest
    cost left. A job only ever talks to its own private gradebook, so sharing the engine (and its
    statement cache) changes nothing but the time. Called in the job, never in the parent, so no
    pooled connection is open at a fork.
    """
    import functools

    import nbgrader.api

    if not hasattr(nbgrader.api.create_engine, "cache_info"):
        nbgrader.api.create_engine = functools.lru_cache(maxsize=8)(nbgrader.api.create_engine)


# nbgrader log lines worth telling the instructor (it repairs these; we name them).
_NOTABLE = ("Missing grade cell", "exists multiple times", "Cell type", "cell type", "Missing solution cell")


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


def _stage(course: Course, assignment: str, student: str, staged_root: Path) -> tuple[str | None, list[str]]:
    """Copy one submission into ``staged_root`` without following any link; (status, notes).

    status None: ready for nbgrader; "refused"/"missing"/"unreadable": scored 0 without nbgrader.
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
        try:
            original = nbformat.read(course.root / "release" / assignment / name, as_version=4)
        except (OSError, ValueError):
            continue  # no released notebook to compare with: nbgrader's own checks only
        notes += describe_tampering(nb, original)
        if restore_metadata(nb, original):  # else nbgrader fails the notebook on a checksum
            nbformat.write(nb, dest / name)
    if problems:
        return "unreadable", notes + problems
    return None, notes


def _kill(process) -> None:
    """SIGKILL a job and everything in its process group (nbgrader's kernel follows its parent)."""
    import signal

    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.join()


def _record(course: Course, assignment: str, job: _Job, outcome: Outcome) -> None:
    """The job is over: its results (or a zero) go into the course gradebook now, one writer."""
    with Gradebook(course.db_url, course.course_id) as dst:
        if outcome.status == "graded":
            with Gradebook(f"sqlite:///{job.db_path}") as src:
                _copy_results(src, dst, assignment, job.student)
        else:
            _zero_submission(dst, assignment, job.student, outcome.timestamp)


def _finish(job: _Job) -> Outcome:
    """What a job that ended by itself produced."""
    try:
        result = json.loads(job.result_path.read_text())
    except (OSError, ValueError):
        return Outcome(job.student, "failed", notes=[f"grading process exited with code {job.process.exitcode}"])
    if result["success"]:
        return Outcome(job.student, "graded", notes=result["notes"])
    last = [line for line in result["error"].strip().splitlines() if line.strip()][-1:] or ["unknown error"]
    return Outcome(job.student, "failed", notes=result["notes"] + [f"nbgrader autograde failed: {last[0][:300]}"])


def grade(course: Course, assignment: str, workers: int | None = None, progress: bool = True,
          timeout: float | None = None, only: list[str] | None = None) -> list[Outcome]:
    """Autograde all submissions of ``assignment``; return one Outcome per trainee.

    Each trainee's result is in the course gradebook as soon as their job ends, so a run that is
    interrupted keeps what it graded. A job running longer than ``timeout`` seconds (default
    DEFAULT_TIMEOUT, env KEFU_GRADE_TIMEOUT) is killed, reported "timed out" and scored 0.
    ``only`` limits the run to those trainees.
    """
    from multiprocessing.connection import wait
    from tqdm import tqdm

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
    # Job gradebooks are private scratch copies: in memory-backed /dev/shm where there is one, so
    # their many small commits cost no disk syncs. Staged submissions (any size) stay on disk.
    scratch = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="kefu-grade-", dir=scratch) as work_dir, \
            tempfile.TemporaryDirectory(prefix="kefu-stage-") as stage_dir:
        work = Path(work_dir)
        staged_root = Path(stage_dir) / "submitted"
        jobs: list[_Job] = []
        for number, student in enumerate(students):
            status, notes = _stage(course, assignment, student, staged_root)
            timestamp = course.timestamp(assignment, student, folder=staged_root / student / assignment)
            if status is None:
                jobs.append(_Job(student, number, work / f"job-{number}.db", work / f"job-{number}.json"))
                outcomes[student] = Outcome(student, "pending", notes=notes, timestamp=timestamp)
            else:
                outcomes[student] = Outcome(student, status, notes=notes, timestamp=timestamp)
        # Not gradable: zero now, like nbgrader's missing notebook.
        with Gradebook(course.db_url, course.course_id) as dst:
            for outcome in outcomes.values():
                if outcome.status != "pending":
                    _zero_submission(dst, assignment, outcome.student, outcome.timestamp)

        template = str(course.template_gradebook(assignment, work))
        _warm(course, assignment)
        context = multiprocessing.get_context("fork")  # no database connection is open at any fork
        waiting, running = list(reversed(jobs)), []
        bar = tqdm(total=len(jobs), desc=f"grading {assignment}", unit="submission", disable=not progress)
        while waiting or running:
            while waiting and len(running) < workers:
                job = waiting.pop()
                job.process = context.Process(target=_run_job, daemon=False, args=(
                    course, str(staged_root), template, work_dir, assignment, job, os.getpid()))
                job.process.start()
                job.started = time.monotonic()
                running.append(job)
            deadline = min(job.started + timeout for job in running)
            wait([job.process.sentinel for job in running], timeout=max(0.05, deadline - time.monotonic()))
            for job in list(running):
                if job.process.exitcode is None:
                    if time.monotonic() - job.started <= timeout:
                        continue
                    _kill(job.process)
                    outcome = Outcome(job.student, "timed out", notes=[
                        f"grading took longer than {timeout:g} s: stopped, scored 0 (limit: --timeout)"])
                else:
                    outcome = _finish(job)
                running.remove(job)
                outcome.notes = outcomes[job.student].notes + outcome.notes
                outcome.timestamp = outcomes[job.student].timestamp
                _record(course, assignment, job, outcome)
                outcomes[job.student] = outcome
                bar.update()
        bar.close()

        with Gradebook(course.db_url, course.course_id) as dst:
            for outcome in outcomes.values():
                submission = dst.find_submission(assignment, outcome.student)
                outcome.score, outcome.max_score = submission.code_score, submission.max_code_score
                outcome.by_hand = submission.max_written_score
                if outcome.status == "graded":
                    outcome.notes += course.sanitiser_notes(assignment, outcome.student)
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
                 f"(scored 0); {sum(bool(o.notes) and o.status == 'graded' for o in outcomes)} had code removed")
    by_hand = max((o.by_hand for o in outcomes), default=0)
    if by_hand:
        lines.append(f"plus {by_hand:g} points per trainee of manually graded tasks: grade them in formgrader")
    return "\n".join(lines)
