"""Headless tests of the drill widgets: build with a seed, set values, click, read the feedback."""

import html
import re
import subprocess
import sys

import ipywidgets as w
import pytest

from toolkit import checks, kb, progress
from toolkit.widgets import (
    call_simulator,
    choice_drill,
    dashboard,
    order_drill,
    reply_drill,
    sort_drill,
)
from toolkit.widgets._common import Drill, highlight, t, ui

WARNING_START = "学习记录无法保存"
MARK = re.compile(r"<mark[^>]*>(.*?)</mark>")


@pytest.fixture(autouse=True)
def store_path(tmp_path, monkeypatch):
    """Each test records into its own store (KEFU_PROGRESS); drill bugs raise instead of hiding."""
    path = tmp_path / "progress.sqlite3"
    monkeypatch.setenv("KEFU_PROGRESS", str(path))
    monkeypatch.setattr(progress, "_stores", {})
    monkeypatch.setattr(Drill, "raise_errors", True)
    return path


def marked(feedback: str) -> list[str]:
    return [html.unescape(m) for m in MARK.findall(feedback)]


def plain(feedback: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", feedback))


# ----------------------------------------------------------------------------- package


def test_import_stays_light():
    code = "import sys, toolkit.widgets; print(sorted(m for m in ('pandas', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("make", [
    lambda: choice_drill(seed=1), lambda: sort_drill("spin", seed=1), lambda: order_drill("fab", seed=1),
    lambda: reply_drill(seed=1), lambda: call_simulator(seed=1), lambda: dashboard(),
])
def test_public_functions_return_a_vbox_with_a_drill(make):
    box = make()
    assert isinstance(box, w.VBox)
    assert box.drill.widget is box


def test_highlight_escapes_and_marks():
    assert highlight("<b>你必须</b>", [(3, 6)]) == '&lt;b&gt;<mark style="background:#fff3a3;padding:0 2px;border-radius:2px">你必须</mark>&lt;/b&gt;'
    assert marked(highlight("abcdef", [(1, 3), (2, 4), (5, 5)])) == ["bc"]  # overlaps and empties skipped


# ----------------------------------------------------------------------------- choice_drill


def test_choice_right_answer_gets_tick_and_reason():
    d = choice_drill(seed=7).drill
    pair = d.current
    assert pair in kb.load("pairs")["pair"]
    assert {v for _, v in d.options.options} == {"good", "bad"} | {f"near{i}" for i in range(len(pair.get("near", ())[:2]))}
    d.options.value = "good"
    d.submit.click()
    assert "✔" in d.feedback.value and "✘" not in d.feedback.value
    assert html.escape(pair["why"]) in d.feedback.value
    rows = progress.attempts("phrases")
    assert [(r["item"], r["answer"], r["correct"]) for r in rows] == [(pair["id"], pair["good"], True)]


def test_choice_wrong_answer_marks_exactly_the_forbidden_phrase():
    d = choice_drill(seed=3).drill
    pair = d.current
    d.options.value = "bad"
    d.submit.click()
    fb = d.feedback.value
    assert "✘" in fb and html.escape(pair["good"]) in fb and html.escape(pair["why"]) in fb
    hits = checks.find_forbidden(pair["bad"])
    assert hits
    assert marked(fb) == [pair["bad"][h.start:h.end] for h in hits]
    for h in hits:
        assert html.escape(h.suggestion) in fb
    assert progress.attempts("phrases")[0]["correct"] is False


@pytest.mark.parametrize("seed", range(12))
def test_choice_highlights_every_pair_correctly(seed):
    d = choice_drill(n=6, seed=seed).drill
    for _ in d.items:
        d.options.value = "bad"
        d.submit.click()
        bad = d.current["bad"]
        assert marked(d.feedback.value) == [bad[h.start:h.end] for h in checks.find_forbidden(bad)]
        d.next_item.click()


def test_choice_asks_for_a_choice_first_and_records_nothing():
    d = choice_drill(seed=1).drill
    d.submit.click()
    assert t("text", "choose_first") in plain(d.feedback.value)
    assert progress.attempts() == []


def test_choice_round_flow_and_fresh_variant():
    d = choice_drill(n=3, seed=11).drill
    first = [p["id"] for p in d.items]
    for i in range(3):
        assert d.index == i
        d.options.value = "good"
        d.submit.click()
        d.next_item.click()
    assert "3 题中答对 3 题" in plain(d.feedback.value)
    d.next_round.click()
    assert d.index == 0 and d.options.value is None and d.feedback.value == ""
    assert set(first).isdisjoint(p["id"] for p in d.items)  # a fresh variant
    assert len(progress.attempts("phrases")) == 3


