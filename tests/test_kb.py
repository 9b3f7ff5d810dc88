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
