"""The instructor's `kefu` command line: bad input gets one line and a non-zero exit, the gradebook
is never silently replaced and is backed up before grading, rosters in every usual encoding."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.grading import cohort
from toolkit.grading.backup import GradebookError, backup, backups, check
from toolkit.grading.course import Course
from toolkit.grading.roster import RosterError, import_roster, parse_roster

ROOT = Path(__file__).resolve().parents[1]
KEFU = [sys.executable, "-m", "toolkit.cli"]
ASSIGNMENT = "02_questions"
COMMANDS = [["grade", ASSIGNMENT], ["feedback", ASSIGNMENT], ["export"], ["report", ASSIGNMENT], ["report", "--all"],
            ["roster", "名单.csv"], ["release-week", "1"]]


def kefu(*args, cwd=ROOT, **env):
    full = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **env}
    full.pop("KEFU_DEBUG", None)
    return subprocess.run(KEFU + [str(a) for a in args], cwd=cwd, env=full, capture_output=True, text=True, timeout=600)


def one_line_error(result) -> str:
    """The command failed with exactly one line on stderr and no traceback; that line."""
    assert result.returncode != 0, result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1, result.stderr
    return lines[0]


def new_course(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copy(ROOT / "schedule.toml", course)
    shutil.copytree(ROOT / "source", course / "source")
    shutil.copytree(ROOT / "release", course / "release")
    (course / "名单.csv").write_text("学号,姓名\nkefu001,王芳\nkefu002,欧阳娜娜\n", encoding="utf-8")
    return course


def students(course: Path) -> dict:
    from nbgrader.api import Gradebook

    c = Course(course)
    with Gradebook(c.db_url, c.course_id) as gb:
        return {s.id: (s.last_name, s.first_name, s.email) for s in gb.students}


# ----------------------------------------------------------------------------- bad input


def test_root_nowhere_or_without_a_course(tmp_path):
    for command in (["grade", ASSIGNMENT], ["export"], ["report", "--all"], ["roster", "x.csv"]):
        line = one_line_error(kefu(*command, "--root", tmp_path / "nowhere"))
        assert line == f"kefu {command[0]}: --root {tmp_path / 'nowhere'}: no such folder"
        line = one_line_error(kefu(*command, "--root", tmp_path))
        assert f"--root {tmp_path}: no course here (no nbgrader_config.py in {tmp_path})" in line
    (tmp_path / "file").write_text("x")
    assert "not a folder" in one_line_error(kefu("export", "--root", tmp_path / "file"))


def test_usage_mistakes_are_one_line(tmp_path):
    course = new_course(tmp_path)
    for workers in ("-3", "0", "two"):
        line = one_line_error(kefu("grade", ASSIGNMENT, "--workers", workers, cwd=course))
        assert line.startswith("kefu grade: error: argument --workers:") and workers in line
    assert "kefu: error:" in one_line_error(kefu("nonsense", cwd=course))
    assert "give an ASSIGNMENT or --all" in one_line_error(kefu("report", cwd=course))
    assert "unknown assignment '02_question'" in one_line_error(kefu("grade", "02_question", cwd=course))
    (course / "grades.txt").write_text("not a folder")
    line = one_line_error(kefu("export", "--out", course / "grades.txt", cwd=course))
    assert line == f"kefu export: --out {course / 'grades.txt'}: is a file, not a folder"
    assert (course / "grades.txt").read_text() == "not a folder"
    (course / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.root = (\n")  # broken by hand
    assert "cannot load" in one_line_error(kefu("export", cwd=course))


# ----------------------------------------------------------------------------- the gradebook is never lost


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """A real gradebook with the roster imported, made once for the module."""
    course = new_course(tmp_path_factory.mktemp("pristine"))
    assert kefu("roster", "名单.csv", cwd=course).returncode == 0
    return course / "gradebook.db"


def _with_backup(course: Path, pristine: Path) -> Path:
    """The real gradebook and a real backup of it, as a grading run leaves them."""
    shutil.copy(pristine, course / "gradebook.db")
    made, _ = backup(course, f"sqlite:///{course / 'gradebook.db'}")
    return made


@pytest.mark.parametrize("damage", ["empty", "overwritten-pages", "truncated", "not-sqlite"])
def test_a_damaged_gradebook_stops_every_command(tmp_path, damage, pristine):
    course = new_course(tmp_path)
    latest = _with_backup(course, pristine)
    db = course / "gradebook.db"
    size = db.stat().st_size
    if damage == "empty":
        db.write_bytes(b"")  # what a full disk or an interrupted copy leaves
    elif damage == "overwritten-pages":
        with open(db, "r+b") as handle:
            handle.seek(2 * 4096)
            handle.write(os.urandom(3 * 4096))
    elif damage == "truncated":
        with open(db, "r+b") as handle:
            handle.truncate(size // 2)
    else:
        db.write_text("gradebook moved to the shared drive\n")
    before = db.read_bytes()
    why = {"empty": "is empty (0 bytes)", "not-sqlite": "is not an SQLite database"}.get(damage, "is corrupt")
    for command in COMMANDS if damage == "empty" else COMMANDS[2:5]:
        line = one_line_error(kefu(*command, cwd=course))
        assert line.startswith(f"kefu {command[0]}: gradebook {db} {why}"), line
        assert f"latest backup: {latest}" in line
    assert db.read_bytes() == before  # never replaced, never "repaired"
    assert backups(course) == [latest]  # and no backup of the broken file was taken


@pytest.mark.parametrize("command", [["db", "student", "list"], ["autograde", ASSIGNMENT], ["generate_feedback", ASSIGNMENT]])
def test_plain_nbgrader_stops_on_a_damaged_gradebook_too(tmp_path, pristine, command):
    # nbgrader_config.py guards every nbgrader command that loads it: an empty gradebook would
    # otherwise be recreated empty, every grade gone.
    course = new_course(tmp_path)
    latest = _with_backup(course, pristine)
    db = course / "gradebook.db"
    db.write_bytes(b"")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["nbgrader", *command], cwd=course, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert f"gradebook {db} is empty (0 bytes): not touching it; latest backup: {latest}" in result.stderr
    assert "Traceback" not in result.stderr
    assert db.read_bytes() == b""  # not recreated


def test_a_missing_gradebook_with_graded_work_stops(tmp_path, pristine):
    course = new_course(tmp_path)
    latest = _with_backup(course, pristine)
    (course / "autograded" / "kefu001" / ASSIGNMENT).mkdir(parents=True)
    (course / "gradebook.db").unlink()
    line = one_line_error(kefu("export", cwd=course))
    assert line == (f"kefu export: gradebook {course / 'gradebook.db'} is missing although the course has graded work "
                    f"(autograded/ or feedback/): not touching it; latest backup: {latest} "
                    "(copy it to the gradebook's path to restore)")
    assert not (course / "gradebook.db").exists()
    shutil.copy(latest, course / "gradebook.db")  # the restore the message describes
    assert kefu("roster", "名单.csv", cwd=course).returncode == 0


def test_a_new_course_may_create_its_gradebook(tmp_path):
    course = new_course(tmp_path)
    check(course, f"sqlite:///{course / 'gradebook.db'}")  # nothing graded yet: fine
    result = kefu("roster", "名单.csv", cwd=course)
    assert result.returncode == 0, result.stderr
    assert (course / "gradebook.db").stat().st_size > 0


def test_backup_before_grading_holds_the_state_before_the_run(tmp_path):
    from nbgrader.api import Gradebook

    course = new_course(tmp_path)
    assert kefu("roster", "名单.csv", cwd=course).returncode == 0
    cohort.write_cohort(course, ASSIGNMENT, ["perfect", "blank"], prefix="kefu")
    result = kefu("grade", ASSIGNMENT, "--workers", "2", "--quiet", cwd=course)
    assert result.returncode == 0, result.stderr[-2000:]
    [made] = backups(course)
    assert f"gradebook backed up to {made}" in result.stderr
    assert made.name.startswith("gradebook-") and made.suffix == ".db"
    with sqlite3.connect(made) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with sqlite3.connect(made) as db:  # before the run: the roster, no submission yet
        assert {r[0] for r in db.execute("SELECT id FROM student")} == {"kefu001", "kefu002"}
        assert db.execute("SELECT count(*) FROM submitted_assignment").fetchone() == (0,)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "kefu-lab") as gb:  # after: both graded
        assert len(gb.assignment_submissions(ASSIGNMENT)) == 2


def test_watch_backs_up_before_each_pass_that_grades_and_grades_each_submission_once(tmp_path):
    course = new_course(tmp_path)
    assert kefu("roster", "名单.csv", cwd=course).returncode == 0
    cohort.write_cohort(course, ASSIGNMENT, ["perfect", "blank"], prefix="kefu")
    # no exchange in this course: collect fails (said once per pass), the submitted folder is graded
    result = kefu("grade", ASSIGNMENT, "--watch", "--interval", "0.1", "--passes", "3", cwd=course)
    assert result.returncode == 0, result.stderr[-2000:]
    graded = re.findall(rf"\[watch\] {ASSIGNMENT} (\S+): graded", result.stdout)
    assert sorted(graded) == ["kefu001", "kefu002"], result.stdout  # once each over three passes
    made = backups(course)
    assert len(made) == 2, made  # at the start, and before the one pass that wrote grades
    assert result.stdout.count("[watch] gradebook backed up to ") == 1
    with sqlite3.connect(made[-1]) as db:  # taken before that pass: no submission graded yet
        assert db.execute("SELECT count(*) FROM submitted_assignment").fetchone() == (0,)


def test_only_the_newest_backups_are_kept(tmp_path, pristine):
    course = new_course(tmp_path)
    shutil.copy(pristine, course / "gradebook.db")
    url = f"sqlite:///{course / 'gradebook.db'}"
    made = [backup(course, url, keep=3)[0] for _ in range(5)]
    assert len(set(made)) == 5  # same second: distinct names, in order
    assert backups(course) == made[-3:]
    assert all(p.is_file() for p in made[-3:]) and not any(p.exists() for p in made[:2])
    assert backup(tmp_path / "elsewhere", f"sqlite:///{tmp_path / 'none.db'}") == (None, "no gradebook yet: nothing to back up")


def test_postgresql_backup_needs_pg_dump(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump on this PATH
    made, note = backup(tmp_path, "postgresql://kefu@127.0.0.1:5432/kefu")
    assert made is None and note.startswith("pg_dump not found: no backup taken")


def test_check_raises_one_line(tmp_path):
    (tmp_path / "gradebook.db").write_bytes(b"")
    with pytest.raises(GradebookError) as error:
        check(tmp_path, f"sqlite:///{tmp_path / 'gradebook.db'}")
    assert "\n" not in str(error.value) and f"no backup in {tmp_path / 'backups'}" in str(error.value)


# ----------------------------------------------------------------------------- rosters

SIMPLIFIED = [("kefu001", "王芳", "wangfang@example.cn"), ("kefu002", "欧阳娜娜", ""), ("kefu003", "李　小龙", "")]
TRADITIONAL = [("kefu001", "陳大文", "chan@example.hk"), ("kefu002", "歐陽娜娜", ""), ("kefu003", "張偉", "")]


def _roster(path: Path, rows, encoding: str, header=("学号", "姓名", "邮箱"), sep=",") -> Path:
    text = "\n".join(sep.join(r) for r in [header, *rows]) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding, sep", [("utf-8", ","), ("utf-8-sig", ","), ("gbk", ","), ("gb18030", ","),
                                           ("utf-16", ","), ("utf-16", "\t"), ("utf-16-le", ",")])
def test_simplified_roster_in_every_encoding(tmp_path, encoding, sep):
    trainees = parse_roster(_roster(tmp_path / "名单.csv", SIMPLIFIED, encoding, sep=sep))
    assert [(t.id, t.last_name, t.first_name, t.email) for t in trainees] == [
        ("kefu001", "王", "芳", "wangfang@example.cn"), ("kefu002", "欧阳", "娜娜", None), ("kefu003", "李", "小龙", None)]


@pytest.mark.parametrize("encoding", ["big5", "utf-8", "utf-16"])
def test_traditional_roster_with_traditional_headers(tmp_path, encoding):
    path = _roster(tmp_path / "名單.csv", TRADITIONAL, encoding, header=("學號", "姓名", "電子郵箱"))
    trainees = parse_roster(path)
    assert [(t.id, t.last_name, t.first_name, t.email) for t in trainees] == [
        ("kefu001", "陳", "大文", "chan@example.hk"), ("kefu002", "歐陽", "娜娜", None), ("kefu003", "張", "偉", None)]


def test_rosters_that_cannot_be_read_are_refused_by_name(tmp_path):
    course = new_course(tmp_path)
    (course / "empty.csv").write_bytes(b"")
    (course / "blank.csv").write_bytes(b"\r\n\r\n")
    (course / "latin.csv").write_bytes("id,Name\nx1,José Müller\nx2,Zoë Brontë\n".encode("latin-1"))
    (course / "bad.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (course / "header.csv").write_text("学号,姓名\n", encoding="utf-8")
    for name, message in [("empty.csv", "empty.csv is empty"), ("blank.csv", "blank.csv is empty"),
                          ("latin.csv", "latin.csv: not UTF-8, GBK/GB18030, Big5 or UTF-16 text (looks like"),
                          ("bad.xlsx", "bad.xlsx: not a readable Excel file"),
                          ("header.csv", "header.csv: no trainees in the file"),
                          ("missing.csv", "no such file")]:
        line = one_line_error(kefu("roster", name, cwd=course))
        assert line.startswith("roster: ") and message in line, line
    assert not (course / "gradebook.db").exists() or not students(course)


def test_utf16_roster_through_the_command(tmp_path):
    course = new_course(tmp_path)
    _roster(course / "名单.txt", SIMPLIFIED, "utf-16", sep="\t")  # Excel's "Unicode text"
    result = kefu("roster", "名单.txt", cwd=course)
    assert result.returncode == 0, result.stderr
    assert "3 trainees in 名单.txt (read as utf-16): 3 added" in result.stdout
    assert students(course)["kefu003"] == ("李", "小龙", None)


def test_blank_names_never_erase_stored_names(tmp_path):
    course = new_course(tmp_path)
    import_roster(Course(course), _roster(tmp_path / "first.csv", SIMPLIFIED, "utf-8"))
    rows = [("kefu001", "", "new@example.cn"), ("kefu002", "", ""), ("kefu003", "李晓龙", "")]
    _roster(course / "again.csv", rows, "gbk")
    result = kefu("roster", "again.csv", cwd=course)
    assert result.returncode == 0, result.stderr
    assert "(read as gb18030): 0 added, 2 updated, 1 unchanged" in result.stdout
    assert "name cell blank for 2 trainees already named in the gradebook: kept their stored names (kefu001, kefu002)" \
        in result.stdout
    assert students(course) == {"kefu001": ("王", "芳", "new@example.cn"), "kefu002": ("欧阳", "娜娜", None),
                                "kefu003": ("李", "晓龙", None)}
    with pytest.raises(RosterError, match="no id column"):
        parse_roster(_roster(tmp_path / "r.csv", SIMPLIFIED, "utf-8", header=("编码x", "姓名", "邮箱")))


def test_postgresql_gradebook_is_dumped_before_grading(tmp_path):
    from pgserver import INITDB, postgres_server

    if not INITDB or not shutil.which("pg_dump"):
        pytest.skip("PostgreSQL is not installed (scripts/system-deps.sh installs Debian's postgresql as root)")
    course = new_course(tmp_path)
    with postgres_server() as url:
        assert kefu("roster", "名单.csv", cwd=course, KEFU_DB_URL=url).returncode == 0
        made, note = backup(course, url)
        assert made.suffix == ".dump" and note.startswith(f"gradebook backed up to {made}")
        listing = subprocess.run(["pg_restore", "--list", str(made)], capture_output=True, text=True, check=True).stdout
        assert "TABLE public student" in listing or "TABLE DATA public student" in listing
    assert not (course / "gradebook.db").exists()
