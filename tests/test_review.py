"""Reply review and 3F judge a service act (issue 8): stuffing, repetition, English, off-topic,
faults by meaning, the customer's turn, robustness, and every model/× reply the course ships."""

import pytest
from model_replies import bad_replies, good_replies

from toolkit import checks
from toolkit.checks import find_forbidden, review_reply, three_f

SATURDAY = "能不能让快递周六再送？"


def _chinese(message: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in message)


@pytest.mark.parametrize("where, reply, customer", good_replies(), ids=lambda v: v if isinstance(v, str) and ":" in v else "")
def test_every_model_reply_is_ok_with_a_high_score(where, reply, customer):
    review = review_reply(reply, customer=customer)
    assert review.ok and review.score >= 85, (where, review.why)


@pytest.mark.parametrize("where, reply, customer", bad_replies(), ids=lambda v: v if isinstance(v, str) and ":" in v else "")
def test_every_bad_example_is_not_ok(where, reply, customer):
    review = review_reply(reply, customer=customer)
    assert not review.ok and review.score < 60 and all(_chinese(f.message) for f in review.findings), where


def test_the_lists_cover_the_knowledge_base_and_the_assignments():
    wheres = [w for w, _, _ in good_replies()]
    assert sum(w.startswith("pairs:") for w in wheres) == len(checks.kb.load("pairs")["pair"]) >= 84
    assert any(w.startswith("standard_phrases:") for w in wheres) and any(w.startswith("capstone:") for w in wheres)
    assert sum(":q" in w and "-answer" in w for w in wheres) >= 5  # graded reply questions' model answers


@pytest.mark.parametrize("reply, code", [
    ("您好请谢谢对不起您好请谢谢对不起", "repetition"),
    ("您好，谢谢，对不起。", "no-content"),
    ("Go read the manual yourself.", "not-chinese"),
    ("👍👍👍", "not-chinese"),
    ("？？？。。。", "not-chinese"),
    ("好的，我马上为您安排。" * 200, "repetition"),
    ("您好，今天天气不错，祝您生活愉快。", "off-topic"),
])
def test_replies_that_do_not_answer_fail_with_a_chinese_reason(reply, code):
    review = review_reply(reply, customer=SATURDAY)
    assert not review.ok and review.score < 60
    assert code in {f.code for f in review.findings}
    assert _chinese(review.why)


def test_english_or_emoji_only_is_told_to_answer_in_chinese():
    for reply in ("Please wait.", "🙂", "……！！"):
        review = review_reply(reply)
        assert not review.ok and "中文" in review.why


@pytest.mark.parametrize("reply, code", [
    ("您好，请您自己看说明书去吧，谢谢", None),
    ("您好，请问您是听不懂中文吗？谢谢", "sarcasm"),
    ("您是不是傻", None),
    ("我会马上让您闭嘴。", "abuse"),
    ("您可以滚了", "abuse"),
    ("大概三天左右到吧。", None),
    ("我已经说过了，周末不送。", "impatience"),
    ("没办法，您看看别家吧。", "buck"),
    ("我们这边管不了，请您自行联系快递公司。", "buck"),
    ("这是您自己下单时没看清楚。", "blame"),
])
def test_faults_are_judged_by_meaning_whatever_the_pronoun(reply, code):
    review = review_reply(reply, customer=SATURDAY)
    assert not review.ok and review.score < 60
    if code:
        assert code in {f.code for f in review.findings}
    for f in review.findings:
        assert _chinese(f.message)
        if f.code not in checks.WHOLE_REPLY_FINDINGS:
            assert reply[f.start:f.end] == f.matched


@pytest.mark.parametrize("reply", [
    "可以的，我已经为您把派送时间改到周六，快递员周六上午会先给您打电话。",
    "周六可以送，我这就帮您备注，快递员会在周六上午送货。",
    "很抱歉周六暂时不能派送，不过您可以选择周日送货，或者到驿站自提，我帮您改好。",
    "抱歉，这个快递已经在派送中，暂时无法改到周六，我帮您联系快递员，请他改约周六再送。",
])
def test_good_replies_and_a_refusal_with_another_way_are_ok(reply):
    review = review_reply(reply, customer=SATURDAY)
    assert review.ok and review.score >= 90, review.why


def test_a_factual_cannot_inside_an_explanation_is_fine():
    review = review_reply("燃气表欠费后就不能用气了，您在公众号缴费后，燃气五分钟内会自动恢复。")
    assert review.ok
    assert not review_reply("不能退。").ok


