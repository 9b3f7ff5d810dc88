"""Working days on the real Chinese calendar, for the complaint time limits (seed 003).

Official public holidays and the make-up working days (调休) come from the maintained
``chinese-calendar`` table (2004 to its last published year). For a year the table does not
cover yet, the course falls back to weekends plus the days the instructor lists in
``toolkit/data/calendar.toml``, and says so: a deadline is never refused for want of a table.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache

from . import kb


@cache
def _course_years() -> dict[int, tuple[frozenset[date], frozenset[date]]]:
    """Instructor-listed (holidays, make-up working days) per year, from calendar.toml."""
    years = {}
    for entry in kb.load("calendar")["year"]:
        days = [frozenset(date.fromisoformat(d) for d in entry[key]) for key in ("holidays", "workdays")]
        years[entry["year"]] = (days[0], days[1])
    return years


@cache
def covered(year: int) -> bool:
    """True if the maintained table holds the official schedule of ``year``."""
    import chinese_calendar  # imported here: drills that never compute a deadline do not pay for it

    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def is_working_day(day: date, days_off: frozenset[date] = frozenset()) -> bool:
    """A working day: the official calendar (with 调休) or, past its years, the course's list."""
    if day in days_off:
        return False
    if covered(day.year):
        import chinese_calendar

        return chinese_calendar.is_workday(day)
    holidays, workdays = _course_years().get(day.year, (frozenset(), frozenset()))
    if day in workdays:
        return True
    return day.weekday() < 5 and day not in holidays


def add_working_days(start: datetime, days: int, days_off: frozenset[date] = frozenset()) -> datetime:
    """``start`` moved forward by ``days`` working days (same time of day)."""
    moment = start
    while days > 0:
        moment += timedelta(days=1)
        if is_working_day(moment.date(), days_off):
            days -= 1
    return moment


def calendar_note(start: date, end: date) -> str:
    """A Chinese sentence on which calendar the days between ``start`` and ``end`` came from."""
    missing = [y for y in range(start.year, end.year + 1) if not covered(y)]
    if not missing:
        return "已按国家法定节假日和调休上班日计算。"
    listed = [y for y in missing if y in _course_years()]
    years = "、".join(f"{y} 年" for y in missing)
    source = "周末和课程配置里列出的假日" if listed else "周末（课程配置里还没有列出这一年的假日）"
    return f"内置日历还没有 {years}的官方放假安排，这段时间按{source}计算，请以正式通知为准。"
