"""Release every assignment of schedule.toml into the course's own exchange folder.

One machine, one course: scripts/start.sh runs this before JupyterLab starts, so a trainee's
Nbgrader > Assignment List finds the assignments (fetch, submit) and the instructor's
`nbgrader collect` + `kefu grade` grade what was submitted. It is the instructor's own
`kefu release-week N` for every week (toolkit.grading.exchange.release_week: generate if the
gradebook lacks the assignment, set the due date, release), so assignments already in the
exchange stay as they are. When every assignment of the schedule is already in the exchange,
nothing is imported and nothing changes (a start after the first one costs no nbgrader start-up);
to move a due date or release a regenerated assignment again, run `kefu release-week N
[--force]` as usual.

Usage: python scripts/local_exchange.py EXCHANGE_ROOT
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: local_exchange.py EXCHANGE_ROOT", file=sys.stderr)
        return 2
    exchange = Path(argv[0]).resolve()
    if _all_released(exchange):
        return 0
    sys.path.insert(0, str(ROOT))  # the toolkit of this checkout, even without an install
    from toolkit.grading.course import Course
    from toolkit.grading.exchange import SCHEDULE_FILE, ScheduleError, load_schedule, release_week

    course = Course(ROOT)
    try:
        weeks = load_schedule(course.root / SCHEDULE_FILE)
        releases = [r for week in sorted(weeks) for r in release_week(course, week, exchange_root=exchange)]
    except (ScheduleError, OSError) as exc:
        print(f"[start] could not release the assignments into {exchange}: {exc}", file=sys.stderr)
        return 1
    new = [r.assignment for r in releases if r.action != "already released"]
    print(f"[start] exchange {exchange}: {len(releases)} assignments released"
          + (f" ({len(new)} new: {', '.join(new)})" if new else ""))
    return 0


def _all_released(exchange: Path) -> bool:
    """Every notebook of every assignment of schedule.toml is in the exchange.
    Read with the standard library only: importing nbgrader alone takes seconds."""
    try:
        schedule = tomllib.loads((ROOT / "schedule.toml").read_text(encoding="utf-8"))
        names = [name for week in schedule["week"].values() for name in week]
        course_id = re.search(r'course_id\s*=\s*"([^"]+)"', (ROOT / "nbgrader_config.py").read_text()).group(1)
    except (OSError, KeyError, AttributeError, tomllib.TOMLDecodeError):
        return False  # the full path reports what is wrong
    outbound = exchange / course_id / "outbound"
    for name in names:
        notebooks = list((ROOT / "release" / name).glob("*.ipynb"))
        copies = [outbound / name / nb.name for nb in notebooks]
        if not notebooks or not all(c.is_file() for c in copies):
            return False
    print(f"[start] exchange {exchange}: all {len(names)} assignments already released")
    return True


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
