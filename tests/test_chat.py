"""Online chat support (issue 10 item 1): the chat data, its tone rules and the chat drill."""

import html
import re

import pytest

from toolkit import kb, progress
from toolkit.widgets import chat_drill
from toolkit.widgets.chat import chat_tone, chats, judge, response_limit

TAG = re.compile(r"<[^>]+>")
TOPICS = {  # what seed 002's scripts cover, and the buyer words that show a chat covers it
    "auto-reply": "在吗", "ship time": "什么时候能发货", "template change": "换个模板", "gift": "小礼物",
    "colour difference": "颜色", "shipped": "发货了吗", "not shipped": "还没发货", "after-sale": "重印",
}


def plain(value: str) -> str:
    return html.unescape(TAG.sub("", value))


def test_chats_cover_the_common_questions_before_during_and_after_the_sale():
    data = chats()
    assert len(data) >= 8 and {c["stage"] for c in data} == {"pre-sale", "in-sale", "after-sale"}
    buyer = "".join(m["buyer"] for c in data for m in c["messages"])
    assert {name for name, cue in TOPICS.items() if cue in buyer} == set(TOPICS)
    for c in data:
        assert len(c["messages"]) >= 3 and "秒内回复" in c["auto_reply"]
        for m in c["messages"]:
            assert set(m) == {"buyer", "reference", "tip"} and all(v.strip() for v in m.values())


@pytest.mark.parametrize("chat", chats(), ids=lambda c: c["id"])
def test_every_reference_reply_passes_the_review_and_the_chat_tone(chat):
    for m in chat["messages"]:
        ok, review, notes = judge(m["reference"], m["buyer"])
        assert ok and review.score >= 85 and notes == [], (m["reference"], review.why, notes)


@pytest.mark.parametrize("reply, fault", [
    ("亲爱的，明天就给您发货。", "亲爱的"),
    ("宝贝放心，明天就发货哦。", "宝贝"),
    ("呵呵，明天发货。", "呵呵"),
    ("亲，明天发货哦，放心哦，会很快的呢，收到哦。", "语气词"),
])
def test_over_familiar_or_particle_heavy_replies_are_faults(reply, fault):
    notes = chat_tone(reply)
    assert notes and fault in "".join(notes)
    ok, _, _ = judge(reply, "今天下单的话，什么时候能发货？")
    assert not ok


def test_one_or_two_particles_and_qin_are_fine():
    assert chat_tone("亲，明天上午就为您发货哦。") == []
    assert chat_tone("亲，您放心，明天发货呢，单号发给您哦。") == []


@pytest.mark.parametrize("reply", [
    "不知道，你自己看详情页。",            # buck-passing, 你
    "亲，这个要问快递哦。",                  # pushing the buyer away
    "亲，您好，祝您购物愉快！",              # off-topic: does not answer when it ships
])
def test_replies_that_do_not_answer_the_buyer_are_not_ok(reply):
    ok, review, _ = judge(reply, "今天下单的话，什么时候能发货？")
    assert not ok and review.findings


def test_the_drill_plays_a_conversation_message_by_message():
    d = chat_drill(seed=4).drill
    chat = d.chat
    log = plain(d.transcript.value)
    assert chat["auto_reply"] in log and chat["messages"][0]["buyer"] in log
    assert chat["messages"][1]["buyer"] not in log  # the next message has not arrived yet
    d.submit.click()
    assert "请" in plain(d.feedback.value) and d.results == []  # nothing typed: a prompt, no judgement
    for i, m in enumerate(chat["messages"]):
        assert d.buyer == m["buyer"]
        d.textarea.value = m["reference"] if i != 1 else "宝贝，呵呵，好的哦呢哦。"
        d.submit.click()
        shown = plain(d.feedback.value)
        assert m["reference"] in shown and m["tip"] in shown
        assert ("✔" in shown) == (i != 1)
        if i + 1 < len(chat["messages"]):
            assert chat["messages"][i + 1]["buyer"] in plain(d.transcript.value)
    assert d.finished and d.submit.disabled and [r["ok"] for r in d.results] == [i != 1 for i in range(len(chat["messages"]))]
    assert f"回复得当 {len(chat['messages']) - 1} 条" in plain(d.feedback.value)
    rows = progress.attempts("online_chat")
    assert [r["item"] for r in rows][-len(chat["messages"]):] == [f"{chat['id']}:{i + 1}" for i in range(len(chat["messages"]))]
    d.next_round.click()
    assert not d.finished and d.results == [] and d.index == 0


def test_response_time_is_reported_against_the_shop_target():
    d = chat_drill(seed=1).drill
    d._started -= response_limit() + 5  # the buyer has waited longer than the target
    d.textarea.value = d.chat["messages"][0]["reference"]
    d.submit.click()
    assert f"{response_limit()} 秒内回复" in plain(d.feedback.value)
    assert kb.load("chat")["tone"]
