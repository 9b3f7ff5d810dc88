"""call_simulator: play one of the branching capstone calls (toolkit/data/capstone.toml).

A call is played either by choice (a button per reply) or in free text: the trainee types every
reply, ``checks.review_reply`` judges it against the customer's line, and the judgement picks the
branch (``good`` calms the customer, ``rude`` angers, ``weak`` leaves them pressing), so the
customer's mood and next line follow what was actually said. No language model is involved.
"""

from __future__ import annotations

import re
from functools import cache

import ipywidgets as w

from .. import checks, kb
from ..normalize import normalize
from ._common import GREEN, GREY, RED, Drill, bullets, button, esc, module_name, para, t, ui

END = "end"
MOOD_MIN, MOOD_MAX = -2, 2
MAX_STEPS = 50  # a safety net against a loop in the data
OUTCOMES = ("good", "weak", "rude")
# Findings that make a customer angrier: being pushed away, blamed, mocked, hurried or refused flat.
RUDE_CODES = frozenset({"buck", "blame", "sarcasm", "impatience", "abuse", "interrogation", "bare-refusal"})
# Forbidden phrases of these kinds anger; an uncertain word (应该是吧) or a command only leaves the customer unsure.
RUDE_FORBIDDEN = frozenset({"直呼", "责问与反问", "傲慢厌烦", "推诿"})


def mood_label(mood: int) -> str:
    return ui()["moods"].get(str(mood), str(mood))


def score(best: int, steps: int, mood: int) -> int:
    """0–100: 70 points for the share of best choices, 30 for the customer's final mood."""
    share = best / steps if steps else 0.0
    return round(70 * share + 30 * (mood - MOOD_MIN) / (MOOD_MAX - MOOD_MIN))


def calls() -> list:
    """The capstone calls (id, title, domain, start, mode), in file order."""
    return list(kb.load("capstone")["call"])


def nodes(call_id: str) -> dict:
    """The nodes of one call, by id."""
    return {n["id"]: n for n in kb.load("capstone")["node"] if n["call"] == call_id}


UPSET_MOOD = -1  # the mood an ``upset`` line is written for


def line(node, mood: int) -> tuple[str, int]:
    """The customer's line at ``node`` for the current mood, and the mood it is written for.

    A node reached by a rougher path than its line assumes says its ``upset`` line instead.
    """
    if node.get("upset") and mood <= UPSET_MOOD < node["mood"]:
        return node["upset"], UPSET_MOOD
    return node["customer"], int(node["mood"])


def arrive(node, mood: int) -> tuple[str, int]:
    """The line said at ``node`` and the customer's mood once they say it.

    The path sets the mood; the line bounds it: a customer who is shouting is not pleased, however
    kind the greeting was, so the mood is kept within one step of the mood the line is written for.
    """
    said, written = line(node, mood)
    return said, max(written - 1, min(written + 1, mood))


def recap(promises) -> str:
    """The agent's summary of what was promised on this path ("" when nothing was)."""
    promises = list(dict.fromkeys(promises))
    return t("simulator", "recap", items="；".join(promises)) if promises else ""


def render(choice, promises=()) -> str:
    """A choice's words as said on this path: ``{recap}`` becomes the summary of the promises made."""
    return choice["text"].replace("{recap}", recap(promises))


@cache
def _act(name: str) -> re.Pattern:
    return re.compile(kb.load("cues")["review_act"][name])


_CLAUSE = re.compile(r"[^,.;!?，。；！？]+")


def promises_in(text: str) -> list[str]:
    """The clauses of a typed reply that promise something by a time (我会…今天…, …2小时内…)."""
    out = []
    for m in _CLAUSE.finditer(text):  # clauses of what the trainee typed, judged in normalised form
        clause, norm = m.group().strip(), normalize(m.group()).strip()
        if _act("when").search(norm) and not norm.endswith(("吗", "呢")) and len(norm) >= 4:
            out.append(clause)
    return out


def judge(text: str, node, customer: str | None = None) -> tuple[str, checks.Review, list[str]]:
    """Judge a typed reply to ``node``'s customer line (or ``customer``): (outcome, review, unmet needs).

    ``rude`` when the review finds pushing away, blame, mockery, impatience, a forbidden phrase or a
    flat refusal; ``good`` when the review is ok and the node's ``needs`` are met (``apology``, a
    concrete ``time``, a staff ``action``); otherwise ``weak``.
    """
    review = checks.review_reply(text, customer=customer or node["customer"])
    if any(f.code in RUDE_CODES for f in review.findings) \
            or any(h.category in RUDE_FORBIDDEN for h in checks.find_forbidden(text)):
        return "rude", review, []
    norm = normalize(text)
    cue = {"apology": "apology", "time": "when", "action": "staff_action"}
    unmet = [need for need in node.get("needs", ()) if not _act(cue[need]).search(norm)]
    return ("good" if review.ok and not unmet else "weak"), review, unmet


