"""A small SQLite store of drill attempts: (module, item, answer, correct, seconds, at).

The file lives at ``$KEFU_PROGRESS`` or, by default, ``~/.kefu-lab/progress.sqlite3``, so a
trainee's record survives kernel restarts. Practising must never fail because of the store:
if the file is corrupt or cannot be written, the store switches to memory and keeps ONE Chinese
warning for the trainee (``ProgressStore.warning``; :func:`take_warning` hands it out once, and
the drill widgets show it).

Module keys are ``kb.SKILLS + ("capstone", "voice")``. Import-light: sqlite3 and the standard library
(the ``fsrs`` scheduler is imported when a schedule is asked for).

Mastery needs evidence (:data:`MASTERY`, :func:`skills`): a module counts as mastered only after
enough correct answers, given on more than one day, with a high recent accuracy, never after one
lucky answer. What to practise next (:func:`next_to_practise`, :func:`due_items`) comes from the
FSRS spaced-repetition scheduler (the ``fsrs`` package): every drill item is a card, every
attempt a review (correct = Good, wrong = Again), replayed in order from the store.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .kb import SKILLS

__all__ = [
    "MODULES", "ProgressStore", "default_path", "get_store", "record", "attempts", "mastery",
    "next_to_practise", "take_warning", "MASTERY", "Skill", "skills", "due_items",
]

MODULES: tuple[str, ...] = (*SKILLS, "capstone", "voice")  # voice: the voice drill (toolkit.widgets.voice)
ENV_VAR = "KEFU_PROGRESS"
# A module is mastered with at least `min_correct` correct answers, given on at least `min_days`
# different days, and at least `min_recent_rate` correct among the last `recent` attempts.
MASTERY = {"min_correct": 5, "min_days": 2, "recent": 10, "min_recent_rate": 0.8}
WARNING = "学习记录无法保存（{reason}），练习仍可继续，但这次的成绩不会被记住。"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    module  TEXT    NOT NULL,
    item    TEXT    NOT NULL,
    answer  TEXT,
    correct INTEGER NOT NULL,
    seconds REAL,
    at      TEXT    NOT NULL
)
"""
_COLUMNS = ("module", "item", "answer", "correct", "seconds", "at")


def default_path() -> Path:
    """``$KEFU_PROGRESS`` if set, else ``~/.kefu-lab/progress.sqlite3``."""
    env = os.environ.get(ENV_VAR, "").strip()
    return Path(env).expanduser() if env else Path.home() / ".kefu-lab" / "progress.sqlite3"


def _reason(exc: BaseException, path: Path) -> str:
    text = str(exc)
    if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text):
        return f"记录文件已损坏：{path}"
    if isinstance(exc, (OSError, sqlite3.OperationalError)):
        return f"无法写入 {path}"
    return f"{path}:{text}"


