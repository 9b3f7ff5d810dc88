"""`kefu report`: where the cohort is weak, in the instructor's language (Chinese pages).

``kefu report ASSIGNMENT`` (``render``): score distribution after late penalties, per-question
difficulty with the question's own text and the most common wrong answers, a per-skill mastery
heat-map over every assignment graded so far, the trainees who need help most, and who has not
submitted. ``kefu report --all`` (``render_course``): who is behind, which skill the cohort is
weakest in, and progress week by week (schedule.toml).

Rules: figures are nbgrader's (``export.submission_scores``: score after the late penalty);
trainees who never submitted are listed apart and never counted as 0 in difficulty or mastery;
names come from the roster (the gradebook's student names). Answers are trainee text: every
string put in the page is HTML-escaped, so no trainee HTML is ever live. Plots are matplotlib
PNGs drawn with a CJK font (``toolkit.fonts``), embedded in one self-contained HTML file.
"""

from __future__ import annotations

import ast
import base64
import html
import io
import re
import warnings
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from ..fonts import cjk_rc
from .course import Course
from .export import cell_scores, submission_scores

BEHIND_PERCENT = 60  # below this share of the points due so far, a trainee is "behind"
TOP_WRONG = 3  # wrong answers shown per question
_SHOWN_CHARS = 60  # an answer longer than this is cut in the page


class ReportError(ValueError):
    """Nothing to report (yet); the message says what to run first."""


# ----------------------------------------------------------------------------- reading notebooks


def answer_text(source: str) -> str:
    """What the trainee answered, from an answer cell's source: the ONE place answers are read.

    Answer cells are Python literals today (``回答1 = ("…")``, lists for orderings), and the
    sanitiser writes every kept answer back in that form; a cell holding plain text (answers in
    plain Chinese) is returned as it is. Never executed: ``ast.literal_eval`` only.
    """
    try:
        tree = ast.parse(source)
        values = [ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)]
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        return source.strip()
    if len(values) != 1 or len(tree.body) != 1:
        return source.strip()
    value = values[0]
    if isinstance(value, (list, tuple)):
        return " / ".join(str(v).strip() for v in value)
    return str(value).strip()


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _cells_by_id(path: Path) -> dict:
    import nbformat

    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception:  # noqa: BLE001 - an unreadable notebook simply has no answers to show
        return {}
    return {_nbgrader(c).get("grade_id"): c for c in nb.cells if _nbgrader(c).get("grade_id")}


def _stem(grade_id: str) -> str:
    """q3-test, q3-answer, q3-manual, q3-text -> q3."""
    return grade_id.rsplit("-", 1)[0] if "-" in grade_id else grade_id


def _plain(markdown: str) -> str:
    """The first paragraph of a markdown cell as one line of text (bold, code marks and links dropped)."""
    first = re.split(r"\n\s*\n", markdown.strip(), maxsplit=1)[0]
    text = re.sub(r"[*_`#>]+", "", first)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def question_texts(course: Course, assignment: str) -> dict[str, str]:
    """Grade id -> the question's own text, from the source notebook's ``qN-text`` markdown cell."""
    texts: dict[str, str] = {}
    for path in course.source_notebooks(assignment):
        cells = _cells_by_id(path)
        for grade_id, cell in cells.items():
            if _nbgrader(cell).get("grade"):
                text_cell = cells.get(f"{_stem(grade_id)}-text")
                texts[grade_id] = _plain(text_cell.source) if text_cell is not None else grade_id
    return texts


def question_label(grade_id: str) -> str:
    """A short Chinese label for plots: q3-test -> 第3题."""
    number = re.fullmatch(r"q(\d+)", _stem(grade_id))
    return f"第{number.group(1)}题" if number else grade_id


def skill_of(course: Course, assignment: str) -> str:
    """The skill an assignment assesses, in Chinese: its notebook title after 作业 N：."""
    for path in course.source_notebooks(assignment):
        cells = _cells_by_id(path)
        for cell in cells.values():
            if cell.cell_type == "markdown":
                title = re.search(r"^#\s+(.+)$", cell.source, re.M)
                if title:
                    return re.sub(r"^作业\s*\d+\s*[：:]\s*", "", title.group(1)).strip()
    return assignment


def _blank(text: str, stub: str) -> bool:
    return not text.strip("…. \u3000\n") or text == stub