class Call:
    """The state of one call being played, without widgets (the simulator renders it).

    ``node_id``, ``line`` (what the customer just said), ``mood``, ``steps`` (dicts node, line,
    choice, said, best, better, notes, mood_before, mood_after), ``promises``, ``finished``.
    """

    def __init__(self, call_id: str):
        self.call = next(c for c in calls() if c["id"] == call_id)
        self.nodes = nodes(call_id)
        self.mood = int(self.nodes[self.call["start"]]["mood"])  # the customer as they ring
        self.steps: list[dict] = []
        self.promises: list[str] = []
        self.finished = False
        self.goto(self.call["start"])

    @property
    def node(self):
        return self.nodes[self.node_id]

    def goto(self, node_id: str) -> None:
        self.node_id = node_id
        if node_id == END or node_id not in self.nodes or len(self.steps) >= MAX_STEPS:
            self.finished = True
            return
        self.line, self.mood = arrive(self.nodes[node_id], self.mood)

    def words(self, choice) -> str:
        return render(choice, self.promises)

    def choose(self, choice) -> dict:
        """Say a choice of the current node (choice calls)."""
        return self._take(choice, self.words(choice), [choice["promise"]] if choice.get("promise") else [])

    def say(self, text: str) -> dict:
        """Say a typed reply (free-text calls): the review's judgement picks the branch."""
        outcome, review, unmet = judge(text, self.node, self.line)
        choice = next(c for c in self.node["choice"] if c["when"] == outcome)
        notes = ([review.why] if not review.ok else []) + [t("simulator", "need_" + n) for n in unmet]
        return self._take(choice, text, promises_in(text) if outcome != "rude" else [], notes, outcome)

    def _take(self, choice, said: str, promised: list[str], notes=(), outcome=None) -> dict:
        node = self.node
        top = max(c["mood_delta"] for c in node["choice"])
        best_choice = next(c for c in node["choice"] if c["mood_delta"] == top)
        self.promises += [p for p in promised if p not in self.promises]
        before = self.mood
        self.mood = max(MOOD_MIN, min(MOOD_MAX, self.mood + int(choice["mood_delta"])))
        step = {"node": self.node_id, "line": self.line, "choice": choice, "said": said, "outcome": outcome,
                "best": choice["mood_delta"] == top, "better": render(best_choice, self.promises),
                "notes": list(notes), "mood_before": before, "mood_after": self.mood}
        self.steps.append(step)
        self.goto(choice["next"])
        return step


