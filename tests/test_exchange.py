"""The nbgrader exchange round trip with real Unix accounts, plus kefu's additions to it.

Unit tests (any user): the late-submission policy, schedule.toml, the roster import.

Round trip (root only: it creates accounts with `useradd`): one instructor and four trainees,
each a real account, run the real `nbgrader` commands as themselves through `runuser`:
instructor `release-week` (roster import, generate, due dates, release_assignment) → trainees
fetch_assignment, answer, submit (one twice; one after the deadline; one forged under another
trainee's name, which kefu's collect refuses) → instructor collect,
`kefu grade` (parallel), `kefu feedback`, release_feedback → trainees fetch_feedback. Then a
trainee tries to read other trainees' work and the instructor's course, and is refused.
Two more trainees are hostile: they write their submission folder into the inbound by hand,
one with links to /etc/shadow and to the instructor's source notebook, a FIFO, a hard link and
a link to the course folder next to an honest notebook, the other with the notebook itself a
link to the source. Nothing of the instructor's or the system's reaches submitted/,
autograded/, feedback/ or what they fetch back.

Everything lives in a fresh /tmp/kefu-exchange-* folder (exchange, course, home folders) and the
accounts are removed with `userdel -r` afterwards. The accounts must be able to run Python with
kefu-lab's packages: the project's venv is used when they can execute it; when its interpreter is
private (a pyenv Python under /root, mode 0700), a same-version system Python is given the venv's
site-packages through a small venv in the sandbox (see docs/exchange.md).
"""

from __future__ import annotations

import json
import os
import random
import re
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat
import pytest
from nbgrader.utils import parse_utc
from test_grading import autograded_totals, gradebook_rows
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from toolkit.grading import cohort
from toolkit.grading.course import Course
from toolkit.grading.exchange import (
    DailyLatePenalty,
    ScheduleError,
    load_schedule,
    release_week,
)
from toolkit.grading.roster import RosterError, import_roster, parse_roster, split_name

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "02_questions"
EXTRA = "02_questions_extra"  # a second assignment in the same week (a copy, released but not graded)
COURSE_ID = "kefu-lab"
LATE_POLICY = (
    '\n# late policy (added by tests/test_exchange.py when the course config has none)\n'
    'c.AssignLatePenalties.plugin_class = "toolkit.grading.exchange.DailyLatePenalty"\n'
)


# ============================================================================= late policy


@pytest.mark.parametrize("seconds, percent", [
    (0, 0), (1, 10), (86400, 10), (86401, 20), (3 * 86400 - 5, 30), (9.5 * 86400, 100), (40 * 86400, 100),
])
def test_daily_penalty_per_started_day(seconds, percent):
    penalty = DailyLatePenalty().late_submission_penalty("t", 3.0, seconds)
    assert (penalty or 0) == pytest.approx(3.0 * percent / 100)


def test_daily_penalty_is_configurable():
    config = Config()
    config.DailyLatePenalty.percent_per_day = 25
    config.DailyLatePenalty.max_percent = 50
    config.DailyLatePenalty.grace_minutes = 30
    plugin = DailyLatePenalty(config=config)
    assert plugin.late_submission_penalty("t", 4.0, 29 * 60) is None  # within the grace period
    assert plugin.late_submission_penalty("t", 4.0, 31 * 60) == pytest.approx(1.0)
    assert plugin.late_submission_penalty("t", 4.0, 5 * 86400) == pytest.approx(2.0)  # capped at 50 %
    assert plugin.late_submission_penalty("t", 0.0, 5 * 86400) is None  # nothing to take


def test_late_policy_loads_through_nbgrader_config():
    """nbgrader resolves the plugin by its dotted name, as nbgrader_config.py gives it."""
    from nbgrader.preprocessors import AssignLatePenalties

    config = Config()
    config.AssignLatePenalties.plugin_class = "toolkit.grading.exchange.DailyLatePenalty"
    config.DailyLatePenalty.percent_per_day = 20
    preprocessor = AssignLatePenalties(config=config)
    preprocessor.init_plugin()
    assert isinstance(preprocessor.plugin_inst, DailyLatePenalty)
    assert preprocessor.plugin_inst.late_submission_penalty("t", 5.0, 2 * 86400) == pytest.approx(2.0)


# ============================================================================= schedule.toml


def test_repository_schedule_lists_every_assignment_once():
    schedule = load_schedule(ROOT / "schedule.toml")
    names = [d.assignment for week in schedule.values() for d in week]
    assert len(names) == len(set(names))
    assert ASSIGNMENT in {d.assignment for d in schedule[1]}
    for week in schedule.values():
        for entry in week:
            assert entry.due.tzinfo is not None
    # every assignment already in source/ has a week
    in_source = {p.name for p in (ROOT / "source").iterdir() if p.is_dir() and any(p.glob("*.ipynb"))}
    assert in_source <= set(names), f"not scheduled: {sorted(in_source - set(names))}"


def test_schedule_reads_local_times_in_its_timezone(tmp_path):
    path = tmp_path / "schedule.toml"
    path.write_text('timezone = "Asia/Shanghai"\n[week.1]\na = 2026-12-06T23:59:00\nb = "2026-12-06 08:00+00:00"\n'
                    'c = 2026-12-07\n', encoding="utf-8")
    week = {d.assignment: d.due.astimezone(timezone.utc) for d in load_schedule(path)[1]}
    assert week["a"] == datetime(2026, 12, 6, 15, 59, tzinfo=timezone.utc)
    assert week["b"] == datetime(2026, 12, 6, 8, 0, tzinfo=timezone.utc)
    assert week["c"] == datetime(2026, 12, 7, 15, 59, tzinfo=timezone.utc)  # a bare date: 23:59 that day