class ProgressStore:
    """Attempts kept in an SQLite file, or in memory after the file failed.

    ``persistent`` is False once the store has fallen back to memory; ``warning`` then holds
    the Chinese message for the trainee.
    """

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path).expanduser() if path is not None else default_path()
        self.persistent = True
        self.warning: str | None = None
        self._warning_taken = False
        self._memory: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(self._open_file()) as conn, conn:
                conn.execute(_SCHEMA)
                conn.execute("SELECT count(*) FROM attempts").fetchone()
        except (sqlite3.Error, OSError) as exc:
            self._fall_back(exc, copy=False)

    # ------------------------------------------------------------------ connections

    def _open_file(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=5)

    def _fall_back(self, exc: BaseException, copy: bool = True) -> None:
        """Switch to an in-memory store (keeping what can still be read) and set the warning."""
        memory = sqlite3.connect(":memory:", check_same_thread=False)
        if copy:
            try:
                with closing(self._open_file()) as conn:
                    conn.backup(memory)
            except (sqlite3.Error, OSError):
                pass
        memory.execute(_SCHEMA)
        memory.commit()
        self._memory = memory
        self.persistent = False
        if self.warning is None:
            self.warning = WARNING.format(reason=_reason(exc, self.path))

    def _run(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            if self._memory is None:
                try:
                    with closing(self._open_file()) as conn, conn:
                        return conn.execute(sql, params).fetchall()
                except (sqlite3.Error, OSError) as exc:
                    self._fall_back(exc)
            with self._memory:
                return self._memory.execute(sql, params).fetchall()

    # ------------------------------------------------------------------ API

    def take_warning(self) -> str | None:
        """The fallback warning the first time it is asked for, then None (show it ONCE)."""
        with self._lock:
            if self.warning is None or self._warning_taken:
                return None
            self._warning_taken = True
            return self.warning

    def record(self, module: str, item: str, answer, correct: bool, seconds: float | None = None,
               at: datetime | None = None) -> None:
        """Store one attempt (``at``: when, default now). ``module`` must be one of :data:`MODULES`."""
        if module not in MODULES:
            raise ValueError(f"未知的练习模块 {module!r}(module must be one of {', '.join(MODULES)})")
        at = (at or datetime.now()).isoformat(timespec="seconds")
        answer = None if answer is None else str(answer)
        secs = None if seconds is None else float(seconds)
        self._run(
            "INSERT INTO attempts (module, item, answer, correct, seconds, at) VALUES (?, ?, ?, ?, ?, ?)",
            (module, str(item), answer, int(bool(correct)), secs, at),
        )

    def attempts(self, module: str | None = None) -> list[dict]:
        """All attempts, oldest first, as dicts with keys module, item, answer, correct, seconds, at."""
        sql = f"SELECT {', '.join(_COLUMNS)} FROM attempts"
        rows = self._run(sql + " WHERE module = ? ORDER BY id", (module,)) if module else self._run(sql + " ORDER BY id")
        return [dict(zip(_COLUMNS, row), correct=bool(row[3])) for row in rows]

    def mastery(self) -> dict[str, dict]:
        """Per module (all of :data:`MODULES`): attempts, correct and rate (0.0 when unpractised)."""
        counts = {m: (n, c or 0) for m, n, c in self._run(
            "SELECT module, count(*), sum(correct) FROM attempts GROUP BY module")}
        out = {}
        for module in (*MODULES, *sorted(set(counts) - set(MODULES))):
            n, c = counts.get(module, (0, 0))
            out[module] = {"attempts": n, "correct": c, "rate": c / n if n else 0.0}
        return out

    def skills(self, now: datetime | None = None) -> dict[str, "Skill"]:
        """Per module (all of :data:`MODULES`): the evidence, whether it is mastered, what is due."""
        now = _aware(now or datetime.now())
        history = self.attempts()
        by_module: dict[str, list[dict]] = {m: [] for m in MODULES}
        for row in history:
            by_module.setdefault(row["module"], []).append(row)
        cards = _cards(history)
        out = {}
        for module, rows in by_module.items():
            correct = sum(r["correct"] for r in rows)
            recent = rows[-MASTERY["recent"]:]
            recent_rate = sum(r["correct"] for r in recent) / len(recent) if recent else 0.0
            days = len({r["at"][:10] for r in rows if r["correct"]})
            mastered = (correct >= MASTERY["min_correct"] and days >= MASTERY["min_days"]
                        and recent_rate >= MASTERY["min_recent_rate"])
            dues = sorted(card.due for (m, _), card in cards.items() if m == module)
            out[module] = Skill(module, len(rows), correct, correct / len(rows) if rows else 0.0, recent_rate,
                                days, mastered, sum(d <= now for d in dues), dues[0] if dues else None)
        return out

    def due_items(self, now: datetime | None = None) -> list[tuple[str, str, datetime]]:
        """(module, item, due) of every practised item whose FSRS review is due by ``now``, most
        overdue first."""
        now = _aware(now or datetime.now())
        due = [(m, item, card.due) for (m, item), card in _cards(self.attempts()).items() if card.due <= now]
        return sorted(due, key=lambda x: x[2])

    def next_to_practise(self, now: datetime | None = None) -> list[str]:
        """Every module, what to practise first at the front: modules with FSRS reviews due (the
        most overdue first), then modules never practised (in course order), then the others by
        their next review date."""
        stats = self.skills(now)
        order = {m: i for i, m in enumerate(MODULES)}

        def key(m: str):
            s = stats[m]
            if s.due_now:
                return (0, s.next_due.timestamp(), order[m])
            if not s.attempts:
                return (1, 0.0, order[m])
            return (2, s.next_due.timestamp() if s.next_due else 0.0, order[m])

        return sorted(MODULES, key=key)


@dataclass(frozen=True)
class Skill:
    """One module's evidence: ``rate`` over all attempts, ``recent_rate`` over the last
    ``MASTERY["recent"]``, ``days`` with a correct answer, ``mastered`` by :data:`MASTERY`,
    ``due_now`` items due for review and the ``next_due`` review (FSRS), None if unpractised."""

    module: str
    attempts: int
    correct: int
    rate: float
    recent_rate: float
    days: int
    mastered: bool
    due_now: int
    next_due: datetime | None


def _aware(moment: datetime) -> datetime:
    """Attempts are stored in local time without an offset; FSRS works in aware UTC."""
    return (moment if moment.tzinfo else moment.astimezone()).astimezone(timezone.utc)


def _cards(rows: list[dict]) -> dict:
    """(module, item) -> fsrs.Card after replaying every attempt in order (fuzzing off: the same
    history always gives the same schedule)."""
    from fsrs import Card, Rating, Scheduler

    scheduler = Scheduler(enable_fuzzing=False)
    cards: dict = {}
    for row in rows:
        key = (row["module"], row["item"])
        card = cards.get(key) or Card()
        at = _aware(datetime.fromisoformat(row["at"]))
        cards[key], _log = scheduler.review_card(card, Rating.Good if row["correct"] else Rating.Again, at)
    return cards


# ---------------------------------------------------------------------- module-level store

_stores: dict[str, ProgressStore] = {}
_stores_lock = threading.Lock()


def get_store() -> ProgressStore:
    """The shared store for the current ``$KEFU_PROGRESS`` (one per path and process)."""
    key = str(default_path())
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = ProgressStore(key)
        return store


def record(module: str, item: str, answer, correct: bool, seconds: float | None = None,
           at: datetime | None = None) -> None:
    """Store one attempt in the shared store (see :meth:`ProgressStore.record`)."""
    get_store().record(module, item, answer, correct, seconds, at)


def attempts(module: str | None = None) -> list[dict]:
    return get_store().attempts(module)


def mastery() -> dict[str, dict]:
    return get_store().mastery()


def next_to_practise(now: datetime | None = None) -> list[str]:
    return get_store().next_to_practise(now)


def skills(now: datetime | None = None) -> dict[str, Skill]:
    return get_store().skills(now)


def due_items(now: datetime | None = None) -> list[tuple[str, str, datetime]]:
    return get_store().due_items(now)


def take_warning() -> str | None:
    """The shared store's fallback warning, once; None if there is none or it was shown."""
    return get_store().take_warning()
