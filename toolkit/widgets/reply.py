"""reply_drill: the trainee types a reply and gets the checker's feedback (review, 3F, open or SPIN question)."""

from __future__ import annotations

import re

import ipywidgets as w

from .. import checks, kb
from ._common import (
    GREEN,
    RED,
    Deck,
    Drill,
    bullets,
    button,
    esc,
    highlight,
    para,
    prompt,
    t,
    ui,
    verdict,
)

KINDS = ("review", "three_f", "question", "spin")
_MODULES = {"review": "phrases", "three_f": "three_f", "question": "questions", "spin": "spin"}
_NOT_WORD = re.compile(r"[^\w]+")


def _bigrams(text: str) -> set[str]:
    s = _NOT_WORD.sub("", text)
    return {s[i:i + 2] for i in range(len(s) - 1)}


def _review_prompts() -> list[dict]:
    return [{"id": p["id"], "customer": p["customer"], "reference": p["good"], "why": p["why"]}
            for p in kb.load("pairs")["pair"]]


def _three_f_prompts() -> list[dict]:
    names = ui()["three_f_parts"]
    out = []
    for r in kb.load("three_f")["reply"]:
        parts = [f"{names['Feel']}:{r['feel']}", f"{names['Felt']}:{r['felt']}", f"{names['Found']}:{r['found']}"]
        out.append({"id": r["id"], "customer": r["customer"], "reference": r["feel"] + r["felt"] + r["found"],
                    "why": "\n".join(parts)})
    return out


def _question_prompts() -> list[dict]:
    wanted = set(ui()["reply"]["question_scenarios"])
    rules = {r["id"]: r["text"] for r in kb.load("questions")["rule"]}
    return [{"id": p["id"], "customer": p["customer"], "reference": None,
             "why": rules.get("open-for-needs", "")}
            for p in kb.load("pairs")["pair"]
            if p["scenario"] in wanted and not p["customer"].startswith(("(", "("))]


def _spin_prompts() -> list[dict]:
    definitions = {t_["key"]: t_["definition"] for t_ in kb.load("spin")["type"]}
    return [{"id": p["id"], "customer": p["customer"], "reference": p["reference"], "type": p["type"],
             "why": definitions[p["type"]]}
            for p in kb.load("spin")["practice"]]


def _spin_names() -> dict[str, str]:
    return {t_["key"]: t_["name"] for t_ in kb.load("spin")["type"]}


def best_open_question(customer: str, rng) -> str:
    """The open question in questions.toml sharing most wording with ``customer`` (ties: random)."""
    opens = [q["text"] for q in kb.load("questions")["question"] if q["type"] == "open"]
    words = _bigrams(customer)
    scores = [len(words & _bigrams(q)) for q in opens]
    top = max(scores)
    return rng.choice([q for q, s in zip(opens, scores) if s == top])


