"""Every model ("better", √) and every bad (×) reply the course ships, for tests and benchmarks.

Sources: pairs.toml (good/bad with the customer's turn), standard_phrases.toml, three_f.toml (the
joined Feel+Felt+Found with its customer, the expression skills' prefer/avoid, the restatements),
complaints.toml's handling-method examples, listening.toml's method examples, capstone.toml (choices that calm the customer vs choices
that anger them, with the node's customer line), chat.toml's reference replies (with the buyer's message), and the model answers of the assignments' graded
reply questions (source/*/…ipynb cells whose test calls review_reply), and the good replies the
course notebooks' text presents (√ lines, "better" dialogues, example phrases: ``COURSE_LINES``).
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


# Replies the course presents as good, by notebook (course/NN_*.ipynb): in its text, and the good
# replies its example cells judge; with the customer's line where the notebook gives one. Templates with a gap (您能……吗？) and
# fragments of a sentence are left out. tests/test_course_voice.py checks each is still in its notebook.
COURSE_LINES = [
    ("01", "礼物赶不上阿姨的生日，您一定很着急，我先帮您联系快递加急……", "我买的礼物三天没更新物流了，明天就是我妈生日。"),
    ("01", "这个细节很重要，谢谢您告诉我", None),
    ("02", "真抱歉让您白等了。您能说说昨天是什么情况吗？", "没有。"),
    ("04", "您家现在用的是多少兆的宽带？", None),
    ("04", "晚上家里人都在用网的时候，网速会不会变慢？", "100 兆，用了好几年了。"),
    ("04", "网一卡，会不会影响孩子上网课？", "会啊，一到晚上就卡。"),
    ("04", "如果晚上高峰期也不卡，对孩子上课有什么帮助？", "上次上课掉线，老师还专门打电话来问……"),
    ("05", "等了一个星期，您一定很失望", None),
    ("08", "非常抱歉，今天咨询的客户比较多，感谢您的耐心等候，请问有什么可以帮到您？", None),
    ("08", "您好，××客服，请问有什么可以帮您？", None),
    ("08", "新年好！××客服，请问有什么可以帮您？", None),
    ("08", "您好，××客服中心，欢迎您的来电。请问有什么可以帮您？", None),
    ("08", "还在为您查询，请您再稍等片刻", None),
    ("08", "如您没有其他问题需要咨询，我先挂线了，感谢您的来电，再见！", None),
    ("09", "谢谢您提醒，我们会注意的。", None),
    ("09", "我们明白您的困难。", None),
    # Left out: "如果我是您，我也可能会这么做。" (09): review_reply calls 可能会 uncertain, but in this
    # empathy phrase it states no fact; a checker gap, reported to the lead.
    ("09", "明白了，您的问题我已经详细记录下来了。", None),
    ("10", "您好，很高兴为您服务，请问有什么可以帮您？", None),
    ("10", "您看我们今天先给您补发，可以吗？", None),
    ("11", "您好，欢迎光临！您在看这款集成灶吧？我给您介绍一下。", None),
    ("11", "很抱歉，这款 1 米 2 的目前暂时缺货，厂家这个月还没有补货。请问您是家里橱柜已经预留了 1 米 2 的位置吗？",
     "请问这款有 1 米 2 的尺寸吗？"),
    ("11", "明白了。我马上帮您查一下其他门店有没有现货，请您稍等。……让您久等了。如果其他门店有货，我帮您调过来；"
           "如果都没有，我先为您登记，到货后第一时间给您打电话。另外，这边有一款尺寸同样是 1 米 2、功能相近的型号，"
           "我给您介绍一下两款的区别，您看可以吗？", "对，橱柜都做好了。"),
    ("11", "好的，请问您怎么称呼？方便留一个联系电话吗？……感谢您的光临，到货后我第一时间通知您，请慢走！",
     "好，你先帮我登记吧，我也看看那一款。"),
    ("11", "很抱歉让您着急了，我现在就帮您查这笔转账，30分钟内给您回电话。", "我在手机银行转了一笔钱，钱扣了，对方说没收到！"),
    ("13", "亲，在的，请问您想做名片还是纸杯呢？", "在吗？"),
    ("13", "亲，在的，很高兴为您服务，请问您想做名片还是纸杯呢？", "在吗？"),
    ("13", "亲，明天上午就为您发货哦。", None),
    ("13", "我马上帮您查一下", None),
    ("13", "今天下午五点前发货，发货后把单号发给您", None),
    ("13", "您拍下后把名片上的信息发给我", None),
    ("13", "亲，我帮您查一下，请您稍等", None),
]


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
    out += [(f"course:{nb}:{i}", text, customer) for i, (nb, text, customer) in enumerate(COURSE_LINES, 1)]
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
