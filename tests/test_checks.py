"""Unit tests for the toolkit.checks contract (names and behaviour other issues rely on)."""

import re
from datetime import datetime

import pytest

from toolkit import checks
from toolkit.checks import (
    classify_question,
    complaint_deadlines,
    complaint_type,
    fab_in_order,
    fab_label,
    fab_order,
    find_forbidden,
    review_reply,
    speech_rate,
    spin_type,
    three_f,
)
from toolkit.normalize import normalize

TEXT_FUNCTIONS = [classify_question, spin_type, fab_label, find_forbidden, review_reply, three_f, complaint_type]


# ----------------------------------------------------------------------------- input handling

@pytest.mark.parametrize("func", TEXT_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", [None, 42, 3.5, ["您好"], b"\xe4\xbd\xa0"])
def test_non_string_raises_type_error_in_chinese(func, bad):
    with pytest.raises(TypeError, match="请输入一句中文文字.*expected str"):
        func(bad)


@pytest.mark.parametrize("func", TEXT_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("blank", ["", "   ", "\n\t", "\u3000"])
def test_blank_raises_value_error_in_chinese(func, blank):
    with pytest.raises(ValueError, match="内容不能为空.*empty"):
        func(blank)


LONG = "您好😊," + "请问您遇到了什么问题呢?" * 900  # ~10,000 characters


def test_long_text_and_emoji_get_real_answers():
    assert len(LONG) > 10_000
    assert classify_question(LONG) == "open"
    assert spin_type(LONG) == "problem"
    assert find_forbidden(LONG) == []
    assert not review_reply(LONG).ok and review_reply(LONG).findings[0].code == "repetition"  # issue 8
    assert three_f(LONG).missing and complaint_type(LONG) in {"solve", "vent", "expect"}
    # Emoji only: nothing to find, but still an answer rather than an error.
    assert find_forbidden("🙂🙂🙂") == [] and classify_question("🙂🙂🙂") in {"open", "closed"}


def test_hit_offsets_at_the_end_of_long_traditional_text_with_emoji():
    text = "😊" * 3 + "請問您遇到了什麼問題呢?" * 900 + "🙂你自己不會看說明書嗎?"
    hits = find_forbidden(text)
    assert [text[h.start:h.end] for h in hits] == [h.matched for h in hits] == ["你自己不會看說明書嗎"]
    assert hits[0].end == len(text) - 1
    review = review_reply(text)
    assert not review.ok and {f.code for f in review.findings} == {"forbidden", "repetition"}  # 900 times the same


def test_normalize_folds_traditional_full_width_and_space():
    assert normalize("  您好，請問 ＡＢＣ１２３？ ") == "您好,请问abc123?"


def test_fast_fold_equals_nfkc_and_views_point_back_to_the_original():
    """The fast paths (str.replace for common full-width marks, NFKC on the other runs, split-based
    offset maps) give whole-string NFKC, and every view character maps back to the original
    character it came from, also when a composed accent and an ellipsis change lengths."""
    import random
    import unicodedata

    from toolkit.normalize import _T2S, views

    rng = random.Random(11)
    alphabet = list(" \t\n,.!?;:，。！？；：（）()…“”、\u3000😊\u0301ＡＢ１２İ") + list("中文客服您好請問臺灣abcXYZ0189")
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30)))
        if not text.strip():
            continue
        if "\u0301" not in text:  # nothing composes: the view is t2s + NFKC + lower case, no spaces
            expected = unicodedata.normalize("NFKC", _T2S.convert(text)).lower()
            assert normalize(text) == re.sub(r"\s", "", expected)
        for view in views(text):
            for position, char in enumerate(view.text):
                source = text[view.origin(position)]
                assert char in unicodedata.normalize("NFKC", source).lower() or normalize(source) == char


# ----------------------------------------------------------------------------- questions

@pytest.mark.parametrize("text, expected", [
    ("您能详细描述一下当时的情形吗?", "open"),          # seed 001: open despite 吗
    ("我怎样才能帮到您呢?", "open"),
    ("請問您當時的情況是不是這樣呢？", "closed"),        # seed 001, Traditional + full-width
    ("您的订单号是多少?", "closed"),
    ("您是什么时候下的单?", "closed"),
    ("您想要红色的还是蓝色的?", "closed"),
    ("为什么您觉得这个套餐不合适?", "open"),
    ("您遇到了什么问题?", "open"),
    ("请问怎么称呼您?", "closed"),
])
def test_classify_question(text, expected):
    label = classify_question(text)
    assert label == expected
    assert isinstance(label, str) and label.why and isinstance(label.why, str)


def test_classify_question_explains_with_cue():
    label = classify_question("您能详细描述一下当时的情形吗?")
    assert label.cue and label.cue in label.why


