"""The learned models beside the rules (toolkit/learned.py, scripts/train_models.py)."""

import subprocess
import sys
from pathlib import Path

import pytest
from eval.score import items

from toolkit import checks, learned

ROOT = Path(__file__).resolve().parents[1]
GAMED = ["您好请谢谢对不起您好请谢谢对不起", "您好，请您自己看说明书去吧，谢谢", "您好，请问您是听不懂中文吗？谢谢",
         "Go read the manual yourself.", "您您您您您您", "马上马上马上", "我会马上让您闭嘴。", "您可以滚了"]
CUSTOMER = "能不能让快递周六再送？"


def test_the_shipped_models_are_what_the_labelled_data_trains():
    """Like release/ and source/: models.json is regenerated from the data, never edited by hand."""
    result = subprocess.run([sys.executable, "scripts/train_models.py", "--check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


@pytest.mark.parametrize("reply", GAMED)
def test_a_reply_the_rules_reject_stays_rejected(reply):
    """The model only adds faults: stuffing, abuse and English stay not ok, with or without the turn."""
    assert not checks.review_reply(reply, customer=CUSTOMER, learned=False).ok
    assert not checks.review_reply(reply, customer=CUSTOMER).ok
    without_turn = checks.review_reply(reply, learned=False)
    assert checks.review_reply(reply) == without_turn  # without the turn: the rules alone


def test_the_model_adds_faults_only_to_replies_the_rules_pass():
    added = 0
    for item in items("review", "eval"):
        rules = checks.review_reply(item["text"], customer=item.get("customer"), learned=False)
        both = checks.review_reply(item["text"], customer=item.get("customer"))
        if not rules.ok and {f.code for f in rules.findings} <= checks.VETOABLE:
            assert both.findings in (rules.findings, ())  # a lone no-apology: kept, or dismissed by the model
        elif not rules.ok:
            assert both.findings == rules.findings  # the rules' findings, untouched
        elif not both.ok:
            added += 1
            (finding,) = both.findings
            assert finding.code in checks.LEARNED_FINDINGS | {"off-topic"}
            assert finding.code in checks.WHOLE_REPLY_FINDINGS and (finding.start, finding.end) == (0, len(item["text"]))
            assert "读起来" in finding.message or finding.code == "off-topic"
            assert both.score < 60
    assert added < 10  # the rules were tuned on tests/eval: the model has little to add there


def test_a_silent_model_leaves_the_rules_alone():
    """install() swaps the models (training measures candidates through the real checkers)."""
    polite_buck = "您好，这个问题不归我们管，您自己去找快递公司问问吧，谢谢理解。"
    learned.install(learned.SILENT)
    try:
        assert checks.review_reply(polite_buck, customer=CUSTOMER).findings == \
            checks.review_reply(polite_buck, customer=CUSTOMER, learned=False).findings
    finally:
        learned.install(None)
    assert learned.model("reply_fault").threshold < 1.0  # the shipped model is back


def test_every_model_has_a_threshold_and_known_classes():
    shipped = learned.shipped()
    assert set(shipped["reply_kind"]["classes"]) <= set(checks._LEARNED_CODE)
    assert shipped["three_f_part"]["classes"] == ["feel", "felt", "found", "other"]
    for task, name in (("question", "question_label"), ("spin", "spin_label"), ("complaint", "complaint_label")):
        assert set(shipped[name]["classes"]) == set(checks._LEARNED_WHY[task])
        assert 0.3 <= shipped[name]["threshold"] <= 0.95
    assert not any(which.endswith("-blind") or which == "holdout" for which in shipped["trained_on"])


def test_the_trainees_kernel_loads_no_numpy_or_scikit_learn():
    code = ("import sys; from toolkit import checks; checks.review_reply('好的，我这就帮您改到周六送。', customer='能周六送吗？');"
            "checks.three_f('您着急很正常。'); checks.spin_type('您现在用的是哪家的宽带？');"
            "print(sorted(m for m in ('numpy', 'sklearn', 'scipy') if m in sys.modules))")
    out = subprocess.check_output([sys.executable, "-c", code], cwd=ROOT, text=True)
    assert out.strip() == "[]"
