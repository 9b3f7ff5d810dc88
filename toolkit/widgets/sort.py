"""sort_drill: put each item into its bucket (open/closed, SPIN type, complaint type, listening level)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import ipywidgets as w

from .. import checks, kb
from ._common import (
    GREEN,
    RED,
    Deck,
    Drill,
    dropdown,
    esc,
    para,
    prompt,
    t,
    text_row,
    ui,
)

KINDS = ("questions", "spin", "complaints", "listening")


@dataclass(frozen=True)
class SortSource:
    """What a sort drill needs: the module key, the buckets (key, name) and the items."""

    module: str
    buckets: tuple[tuple[str, str], ...]
    items: tuple[dict, ...]  # each {"id", "text", "label"}
    explain: Callable[[dict], str]


def _by_checker(func, fallback: dict[str, str]) -> Callable[[dict], str]:
    """Explain with the checker's ``.why`` when it agrees with the data label, else the data's reason."""

    def explain(item: dict) -> str:
        try:
            label = func(item["text"])
        except (TypeError, ValueError):
            label = None
        if label is not None and label == item["label"]:
            return label.why
        return fallback[item["label"]]

    return explain


def source(kind: str) -> SortSource:
    """Build the buckets and items of a sort drill from the knowledge base."""
    if kind == "questions":
        data = kb.load("questions")
        rules = {r["id"]: r["text"] for r in data["rule"]}
        names = ui()["question_types"]
        buckets = tuple((k, names[k]) for k in ("open", "closed"))
        items = tuple({"id": q["id"], "text": q["text"], "label": q["type"]} for q in data["question"])
        fallback = {k: rules.get(f"{k}-purpose", names[k]) for k in names}
        return SortSource("questions", buckets, items, _by_checker(checks.classify_question, fallback))
    if kind == "spin":
        data = kb.load("spin")
        buckets = tuple((ty["key"], ty["name"]) for ty in data["type"])
        items = tuple({"id": q["id"], "text": q["text"], "label": q["type"]} for q in data["question"])
        fallback = {ty["key"]: f"{ty['name']}:{ty['definition']}" for ty in data["type"]}
        return SortSource("spin", buckets, items, _by_checker(checks.spin_type, fallback))
    if kind == "complaints":
        data = kb.load("complaints")
        buckets = tuple((ty["key"], ty["name"]) for ty in data["type"])
        items = tuple({"id": c["id"], "text": c["text"], "label": c["type"]} for c in data["case"])
        fallback = {ty["key"]: f"{ty['name']}:" + ";".join(ty["traits"]) + "。" for ty in data["type"]}
        return SortSource("complaint_types", buckets, items, _by_checker(checks.complaint_type, fallback))
    if kind == "listening":
        levels = sorted(kb.load("listening")["level"], key=lambda lv: lv["rank"])
        buckets = tuple((str(lv["rank"]), f"{lv['rank']}. {lv['name']}") for lv in levels)
        items = tuple(
            {"id": f"level-{lv['rank']}-{i}", "text": b, "label": str(lv["rank"])}
            for lv in levels for i, b in enumerate(lv["behaviours"], 1)
        )
        reasons = {str(lv["rank"]): f"“{lv['name']}”:{lv['description']}" for lv in levels}
        return SortSource("listening", buckets, items, lambda item: reasons[item["label"]])
    raise ValueError(f"sort_drill 的类型只能是 {'、'.join(KINDS)}(kind must be one of {', '.join(KINDS)}; got {kind!r})")


class SortDrill(Drill):
    """Several items, a dropdown per item, one 检查 for all.

    Controls: ``dropdowns`` (also ``options``; values are bucket keys such as "open", "problem",
    "vent", "3"), ``results`` (one HTML per item with ✔/✘ and the reason), ``submit``,
    ``next_round``, ``feedback``. State: ``items`` (dicts with id, text, label = the right
    bucket), ``buckets`` ((key, name) pairs), ``checked``.
    """

    def __init__(self, kind: str, n: int = 8, seed=None):
        self.kind = kind
        self.source = src = source(kind)
        super().__init__(src.module, seed, t("sort", f"title_{kind}"), t("sort", "intro"))
        self.n = max(1, int(n))
        self.buckets = src.buckets
        self.bucket_names = dict(src.buckets)
        self._decks = {key: Deck([i for i in src.items if i["label"] == key], self.rng) for key, _ in src.buckets}
        self._new_round()

    def _draw(self) -> list[dict]:
        """Round-robin over the buckets so every bucket shows up, then shuffle."""
        n = min(self.n, len(self.source.items))
        keys = [k for k, _ in self.buckets if len(self._decks[k])]
        self.rng.shuffle(keys)
        quota = {k: 0 for k in keys}
        for i in range(n):
            k = keys[i % len(keys)]
            quota[k] = min(quota[k] + 1, len(self._decks[k]))
        picked = [item for k in keys for item in self._decks[k].draw(quota[k])]
        while len(picked) < n:  # some bucket ran short: top up from the others
            extra = [i for i in self.source.items if i not in picked]
            picked.append(self.rng.choice(extra))
        self.rng.shuffle(picked)
        return picked

    def new_round(self) -> None:
        self.items = self._draw()
        self.checked = False
        self.dropdowns = [dropdown([(name, key) for key, name in self.buckets]) for _ in self.items]
        self.options = self.dropdowns
        self.results = [w.HTML() for _ in self.items]
        rows = []
        for number, (item, dd, res) in enumerate(zip(self.items, self.dropdowns, self.results), 1):
            rows.append(w.VBox([text_row(para(f"<b>{number}.</b> {esc(item['text'])}")), dd, res],
                               layout=w.Layout(margin="0 0 8px 0")))
        self.body.children = tuple(rows)

    def check(self) -> None:
        if self.checked:
            self.feedback.value = prompt(t("text", "already_checked"))
            return
        left = sum(1 for dd in self.dropdowns if not dd.value)
        if left:
            self.feedback.value = prompt(t("text", "fill_all", left=left))
            return
        right = 0
        seconds = round(self.elapsed() / len(self.items), 1)
        for item, dd, res in zip(self.items, self.dropdowns, self.results):
            correct = dd.value == item["label"]
            right += correct
            reason = esc(self.source.explain(item))
            if correct:
                res.value = para(f"✔ {reason}", GREEN)
            else:
                told = t("sort", "your_answer", chosen=self.bucket_names[dd.value], right=self.bucket_names[item["label"]])
                res.value = para(f"✘ {esc(told)}", RED, bold=True) + para(reason)
            self.record(item["id"], dd.value, correct, seconds)
            dd.disabled = True
        self.checked = True
        self.submit.disabled = True
        self.feedback.value = para(esc(t("text", "round_score", n=len(self.items), right=right)), bold=True)


def sort_drill(kind: str, n: int = 8, seed=None) -> w.VBox:
    """Sort ``n`` items into buckets; ``kind`` is "questions", "spin", "complaints" or "listening".

    Returns a VBox; ``.drill`` is the :class:`SortDrill`.
    """
    return SortDrill(kind, n, seed).widget