def test_cues_are_quoted_in_simplified_without_edge_punctuation():
    assert classify_question("这笔订单是您本人下的吗？").cue == "吗"
    assert spin_type("網路慢的時候會不會影響您在家辦公？").cue == "会不会影响"
    assert "“会不会影响”" in spin_type("網路慢的時候會不會影響您在家辦公？").why


# ----------------------------------------------------------------------------- SPIN and FAB

@pytest.mark.parametrize("text, expected", [
    ("您现在用的是哪家的宽带?", "situation"),
    ("您对现在的网速满意吗?", "problem"),
    ("网速慢会不会影响您孩子上网课?", "implication"),
    ("如果网速提高一倍,对您的工作有什么帮助?", "need-payoff"),
])
def test_spin_type(text, expected):
    assert spin_type(text) == expected
    assert spin_type(text).why


def test_fab_seed_example_in_order():
    pitch = ["我们的网络很好", "因为我们有最充足优质的网络资源", "如果选择我们的网络,您将节省很多时间"]
    assert [fab_label(s) for s in pitch] == ["F", "A", "B"]
    assert fab_in_order(pitch) is True
    assert fab_in_order(list(reversed(pitch))) is False
    assert fab_in_order(pitch[:2]) is False  # the benefit is missing
    assert "利益" in fab_order(pitch[:2]).why


@pytest.mark.parametrize("bad", ["我们的网络很好", None, 3])
def test_fab_in_order_needs_a_list(bad):
    with pytest.raises(TypeError):
        fab_in_order(bad)


def test_fab_in_order_rejects_empty_list_and_blank_items():
    with pytest.raises(ValueError):
        fab_in_order([])
    with pytest.raises(ValueError):
        fab_in_order(["我们的网络很好", " "])


# ----------------------------------------------------------------------------- forbidden phrases

def test_clean_reply_has_no_hits():
    assert find_forbidden("您好,请问有什么可以帮您?") == []


def test_hits_carry_category_suggestion_and_original_offsets():
    text = "喂,说话呀!再不说话我就挂机了"
    hits = find_forbidden(text)
    assert hits
    for hit in hits:
        assert text[hit.start:hit.end] == hit.matched
        assert hit.category in checks.kb.FORBIDDEN_CATEGORIES
        assert hit.suggestion


def test_offsets_on_traditional_full_width_input_point_into_original():
    text = "　先生，這不關我的事，您打別的電話吧！"
    hits = find_forbidden(text)
    assert hits
    assert any("不關我的事" in text[h.start:h.end] for h in hits)
    for hit in hits:
        assert text[hit.start:hit.end] == hit.matched


def test_offsets_survive_spaces_inside_a_phrase():
    text = "这 不 关 我 的 事"
    hits = find_forbidden(text)
    assert [(h.start, h.end) for h in hits] == [(0, len(text))]
    assert hits[0].matched == text


def test_regex_prefilter_misses_nothing():
    """Every match of every paraphrase regex, run by brute force, lies inside a reported hit."""
    from eval.score import items

    from toolkit.normalize import _T2S, views

    texts = [i["text"] for i in items("forbidden") + items("review")]
    texts += [p[side] for p in checks.kb.load("pairs")["pair"] for side in ("good", "bad")]
    patterns = [p for e in checks.kb.load("forbidden_phrases")["forbidden"] for p in e["patterns"]]
    for text in texts:
        view = views(text)[0]
        spans = [(h.start, h.end) for h in find_forbidden(text)]
        for pattern in patterns:
            for m in re.finditer(pattern, view.text):
                if m.end() > m.start():
                    start, end = view.span(*m.span())
                    assert any(s < end and start < e for s, e in spans), (text, pattern)


def test_hits_do_not_overlap_and_are_ordered():
    hits = find_forbidden("你到底听没听懂?我都忙死了,这不关我的事,你必须自己去查。")
    assert len(hits) >= 3
    assert all(a.end <= b.start for a, b in zip(hits, hits[1:]))


def test_every_category_is_detected():
    categories = {h.category for e in checks.kb.load("forbidden_phrases")["forbidden"] for h in find_forbidden(e["phrase"])}
    assert categories == set(checks.kb.FORBIDDEN_CATEGORIES)


# ----------------------------------------------------------------------------- reply review

def test_polite_clean_reply_passes():
    review = review_reply("您好,请您稍等,我马上为您查询,谢谢您的耐心。")
    assert review.ok and review.findings == ()
    assert review.score >= 90 and "您好" in review.polite