def test_choice_same_seed_same_items_and_scenario_filter():
    a, b = choice_drill(seed=5).drill, choice_drill(seed=5).drill
    assert [p["id"] for p in a.items] == [p["id"] for p in b.items]
    d = choice_drill(module="telephone", scenario=["hold", "silent-call"], n=20, seed=2).drill
    pool = [p for p in kb.load("pairs")["pair"] if p["scenario"] in ("hold", "silent-call")]
    assert {p["scenario"] for p in d.items} <= {"hold", "silent-call"} and len(d.items) == len(pool) < 20
    d.options.value = "good"
    d.submit.click()
    assert progress.attempts("telephone")[0]["correct"] is True
    with pytest.raises(ValueError, match="没有找到情境"):
        choice_drill(scenario="no-such-scenario")


# ----------------------------------------------------------------------------- sort_drill


def expected_reason(kind, item):
    if kind == "listening":
        level = next(lv for lv in kb.load("listening")["level"] if str(lv["rank"]) == item["label"])
        return level["description"]
    func = {"questions": checks.classify_question, "spin": checks.spin_type, "complaints": checks.complaint_type}[kind]
    label = func(item["text"])
    assert label == item["label"]
    return label.why


SORT_MODULES = {"questions": "questions", "spin": "spin", "complaints": "complaint_types", "listening": "listening"}


@pytest.mark.parametrize("kind", SORT_MODULES)
def test_sort_right_answers(kind):
    d = sort_drill(kind, n=8, seed=4).drill
    assert len(d.items) == len(d.dropdowns) == 8
    assert {i["label"] for i in d.items} == {k for k, _ in d.buckets} or len(d.buckets) > 8
    for item, dd in zip(d.items, d.dropdowns):
        dd.value = item["label"]
    d.submit.click()
    for item, res in zip(d.items, d.results):
        assert res.value.count("✔") == 1 and "✘" not in res.value
        assert html.escape(expected_reason(kind, item)) in res.value
    assert "8 项中答对 8 项" in plain(d.feedback.value)
    rows = progress.attempts(SORT_MODULES[kind])
    assert len(rows) == 8 and all(r["correct"] for r in rows)


@pytest.mark.parametrize("kind", SORT_MODULES)
def test_sort_wrong_answers_name_the_right_bucket_and_reason(kind):
    d = sort_drill(kind, n=6, seed=9).drill
    names = dict(d.buckets)
    for item, dd in zip(d.items, d.dropdowns):
        dd.value = next(k for k, _ in d.buckets if k != item["label"])
    d.submit.click()
    for item, res in zip(d.items, d.results):
        assert "✘" in res.value and "✔" not in res.value
        assert html.escape(f"正确答案是“{names[item['label']]}”") in res.value
        assert html.escape(expected_reason(kind, item)) in res.value
    assert not any(r["correct"] for r in progress.attempts(SORT_MODULES[kind]))


def test_sort_requires_every_item_and_offers_a_new_set():
    d = sort_drill("questions", n=4, seed=1).drill
    d.dropdowns[0].value = "open"
    d.submit.click()
    assert "还有 3 处没有选择" in plain(d.feedback.value)
    assert progress.attempts() == []
    before = [i["id"] for i in d.items]
    d.next_round.click()
    assert [i["id"] for i in d.items] != before and all(dd.value == "" for dd in d.dropdowns)
    with pytest.raises(ValueError):
        sort_drill("colours")


# ----------------------------------------------------------------------------- order_drill


@pytest.mark.parametrize("kind,module", [("fab", "fab"), ("service_cycle", "service_cycle"), ("listening", "listening")])
def test_order_right_and_wrong(kind, module):
    d = order_drill(kind, seed=2).drill
    solution = list(d.puzzle.solution)
    assert sorted(d.pieces) == sorted(solution) and d.pieces != solution
    for dd, piece in zip(d.slots, solution):
        dd.value = piece
    d.submit.click()
    assert "✔ 正确" in d.feedback.value and "✘" not in d.feedback.value
    assert all("✔" in m.value for m in d.marks)
    for reason in d.puzzle.reasons:
        assert html.escape(reason) in d.feedback.value

    d.next_round.click()
    wrong = list(reversed(d.puzzle.solution))
    for dd, piece in zip(d.slots, wrong):
        dd.value = piece
    d.submit.click()
    assert "✘" in d.feedback.value
    if kind == "fab":
        assert html.escape(checks.fab_order(wrong).why) in d.feedback.value
    assert [r["correct"] for r in progress.attempts(module)] == [True, False]


