"""The nbgrader course folder as the ``kefu`` commands see it (paths, config, gradebook)."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader


class Course:
    """An nbgrader course rooted at the folder holding ``nbgrader_config.py``."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root or find_root()).resolve()
        _ensure_alembic_on_path()
        self.config = self.nbgrader_config()
        self.db_url: str = self.config.CourseDirectory.db_url
        self.course_id: str = self.config.CourseDirectory.course_id

    def nbgrader_config(self, db_url: str | None = None) -> Config:
        """The course's nbgrader_config.py as a traitlets Config (optionally another gradebook)."""
        config = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        config.CourseDirectory.root = str(self.root)
        if db_url:
            config.CourseDirectory.db_url = db_url
        return config

    # ------------------------------------------------------------------ folders

    def submitted_students(self, assignment: str) -> list[str]:
        base = self.root / "submitted"
        return sorted(p.parent.name for p in base.glob(f"*/{assignment}") if p.is_dir()) if base.is_dir() else []

    def submitted_notebooks(self, assignment: str, student: str) -> list[Path]:
        return sorted((self.root / "submitted" / student / assignment).glob("*.ipynb"))

    def source_notebooks(self, assignment: str) -> list[Path]:
        return sorted((self.root / "source" / assignment).glob("*.ipynb"))

    def assignments(self) -> list[str]:
        return sorted(p.name for p in (self.root / "source").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))

    def timestamp(self, assignment: str, student: str, folder: Path | None = None) -> datetime | None:
        """The submission's timestamp.txt (read from ``folder``, a checked copy, when given)."""
        path = (folder or self.root / "submitted" / student / assignment) / "timestamp.txt"
        if path.is_symlink() or not path.is_file():
            return None
        from nbgrader.utils import parse_utc

        try:
            return parse_utc(path.read_text()[:200].strip())
        except Exception:
            return None

    def collect_notes(self, assignment: str, student: str) -> list[str]:
        """What ``nbgrader collect`` refused from this submission (written by OwnerCheckedCollect)."""
        path = self.root / "submitted" / student / collect_notes_name(assignment)
        try:  # a file of the instructor's own making, but never followed if it is a link
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return []
        with os.fdopen(fd, encoding="utf-8", errors="replace") as fh:
            return [f"at collect: {line.rstrip()}" for line in fh.read(100_000).splitlines() if line.strip()]

    def sanitiser_notes(self, assignment: str, student: str) -> list[str]:
        """What the sanitiser removed from this trainee's autograded notebooks."""
        notes = []
        for path in sorted((self.root / "autograded" / student / assignment).glob("*.ipynb")):
            try:
                removed = json.loads(path.read_text(encoding="utf-8"))["metadata"].get("kefu", {}).get("removed", [])
            except (OSError, ValueError, KeyError):
                continue
            notes += [f"code removed: {line}" for line in removed]
        return notes

    # ------------------------------------------------------------------ nbgrader

    def api(self, db_url: str | None = None, root: Path | None = None, **coursedir):
        """nbgrader's own Python API on this course (or another root/gradebook)."""
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        config = self.nbgrader_config(db_url)
        if root is not None:
            config.CourseDirectory.root = str(root)
        for key, value in coursedir.items():
            setattr(config.CourseDirectory, key, value)
        return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)

    def ensure_assignment(self, assignment: str) -> None:
        """Make sure the gradebook knows the assignment (generate_assignment fills it in)."""
        from nbgrader.api import Gradebook, MissingEntry

        if not self.source_notebooks(assignment):
            raise SystemExit(f"unknown assignment {assignment!r}: no notebooks in {self.root / 'source' / assignment}")
        with Gradebook(self.db_url, self.course_id) as gb:
            try:
                gb.find_assignment(assignment)
                if gb.find_assignment(assignment).notebooks:
                    return
            except MissingEntry:
                pass
        self.generate(assignment)

    def generate(self, assignment: str) -> None:
        _ensure_alembic_on_path()
        result = self.api().generate_assignment(assignment, force=True, create=True)
        if not result.get("success"):
            raise SystemExit(f"nbgrader generate_assignment {assignment} failed:\n{result.get('error') or result.get('log')}")

    def template_gradebook(self, assignment: str, work_dir: Path) -> Path:
        """A private SQLite gradebook that knows ``assignment`` (same source, same due date).

        A SQLite course gradebook is simply copied (sqlite3's online backup: consistent even if
        in use); any other database (PostgreSQL) gets a fresh one from generate_assignment.
        """
        from nbgrader.api import Gradebook

        _ensure_alembic_on_path()
        db_path = work_dir / "template.db"
        if self.db_url.startswith("sqlite:///"):
            import sqlite3

            with sqlite3.connect(self.db_url.removeprefix("sqlite:///")) as src, sqlite3.connect(db_path) as dst:
                src.backup(dst)
            return db_path
        root = work_dir / "template"
        root.mkdir()
        api = self.api(db_url=f"sqlite:///{db_path}", root=root, source_directory=str(self.root / "source"),
                       release_directory=str(root / "release"))
        result = api.generate_assignment(assignment, force=True, create=True)
        if not result.get("success"):
            raise SystemExit(f"could not prepare a gradebook for {assignment}:\n{result.get('error') or result.get('log')}")
        with Gradebook(self.db_url, self.course_id) as main, Gradebook(f"sqlite:///{db_path}") as template:
            template.update_or_create_assignment(assignment, duedate=main.find_assignment(assignment).duedate)
            for submission in main.assignment_submissions(assignment):  # granted extensions count
                if submission.extension:
                    template.update_or_create_student(submission.student_id)
                    template.update_or_create_submission(assignment, submission.student_id,
                                                         extension=submission.extension)
        return db_path


