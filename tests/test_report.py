"""`kefu report` and `kefu export` on a real graded cohort: late penalties agree with nbgrader's gradebook
and feedback, non-submitters are kept apart, the pages are Chinese with roster names, question texts and
the most common wrong answers (HTML-escaped), and the plots are drawn with a CJK font."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import warnings
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from toolkit.grading import cohort, report
from toolkit.grading.course import Course

ROOT = Path(__file__).resolve().parents[1]
KEFU = [sys.executable, "-m", "toolkit.cli"]
ASSIGNMENT = "02_questions"
DUE = datetime(2026, 12, 6, 15, 59)  # 23:59 in Shanghai, as schedule.toml has it (UTC, as nbgrader stores it)
PAYLOAD = '<img src=x onerror="window.__pwned=1">'
ROSTER = {"kefu001": "王芳", "kefu002": "欧阳娜娜", "kefu003": "李小龙", "kefu004": "张伟", "kefu005": "陈静",
          "kefu006": "<script>alert(1)</script>"}


def kefu(*args, cwd):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(KEFU + [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def fill(nb, answers: dict[str, str]) -> None:
    """Put the trainee's text into answer cells by grade id, the way the released notebook asks for it."""
    if hasattr(cohort, "fill_answers"):  # answers written as plain text (another branch)
        cohort.fill_answers(nb, answers)
        return
    for grade_id, text in answers.items():
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
        name = re.match(r"\s*(\S+)\s*=", cell.source).group(1)
        cell.source = f"{name} = {text!r}"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    import random

    from nbgrader.api import Gradebook

    course = tmp_path_factory.mktemp("report") / "course"
    course.mkdir()
    for name in ("nbgrader_config.py", "schedule.toml"):
        shutil.copy(ROOT / name, course)
    shutil.copytree(ROOT / "source", course / "source")
    shutil.copytree(ROOT / "release", course / "release")
    (course / "名单.csv").write_text("学号,姓名\n" + "".join(f"{k},{v}\n" for k, v in ROSTER.items()), encoding="utf-8")
    assert kefu("roster", "名单.csv", cwd=course).returncode == 0
    c = Course(course)
    c.generate(ASSIGNMENT)
    with Gradebook(c.db_url, c.course_id) as gb:
        gb.update_or_create_assignment(ASSIGNMENT, duedate=DUE)

    name = f"{ASSIGNMENT}.ipynb"
    source = nbformat.read(course / "source" / ASSIGNMENT / name, as_version=4)
    release = nbformat.read(course / "release" / ASSIGNMENT / name, as_version=4)
    plan = {  # trainee: (kind, answers changed, submitted at)
        "kefu001": ("perfect", {}, "2026-12-05 09:00:00"),
        "kefu002": ("perfect", {"q2-answer": "A"}, "2026-12-05 09:00:00"),
        "kefu003": ("perfect", {"q2-answer": "ａ", "q1-answer": PAYLOAD}, "2026-12-06 12:00:00"),
        "kefu004": ("perfect", {}, "2026-12-07 10:00:00"),  # 18 hours late: one started day, 10 %
        "kefu006": ("blank", {}, "2026-12-05 09:00:00"),
    }  # kefu005 never submits
    for student, (kind, answers, stamp) in plan.items():
        nb, _, _ = cohort.build(release, source, kind, random.Random(0))
        fill(nb, answers)
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / name)
        (folder / "timestamp.txt").write_text(f"{stamp}.000000 UTC")
    result = kefu("grade", ASSIGNMENT, "--workers", "2", "--quiet", cwd=course)
    assert result.returncode == 0, result.stderr[-3000:]
    result = kefu("feedback", ASSIGNMENT, cwd=course)
    assert result.returncode == 0, result.stderr[-3000:]
    for command in (["export"], ["report", ASSIGNMENT], ["report", "--all"]):
        result = kefu(*command, cwd=course)
        assert result.returncode == 0, result.stderr[-3000:]
    return course


# ----------------------------------------------------------------------------- late penalties


