"""The nbgrader exchange round trip: what kefu adds to nbgrader's own commands.

nbgrader already moves assignments, submissions and feedback between accounts through its
exchange folder (``release_assignment``, ``fetch_assignment``, ``submit``, ``collect``,
``release_feedback``, ``fetch_feedback``). kefu adds only what nbgrader lacks:

- ``release_week(course, N)`` — "release everything for week N": the assignments and due dates
  of each week come from ``schedule.toml`` in the course folder; each assignment is generated if
  needed, gets its due date in the gradebook and is released to the exchange with nbgrader's own
  ``release_assignment``. Running it again only updates due dates (already released assignments
  stay as they are unless ``force``).
- ``DailyLatePenalty`` — a late-submission plugin for nbgrader's ``AssignLatePenalties``:
  a share of the score per started day late (10 % by default), capped (100 % by default).
  Enable it in nbgrader_config.py with
  ``c.AssignLatePenalties.plugin_class = "toolkit.grading.exchange.DailyLatePenalty"``.
- ``OwnerCheckedCollect`` — nbgrader's ``collect``, but a submission whose files are not owned
  by the trainee it names is refused (nbgrader only logs "cheating attempt?" and collects it,
  so ``nbgrader submit --student OTHER`` would replace another trainee's work), and nothing a
  trainee links to is ever read: symlinks, FIFOs, devices and hard links to files outside the
  submission are refused (``safe_files``), logged, and noted in
  ``submitted/<trainee>/.kefu-collect-<assignment>.txt`` for ``kefu grade``'s summary. Enabled with
  ``c.ExchangeFactory.collect = "toolkit.grading.exchange.OwnerCheckedCollect"``.

See docs/exchange.md for the whole round trip, permissions included.
"""

from __future__ import annotations

import argparse
import glob
import math
import os
import sys
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path

from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float

from .course import Course, collect_notes_name
from .safe_files import UnsafeSubmission, copy_submission, printable

SCHEDULE_FILE = "schedule.toml"


# ----------------------------------------------------------------------------- late policy


class DailyLatePenalty(LateSubmissionPlugin):
    """Take ``percent_per_day`` of the notebook's score per started day late, at most ``max_percent``.

    nbgrader calls this at autograde time with the notebook's score in the gradebook and the
    seconds between the submission's timestamp and the due date (extension included); the penalty
    it returns is stored per notebook and subtracted in the feedback and in nbgrader's exports.
    One second late is one started day. ``grace_minutes`` forgives a short delay entirely.
    """

    percent_per_day = Float(10.0, help="Percent of the score taken per started day late.").tag(config=True)
    max_percent = Float(100.0, help="The penalty never exceeds this percent of the score.").tag(config=True)
    grace_minutes = Float(0.0, help="Submissions at most this many minutes late get no penalty.").tag(config=True)

    def days_late(self, total_seconds_late: float) -> int:
        late = total_seconds_late - 60 * self.grace_minutes
        return math.ceil(late / 86400) if late > 0 else 0

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float | None:
        days = self.days_late(total_seconds_late)
        if not days or not score:
            return None
        percent = min(self.max_percent, self.percent_per_day * days)
        penalty = round(score * percent / 100, 4)
        self.log.info("late penalty for %s: %d started day(s) late, %g%% of %g = %g",
                      student_id, days, percent, score, penalty)
        return penalty


# ----------------------------------------------------------------------------- schedule


# ----------------------------------------------------------------------------- collect


def _owner(path: str) -> str | None:
    import pwd

    try:
        return pwd.getpwuid(os.lstat(path).st_uid).pw_name  # the entry itself, never a link target
    except KeyError:  # a uid without an account
        return None


def _write_notes(path: Path, lines: list[str]) -> None:
    """Replace (or remove) the collect notes kefu grade shows for this submission."""
    if path.is_symlink() or path.exists():
        path.unlink()
    if lines:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("".join(line + "\n" for line in lines))


