"""The capstone calls (issue 10 item 3): four domains, branching, every path walked.

On every path of every call the closing summary lists exactly what was promised on that path
(and the agent's own recap says it), and the customer's mood follows the replies; the free-text
call is played by typing, judged by the reply review against the customer's line.
"""

import html
import re

import pytest

from toolkit import checks, kb
from toolkit.widgets import call_simulator
from toolkit.widgets.simulator import END, Call, calls, judge, line, nodes, promises_in, recap

CALLS = calls()
CHOICE_CALLS = [c["id"] for c in CALLS if c["mode"] == "choice"]
FREE_CALLS = [c["id"] for c in CALLS if c["mode"] == "free"]
TAG = re.compile(r"<[^>]+>")


def plain(value: str) -> str:
    return html.unescape(TAG.sub("", value))


def paths(call_id: str, pick):
    """Every path through a call: lists of node choices, found by depth-first search on Call itself."""
    out = []

    def walk(prefix):
        state = Call(call_id)
        for choice in prefix:
            pick(state, choice)
        if state.finished:
            out.append((prefix, state))
            return
        for choice in state.node["choice"]:
            walk(prefix + [choice])

    walk([])
    return out


def choose(state, choice):
    state.choose(choice)


def say_example(state, choice):
    state.say(choice["text"])  # each outcome's example reply, typed


def test_four_calls_from_the_four_domains_each_branching():
    assert {c["domain"] for c in CALLS} >= {"telecom", "e-commerce", "bank", "logistics"}
    assert FREE_CALLS, "at least one call is played in free text"
    for call in CALLS:
        graph = nodes(call["id"])
        assert call["start"] in graph
        reachable, todo = set(), [call["start"]]
        while todo:
            node_id = todo.pop()
            if node_id in reachable or node_id == END:
                continue
            reachable.add(node_id)
            todo += [c["next"] for c in graph[node_id]["choice"]]
        assert reachable == set(graph), call["id"]  # no orphan node
        assert sum(len({c["next"] for c in n["choice"]}) > 1 for n in graph.values()) >= 3, call["id"]
        for n in graph.values():
            for c in n["choice"]:
                assert c["next"] == END or c["next"] in graph, (n["id"], c["next"])
                if call["mode"] == "free":
                    assert c["when"] in ("good", "weak", "rude")
            if call["mode"] == "free":
                assert sorted(c["when"] for c in n["choice"])[0] == "good", n["id"]


@pytest.mark.parametrize("call_id", CHOICE_CALLS)
def test_every_path_recaps_what_was_promised_and_mood_follows(call_id):
    walked = paths(call_id, choose)
    assert len(walked) >= 20
    all_promises = {c["promise"] for n in nodes(call_id).values() for c in n["choice"] if c.get("promise")}
    assert all_promises
    for prefix, state in walked:
        made = []
        for step in state.steps:
            choice, said = step["choice"], step["said"]
            if "{recap}" in choice["text"]:
                # The agent's own summary names every promise made so far, and no other.
                for p in all_promises:
                    assert (p in said) == (p in made), (call_id, [s["node"] for s in state.steps], p)
                if not made:
                    assert "确认一下" not in said
            if choice.get("promise"):
                made.append(choice["promise"])
            _check_mood(step)
        assert state.promises == list(dict.fromkeys(made))
    best = [s for _, s in walked if all(st["best"] for st in s.steps)]
    assert len(best) == 1 and best[0].mood == 2
    worst = min(walked, key=lambda w: sum(st["choice"]["mood_delta"] for st in w[1].steps))[1]
    assert worst.mood <= -1


def _check_mood(step):
    delta = step["choice"]["mood_delta"]
    before, after = step["mood_before"], step["mood_after"]
    assert after == max(-2, min(2, before + delta))
    # The line the customer said fits the mood shown beside it.
    node = kb_node(step)
    said, written = line(node, before)
    assert said == step["line"] and abs(before - written) <= 1, (node["id"], before, written)


def kb_node(step):
    return next(n for n in kb.load("capstone")["node"] if n["id"] == step["node"])


@pytest.mark.parametrize("call_id", FREE_CALLS)
def test_free_call_every_path_by_typing(call_id):
    walked = paths(call_id, say_example)
    assert len(walked) >= 20
    for prefix, state in walked:
        # The typed example of each outcome is judged as that outcome: the branch follows the judgement.
        assert [s["outcome"] for s in state.steps] == [c["when"] for c in prefix]
        typed = []
        for step in state.steps:
            _check_mood(step)
            if step["outcome"] == "good":
                assert step["mood_after"] > step["mood_before"] or step["mood_before"] == 2
            if step["outcome"] == "rude":
                assert step["mood_after"] < step["mood_before"] or step["mood_before"] == -2
            if step["outcome"] != "rude":
                typed += promises_in(step["said"])
        assert state.promises == list(dict.fromkeys(typed))
    assert max(s.mood for _, s in walked) == 2 and min(s.mood for _, s in walked) == -2


