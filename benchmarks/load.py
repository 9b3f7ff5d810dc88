"""Load: N trainees submit at once through nbgrader's exchange, and the PostgreSQL gradebook takes
their submissions at once; prints submissions/s and any lost or duplicated submission.

Everything stays on this machine: the exchange is a temporary folder and PostgreSQL listens on
127.0.0.1 only (tests/pgserver.py). The run is bounded (N <= 500, a time limit per phase).

    .venv/bin/python benchmarks/load.py [--n 100] [--concurrency 16] [--grade]

Phase 1, exchange: the instructor releases 02_questions; N trainees submit concurrently with
nbgrader's own ExchangeSubmit (each notebook carries its trainee's id); the instructor collects
with ExchangeCollect. Every trainee must be collected exactly once, with their own notebook.
Phase 2, gradebook: N concurrent writers create each trainee and submission in PostgreSQL with
nbgrader's Gradebook API; exactly N submissions must exist afterwards.
Phase 3 (--grade): `kefu grade` autogrades all N collected submissions into PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import nbformat  # noqa: E402
from pgserver import postgres_server  # noqa: E402
from test_grading import new_course, run  # noqa: E402

ASSIGNMENT = "02_questions"
COURSE_ID = "kefu-lab"
_worker: dict = {}


def _config(course: Path, exchange: Path, db_url: str):
    from toolkit.grading.course import Course

    config = Course(course).nbgrader_config(db_url=db_url)
    config.CourseDirectory.course_id = COURSE_ID
    config.Exchange.root = str(exchange)
    return config


def _init(course: str, exchange: str, db_url: str, start_at: float) -> None:
    import warnings

    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)
    _worker.update(config=_config(Path(course), Path(exchange), db_url), course=Path(course))
    import nbgrader.exchange.default.submit  # noqa: F401 - imported before the clock starts, not inside it

    late = time.time() - start_at
    if late > 0:
        print(f"  (a worker was ready {late:.1f} s after the start: the submit figure includes that)")
    time.sleep(max(0.0, start_at - time.time()))  # every worker starts submitting at the same moment


def _submit(student: str) -> tuple[str, bool, str]:
    """One trainee's `nbgrader submit`, through nbgrader's own exchange code."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default.submit import ExchangeSubmit

    work = _worker["course"] / "trainees" / student / ASSIGNMENT
    config = _worker["config"].copy()
    config.CourseDirectory.root = str(work.parent)
    config.CourseDirectory.student_id = student
    config.CourseDirectory.assignment_id = ASSIGNMENT
    config.Exchange.assignment_dir = str(work.parent)  # where the trainee's fetched copy lives
    # Each trainee has their own home and so their own submission cache (sharing one, as all
    # simulated trainees would here, races in nbgrader's os.makedirs of the course cache folder).
    config.Exchange.cache = str(work.parent / ".nbgrader_cache")
    coursedir = CourseDirectory(config=config)
    submit = ExchangeSubmit(coursedir=coursedir, authenticator=Authenticator(config=config), config=config)
    try:
        submit.start()
        return student, True, ""
    except Exception as exc:  # report, never hide: a failed submit counts as lost
        return student, False, f"{type(exc).__name__}: {exc}"


