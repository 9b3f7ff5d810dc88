"""Release every assignment of schedule.toml into the course's own exchange folder.

One machine, one course: scripts/start.sh runs this before JupyterLab starts, so a trainee's
Nbgrader > Assignment List finds the assignments (fetch, submit) and the instructor's
`nbgrader collect` + `kefu grade` grade what was submitted. It is the instructor's own
`kefu release-week N` for every week (toolkit.grading.exchange.release_week: generate if the
gradebook lacks the assignment, set the due date, release), so assignments already in the
exchange stay as they are and a second start only checks.

Usage: python scripts/local_exchange.py EXCHANGE_ROOT
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: local_exchange.py EXCHANGE_ROOT", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))  # the toolkit of this checkout, even without an install
    from toolkit.grading.course import Course
    from toolkit.grading.exchange import SCHEDULE_FILE, ScheduleError, load_schedule, release_week

    exchange = Path(argv[0]).resolve()
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
