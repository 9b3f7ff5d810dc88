"""Every drill round in the course is deep enough to practise (issue 10 item 6).

Each drill call in a course notebook is built as the notebook builds it. A round-based drill
(choice, sort) puts at least 8 knowledge-base items in a round; a one-task-per-round drill
(reply, order, chat: one conversation a round) deals from at least 8 tasks, except an order drill of a fixed sequence (the six
service-cycle steps, the five listening levels), whose round is the whole sequence. Rounds are
shuffled per attempt: two rounds differ in order or content.
"""

import ast
import json
from pathlib import Path

import pytest

from toolkit import widgets

ROOT = Path(__file__).resolve().parents[1]
DRILLS = ("choice_drill", "sort_drill", "order_drill", "reply_drill", "chat_drill")
MIN_ITEMS = 8
FIXED_SEQUENCES = {"service_cycle": 6, "listening": 5}


def drill_calls():
    out = []
    for path in sorted((ROOT / "course").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) in DRILLS:
                    out.append((f"{path.stem}:{ast.unparse(node)}", ast.unparse(node)))
    return out


CALLS = drill_calls()


def build(expression: str, seed: int):
    call = ast.parse(expression, mode="eval").body
    call.keywords = [k for k in call.keywords if k.arg != "seed"] + [ast.keyword("seed", ast.Constant(seed))]
    tree = ast.fix_missing_locations(ast.Expression(call))
    return eval(compile(tree, "<drill>", "eval"), vars(widgets)).drill  # noqa: S307


def test_the_course_has_drills_of_every_kind():
    kinds = {expr.split("(")[0] for _, expr in CALLS}
    assert kinds == set(DRILLS) and len(CALLS) >= 20


@pytest.mark.parametrize("where, expression", CALLS, ids=[w for w, _ in CALLS])
def test_every_round_is_deep_enough_and_shuffled(where, expression):
    drill = build(expression, seed=7)
    name = type(drill).__name__
    if name in ("ChoiceDrill", "SortDrill"):
        first = [i["id"] for i in drill.items]
        assert len(first) >= MIN_ITEMS and len(set(first)) == len(first), (where, len(first))
        drill.next_round.click()
        second = [i["id"] for i in drill.items]
        assert len(second) >= MIN_ITEMS and second != first
    elif name == "OrderDrill" and drill.kind in FIXED_SEQUENCES:
        assert len(drill.puzzle.solution) == FIXED_SEQUENCES[drill.kind]
        first = drill.pieces
        drill.next_round.click()
        assert drill.pieces != first and sorted(drill.pieces) == sorted(first)
    else:
        assert len(drill.deck) >= MIN_ITEMS, (where, len(drill.deck))
        seen = set()
        for _ in range(MIN_ITEMS):
            seen.add({"ReplyDrill": lambda: drill.current["id"], "ChatDrill": lambda: drill.chat["id"]}.get(
                name, lambda: drill.puzzle.item)())
            drill.next_round.click()
        assert len(seen) == MIN_ITEMS  # dealt without repeats until the deck is through


# ----------------------------------------------------------------------------- choice drills with near-misses


def test_near_misses_are_real_options_with_their_own_explanation():
    from toolkit import checks, kb
    from toolkit.widgets.choice import options_of

    pairs = list(kb.load("pairs")["pair"])
    rules = {r["id"] for r in kb.load("pairs")["rule"]}
    assert all(p.get("near") for p in pairs)  # every pair has a near-miss beside its ×
    for p in pairs:
        texts = [text for _, text, _ in options_of(p)]
        whys = [why for _, _, why in options_of(p)]
        # every option, the × included, has its own explanation
        assert len(set(texts)) == len(texts) and len(set(whys)) == len(whys), p["id"]
        for n in p["near"]:
            # A near-miss is polite: no forbidden phrase, unlike the caricatured ×.
            assert not checks.find_forbidden(n["text"]), (p["id"], n["text"])
            assert set(n) == {"text", "why", "breaks"} and n["why"].strip() and n["breaks"] in rules


def test_a_choice_round_shows_near_misses_and_explains_each():
    import html
    import re

    from toolkit.widgets import choice_drill

    d = choice_drill(module="complaint_handling", scenario="complaint", seed=3).drill
    for _ in range(len(d.items)):
        keys = [key for _, key in d.options.options]
        if any(k.startswith("near") for k in keys):
            break
        d.advance()
    keys = [key for _, key in d.options.options]
    near = [k for k in keys if k.startswith("near")]
    assert near and "good" in keys and "bad" in keys
    d.options.value = near[0]
    d.submit.click()
    shown = html.unescape(re.sub(r"<[^>]+>", "", d.feedback.value))
    assert "✘" in shown and "（你选的）" in shown
    for key, text, why in d.choices:
        assert text in shown and why in shown