def wrong_answers(course: Course, assignment: str, scores: pd.DataFrame) -> dict[str, list[tuple[str, int]]]:
    """Grade id of an autograded question -> [(answer, how many gave it)], most common first.

    ``scores`` holds the submitters' cells (student, question, score, max_score); an answer is
    wrong when its cell earned less than full marks. Answers are grouped after normalisation
    (Traditional/Simplified, full/half width), shown in their most common spelling (on a tie,
    the half-width one).
    """
    import unicodedata

    from ..normalize import normalize

    release = {p.name: _cells_by_id(course.root / "release" / assignment / p.name)
               for p in course.source_notebooks(assignment)}
    autograded: dict[tuple[str, str], dict] = {}
    counts: dict[str, Counter] = {}
    spelling: dict[tuple[str, str], Counter] = {}
    for row in scores.itertuples(index=False):
        if row.kind != "auto" or row.score >= row.max_score:
            continue
        key = (row.student, row.notebook)
        if key not in autograded:
            autograded[key] = _cells_by_id(course.root / "autograded" / row.student / assignment
                                           / f"{row.notebook}.ipynb")
        answer_id = f"{_stem(row.question)}-answer"
        cell = autograded[key].get(answer_id)
        if cell is None:
            text = "（无法读取的提交）"
        else:
            stub_cell = release.get(f"{row.notebook}.ipynb", {}).get(answer_id)
            text = answer_text(cell.source)
            if _blank(text, answer_text(stub_cell.source) if stub_cell is not None else ""):
                text = "（未作答）"
        group = normalize(text) or text
        spelling.setdefault((row.question, group), Counter())[text] += 1
        counts.setdefault(row.question, Counter())[group] += 1
    def shown(key) -> str:
        return max(spelling[key].items(), key=lambda kv: (kv[1], unicodedata.normalize("NFKC", kv[0]) == kv[0]))[0]

    return {q: [(shown((q, g)), n) for g, n in c.most_common(TOP_WRONG)] for q, c in counts.items()}


# ----------------------------------------------------------------------------- numbers


def _labels(frame: pd.DataFrame) -> pd.Series:
    """Roster name per row; the id is added where two trainees share a name."""
    twice = frame["name"].duplicated(keep=False)
    return frame["name"].where(~twice, frame["name"] + "（" + frame["student"] + "）")


def _mastery(course: Course, cells: pd.DataFrame, subs: pd.DataFrame) -> pd.DataFrame:
    """Trainee name x skill: share of points earned, over submitted assignments only."""
    graded = cells[cells["submitted"]]
    if graded.empty:
        return pd.DataFrame()
    skills = {a: skill_of(course, a) for a in graded["assignment"].unique()}
    label = dict(zip(subs["student"], _labels(subs.drop_duplicates("student"))))
    per = graded.assign(skill=graded["assignment"].map(skills)).groupby(["student", "skill"])[["score", "max_score"]].sum()
    mastery = (per["score"] / per["max_score"]).unstack("skill")
    mastery.index = [label.get(s, s) for s in mastery.index]
    order = [skills[a] for a in sorted(skills)]
    return mastery[list(dict.fromkeys(order))].sort_index()


def build(course: Course, assignment: str) -> dict:
    """The numbers of one assignment's report (also used by tests)."""
    subs = submission_scores(course, [assignment])
    if subs.empty or not subs["submitted"].any():
        raise ReportError(f"no grades for {assignment!r} in the gradebook: run `kefu grade {assignment}` first")
    subs = subs.assign(label=_labels(subs))
    submitted = subs[subs["submitted"]]
    trainees = submitted.assign(percent=100 * submitted["score"] / submitted["max_score"]).sort_values(["percent", "student"])
    absent = subs[~subs["submitted"]].sort_values("student")
    cells = cell_scores(course)
    this = cells[(cells["assignment"] == assignment) & cells["submitted"]]  # submitters only
    texts = question_texts(course, assignment)
    auto = this[this["kind"] == "auto"]
    questions = auto.groupby("question")[["score", "max_score"]].sum()
    questions["solved"] = questions["score"] / questions["max_score"]
    questions["trainees"] = auto.groupby("question")["student"].nunique()
    questions["text"] = [texts.get(q, q) for q in questions.index]
    questions["label"] = [question_label(q) for q in questions.index]
    questions = questions.sort_values(["solved", "label"])
    wrong = wrong_answers(course, assignment, auto)
    questions["wrong"] = [wrong.get(q, []) for q in questions.index]
    return {"assignment": assignment, "skill": skill_of(course, assignment), "trainees": trainees, "absent": absent,
            "questions": questions, "mastery": _mastery(course, cells, subs),
            "to_grade_by_hand": int(this["needs_manual_grade"].sum()),
            "late": int((submitted["late_penalty"] > 0).sum())}


