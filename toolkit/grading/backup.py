"""The gradebook is never lost: checked before every command, backed up before every grading run.

nbgrader opens its gradebook with SQLAlchemy and creates the tables when they are missing, so a
0-byte ``gradebook.db`` (a full disk, a bad copy) is silently turned into an empty gradebook and
every grade and manual score is gone; a corrupt file gives SQLAlchemy tracebacks. ``check``
stops both, and a missing gradebook in a course that already has graded work, with one line
naming the file and the latest backup.

Backups: SQLite's online backup API (consistent even while formgrader has the file open) into
``backups/gradebook-YYYYmmdd-HHMMSS.db`` in the course folder, keeping the newest ``keep``.
PostgreSQL: ``pg_dump --format=custom`` into ``backups/gradebook-….dump`` when pg_dump is on the
PATH (restore with ``pg_restore --clean -d URL FILE``); without it, the database's own backups
(pg_dump elsewhere, base backups with WAL archiving) are the instructor's job and kefu says so.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

KEEP = int(os.environ.get("KEFU_KEEP_BACKUPS", "20"))
_SQLITE_MAGIC = b"SQLite format 3\x00"
# Folders whose content means grades were written (nbgrader creates them when grading).
_GRADED_WORK = ("autograded", "feedback")


class GradebookError(RuntimeError):
    """The gradebook cannot be used safely; the message is one line for the instructor."""


def sqlite_path(db_url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL, None for any other database (or in-memory SQLite)."""
    if not db_url.startswith("sqlite:///"):
        return None
    path = db_url.removeprefix("sqlite:///").split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def backup_dir(root: Path) -> Path:
    return Path(root) / "backups"


_NAME = re.compile(r"gradebook-(\d{8}-\d{6})(?:-(\d+))?\.(db|dump)")


def backups(root: Path) -> list[Path]:
    """Existing gradebook backups, oldest first: by time stamp, then by the number added within a second."""
    folder = backup_dir(root)
    if not folder.is_dir():
        return []
    found = [(m.group(1), int(m.group(2) or 0), p) for p in folder.iterdir()
             if (m := _NAME.fullmatch(p.name)) and p.is_file()]
    return [p for _, _, p in sorted(found)]


def _latest(root: Path) -> str:
    found = backups(root)
    return f"latest backup: {found[-1]}" if found else f"no backup in {backup_dir(root)}"


def _has_graded_work(root: Path) -> bool:
    for name in _GRADED_WORK:
        folder = Path(root) / name
        if folder.is_dir() and any(p.is_dir() for p in folder.iterdir()):
            return True
    return False


def problem(db_path: Path, root: Path) -> str | None:
    """Why the SQLite gradebook at ``db_path`` must not be opened, or None if it is safe."""
    if not db_path.exists():
        if _has_graded_work(root):
            return "is missing although the course has graded work (autograded/ or feedback/)"
        return None
    if not db_path.is_file():
        return "is not a file"
    size = db_path.stat().st_size
    if size == 0:
        return "is empty (0 bytes)"
    try:
        with open(db_path, "rb") as handle:
            header = handle.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if header != _SQLITE_MAGIC:
        return "is not an SQLite database (corrupt or overwritten)"
    try:
        # Read-only, so checking never creates or changes anything.
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            result = db.execute("PRAGMA quick_check").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        return f"is corrupt ({exc})"
    if not result or result[0] != "ok":
        return f"is corrupt (integrity check: {result[0] if result else 'no answer'})"
    return None


_CHECKED: set[str] = set()  # gradebooks this process has found sound (forked jobs inherit it)


def check(root: Path, db_url: str) -> None:
    """Raise GradebookError (one line: the file, what is wrong, the latest backup) if the gradebook
    would be replaced or cannot be read. Databases other than SQLite are checked by their server."""
    path = sqlite_path(db_url)
    if path is None:
        return
    why = problem(path, Path(root))
    if why:
        raise GradebookError(f"gradebook {path} {why}: not touching it; {_latest(Path(root))} "
                             "(copy it to the gradebook's path to restore)")
    _CHECKED.add(db_url)


def guard(root: Path, db_url: str) -> None:
    """For nbgrader_config.py, which every nbgrader command (formgrader too) executes: stop before
    a damaged gradebook is opened or a vanished one silently recreated.

    SystemExit, not an exception: traitlets logs an exception in a config file and goes on
    WITHOUT the file's settings (no sanitiser), but lets SystemExit end the command. Once per
    process and gradebook: kefu's own commands check first, their grading jobs inherit that."""
    if db_url in _CHECKED:
        return
    try:
        check(root, db_url)
    except GradebookError as exc:
        raise GradebookStop(exc) from None


class GradebookStop(SystemExit):
    """SystemExit carrying the GradebookError, so `kefu` can report it under its own name."""

    def __init__(self, error: GradebookError):
        super().__init__(f"kefu-lab nbgrader_config.py: {error}")
        self.error = error


def _stamp(folder: Path, suffix: str) -> Path:
    stamp = f"{datetime.now():%Y%m%d-%H%M%S}"
    same = [int(m.group(2) or 0) for p in folder.iterdir() if (m := _NAME.fullmatch(p.name)) and m.group(1) == stamp]
    if not same:
        return folder / f"gradebook-{stamp}{suffix}"
    return folder / f"gradebook-{stamp}-{max(same) + 1}{suffix}"  # several runs within one second


def _prune(root: Path, keep: int) -> None:
    for old in backups(root)[:-keep] if keep > 0 else []:
        old.unlink()


def backup(root: Path, db_url: str, keep: int = KEEP) -> tuple[Path | None, str]:
    """Back the gradebook up before it is written; (file or None, one-line English note)."""
    root = Path(root)
    folder = backup_dir(root)
    path = sqlite_path(db_url)
    if path is not None:
        if not path.is_file():
            return None, "no gradebook yet: nothing to back up"
        folder.mkdir(exist_ok=True)
        target = _stamp(folder, ".db")
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        _prune(root, keep)
        return target, f"gradebook backed up to {target}"
    if db_url.startswith(("postgresql", "postgres")):
        pg_dump = shutil.which("pg_dump")
        if not pg_dump:
            return None, ("pg_dump not found: no backup taken; back the PostgreSQL gradebook up with the "
                          "server's own tools (pg_dump, base backups)")
        folder.mkdir(exist_ok=True)
        target = _stamp(folder, ".dump")
        url = db_url.replace("postgresql+psycopg://", "postgresql://").replace("postgresql+psycopg2://", "postgresql://")
        result = subprocess.run([pg_dump, "--format=custom", f"--file={target}", f"--dbname={url}"],
                                capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            target.unlink(missing_ok=True)
            last = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
            raise GradebookError(f"pg_dump failed, not grading without a backup: {last}")
        _prune(root, keep)
        return target, f"gradebook backed up to {target} (restore: pg_restore --clean -d URL FILE)"
    return None, "this database is not SQLite or PostgreSQL: back it up with its own tools"