@pytest.mark.parametrize("text, message", [
    ('[week.1]\na = "next friday"\n', "not an ISO date-time"),
    ('[week.1]\na = 2026-12-06T23:59:00\n[week.2]\na = 2026-12-13T23:59:00\n', "week 1 and week 2"),
    ('[week.x]\na = 2026-12-06T23:59:00\n', "numbered"),
    ('timezone = "Mars/Olympus"\n[week.1]\na = 2026-12-06T23:59:00\n', "unknown timezone"),
    ('[week.1\n', "not valid TOML"),
])
def test_schedule_errors_are_clear(tmp_path, text, message):
    path = tmp_path / "schedule.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScheduleError, match=message):
        load_schedule(path)


def _scratch_course(tmp_path: Path, assignments=(ASSIGNMENT,)) -> Course:
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for name in assignments:
        shutil.copytree(ROOT / "source" / ASSIGNMENT, course / "source" / name)
    return Course(course)


def test_release_week_checks_everything_before_releasing(tmp_path):
    course = _scratch_course(tmp_path)
    (course.root / "schedule.toml").write_text(
        f"[week.1]\n{ASSIGNMENT} = 2026-12-06T23:59:00+08:00\n99_missing = 2026-12-06T23:59:00+08:00\n",
        encoding="utf-8")
    exchange = tmp_path / "exchange"
    with pytest.raises(ScheduleError, match="99_missing"):
        release_week(course, 1, exchange_root=exchange)
    with pytest.raises(ScheduleError, match="week 7 is not in"):
        release_week(course, 7, exchange_root=exchange)
    assert not exchange.exists() and not (course.root / "gradebook.db").exists()


def test_release_week_releases_sets_due_dates_and_reruns(tmp_path):
    from nbgrader.api import Gradebook

    course = _scratch_course(tmp_path, (ASSIGNMENT, EXTRA))
    schedule = course.root / "schedule.toml"
    schedule.write_text(f"[week.1]\n{ASSIGNMENT} = 2026-12-06T23:59:00+08:00\n{EXTRA} = 2026-12-07T12:00:00Z\n",
                        encoding="utf-8")
    exchange = tmp_path / "exchange"
    exchange.mkdir(mode=0o777)
    first = release_week(course, 1, exchange_root=exchange)
    assert [(r.assignment, r.action, r.generated) for r in first] == [(ASSIGNMENT, "released", True),
                                                                    (EXTRA, "released", True)]
    for name in (ASSIGNMENT, EXTRA):
        assert (exchange / COURSE_ID / "outbound" / name / f"{ASSIGNMENT}.ipynb").is_file()
    schedule.write_text(schedule.read_text().replace("2026-12-06T23:59:00+08:00", "2026-12-08T09:30:00+08:00"))
    second = release_week(course, 1, exchange_root=exchange)
    assert [(r.action, r.generated) for r in second] == [("already released", False)] * 2
    with Gradebook(course.db_url, course.course_id) as gb:
        assert gb.find_assignment(ASSIGNMENT).duedate == datetime(2026, 12, 8, 1, 30)  # UTC, as nbgrader stores it
        assert gb.find_assignment(EXTRA).duedate == datetime(2026, 12, 7, 12, 0)
    assert [r.action for r in release_week(course, 1, exchange_root=exchange, force=True)] == ["re-released"] * 2


# ============================================================================= roster


ROSTER_ROWS = [("kefu001", "王芳", "wangfang@example.cn"), ("kefu002", "欧阳娜娜", ""), ("kefu003", "李　小龙", ""),
               ("kefu004", "阿依古丽·买买提", "ayiguli@example.cn")]


def _write_csv(path: Path, header=("学号", "姓名", "邮箱"), rows=ROSTER_ROWS, encoding="utf-8-sig") -> Path:
    lines = [",".join(header)] + [",".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def _students(course: Course) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url, course.course_id) as gb:
        return {s.id: (s.last_name, s.first_name, s.email) for s in gb.students}


def test_split_name():
    assert split_name("王芳") == ("王", "芳")
    assert split_name("欧阳娜娜") == ("欧阳", "娜娜")
    assert split_name("欧阳") == ("欧", "阳")  # two characters: surname + given name
    assert split_name("李　小龙") == ("李", "小龙")
    assert split_name("阿依古丽·买买提") == ("阿依古丽·买买提", None)
    assert split_name("Li Wei") == ("Li Wei", None)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_roster_csv_with_chinese_headers(tmp_path, encoding):
    course = _scratch_course(tmp_path)
    result = import_roster(course, _write_csv(tmp_path / "名单.csv", encoding=encoding))
    assert (result.created, result.updated, result.unchanged) == (4, 0, 0)
    assert _students(course) == {
        "kefu001": ("王", "芳", "wangfang@example.cn"), "kefu002": ("欧阳", "娜娜", None),
        "kefu003": ("李", "小龙", None), "kefu004": ("阿依古丽·买买提", None, "ayiguli@example.cn"),
    }
    again = import_roster(course, _write_csv(tmp_path / "名单.csv", encoding=encoding))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)


def test_roster_excel_with_english_headers_and_numeric_ids(tmp_path):
    from openpyxl import Workbook

    course = _scratch_course(tmp_path)
    import_roster(course, _write_csv(tmp_path / "first.csv", rows=[("2024001", "张三", "")]))
    book = Workbook()
    sheet = book.active
    sheet.title = "学员"
    sheet.append(["Student ID", "Name", "E-mail", "备注"])
    sheet.append([2024001, "张伟", "zhangwei@example.cn", "updated"])
    sheet.append([None, None, None, None])  # a blank row is skipped
    sheet.append([2024002, "司马光", None, "new"])
    book.save(tmp_path / "roster.xlsx")
    result = import_roster(course, tmp_path / "roster.xlsx")
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    assert _students(course) == {"2024001": ("张", "伟", "zhangwei@example.cn"), "2024002": ("司马", "光", None)}