def test_apology_due_when_the_customer_was_wronged_and_a_time_when_a_call_back_is_promised():
    wronged = "我买的杯子收到就是碎的！"
    no_sorry = review_reply("杯子我马上为您补发一个新的，碎的不用寄回。", customer=wronged)
    assert "no-apology" in {f.code for f in no_sorry.findings}
    assert review_reply("很抱歉杯子碎了，我马上为您补发一个新的，碎的不用寄回。", customer=wronged).ok
    vague = review_reply("很抱歉杯子碎了，我核实后给您回电。", customer=wronged)
    assert "no-time" in {f.code for f in vague.findings}
    assert review_reply("很抱歉杯子碎了，我核实后今天下午三点前给您回电。", customer=wronged).ok


def test_score_does_not_reward_stuffing_or_length():
    good = review_reply("您好，周六可以送，我这就帮您备注，快递员会在周六上午送货。", customer=SATURDAY)
    stuffed = review_reply("您好，谢谢，请，对不起，感谢您，不好意思。", customer=SATURDAY)
    longer = review_reply("您好，周六可以送，我这就帮您备注，快递员会在周六上午送货。" * 3, customer=SATURDAY)
    assert good.ok and not stuffed.ok and not longer.ok
    assert good.score > stuffed.score and good.score > longer.score
    assert stuffed.polite == ()  # polite markers count only beside real content


def test_without_the_customer_the_old_signature_still_works():
    review = review_reply("您好,请您稍等,我马上为您查询,谢谢您的耐心。")
    assert review.ok and review.score >= 90
    assert review_reply("您好,请您稍等,我马上为您查询,谢谢您的耐心。", customer=None) == review


def test_the_customers_turn_is_analysed_once():
    checks._customer_turn.cache_clear()
    for reply in ("周六可以送。", "好的，周六给您送。", "周六上午送到。"):
        review_reply(reply, customer="快递能周六送吗？")
    info = checks._customer_turn.cache_info()
    assert info.misses == 1 and info.hits == 2


def test_customer_must_be_text():
    with pytest.raises(TypeError, match="客户的话"):
        review_reply("您好", customer=42)


@pytest.mark.parametrize("func", [review_reply, three_f, find_forbidden, checks.classify_question])
@pytest.mark.parametrize("text", ["\ud800", "您好\udfff", "\u200b\u200b", "\ufeff", "\u200d \u2060"])
def test_lone_surrogate_and_zero_width_raise_the_documented_value_error(func, text):
    with pytest.raises(ValueError, match="（.*）"):
        func(text)


# ----------------------------------------------------------------------------- 3F

@pytest.mark.parametrize("text", [
    "换作是我也会着急，不少客户一开始也有同样的顾虑，后来他们用下来发现实名认证只要两分钟。",
    "您有这样的担心很正常，之前很多用户也这么想过，用了一段时间以后，他们都说自动扣费反而省心。",
    "确实挺让人着急的，好多储户刚开始也担心网上转账不安全，后来用过几次，才知道有短信验证很放心。",
])
def test_three_f_recognises_paraphrases(text):
    result = three_f(text)
    assert result.ok and not result.rude and result.feel.start < result.felt.start < result.found.start
    assert text[result.found.start:result.found.end] == result.found.text


@pytest.mark.parametrize("text", [
    "我理解你，别人也这样觉得，后来发现你就是矫情，爱办不办。",
    "我理解您的心情，其他客户也有过这样的感受，后来他们发现是自己没看说明书，您也一样。",
    "您您您您您您",
    "马上马上马上",
])
def test_three_f_that_insults_blames_or_stuffs_is_never_ok(text):
    result = three_f(text)
    assert not result.ok and result.rude and _chinese(result.why)


def test_no_model_reply_is_called_rude_by_three_f():
    rude = [where for where, reply, _ in good_replies(notebooks=False) if three_f(reply).rude]
    assert rude == []


@pytest.mark.parametrize("reply", ["您您您您您您", "马上马上马上", "您好请谢谢对不起"])
def test_graded_stuffing_is_not_ok(reply):
    assert not review_reply(reply).ok and review_reply(reply).score < 60


def test_a_long_string_of_polite_words_is_not_ok_even_without_the_customer():
    stuffed = "您好，谢谢，对不起，不好意思，麻烦您，辛苦了，打扰了，劳驾，欢迎光临，再见，祝您生活愉快，很高兴为您服务，非常感谢，实在抱歉"
    assert not review_reply(stuffed).ok
    assert review_reply("感谢您的来电，祝您周末愉快，再见！").ok  # a standard closing is a service act