def test_late_penalty_agrees_in_gradebook_feedback_export_and_report(graded):
    from nbgrader.api import Gradebook

    c = Course(graded)
    with Gradebook(c.db_url, c.course_id) as gb:
        submission = gb.find_submission(ASSIGNMENT, "kefu004")
        raw, penalty = submission.score, submission.late_submission_penalty
    assert raw == pytest.approx(11) and penalty == pytest.approx(1.1)  # one started day: 10 % of 11
    final = raw - penalty

    page = (graded / "feedback" / "kefu004" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
    shown = re.search(r"\(Score: ([\d.]+) / ([\d.]+)\)", page)
    assert float(shown.group(1)) == pytest.approx(final)
    assert "Late submission penalty (Score: -1.1)" in page

    table = pd.read_csv(graded / "exports" / "grades.csv").set_index("student")
    assert table.loc["kefu004", ASSIGNMENT] == pytest.approx(final)
    assert table.loc["kefu004", "late_penalty"] == pytest.approx(penalty)
    assert table.loc["kefu004", "total"] == pytest.approx(final)
    assert table.loc["kefu001", ASSIGNMENT] == pytest.approx(11)  # on time: no penalty
    assert table.loc["kefu004", "name"] == "张伟"

    data = report.build(c, ASSIGNMENT)
    row = data["trainees"].set_index("student").loc["kefu004"]
    assert (row["raw_score"], row["late_penalty"], row["score"]) == pytest.approx((raw, penalty, final))
    html = (graded / "reports" / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
    assert "<td>张伟</td><td>kefu004</td><td>11</td><td>1.1</td><td>9.9</td>" in html


# ----------------------------------------------------------------------------- non-submitters


def test_non_submitters_are_apart_from_zero_scores(graded):
    c = Course(graded)
    data = report.build(c, ASSIGNMENT)
    assert list(data["absent"]["student"]) == ["kefu005"]
    assert "kefu005" not in set(data["trainees"]["student"])
    assert data["trainees"].set_index("student").loc["kefu006", "score"] == 0  # blank but submitted: a real 0
    questions = data["questions"].set_index("label")
    assert set(questions["trainees"]) == {5}  # difficulty over the five who submitted, not six
    assert questions.loc["第2题", "solved"] == pytest.approx(2 / 5)  # kefu001 and kefu004
    html = (graded / "reports" / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
    assert "<h2>未提交的学员</h2><p>陈静（kefu005）</p>" in html

    table = pd.read_csv(graded / "exports" / "grades.csv", keep_default_na=False).set_index("student")
    assert table.loc["kefu005", ASSIGNMENT] == "" and table.loc["kefu005", "not_submitted"] == ASSIGNMENT
    assert float(table.loc["kefu006", ASSIGNMENT]) == 0 and table.loc["kefu006", "not_submitted"] == ""


# ----------------------------------------------------------------------------- the page speaks Chinese


def test_report_in_chinese_with_question_texts_names_and_wrong_answers(graded):
    html = (graded / "reports" / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html
    for heading in ("成绩分布", "各题难度", "各技能掌握情况", "最需要帮助的学员", "未提交的学员"):
        assert f"<h2>{heading}</h2>" in html
    assert "<h1>作业报告：开放式与封闭式提问（02_questions）</h1>" in html
    assert "q1-test" not in html and "Weakest" not in html
    assert "客户说：“我的宽带又断了。”请写一个开放式问题" in html  # the question's own text
    for name in ("王芳", "欧阳娜娜", "李小龙", "张伟"):
        assert name in html
    data = report.build(Course(graded), ASSIGNMENT)
    wrong = data["questions"].set_index("label")["wrong"]
    assert wrong["第2题"] == [("A", 2), ("（未作答）", 1)]  # "ａ" (full width) is the same answer as "A"
    assert ("（未作答）", 1) in wrong["第1题"] and (PAYLOAD, 1) in wrong["第1题"]
    assert "A（2 人）" in html


def test_no_trainee_html_is_live_in_the_reports(graded):
    for page in ("02_questions", "course"):
        html = (graded / "reports" / f"{page}.html").read_text(encoding="utf-8")
        assert "<script" not in html and "onerror" not in html.replace("onerror=&quot;", "")
        assert "<img src=x" not in html
    html = (graded / "reports" / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;（1 人）" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the roster name, shown as text


def test_answer_text_is_the_one_reader():
    assert report.answer_text('回答1 = (\n    "您好"  # 在引号里写上你的答案\n)') == "您好"
    assert report.answer_text("回答3 = ['F', 'A', 'B']") == "F / A / B"
    assert report.answer_text("您好，请问有什么可以帮您？") == "您好，请问有什么可以帮您？"  # plain text answers
    assert report.answer_text("import os\nos.system('x')") == "import os\nos.system('x')"  # never run


# ----------------------------------------------------------------------------- the course-wide page


def test_course_page_behind_weakest_skill_and_weeks(graded):
    c = Course(graded)
    after_week_1 = datetime(2026, 12, 8, tzinfo=timezone.utc)
    data = report.build_course(c, now=after_week_1)
    behind = data["behind"]
    assert behind.loc["kefu005", "missing"] == [ASSIGNMENT]  # due and not submitted
    assert "kefu006" in behind.index and "kefu001" not in behind.index
    assert data["skills"].index[0] == "开放式与封闭式提问"
    weeks = data["weeks"].set_index("assignment")
    assert weeks.loc[ASSIGNMENT, "week"] == 1 and weeks.loc[ASSIGNMENT, "submitted"] == 5
    assert weeks.loc[ASSIGNMENT, "cohort"] == 6 and bool(weeks.loc[ASSIGNMENT, "is_due"])
    assert not weeks.loc["11_capstone", "is_due"] and weeks.loc["11_capstone", "week"] == 6
    out = report.render_course(c, graded / "reports" / "course-test.html", now=after_week_1)
    html = out.read_text(encoding="utf-8")
    for heading in ("进度落后的学员", "全班最薄弱的技能", "每周进度"):
        assert f"<h2>{heading}</h2>" in html
    assert "<td>陈静</td><td>kefu005</td><td>02_questions</td>" in html
    assert "<td>第1周</td><td>开放式与封闭式提问</td><td>02_questions</td><td>2026-12-06 23:59</td><td>5/6</td>" in html
    assert (graded / "reports" / "course.html").is_file()  # `kefu report --all` wrote it too


# ----------------------------------------------------------------------------- fonts


def test_plots_draw_chinese_with_a_cjk_font(graded):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from toolkit.fonts import CJK_FONTS, cjk_font

    font = cjk_font()
    if font is None:
        pytest.skip("no CJK font installed (scripts/system-deps.sh installs fonts-noto-cjk)")
    assert font in CJK_FONTS
    c = Course(graded)
    figures = {**report.figures(report.build(c, ASSIGNMENT)),
               **report.course_figures(report.build_course(c, now=datetime(2026, 12, 8, tzinfo=timezone.utc)))}
    assert set(figures) == {"distribution", "difficulty", "mastery", "skills", "weeks"}
    for name, fig in figures.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            FigureCanvasAgg(fig).print_png(io.BytesIO())  # outside any rc_context, as the page saves them
        missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
        assert not missing, (name, missing[:3])
        han = [t for t in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_fontname"))
               if re.search(r"[\u4e00-\u9fff]", t.get_text())]
        assert han, name
        assert {t.get_fontname() for t in han} == {font}, name  # the font matplotlib resolved and drew with
