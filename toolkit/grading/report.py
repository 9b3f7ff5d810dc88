"""`kefu report ASSIGNMENT`: an HTML picture of where the cohort is weak.

Score distribution, per-question difficulty, a per-skill mastery heat-map (trainees x
modules, over every assignment graded so far), and the weakest trainees and questions.
Plots are matplotlib PNGs embedded in one self-contained HTML file.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .course import Course  # noqa: E402
from .export import cell_scores  # noqa: E402

# Assignment id prefix -> the skill (course module) it assesses, in English for instructors.
SKILLS = {
    "01": "listening", "02": "questions", "03": "FAB", "04": "SPIN", "05": "3F", "06": "complaint types",
    "07": "phrases", "08": "telephone", "09": "complaint handling", "10": "service cycle", "11": "capstone",
}


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def skill_of(assignment: str) -> str:
    return SKILLS.get(assignment[:2], assignment)


def build(course: Course, assignment: str) -> dict:
    """The report's numbers (also used by tests): per trainee, per question, per skill."""
    cells = cell_scores(course)
    if cells.empty or assignment not in set(cells["assignment"]):
        raise SystemExit(f"no grades for {assignment!r} in the gradebook: run `kefu grade {assignment}` first")
    this = cells[cells["assignment"] == assignment]
    auto = this[this["kind"] == "auto"]
    trainees = this.groupby("student")[["score", "max_score"]].sum()
    trainees["percent"] = 100 * trainees["score"] / trainees["max_score"]
    questions = auto.groupby("question")[["score", "max_score"]].sum()
    questions["solved"] = questions["score"] / questions["max_score"]
    graded = cells[cells["submitted"]]
    skills = graded.assign(skill=graded["assignment"].map(skill_of)).groupby(["student", "skill"])[["score", "max_score"]].sum()
    mastery = (skills["score"] / skills["max_score"]).unstack("skill").sort_index()
    return {"trainees": trainees.sort_values("percent"), "questions": questions.sort_values("solved"),
            "mastery": mastery, "to_grade_by_hand": int(this["needs_manual_grade"].sum())}


def render(course: Course, assignment: str, out: Path) -> Path:
    data = build(course, assignment)
    trainees, questions, mastery = data["trainees"], data["questions"], data["mastery"]

    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(trainees["percent"], bins=[0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], color="#4c72b0", edgecolor="white")
    ax.set(xlabel="score (% of maximum, manual tasks count once graded)", ylabel="trainees", title="Score distribution")
    distribution = _png(fig)

    fig, ax = plt.subplots(figsize=(6, 0.4 * len(questions) + 1))
    ax.barh(questions.index, questions["solved"] * 100, color="#dd8452")
    ax.set(xlim=(0, 100), xlabel="% of points earned by the cohort", title="Per-question difficulty (lowest = hardest)")
    difficulty = _png(fig)

    fig, ax = plt.subplots(figsize=(1.2 * max(3, mastery.shape[1]) + 2, 0.25 * len(mastery) + 1.5))
    image = ax.imshow(mastery.to_numpy(dtype=float), aspect="auto", cmap="RdYlGn", vmin=0, vmax=1)
    ax.set_xticks(range(mastery.shape[1]), mastery.columns, rotation=30, ha="right")
    ax.set_yticks(range(len(mastery)), mastery.index, fontsize=7)
    ax.set_title("Mastery per skill (share of points)")
    fig.colorbar(image, ax=ax, fraction=0.03)
    heatmap = _png(fig)

    def table(frame: pd.DataFrame) -> str:
        return frame.round(2).to_html(classes="t", border=0, escape=True)

    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>kefu-lab report: {html.escape(assignment)}</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto}} .t td,.t th{{padding:2px 8px}}</style></head>
<body><h1>Cohort report: {html.escape(assignment)} ({html.escape(skill_of(assignment))})</h1>
<p>{len(trainees)} trainees; mean {trainees['percent'].mean():.1f}%; median {trainees['percent'].median():.1f}%;
{data['to_grade_by_hand']} answers still to grade by hand.</p>
<h2>Score distribution</h2>{distribution}
<h2>Per-question difficulty</h2>{difficulty}
<h2>Per-skill mastery</h2>{heatmap}
<h2>Weakest trainees</h2>{table(trainees.head(10))}
<h2>Hardest questions</h2>{table(questions.head(10))}
</body></html>"""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