def _record(student: str) -> str:
    """One gradebook write, as collect + autograde make them: student and submission rows."""
    from nbgrader.api import Gradebook

    with Gradebook(_worker["config"].CourseDirectory.db_url, COURSE_ID) as gb:
        gb.update_or_create_student(student, last_name="学员", first_name=student[-3:])
        gb.update_or_create_submission(ASSIGNMENT, student)
    return student


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--grade", action="store_true", help="also autograde all N into PostgreSQL")
    args = parser.parse_args()
    n = max(1, min(args.n, 500))
    students = [f"trainee{i:03d}" for i in range(1, n + 1)]

    with tempfile.TemporaryDirectory(prefix="kefu-load-") as tmp, postgres_server() as db_url:
        course, exchange = new_course(Path(tmp)), Path(tmp) / "exchange"
        exchange.mkdir(mode=0o777)
        os.chmod(exchange, 0o1777)
        env = {"KEFU_DB_URL": db_url}
        for step in (["nbgrader", "generate_assignment", ASSIGNMENT, "--force"],
                     ["nbgrader", "release_assignment", ASSIGNMENT, "--force", f"--Exchange.root={exchange}"]):
            result = run(step, course, **env)
            assert result.returncode == 0, result.stderr[-2000:]
        release = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
        for student in students:  # each trainee's fetched copy, marked with whose it is
            release.metadata["kefu_load_student"] = student
            (course / "trainees" / student / ASSIGNMENT).mkdir(parents=True)
            nbformat.write(release, course / "trainees" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")

        workers = min(args.concurrency, n)
        start_at = time.time() + 15  # time for the workers to import nbgrader first (2 cores, 16 workers)
        with ProcessPoolExecutor(workers, initializer=_init,
                                 initargs=(str(course), str(exchange), db_url, start_at)) as pool:
            results = list(pool.map(_submit, students, timeout=600))
            submit_seconds = time.time() - start_at
            failed = [(s, why) for s, ok, why in results if not ok]

            # The simulated trainees are one account, so file ownership cannot tell them apart:
            # kefu's owner check (OwnerCheckedCollect) is off here; the notebook's own id is checked below.
            result = run(["nbgrader", "collect", ASSIGNMENT, f"--Exchange.root={exchange}",
                          "--ExchangeCollect.check_owner=False"], course, **env)
            assert result.returncode == 0, result.stderr[-2000:]
            collected = sorted(p.parent.name for p in (course / "submitted").glob(f"*/{ASSIGNMENT}"))
            owners = {s: nbformat.read(course / "submitted" / s / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
                      .metadata.get("kefu_load_student") for s in collected}
            inbound = list((exchange / COURSE_ID / "inbound").iterdir())
            lost = sorted(set(students) - set(collected))
            mixed = sorted(s for s, owner in owners.items() if owner != s)
            duplicated = len(inbound) - n

            start = time.time()
            list(pool.map(_record, students, timeout=600))
            db_seconds = time.time() - start

        from nbgrader.api import Gradebook

        with Gradebook(db_url, COURSE_ID) as gb:
            rows = [s.student_id for s in gb.assignment_submissions(ASSIGNMENT)]
        db_lost, db_duplicated = sorted(set(students) - set(rows)), len(rows) - len(set(rows))

        grade_line = ""
        if args.grade:
            start = time.time()
            result = run([sys.executable, "-m", "toolkit.cli", "grade", ASSIGNMENT, "--quiet"], course, **env)
            assert result.returncode == 0, result.stderr[-2000:]
            graded = len(re.findall(r"^\S+\s+graded\s", result.stdout, flags=re.M))  # summary rows
            grade_line = (f"kefu grade into PostgreSQL: {graded}/{n} graded in {time.time() - start:.1f} s "
                          f"= {graded / (time.time() - start):.2f} submissions/s")

    print(f"{n} trainees, {workers} concurrent submitters, 2 cores")
    print(f"exchange: {n - len(failed)} submitted in {submit_seconds:.1f} s = {(n - len(failed)) / submit_seconds:.1f} "
          f"submissions/s; collected {len(collected)}; lost {len(lost)}; duplicated {duplicated}; "
          f"notebook of another trainee {len(mixed)}")
    for student, why in failed[:5]:
        print(f"  failed submit {student}: {why}")
    print(f"gradebook (PostgreSQL): {n} concurrent student+submission writes in {db_seconds:.1f} s = "
          f"{n / db_seconds:.1f} writes/s; rows {len(rows)}; lost {len(db_lost)}; duplicated {db_duplicated}")
    if grade_line:
        print(grade_line)
    return 0 if not (failed or lost or mixed or duplicated or db_lost or db_duplicated) else 1


if __name__ == "__main__":
    sys.exit(main())