def test_roster_bad_rows_are_named_and_nothing_is_written(tmp_path):
    course = _scratch_course(tmp_path)
    rows = [("kefu001", "王芳", ""), ("", "无学号", ""), ("kefu003", "李四", "not-an-email"), ("kefu001", "重复", ""),
            ("kefu 005", "空格", "")]
    with pytest.raises(RosterError) as error:
        import_roster(course, _write_csv(tmp_path / "bad.csv", rows=rows))
    message = str(error.value)
    assert "nothing imported" in message
    assert "row 3: missing id" in message
    assert "row 4: 'not-an-email' is not an email address" in message
    assert "row 5: duplicate id 'kefu001' (already on row 2)" in message
    assert "row 6: id 'kefu 005'" in message
    assert not _students(course)


def test_roster_without_id_column_names_the_columns(tmp_path):
    with pytest.raises(RosterError, match="no id column.*'姓名'"):
        parse_roster(_write_csv(tmp_path / "r.csv", header=("编码x", "姓名", "邮箱")))


# ============================================================================= round trip with real accounts


def _skip_reason() -> str | None:
    if not sys.platform.startswith("linux"):
        return "the exchange round trip needs Linux accounts"
    if os.geteuid() != 0:
        return ("the exchange round trip creates real Unix accounts with useradd and runs nbgrader as them: "
                "run the tests as root (as CI does) to include it")
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/bin", "/bin"])
    for tool in ("useradd", "userdel", "runuser"):
        if not shutil.which(tool, path=search):
            return f"`{tool}` not found: the exchange round trip needs it to create and use real accounts"
    return None


def _tool(name: str) -> str:
    return shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/bin"]))


@dataclass(frozen=True)
class Account:
    name: str
    home: Path