class OwnerCheckedCollect(ExchangeCollect):
    """``nbgrader collect`` that refuses submissions not owned by the trainee they are filed under."""

    def init_src(self):
        super().init_src()  # paths, due date, and nbgrader's choice of one submission per trainee
        if not self.check_owner:
            return
        honest: dict[str, list[dict]] = {}
        for path in glob.glob(os.path.join(self.inbound_path, f"*+{self.coursedir.assignment_id}+*")):
            record = self._path_to_record(path)
            if self.coursedir.student_id not in ("", "*", record["username"]):
                continue
            owner = _owner(path)
            if owner == record["username"]:
                honest.setdefault(record["username"], []).append(record)
            else:
                self.log.error("Refused %s: filed under %s but submitted by %s (nbgrader submit --student?)",
                               record["filename"], record["username"], owner or "an unknown account")
        # nbgrader's rule on what is left: the latest, or the latest before the due date if asked
        self.src_records = [self._choose(self._sort_by_timestamp(records)) for records in honest.values()]

    def do_copy(self, src, dest, log=None):
        """nbgrader's copy of one submission, without following the trainee's links.

        nbgrader's copytree reads symlinks' targets with the instructor's rights (/etc/shadow,
        the course's source/); here links, FIFOs, devices and hard links to files outside the
        submission are refused and noted next to the collected folder (see safe_files).
        """
        student = Path(dest).parent.name
        notes = Path(dest).parent / collect_notes_name(self.coursedir.assignment_id)
        try:
            refused = copy_submission(src, dest, exclude=self.coursedir.ignore, include=self.coursedir.include,
                                      max_file_size=int(1000 * self.coursedir.max_file_size),
                                      max_total_size=int(1000 * self.coursedir.max_dir_size))
        except UnsafeSubmission as exc:
            self.log.error("Refused the submission of %s: %s", printable(student), exc)
            _write_notes(notes, [f"submission refused: {exc}"])
            return
        for entry in refused:
            self.log.warning("Refused in %s's submission: %s", printable(student), entry)
        _write_notes(notes, [str(entry) for entry in refused])
        if self.coursedir.groupshared:  # nbgrader's group permissions, as its own do_copy sets them
            for folder, _, files in os.walk(dest):
                os.chmod(folder, (os.stat(folder).st_mode | 0o2770) & 0o2777)
                for name in files:
                    path = os.path.join(folder, name)
                    os.chmod(path, (os.stat(path).st_mode | 0o660) & 0o777)

    def _choose(self, records: list[dict]) -> dict:
        if self.duedate is not None and self.before_duedate:
            on_time = [r for r in records if r["timestamp"] <= self.duedate]
            return (on_time or records)[0]
        return records[0]


class ScheduleError(ValueError):
    """schedule.toml is missing, malformed, or names an assignment the course does not have."""


@dataclass(frozen=True)
class Due:
    assignment: str
    due: datetime  # timezone-aware


def _zone(name: str):
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"{SCHEDULE_FILE}: unknown timezone {name!r}") from exc


def _as_due(value, zone, where: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise ScheduleError(f"{where}: {value!r} is not an ISO date-time (e.g. 2026-12-06T23:59:00+08:00)") from exc
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time(23, 59))  # a bare date: due at the end of that day
    if isinstance(value, time) or not isinstance(value, datetime):
        raise ScheduleError(f"{where}: a due date needs a date and a time, got {value!r}")
    return value if value.tzinfo else value.replace(tzinfo=zone)