# A rule's wording may also be in the forbidden-phrase bank; then it is reported as "forbidden".
@pytest.mark.parametrize("text, codes", [
    ("你的订单已经发货了。", {"ni"}),
    ("你必须先把订单号发给我。", {"command", "forbidden"}),
    ("这个不行。", {"bare-refusal"}),
    ("一般是三天到货。", {"uncertain", "forbidden"}),
    ("你到底要不要退货?", {"interrogation", "forbidden"}),
    ("喂,有什么事快说!", {"forbidden"}),
])
def test_review_flags(text, codes):
    review = review_reply(text)
    assert not review.ok
    assert codes & {f.code for f in review.findings}
    for f in review.findings:
        assert text[f.start:f.end] == f.matched
        assert f.message and any("\u4e00" <= ch <= "\u9fff" for ch in f.message)


def test_refusal_with_alternative_is_fine():
    review = review_reply("抱歉,这个套餐暂时不能在线办理,不过您可以到营业厅办理,我也可以为您预约。")
    assert "bare-refusal" not in {f.code for f in review.findings}


def test_politeness_raises_score():
    plain = review_reply("马上为您查询。").score
    polite = review_reply("您好,请稍等,马上为您查询,谢谢。").score
    assert polite > plain


def test_score_is_bounded():
    review = review_reply("喂!你到底听没听懂?你必须自己去查,不行,一般是这样,我都忙死了。" * 5)
    assert review.score == 0 and not review.ok


# ----------------------------------------------------------------------------- 3F

def test_three_f_complete_and_ordered():
    text = "我理解您为什么会有这样的感受,其他客户也曾经有过这样的感受,不过经过说明后,他们发现这个套餐更划算。"
    result = three_f(text)
    assert result.ok and result.in_order and result.missing == ()
    assert result.feel.start < result.felt.start < result.found.start
    assert text[result.found.start:result.found.end] == result.found.text


def test_three_f_missing_and_wrong_order():
    assert three_f("我理解您的感受,我们马上处理。").missing == ("Felt", "Found")
    wrong = three_f("很多客户后来发现这个功能很好用,其他客户也有过这样的担心,我理解您的感受。")
    assert not wrong.ok


# ----------------------------------------------------------------------------- complaint types

@pytest.mark.parametrize("text, expected", [
    ("我上周五买的洗衣机,订单号123456,到现在还没送到,请你们今天之内给我处理,否则我要求退款。", "solve"),
    ("你们太过分了!简直就是骗子!骗子!气死我了!", "vent"),
    ("其实我一直挺喜欢你们店的,不过别家都能当天发货,希望你们以后也能快一点。", "expect"),
])
def test_complaint_type(text, expected):
    label = complaint_type(text)
    assert label == expected and label.why


# ----------------------------------------------------------------------------- deadlines

def test_deadlines_skip_weekend_and_holidays():
    friday = datetime(2026, 9, 25, 16, 0)  # a Friday
    d = complaint_deadlines("ordinary", friday)
    assert d.first_reply_due == datetime(2026, 9, 25, 18, 0)
    assert d.target_due == datetime(2026, 9, 28, 16, 0)   # Monday
    assert d.latest_due == datetime(2026, 9, 30, 16, 0)   # Wednesday
    # National Day 2026: 1-7 October off, Saturday 10 October a make-up working day (调休).
    national = complaint_deadlines("复杂", datetime(2026, 9, 30, 9, 0))
    assert national.target_due == datetime(2026, 10, 13, 9, 0)   # 8, 9, 10 (Sat), 12, 13
    assert national.latest_due == datetime(2026, 10, 15, 9, 0)
    assert national.overdue(datetime(2026, 10, 16)) and not national.overdue(datetime(2026, 10, 14))
    # Extra days the caller lists are skipped as well (a company's own closing day).
    closed = complaint_deadlines("复杂", datetime(2026, 9, 30, 9, 0), holidays=["2026-10-10"])
    assert closed.target_due == datetime(2026, 10, 14, 9, 0)


def test_deadlines_follow_the_official_calendar_with_make_up_days():
    # Dragon Boat 2025: 31 May - 2 June off; an ordinary complaint on Friday 30 May is due Tuesday.
    assert complaint_deadlines("一般", datetime(2025, 5, 30, 16, 0)).target_due == datetime(2025, 6, 3, 16, 0)
    # Sunday 28 September 2025 was a make-up working day before National Day.
    d = complaint_deadlines("一般", datetime(2025, 9, 26, 10, 0))
    assert d.target_due == datetime(2025, 9, 28, 10, 0)
    assert d.latest_due == datetime(2025, 9, 30, 10, 0)
    assert "法定节假日和调休" in d.why