class Sandbox:
    """A /tmp folder with the exchange, the course and the accounts' homes; the accounts themselves."""

    def __init__(self):
        self.tag = secrets.token_hex(3)
        self.dir = Path(tempfile.mkdtemp(prefix="kefu-exchange-"))
        self.dir.chmod(0o755)  # mkdtemp makes it 0700: the accounts must reach what is inside
        self.homes = self.dir / "home"
        self.homes.mkdir(mode=0o755)
        self.exchange = self.dir / "exchange"
        self.exchange.mkdir()
        # nbgrader: the exchange root is writable by everyone (`chmod ugo+rwx`); the sticky bit
        # keeps a trainee from renaming or deleting the instructor's course folder in it.
        self.exchange.chmod(0o1777)
        self.accounts: list[Account] = []
        self.bin: Path | None = None
        self.env: dict[str, str] = {}
        self.python_note = ""

    # ------------------------------------------------------------------ accounts

    def add_account(self, role: str) -> Account:
        account = Account(f"kefu_{role}_{self.tag}", self.homes / f"kefu_{role}_{self.tag}")
        subprocess.run([_tool("useradd"), "-m", "-d", str(account.home), "-s", "/bin/sh", account.name],
                       check=True, capture_output=True, text=True)
        self.accounts.append(account)
        account.home.chmod(0o700)  # a trainee's home is private (Debian's default may be 0755)
        return account

    def close(self) -> None:
        for account in self.accounts:
            done = subprocess.run([_tool("userdel"), "-r", account.name], capture_output=True, text=True)
            if done.returncode not in (0, 12):  # 12: home already gone
                subprocess.run([_tool("userdel"), "-f", "-r", account.name], capture_output=True, text=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def give(self, account: Account, path: Path) -> None:
        """chown -R path to the account (files the test prepares on its behalf)."""
        import pwd

        entry = pwd.getpwnam(account.name)
        for folder, dirs, files in os.walk(path):
            for name in [folder, *(os.path.join(folder, f) for f in dirs + files)]:
                os.chown(name, entry.pw_uid, entry.pw_gid)

    def write(self, account: Account, path: Path, text: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.give(account, path.parent if path.parent != account.home else path)
        return path

    # ------------------------------------------------------------------ running as an account

    def run_as(self, account: Account, args, cwd: Path | None = None, check: bool = True, timeout: int = 300,
               bin_dir: Path | None = None) -> subprocess.CompletedProcess:
        bin_dir = bin_dir or self.bin
        env = {"HOME": account.home, "USER": account.name, "LOGNAME": account.name, "SHELL": "/bin/sh",
               "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8", **self.env}
        cmd = [_tool("runuser"), "-u", account.name, "--", "/usr/bin/env", "-i",
               *(f"{k}={v}" for k, v in env.items()), *map(str, args)]
        result = subprocess.run(cmd, cwd=cwd or account.home, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            pytest.fail(f"as {account.name}: {' '.join(map(str, args))} exited {result.returncode}\n"
                        f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}")
        return result

    def start_as(self, account: Account, args, cwd: Path, log: Path) -> subprocess.Popen:
        """A long-running command as ``account`` (same environment as ``run_as``), output to ``log``."""
        env = {"HOME": account.home, "USER": account.name, "LOGNAME": account.name, "SHELL": "/bin/sh",
               "PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": "1", **self.env}
        cmd = [_tool("runuser"), "-u", account.name, "--", "/usr/bin/env", "-i",
               *(f"{k}={v}" for k, v in env.items()), *map(str, args)]
        out = log.open("w", encoding="utf-8")
        return subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True)

    def python(self) -> Path:
        return self.bin / "python"

    def find_python(self, probe: Account) -> None:
        """bin/ with python, nbgrader, alembic and kefu that every account can execute."""
        check = ["-c", "import nbgrader, toolkit.grading.exchange"]
        venv_bin = Path(sys.executable).parent
        if self.run_as(probe, [venv_bin / "python", *check], check=False, bin_dir=venv_bin).returncode == 0:
            self.bin, self.python_note = venv_bin, f"the project venv ({venv_bin})"
            return
        # The venv's base interpreter is out of the accounts' reach (e.g. pyenv under /root, mode
        # 0700). Give them the SAME interpreter: hard links (copies only across filesystems) of its
        # binary, libpython and standard library inside this sandbox, with the venv's
        # site-packages added by a .pth file. Nothing outside the sandbox changes.
        base_exe = Path(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))
        base, version = Path(sys.base_prefix), f"python{sys.version_info.major}.{sys.version_info.minor}"
        dest = self.dir / "python"
        (dest / "bin").mkdir(parents=True)
        (dest / "lib").mkdir()
        _link(base_exe, dest / "bin" / version)
        (dest / "bin" / "python").symlink_to(version)
        for lib in (base / "lib").glob("libpython*.so*"):
            _link(lib, dest / "lib" / lib.name)
        shutil.copytree(base / "lib" / version, dest / "lib" / version, copy_function=_link, symlinks=True,
                        ignore=lambda folder, names: {"site-packages", "test", "idlelib", "turtledemo", "ensurepip"}
                        & set(names) if Path(folder) == base / "lib" / version else set())
        site = dest / "lib" / version / "site-packages"
        site.mkdir()
        (site / "kefu_lab_venv.pth").write_text(f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
        for script in ("nbgrader", "alembic", "kefu"):
            body = (venv_bin / script).read_text().split("\n", 1)[1]
            (dest / "bin" / script).write_text(f"#!{dest / 'bin' / 'python'}\n{body}")
            (dest / "bin" / script).chmod(0o755)
        self.bin = dest / "bin"
        # libpython (a --enable-shared build) and Jupyter data (nbconvert templates, kernel specs)
        self.env.update(LD_LIBRARY_PATH=str(dest / "lib"), JUPYTER_PATH=str(Path(sys.prefix) / "share" / "jupyter"))
        self.python_note = f"{base_exe} linked into {dest} with the venv's site-packages"
        probe_run = self.run_as(probe, [self.python(), *check], check=False)
        if probe_run.returncode != 0:
            pytest.skip(f"the test accounts cannot run {base_exe} with kefu-lab's packages: {probe_run.stderr[-500:]}")

    def nbgrader_config(self, account: Account) -> None:
        """~/.jupyter/nbgrader_config.py: the course and the exchange, as every account needs them."""
        self.write(account, account.home / ".jupyter" / "nbgrader_config.py",
                   f'c = get_config()\nc.CourseDirectory.course_id = "{COURSE_ID}"\n'
                   f'c.Exchange.root = "{self.exchange}"\n')


def _link(src, dst) -> None:
    """Hard link (no data copied); a copy when the sandbox is on another filesystem."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _schedule(due: dict[str, datetime]) -> str:
    lines = ['timezone = "Asia/Shanghai"', "", "[week.1]"]
    lines += [f"{name} = {when.isoformat(timespec='seconds')}" for name, when in due.items()]
    return "\n".join(lines) + "\n"


def _feedback_score(html: str) -> float:
    found = re.search(r"<h4>[^<]*\(Score: ([\d.]+) / ([\d.]+)\)</h4>", html)
    assert found, "no score heading in the feedback page"
    return float(found.group(1))


# Run as trainee A: every way to reach another trainee's work or the instructor's course.
PROBE = r"""
import glob, json, os, sys
exchange, course, other, other_home = sys.argv[1:5]
inbound = os.path.join(exchange, "kefu-lab", "inbound")
released = os.path.join(exchange, "kefu-lab", "outbound", "02_questions", "02_questions.ipynb")
notebook = os.path.join("02_questions", "02_questions.ipynb")

def find_submission():
    if not glob.glob(os.path.join(inbound, other + "+*")):  # glob cannot list the folder either
        raise FileNotFoundError("nothing matched")

attempts = {
    "list the exchange inbound": lambda: os.listdir(inbound),
    "find the other trainee's submission": find_submission,
    "list released feedback": lambda: os.listdir(os.path.join(exchange, "kefu-lab", "feedback")),
    "read the instructor's source": lambda: open(os.path.join(course, "source", notebook)).read(),
    "list the course folder": lambda: os.listdir(course),
    "read the gradebook": lambda: open(os.path.join(course, "gradebook.db"), "rb").read(),
    "read the other trainee's notebook": lambda: open(os.path.join(other_home, notebook)).read(),
    "list the other trainee's feedback": lambda: os.listdir(os.path.join(other_home, "02_questions", "feedback")),
    "change the released assignment": lambda: open(released, "a").write(" "),
    "rename the course in the exchange": lambda: os.rename(os.path.join(exchange, "kefu-lab"),
                                                           os.path.join(exchange, "mine")),
}
result = {}
for what, attempt in attempts.items():
    try:
        attempt()
        result[what] = "allowed"
    except Exception as exc:
        result[what] = type(exc).__name__
print(json.dumps(result))
"""


# Run as a hostile trainee in their home: a submission folder written into the inbound by hand
# (nbgrader's submit would copy link targets with the trainee's own rights; collect reads what is
# in the inbound with the instructor's).
HOSTILE_SUBMIT = r"""
import datetime, os, shutil, sys
exchange, course, student, kind = sys.argv[1:5]
stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
folder = os.path.join(exchange, "kefu-lab", "inbound", f"{student}+02_questions+{stamp}+hostile")
os.mkdir(folder)
notebook = os.path.join(folder, "02_questions.ipynb")
source = os.path.join(course, "source", "02_questions", "02_questions.ipynb")
if kind == "extras":
    shutil.copy(os.path.join("02_questions", "02_questions.ipynb"), notebook)
    os.symlink("/etc/shadow", os.path.join(folder, "shadow.txt"))
    os.symlink(source, os.path.join(folder, "model.txt"))
    os.symlink(course, os.path.join(folder, "course"))
    os.mkfifo(os.path.join(folder, "pipe.txt"), 0o644)
    with open("mine.txt", "w") as fh:
        fh.write("my own file, outside the submission")
    os.link("mine.txt", os.path.join(folder, "hard.txt"))
else:
    os.symlink(source, notebook)
secret = os.urandom(32).hex()  # what nbgrader's submit writes, so feedback can be released and fetched
cache = os.path.join(".local", "share", "jupyter", "nbgrader_cache", "kefu-lab", f"{student}+02_questions+{stamp}")
os.makedirs(cache)
if kind == "extras":
    shutil.copy(notebook, cache)
for where in (folder, cache):
    for name, text in (("timestamp.txt", stamp), ("submission_secret.txt", secret)):
        with open(os.path.join(where, name), "w") as fh:
            fh.write(text)
for name in os.listdir(folder):
    path = os.path.join(folder, name)
    if os.path.isfile(path) and not os.path.islink(path):
        os.chmod(path, 0o644)
os.chmod(folder, 0o755)
"""

# Text only the instructor's files hold: solutions and hidden tests (source/), /etc/shadow's first entry.
INSTRUCTOR_ONLY = ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "root:")


def _files_text(folder: Path) -> str:
    if not folder.exists():
        return ""
    return "".join(p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*")
                   if p.is_file() and not p.is_symlink())


@pytest.fixture(scope="module")
def round_trip():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    sandbox = Sandbox()
    try:
        yield _round_trip(sandbox)
    finally:
        if os.environ.get("KEFU_KEEP_EXCHANGE_SANDBOX"):  # debugging: keep accounts and files, remove by hand
            print(f"\n[exchange] kept {sandbox.dir} and accounts {[a.name for a in sandbox.accounts]}")
        else:
            sandbox.close()


def _round_trip(sb: Sandbox) -> dict:
    started = time.monotonic()
    instructor = sb.add_account("i")
    trainees = [sb.add_account(f"t{n}") for n in range(1, 5)]
    t1, t2, t3, t4 = trainees
    hostile = [sb.add_account("t5"), sb.add_account("t6")]  # links in the submission (see HOSTILE_SUBMIT)
    t5, t6 = hostile
    sb.find_python(trainees[0])
    for account in [instructor, *trainees, *hostile]:
        sb.nbgrader_config(account)

    # -- the instructor's course: private to the instructor (0700)
    course = sb.dir / "course"
    course.mkdir()
    config = (ROOT / "nbgrader_config.py").read_text(encoding="utf-8")
    (course / "nbgrader_config.py").write_text(config if "AssignLatePenalties" in config else config + LATE_POLICY,
                                               encoding="utf-8")
    for name in (ASSIGNMENT, EXTRA):
        shutil.copytree(ROOT / "source" / ASSIGNMENT, course / "source" / name)
    now = datetime.now(timezone.utc)
    due = {ASSIGNMENT: (now + timedelta(days=7)).replace(microsecond=0),
           EXTRA: (now + timedelta(days=14)).replace(microsecond=0)}
    (course / "schedule.toml").write_text(_schedule(due), encoding="utf-8")
    names = {t1: "王芳", t2: "欧阳娜娜", t3: "李小龙", t4: "阿依古丽·买买提", t5: "赵敏", t6: "钱多多"}
    (course / "名单.csv").write_text("学号,姓名,邮箱\n" + "".join(f"{a.name},{n},\n" for a, n in names.items()),
                                   encoding="utf-8-sig")
    sb.give(instructor, course)
    course.chmod(0o700)

    log: dict[str, str] = {}
    instr = lambda *args: sb.run_as(instructor, args, cwd=course)  # noqa: E731
    kefu_exchange = [sb.python(), "-m", "toolkit.cli"]  # `kefu release-week`, as the instructor types it
    log["roster"] = instr(*kefu_exchange, "roster", "名单.csv", "--root", course).stdout
    log["release"] = instr(*kefu_exchange, "release-week", "1", "--root", course).stdout

    # -- trainees fetch, answer and submit (one of them twice)
    with ThreadPoolExecutor(len(trainees)) as pool:
        list(pool.map(lambda t: sb.run_as(t, ["nbgrader", "fetch_assignment", ASSIGNMENT]), trainees + hostile))
    source_nb = nbformat.read(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)

    fetched = {t.name: nbformat.read(t.home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
               for t in trainees + hostile}

    def answer(trainee: Account, kind: str, seed: int) -> float:
        """The trainee's notebook as they would leave it: the fetched notebook with answers of ``kind``."""
        path = trainee.home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        nb, expected, _ = cohort.build(fetched[trainee.name], source_nb, kind, random.Random(seed))
        nbformat.write(nb, path)  # the file stays the trainee's (same inode, same owner)
        return expected

    expected = {t1.name: answer(t1, "perfect", 0), t2.name: answer(t2, "partial", 1)}
    first_t3 = answer(t3, "perfect", 0)
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda t: sb.run_as(t, ["nbgrader", "submit", ASSIGNMENT]), (t1, t2, t3)))
    expected[t3.name] = answer(t3, "partial", 0)  # resubmission: different answers, fewer points
    assert expected[t3.name] != first_t3
    sb.run_as(t3, ["nbgrader", "submit", ASSIGNMENT])
    # the hostile two file their submission folders into the inbound themselves
    expected[t5.name] = answer(t5, "perfect", 0)
    expected[t6.name] = 0.0  # their notebook is a link: counts as missing
    for account, kind in ((t5, "extras"), (t6, "notebook")):
        sb.run_as(account, [sb.python(), "-c", HOSTILE_SUBMIT, sb.exchange, course, account.name, kind])
    # t2 files their own (partial) notebook under t1's name; nbgrader's submit allows it, and its
    # collect would take it as t1's latest. kefu's collect must refuse it.
    forged = sb.run_as(t2, ["nbgrader", "submit", ASSIGNMENT, "--student", t1.name], check=False)

    # -- the deadline passes: the instructor moves it to now in schedule.toml and re-runs
    #    release-week (released assignments stay; the gradebook gets the new due date)
    deadline = (datetime.now(timezone.utc) + timedelta(seconds=1)).replace(microsecond=0)
    due[ASSIGNMENT] = deadline
    (course / "schedule.toml").write_text(_schedule(due), encoding="utf-8")
    log["release again"] = instr(*kefu_exchange, "release-week", "1", "--root", course).stdout
    while datetime.now(timezone.utc) <= deadline:
        time.sleep(0.1)
    expected[t4.name] = answer(t4, "perfect", 0)
    sb.run_as(t4, ["nbgrader", "submit", ASSIGNMENT])  # late

    # -- the instructor collects, grades, writes and releases feedback
    log["collect"] = instr("nbgrader", "collect", ASSIGNMENT).stderr
    log["grade"] = instr(sb.python(), "-m", "toolkit.cli", "grade", ASSIGNMENT, "--root", course, "--workers", "2",
                         "--quiet").stdout
    log["feedback"] = instr(sb.python(), "-m", "toolkit.cli", "feedback", ASSIGNMENT, "--root", course).stdout
    log["release feedback"] = instr("nbgrader", "release_feedback", ASSIGNMENT).stderr

    # -- trainees fetch their feedback
    with ThreadPoolExecutor(len(trainees)) as pool:
        list(pool.map(lambda t: sb.run_as(t, ["nbgrader", "fetch_feedback", ASSIGNMENT]), trainees + hostile))
    feedback = {t.name: {p.parent.name: p for p in sorted((t.home / ASSIGNMENT / "feedback").glob("*/*.html"))}
                for t in trainees}
    cache = lambda t: t.home / ".local/share/jupyter/nbgrader_cache" / COURSE_ID  # noqa: E731
    submitted = {t.name: sorted(parse_utc(p.read_text()) for p in cache(t).glob(f"*+{ASSIGNMENT}+*/timestamp.txt"))
                 for t in trainees}

    # -- trainee t1 tries to reach t2's work and the instructor's course
    probe = json.loads(sb.run_as(t1, [sb.python(), "-c", PROBE, sb.exchange, course, t2.name, t2.home]).stdout)
    collect_attempt = sb.run_as(t1, ["nbgrader", "collect", ASSIGNMENT], check=False)

    return dict(sandbox=sb, instructor=instructor, trainees=trainees, hostile=hostile, course=course, expected=expected,
                first_t3=first_t3, deadline=deadline, due=due, log=log, feedback=feedback, submitted=submitted,
                probe=probe, collect_attempt=collect_attempt, forged=forged, seconds=time.monotonic() - started,
                names={a.name: n for a, n in names.items()})