class CallSimulator(Drill):
    """One whole call: customer line, mood, and either a button per choice or a text box.

    Controls: ``call_picker`` (which call), ``choice_buttons`` (click one; ``current_choices[i]``
    is the choice behind button i), ``reply_box`` and ``say_button`` (free-text calls; or call
    ``say(text)``), ``restart`` (重新开始; same as ``next_round``), ``feedback``, ``customer``,
    ``mood_view``, ``summary`` (HTML at the end).
    State: ``state`` (the :class:`Call`; ``node_id``, ``mood``, ``steps``, ``promises``,
    ``finished`` read through), ``score``, ``improvements``.
    """

    def __init__(self, seed=None, call: str | None = None):
        super().__init__("capstone", seed, t("simulator", "title"), t("simulator", "intro"))
        self.calls = {c["id"]: c for c in calls()}
        self.call_picker = w.Dropdown(
            options=[(t("simulator", "call_label", domain=t("domains", c["domain"]), title=c["title"],
                        mode=t("simulator", "mode_" + c["mode"])), c["id"]) for c in self.calls.values()],
            layout=w.Layout(width="auto"))
        if call is not None:
            if call not in self.calls:
                raise ValueError(f"没有这通电话：{call!r}（known calls: {', '.join(self.calls)}）")
            self.call_picker.value = call
        self.restart = self.next_round
        self.restart.description = t("text", "restart")
        self.customer = w.HTML()
        self.mood_view = w.HTML()
        self.choice_box = w.VBox()
        self.reply_box = w.Textarea(placeholder=t("simulator", "placeholder"), layout=w.Layout(width="100%"))
        self.say_button = button(t("simulator", "say"), "primary")
        self.say_button.on_click(lambda _b: self._safe(lambda: self.say(self.reply_box.value)))
        self.summary = w.HTML()
        self.transcript = w.HTML()
        self.buttons.children = (self.restart,)
        self.body.children = (self.call_picker, self.transcript, self.customer, self.mood_view, self.choice_box)
        self.widget.children = (*self.widget.children, self.summary)
        self.call_picker.observe(lambda _c: self._safe(self._new_round), names="value")
        self._new_round()

    call = property(lambda self: self.calls[self.call_picker.value])
    free = property(lambda self: self.call["mode"] == "free")
    node_id = property(lambda self: self.state.node_id)
    mood = property(lambda self: self.state.mood)
    steps = property(lambda self: self.state.steps)
    promises = property(lambda self: self.state.promises)
    finished = property(lambda self: self.state.finished)

    def new_round(self) -> None:
        self.title.value = (f"<h3 style=\"margin:4px 0\">{esc(t('simulator', 'title_call', title=self.call['title']))}</h3>"
                            + para(esc(t("simulator", "intro_free" if self.free else "intro")), GREY))
        self.state = Call(self.call["id"])
        self.score: int | None = None
        self.improvements: list[str] = []
        self.summary.value = ""
        self.transcript.value = ""
        self._lines: list[str] = []
        self._show()

    def check(self) -> None:  # the simulator is answered by its buttons or its text box
        pass

    def _show(self) -> None:
        state = self.state
        if state.finished:
            missing = state.node_id != END
            self._finish(para(esc(t("simulator", "missing_node", node=state.node_id)), GREY) if missing else "")
            return
        self.customer.value = para(f"<b>{esc(t('simulator', 'customer'))}</b>{esc(state.line)}")
        self.mood_view.value = para(esc(t("simulator", "mood", mood=mood_label(state.mood))))
        self.current_choices = list(state.node["choice"])
        self.rng.shuffle(self.current_choices)
        self.choice_buttons = []
        if self.free:
            self.reply_box.value = ""
            self.choice_box.children = (self.reply_box, self.say_button)
            return
        rows = []
        for i, choice in enumerate(self.current_choices):
            words = state.words(choice)
            b = w.Button(description="ABCDEFGH"[i], tooltip=words, layout=w.Layout(width="3em"))
            b.on_click(lambda _b, i=i: self._safe(lambda: self.choose(i)))
            self.choice_buttons.append(b)
            rows.append(w.HBox([b, w.HTML(esc(words), layout=w.Layout(width="100%"))]))
        self.choice_box.children = tuple(rows)

    def choose(self, index: int) -> None:
        """Take choice ``index`` of the current node (as clicking its button does)."""
        if self.finished or self.free:
            return
        self._show_step(self.state.choose(self.current_choices[index]))

    def say(self, text: str) -> None:
        """Free-text calls: say ``text``; the review's judgement picks the customer's reaction."""
        if self.finished or not self.free:
            return
        if not isinstance(text, str) or not text.strip():
            self.feedback.value = para(esc(t("simulator", "empty")), GREY)
            return
        self._show_step(self.state.say(text))

    def _show_step(self, step: dict) -> None:
        choice = step["choice"]
        self.record(f"{self.call['id']}:{step['node']}", step["said"], step["best"])
        if step["best"]:
            head, color = t("simulator", "best"), GREEN
        elif choice["mood_delta"] >= 0:
            head, color = t("simulator", "ok"), GREY
        else:
            head, color = t("simulator", "weak"), RED
        self.feedback.value = (
            para(f"<b>{esc(t('simulator', 'you_said'))}</b>{esc(step['said'])}")
            + para(esc(head), color, bold=True)
            + "".join(para(esc(n), GREY) for n in step["notes"])
            + para(f"【{esc(module_name(choice['skill']))}】{esc(choice['feedback'])}")
        )
        self._lines.append(
            f"<div style=\"color:{GREY}\">{esc(t('simulator', 'customer'))}{esc(step['line'])}<br>"
            f"{esc(t('simulator', 'you_said'))}{esc(step['said'])}</div>")
        self.transcript.value = "".join(self._lines)
        self._show()

    def _finish(self, note: str = "") -> None:
        self.choice_box.children = ()
        self.customer.value = para(esc(t("simulator", "finished")), bold=True) + note
        self.mood_view.value = para(esc(t("simulator", "mood", mood=mood_label(self.mood))))
        best = sum(s["best"] for s in self.steps)
        self.score = score(best, len(self.steps), self.mood)
        weak = [s for s in self.steps if not s["best"]]
        self.improvements = [
            f"【{module_name(s['choice']['skill'])}】{s['choice']['feedback']}"
            + t("simulator", "better", text=s["better"]) for s in weak
        ]
        promised = (para(f"<b>{esc(t('simulator', 'promised'))}</b>") + bullets(esc(p) for p in self.promises)) \
            if self.promises else para(esc(t("simulator", "no_promise")), GREY)
        improve = (para(f"<b>{esc(t('simulator', 'improve'))}</b>") + bullets(esc(i) for i in self.improvements)) \
            if weak else para(esc(t("simulator", "no_improve")), GREEN)
        self.summary.value = para(esc(t("simulator", "score", score=self.score, best=best, steps=len(self.steps),
                                         mood=mood_label(self.mood))), bold=True) + promised + improve


def call_simulator(seed=None, call: str | None = None) -> w.VBox:
    """A capstone call (the first one unless ``call`` names another), with mood, feedback, score,
    the promises made and 需要改进. Returns a VBox; ``.drill`` is the :class:`CallSimulator`.
    """
    return CallSimulator(seed, call).widget
