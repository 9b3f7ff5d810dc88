"""order_drill: arrange a FAB pitch, the six service-cycle steps or the five listening levels."""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as w

from .. import checks, kb
from ._common import (
    GREEN,
    RED,
    Deck,
    Drill,
    bullets,
    dropdown,
    esc,
    para,
    prompt,
    shuffled,
    t,
    ui,
    verdict,
)

KINDS = ("fab", "service_cycle", "listening")


@dataclass(frozen=True)
class Puzzle:
    """One arrangement task: ``solution`` in the right order, ``reasons`` one line per position."""

    item: str
    solution: tuple[str, ...]
    reasons: tuple[str, ...]
    header: str = ""


def _fab_puzzles() -> list[Puzzle]:
    parts = ui()["fab_parts"]
    out = []
    for p in kb.load("fab")["pitch"]:
        solution = (p["feature"], p["advantage"], p["benefit"])
        reasons = tuple(f"{parts[key]}:{s}({checks.fab_label(s).why})" for key, s in zip("FAB", solution))
        out.append(Puzzle(p["id"], solution, reasons, t("order", "product", product=p["product"])))
    return out


def _service_puzzle() -> list[Puzzle]:
    steps = sorted(kb.load("service")["step"], key=lambda s: s["order"])
    return [Puzzle("service-cycle", tuple(s["name"] for s in steps),
                   tuple(f"{s['name']}:{s['goal']}" for s in steps))]


def _listening_puzzle() -> list[Puzzle]:
    levels = sorted(kb.load("listening")["level"], key=lambda lv: lv["rank"])
    return [Puzzle("listening-levels", tuple(lv["name"] for lv in levels),
                   tuple(f"{lv['name']}:{lv['description']}" for lv in levels))]


def puzzles(kind: str) -> tuple[str, list[Puzzle]]:
    """(module key, puzzles) for ``kind``."""
    if kind == "fab":
        return "fab", _fab_puzzles()
    if kind == "service_cycle":
        return "service_cycle", _service_puzzle()
    if kind == "listening":
        return "listening", _listening_puzzle()
    raise ValueError(f"order_drill 的类型只能是 {'、'.join(KINDS)}(kind must be one of {', '.join(KINDS)}; got {kind!r})")


class OrderDrill(Drill):
    """A dropdown per position; every dropdown offers the shuffled pieces.

    Controls: ``slots`` (also ``options``; set ``slots[i].value`` to a piece's text),
    ``marks`` (HTML ✔/✘ per position after 检查), ``submit``, ``next_round``, ``feedback``.
    State: ``puzzle`` (``.solution`` is the right order), ``pieces`` (the shuffled order shown),
    ``checked``.
    """

    def __init__(self, kind: str, seed=None):
        self.kind = kind
        module, items = puzzles(kind)
        super().__init__(module, seed, t("order", f"title_{kind}"), t("order", "intro"))
        self.deck = Deck(items, self.rng)
        self._new_round()

    def new_round(self) -> None:
        self.puzzle = self.deck.draw(1)[0]
        self.pieces = shuffled(self.puzzle.solution, self.rng)
        self.checked = False
        self.slots = [dropdown([(p, p) for p in self.pieces]) for _ in self.pieces]
        for dd in self.slots:
            dd.layout = w.Layout(flex="1 1 auto", width="auto", max_width="100%")
        self.options = self.slots
        self.marks = [w.HTML() for _ in self.pieces]
        shown = bullets(esc(p) for p in self.pieces)
        rows = [w.HBox([w.HTML(esc(t("order", "position", i=i)), layout=w.Layout(width="4em")), dd, mk])
                for i, (dd, mk) in enumerate(zip(self.slots, self.marks), 1)]
        header = [w.HTML(para(esc(self.puzzle.header), bold=True))] if self.puzzle.header else []
        self.body.children = (*header, w.HTML(shown), *rows)

    @property
    def chosen(self) -> list[str]:
        return [dd.value for dd in self.slots]

    def check(self) -> None:
        if self.checked:
            self.feedback.value = prompt(t("text", "already_checked"))
            return
        chosen = self.chosen
        left = sum(1 for v in chosen if not v)
        if left:
            self.feedback.value = prompt(t("text", "fill_all", left=left))
            return
        if len(set(chosen)) < len(chosen):
            self.feedback.value = prompt(t("text", "duplicate"))
            return
        solution = list(self.puzzle.solution)
        correct = chosen == solution
        for got, want, mk in zip(chosen, solution, self.marks):
            mk.value = para("✔", GREEN, bold=True) if got == want else para("✘", RED, bold=True)
        why = ""
        if self.kind == "fab":
            why = para(esc(checks.fab_order(chosen).why))
        self.record(self.puzzle.item, "→".join(chosen), correct)
        for dd in self.slots:
            dd.disabled = True
        self.checked = True
        self.submit.disabled = True
        self.feedback.value = (verdict(correct) + why + para(f"<b>{esc(t('order', 'right_order'))}</b>")
                               + "<ol style=\"margin:4px 0\">" + "".join(f"<li>{esc(r)}</li>" for r in self.puzzle.reasons)
                               + "</ol>")


def order_drill(kind: str, seed=None) -> w.VBox:
    """Arrange pieces in order; ``kind`` is "fab", "service_cycle" or "listening" (lowest → highest).

    Returns a VBox; ``.drill`` is the :class:`OrderDrill`.
    """
    return OrderDrill(kind, seed).widget
