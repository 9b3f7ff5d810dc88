"""Classifiers read words, not substrings (issue 8 items 2 and 4): per-group accuracy on the adversarial
sets, the patterns the issue names, question faults and their place in the question and SPIN drills."""

import collections
import html
import re
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from toolkit import checks, kb, progress, segment
from toolkit.widgets import reply_drill
from toolkit.widgets._common import Drill

HERE = Path(__file__).parent
CLASSIFIERS = {
    "questions": checks.classify_question,
    "spin": checks.spin_type,
    "fab": checks.fab_label,
    "complaints": checks.complaint_type,
}
CJK_PUNCT = re.compile(r"[，。？！：；、“”（）]")


def _fault(item: dict) -> str:
    fault = checks.question_fault(item["text"], customer=item.get("customer"))
    return str(fault) if fault else "none"


def _groups(task: str, which: str) -> dict[str, list[dict]]:
    items = tomllib.loads((HERE / which / f"{task}.toml").read_text(encoding="utf-8"))["item"]
    groups = collections.defaultdict(list)
    for item in items:
        if "group" in item:
            groups[item["group"]].append(item)
    return groups


GROUPS = [(task, which, group) for task in [*CLASSIFIERS, "question_faults"] for which in ("eval", "holdout")
          for group in _groups(task, which)]


@pytest.mark.parametrize(("task", "which", "group"), GROUPS)
def test_each_adversarial_group_is_accurate(task, which, group):
    """≥ 95 % per group on tests/eval (40+ items each). The held-out groups are small (15 items) and kept
    out of tuning: they must reach 85 % each (their task total is held to 95 % by test_accuracy), and a
    failure reports the figure only, not the items."""
    items = _groups(task, which)[group]
    predict = _fault if task == "question_faults" else (lambda item: str(CLASSIFIERS[task](item["text"])))
    errors = [(item["text"], item["label"], got) for item in items if (got := predict(item)) != item["label"]]
    accuracy = 1 - len(errors) / len(items)
    if which == "eval":
        assert len(items) >= 40 or group == "natural"
        assert accuracy >= 0.95, "\n".join(f"expected {e} got {g}: {t}" for t, e, g in errors)
    else:
        assert len(items) >= 15 and accuracy >= 0.85, f"{task}/{group} (holdout): {accuracy:.1%} of {len(items)}"


# ----------------------------------------------------------------------------- the patterns


def test_cue_inside_another_word_does_not_count():
    # 主要是 holds 要是 (need-payoff), 这几天 holds 几天 (a number), 延误险 names a product, not a delay.
    assert segment.words("主要是网速太慢") [:2] == ("主要", "是")
    assert checks.spin_type("您家里上网主要是看视频还是玩游戏？") == "situation"
    assert checks.spin_type("要是网速能快一点，您是不是就能安心上网课了？") == "need-payoff"
    assert checks.classify_question("这几天网络用起来感觉怎么样？") == "open"
    assert checks.classify_question("您想住几天？") == "closed"
    assert checks.spin_type("您买机票时一般会加购延误险吗？") == "situation"
    assert checks.spin_type("航班延误的时候，您最头疼的是什么？") == "problem"


def test_segment_crossing_and_fixed_words():
    text = "主要是网速太慢"
    assert segment.crosses(text, 1, 3)  # 要是 begins inside 主要 and runs past it
    assert not segment.crosses(text, 0, 2) and not segment.crosses(text, 6, 7)  # 主要; 慢 inside 太慢
    text = "退货运费险要是能默认勾选"
    fixed = ((2, 5),)  # 运费险 kept whole: jieba alone would glue 险要
    assert (2, 5) in segment.spans(text, fixed) and not segment.crosses(text, 5, 7, fixed)
    assert sum(e - s for s, e in segment.spans(text, fixed)) == len(text)


def test_single_fact_what_is_closed_and_says_which_fact():
    label = checks.classify_question("您的會員等級是什麼？")
    assert label == "closed" and label.cue == "等级是什么" and "“等级是什么”" in label.why
    assert checks.classify_question("您遇到的问题是什么？") == "open"  # a problem is told, not named


def test_open_request_without_a_listed_cue_is_open_unless_it_asks_one_fact():
    for text in ("请您说一下当时的情况。", "您对这次维修服务有何评价？", "麻烦您把遇到的情况跟我说一下好吗？"):
        assert checks.classify_question(text) == "open", text
    assert checks.classify_question("可不可以把您的身份证号后四位告诉我？") == "closed"


def test_implication_framing_beats_problem_cues_and_needs_no_listed_cue():
    assert checks.spin_type("网络一掉线，您的线上会议是不是就得重新开？") == "implication"
    assert checks.spin_type("报销流程这么慢，员工垫付的钱要压多久？") == "implication"
    assert checks.spin_type("报销流程是不是太慢了？") == "problem"  # the difficulty itself


def test_need_payoff_needs_a_supposed_benefit_not_a_bare_if():
    assert checks.spin_type("如果") != "need-payoff"
    assert checks.spin_type("如果网络卡顿，您现在通常怎么处理？") == "situation"
    assert checks.spin_type("如果网速慢，您最头疼的是哪一点？") == "problem"
    label = checks.spin_type("如果能当天送达，是不是就省得您再跑一趟了？")
    assert label == "need-payoff" and label.cue.startswith("如果能")