def test_round_trip_runs_as_real_accounts(round_trip):
    import pwd

    rt = round_trip
    print(f"\n[exchange] round trip in {rt['seconds']:.0f} s; accounts run {rt['sandbox'].python_note}")
    for account in [rt["instructor"], *rt["trainees"]]:
        assert pwd.getpwnam(account.name).pw_uid != 0
    uid = pwd.getpwnam(rt["instructor"].name).pw_uid
    assert (rt["course"] / "gradebook.db").stat().st_uid == uid
    assert all(p.stat().st_uid == uid for p in (rt["course"] / "submitted").rglob("*"))
    for trainee in rt["trainees"]:
        fetched = trainee.home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert fetched.stat().st_uid == pwd.getpwnam(trainee.name).pw_uid
    # nbgrader's exchange permissions: inbound is writable but not listable by others
    inbound = rt["sandbox"].exchange / COURSE_ID / "inbound"
    assert inbound.stat().st_mode & 0o7777 == 0o2733
    assert rt["sandbox"].exchange.stat().st_mode & 0o7777 == 0o1777
    assert (rt["sandbox"].exchange / COURSE_ID / "feedback").stat().st_mode & 0o777 == 0o711


def test_roster_and_week_release(round_trip):
    from nbgrader.api import Gradebook

    rt = round_trip
    assert "6 added" in rt["log"]["roster"]
    assert re.search(rf"{ASSIGNMENT} .* released, generated", rt["log"]["release"])
    assert re.search(rf"{EXTRA} .* released, generated", rt["log"]["release"])
    assert rt["log"]["release again"].count("already released") == 2
    outbound = rt["sandbox"].exchange / COURSE_ID / "outbound"
    assert sorted(p.name for p in outbound.iterdir()) == [ASSIGNMENT, EXTRA]
    with Gradebook(f"sqlite:///{rt['course'] / 'gradebook.db'}", COURSE_ID) as gb:
        assert gb.find_assignment(ASSIGNMENT).duedate == rt["deadline"].replace(tzinfo=None)
        assert gb.find_assignment(EXTRA).duedate == rt["due"][EXTRA].replace(tzinfo=None)
        students = {s.id: (s.last_name or "") + (s.first_name or "") for s in gb.students}
    assert students == rt["names"]