# ----------------------------------------------------------------------------- plots


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110)


def figures(data: dict) -> dict:
    """The report's matplotlib figures, drawn with a CJK font (returned for the page and for tests)."""
    import matplotlib

    trainees, questions, mastery = data["trainees"], data["questions"], data["mastery"]
    out = {}
    with matplotlib.rc_context(cjk_rc()):
        fig = _figure(6, 3)
        ax = fig.subplots()
        ax.hist(trainees["percent"], bins=range(0, 101, 10), color="#4c72b0", edgecolor="white")
        ax.set(xlabel="得分率（%，扣除迟交分；人工评分题评完后计入）", ylabel="人数", title="成绩分布（已提交的学员）")
        out["distribution"] = fig

        fig = _figure(6, 0.4 * len(questions) + 1.2)
        ax = fig.subplots()
        ax.barh(questions["label"], questions["solved"] * 100, color="#dd8452")
        ax.set(xlim=(0, 100), xlabel="全班得分率（%）", title="各题难度（越短越难，只统计已提交的学员）")
        out["difficulty"] = fig

        fig = _figure(1.2 * max(3, mastery.shape[1]) + 2, 0.3 * len(mastery) + 1.8)
        ax = fig.subplots()
        image = ax.imshow(mastery.to_numpy(dtype=float), aspect="auto", cmap="RdYlGn", vmin=0, vmax=1)
        ax.set_xticks(range(mastery.shape[1]), list(mastery.columns), rotation=30, ha="right")
        ax.set_yticks(range(len(mastery)), list(mastery.index), fontsize=7)
        ax.set_title("各技能掌握情况（得分占比）")
        fig.colorbar(image, ax=ax, fraction=0.03)
        out["mastery"] = fig
    return out


def _png(fig) -> str:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # without any CJK font: draw anyway (boxes) rather than fail
        fig.savefig(buffer, format="png", bbox_inches="tight")
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