def test_order_fab_uses_data_and_refuses_duplicates():
    d = order_drill("fab", seed=5).drill
    pitch = next(p for p in kb.load("fab")["pitch"] if p["id"] == d.puzzle.item)
    assert d.puzzle.solution == (pitch["feature"], pitch["advantage"], pitch["benefit"])
    for dd in d.slots:
        dd.value = d.pieces[0]
    d.submit.click()
    assert t("text", "duplicate") in plain(d.feedback.value)
    d.slots[0].value = ""
    d.submit.click()
    assert "还有 1 处没有选择" in plain(d.feedback.value)
    assert progress.attempts() == []


def test_order_listening_is_lowest_to_highest():
    d = order_drill("listening", seed=1).drill
    levels = sorted(kb.load("listening")["level"], key=lambda lv: lv["rank"])
    assert d.puzzle.solution == tuple(lv["name"] for lv in levels)


# ----------------------------------------------------------------------------- reply_drill


def test_reply_review_flags_command_and_marks_it():
    d = reply_drill("review", seed=3).drill
    d.textarea.value = "你必须先付款。"
    d.submit.click()
    fb = d.feedback.value
    assert "✘" in fb and "得分" in fb
    assert marked(fb) == ["你必须"]
    review = checks.review_reply("你必须先付款。")
    for f in review.findings:
        assert html.escape(f.message) in fb
    row = progress.attempts("phrases")[0]
    assert row["item"] == d.current["id"] and row["answer"] == "你必须先付款。" and row["correct"] is False


def test_reply_review_passes_a_polite_reply():
    d = reply_drill("review", seed=3).drill
    d.textarea.value = d.current["reference"]  # the pair's good reply, judged against its customer's turn
    d.submit.click()
    assert "✔" in d.feedback.value and "✘" not in d.feedback.value
    assert marked(d.feedback.value) == []
    assert progress.attempts("phrases")[0]["correct"] is True


def test_reply_accepts_traditional_full_width_input():
    d = reply_drill("review", seed=3).drill
    text = "你必須先付款！"
    d.textarea.value = text
    d.submit.click()
    assert "✘" in d.feedback.value
    assert marked(d.feedback.value) == ["你必須"]  # highlighted in the ORIGINAL text


@pytest.mark.parametrize("kind", ["review", "three_f", "question", "spin"])
@pytest.mark.parametrize("empty", ["", "   ", "\n\u3000"])
def test_reply_empty_input_gets_a_chinese_prompt(kind, empty):
    d = reply_drill(kind, seed=1).drill
    d.textarea.value = empty
    d.submit.click()
    assert t("text", "empty_reply") in plain(d.feedback.value)
    assert progress.attempts() == []


def test_reply_review_reference_is_the_good_pair():
    d = reply_drill("review", seed=8).drill
    pair = next(p for p in kb.load("pairs")["pair"] if p["id"] == d.current["id"])
    assert pair["customer"] in plain(d.customer.value)
    d.show_reference.click()
    assert html.escape(pair["good"]) in d.reference.value and html.escape(pair["why"]) in d.reference.value


def test_reply_review_judges_against_the_customers_turn():
    """Issue 8: stuffing and a reply about something else fail the drill, with a Chinese reason."""
    d = reply_drill("review", seed=3).drill
    for text in ("您好请谢谢对不起您好请谢谢对不起", "Go read the manual yourself."):
        d.textarea.value = text
        d.submit.click()
        assert "✘" in d.feedback.value and d.last.score < 60
        assert "中文" in plain(d.feedback.value) or "重复" in plain(d.feedback.value)
    review = checks.review_reply("您好，您的房间已经打扫好了，祝您入住愉快。", customer=d.current["customer"])
    d.textarea.value = "您好，您的房间已经打扫好了，祝您入住愉快。"
    d.submit.click()
    assert ("✘" in d.feedback.value) == (not review.ok)
    assert progress.attempts("phrases")[0]["correct"] is False
    d.next_round.click()
    assert d.reference.value == "" and d.textarea.value == ""