def test_scores_follow_the_answers_latest_submission_and_late_policy(round_trip):
    from nbgrader.api import Gradebook

    rt = round_trip
    t1, t2, t3, t4 = (t.name for t in rt["trainees"])
    totals = autograded_totals(rt["course"], ASSIGNMENT)
    assert totals == pytest.approx(rt["expected"])  # t3: the second submission's answers
    assert rt["expected"][t3] != rt["first_t3"]
    rows = gradebook_rows(rt["course"], ASSIGNMENT)
    policy = DailyLatePenalty(config=PyFileConfigLoader("nbgrader_config.py", path=str(rt["course"])).load_config())
    with Gradebook(f"sqlite:///{rt['course'] / 'gradebook.db'}", COURSE_ID) as gb:
        late = {s.student_id: s.total_seconds_late for s in gb.assignment_submissions(ASSIGNMENT)}
        stamps = {s.student_id: s.timestamp for s in gb.assignment_submissions(ASSIGNMENT)}
    assert late[t1] == late[t2] == late[t3] == 0
    assert late[t4] > 0
    penalty = policy.late_submission_penalty(t4, rt["expected"][t4], late[t4])
    assert penalty == pytest.approx(0.1 * rt["expected"][t4])  # one started day late, 10 % per day
    assert rows[(t4, ASSIGNMENT, "late")] == pytest.approx(penalty)
    assert all(not rows[(s, ASSIGNMENT, "late")] for s in (t1, t2, t3))
    # latest wins: t3 submitted twice; the graded submission is the second one
    assert len(rt["submitted"][t3]) == 2
    assert stamps[t3] == rt["submitted"][t3][-1]
    assert stamps[t4] > rt["deadline"].replace(tzinfo=None) > max(stamps[s] for s in (t1, t2, t3))
    assert "6 submissions: 5 graded, 1 not gradable" in rt["log"]["grade"]


