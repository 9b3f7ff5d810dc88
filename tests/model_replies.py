"""Every model ("better", √) and every bad (×) reply the course ships, for tests and benchmarks.

Sources: pairs.toml (good/bad with the customer's turn), standard_phrases.toml, three_f.toml (the
joined Feel+Felt+Found with its customer, the expression skills' prefer/avoid, the restatements),
complaints.toml's handling-method examples, listening.toml's method examples, capstone.toml (choices that calm the customer vs choices
that anger them, with the node's customer line), chat.toml's reference replies (with the buyer's message), and the model answers of the assignments' graded
reply questions (source/*/…ipynb cells whose test calls review_reply).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from toolkit import kb

ROOT = Path(__file__).resolve().parents[1]
_A_PROMISE = "2小时内工程师给您打电话约上门时间"


def _notebook_answers() -> list[tuple[str, str, None]]:
    import nbformat

    from toolkit.grading.cohort import _cell, model_answers, questions

    out = []
    for path in sorted((ROOT / "source").glob("*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        answers = model_answers(nb)
        for q in questions(nb):
            if "review_reply" not in _cell(nb, q.test_id).source:
                continue
            # Answers are plain text (one item per line); the test cell names the customer's turn.
            test = _cell(nb, q.test_id).source
            said = re.search(r"^客户 = (.*?)(?:  #.*)?$", test, re.M)
            customer = ast.literal_eval(said.group(1)) if said else None
            lines = answers[q.answer_id].splitlines()
            whole = "".join(lines) if "lines(a)" in test else answers[q.answer_id]
            out.append((f"{path.stem}:{q.answer_id}", whole, customer))
    return out


def good_replies(notebooks: bool = True) -> list[tuple[str, str, str | None]]:
    """(where, reply, customer's turn or None) for every model reply."""
    out = [(f"pairs:{p['id']}", p["good"], p["customer"]) for p in kb.load("pairs")["pair"]]
    out += [(f"standard_phrases:{p['id']}", p["text"], None) for p in kb.load("standard_phrases")["phrase"]]
    f3 = kb.load("three_f")
    out += [(f"three_f:{r['id']}", r["feel"] + r["felt"] + r["found"], r["customer"]) for r in f3["reply"]]
    out += [(f"three_f:skill:{k['id']}", k["prefer"], None) for k in f3["skill"]]
    out += [(f"three_f:restate:{r['id']}", r["restated"], r["customer"]) for r in f3["restate"]]
    for name, key in (("complaints", "method"), ("listening", "method")):
        out += [(f"{name}:{m['id']}", m["example"].strip("“”"), None) for m in kb.load(name)[key] if m.get("example")]
    for node in kb.load("capstone")["node"]:
        for i, choice in enumerate(node.get("choice", [])):
            if choice["mood_delta"] > 0:  # a closing recap as said after a promise
                text = choice["text"].replace("{recap}", f"我再跟您确认一下：{_A_PROMISE}。")
                out.append((f"capstone:{node['id']}:{i}", text, node["customer"]))
    for chat in kb.load("chat")["chat"]:  # online chat: each reference reply to its buyer message
        out += [(f"chat:{chat['id']}:{i}", m["reference"], m["buyer"]) for i, m in enumerate(chat["messages"], 1)]
    if notebooks:
        out += _notebook_answers()
    return out


def bad_replies() -> list[tuple[str, str, str | None]]:
    """(where, reply, customer's turn) for every × example."""
    out = [(f"pairs:{p['id']}", p["bad"], p["customer"]) for p in kb.load("pairs")["pair"]]
    out += [(f"three_f:skill:{k['id']}", k["avoid"], None) for k in kb.load("three_f")["skill"]]
    for node in kb.load("capstone")["node"]:
        for i, choice in enumerate(node.get("choice", [])):
            if choice["mood_delta"] < 0:
                out.append((f"capstone:{node['id']}:{i}", choice["text"], node["customer"]))
    return out
