"""Files in a submission: nothing outside it is ever read, at collect or at grade; results reach
the gradebook as each submission is graded; a stuck submission is timed out; tampering is named.

Real nbgrader throughout: a small two-question assignment is generated with `nbgrader
generate_assignment`, submissions go through a real exchange with `nbgrader collect` (kefu's
OwnerCheckedCollect, in one account, so without the owner check: tests/test_exchange.py does
the same with real accounts), and `kefu grade` runs as a subprocess.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from toolkit.grading.safe_files import Refused, UnsafeSubmission, copy_submission, printable

ROOT = Path(__file__).resolve().parents[1]
KEFU = [sys.executable, "-m", "toolkit.cli"]
A = "99_files"  # the small assignment these tests generate
NB = f"{A}.ipynb"
SECRET = "好的"  # the model answer of question 1
MARK = "INSTRUCTOR-ONLY-7f3a"  # a comment in the source's solution: must never reach a trainee's copy


def env(**extra) -> dict:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **extra}


def run(cmd, cwd, timeout=600, **extra) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env(**extra), capture_output=True, text=True,
                          timeout=timeout)


# ============================================================================= copy_submission


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    """A submission with one of every kind of entry, and a file outside it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("the instructor's secret")
    sub = tmp_path / "sub"
    (sub / "data").mkdir(parents=True)
    (sub / "answer.ipynb").write_text("{}")
    (sub / "data" / "notes.txt").write_text("mine")
    os.link(sub / "data" / "notes.txt", sub / "data" / "notes-again.txt")  # both names inside: fine
    (sub / "linked.txt").symlink_to(outside / "secret.txt")
    (sub / "dirlink").symlink_to(outside, target_is_directory=True)
    os.link(outside / "secret.txt", sub / "hard.txt")  # a second name for a file outside
    os.mkfifo(sub / "pipe.txt")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sub / "sock"))
    server.close()
    (sub / "bad\x1b[31mname").symlink_to("/etc/passwd")
    return sub, outside


def test_copy_refuses_links_pipes_sockets_and_outside_hard_links(tmp_path):
    sub, _ = _tree(tmp_path)
    done = {}
    worker = threading.Thread(target=lambda: done.update(refused=copy_submission(sub, tmp_path / "copy")), daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "copying blocked (a FIFO was opened)"
    refused = {r.path: r.why for r in done["refused"]}
    assert refused["linked.txt"].startswith("symbolic link to ") and "secret.txt" in refused["linked.txt"]
    assert refused["dirlink"].startswith("symbolic link")
    assert refused["pipe.txt"] == "named pipe (FIFO) refused"
    assert refused["sock"] == "socket refused"
    assert refused["hard.txt"].startswith("hard link to a file outside the submission (2 links, 1 inside)")
    copied = sorted(str(p.relative_to(tmp_path / "copy")) for p in (tmp_path / "copy").rglob("*"))
    assert copied == ["answer.ipynb", "data", "data/notes-again.txt", "data/notes.txt"]
    assert (tmp_path / "copy" / "data" / "notes.txt").read_text() == "mine"
    assert not any(p.is_symlink() for p in (tmp_path / "copy").rglob("*"))
    assert os.stat(tmp_path / "copy" / "data" / "notes.txt").st_nlink == 1  # copies, not links
    # the trainee's file name is shown with its escape sequence defused
    shown = [str(r) for r in done["refused"] if r.path.startswith("bad")]
    assert shown == ["bad\\x1b[31mname: symbolic link to /etc/passwd refused"]


def test_copy_refuses_a_linked_submission_folder_and_keeps_nbgrader_limits(tmp_path):
    sub, outside = _tree(tmp_path)
    (tmp_path / "link-to-folder").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafeSubmission, match="symbolic link"):
        copy_submission(tmp_path / "link-to-folder", tmp_path / "c1")
    assert not (tmp_path / "c1").exists()
    (sub / "big.bin").write_bytes(b"x" * 5000)
    refused = copy_submission(sub, tmp_path / "c2", exclude=["*.ipynb"], max_file_size=4000)
    assert Refused("big.bin", "larger than 4,000 bytes: dropped") in refused
    assert not (tmp_path / "c2" / "answer.ipynb").exists()  # excluded by name, like CourseDirectory.ignore
    with pytest.raises(UnsafeSubmission, match="larger than 1,000 bytes"):
        copy_submission(sub, tmp_path / "c3", max_total_size=1000)
    assert not (tmp_path / "c3").exists()


def test_printable_escapes_control_characters():
    assert printable("a\nb\x07") == "a\\nb\\x07"
    assert printable("王芳") == "王芳"
    assert len(printable("x" * 500)) == 120
    assert printable("/tmp/" + "d" * 300 + "/secret.txt").endswith("/secret.txt")  # the name survives the cut