def test_each_trainee_fetches_their_own_feedback(round_trip):
    rt = round_trip
    t4 = rt["trainees"][3].name
    penalties = {t4: round(0.1 * rt["expected"][t4], 4)}
    shown = {}
    for trainee in rt["trainees"]:
        pages = rt["feedback"][trainee.name]
        assert len(pages) == 1, f"{trainee.name}: expected feedback for exactly one submission, got {sorted(pages)}"
        html = next(iter(pages.values())).read_text(encoding="utf-8")
        shown[trainee.name] = _feedback_score(html)
        assert shown[trainee.name] == pytest.approx(rt["expected"][trainee.name] - penalties.get(trainee.name, 0))
        assert ("Late submission penalty" in html) == (trainee.name == t4)
        assert "BEGIN HIDDEN TESTS" not in html and "BEGIN SOLUTION" not in html
    assert len(set(shown.values())) == len(shown)  # every trainee's score differs: each page is their own
    print(f"\n[exchange] feedback scores: {shown}")


def test_a_trainee_cannot_reach_other_trainees_or_the_instructor(round_trip):
    rt = round_trip
    refused = {what: outcome for what, outcome in rt["probe"].items()}
    assert refused.pop("find the other trainee's submission") == "FileNotFoundError"  # inbound cannot be listed
    assert refused == {what: "PermissionError" for what in refused}, refused
    attempt = rt["collect_attempt"]
    assert attempt.returncode != 0 and "permissions" in attempt.stderr + attempt.stdout
    assert not (rt["trainees"][0].home / "submitted").exists()


def test_a_submission_filed_under_another_trainee_is_refused(round_trip):
    rt = round_trip
    t1, t2 = (t.name for t in rt["trainees"][:2])
    assert rt["forged"].returncode == 0  # nbgrader's submit lets t2 file under t1's name ...
    inbound = rt["sandbox"].exchange / COURSE_ID / "inbound"
    assert any(p.name.startswith(f"{t1}+{ASSIGNMENT}+") and p.owner() == t2 for p in inbound.iterdir())
    # ... kefu's collect refuses it, names both, and t1 is graded on their own notebook
    assert re.search(rf"Refused {re.escape(t1)}\+{ASSIGNMENT}\+.*filed under {re.escape(t1)} but submitted by {re.escape(t2)}",
                     rt["log"]["collect"])
    assert autograded_totals(rt["course"], ASSIGNMENT)[t1] == pytest.approx(rt["expected"][t1])


