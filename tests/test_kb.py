"""The knowledge base loads, meets the issue's minimum sizes, and rejects malformed entries."""

import tomllib
from collections import Counter

import pytest

from toolkit import kb
from toolkit.checks import find_forbidden


def test_every_file_loads_and_validates():
    data = kb.load_all()
    assert set(data) == set(kb.SCHEMA)


def test_minimum_sizes():
    assert len(kb.load("standard_phrases")["phrase"]) >= 60
    assert len(kb.load("forbidden_phrases")["forbidden"]) >= 60
    assert len(kb.load("pairs")["pair"]) >= 40
    assert len(kb.load("questions")["question"]) >= 40
    spin = Counter(q["type"] for q in kb.load("spin")["question"])
    assert set(spin) == {"situation", "problem", "implication", "need-payoff"}
    assert {p["type"] for p in kb.load("spin")["practice"]} == set(spin)
    assert len(kb.load("listening")["level"]) == 5
    assert len(kb.load("service")["step"]) == 6
    assert len(kb.load("service")["standard"]) == 7
    assert Counter(c["type"] for c in kb.load("complaints")["case"]).keys() == {"solve", "vent", "expect"}


def test_standard_phrases_cover_every_situation():
    situations = Counter(p["situation"] for p in kb.load("standard_phrases")["phrase"])
    assert set(situations) == set(kb.SITUATIONS)


def test_forbidden_categories_all_present_with_suggestions():
    entries = kb.load("forbidden_phrases")["forbidden"]
    assert {e["category"] for e in entries} == set(kb.FORBIDDEN_CATEGORIES)
    assert all(e["suggestion"].strip() for e in entries)


def test_standard_phrases_are_free_of_forbidden_phrases():
    dirty = {p["text"]: find_forbidden(p["text"]) for p in kb.load("standard_phrases")["phrase"]}
    assert {t: h for t, h in dirty.items() if h} == {}


def test_pairs_bad_side_has_forbidden_and_good_side_is_clean():
    for pair in kb.load("pairs")["pair"]:
        assert find_forbidden(pair["bad"]), pair["id"]
        assert not find_forbidden(pair["good"]), pair["id"]


def test_capstone_graph_is_closed():
    nodes = {n["id"]: n for n in kb.load("capstone")["node"]}
    assert "start" in nodes
    for node in nodes.values():
        for choice in node["choice"]:
            assert choice["next"] == "end" or choice["next"] in nodes, (node["id"], choice["next"])


def test_time_limits_match_seed_003():
    limits = {t["id"]: t for t in kb.load("protocol")["time_limit"]}
    assert limits["complaint-first-reply"]["hours"] == 2
    assert (limits["complaint-ordinary"]["target_working_days"], limits["complaint-ordinary"]["latest_working_days"]) == (1, 3)
    assert (limits["complaint-complex"]["target_working_days"], limits["complaint-complex"]["latest_working_days"]) == (5, 7)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["forbidden"][3].update(category="骂人"), "entry #4"),
        (lambda d: d["forbidden"][0].pop("suggestion"), "missing field 'suggestion'"),
        (lambda d: d["forbidden"][1].update(seed="009"), "field 'seed'"),
        (lambda d: d["forbidden"][2].update(id=d["forbidden"][0]["id"]), "duplicate id"),
        (lambda d: d["forbidden"][5].update(phrase="   "), "must not be blank"),
    ],
)
def test_malformed_entry_names_file_and_entry(mutate, message):
    path = kb.resources.files("toolkit").joinpath("data", "forbidden_phrases.toml")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    mutate(data)
    with pytest.raises(kb.KnowledgeBaseError) as err:
        kb.validate("forbidden_phrases", data)
    assert "toolkit/data/forbidden_phrases.toml" in str(err.value)
    assert message in str(err.value)