def test_reply_three_f_reference_passes_and_missing_parts_are_named():
    d = reply_drill("three_f", seed=2).drill
    reply = next(r for r in kb.load("three_f")["reply"] if r["id"] == d.current["id"])
    assert reply["customer"] in plain(d.customer.value)
    d.show_reference.click()
    full = reply["feel"] + reply["felt"] + reply["found"]
    assert html.escape(full) in d.reference.value
    d.textarea.value = full
    d.submit.click()
    assert "✔ 正确" in d.feedback.value and "顺序正确" in plain(d.feedback.value)
    result = checks.three_f(full)
    assert marked(d.feedback.value) == [result.feel.text, result.felt.text, result.found.text]

    d.textarea.value = "我理解您的心情。"
    d.submit.click()
    fb = plain(d.feedback.value)
    names = ui()["three_f_parts"]
    assert "✘ 不对" in fb and t("reply", "missing_part", part=names["Felt"]) in fb
    assert t("reply", "missing_part", part=names["Found"]) in fb
    assert t("reply", "found_part", part=names["Feel"], text="我理解") in fb
    assert [r["correct"] for r in progress.attempts("three_f")] == [True, False]


def test_reply_question_open_vs_closed():
    d = reply_drill("question", seed=4).drill
    assert not d.current["customer"].startswith("(")
    d.textarea.value = "您能详细说说当时的情况吗?"
    d.submit.click()
    label = checks.classify_question("您能详细说说当时的情况吗?")
    assert label == "open"
    assert "✔" in d.feedback.value and html.escape(label.why) in d.feedback.value

    d.textarea.value = "是不是已经签收了?"
    d.submit.click()
    label = checks.classify_question("是不是已经签收了?")
    assert "✘" in d.feedback.value and html.escape(label.why) in d.feedback.value
    d.show_reference.click()
    opens = {q["text"] for q in kb.load("questions")["question"] if q["type"] == "open"}
    reference = d.current["reference"]
    assert reference in opens and html.escape(reference) in d.reference.value
    assert [r["correct"] for r in progress.attempts("questions")] == [True, False]


def test_reply_question_with_forbidden_phrase_is_not_accepted():
    d = reply_drill("question", seed=4).drill
    d.textarea.value = "你到底想说什么?"
    d.submit.click()
    assert "✘" in d.feedback.value and marked(d.feedback.value) == ["你到底想说什么"]


def test_reply_spin_asks_for_a_type_and_judges_the_question_against_it():
    d = reply_drill("spin", seed=5).drill
    names = {t_["key"]: t_["name"] for t_ in kb.load("spin")["type"]}
    practice = next(p for p in kb.load("spin")["practice"] if p["id"] == d.current["id"])
    wanted = practice["type"]
    assert practice["customer"] in plain(d.customer.value)
    assert t("reply", "spin_task", name=names[wanted]) in plain(d.customer.value)

    d.textarea.value = practice["reference"]
    d.submit.click()
    assert "✔ 正确" in d.feedback.value and t("reply", "spin_right", name=names[wanted]) in plain(d.feedback.value)

    # A question of another type: the feedback names what it is, what was asked, and why.
    other = next(q["text"] for q in kb.load("spin")["question"] if q["type"] != wanted)
    got = checks.spin_type(other)
    d.textarea.value = other
    d.submit.click()
    feedback = plain(d.feedback.value)
    assert "✘ 不对" in feedback and t("reply", "spin_wrong", got=names[got], want=names[wanted]) in feedback
    assert got.why in feedback
    d.show_reference.click()
    assert html.escape(practice["reference"]) in d.reference.value
    assert [r["correct"] for r in progress.attempts("spin")] == [True, False]


def test_reply_spin_every_round_comes_from_the_practice_set():
    d = reply_drill("spin", seed=1).drill
    ids = {p["id"] for p in kb.load("spin")["practice"]}
    seen = set()
    for _ in range(2 * len(ids)):
        seen.add(d.current["id"])
        d.next_round.click()
    assert seen == ids


# ----------------------------------------------------------------------------- call_simulator


def best_index(sim):
    deltas = [c["mood_delta"] for c in sim.current_choices]
    return deltas.index(max(deltas))


def worst_index(sim):
    deltas = [c["mood_delta"] for c in sim.current_choices]
    return deltas.index(min(deltas))


def test_capstone_graph_is_closed():
    nodes = {n["id"] for n in kb.load("capstone")["node"]}
    assert "start" in nodes
    for node in kb.load("capstone")["node"]:
        for choice in node["choice"]:
            assert choice["next"] in nodes | {"end"}
            assert choice["skill"] in progress.MODULES


def test_simulator_best_path_scores_full_marks():
    sim = call_simulator(seed=3).drill
    assert sim.node_id == "start" and len(sim.choice_buttons) == len(sim.current_choices)
    start = next(n for n in kb.load("capstone")["node"] if n["id"] == "start")
    assert start["customer"] in plain(sim.customer.value)
    while not sim.finished:
        i = best_index(sim)
        choice = sim.current_choices[i]
        sim.choice_buttons[i].click()
        assert html.escape(choice["feedback"]) in sim.feedback.value and "✔" in sim.feedback.value
    assert sim.node_id == "end" and sim.mood == 2
    assert sim.score == 100 and "100" in sim.summary.value
    assert sim.improvements == [] and "太棒了" in plain(sim.summary.value)
    rows = progress.attempts("capstone")
    assert len(rows) == len(sim.steps) and all(r["correct"] for r in rows)