def load_schedule(path: Path | str) -> dict[int, list[Due]]:
    """Week number -> the assignments released that week with their due dates (aware datetimes)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ScheduleError(f"no {SCHEDULE_FILE} at {path}: it lists each week's assignments and due dates") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ScheduleError(f"{path}: not valid TOML ({exc})") from exc
    zone = _zone(data.get("timezone", "Asia/Shanghai"))
    weeks = data.get("week")
    if not isinstance(weeks, dict) or not weeks:
        raise ScheduleError(f"{path}: no [week.N] tables")
    schedule: dict[int, list[Due]] = {}
    seen: dict[str, int] = {}
    for key, table in weeks.items():
        if not str(key).isdigit() or int(key) < 1:
            raise ScheduleError(f"{path}: [week.{key}]: weeks are numbered 1, 2, 3 …")
        if not isinstance(table, dict) or not table:
            raise ScheduleError(f"{path}: [week.{key}] lists no assignments")
        week = int(key)
        entries = []
        for assignment, value in table.items():
            if assignment in seen:
                raise ScheduleError(f"{path}: {assignment} is scheduled in week {seen[assignment]} and week {week}")
            seen[assignment] = week
            entries.append(Due(assignment, _as_due(value, zone, f"{path}: [week.{key}] {assignment}")))
        schedule[week] = entries
    return schedule


# ----------------------------------------------------------------------------- nbgrader API


def instructor_config(course: Course, exchange_root: str | Path | None = None):
    """The configuration ``nbgrader`` itself would use in the course folder.

    nbgrader's command line reads nbgrader_config.py from every Jupyter config folder
    (``~/.jupyter``, ``/etc/jupyter``, …) and then from the course folder, later ones winning;
    the exchange root usually lives in one of the former. ``exchange_root`` overrides all.
    """
    from jupyter_core.paths import jupyter_config_path
    from traitlets.config import Config
    from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader

    config = Config()
    for folder in reversed(jupyter_config_path()):  # lowest priority first
        for name, loader in (("nbgrader_config.json", JSONFileConfigLoader),
                             ("nbgrader_config.py", PyFileConfigLoader)):
            try:
                if Path(folder, name).is_file():
                    config.merge(loader(name, path=folder).load_config())
            except PermissionError:  # a system folder this account may not read
                continue
    config.merge(course.nbgrader_config())
    if exchange_root is not None:
        config.Exchange.root = str(exchange_root)
    return config


def _api(course: Course, config):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


@dataclass
class Release:
    assignment: str
    due: datetime  # aware
    action: str  # "released" | "re-released" | "already released"
    generated: bool


def _needs_generate(course: Course, assignment: str) -> bool:
    from nbgrader.api import Gradebook, MissingEntry

    if not any((course.root / "release" / assignment).glob("*.ipynb")):
        return True
    with Gradebook(course.db_url, course.course_id) as gb:
        try:
            return not gb.find_assignment(assignment).notebooks
        except MissingEntry:
            return True


def release_week(course: Course, week: int, *, exchange_root: str | Path | None = None, force: bool = False,
                 schedule: Path | str | None = None) -> list[Release]:
    """Generate (if needed), set the due date of, and release every assignment of ``week``.

    Everything is checked before anything is released: an unknown week or an assignment without
    a notebook in source/ stops the command with nothing changed.
    """
    from nbgrader.api import Gradebook
    from nbgrader.utils import capture_log, temp_attrs

    weeks = load_schedule(schedule or course.root / SCHEDULE_FILE)
    if week not in weeks:
        raise ScheduleError(f"week {week} is not in {SCHEDULE_FILE} (weeks: {', '.join(map(str, sorted(weeks)))})")
    missing = [d.assignment for d in weeks[week] if not course.source_notebooks(d.assignment)]
    if missing:
        raise ScheduleError(f"week {week} lists {', '.join(missing)} but source/ has no notebook for "
                            f"{'it' if len(missing) == 1 else 'them'}")

    config = instructor_config(course, exchange_root)
    api = _api(course, config)
    exchange_root = api.exchange.ReleaseAssignment(coursedir=api.coursedir, parent=api).root
    outbound = Path(exchange_root) / course.course_id / "outbound"
    done = []
    for entry in weeks[week]:
        generated = _needs_generate(course, entry.assignment)
        if generated:
            course.generate(entry.assignment)
        with Gradebook(course.db_url, course.course_id) as gb:
            gb.update_or_create_assignment(entry.assignment, duedate=entry.due)  # stored as UTC
        already = (outbound / entry.assignment).is_dir()
        if already and not force:
            done.append(Release(entry.assignment, entry.due, "already released", generated))
            continue
        with temp_attrs(api.coursedir, assignment_id=entry.assignment):
            app = api.exchange.ReleaseAssignment(coursedir=api.coursedir, authenticator=api.authenticator, parent=api)
            app.force = force
            result = capture_log(app)
        if not result.get("success"):
            raise SystemExit(f"nbgrader release_assignment {entry.assignment} failed:\n"
                             f"{result.get('error') or result.get('log')}")
        done.append(Release(entry.assignment, entry.due, "re-released" if already else "released", generated))
    return done


def release_table(week: int, releases: list[Release]) -> str:
    lines = [f"week {week}:"]
    for r in releases:
        due_utc = r.due.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        note = ", generated" if r.generated else ""
        lines.append(f"  {r.assignment:<24} due {r.due.isoformat(timespec='minutes')} ({due_utc})  {r.action}{note}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- commands


def release_week_command(args: argparse.Namespace) -> int:
    """``kefu release-week N [--exchange DIR] [--force] [--root DIR]``."""
    try:
        releases = release_week(Course(args.root), args.week, exchange_root=args.exchange, force=args.force)
    except ScheduleError as exc:
        print(f"release-week: {exc}", file=sys.stderr)
        return 1
    print(release_table(args.week, releases))
    return 0