def test_checkers_agree_with_every_labelled_example_in_the_knowledge_base():
    """Drills show the checker's reason next to the data's label: the two must agree."""
    from toolkit import checks

    wrong = [q["text"] for q in kb.load("questions")["question"] if checks.classify_question(q["text"]) != q["type"]]
    wrong += [q["text"] for q in kb.load("spin")["question"] if checks.spin_type(q["text"]) != q["type"]]
    wrong += [p["reference"] for p in kb.load("spin")["practice"] if checks.spin_type(p["reference"]) != p["type"]]
    wrong += [c["text"] for c in kb.load("complaints")["case"] if checks.complaint_type(c["text"]) != c["type"]]
    for pitch in kb.load("fab")["pitch"]:
        sentences = [pitch["feature"], pitch["advantage"], pitch["benefit"]]
        wrong += [s for s, label in zip(sentences, "FAB") if checks.fab_label(s) != label]
    for reply in kb.load("three_f")["reply"]:
        if not checks.three_f(reply["feel"] + reply["felt"] + reply["found"]).ok:
            wrong.append(reply["id"])
    assert wrong == []


# ----------------------------------------------------------------------------- choice pairs (issue 10.2)

PAIRS = kb.load("pairs")["pair"]
RULES = {r["id"]: r for r in kb.load("pairs")["rule"]}

# Near-misses whose rule review_reply judges, but which it does not catch here: checker gaps,
# reported to the lead (toolkit/checks.py and cues.toml are theirs). xfail, not strict: they pass
# once the checker catches them.
CHECKER_MISSES = {
    "opening-02:near0": "（电话响了三声后才接起）is a stage direction: no apology is asked for",
    "cannot-hear-06:near0": "我的手机号是138…… is not a wrong done to the customer, yet we failed to hear",
    "complaint-05:near0": "可能是 is not in review.uncertain",
    "complaint-06:near0": "什么破公司 / 有存在的必要吗 is not in review_customer.wronged",
    "complaint-08:near0": "不过赔偿我们这边办不了 is flagged buck, not bare-refusal",
    "complaint-accept-02:near0": "会尽快处理 promises no reply, so no-time does not fire",
    "refund-01:near0": "怎么还没到账 is not in review_customer.wronged",
    "refund-05:near0": "处理好了会通知您 counts as a time (when: 好了会)",
    "delivery-01:near0": "马上 (of the action) counts as the reply's time",
    "after-sale-03:near0": "我会尽快为您登记售后 promises no reply, so no-time does not fire",
    "after-sale-05:near0": "按售后政策需要先做检测 counts as a way forward",
    "apology-01:near0": "我会反馈给他们 counts as a staff action, which excuses buck",
    "transfer-03:near0": "您明天再来电话吧 is not a buck cue",
}


def _near_misses():
    """The near-misses whose rule a checker judges (the others: procedure, order, jargon... are
    named in the data and checked only for a known rule and an explanation of their own)."""
    out = []
    for p in PAIRS:
        for i, near in enumerate(p["near"]):
            if "finding" not in RULES[near["breaks"]] and near["breaks"] != "closed-question":
                continue
            where = f"{p['id']}:near{i}"
            marks = [pytest.mark.xfail(reason=CHECKER_MISSES[where], strict=False)] if where in CHECKER_MISSES else []
            out.append(pytest.param(p, i, id=where, marks=marks))
    return out


def test_every_wrong_option_has_its_own_explanation():
    for p in PAIRS:
        whys = [p["why"], p["bad_why"], *(n["why"] for n in p["near"])]
        assert all(w.strip() for w in whys) and len(set(whys)) == len(whys), p["id"]
        assert p["near"] and all(n["breaks"] in RULES for n in p["near"]), p["id"]


def test_the_checker_passes_the_right_reply_and_flags_the_forbidden_one():
    from toolkit.checks import review_reply

    for p in PAIRS:
        good, bad = review_reply(p["good"], p["customer"]), review_reply(p["bad"], p["customer"])
        assert good.ok, (p["id"], good.why)
        assert not bad.ok and bad.score < good.score, p["id"]


@pytest.mark.parametrize("pair, index", _near_misses())
def test_each_near_miss_breaks_the_rule_its_data_names(pair, index):
    """The rule in ``breaks`` is what the checker finds, where the checker judges that rule."""
    from toolkit.checks import classify_question, review_reply

    near = pair["near"][index]
    rule = RULES[near["breaks"]]
    review = review_reply(near["text"], pair["customer"])
    if "finding" in rule:
        assert rule["finding"] in {f.code for f in review.findings}, (near["text"], review.why)
        assert review.score < review_reply(pair["good"], pair["customer"]).score
    else:
        assert classify_question(near["text"]) == "closed"