# ============================================================================= a small real course


def _cell(kind: str, source: str, grade_id: str, **meta):
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "grade": False, "solution": False, "locked": False,
                                 "schema_version": 3, **meta}
    return cell


def _source_notebook():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        _cell("markdown", "# 小作业", "intro", locked=True),
        _cell("code", f"### BEGIN SOLUTION\n{SECRET}\n{MARK}\n### END SOLUTION", "q1-answer",
              solution=True),
        # the instructor's check is slow for one answer: a real stall, not a simulated one
        _cell("code", f'import time\nif 回答1 == "慢":\n    time.sleep(600)\nassert 回答1.splitlines()[0] == "{SECRET}"', "q1-test",
              grade=True, locked=True, points=1),
        _cell("code", "### BEGIN SOLUTION\nB\n### END SOLUTION", "q2-answer",
              solution=True),
        _cell("code", 'assert 回答2 == "B"', "q2-test", grade=True, locked=True, points=2),
    ]
    return nb


@pytest.fixture(scope="module")
def course_template(tmp_path_factory) -> Path:
    """nbgrader_config.py, source/ and the generated release/ of the small assignment."""
    course = tmp_path_factory.mktemp("template") / "course"
    (course / "source" / A).mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    nbformat.write(_source_notebook(), course / "source" / A / NB)
    result = run(["nbgrader", "generate_assignment", A, "--force"], course)
    assert result.returncode == 0, result.stderr[-2000:]
    (course / "gradebook.db").unlink()  # each test's kefu grade generates its own
    return course


def new_course(template: Path, tmp_path: Path) -> Path:
    course = tmp_path / "course"
    shutil.copytree(template, course, symlinks=True)
    return course


def submission(course: Path, student: str, q1: str, q2: str, base: Path | None = None) -> Path:
    """A trainee's notebook: the released notebook with two answers filled in."""
    nb = nbformat.read(course / "release" / A / NB, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "q1-answer":
            cell.source = q1
        elif grade_id == "q2-answer":
            cell.source = q2
    folder = (base or course / "submitted" / student / A)
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / NB)
    (folder / "timestamp.txt").write_text("2026-11-20 09:00:00.000000 UTC")
    return folder


def scores(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "kefu-lab") as gb:
        return {s.student_id: s.code_score for s in gb.assignment_submissions(A)}


def rows(stdout: str) -> dict[str, str]:
    return {line.split()[0]: line for line in stdout.splitlines() if line.startswith(("trainee", "t_"))}


def everything_under(folder: Path) -> str:
    """Every byte of every regular file under ``folder`` (links not followed)."""
    return "".join(p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*")
                   if p.is_file() and not p.is_symlink())


# ============================================================================= kefu grade