def test_nothing_outside_a_submission_reaches_anyone(round_trip):
    import stat

    rt = round_trip
    t5, t6 = rt["hostile"]
    course, collect, grade = rt["course"], rt["log"]["collect"], rt["log"]["grade"]
    # collect refused every link, the FIFO and the hard link, and said so
    for name, why in (("shadow.txt", "symbolic link to /etc/shadow refused"), ("model.txt", "symbolic link to "),
                      ("course", "symbolic link to "), ("pipe.txt", "named pipe (FIFO) refused"),
                      ("hard.txt", "hard link to a file outside the submission")):
        assert f"Refused in {t5.name}'s submission: {name}: {why}" in collect, name
    assert f"Refused in {t6.name}'s submission: {ASSIGNMENT}.ipynb: symbolic link to " in collect
    # t5's honest notebook is graded in full; t6 counts as missing, named in the summary
    totals = autograded_totals(course, ASSIGNMENT)
    assert totals[t5.name] == pytest.approx(rt["expected"][t5.name]) and rt["expected"][t5.name] > 0
    assert totals[t6.name] == 0
    row = {line.split()[0]: line for line in grade.splitlines() if line.startswith("kefu_")}
    assert " graded " in row[t5.name] and "at collect: shadow.txt: symbolic link to /etc/shadow refused" in row[t5.name]
    assert " missing " in row[t6.name] and f"at collect: {ASSIGNMENT}.ipynb: symbolic link to" in row[t6.name]
    assert sorted(p.name for p in (course / "submitted" / t5.name / ASSIGNMENT).iterdir()) == \
        [f"{ASSIGNMENT}.ipynb", "submission_secret.txt", "timestamp.txt"]
    assert not (course / "submitted" / t6.name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()
    # nothing of the instructor's or the system's in their submitted, autograded or feedback folders,
    # or in what they fetched back; no link or FIFO anywhere in the course's grading folders
    for account in (t5, t6):
        for step in ("submitted", "autograded", "feedback"):
            text = _files_text(course / step / account.name)
            # autograded/ is the instructor's: nbgrader restores the hidden tests there by design
            markers = [m for m in INSTRUCTOR_ONLY if not (step == "autograded" and m == "BEGIN HIDDEN TESTS")]
            assert not any(marker in text for marker in markers), (step, account.name)
        fetched = _files_text(account.home / ASSIGNMENT / "feedback")
        assert not any(marker in fetched for marker in INSTRUCTOR_ONLY), account.name
    assert list((t5.home / ASSIGNMENT / "feedback").glob("*/*.html")), "t5 was graded and gets feedback"
    assert not list((t6.home / ASSIGNMENT / "feedback").glob("*/*.html"))  # missing: nothing to fetch
    for step in ("submitted", "autograded", "feedback"):
        for path in (course / step).rglob("*"):
            assert not path.is_symlink() and not stat.S_ISFIFO(path.lstat().st_mode), path


def test_watch_returns_feedback_seconds_after_a_trainee_submits(round_trip, tmp_path):
    """`kefu grade --watch` as the instructor: a trainee resubmits, and their fetch_feedback finds the
    new submission's feedback with its score a few seconds later; the pass grades only them."""
    from nbgrader.api import Gradebook

    rt = round_trip
    sb, course, instructor = rt["sandbox"], rt["course"], rt["instructor"]
    t1 = rt["trainees"][0]
    log = sb.dir / "watch.log"
    watcher = sb.start_as(instructor, [sb.python(), "-m", "toolkit.cli", "grade", ASSIGNMENT, "--watch",
                                       "--interval", "1", "--root", course, "--workers", "1"], course, log)
    state = course / ".kefu-watch" / f"{ASSIGNMENT}.json"
    try:
        # first pass: the watcher has seen every submission already collected (it grades them once)
        submitted = sorted(p.name for p in (course / "submitted").iterdir())
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not (
                state.exists() and sorted(json.loads(state.read_text(encoding="utf-8"))) == submitted):
            assert watcher.poll() is None, log.read_text(encoding="utf-8")[-3000:]
            time.sleep(0.5)
        assert sorted(json.loads(state.read_text(encoding="utf-8"))) == submitted, log.read_text()[-3000:]
        before = log.read_text(encoding="utf-8")

        # t1 submits new answers (fewer points than their first, perfect submission)
        path = t1.home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        release_nb = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
        source_nb = nbformat.read(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
        nb, expected, _ = cohort.build(release_nb, source_nb, "partial", random.Random(5))
        assert expected != rt["expected"][t1.name]
        nbformat.write(nb, path)
        old_pages = set((t1.home / ASSIGNMENT / "feedback").glob("*/*.html"))
        submitted_at = time.monotonic()
        sb.run_as(t1, ["nbgrader", "submit", ASSIGNMENT])
        new_pages: set = set()
        while not new_pages and time.monotonic() - submitted_at < 120:
            time.sleep(0.5)
            sb.run_as(t1, ["nbgrader", "fetch_feedback", ASSIGNMENT])
            new_pages = set((t1.home / ASSIGNMENT / "feedback").glob("*/*.html")) - old_pages
        seconds = time.monotonic() - submitted_at
        assert new_pages, "no feedback for the new submission within 120 s:\n" + log.read_text()[-3000:]
        print(f"\n[exchange] --watch: submit -> feedback fetched by the trainee in {seconds:.1f} s")
        assert seconds <= 10, f"feedback took {seconds:.1f} s (goal: within 10 s of submitting)"
        html = next(iter(new_pages)).read_text(encoding="utf-8")
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
            sub = gb.find_submission(ASSIGNMENT, t1.name)
            graded, late = sub.code_score, sub.late_submission_penalty
        assert graded == pytest.approx(expected)  # the new answers' points, in nbgrader's gradebook
        assert _feedback_score(html) == pytest.approx(expected - late)
        # that pass graded t1 only: nothing else had changed
        passes = log.read_text(encoding="utf-8")[len(before):]
        graded_now = re.findall(rf"\[watch\] {ASSIGNMENT} (\S+): ", passes)
        assert graded_now == [t1.name], passes[-2000:]
    finally:
        os.killpg(watcher.pid, signal.SIGINT)  # Ctrl-C, to runuser and the watcher alike
        try:
            watcher.wait(30)
        except subprocess.TimeoutExpired:
            watcher.kill()
    assert watcher.returncode == 0, log.read_text(encoding="utf-8")[-3000:]