def test_deadlines_past_the_table_fall_back_to_the_course_list_and_say_so():
    # 2027 is not in chinese-calendar yet: weekends plus toolkit/data/calendar.toml (1 January, Spring Festival).
    d = complaint_deadlines("复杂", datetime(2026, 12, 30, 10, 0))
    assert d.target_due == datetime(2027, 1, 7, 10, 0)   # 31 Dec, 4, 5, 6, 7 (1 Jan is a holiday)
    assert "2027 年" in d.why and "课程配置" in d.why
    spring = complaint_deadlines("一般", datetime(2027, 2, 4, 10, 0))  # Thursday before Spring Festival
    assert spring.target_due == datetime(2027, 2, 9, 10, 0)
    far = complaint_deadlines("一般", datetime(2031, 3, 7, 10, 0))  # a Friday, no list at all: never fails
    assert far.target_due == datetime(2031, 3, 10, 10, 0) and "还没有列出" in far.why


def test_simple_complaint_is_immediate():
    t = datetime(2026, 11, 23, 10, 0)
    d = complaint_deadlines("簡單", t)
    assert d.target_due == d.latest_due == t


@pytest.mark.parametrize("severity, accepted, error", [
    ("urgent", datetime(2026, 1, 5), ValueError),
    ("", datetime(2026, 1, 5), ValueError),
    (None, datetime(2026, 1, 5), TypeError),
    ("simple", "2026-01-05", TypeError),
])
def test_deadline_bad_input(severity, accepted, error):
    with pytest.raises(error):
        complaint_deadlines(severity, accepted)


# ----------------------------------------------------------------------------- speech rate

def test_speech_rate_labels():
    sentence = "您好很高兴为您服务请问有什么可以帮您" * 10  # 180 characters
    assert speech_rate(sentence, 72).label == "normal"   # 150 per minute
    assert speech_rate(sentence, 180).label == "slow"    # 60 per minute
    assert speech_rate(sentence, 36).label == "fast"     # 300 per minute
    assert speech_rate(sentence, 72).per_minute == pytest.approx(150)


def test_speech_rate_ignores_punctuation_and_space():
    assert speech_rate("您好, 请问 有什么可以帮您?", 60).chars == 11


@pytest.mark.parametrize("seconds, error", [(0, ValueError), (-3, ValueError), ("60", TypeError), (None, TypeError),
                                            (True, TypeError), (float("nan"), ValueError)])
def test_speech_rate_bad_seconds(seconds, error):
    with pytest.raises(error):
        speech_rate("您好", seconds)


@pytest.mark.parametrize("pattern, sets", [
    # adjacent parts with a few spellings multiply out into whole words
    ("你挂断(电话)?后?再(拨|打)", [{"你挂断再拨", "你挂断再打", "你挂断后再拨", "你挂断后再打", "你挂断电话再拨",
                                   "你挂断电话再打", "你挂断电话后再拨", "你挂断电话后再打"}]),
    ("(跟|和)你(瞎)?耗", [{"跟你耗", "和你耗", "跟你瞎耗", "和你瞎耗"}]),
    ("(说什么|为什么)[?!]+", [{"说什么?", "说什么!", "为什么?", "为什么!"}]),
    ("[你您]?(听|看)[懂清]", [{"听懂", "听清", "看懂", "看清"}]),  # 你听懂 contains 听懂: the shorter suffices
    ("喂(?![养奶])", [{"喂"}]),  # a negative look-ahead needs nothing
    ("(?<=[您你])(自己)?找[^,.]{1,8}", [{"您找", "你找", "您自己找", "你自己找"}]),  # a look-behind does
    ("(没事|不说)的话我就挂了", [{"没事的话我就挂了", "不说的话我就挂了"}]),
    ("(没事|不说)[了吧]*我(就)?挂", [{"没事", "不说"}, {"我挂", "我就挂"}]),  # both are needed
    ("a.*b", [{"a"}, {"b"}]),
    ("[^a]b|\\d+", []),  # the second branch needs no literal: always run
])
def test_required_sets(pattern, sets):
    from toolkit.literals import required_literals, required_sets

    assert [set(s) for s in required_sets(pattern)] == sets
    assert required_literals(pattern) == (sets[0] if sets else None)


def test_prefilter_never_skips_a_regex_that_matches():
    """The literal prefilter only saves work: over every labelled text, each fault or forbidden regex
    that matches is among the candidates the automaton and the ``in`` tests let through."""
    import tomllib
    from pathlib import Path

    from toolkit import checks
    from toolkit.normalize import normalize

    texts = {item["text"] for path in Path(__file__).parent.glob("*/*.toml")
             for item in tomllib.loads(path.read_text(encoding="utf-8")).get("item", [])}
    assert len(texts) > 1000
    skipped = []
    for matcher in (checks._faults(), checks._forbidden_matchers().patterns):
        for text in map(normalize, texts):
            candidates = set(matcher.candidates(text))
            skipped += [(text, pattern.pattern) for index, (_, pattern) in enumerate(matcher.branches)
                        if index not in candidates and any(m.end() > m.start() for m in pattern.finditer(text))]
    assert skipped == []