def test_grade_never_reads_through_a_link(course_template, tmp_path):
    course = new_course(course_template, tmp_path)
    source_nb = course / "source" / A / NB
    honest = submission(course, "t_honest", SECRET, "B")
    (honest / "notes.txt").write_text("我的笔记")
    # the notebook is a symlink to the instructor's source: must count as missing, not full marks
    linker = submission(course, "t_symlink", "", "")
    (linker / NB).unlink()
    (linker / NB).symlink_to(source_nb)
    (linker / "passwd.txt").symlink_to("/etc/passwd")
    (linker / "answers.txt").symlink_to(source_nb)
    # a hard link to the source notebook (as a trainee with access could make it)
    hard = submission(course, "t_hardlink", "", "")
    (hard / NB).unlink()
    os.link(source_nb, hard / NB)
    # a FIFO notebook would block any reader for ever; a FIFO extra too
    piper = submission(course, "t_fifo", SECRET, "B")
    os.mkfifo(piper / "pipe.txt")
    fifo_nb = submission(course, "t_fifo_nb", "", "")
    (fifo_nb / NB).unlink()
    os.mkfifo(fifo_nb / NB)
    # the whole assignment folder a link to the source folder
    (course / "submitted" / "t_folderlink").mkdir()
    (course / "submitted" / "t_folderlink" / A).symlink_to(course / "source" / A, target_is_directory=True)

    result = run(KEFU + ["grade", A, "--workers", "2", "--quiet"], course, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = rows(result.stdout)
    got = scores(course)
    assert got == {"t_honest": 3, "t_symlink": 0, "t_hardlink": 0, "t_fifo": 3, "t_fifo_nb": 0, "t_folderlink": 0}
    assert " missing " in lines["t_symlink"] and f"{NB}: symbolic link to " in lines["t_symlink"]
    assert "notebook scored as missing" in lines["t_symlink"]
    assert "passwd.txt: symbolic link to /etc/passwd refused: dropped" in lines["t_symlink"]
    assert f"{NB}: hard link to a file outside the submission" in lines["t_hardlink"]
    assert " graded " in lines["t_fifo"] and "pipe.txt: named pipe (FIFO) refused: dropped" in lines["t_fifo"]
    assert f"{NB}: named pipe (FIFO) refused" in lines["t_fifo_nb"]
    assert " refused " in lines["t_folderlink"] and "symbolic link" in lines["t_folderlink"]
    # nothing of the source or the system was copied for the trainees
    autograded = course / "autograded"
    assert (autograded / "t_honest" / A / "notes.txt").read_text(encoding="utf-8") == "我的笔记"
    assert MARK not in everything_under(autograded) and "root:" not in everything_under(autograded)
    assert not any(p.is_symlink() or stat.S_ISFIFO(p.lstat().st_mode) for p in autograded.rglob("*"))

    result = run(KEFU + ["feedback", A], course, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    feedback = course / "feedback"
    assert sorted(p.name for p in feedback.iterdir()) == ["t_fifo", "t_honest"]
    assert MARK not in everything_under(feedback) and "root:" not in everything_under(feedback)


def test_plain_collect_refuses_links_and_notes_them_for_grade(course_template, tmp_path):
    """`nbgrader collect` (kefu's OwnerCheckedCollect) from a real exchange, then `kefu grade`."""
    course = new_course(course_template, tmp_path)
    exchange = tmp_path / "exchange"
    inbound = exchange / "kefu-lab" / "inbound"
    inbound.mkdir(parents=True)
    stamp = "2026-11-20 09:00:00.000000 UTC"
    honest = submission(course, "", SECRET, "B", base=inbound / f"t_honest+{A}+{stamp}+a1")
    hostile = submission(course, "", SECRET, "B", base=inbound / f"t_hostile+{A}+{stamp}+b2")
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("the trainee's file outside the submission")
    (hostile / "shadow.txt").symlink_to("/etc/shadow")
    (hostile / "source.ipynb").symlink_to(course / "source" / A / NB)
    os.mkfifo(hostile / "pipe.txt")
    os.link(outside, hostile / "hard.txt")
    (hostile / "sub").mkdir()
    (hostile / "sub" / "up").symlink_to(course, target_is_directory=True)
    # a trainee whose notebook itself is a link to the instructor's source
    linker = submission(course, "", "", "", base=inbound / f"t_linker+{A}+{stamp}+c3")
    (linker / NB).unlink()
    (linker / NB).symlink_to(course / "source" / A / NB)
    assert honest.is_dir()

    result = run(["nbgrader", "collect", A, f"--Exchange.root={exchange}", "--ExchangeCollect.check_owner=False"],
                 course, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stderr
    assert "Refused in t_hostile's submission: shadow.txt: symbolic link to /etc/shadow refused" in log
    assert "Refused in t_hostile's submission: pipe.txt: named pipe (FIFO) refused" in log
    assert "hard.txt: hard link to a file outside the submission" in log
    assert f"Refused in t_linker's submission: {NB}: symbolic link to" in log
    submitted = course / "submitted"
    assert sorted(p.name for p in (submitted / "t_hostile" / A).rglob("*")) == [NB, "sub", "timestamp.txt"]
    assert not (submitted / "t_linker" / A / NB).exists()
    assert not any(p.is_symlink() for p in submitted.rglob("*"))
    assert MARK not in everything_under(submitted)
    assert "elsewhere" not in everything_under(submitted)

    result = run(KEFU + ["grade", A, "--workers", "2", "--quiet"], course, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = rows(result.stdout)
    assert scores(course) == {"t_honest": 3, "t_hostile": 3, "t_linker": 0}
    assert "at collect: shadow.txt: symbolic link to /etc/shadow refused" in lines["t_hostile"]
    assert " missing " in lines["t_linker"] and f"at collect: {NB}: symbolic link to" in lines["t_linker"]
    assert "no notebook submitted" in lines["t_linker"]


# ============================================================================= results as they come


def _running_jobs_gone(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)  # the workers of the killed run (its own session)
    except ProcessLookupError:
        pass


def test_a_killed_run_keeps_what_it_graded(course_template, tmp_path):
    course = new_course(course_template, tmp_path)
    submission(course, "t_a", SECRET, "B")  # 3 points
    submission(course, "t_b", "", "B")  # 2 points
    submission(course, "t_c", "慢", "B")  # its check sleeps 600 s
    submission(course, "t_d", SECRET, "")  # 1 point, never reached
    process = subprocess.Popen([*KEFU, "grade", A, "--workers", "1", "--quiet"], cwd=course,
                               env=env(KEFU_CELL_TIMEOUT="900"), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        got = {}
        while time.monotonic() < deadline:
            if (course / "gradebook.db").exists():
                try:
                    got = {s: v for s, v in scores(course).items() if s in ("t_a", "t_b")}
                except Exception:  # the schema is still being created
                    got = {}
            if len(got) == 2 and process.poll() is None:
                break
            time.sleep(0.5)
        assert process.poll() is None, process.communicate()
        time.sleep(2)  # t_c is now being graded: its check sleeps
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        _running_jobs_gone(process.pid)
    final = scores(course)
    assert final["t_a"] == 3 and final["t_b"] == 2  # graded before the kill: kept
    assert "t_d" not in final  # never graded; t_c had no result either
    assert final.get("t_c") is None or final["t_c"] == 0


def test_a_stuck_submission_times_out_and_the_rest_finish(course_template, tmp_path):
    course = new_course(course_template, tmp_path)
    submission(course, "t_a", SECRET, "B")
    submission(course, "t_slow", "慢", "B")
    submission(course, "t_b", "", "B")
    submission(course, "t_c", SECRET, "")
    started = time.monotonic()
    result = run(KEFU + ["grade", A, "--workers", "2", "--quiet", "--timeout", "45"], course, timeout=300,
                 KEFU_CELL_TIMEOUT="900")
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    print(f"\n[files] 4 submissions, one stuck, --timeout 45: {seconds:.1f} s")
    lines = rows(result.stdout)
    assert " timed out " in lines["t_slow"] and "longer than 45 s" in lines["t_slow"]
    assert scores(course) == {"t_a": 3, "t_slow": 0, "t_b": 2, "t_c": 1}
    assert seconds < 200  # nowhere near the 600 s the stuck check would take
    bad = run(KEFU + ["grade", A, "--timeout", "-3"], course)
    assert bad.returncode != 0 and "positive number of seconds" in bad.stderr and "Traceback" not in bad.stderr


# ============================================================================= tampering


def test_tampering_is_named_and_restored(course_template, tmp_path):
    course = new_course(course_template, tmp_path)
    folder = submission(course, "t_tamper", SECRET, "B")
    nb = nbformat.read(folder / NB, as_version=4)
    by_id = {c.metadata.nbgrader.grade_id: c for c in nb.cells if "nbgrader" in c.metadata}
    by_id["q1-test"].metadata.nbgrader["points"] = 99
    by_id["q1-test"].source = "pass  # 满分"
    by_id["q2-test"].metadata.nbgrader["grade"] = False  # nbgrader alone fails: inconsistent checksums
    by_id["q2-answer"].cell_type = "markdown"
    by_id["q2-answer"].pop("outputs")
    by_id["q2-answer"].pop("execution_count")
    by_id["intro"].source = "改过的说明"
    nbformat.write(nb, folder / NB)
    submission(course, "t_plain", SECRET, "B")
    result = run(KEFU + ["grade", A, "--quiet"], course, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    line = rows(result.stdout)["t_tamper"]
    assert " graded " in line, line
    assert "test cell q1-test edited (restored)" in line
    assert "nbgrader metadata changed: points of q1-test 1 -> 99 (restored)" in line
    assert "nbgrader metadata changed: grade of q2-test True -> False (restored)" in line
    assert "cell type of answer cell q2-answer changed: code -> markdown (restored)" in line
    assert "read-only cell intro edited (restored)" in line
    assert "..." not in line and "…" not in line  # not cut off
    got = scores(course)
    assert got["t_plain"] == 3
    assert got["t_tamper"] in (1, 3)  # q1 honest; q2's answer became markdown (nbgrader retypes it back)


def test_plain_nbgrader_autograde_refuses_a_linked_submission(course_template, tmp_path):
    """Without kefu grade: nbgrader's own autograde, with kefu's first sanitising step."""
    course = new_course(course_template, tmp_path)
    submission(course, "t_honest", SECRET, "B")
    linker = submission(course, "t_symlink", "", "")
    (linker / NB).unlink()
    (linker / NB).symlink_to(course / "source" / A / NB)
    extra = submission(course, "t_extra", SECRET, "B")
    (extra / "passwd.txt").symlink_to("/etc/passwd")
    assert run(["nbgrader", "generate_assignment", A, "--force"], course).returncode == 0
    result = run(["nbgrader", "autograde", A, "--create", "--force"], course, timeout=300)
    assert result.returncode != 0  # nbgrader reports the refused submissions as errors
    log = result.stdout + result.stderr
    assert f"kefu: submission refused (grade it with `kefu grade`, which drops these): {NB}: symbolic link refused" in log
    assert "passwd.txt: symbolic link refused" in log
    got = scores(course)
    assert got["t_honest"] == 3 and got["t_symlink"] == 0 and got["t_extra"] == 0  # not the model answers' 3
    assert not (course / "autograded" / "t_symlink" / A).exists() and not (course / "autograded" / "t_extra" / A).exists()