def test_simulator_weak_choices_become_improvements_with_skill_names():
    sim = call_simulator(seed=3).drill
    while not sim.finished:
        before = sim.mood
        i = worst_index(sim)
        choice = sim.current_choices[i]
        sim.choice_buttons[i].click()
        assert html.escape(choice["feedback"]) in sim.feedback.value
        assert sim.mood == max(-2, min(2, before + choice["mood_delta"]))
    assert sim.node_id == "end" and -2 <= sim.mood <= 2
    assert sim.score < 50
    summary = plain(sim.summary.value)
    assert "需要改进" in summary and "得分" in summary
    weak = [s["choice"] for s in sim.steps if not s["best"]]
    assert weak and len(sim.improvements) == len(weak)
    for choice in weak:
        assert choice["feedback"] in summary
        assert f"【{t('module_names', choice['skill'])}】" in summary
    assert not any(r["correct"] for r in progress.attempts("capstone"))


def test_simulator_restart_and_seeded_order():
    a, b = call_simulator(seed=8).drill, call_simulator(seed=8).drill
    assert [c["text"] for c in a.current_choices] == [c["text"] for c in b.current_choices]
    a.choice_buttons[0].click()
    a.restart.click()
    assert a.node_id == "start" and a.steps == [] and not a.finished and a.summary.value == ""
    assert a.restart is a.next_round and a.restart.description == "重新开始"


# ----------------------------------------------------------------------------- dashboard


def test_dashboard_with_an_empty_store_is_friendly():
    d = dashboard().drill
    assert d.frame is None
    assert "还没有练习记录" in plain(d.message.value)
    assert "接下来建议练习" in plain(d.suggestions.value)


def test_dashboard_shows_mastery_chart_table_and_suggestions():
    progress.record("spin", "s-operator", "situation", True)
    progress.record("spin", "s-bandwidth", "problem", False)
    progress.record("fab", "network-seed", "x", True)
    d = dashboard().drill
    assert d.chart.value[:8] == b"\x89PNG\r\n\x1a\n"
    table = d.table.value
    assert "SPIN 提问" in table and "50%" in table and "FAB 介绍法" in table and "100%" in table
    assert d.frame.set_index("key").loc["spin", "练习次数"] == 2
    first = progress.next_to_practise()[0]
    assert t("module_names", first) in plain(d.suggestions.value)
    progress.record("listening", "level-1-1", "1", True)
    d.refresh.click()
    assert d.frame.set_index("key").loc["listening", "练习次数"] == 1


# ----------------------------------------------------------------------------- storage problems


def _drills_still_work_with_one_warning():
    first = choice_drill(seed=1).drill
    assert first.notice.value and WARNING_START in first.notice.value and "练习仍可继续" in first.notice.value
    first.options.value = "good"
    first.submit.click()
    assert "✔" in first.feedback.value
    second = sort_drill("questions", n=2, seed=1).drill
    assert second.notice.value == ""  # the warning is shown ONCE
    for item, dd in zip(second.items, second.dropdowns):
        dd.value = item["label"]
    second.submit.click()
    assert "2 项中答对 2 项" in plain(second.feedback.value)
    assert len(progress.attempts()) == 3  # kept in memory for this session
    assert dashboard().drill.frame is not None


def test_corrupt_store_file_warns_once_and_drills_work(store_path):
    store_path.write_bytes(b"\x00\x01garbage, not sqlite\xff" * 64)
    _drills_still_work_with_one_warning()


def test_unwritable_store_path_warns_once_and_drills_work(tmp_path, monkeypatch):
    blocker = tmp_path / "x" / "file.txt"
    blocker.parent.mkdir()
    blocker.write_text("a file where a folder should be")
    monkeypatch.setenv("KEFU_PROGRESS", str(blocker / "progress.db"))
    _drills_still_work_with_one_warning()


def test_store_breaking_mid_drill_shows_the_warning_in_that_drill(store_path):
    d = choice_drill(seed=1).drill
    assert d.notice.value == ""
    store_path.write_bytes(b"garbage" * 300)
    d.options.value = "bad"
    d.submit.click()
    assert "✘" in d.feedback.value
    assert WARNING_START in d.notice.value