# ----------------------------------------------------------------------------- HTML


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _cut(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


def _table(header: list[str], rows: list[list[str]]) -> str:
    """An HTML table; cells are given already escaped."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="t"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _num(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}".rstrip("0")


_STYLE = ("body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;max-width:1050px;margin:2em auto;"
          "line-height:1.5} .t{border-collapse:collapse;margin:.5em 0} .t td,.t th{padding:3px 10px;"
          "border-bottom:1px solid #ddd;text-align:left;vertical-align:top} .note{color:#555;font-size:90%}")


def _page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f"<style>{_STYLE}</style></head><body>{body}</body></html>")


def _write(out: Path, page: str) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


def render(course: Course, assignment: str, out: Path) -> Path:
    data = build(course, assignment)
    trainees, questions, absent = data["trainees"], data["questions"], data["absent"]
    images = {k: _png(v) for k, v in figures(data).items()}

    question_rows = []
    for grade_id, q in questions.iterrows():
        wrong = "<br>".join(f"{_e(_cut(text))}（{n} 人）" for text, n in q["wrong"]) or "—"
        question_rows.append([_e(q["label"]), _e(q["text"]), f"{100 * q['solved']:.0f}%", _e(int(q["trainees"])), wrong])
    def rows(frame):
        return [[_e(t.name), _e(t.student), _num(t.raw_score), _num(t.late_penalty) if t.late_penalty else "—",
                 _num(t.score), _num(t.max_score), f"{t.percent:.0f}%"] for t in frame.itertuples()]

    header = ["姓名", "学号", "原始得分", "迟交扣分", "最终得分", "满分", "得分率"]
    absent_html = ("<p>" + "、".join(f"{_e(a.name)}（{_e(a.student)}）" for a in absent.itertuples()) + "</p>"
                   if len(absent) else "<p>所有学员都已提交。</p>")
    title = f"作业报告：{data['skill']}（{assignment}）"
    body = f"""<h1>{_e(title)}</h1>
<p>已提交 {len(trainees)} 人，未提交 {len(absent)} 人；平均得分率 {trainees['percent'].mean():.1f}%，
中位数 {trainees['percent'].median():.1f}%；迟交扣分 {data['late']} 人；还有 {data['to_grade_by_hand']} 个答案待人工评分。</p>
<h2>成绩分布</h2>{images['distribution']}
<h2>各题难度</h2>{images['difficulty']}
<p class="note">只统计已提交的学员；未提交的学员不算作 0 分。迟交扣分按整份作业扣，不计入各题得分率。</p>
{_table(["题号", "题目", "得分率", "作答人数", "常见错误答案（人数）"], question_rows)}
<h2>各技能掌握情况</h2>{images['mastery']}
<h2>最需要帮助的学员</h2>
{_table(header, rows(trainees.head(10)))}
<h2>未提交的学员</h2>{absent_html}
<details><summary>全部已提交学员的成绩（{len(trainees)} 人，按学号）</summary>
{_table(header, rows(trainees.sort_values("student")))}</details>"""
    return _write(out, _page(title, body))


# ----------------------------------------------------------------------------- the whole course


def _schedule(course: Course):
    """Week -> [(assignment, due)] from schedule.toml, or None when the course has none / it is invalid."""
    from .exchange import SCHEDULE_FILE, ScheduleError, load_schedule

    path = course.root / SCHEDULE_FILE
    if not path.is_file():
        return None
    try:
        return {week: [(d.assignment, d.due) for d in dues] for week, dues in sorted(load_schedule(path).items())}
    except ScheduleError:
        return None


def build_course(course: Course, now: datetime | None = None) -> dict:
    """The numbers of the course-wide page (also used by tests)."""
    now = now or datetime.now(timezone.utc)
    subs = submission_scores(course)
    if subs.empty or not subs["submitted"].any():
        raise ReportError("no grades in the gradebook yet: run `kefu grade ASSIGNMENT` first")
    subs = subs.assign(label=_labels(subs))
    graded = sorted(set(subs.loc[subs["submitted"], "assignment"]))
    schedule = _schedule(course)
    due_at = {a: d for week in (schedule or {}).values() for a, d in week}
    for a, naive in subs.drop_duplicates("assignment")[["assignment", "duedate"]].itertuples(index=False):
        if a not in due_at and pd.notna(naive):
            due_at[a] = naive.replace(tzinfo=timezone.utc)  # the gradebook keeps UTC
    # Assignments due by now; without any due date, those somebody has been graded on.
    due = sorted(a for a in set(subs["assignment"]) if (a in due_at and due_at[a] <= now)
                 or (a not in due_at and a in graded))
    # Points count over what is due, plus what a trainee already handed in ahead of the deadline.
    considered = subs[subs["assignment"].isin(due) | (subs["submitted"] & subs["assignment"].isin(graded))]
    per = considered.groupby("student").agg(name=("label", "first"), score=("score", "sum"), max_score=("max_score", "sum"))
    per["percent"] = 100 * per["score"] / per["max_score"].where(per["max_score"] > 0)
    missing = considered[~considered["submitted"]].groupby("student")["assignment"].agg(list)
    per["missing"] = [missing.get(s, []) for s in per.index]
    behind = per[(per["missing"].map(len) > 0) | (per["percent"] < BEHIND_PERCENT)]
    behind = behind.assign(n_missing=behind["missing"].map(len)).sort_values(["n_missing", "percent"], ascending=[False, True])

    cells = cell_scores(course)
    done = cells[cells["submitted"]]
    skills = {a: skill_of(course, a) for a in done["assignment"].unique()}
    skill_table = done.assign(skill=done["assignment"].map(skills)).groupby("skill")[["score", "max_score"]].sum()
    skill_table["mastery"] = skill_table["score"] / skill_table["max_score"]
    skill_table["trainees"] = done.assign(skill=done["assignment"].map(skills)).groupby("skill")["student"].nunique()
    skill_table = skill_table.sort_values("mastery")

    cohort = subs["student"].nunique()
    weeks = []
    plan = schedule or {i: [(a, due_at.get(a))] for i, a in enumerate(sorted(set(subs["assignment"])), 1)}
    for week, items in plan.items():
        for assignment, when in items:
            rows = subs[(subs["assignment"] == assignment) & subs["submitted"]]
            weeks.append({"week": week, "assignment": assignment, "skill": skill_of(course, assignment), "due": when,
                          "is_due": bool(when and when <= now), "submitted": len(rows), "cohort": cohort,
                          "mean": float((100 * rows["score"] / rows["max_score"]).mean()) if len(rows) else None})
    return {"behind": behind, "skills": skill_table, "weeks": pd.DataFrame(weeks), "due": due, "cohort": cohort,
            "by_week": schedule is not None, "now": now}


def course_figures(data: dict) -> dict:
    import matplotlib

    skills, weeks = data["skills"], data["weeks"]
    out = {}
    with matplotlib.rc_context(cjk_rc()):
        fig = _figure(6.5, 0.4 * len(skills) + 1.2)
        ax = fig.subplots()
        ax.barh(list(skills.index), skills["mastery"] * 100, color="#c44e52")
        ax.set(xlim=(0, 100), xlabel="全班得分率（%）", title="各技能全班掌握情况（最上面最薄弱）")
        ax.invert_yaxis()
        out["skills"] = fig

        per_week = weeks.groupby("week").agg(submitted=("submitted", "sum"), expected=("cohort", "sum"),
                                             mean=("mean", "mean"))
        fig = _figure(6.5, 3.2)
        ax = fig.subplots()
        x = [f"第{w}周" if data["by_week"] else f"第{w}项" for w in per_week.index]
        ax.bar(x, 100 * per_week["submitted"] / per_week["expected"], color="#8fb3d9", label="提交率")
        ax.plot(x, per_week["mean"], color="#dd8452", marker="o", label="平均得分率")
        ax.set(ylim=(0, 105), ylabel="%", title="每周进度")
        ax.legend(loc="upper right")
        out["weeks"] = fig
    return out


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None and pd.notna(value) else "—"


def render_course(course: Course, out: Path, now: datetime | None = None) -> Path:
    data = build_course(course, now)
    images = {k: _png(v) for k, v in course_figures(data).items()}
    behind_rows = [[_e(b["name"]), _e(student), "、".join(_e(a) for a in b["missing"]) or "—",
                    f"{b['percent']:.0f}%" if pd.notna(b["percent"]) else "—"]
                   for student, b in data["behind"].iterrows()]
    skill_rows = [[_e(skill), f"{100 * s.mastery:.0f}%", _e(int(s.trainees))] for skill, s in data["skills"].iterrows()]
    week_rows = [[_e(f"第{w.week}周" if data["by_week"] else w.week), _e(w.skill), _e(w.assignment), _e(_when(w.due)),
                  f"{w.submitted}/{w.cohort}", f"{w.mean:.0f}%" if w.mean is not None and pd.notna(w.mean) else "—",
                  "已截止" if w.is_due else "未截止"]
                  for w in data["weeks"].itertuples()]
    weakest = data["skills"].index[0]
    title = "全部作业总览"
    behind = (_table(["姓名", "学号", "缺交的作业（已截止）", "得分率"], behind_rows) if behind_rows
              else "<p>没有进度落后的学员。</p>")
    body = f"""<h1>{_e(title)}</h1>
<p>学员 {data['cohort']} 人；已截止的作业 {len(data['due'])} 份；全班最薄弱的技能：<b>{_e(weakest)}</b>
（得分率 {100 * data['skills']['mastery'].iloc[0]:.0f}%）。统计时间 {_e(_when(data['now'].astimezone()))}。</p>
<h2>进度落后的学员</h2>
<p class="note">缺交已截止的作业，或得分率低于 {BEHIND_PERCENT}%（计入已截止的作业和已提前提交的作业；缺交的已截止作业按 0 分计入这一栏）。</p>
{behind}
<h2>全班最薄弱的技能</h2>{images['skills']}
<p class="note">只统计已提交的作业；未提交不算作 0 分。</p>
{_table(["技能", "全班得分率", "已提交人数"], skill_rows)}
<h2>每周进度</h2>{images['weeks']}
{_table(["周次", "技能", "作业", "截止时间", "已提交", "平均得分率", "状态"], week_rows)}"""
    return _write(out, _page(title, body))
