"""choice_drill: pick the best reply among a pair's √, its × and its near-misses (toolkit/data/pairs.toml).

A near-miss is what a real agent might say: the right words in the wrong order, no apology where
one is due, a vague promise, a polite refusal with no way forward. Each option has its own
explanation, shown for every option once the trainee has chosen.
"""

from __future__ import annotations

import time

import ipywidgets as w

from .. import checks, kb
from ._common import (
    GREEN,
    Deck,
    Drill,
    bullets,
    button,
    esc,
    highlight,
    para,
    prompt,
    t,
    verdict,
)


MAX_NEAR = 2  # options beside √ and ×: a round stays readable


def options_of(pair) -> list[tuple[str, str, str]]:
    """(key, text, explanation) of every option of a pair: "good", "bad", "near0", "near1"…"""
    out = [("good", pair["good"], pair["why"]), ("bad", pair["bad"], pair["bad_why"])]
    out += [(f"near{i}", n["text"], n["why"]) for i, n in enumerate(pair.get("near", ())[:MAX_NEAR])]
    return out


def _pairs(scenario) -> list:
    pairs = list(kb.load("pairs")["pair"])
    if scenario is None:
        return pairs
    wanted = {scenario} if isinstance(scenario, str) else set(scenario)
    pool = [p for p in pairs if p["scenario"] in wanted]
    if not pool:
        known = sorted({p["scenario"] for p in pairs})
        raise ValueError(f"没有找到情境 {scenario!r} 的练习题（unknown scenario; known: {', '.join(known)}）")
    return pool


class ChoiceDrill(Drill):
    """One pair at a time: the customer's line and its replies (√, ×, near-misses) in random order.

    Controls: ``options`` (RadioButtons; values "good"/"bad"/"near0"…), ``submit`` (检查), ``next_item``
    (下一题), ``next_round`` (再来一组), ``feedback`` (HTML). State: ``items`` (the pairs of this
    round), ``index``, ``current`` (the pair shown), ``answered``, ``right`` (correct this round).
    """

    def __init__(self, module: str = "phrases", scenario=None, n: int = 8, seed=None):
        pool = _pairs(scenario)
        super().__init__(module, seed, t("choice", "title"), t("choice", "intro"))
        self.n = max(1, int(n))
        self.deck = Deck(pool, self.rng)
        self.counter = w.HTML()
        self.customer = w.HTML()
        self.options = w.RadioButtons(options=[], layout=w.Layout(width="100%"))
        self.next_item = button(t("text", "next_item"))
        self.next_item.on_click(lambda _b: self._safe(self.advance))
        self.buttons.children = (self.submit, self.next_item, self.next_round)
        self.body.children = (self.counter, self.customer, self.options)
        self._new_round()

    def new_round(self) -> None:
        self.items = self.deck.draw(self.n)
        self.right = 0
        self._show(0)

    def _show(self, index: int) -> None:
        self.index = index
        self.current = pair = self.items[index]
        self.choices = options_of(pair)
        self.rng.shuffle(self.choices)
        self.options.options = [(f"{'ABCD'[i]}. {text}", key) for i, (key, text, _) in enumerate(self.choices)]
        self.options.index = None
        self.options.disabled = False
        self.answered = False
        self.submit.disabled = False
        self.next_item.disabled = True
        self.counter.value = para(esc(t("choice", "progress", i=index + 1, n=len(self.items))), "#57606a")
        self.customer.value = para(f"<b>{esc(t('choice', 'customer'))}</b>{esc(pair['customer'])}")
        self.feedback.value = ""
        self._started = time.monotonic()

    def advance(self) -> None:
        """下一题: show the next pair of this round (if any)."""
        if self.index + 1 < len(self.items):
            self._show(self.index + 1)

    def check(self) -> None:
        if self.answered:
            self.feedback.value += prompt(t("text", "already_checked"))
            return
        if self.options.value is None:
            self.feedback.value = prompt(t("text", "choose_first"))
            return
        pair = self.current
        correct = self.options.value == "good"
        self.answered = True
        self.right += correct
        said = {key: text for key, text, _ in self.choices}[self.options.value]
        self.record(pair["id"], said, correct)
        self.options.disabled = True
        self.submit.disabled = True
        last = self.index + 1 >= len(self.items)
        self.next_item.disabled = last
        self.feedback.value = explain_pair(pair, correct, self.options.value, self.choices) + (
            para(esc(t("text", "round_done", n=len(self.items), right=self.right)), bold=True) if last else "")


def explain_pair(pair, correct: bool, chosen: str | None = None, choices=None) -> str:
    """Verdict, the better reply and why, each near-miss with its own reason, and the × reply with
    its forbidden phrases marked. The option the trainee chose is labelled."""
    hits = checks.find_forbidden(pair["bad"])
    marked = highlight(pair["bad"], [(h.start, h.end, h.suggestion) for h in hits])
    suggestions = [esc(t("choice", "suggest", phrase=h.matched, suggestion=h.suggestion)) for h in hits]
    yours = lambda key: f"<b>{esc(t('choice', 'yours'))}</b>" if key == chosen else ""  # noqa: E731
    near = [(key, text, why) for key, text, why in (choices or options_of(pair)) if key.startswith("near")]
    return (
        verdict(correct)
        + para(f"{yours('good')}<b>{esc(t('choice', 'better'))}</b><span style=\"color:{GREEN}\">{esc(pair['good'])}</span>")
        + para(f"<b>{esc(t('choice', 'why'))}</b>{esc(pair['why'])}")
        + "".join(para(f"{yours(key)}<b>{esc(t('choice', 'near'))}</b>{esc(text)}<br>{esc(why)}") for key, text, why in near)
        + para(f"{yours('bad')}<b>{esc(t('choice', 'in_bad'))}</b>{marked}<br>{esc(pair['bad_why'])}")
        + bullets(suggestions)
    )


def choice_drill(module: str = "phrases", scenario=None, n: int = 8, seed=None) -> w.VBox:
    """Pick the better phrasing from √/× pairs; ``scenario`` (str or several) filters pairs.toml.

    Answers are recorded under ``module`` (e.g. "phrases", "telephone", "complaint_handling").
    Returns a VBox; ``.drill`` is the :class:`ChoiceDrill`.
    """
    return ChoiceDrill(module, scenario, n, seed).widget
