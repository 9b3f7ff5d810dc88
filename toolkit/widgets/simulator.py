"""call_simulator: walk the branching capstone call (toolkit/data/capstone.toml)."""

from __future__ import annotations

import ipywidgets as w

from .. import kb
from ._common import GREEN, GREY, RED, Drill, bullets, esc, module_name, para, t, ui

START, END = "start", "end"
MOOD_MIN, MOOD_MAX = -2, 2
MAX_STEPS = 50  # a safety net against a loop in the data


def mood_label(mood: int) -> str:
    return ui()["moods"].get(str(mood), str(mood))


def score(best: int, steps: int, mood: int) -> int:
    """0–100: 70 points for the share of best choices, 30 for the customer's final mood."""
    share = best / steps if steps else 0.0
    return round(70 * share + 30 * (mood - MOOD_MIN) / (MOOD_MAX - MOOD_MIN))


class CallSimulator(Drill):
    """One whole call: customer line, mood, a button per choice (shuffled by the seed).

    Controls: ``choice_buttons`` (click one; ``current_choices[i]`` is the choice dict behind
    button i), ``restart`` (重新开始; same as ``next_round``), ``feedback`` (HTML: the last
    choice's feedback), ``customer``, ``mood_view``, ``summary`` (HTML at the end).
    State: ``node_id``, ``mood``, ``steps`` (list of dicts node, choice, best, better),
    ``finished``, ``score`` (int once finished, else None), ``improvements`` (需要改进 lines).
    """

    def __init__(self, seed=None):
        super().__init__("capstone", seed, t("simulator", "title"), t("simulator", "intro"))
        self.nodes = {n["id"]: n for n in kb.load("capstone")["node"]}
        self.restart = self.next_round
        self.restart.description = t("text", "restart")
        self.customer = w.HTML()
        self.mood_view = w.HTML()
        self.choice_box = w.VBox()
        self.summary = w.HTML()
        self.transcript = w.HTML()
        self.buttons.children = (self.restart,)
        self.body.children = (self.transcript, self.customer, self.mood_view, self.choice_box)
        self.widget.children = (*self.widget.children, self.summary)
        self._new_round()

    def new_round(self) -> None:
        self.mood = int(self.nodes[START]["mood"]) if START in self.nodes else 0
        self.steps: list[dict] = []
        self.finished = False
        self.score: int | None = None
        self.improvements: list[str] = []
        self.summary.value = ""
        self.transcript.value = ""
        self._lines: list[str] = []
        self._goto(START)

    def check(self) -> None:  # the simulator is answered by its choice buttons
        pass

    def _goto(self, node_id: str) -> None:
        self.node_id = node_id
        node = self.nodes.get(node_id)
        if node_id == END or node is None or len(self.steps) >= MAX_STEPS:
            note = "" if node_id == END else para(esc(t("simulator", "missing_node", node=node_id)), GREY)
            self._finish(note)
            return
        self.customer.value = para(f"<b>{esc(t('simulator', 'customer'))}</b>{esc(node['customer'])}")
        self.mood_view.value = para(esc(t("simulator", "mood", mood=mood_label(self.mood))))
        self.current_choices = list(node["choice"])
        self.rng.shuffle(self.current_choices)
        self.choice_buttons = []
        rows = []
        for i, choice in enumerate(self.current_choices):
            b = w.Button(description="ABCDEFGH"[i], tooltip=choice["text"], layout=w.Layout(width="3em"))
            b.on_click(lambda _b, i=i: self._safe(lambda: self.choose(i)))
            self.choice_buttons.append(b)
            rows.append(w.HBox([b, w.HTML(esc(choice["text"]), layout=w.Layout(width="100%"))]))
        self.choice_box.children = tuple(rows)

    def choose(self, index: int) -> None:
        """Take choice ``index`` of the current node (as clicking its button does)."""
        if self.finished:
            return
        node = self.nodes[self.node_id]
        choice = self.current_choices[index]
        top = max(c["mood_delta"] for c in node["choice"])
        best = choice["mood_delta"] == top
        best_choice = next(c for c in node["choice"] if c["mood_delta"] == top)
        self.steps.append({"node": self.node_id, "choice": choice, "best": best, "better": best_choice})
        self.mood = max(MOOD_MIN, min(MOOD_MAX, self.mood + int(choice["mood_delta"])))
        self.record(self.node_id, choice["text"], best)
        if best:
            head, color = t("simulator", "best"), GREEN
        elif choice["mood_delta"] >= 0:
            head, color = t("simulator", "ok"), GREY
        else:
            head, color = t("simulator", "weak"), RED
        self.feedback.value = (
            para(f"<b>{esc(t('simulator', 'you_said'))}</b>{esc(choice['text'])}")
            + para(esc(head), color, bold=True)
            + para(f"【{esc(module_name(choice['skill']))}】{esc(choice['feedback'])}")
        )
        self._lines.append(
            f"<div style=\"color:{GREY}\">{esc(t('simulator', 'customer'))}{esc(node['customer'])}<br>"
            f"{esc(t('simulator', 'you_said'))}{esc(choice['text'])}</div>")
        self.transcript.value = "".join(self._lines)
        self._goto(choice["next"])

    def _finish(self, note: str = "") -> None:
        self.finished = True
        self.choice_box.children = ()
        self.customer.value = para(esc(t("simulator", "finished")), bold=True) + note
        self.mood_view.value = para(esc(t("simulator", "mood", mood=mood_label(self.mood))))
        best = sum(s["best"] for s in self.steps)
        self.score = score(best, len(self.steps), self.mood)
        weak = [s for s in self.steps if not s["best"]]
        self.improvements = [
            f"【{module_name(s['choice']['skill'])}】{s['choice']['feedback']}"
            + t("simulator", "better", text=s["better"]["text"]) for s in weak
        ]
        improve = (para(f"<b>{esc(t('simulator', 'improve'))}</b>") + bullets(esc(i) for i in self.improvements)) \
            if weak else para(esc(t("simulator", "no_improve")), GREEN)
        self.summary.value = para(esc(t("simulator", "score", score=self.score, best=best, steps=len(self.steps),
                                         mood=mood_label(self.mood))), bold=True) + improve


def call_simulator(seed=None) -> w.VBox:
    """The capstone call from node "start" to "end", with mood, feedback, score and 需要改进.

    Returns a VBox; ``.drill`` is the :class:`CallSimulator`.
    """
    return CallSimulator(seed).widget