def test_complaint_types_follow_the_evidence():
    calm = checks.complaint_type("外卖少了一份米饭，麻烦把米饭的钱退给我。")
    assert calm == "solve" and calm.cue
    assert checks.complaint_type("又卡了！又卡了！天天都卡！") == "vent"
    assert checks.complaint_type("退款退款，天天说退款，退到哪里去了！") == "vent"
    assert checks.complaint_type("你们的退货流程太复杂了，希望以后能像别家一样上门取件。") == "expect"
    topic = checks.complaint_type("退货流程是怎样的？")  # 退货 as a topic demands nothing
    assert topic == "expect" and topic.cue == "退货流程"
    # expect needs a wish, suggestion or comparison: a calm account of a case is not one
    assert checks.complaint_type("我的宽带已经三天连不上了。") == "solve"


def test_fab_keeps_the_seed_example():
    pitch = ["我们的网络很好。", "因为我们有最充足优质的网络资源。", "如果选择我们的网络，您将节省很多时间。"]
    assert [checks.fab_label(s) for s in pitch] == ["F", "A", "B"]


# ----------------------------------------------------------------------------- question faults


@pytest.mark.parametrize(("text", "customer", "code"), [
    ("你为什么不自己查一下？", "我的快递到哪了？", "rhetorical"),
    ("难道您没看到我们发的短信吗？", None, "rhetorical"),
    ("为什么香蕉是黄的？", "我的快递三天还没到。", "off-topic"),
    ("如果", None, "fragment"),
    ("为什么呢？", "我的快递三天还没到。", "fragment"),
    ("？？", None, "fragment"),
    ("Where is your parcel?", None, "not-chinese"),
])
def test_question_fault_names_the_fault_in_chinese(text, customer, code):
    fault = checks.question_fault(text, customer=customer)
    assert fault == code
    assert CJK_PUNCT.search(fault.why) and not re.search("[A-Za-z]", fault.why)


def test_good_questions_have_no_fault():
    assert checks.question_fault("请问您的快递是哪天寄出的？", customer="我的快递三天还没到。") is None
    assert checks.question_fault("您能详细描述一下当时的情形吗？") is None
    assert checks.question_fault("您为什么不满意这次的处理结果？") is None  # 不满意 is a word, not 为什么不…
    for q in kb.load("questions")["question"] + kb.load("spin")["question"]:
        assert checks.question_fault(q["text"]) is None, q["text"]
    for p in kb.load("spin")["practice"]:
        assert checks.question_fault(p["reference"], customer=p["customer"]) is None, p["reference"]
        assert checks.spin_type(p["reference"]) == p["type"], p["reference"]


def test_question_fault_rejects_bad_input_like_the_other_checkers():
    with pytest.raises(TypeError):
        checks.question_fault(None)
    with pytest.raises(ValueError):
        checks.question_fault("   ")


# ----------------------------------------------------------------------------- drills


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("KEFU_PROGRESS", str(tmp_path / "progress.sqlite3"))
    monkeypatch.setattr(progress, "_stores", {})
    monkeypatch.setattr(Drill, "raise_errors", True)


def _plain(feedback: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", feedback))


def test_question_drill_rejects_rhetorical_and_off_topic_questions_with_a_reason(store):
    d = reply_drill("question", seed=4).drill
    for text in ("你为什么不自己查一下？", "为什么香蕉是黄的？"):
        d.textarea.value = text
        d.submit.click()
        fault = checks.question_fault(text, customer=d.current["customer"])
        assert fault is not None and "✘" in d.feedback.value and fault.why in _plain(d.feedback.value)
    d.textarea.value = "您能详细说说当时的情况吗？"
    d.submit.click()
    assert "✔" in d.feedback.value
    assert [r["correct"] for r in progress.attempts("questions")] == [False, False, True]


def test_spin_drill_rejects_a_bare_if_as_a_fragment(store):
    d = reply_drill("spin", seed=5).drill
    d.textarea.value = "如果"
    d.submit.click()
    assert "✘" in d.feedback.value and checks.question_fault("如果").why in _plain(d.feedback.value)
    assert [r["correct"] for r in progress.attempts("spin")] == [False]


# ----------------------------------------------------------------------------- cost


def test_segmenter_loads_on_first_use_not_on_import():
    code = ("import sys, toolkit.checks; a = 'jieba' in sys.modules; "
            "toolkit.checks.classify_question('您家里上网主要是看视频吗？'); print(a, 'jieba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
    assert "prefix dict" not in out.stderr  # jieba's loading chatter stays out of notebooks


def test_knowledge_base_examples_classify_as_labelled():
    # The course shows these as examples of each type: the checker must agree with every one.
    for q in kb.load("questions")["question"]:
        assert checks.classify_question(q["text"]) == q["type"], q["text"]
    for q in kb.load("spin")["question"]:
        assert checks.spin_type(q["text"]) == q["type"], q["text"]
    for case in kb.load("complaints")["case"]:
        assert checks.complaint_type(case["text"]) == case["type"], case["text"]


def test_segmenter_cache_is_private_to_the_account(tmp_path):
    # A cache folder another account can write is refused (it could block ours or change how
    # replies are cut); whatever folder is used, nothing reaches stderr, which nbgrader would
    # score as a failed test.
    shared = tmp_path / "cache" / "kefu-lab"
    shared.mkdir(parents=True)
    shared.chmod(0o777)
    code = ("from toolkit import segment; print(segment._cache_dir()); "
            "print('|'.join(segment.words('主要是网速太慢')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    folder, cut = out.stdout.split()
    assert folder != str(shared) and cut.startswith("主要|是")
    assert out.stderr == ""
    shared.chmod(0o700)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert out.stdout.split()[0] == str(shared) and any(shared.glob("jieba*.cache")) and out.stderr == ""
