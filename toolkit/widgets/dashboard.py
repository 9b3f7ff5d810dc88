"""dashboard: mastery per module (bar chart + table), the mastery rule, and what to practise next.

Mastered means the evidence of :data:`toolkit.progress.MASTERY` (stated above the chart); what to
practise next is the FSRS schedule of :func:`toolkit.progress.next_to_practise`.

pandas and matplotlib are imported inside the functions so ``import toolkit.widgets`` stays light.
"""

from __future__ import annotations

import io
import warnings

import ipywidgets as w

from .. import progress
from ..fonts import CJK_FONTS, cjk_font  # noqa: F401 - re-exported for existing callers
from ._common import GREY, bullets, button, esc, module_name, para, t


def _status(skill) -> str:
    if skill.mastered:
        return t("dashboard", "status_mastered")
    return t("dashboard", "status_learning") if skill.attempts else t("dashboard", "status_new")


def mastery_frame(skills=None):
    """A pandas DataFrame, one row per module: 模块, 练习次数, 答对次数, 答对的天数, 最近正确率
    (0–1), 掌握情况, 到期复习, plus ``key`` and ``mastered``."""
    import pandas as pd

    skills = skills if skills is not None else progress.skills()
    rows = [
        {"key": m, "mastered": s.mastered,
         t("dashboard", "column_module"): module_name(m), t("dashboard", "column_attempts"): s.attempts,
         t("dashboard", "column_correct"): s.correct, t("dashboard", "column_days"): s.days,
         t("dashboard", "column_rate"): s.recent_rate, t("dashboard", "column_status"): _status(s),
         t("dashboard", "column_due"): s.due_now}
        for m, s in skills.items()
    ]
    return pd.DataFrame(rows)


def rule_text() -> str:
    """The mastery rule in Chinese, from :data:`toolkit.progress.MASTERY`."""
    m = progress.MASTERY
    return t("dashboard", "rule", min_correct=m["min_correct"], min_days=m["min_days"], recent=m["recent"],
             percent=round(m["min_recent_rate"] * 100))


def chart_png(frame) -> bytes:
    """A horizontal bar chart of the rate per module, as PNG bytes (no pyplot state touched)."""
    import matplotlib
    from matplotlib.figure import Figure

    font = cjk_font()
    rc = {"font.family": "sans-serif", "axes.unicode_minus": False}
    if font:
        rc["font.sans-serif"] = [font, *matplotlib.rcParams["font.sans-serif"]]
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing glyphs without a CJK font: draw anyway
        names = frame[t("dashboard", "column_module")].tolist()[::-1]
        rates = (frame[t("dashboard", "column_rate")] * 100).tolist()[::-1]
        counts = frame[t("dashboard", "column_attempts")].tolist()[::-1]
        mastered = frame["mastered"].tolist()[::-1]
        fig = Figure(figsize=(6.5, 0.35 * len(names) + 1.2), dpi=100)
        ax = fig.subplots()
        # green only when mastered by the rule: a high rate alone is not evidence
        colors = ["#1a7f37" if done else "#bf8700" if r >= 60 else "#cf222e" for r, done in zip(rates, mastered)]
        ax.barh(names, rates, color=colors)
        ax.set_xlim(0, 100)
        ax.set_xlabel(t("dashboard", "chart_xlabel") + " (%)")
        ax.set_title(t("dashboard", "chart_title", recent=progress.MASTERY["recent"]))
        for y, (r, n) in enumerate(zip(rates, counts)):
            label = f"{r:.0f}%" if n else t("dashboard", "not_practised")
            inside = n and r > 85
            ax.text(r - 1 if inside else r + 1, y, label, va="center", ha="right" if inside else "left",
                    fontsize=8, color="white" if inside else "black")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    return buf.getvalue()


def latest_voice() -> str:
    """The figures of the last voice-drill recording (HTML), or "" before the first one."""
    import json

    rows = progress.attempts("voice")
    try:
        last = json.loads(rows[-1]["answer"]) if rows else None
        return para(esc(t("dashboard", "voice_latest", rate=last["rate"], pauses=last["pauses"],
                          st=last["pitch_range_st"], db=last["loudness_db"]))) if last else ""
    except (ValueError, KeyError, TypeError):  # an attempt stored by an older version
        return ""


class Dashboard:
    """Controls: ``message`` (HTML; friendly text when nothing was practised), ``chart``
    (Image, PNG), ``table`` (HTML), ``suggestions`` (HTML: 接下来建议练习), ``refresh`` (刷新),
    ``notice`` (storage warning). State: ``frame`` (DataFrame or None), ``font`` (CJK font used).
    """

    def __init__(self):
        self.title = w.HTML(f"<h3 style=\"margin:4px 0\">{esc(t('dashboard', 'title'))}</h3>")
        self.rule = w.HTML(para(esc(rule_text()), GREY))
        self.notice = w.HTML()
        self.message = w.HTML()
        self.chart = w.Image(format="png", layout=w.Layout(max_width="700px"))
        self.table = w.HTML()
        self.suggestions = w.HTML()
        self.refresh = button(t("text", "refresh"))
        self.refresh.on_click(lambda _b: self.update())
        self.frame = None
        self.font = None
        self.widget = w.VBox([self.title, self.rule, self.notice, self.message, self.chart, self.table, self.suggestions,
                              w.HBox([self.refresh])])
        self.widget.drill = self
        self.update()

    def update(self) -> None:
        message = progress.take_warning()
        if message:
            self.notice.value = para(esc(t("text", "storage_warning", message=message)), "#9a6700", bold=True)
        stats = progress.skills()
        practised = [m for m, s in stats.items() if s.attempts]
        order = progress.next_to_practise()[:3]
        self.suggestions.value = (para(f"<b>{esc(t('dashboard', 'suggest'))}</b>{esc(t('dashboard', 'suggest_why'))}")
                                  + bullets([esc(module_name(m) + _when(stats[m])) for m in order])
                                  + latest_voice())
        if not practised:
            self.frame = None
            self.message.value = para(esc(t("dashboard", "empty")), GREY)
            self.chart.value = b""
            self.chart.layout.display = "none"
            self.table.value = ""
            return
        self.message.value = ""
        self.frame = frame = mastery_frame(stats)
        self.font = cjk_font()
        self.chart.value = chart_png(frame)
        self.chart.layout.display = None
        shown = frame.drop(columns=["key", "mastered"]).copy()
        rate = t("dashboard", "column_rate")
        shown[rate] = [f"{r:.0%}" if n else "—" for r, n in zip(shown[rate], shown[t("dashboard", "column_attempts")])]
        table = shown.to_html(index=False, border=0, escape=True, justify="left")
        cell = 'style="padding:2px 12px;text-align:left"'
        self.table.value = table.replace("<td>", f"<td {cell}>").replace("<th>", f"<th {cell}>")


def _when(skill) -> str:
    """Why a module is suggested: never practised, reviews due now, or the next review's date."""
    if not skill.attempts:
        return t("dashboard", "not_practised")
    if skill.due_now:
        return t("dashboard", "due_now", n=skill.due_now)
    local = skill.next_due.astimezone()
    return t("dashboard", "due_later", when=f"{local.month}月{local.day}日 {local:%H:%M}")


def dashboard() -> w.VBox:
    """Mastery per module as a chart and a table, with 接下来建议练习; ``.drill`` is the Dashboard."""
    return Dashboard().widget