def test_free_call_judges_replies_that_are_not_in_the_data():
    call = Call(FREE_CALLS[0])
    first = call.line
    # An apology with a concrete next step calms the customer; the next line follows.
    step = call.say("真是对不起，多扣钱肯定让您很着急。我马上为您核查这两笔交易，麻烦您说一下卡号后四位好吗？")
    assert step["outcome"] == "good" and call.mood > step["mood_before"] and call.line != first
    calm = call.line
    # Pushing the customer away makes them angrier, and they say something else.
    other = Call(FREE_CALLS[0])
    step = other.say("这事不归我们管，请您自行联系商户。")
    assert step["outcome"] == "rude" and other.mood < step["mood_before"] and other.line not in (first, calm)
    # A reply that answers without an apology where one is due leaves the customer pressing.
    third = Call(FREE_CALLS[0])
    step = third.say("请问是哪一天的交易？")
    assert step["outcome"] == "weak" and step["notes"] and third.line not in (calm,)


def test_free_call_in_the_widget_types_reports_and_summarises():
    sim = call_simulator(seed=2, call=FREE_CALLS[0]).drill
    assert sim.free and not sim.choice_buttons and sim.reply_box in sim.choice_box.children
    start = sim.state.line
    assert start in plain(sim.customer.value)
    sim.say("   ")
    assert "请先输入" in plain(sim.feedback.value) and sim.steps == []
    sim.reply_box.value = "非常抱歉给您添麻烦了，我现在就帮您查一下这两笔扣款，请问您卡号的后四位是多少？"
    sim.say_button.click()
    assert sim.steps[-1]["outcome"] == "good" and "✔" in sim.feedback.value
    while not sim.finished:  # from here on type each good example
        good = next(c for c in sim.state.node["choice"] if c["when"] == "good")
        sim.say(good["text"])
    summary = plain(sim.summary.value)
    assert sim.mood == 2 and sim.promises and all(p in summary for p in sim.promises)
    assert "3个工作日内" in summary


def test_choice_call_in_the_widget_summary_lists_the_path_promises():
    sim = call_simulator(seed=5, call="parcel").drill
    while not sim.finished:
        deltas = [c["mood_delta"] for c in sim.current_choices]
        sim.choice_buttons[deltas.index(max(deltas))].click()
    summary = plain(sim.summary.value)
    assert sim.promises and all(p in summary for p in sim.promises)
    closing = next(s for s in sim.steps if "{recap}" in s["choice"]["text"])
    assert closing["said"] == closing["choice"]["text"].replace("{recap}", recap(sim.promises))
    sim.call_picker.value = "sweater"
    assert sim.node_id == "sweater_start" and sim.steps == []


def test_picking_a_call_and_a_bad_call_name():
    for call in CALLS:
        sim = call_simulator(seed=1, call=call["id"]).drill
        assert call["title"] in plain(sim.title.value)
    with pytest.raises(ValueError, match="没有这通电话"):
        call_simulator(call="nope")


def test_every_calming_reply_passes_and_every_angering_reply_fails_the_review():
    for call in CALLS:
        for n in nodes(call["id"]).values():
            lines = {line(n, m)[0] for m in range(-2, 3)}
            for c in n["choice"]:
                for customer in lines:
                    r = checks.review_reply(recap_filled(c), customer=customer)
                    if c["mood_delta"] > 0:
                        assert r.ok and r.score >= 85, (n["id"], customer, r.why)
                    if c["mood_delta"] < 0:
                        assert not r.ok, (n["id"], c["text"])
                    if call["mode"] == "free":
                        assert judge(c["text"], n, customer)[0] == c["when"], (n["id"], c["text"])


def recap_filled(choice):
    return choice["text"].replace("{recap}", recap(["2小时内给您回电话"]))


def test_no_answer_key_is_shown_before_the_trainee_plays():
    import json
    from pathlib import Path

    nb = json.loads((Path(__file__).resolve().parents[1] / "course/11_综合演练.ipynb").read_text(encoding="utf-8"))
    sources = ["".join(c["source"]) for c in nb["cells"]]
    play = next(i for i, s in enumerate(sources) if "call_simulator()" in s and "import" not in s.split("call_simulator()")[-1])
    before = "\n".join(sources[:play])
    assert "mood_delta" not in before and '["choice"]' not in before and "['choice']" not in before
    replies = [c["text"] for n in kb.load("capstone")["node"] for c in n["choice"]]
    assert [r for r in replies if len(r) >= 8 and r.replace("{recap}", "") in before] == []


def test_free_call_accepts_traditional_and_full_width_input():
    call = Call(FREE_CALLS[0])
    step = call.say("很抱歉給您添麻煩了，我現在就幫您查一下這兩筆扣款，請問您方便告訴我卡號的後四位嗎？")
    assert step["outcome"] == "good"
    call.say("謝謝您。我核實到這兩筆確實是重複扣款，我現在就為您提交退款申請，多扣的１２８０元會在３個工作日內退回您的卡裡。")
    assert any("３個工作日內退回您的卡裡" in p for p in call.promises) and call.mood > 0
