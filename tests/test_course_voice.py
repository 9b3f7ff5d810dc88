"""The course speaks with one voice (issue 10 item 5).

The trainer addresses the trainee as 你 throughout (the course's majority); 您 belongs to what the
agent says to customers, which the course quotes (“…”, > dialogue, answer options, examples).
Part names are Chinese first, English only in brackets. Texts that contradict the course's own
rules are gone.
"""

import json
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "course").glob("*.ipynb")) + sorted((ROOT / "source").glob("*/*.ipynb"))
QUOTED = re.compile(r"“[^”]*”|「[^」]*」|‘[^’]*’|\"[^\"]*\"|`[^`]*`|\*\*[^*]*\*\*")
SENTENCE = re.compile(r"[^。！？：:\n]+")
# Words of the course itself: a sentence that talks about them is the trainer talking to the trainee.
COURSE_WORDS = re.compile(r"练习|作业|单元|电脑|系统会|单元格|运行|Shift|得分|分数|检查工具|点击|按钮|学员|下拉|选项|第 ?\d+ 题")
ENGLISH_FIRST = re.compile(  # an English part name followed by its Chinese name in brackets
    r"(Feature|Advantage|Benefit|Situation|Problem|Implication|Need-payoff|Feel|Felt|Found)\s*[（(][\u4e00-\u9fff]")

# English part names belong in brackets after the Chinese name: 特点（Feature）, never alone
_PART = r"(Feature|Advantage|Benefit|Situation|Problem|Implication|Need-payoff|Feel|Felt|Found)"
ENGLISH_OUTSIDE_BRACKETS = re.compile(r"(?<![A-Za-z])" + _PART + r"(?![A-Za-z])")
BRACKETED = re.compile(r"[（(][^）)]*[）)]")


def english_part_names(text: str) -> list[str]:
    return ENGLISH_OUTSIDE_BRACKETS.findall(BRACKETED.sub("", text))


def markdown_cells(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            yield i, "".join(cell["source"])


def trainer_sentences(markdown: str):
    for line in markdown.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(">") or re.match(r"^([A-H][.．]|[-*] *[甲乙丙丁]：)", stripped):
            continue  # quoted dialogue and answer options are the agent's words
        for s in SENTENCE.findall(QUOTED.sub("", line)):
            yield s.strip()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_trainer_says_ni_to_the_trainee(path):
    wrong = [(i, s) for i, md in markdown_cells(path) for s in trainer_sentences(md)
             if "您" in s and COURSE_WORDS.search(s)]
    assert wrong == []


def test_ui_strings_say_ni_to_the_trainee():
    ui = tomllib.loads((ROOT / "toolkit/widgets/ui.toml").read_text(encoding="utf-8"))
    agent = {("simulator", "recap")}  # the agent's own words to the customer
    wrong = [(section, key, value) for section, table in ui.items() if isinstance(table, dict)
             for key, value in table.items()
             if isinstance(value, str) and (section, key) not in agent and "您" in QUOTED.sub("", value)]
    assert wrong == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_part_names_are_chinese_first(path):
    wrong = [(i, m.group()) for i, md in markdown_cells(path) for m in ENGLISH_FIRST.finditer(md)]
    assert wrong == []


CONTRADICTIONS = [
    "×先生", "这属于一般投诉", "拖回", "拖动", "拖到", "实时点评", "实时查看点评", "实时检查", "实时指出",
    "我们会尽力给您", "尽力补救",
]


def test_no_text_contradicts_the_course():
    texts = {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in NOTEBOOKS}
    texts |= {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8")
              for p in sorted((ROOT / "toolkit/data").glob("*.toml")) if p.name != "cues.toml"}
    found = [(where, phrase) for where, text in texts.items() for phrase in CONTRADICTIONS if phrase in text]
    assert found == []


def test_closing_question_and_goodbye_are_not_said_in_one_breath():
    """请问还有什么可以帮您 waits for the answer; the goodbye comes after it, in a later turn."""
    import sys

    from toolkit import kb

    said = [c["text"] for n in kb.load("capstone")["node"] for c in n["choice"]]
    said += [p["good"] for p in kb.load("pairs")["pair"]] + [p["text"] for p in kb.load("standard_phrases")["phrase"]]
    said += [f["suggestion"] for f in kb.load("forbidden_phrases")["forbidden"]]
    sys.path.insert(0, str(Path(__file__).parent))
    from model_replies import _notebook_answers

    said += [reply for _, reply, _ in _notebook_answers()]  # a line break is the customer's turn
    both = [s for s in said if re.search(r"还有什么(可以|需要)?(帮|为)您[^（(\n]{0,20}再见", s)]  # （客户表示没有） waits
    assert both == []


def test_ui_part_names_are_chinese_first():
    text = (ROOT / "toolkit/widgets/ui.toml").read_text(encoding="utf-8")
    assert ENGLISH_FIRST.findall(text) == []
    values = [line.split("=", 1)[1] for line in text.splitlines() if "=" in line and not line.lstrip().startswith("#")]
    assert [v for v in values if english_part_names(v)] == []


@pytest.mark.parametrize("path", NOTEBOOKS + sorted((ROOT / "release").glob("*/*.ipynb")), ids=lambda p: p.stem)
def test_part_names_are_never_english_alone(path):
    """Tables and lists name the parts in Chinese; English appears only in brackets after it."""
    wrong = [(i, name) for i, md in markdown_cells(path) for name in english_part_names(md)]
    assert wrong == []


def test_english_alone_is_caught():
    assert english_part_names("| F | Feature | **特点** |") == ["Feature"]
    assert english_part_names("用 Feel → Felt 回应") == ["Feel", "Felt"]
    assert english_part_names("| F | **特点**（Feature） | 3F（Feel · Felt · Found）") == []


def test_no_model_reply_says_what_the_course_forbids():
    """The course teaches 我会…, not 我尽可能/尽量/尽力 (seed 001): no model answer may say them."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from model_replies import good_replies

    wrong = [(where, reply) for where, reply, _ in good_replies() if re.search("尽(力|量|可能)", reply)]
    assert wrong == []


def test_complaint_explanations_name_the_real_demand():
    """A solve-type explanation quotes the customer's demand (我要换), not a time limit they cite (15天内)."""
    from toolkit import kb
    from toolkit.widgets.sort import source

    src = source("complaints")
    for case in kb.load("complaints")["case"]:
        why = src.explain({"id": case["id"], "text": case["text"], "label": case["type"]})
        quoted = re.findall("“([^”]+)”", why)
        assert not any(re.fullmatch(r"\d+\s*(天|小时|个工作日)内?", q) for q in quoted), (case["id"], why)


def test_the_course_lines_in_the_model_reply_list_are_in_their_notebooks():
    """tests/model_replies.py lists the good replies the course presents (run through the checkers in
    tests/test_review.py); each must still be in its notebook (text or example cell), as written there."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from model_replies import COURSE_LINES

    markdown = {p.stem[:2]: "".join("".join(c["source"]) for c in json.loads(p.read_text(encoding="utf-8"))["cells"])
                for p in sorted((ROOT / "course").glob("*.ipynb"))}
    missing = [(nb, text) for nb, text, customer in COURSE_LINES
               if text not in markdown[nb].replace("**", "") or customer and customer not in markdown[nb]]
    assert missing == [] and len(COURSE_LINES) >= 25