def collect_notes_name(assignment: str) -> str:
    """Where collect notes what it refused: next to submitted/<trainee>/<assignment>/, not inside it
    (nbgrader would copy it into autograded/), hidden from nbgrader's ``*`` globs."""
    return f".kefu-collect-{assignment}.txt"


# nbgrader metadata a trainee may not change; nbgrader itself restores cell type, locked, points
# and locked sources, but a changed grade/solution/task flag makes it fail the whole notebook.
_FLAGS = ("grade", "solution", "locked", "task", "points")


def _role(meta: dict) -> str:
    if meta.get("task"):
        return "task cell"
    if meta.get("solution"):
        return "hand-graded answer" if meta.get("grade") else "answer cell"
    if meta.get("grade"):
        return "test cell"
    return "read-only cell"


def _value(value) -> str:
    from .safe_files import printable

    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return printable(repr(value) if isinstance(value, str) else str(value), 40)


def describe_tampering(submitted, original) -> list[str]:
    """Notes on every nbgrader cell of ``submitted`` that differs from the released ``original``."""
    from .safe_files import printable

    reference = {c.metadata.nbgrader.grade_id: c for c in original.cells
                 if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")}
    notes = []
    for cell in submitted.cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if not isinstance(meta, dict) or not meta.get("grade_id"):
            continue
        grade_id = meta["grade_id"]
        shown = printable(str(grade_id), 60)
        if grade_id not in reference:
            notes.append(f"cell {shown} is not in the assignment: nbgrader metadata ignored")
            continue
        cell_ref = reference[grade_id]
        ref_meta = cell_ref.metadata.nbgrader
        role = _role(ref_meta)
        if cell.get("cell_type") != cell_ref.cell_type:
            notes.append(f"cell type of {role} {shown} changed: {cell_ref.cell_type} -> "
                         f"{printable(str(cell.get('cell_type')), 20)} (restored)")
        elif ref_meta.get("locked") and cell.get("source") != cell_ref.source:
            notes.append(f"{role} {shown} edited (restored)")
        changed = [f"{key} of {shown} {_value(ref_meta.get(key, False))} -> {_value(meta.get(key, False))}"
                   for key in _FLAGS if _differs(ref_meta.get(key, False), meta.get(key, False))]
        if changed:
            notes.append(f"nbgrader metadata changed: {', '.join(changed)} (restored)")
    return notes


def _differs(a, b) -> bool:
    try:
        return float(a) != float(b)
    except (TypeError, ValueError):
        return a != b


def restore_metadata(submitted, original) -> bool:
    """Put back the released nbgrader flags of every known cell; True if anything changed.

    nbgrader restores the rest itself (cell type, locked, points, locked sources).
    """
    reference = {c.metadata.nbgrader.grade_id: c.metadata.nbgrader for c in original.cells
                 if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")}
    changed = False
    for cell in submitted.cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if isinstance(meta, dict) and meta.get("grade_id") in reference:
            ref = reference[meta["grade_id"]]
            for key in ("grade", "solution", "task", "points"):
                if key in ref and meta.get(key) != ref[key] or key not in ref and key in meta:
                    if key in ref:
                        meta[key] = ref[key]
                    else:
                        del meta[key]
                    changed = True
    return changed


def find_root(start: Path | None = None) -> Path:
    """The nearest folder upwards from ``start`` (default: cwd) with an nbgrader_config.py."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "nbgrader_config.py").is_file():
            return folder
    raise SystemExit("no nbgrader_config.py here or in a parent folder: run this inside the course folder")


def _ensure_alembic_on_path() -> None:
    """nbgrader shells out to `alembic`; make the interpreter's bin/ visible (e.g. a venv not activated)."""
    import sys

    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