class ReplyDrill(Drill):
    """A customer line, a Textarea for the trainee's reply, 检查 and 看看参考答案.

    Controls: ``textarea`` (type the reply into ``.value``), ``submit`` (检查), ``show_reference``
    (看看参考答案), ``next_round`` (再来一组), ``feedback`` (HTML), ``reference`` (HTML).
    State: ``kind``, ``current`` (dict with id, customer, reference, why), ``last`` (the last
    checker result: Review / ThreeF / Label, or None).
    """

    def __init__(self, kind: str = "review", seed=None):
        if kind not in KINDS:
            raise ValueError(f"reply_drill 的类型只能是 {'、'.join(KINDS)}(kind must be one of {', '.join(KINDS)}; got {kind!r})")
        self.kind = kind
        items = {"review": _review_prompts, "three_f": _three_f_prompts, "question": _question_prompts,
                 "spin": _spin_prompts}[kind]()
        super().__init__(_MODULES[kind], seed, t("reply", f"title_{kind}"), t("reply", f"intro_{kind}"))
        self.deck = Deck(items, self.rng)
        self.customer = w.HTML()
        self.textarea = w.Textarea(placeholder=t("reply", "placeholder"),
                                   layout=w.Layout(width="100%", height="6em"))
        self.show_reference = button(t("text", "show_reference"))
        self.show_reference.on_click(lambda _b: self._safe(self.reveal))
        self.reference = w.HTML()
        self.buttons.children = (self.submit, self.show_reference, self.next_round)
        self.body.children = (self.customer, self.textarea)
        self.widget.children = (*self.widget.children, self.reference)
        self.last = None
        self._new_round()

    def new_round(self) -> None:
        self.current = dict(self.deck.draw(1)[0])
        if self.current["reference"] is None:
            self.current["reference"] = best_open_question(self.current["customer"], self.rng)
        self.textarea.value = ""
        self.reference.value = ""
        self.last = None
        self.customer.value = para(f"<b>{esc(t('reply', 'customer'))}</b>{esc(self.current['customer'])}")
        if self.kind == "spin":  # the type of question this round asks for
            wanted = self.current["type"]
            self.customer.value += para(esc(t("reply", "spin_task", name=_spin_names()[wanted])), bold=True)

    def reveal(self) -> None:
        """看看参考答案: a better version from the knowledge base, with the reason."""
        why = "<br>".join(esc(line) for line in self.current["why"].splitlines())
        self.reference.value = (
            para(f"<b>{esc(t('reply', 'reference'))}</b><span style=\"color:{GREEN}\">{esc(self.current['reference'])}</span>")
            + (para(f"<b>{esc(t('reply', 'reference_why'))}</b><br>{why}") if why else "")
        )

    def check(self) -> None:
        text = self.textarea.value
        if not isinstance(text, str) or not text.strip():
            self.feedback.value = prompt(t("text", "empty_reply"))
            return
        try:
            html, correct = {"review": self._review, "three_f": self._three_f, "question": self._question,
                             "spin": self._spin}[self.kind](text)
        except (TypeError, ValueError) as exc:
            self.feedback.value = prompt(t("reply", "check_error", message=exc))
            return
        self.record(self.current["id"], text, correct)
        self.feedback.value = html

    # -- the four kinds

    def _review(self, text: str) -> tuple[str, bool]:
        # The customer's turn too: the reply must take up the customer's matter (issue 8).
        r = self.last = checks.review_reply(text, customer=self.current["customer"])
        html = verdict(r.ok) + para(esc(t("reply", "score", score=r.score)), GREEN if r.ok else RED, bold=True)
        html += bullets(esc(f.message) for f in r.findings) if r.findings else para(esc(r.why))
        if r.polite:
            html += para(esc(t("reply", "polite", polite="、".join(r.polite))))
        marks = [(f.start, f.end, f.message) for f in r.findings if f.code not in checks.WHOLE_REPLY_FINDINGS]
        if marks:  # findings about the whole reply (off-topic, no content…) are listed, not highlighted
            html += para(f"<b>{esc(t('reply', 'your_text'))}</b>" + highlight(text, marks))
        return html, r.ok

    def _three_f(self, text: str) -> tuple[str, bool]:
        r = self.last = checks.three_f(text)
        names = ui()["three_f_parts"]
        lines = []
        for key, part in (("Feel", r.feel), ("Felt", r.felt), ("Found", r.found)):
            if part is None:
                lines.append(f'<span style="color:{RED}">{esc(t("reply", "missing_part", part=names[key]))}</span>')
            else:
                lines.append(f'<span style="color:{GREEN}">{esc(t("reply", "found_part", part=names[key], text=part.text))}</span>')
        html = verdict(r.ok) + bullets(lines)
        if not r.missing:
            html += para(esc(t("reply", "order_ok" if r.in_order else "order_bad")), GREEN if r.in_order else RED)
        html += para(esc(r.why))
        spans = [(p.start, p.end, names[k]) for k, p in (("Feel", r.feel), ("Felt", r.felt), ("Found", r.found)) if p]
        if spans:
            html += para(highlight(text, spans))
        return html, r.ok

    def _question(self, text: str) -> tuple[str, bool]:
        label = self.last = checks.classify_question(text)
        is_open = label == "open"
        hits = checks.find_forbidden(text)
        fault = checks.question_fault(text, customer=self.current["customer"])
        correct = is_open and not hits and not fault
        html = verdict(correct) + para(esc(t("reply", "is_open" if is_open else "not_open")), GREEN if is_open else RED)
        html += para(esc(fault.why), RED) if fault else ""
        html += para(esc(label.why))
        if not is_open:
            rules = {r["id"]: r["text"] for r in kb.load("questions")["rule"]}
            if "open-purpose" in rules:
                html += para(f"<b>{esc(t('reply', 'open_tip'))}</b>{esc(rules['open-purpose'])}")
        return html + _forbidden_note(text, hits), correct

    def _spin(self, text: str) -> tuple[str, bool]:
        label = self.last = checks.spin_type(text)
        names, wanted = _spin_names(), self.current["type"]
        hits = checks.find_forbidden(text)
        fault = checks.question_fault(text, customer=self.current["customer"])
        right_type = label == wanted and not fault  # a fragment or a rhetorical question is no SPIN question
        html = verdict(right_type and not hits)
        html += para(esc(fault.why), RED) if fault else ""
        if right_type:
            html += para(esc(t("reply", "spin_right", name=names[wanted])), GREEN)
        elif label != wanted:
            html += para(esc(t("reply", "spin_wrong", got=names[label], want=names[wanted])), RED)
        html += para(esc(label.why))
        if not right_type:
            html += para(f"<b>{esc(names[wanted])}:</b>{esc(self.current['why'])}")
        return html + _forbidden_note(text, hits), right_type and not hits


def _forbidden_note(text: str, hits) -> str:
    """A question may be the right kind and still contain a 服务禁语: point it out."""
    if not hits:
        return ""
    return (para(f"<b>{esc(t('reply', 'forbidden_note'))}</b>" + highlight(text, [(h.start, h.end, h.suggestion) for h in hits]))
            + bullets(esc(t("choice", "suggest", phrase=h.matched, suggestion=h.suggestion)) for h in hits))


def reply_drill(kind: str = "review", seed=None) -> w.VBox:
    """Type a reply: "review" (服务用语), "three_f" (3F), "question" (write an open question)
    or "spin" (write the SPIN question the round asks for).

    Returns a VBox; ``.drill`` is the :class:`ReplyDrill`.
    """
    return ReplyDrill(kind, seed).widget
