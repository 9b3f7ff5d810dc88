"""A small SQLite store of drill attempts: (module, item, answer, correct, seconds, at).

The file lives at ``$KEFU_PROGRESS`` or, by default, ``~/.kefu-lab/progress.sqlite3``, so a
trainee's record survives kernel restarts. Practising must never fail because of the store:
if the file is corrupt or cannot be written, the store switches to memory and keeps ONE Chinese
warning for the trainee (``ProgressStore.warning``; :func:`take_warning` hands it out once, and
the drill widgets show it).

Module keys are ``kb.SKILLS + ("capstone", "voice")``. Import-light: sqlite3 and the standard library.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import closing
from datetime import datetime
from pathlib import Path

from .kb import SKILLS

__all__ = [
    "MODULES", "ProgressStore", "default_path", "get_store", "record", "attempts", "mastery",
    "next_to_practise", "take_warning",
]

MODULES: tuple[str, ...] = (*SKILLS, "capstone", "voice")  # voice: the voice drill (toolkit.widgets.voice)
ENV_VAR = "KEFU_PROGRESS"
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

    def record(self, module: str, item: str, answer, correct: bool, seconds: float | None = None) -> None:
        """Store one attempt. ``module`` must be one of :data:`MODULES`."""
        if module not in MODULES:
            raise ValueError(f"未知的练习模块 {module!r}(module must be one of {', '.join(MODULES)})")
        at = datetime.now().isoformat(timespec="seconds")
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

    def next_to_practise(self) -> list[str]:
        """Modules to practise next: never practised first, then lowest rate, then fewest attempts."""
        stats = self.mastery()
        order = {m: i for i, m in enumerate(MODULES)}
        return sorted(
            (m for m in stats if m in order),
            key=lambda m: (stats[m]["attempts"] > 0, stats[m]["rate"], stats[m]["attempts"], order[m]),
        )


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


def record(module: str, item: str, answer, correct: bool, seconds: float | None = None) -> None:
    """Store one attempt in the shared store (see :meth:`ProgressStore.record`)."""
    get_store().record(module, item, answer, correct, seconds)


def attempts(module: str | None = None) -> list[dict]:
    return get_store().attempts(module)


def mastery() -> dict[str, dict]:
    return get_store().mastery()


def next_to_practise() -> list[str]:
    return get_store().next_to_practise()


def take_warning() -> str | None:
    """The shared store's fallback warning, once; None if there is none or it was shown."""
    return get_store().take_warning()
