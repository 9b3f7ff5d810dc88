"""Rule-based checkers for customer-service language: the contract every notebook, drill and
nbgrader test calls.

Inputs may be Simplified or Traditional Chinese, full- or half-width, with stray whitespace:
each function normalises first (``toolkit.normalize``). A non-string raises ``TypeError``;
an empty or blank string (also zero-width characters only) or a string with a lone surrogate
raises ``ValueError``; both messages are Chinese with English in brackets.

Every classifier says WHY: labels are returned as :class:`Label`, a ``str`` subclass
(``classify_question(q) == "open"``) carrying ``.why`` (Chinese reason for the trainee) and
``.cue`` (the matched words). Result objects (Review, ThreeF, FabOrder, Deadlines, Rate) carry
``.why`` too. Cue words live in ``toolkit/data/cues.toml``; phrase banks in the other data files.
The classifiers match cues as words (``toolkit.segment``, jieba loaded on first use): a cue that
begins inside another word (要是 in 主要是) or inside a fixed expression (几天 in 这几天) does not count.

Import cost is kept small (no pandas/Jupyter); data and matchers are built on first use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, lru_cache

import ahocorasick

from . import kb, segment
from . import learned as models
from .literals import required_sets
from .normalize import View, phrase_key, views

__all__ = [
    "Label", "Hit", "Finding", "Review", "Part", "ThreeF", "FabOrder", "Deadlines", "Rate",
    "classify_question", "question_fault", "spin_type", "fab_label", "fab_order", "fab_in_order", "find_forbidden",
    "review_reply", "three_f", "complaint_type", "complaint_deadlines", "speech_rate",
]


# ----------------------------------------------------------------------------- results


class Label(str):
    """A classifier's answer: compares equal to the plain label, and says why.

    ``.why``: a Chinese sentence naming the cue, for feedback in drills and grading.
    ``.cue``: the words that decided it, normalised (Simplified), without punctuation at either end
    ("" if none matched).
    """

    why: str
    cue: str

    def __new__(cls, value: str, why: str, cue: str = ""):
        obj = super().__new__(cls, value)
        obj.why = why
        obj.cue = cue
        return obj


@dataclass(frozen=True, slots=True)
class Hit:
    """A forbidden phrase found in a reply; ``start``/``end`` index the ORIGINAL text."""

    phrase: str
    category: str
    start: int
    end: int
    suggestion: str
    matched: str
    id: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing to change in a reply: ``code`` for programs, ``message`` for the trainee."""

    code: str
    message: str
    start: int
    end: int
    matched: str

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end


@dataclass(frozen=True, slots=True)
class Review:
    """Verdict on a whole reply. ``ok`` = no findings and a passing score."""

    ok: bool
    score: int
    findings: tuple[Finding, ...]
    polite: tuple[str, ...]
    why: str


@dataclass(frozen=True, slots=True)
class Part:
    """A located part of a reply (``start``/``end`` in the original text)."""

    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class ThreeF:
    feel: Part | None
    felt: Part | None
    found: Part | None
    in_order: bool
    ok: bool
    missing: tuple[str, ...]
    why: str
    rude: bool = False  # insults, blames or mocks the customer, or stuffs/repeats words: never ok


@dataclass(frozen=True, slots=True)
class FabOrder:
    labels: tuple[Label, ...]
    ok: bool
    why: str


@dataclass(frozen=True, slots=True)
class Deadlines:
    """When a complaint accepted at ``accepted_at`` must be answered (seed 003)."""

    severity: str
    accepted_at: datetime
    first_reply_due: datetime
    target_due: datetime
    latest_due: datetime
    why: str

    def overdue(self, now: datetime) -> bool:
        """Past the latest answer time: the customer must be contacted proactively."""
        return now > self.latest_due


@dataclass(frozen=True, slots=True)
class Rate:
    chars: int
    seconds: float
    per_minute: float
    label: str
    why: str


# ----------------------------------------------------------------------------- input


_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u180e"  # zero-width characters: blank to a reader


def _require_text(text) -> tuple[View, View]:
    if not isinstance(text, str):
        raise TypeError(f"请输入一句中文文字（expected str, got {type(text).__name__}）")
    if not text.strip().strip(_INVISIBLE).strip():
        raise ValueError("内容不能为空，请输入一句话（text must not be empty or blank）")
    return views(text)  # raises ValueError for a lone surrogate


@cache
def _cues() -> dict[str, dict[str, re.Pattern]]:
    """The named cue patterns of ``cues.toml`` (sections without ordered rules)."""
    return {
        section: {name: re.compile(pattern) for name, pattern in table.items() if isinstance(pattern, str)}
        for section, table in kb.load("cues").items()
        if isinstance(table, Mapping)
    }


@dataclass(frozen=True, slots=True)
class _Rule:
    """One ordered rule of a classifier section of ``cues.toml`` (see the comment at its top)."""

    pattern: re.Pattern
    label: str
    why: str
    scope: str  # "all" | "main" (after a leading condition clause) | "last" (the last clause)
    requires: re.Pattern | None  # must also match: in the clauses before the last for scope "last"
    not_after: re.Pattern | None  # the cue is a topic, not a cue, when this follows it
    before: re.Pattern | None  # the text just before the cue must end like this (a fact noun: 等级)
    unless_last_word: re.Pattern | None  # the rule does not apply when the last word is one of these
    unless: re.Pattern | None  # ... nor when this matches anywhere


def _optional(table: Mapping, key: str) -> re.Pattern | None:
    return re.compile(table[key]) if key in table else None


@cache
def _rules(section: str) -> tuple[tuple[_Rule, ...], Mapping]:
    """Ordered rules and the default of a classifier section."""
    table = kb.load("cues")[section]
    rules = tuple(
        _Rule(re.compile(r["pattern"]), r["label"], r["why"], r.get("scope", "all"), _optional(r, "requires"),
              _optional(r, "not_after"), _optional(r, "before"), _optional(r, "unless_last_word"), _optional(r, "unless"))
        for r in table["rule"]
    )
    return rules, table["default"]


# ----------------------------------------------------------------------------- words, not substrings


@cache
def _words_table() -> dict[str, re.Pattern]:
    return {key: re.compile(value) for key, value in kb.load("cues")["words"].items() if isinstance(value, str)}


class _Text:
    """A normalised text with what the rules need: its fixed expressions and clauses (built lazily)."""

    __slots__ = ("text", "_opaque")

    def __init__(self, text: str):
        self.text = text
        self._opaque = None

    @property
    def opaque(self) -> tuple[tuple[int, int], ...]:
        if self._opaque is None:
            self._opaque = segment.opaque_spans(_words_table()["opaque"], self.text)
        return self._opaque

    def is_word(self, start: int, end: int) -> bool:
        """A cue counts only as whole words: not inside a fixed expression, not cutting a word."""
        if end <= start:
            return True
        for a, b in self.opaque:
            if a < end and start < b and (a, b) != (start, end):
                return False
        return not segment.crosses(self.text, start, end, self.opaque)

    def whole_words(self, pattern: re.Pattern) -> re.Match | None:
        """The first match of ``pattern`` that begins and ends on word boundaries (网络 not in 网络游戏)."""
        spans = segment.spans(self.text, self.opaque)
        starts, ends = {s for s, _ in spans}, {e for _, e in spans}
        return next((m for m in pattern.finditer(self.text) if m.start() in starts and m.end() in ends), None)

    def main_start(self) -> int:
        """Where the main clause begins when the text opens with a condition (如果……，)."""
        m = _words_table()["condition"].match(self.text)
        return m.end() if m else 0

    def last_start(self) -> int:
        """Where the last clause begins (after the last comma or semicolon before the end)."""
        body = self.text.rstrip(_EDGE_PUNCTUATION)
        cut = max(body.rfind(sep) for sep in ",;，；")
        return cut + 1 if cut >= 0 else 0

    def find(self, pattern: re.Pattern, start: int = 0, end: int | None = None, not_after: re.Pattern | None = None):
        """The first match of ``pattern`` in ``text[start:end]`` that is made of whole words."""
        end = len(self.text) if end is None else end
        pos = start
        while (m := pattern.search(self.text, pos, end)) is not None:
            if self.is_word(m.start(), m.end()) and not (not_after and not_after.match(self.text, m.end())):
                return m
            pos = m.start() + 1
            if pos > end:
                break
        return None

    def word_before(self, index: int) -> str:
        for s, e in segment.spans(self.text, self.opaque):
            if e == index:
                return self.text[s:e]
        return ""

    def last_word(self) -> str:
        body = self.text.rstrip(_EDGE_PUNCTUATION + "吗呢吧啊呀么")
        return self.word_before(len(body)) if body else ""


def _apply(rule: _Rule, t: _Text) -> re.Match | None:
    if rule.unless_last_word and rule.unless_last_word.fullmatch(t.last_word()):
        return None
    if rule.unless and rule.unless.search(t.text):
        return None
    start, lead_end = 0, None
    if rule.scope == "main":
        start = t.main_start()
    elif rule.scope == "last":
        start = lead_end = t.last_start()
        if start == 0:
            return None
    if rule.requires and not t.find(rule.requires, 0, lead_end):
        return None
    pos = start
    while (m := t.find(rule.pattern, pos, not_after=rule.not_after)) is not None:
        if not rule.before or rule.before.search(t.text, 0, m.start()):
            return m
        pos = m.start() + 1
    return None


# ----------------------------------------------------------------------------- questions


_EDGE_PUNCTUATION = " \t\n,.!?;:，。！？；：、…"


def _cue(m: re.Match) -> str:
    """The matched words to quote in feedback: a cue such as "吗?" reads better as "吗"."""
    return m.group().strip(_EDGE_PUNCTUATION) or m.group()


def _classify(section: str, text: str) -> Label:
    """Run the ordered rules of ``cues.toml``'s ``section``: the first that matches decides."""
    text_view, _ = _require_text(text)
    t = _Text(text_view.text)
    rules, default = _rules(section)
    for rule in rules:
        if m := _apply(rule, t):
            cue = _cue(m)
            if rule.before:  # quote the word the rule looked at too (会员等级是什么)
                cue = t.word_before(m.start()) + cue
            return Label(rule.label, rule.why.format(cue=cue), cue)
    return Label(default["label"], default["why"])


def classify_question(text: str) -> Label:
    """"open" (invites a free answer) or "closed" (yes/no, a choice, or a single fact).

    Seed 001: open questions usually use 什么/怎样/为什么 and get the customer talking; a request
    to describe is open even when it ends in 吗. Closed questions use 谁/何时/是不是/哪个/有没有…
    and ask for one fact, a choice or a yes/no.
    """
    return _second_opinion("question", text, _classify("question", text))


def spin_type(text: str) -> Label:
    """"situation" | "problem" | "implication" | "need-payoff" for a sales question (seed 001)."""
    return _second_opinion("spin", text, _classify("spin", text))


# Why, when the learned model overrules the cue words: the definition of the label it reads (seeds 001, 004).
_LEARNED_WHY = {
    "question": {"open": "这句话请客户用自己的话讲述、展开说明，是开放式问题。",
                 "closed": "这句话只需客户确认“是/不是”、做个选择或说出一个事实，是封闭式问题。"},
    "spin": {"situation": "这句话了解的是客户目前的事实和现状，是背景问题（Situation）。",
             "problem": "这句话询问客户遇到的困难或不满，是难点问题（Problem）。",
             "implication": "这句话追问难点会带来的后果和影响，是暗示问题（Implication）。",
             "need-payoff": "这句话请客户自己说出问题解决后的好处，是需求效益问题（Need-payoff）。"},
    "complaint": {"solve": "客户讲清了事情，想要把它解决，是解决问题的投诉：认真倾听、表示认同，及时处理并答复。",
                  "vent": "客户情绪激动，反复诉说、没有明确要求，是纯粹为了发泄的投诉：先耐心倾听。",
                  "expect": "客户语气平和，提出希望、建议或拿别家比较，是为了某种期待的投诉：表示认同并表达改进的意愿。"},
}


def _second_opinion(task: str, text: str, label: Label) -> Label:
    """The learned model (``toolkit.learned``) overrules the cue words' label only when it is sure (its
    threshold was chosen on holdout authors it never saw, scripts/train_models.py); ``.cue`` is then empty."""
    model = models.model(f"{task}_label")
    scores = model.scores(models.grams(views(text)[1].text, (1, 2, 3)))
    top = max(scores, key=scores.__getitem__)
    if top != label and scores[top] > model.threshold:
        return Label(top, _LEARNED_WHY[task][top])
    return label


_FAULT_WHY = {
    "not-chinese": "请用中文提问：客户听的是中文。",
    "fragment": "“{cue}”还不是一个完整的问题：请写出要问客户的具体内容，例如“请问您遇到了什么问题？”",
    "rhetorical": "“{cue}”是反问或责问的口气，暗含责怪客户，不是好的提问；请心平气和地询问客户的情况。",
    "off-topic": "这个问题和客户的事情无关：请围绕客户刚才说的情况提问。",
}
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[a-z]")
_ALNUM = re.compile(r"[a-z0-9][a-z0-9.\-]*")


@cache
def _neutral_word() -> re.Pattern:
    """A word made only of function words, generic words and very common characters."""
    cues = _cues()["question_fault"]
    return re.compile("(?:" + "|".join(cues[k].pattern for k in ("generic", "common", "function")) + ")+")


def _question_bigrams(text: str, common: re.Pattern) -> set[str]:
    """Pairs of adjacent Chinese characters, less those made only of very common ones."""
    han = "".join(_HAN.findall(text))
    return {han[i:i + 2] for i in range(len(han) - 1) if not common.fullmatch(han[i]) or not common.fullmatch(han[i + 1])}


def question_fault(text: str, customer: str | None = None) -> Label | None:
    """Why ``text`` is not a usable question in a service conversation, or None if it is one.

    "fragment" (no matter asked about: 如果, 为什么呢?), "rhetorical" (反问/责问 that blames the customer:
    你为什么不自己查一下?), "off-topic" (nothing to do with the customer or the matter of ``customer``,
    the customer's turn: 为什么香蕉是黄的?), "not-chinese". The Label's ``.why`` is the Chinese reason.
    """
    with_punct, _ = _require_text(text)
    t = _Text(with_punct.text)
    cues = _cues()["question_fault"]
    if not _HAN.search(t.text):
        code = "not-chinese" if _LATIN.search(t.text) else "fragment"
        return Label(code, _FAULT_WHY[code].format(cue=text.strip()), text.strip())
    words = [t.text[s:e] for s, e in segment.spans(t.text, t.opaque)]
    content = [w for w in words if (_HAN.search(w) and not cues["function"].fullmatch(w)) or _ALNUM.fullmatch(w)]
    if not content:
        cue = t.text.strip(_EDGE_PUNCTUATION) or t.text
        return Label("fragment", _FAULT_WHY["fragment"].format(cue=cue), cue)
    m = t.find(cues["rhetorical"])
    hit = next((h for h in _forbidden_hits(text, with_punct, views(text)[1]) if h.category == "责问与反问"), None)
    if m or hit:
        cue = _cue(m) if m else hit.matched
        return Label("rhetorical", _FAULT_WHY["rhetorical"].format(cue=cue), cue)
    if customer is None or t.whole_words(cues["service"]):  # without the customer's turn, topic is not judged
        return None
    # Off topic: the question brings a subject of its own (香蕉, 明星, 减肥) that the customer's turn does
    # not share; a question of generic words only (您是什么时候发现的?) is about the customer's matter.
    if all(_neutral_word().fullmatch(w) for w in content):
        return None
    turn = views(customer)[0].text if isinstance(customer, str) and customer.strip() else ""
    shared = (set(_HAN.findall(t.text)) & set(_HAN.findall(turn))) - set(cues["common"].findall(t.text))
    # one shared rare character can be chance (手机壳 / 机票); a shared pair of them or a word is not
    if len(shared) < 2 and not _question_bigrams(t.text, cues["common"]) & _question_bigrams(turn, cues["common"]):
        return Label("off-topic", _FAULT_WHY["off-topic"], "")
    return None


_FAB_RANK = {"F": 0, "A": 1, "B": 2}


def fab_label(sentence: str) -> Label:
    """"F" (feature: a fact), "A" (advantage: what it does) or "B" (benefit to this customer)."""
    return _classify("fab", sentence)


def fab_order(sentences) -> FabOrder:
    """Label each sentence of a pitch and check it runs Feature -> Advantage -> Benefit."""
    if isinstance(sentences, str) or not isinstance(sentences, (list, tuple)):
        raise TypeError(f"请按顺序给出几句话组成的列表（expected a list of str, got {type(sentences).__name__}）")
    if not sentences:
        raise ValueError("列表不能为空，请至少写出特点、优点、利益三句话（the list must not be empty）")
    labels = tuple(fab_label(s) for s in sentences)
    present = {str(label) for label in labels}
    missing = [name for key, name in (("F", "特点"), ("A", "优点"), ("B", "利益")) if key not in present]
    ranks = [_FAB_RANK[label] for label in labels]
    ordered = all(a <= b for a, b in zip(ranks, ranks[1:]))
    if missing:
        why = f"还缺少{'、'.join(missing)}；完整的介绍要依次说出特点、优点、利益。"
    elif not ordered:
        why = f"顺序是 {'→'.join(labels)}，应该先说特点（F），再说优点（A），最后说利益（B）。"
    else:
        why = "先讲特点，再讲优点，最后落到客户的利益，顺序正确。"
    return FabOrder(labels, not missing and ordered, why)


def fab_in_order(sentences) -> bool:
    """True when the pitch has F, A and B and never goes back (F -> A -> B)."""
    return fab_order(sentences).ok


# ----------------------------------------------------------------------------- forbidden phrases


@dataclass(frozen=True, slots=True)
class _Entry:
    id: str
    phrase: str
    category: str
    suggestion: str


@dataclass(frozen=True, slots=True)
class _Matchers:
    literals: ahocorasick.Automaton  # phrase and variant wordings, on the punctuation-free view
    patterns: _Prefiltered  # paraphrase regexes (name: the entry's index), on the punctuation view
    entries: tuple[_Entry, ...]


@cache
def _forbidden_matchers() -> _Matchers:
    literals = ahocorasick.Automaton()
    entries: list[_Entry] = []
    patterns: list[tuple[int, str]] = []
    for raw in kb.load("forbidden_phrases")["forbidden"]:
        entry = _Entry(raw["id"], raw["phrase"], raw["category"], raw["suggestion"])
        for wording in (raw["phrase"], *raw["variants"]):
            key = phrase_key(wording)
            if key and key not in literals:
                literals.add_word(key, (len(key), entry))
        patterns.extend((len(entries), p) for p in raw["patterns"])
        entries.append(entry)
    literals.make_automaton()
    return _Matchers(literals, _Prefiltered.build(patterns, split=False), tuple(entries))


def _hit(view: View, original: str, start: int, end: int, entry: _Entry) -> Hit:
    o_start, o_end = view.span(start, end)
    return Hit(entry.phrase, entry.category, o_start, o_end, entry.suggestion, original[o_start:o_end], entry.id)


def _forbidden_hits(original: str, with_punct: View, bare: View) -> list[Hit]:
    m = _forbidden_matchers()
    found: list[Hit] = []
    for end, (length, entry) in m.literals.iter(bare.text):
        found.append(_hit(bare, original, end - length + 1, end + 1, entry))
    for index, match in m.patterns.matches(with_punct.text):
        found.append(_hit(with_punct, original, match.start(), match.end(), m.entries[index]))
    if len(found) < 2:
        return found
    # Leftmost-longest, no overlaps: one highlight per place in the text.
    found.sort(key=lambda h: (h.start, -(h.end - h.start)))
    kept: list[Hit] = [found[0]]
    for hit in found[1:]:
        if hit.start >= kept[-1].end:
            kept.append(hit)
    return kept


def find_forbidden(text: str) -> list[Hit]:
    """Every 服务禁语 in ``text`` (with variants and paraphrase patterns), left to right.

    Offsets refer to the original text, also for Traditional or full-width input. ``[]`` if clean.
    """
    with_punct, bare = _require_text(text)
    return _forbidden_hits(text, with_punct, bare)


# ----------------------------------------------------------------------------- reply review

_PENALTY = {"vague-promise": 10, "forbidden": 30, "ni": 10, "command": 25, "bare-refusal": 25, "uncertain": 20,
            "interrogation": 30, "buck": 30, "blame": 35, "sarcasm": 35, "impatience": 30, "abuse": 60,
            "no-apology": 15, "no-time": 10, "no-when": 35, "repetition": 90, "off-topic": 50}
_MESSAGES = {
    "ni": "“{m}”：对客户要称“您”，不要用“你”。",
    "command": "“{m}”是命令的口气，改成征询：“请您……”或“您能……吗？”",
    "uncertain": "“{m}”听起来不确定，请查清楚后给出肯定的答复。",
    "interrogation": "“{m}”带有责问、反问的口气，请心平气和地询问或再解释一遍。",
    "bare-refusal": "“{m}”是生硬的拒绝：说明原因，并告诉客户“您可以……”的其他办法。",
    "vague-promise": "“{m}”听起来没把握，改说“我会……”，明确告诉客户您会做什么。",
    "buck": "“{m}”是推诿：把客户推给别人，自己却什么也不做。请说“我来帮您联系……”，由您负责到底。",
    "blame": "“{m}”在指责客户。不追究客户的错，先说明情况，再告诉客户怎么解决。",
    "sarcasm": "“{m}”是讽刺、反问或居高临下的口气，会伤害客户。请平和地说明，或再耐心解释一遍。",
    "impatience": "“{m}”显得不耐烦。客户没听清就再耐心讲一遍：“可能是我没说清楚，我再为您解释一下……”",
    "abuse": "“{m}”是辱骂或威胁客户，绝对不能说。请尊重客户，冷静地处理问题。",
}
# Findings about the whole reply (no span to highlight: they cover the reply).
_WHOLE = {
    "not-chinese": "这句回复不是中文：请用中文回复客户。",
    "no-content": "只有礼貌用语，没有实际内容：礼貌用语要和解决问题的话一起说，请回应客户的问题，告诉客户您会怎么处理。",
    "repetition": "回复在重复同样的话：重复不能解决问题，请说清一次，并回应客户的问题。",
    "off-topic": "回复没有回应客户说的事：先针对客户的问题作答（或询问相关的细节），再谈其他。",
    "no-apology": "客户遇到了麻烦或在投诉，回复里却没有道歉或理解的话：先说“很抱歉给您添麻烦了”，再讲怎么处理。",
    "no-time": "答应了回复客户，却没说什么时候：请给出具体时间，例如“今天下午五点前给您回电”。",
    "no-when": "客户问的是时间，回复却没有给出时间：请查清后告诉客户具体的时间或时间范围，例如“预计今天下午五点前恢复”；一时查不到，就说明什么时候给客户回话。",
    # Faults the learned model (toolkit.learned) reads in a reply the rules passed: no words to point at.
    "learned-buck": "这句回复读起来是在推诿：把客户的事推给别人或说不归自己管，自己却没有行动。请说“我来帮您……”，由您负责到底。",
    "learned-sarcasm": "这句回复读起来带有讽刺、反问、居高临下或不耐烦的口气，会伤害客户。请平和地说明，或再耐心解释一遍。",
    "learned-refusal": "这句回复读起来是在拒绝客户，却没有说明原因，也没有给出其他办法：请说明原因，并告诉客户“您可以……”。",
    "learned-uncertain": "这句回复读起来没有把握，或者答应了却没说清做什么、什么时候：请查清楚后给出肯定的答复和具体的时间。",
    "learned-blame": "这句回复读起来在指责客户。不追究客户的错，先说明情况，再告诉客户怎么解决。",
}
WHOLE_REPLY_FINDINGS = frozenset(_WHOLE)  # finding codes about the whole reply: nothing to highlight
LEARNED_FINDINGS = frozenset(code for code in _WHOLE if code.startswith("learned-"))
VETOABLE = frozenset({"no-apology"})  # the one finding the learned model may dismiss (see review_reply)
_LEARNED_CODE = {"buck": "learned-buck", "sarcasm": "learned-sarcasm", "bare-refusal": "learned-refusal",
                 "uncertain": "learned-uncertain", "blame": "learned-blame", "off-topic": "off-topic"}
_CJK = re.compile(r"[\u4e00-\u9fff]")
_TWO_CJK = re.compile(r"[\u4e00-\u9fff][^\u4e00-\u9fff]*[\u4e00-\u9fff]")  # at least two Chinese characters
_STUFFING_MAX = 200  # polite words alone, without repeating, do not run longer
_STAGE = re.compile(r"\([^)]*\)|\[[^\]]*\]")  # stage directions in a pair's customer turn: （电话接通…）


def _finding(code: str, view: View, original: str, start: int, end: int, message: str | None = None) -> Finding:
    o_start, o_end = view.span(start, end)
    matched = original[o_start:o_end]
    return Finding(code, message or _MESSAGES[code].format(m=matched), o_start, o_end, matched)


def _branches(pattern: str) -> list[str]:
    """The top-level alternatives of a regex (split at ``|`` outside groups, classes and escapes)."""
    out, depth, in_class, start, i = [], 0, False, 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 1
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append(pattern[start:i])
            start = i + 1
        i += 1
    return out + [pattern[start:]]


_ALSO_MAX = 16


@dataclass(frozen=True, slots=True)
class _Prefiltered:
    """Many named regexes run as their alternatives, each only when the literals it needs occur in the
    text (toolkit.literals): one Aho-Corasick pass finds the candidates by their most selective
    literal, ``in`` tests their other required literals, and only the survivors run. Most replies
    need only a few of them."""

    branches: tuple[tuple[object, re.Pattern], ...]
    triggers: ahocorasick.Automaton
    always: tuple[int, ...]
    also: tuple[tuple[re.Pattern, ...], ...]  # per branch: further literal sets (as alternations), one of each must occur

    @classmethod
    def build(cls, table, split: bool = True) -> "_Prefiltered":
        """``table``: a mapping or (name, pattern) pairs; ``split``: run each top-level alternative
        on its own (finditer then finds every branch's matches, overlaps sorted out by the caller)."""
        items = table.items() if isinstance(table, Mapping) else table
        branches, by_literal, always, also = [], {}, [], []
        for name, pattern in items:
            for branch in (_branches(pattern) if split else [pattern]):
                index = len(branches)
                branches.append((name, re.compile(branch)))
                first, *rest = required_sets(branch) or [None]
                # Further sets are tested with ``in``: only small ones pay for themselves.
                # (an alternation of literals: one C-speed search instead of an ``in`` per literal)
                also.append(tuple(re.compile("|".join(map(re.escape, sorted(s)))) for s in rest if len(s) <= _ALSO_MAX))
                if first is None:
                    always.append(index)
                for literal in first or ():
                    by_literal.setdefault(literal, []).append(index)
        triggers = ahocorasick.Automaton()
        for literal, indices in by_literal.items():
            triggers.add_word(literal, tuple(indices))
        if by_literal:
            triggers.make_automaton()
        return cls(tuple(branches), triggers, tuple(always), tuple(also))

    def candidates(self, text: str) -> list[int]:
        """Indices of the branches whose required literals all occur in ``text``, in order."""
        candidates = set(self.always)
        if len(self.triggers):  # a literal occurs many times: take each trigger's indices once
            candidates.update(*{indices for _, indices in self.triggers.iter(text)})
        also, kept = self.also, []
        for i in candidates:
            for pattern in also[i]:
                if pattern.search(text) is None:
                    break
            else:
                kept.append(i)
        kept.sort()
        return kept

    def matches(self, text: str):
        """(name, match) for every non-empty match of every candidate, branch by branch."""
        branches = self.branches
        for index in self.candidates(text):
            name, pattern = branches[index]
            for m in pattern.finditer(text):
                if m.end() > m.start():
                    yield name, m

    def finditer(self, text: str):
        """(name, match) for every match of every regex, left to right."""
        found = [(m.start(), -m.end(), name, m) for name, m in self.matches(text)]
        if len(found) > 1:
            found.sort(key=lambda f: f[:2])
        return [(name, m) for _, _, name, m in found]


def _part(key: str) -> str:
    """Cue keys combine by prefix: ``buck_redirect`` is a ``buck`` cue, ``felt_also`` a ``felt`` one."""
    return key.partition("_")[0]


@cache
def _faults() -> _Prefiltered:
    """The fault cues of ``[review_fault]``, with ``<party>`` standing for the ``[review_party]`` words."""
    cues = kb.load("cues")
    party = cues["review_party"]["words"]
    return _Prefiltered.build([(_part(key), pattern.replace("<party>", party))
                               for key, pattern in cues["review_fault"].items()])


@cache
def _stop_chars() -> frozenset[str]:
    return frozenset(kb.load("cues")["review_customer"]["stop_chars"])


_LATIN_WORD = re.compile(r"[a-z][a-z0-9]+|[0-9]+[a-z][a-z0-9]*")  # 5g, pdf, wifi, app: words, not bare numbers


def _bigrams(text: str, stop: frozenset[str]) -> frozenset[str]:
    """Topic words: adjacent CJK pairs with at least one character that carries meaning, and Latin words."""
    return frozenset([a + b for a, b in zip(text, text[1:])
                      if (a not in stop or b not in stop) and "\u4e00" <= a <= "\u9fff" and "\u4e00" <= b <= "\u9fff"]
                     + _LATIN_WORD.findall(text))


@dataclass(frozen=True, slots=True)
class _Turn:
    """What a customer's turn asks of a reply (cached: a drill checks many replies to one turn)."""

    topic: frozenset[str]  # content bigrams; empty = no topic to address (a stage direction, a greeting)
    topics: frozenset[str]  # service topics of [review_topic] the customer talks about
    domains: frozenset[str]  # service domains of [review_domain] its words belong to (银行卡 -> bank)
    wronged: bool  # the customer reports a wrong, complains or could not be heard: an apology is due
    upset: bool  # angry at the service itself: an apology with a next step takes that up
    asks_when: bool = False  # asks when or how long: the reply owes a time
    asks_amount: bool = False  # asks how much: an amount answers it


@lru_cache(maxsize=1024)
def _customer_turn(customer: str) -> _Turn:
    if not isinstance(customer, str):
        raise TypeError(f"客户的话请输入文字（customer must be str, got {type(customer).__name__}）")
    with_punct, bare = views(customer)
    spoken = _STAGE.sub("", with_punct.text)
    bare_spoken = _NON_WORD.sub("", spoken)
    stop = _stop_chars()
    cues = _cues()["review_customer"]
    unheard = any(cues["hard_to_hear"].search(m.group()) for m in _STAGE.finditer(with_punct.text)) \
        or cues["not_followed"].search(spoken) is not None
    if len(bare_spoken) < 4:
        return _Turn(frozenset(), frozenset(), frozenset(), unheard, False)
    return _Turn(_bigrams(bare_spoken, stop), _topics(bare_spoken), _main_domains(_domains(bare_spoken)),
                 unheard or bool(cues["wronged"].search(spoken)), bool(cues["upset"].search(spoken)),
                 bool(cues["asks_when"].search(spoken)), bool(cues["asks_amount"].search(spoken)))


@cache
def _domain_words() -> ahocorasick.Automaton:
    """Every word of ``[review_domain]`` -> (length, the domains it belongs to; empty for generic words)."""
    domains: dict[str, set[str]] = {}
    table = kb.load("cues")["review_domain"]
    for name, pattern in table.items():
        for word in _branches(pattern):
            found = domains.setdefault(word, set())
            if name != "generic":
                found.add(name)
    for word in _branches(table["generic"]):  # 身份证, 网点: a domain's word, and every domain's (see _addresses)
        if domains[word]:
            domains[word].add("generic")
    words = ahocorasick.Automaton()
    for word, names in domains.items():
        words.add_word(word, (len(word), frozenset(names)))
    words.make_automaton()
    return words


def _main_domains(sets: list[frozenset[str]]) -> frozenset[str]:
    """The domains a text is mostly about: a word of n domains gives each 1/n; keep those with at least
    half the top weight (孩子住院的费用保险能报吗 is a hospital matter first, not a car-insurance one)."""
    weight: dict[str, float] = {}
    for names in sets:
        names = names - {"generic"}
        for name in names:
            weight[name] = weight.get(name, 0.0) + 1 / len(names)
    top = max(weight.values(), default=0.0)
    main = {name for name, w in weight.items() if w >= top / 2}
    return frozenset(main.union(*(group for group in _related() if main & group)))


@cache
def _related() -> tuple[frozenset[str], ...]:
    return tuple(frozenset(g.split()) for g in kb.load("cues")["review_domain_related"]["groups"])


def _first_two(item: tuple) -> tuple:
    return item[:2]


def _domains(bare: str) -> list[frozenset[str]]:
    """The domains of each domain word of the text, leftmost-longest (发票 is generic, not 票)."""
    found = sorted(((end - length + 1, -length, names) for end, (length, names) in _domain_words().iter(bare)),
                   key=_first_two)
    out, reach = [], 0
    for start, neg_length, names in found:
        if start >= reach:
            reach = start - neg_length
            if names:
                out.append(names)
    return out


@cache
def _topic_words() -> ahocorasick.Automaton:
    """Every word of ``[review_topic]`` -> (length, topic)."""
    words = ahocorasick.Automaton()
    for name, pattern in kb.load("cues")["review_topic"].items():
        for word in _branches(pattern):
            words.add_word(word, (len(word), name))
    words.make_automaton()
    return words


def _topics(bare: str) -> frozenset[str]:
    """Service topics the text talks about: its topic words, leftmost-longest (发票 is not 票)."""
    found = sorted((end - length + 1, -length, name) for end, (length, name) in _topic_words().iter(bare))
    topics, reach = set(), 0
    for start, neg_length, name in found:
        if start >= reach:
            topics.add(name)
            reach = start - neg_length
    return frozenset(topics)


_NO_SERVICE_MATTER = frozenset({"smalltalk", "promo", "generic"})  # no service matter of their own (generic: see _domain_words)


@cache
def _service_names() -> frozenset[str]:
    return frozenset(kb.load("cues")["review_matter"]["service_names"])


@cache
def _base_topics() -> frozenset[str]:
    """[review_topic] topics that name a whole domain (room: hotel): sharing one shows no shared matter."""
    return frozenset(kb.load("cues")["review_matter"]["base_topics"])


def _addresses(turn: _Turn, t: str, bare: str, act: dict) -> bool:
    """The reply takes up the customer's matter: it answers, acts on it, asks about it or explains it.

    Off topic needs positive evidence (issue 8: natural good replies use their own words):
    - the reply talks only about ANOTHER service domain's things (``[review_domain]``: a hotel room to a
      bank customer), or
    - it says nothing concrete at all: no word of any domain, no action, no detail, no question about it.
    Otherwise a shared content bigram, shared service topics (``[review_topic]``: 排队 and 等了这么久 are
    one topic), a clarifying question, words of the customer's own domain, or an apology with a next step
    for a customer upset with the service (seed 002: 听 · 表态 · 承诺) show the reply addresses it.
    A turn with no service matter (a greeting, thanks, 喂？人呢？) has nothing to miss."""
    sets = _domains(bare)
    # substring tests: cheaper than the reply's bigrams (a service's own name, 酒店, is no shared matter)
    shared_word = any(word in bare for word in turn.topic if word not in _service_names())
    pitch = any("promo" in names for names in sets) \
        or act["pitch"].search(t) is not None and act["staff_action"].search(t) is None  # 我帮您订: service, not a pitch
    if turn.topic and not shared_word and pitch \
            and not act["clarify"].search(t) and not (turn.asks_amount and act["detail"].search(t)):
        return False  # a sales pitch that neither takes up the customer's words nor answers how much
    if not turn.topics and not turn.domains:
        return True
    inside = sum(1 for names in sets if names & turn.domains)
    outside = sum(1 for names in sets if not names & turn.domains and "generic" not in names)  # 身份证 is no other matter
    if inside and not shared_word:
        # Only the domain is shared (医院, 保险): the reply must still take up the customer's own matter
        # (复印病历, 退保) when it is one of the [review_topic] topics; another matter of the same domain
        # (weekend opening hours, a renewal reminder) is off topic, unless the agent acts, asks or apologises.
        matter = turn.topics - _base_topics() or turn.topics
        if matter and not matter & _topics(bare) and act["staff_action"].search(t) is None and not act["done"].search(t) \
                and not act["clarify"].search(t) and not act["hold"].search(t) and not act["apology"].search(t):
            return False
    if shared_word or inside:  # the customer's own words, or things of the customer's domain
        return True
    if sets and all(names <= _NO_SERVICE_MATTER for names in sets):  # small talk or a pitch, nothing else
        return False
    if turn.domains and outside:  # another domain's things only
        return False
    shared = len(turn.topics & _topics(bare))
    # One shared topic is too weak (money, cards, bookings run through every domain): two are needed,
    # unless the customer's turn has only one.
    if turn.topics and shared >= min(2, len(turn.topics)) or act["clarify"].search(t):
        return True
    if shared and (act["hold"].search(t) or act["apology"].search(t)):  # one topic, and the feeling or a hold
        return True
    if turn.upset and act["apology"].search(t) is not None and (
            act["staff_action"].search(t) is not None or "?" in t):
        return True
    # No sign of another matter (no domain's words, or the turn's domain unknown): concrete content (an action, a time or amount) is about the matter at hand.
    return (not sets or not turn.domains) and (act["staff_action"].search(t) is not None or act["detail"].search(t) is not None)


def _turn_overlap(turn: _Turn | None, bare: str) -> tuple[int, int] | None:
    """(content bigrams the reply shares with the customer's turn, the turn's content bigrams): the learned
    model's view of the turn (``toolkit.learned.reply_features``); None without a turn."""
    return None if turn is None else (len(turn.topic & _bigrams(bare, _stop_chars())), len(turn.topic))


class _Absent:
    """A cue whose required words are not in the text: it cannot match."""

    @staticmethod
    def search(text, pos=0):
        return None

    @staticmethod
    def finditer(text):
        return iter(())

    @staticmethod
    def subn(repl, text):
        return text, 0


_ABSENT = _Absent()


@cache
def _review_gate() -> tuple[ahocorasick.Automaton, dict, dict]:
    """One Aho-Corasick pass finds which ``[review]``/``[review_act]`` cues can match a reply: each is
    keyed by the most selective literal set it needs (toolkit.literals); the others always run.
    (automaton: literal -> cue keys; the cues that always run; every cue by key)"""
    cues = _cues()
    every = {(section, name): p for section in ("review", "review_act") for name, p in cues[section].items()}
    by_literal: dict[str, set] = {}
    always = {}
    for key, pattern in every.items():
        sets = required_sets(pattern.pattern)
        if not sets:
            always[key] = pattern
        for literal in sets[0] if sets else ():
            by_literal.setdefault(literal, set()).add(key)
    gate = ahocorasick.Automaton()
    for literal, keys in by_literal.items():
        gate.add_word(literal, tuple(keys))
    gate.make_automaton()
    return gate, always, every


def _review_cues(text: str) -> tuple[dict, dict]:
    """The ``[review]`` and ``[review_act]`` cues for ``text``: those that cannot match are _ABSENT."""
    gate, always, every = _review_gate()
    present = dict(always)
    for _, keys in gate.iter(text):
        for key in keys:
            present[key] = every[key]
    review = {name: present.get(("review", name), _ABSENT) for name in _cues()["review"]}
    act = {name: present.get(("review_act", name), _ABSENT) for name in _cues()["review_act"]}
    return review, act


_NON_WORD = re.compile(r"\W+")


_TANDEM = re.compile(r"(.{2,8})\1\1")  # the same words three times running: 我理解您我理解您我理解您


@cache
def _filler_chars() -> str:
    """Every character that occurs in the polite-word pattern, escaped for a character class."""
    return re.escape("".join(dict.fromkeys(_HAN.findall(_cues()["review_act"]["filler"].pattern))))


@lru_cache(maxsize=64)
def _content_chars(count: int) -> re.Pattern:
    """Matches once the text has ``count`` characters that occur in no polite word (content for sure)."""
    chars = _filler_chars()
    return re.compile(f"[^{chars}](?:[{chars}]*[^{chars}]){{{count - 1}}}")


def _repetitive(bare: str) -> bool:
    """The same words over and over (您您您您, 马上马上马上, a reply pasted five times): few distinct bigrams."""
    n = len(bare) - 1
    if n < 3:
        return False
    if n > 12:  # in a repetitive text most trigrams recur: two that occur once rule it out (C-speed count)
        a, b = bare[n // 3:n // 3 + 3], bare[2 * n // 3:2 * n // 3 + 3]
        if bare.count(a) < 2 and bare.count(b) < 2:
            return False
    if len(set(bare)) - 1 >= 0.6 * n:  # distinct bigrams >= distinct characters - 1: cheap bound
        return False
    return len(set(map(bare.__getitem__, map(slice, range(n), range(2, n + 2))))) < 0.6 * n


def review_reply(text: str, customer: str | None = None, *, learned: bool = True) -> Review:
    """Judge a staff reply as a service act (seeds 000, 001, 002; issue 8).

    Findings: not Chinese; only polite words (no content); repetition; forbidden phrases; 你 where 您 is
    due; commands; bare refusals; uncertain wording; vague promises; interrogating tone; and by meaning,
    whatever the pronoun: 推诿 (buck), blame, sarcasm/rhetorical questions, impatience, abuse.

    ``customer``: the customer's turn the reply answers (optional). With it the reply must also address
    the customer's matter (off topic only with evidence: it talks about another service domain's things
    only, or says nothing concrete; see ``_addresses``), apologise or show
    understanding when the customer was wronged, and name a time when it promises to get back.

    ``learned``: with the customer's turn, a reply the rules pass also goes to the learned model (``toolkit.learned``), which may
    read a fault the rules have no words for (``learned-*`` findings, or off-topic), and may dismiss a lone
    ``no-apology`` when it is sure the reply is fine (``VETOABLE``); False: the rules alone.

    ``score`` (0-100): 90 for a clean reply, up to 100 with courtesy, a concrete action or detail and
    empathy (each counted once: length and repetition earn nothing); findings take points off and any
    finding keeps the score under 60. Polite markers count only beside real content.
    """
    with_punct, bare = _require_text(text)
    turn = _customer_turn(customer) if customer is not None and (not isinstance(customer, str) or customer.strip()) \
        else None
    t = with_punct.text
    review, act = _review_cues(t)

    whole = None
    if not _TWO_CJK.search(bare.text):
        whole = "not-chinese"
    elif "(" in t and not _CJK.search(_STAGE.sub("", t)):  # （直接挂断电话）: a stage direction, nothing said
        whole = "no-content"
    elif _repetitive(bare.text):
        whole = "repetition"
    elif len(bare.text) <= _STUFFING_MAX:  # a longer text that is not repetitive has more than polite words
        # Characters that occur in no polite word are content for sure: most replies have plenty (C-speed test).
        # (rest >= 2 and rest > 0.15 * n, for rest such characters: the search stops once it has seen enough)
        if _content_chars(max(2, int(0.15 * len(bare.text)) + 1)).search(bare.text):
            content, tokens = "..", 0
        else:
            content, tokens = act["filler"].subn("", bare.text)
        # Nothing but polite words (one formula alone, 非常感谢！, is a service act), or a long string of
        # them around a word or two.
        if (len(content) < 2 and (turn is not None or tokens >= 2)
                or tokens >= 6 and len(content) <= 0.15 * len(bare.text)):
            whole = "no-content"
    if whole and whole != "repetition":  # nothing else to judge
        finding = Finding(whole, _WHOLE[whole], 0, len(text), text)
        score = 10 if whole == "no-content" else 0
        return Review(False, score, (finding,), (), _WHOLE[whole])

    findings = [Finding(whole, _WHOLE[whole], 0, len(text), text)] if whole else []
    findings += [
        Finding("forbidden", f"“{h.matched}”是服务禁语（{h.category}），可以改说：“{h.suggestion}”", h.start, h.end, h.matched)
        for h in _forbidden_hits(text, with_punct, bare)
    ]
    covered = [(f.start, f.end) for f in findings if f.code == "forbidden"]

    def add(code: str, m: re.Match) -> None:
        finding = _finding(code, with_punct, text, m.start(), m.end())
        if not any(s < finding.end and finding.start < e for s, e in covered):  # one finding per place
            findings.append(finding)
            covered.append((finding.start, finding.end))

    staff_acts = act["staff_action"].search(t) is not None
    apology = act["apology"].search(t) is not None
    for code, m in _faults().finditer(t):
        if code != "buck" or not staff_acts:  # mentioning another party while acting oneself is fine
            add(code, m)
    for code in ("interrogation", "command", "uncertain", "vague_promise"):
        for m in review[code].finditer(t):
            add(code.replace("_", "-"), m)
    ways = None
    for m in review["refusal"].finditer(t):
        ways = [w.span() for w in act["way_forward"].finditer(t)] if ways is None else ways
        # A refusal with another way (您可以…) or a reason/condition (…后就能…) is fine; a bare one is not.
        # (neither the refusal's own words, 不可以, nor the verb a V不了 refuses, 恢复不了, is a way forward)
        if not (review["alternative"].search(t, m.end()) or staff_acts
                or any(not m.start() <= start < m.end() and end != m.start() for start, end in ways)):
            add("bare-refusal", m)
    for m in review["ni"].finditer(t):
        add("ni", m)

    if turn is not None:
        if not _addresses(turn, t, bare.text, act):
            findings.append(Finding("off-topic", _WHOLE["off-topic"], 0, len(text), text))
        # A wronged customer is owed an apology or empathy (issue 8). One upset with the service but not
        # reporting a wrong may instead get the stance (表态, seed 002: 听 · 表态 · 承诺) that takes the
        # matter seriously, with an action or a question (我非常希望能为您解决问题，请您……好吗？).
        stance = not turn.wronged and act["stance"].search(t) is not None and (staff_acts or "?" in t)
        if (turn.wronged or turn.upset) and not apology and not stance and not act["restate"].search(t):
            findings.append(Finding("no-apology", _WHOLE["no-apology"], 0, len(text), text))
        has_time = act["when"].search(t) is not None
        if act["follow_up"].search(t) and not has_time:
            findings.append(Finding("no-time", _WHOLE["no-time"], 0, len(text), text))
        elif turn.asks_when and not act["when_concrete"].search(t) and not act["clarify"].search(t) \
                and not act["hold"].search(t) and not act["lookup_now"].search(t):
            findings.append(Finding("no-when", _WHOLE["no-when"], 0, len(text), text))
    if learned and turn is not None and all(f.code in VETOABLE for f in findings):
        # The rules passed a reply to this turn: the learned model may still read a fault in it. (Without the
        # turn, a reply is often one sentence of a longer answer: the model was trained on whole replies.)
        # Or their only finding judges the situation (was the customer wronged?) and the model is sure the
        # reply is fine: replies its authors accepted without an apology taught it when none is due.
        features = models.reply_features(bare.text, _turn_overlap(turn, bare.text))
        fault = models.model("reply_fault")
        probability = fault.probability(features)
        if findings:
            if probability < fault.veto:
                findings = []
        elif probability > fault.threshold:
            code = _LEARNED_CODE[models.model("reply_kind").best(features)]
            findings.append(Finding(code, _WHOLE[code], 0, len(text), text))
    findings.sort(key=lambda f: f.start)

    polite = tuple(dict.fromkeys(m.group() for m in review["polite"].finditer(t)))
    virtues = (bool(polite), staff_acts or act["detail"].search(t) is not None, apology)
    if findings:
        score = max(0, min(55, 90 - sum(_PENALTY.get(f.code, 30) for f in findings)))
        why = f"有 {len(findings)} 处需要修改：" + " ".join(f.message for f in findings)
        return Review(False, score, tuple(findings), polite, why)
    score = min(100, 90 + 4 * sum(virtues))
    why = "回复得当：回应了客户的问题，用语规范" + (f"，用了礼貌用语“{'、'.join(polite)}”。" if polite else "。")
    return Review(True, score, (), polite, why)


# ----------------------------------------------------------------------------- 3F


@cache
def _three_f_cues() -> dict[str, re.Pattern]:
    """The [three_f] cues joined by part: ``felt`` and ``felt_*`` (one rule each) make one pattern."""
    table = kb.load("cues")["three_f"]
    return {part: re.compile("|".join(f"(?:{pattern})" for key, pattern in table.items() if _part(key) == part))
            for part in ("feel", "felt", "found", "rude")}


def three_f(text: str) -> ThreeF:
    """Find Feel / Felt / Found in a reply; ``ok`` when all three appear in that order (seed 001).

    Paraphrases count (换作是我也会着急 / 不少客户一开始也有同样的顾虑 / 后来他们用下来发现…).
    A reply that insults, blames or mocks the customer, or repeats words (您您您您), is ``rude``
    and never ok, however well ordered.
    """
    with_punct, bare = _require_text(text)
    t = with_punct.text
    cues = _three_f_cues()

    def part(m: re.Match | None) -> Part | None:
        if not m:
            return None
        start, end = with_punct.span(m.start(), m.end())
        return Part(text[start:end], start, end)

    feel_m = cues["feel"].search(t)
    felt_m = cues["felt"].search(t, feel_m.end() if feel_m else 0) or cues["felt"].search(t)
    found_m = cues["found"].search(t, felt_m.end() if felt_m else 0) or cues["found"].search(t)
    feel, felt, found = part(feel_m), part(felt_m), part(found_m)
    if not (feel and felt and found):  # a part said in the trainee's own words: the learned clause model
        feel, felt, found = _learned_parts(text, with_punct, {"feel": feel, "felt": felt, "found": found}).values()
    missing = tuple(name for name, p in (("Feel", feel), ("Felt", felt), ("Found", found)) if p is None)
    in_order = not missing and feel.start < felt.start < found.start
    staff_acts = _cues()["review_act"]["staff_action"].search(t) is not None
    fault = next((m for code, m in _faults().finditer(t) if code != "buck" or not staff_acts), None) \
        or cues["rude"].search(t)
    repeats = _repetitive(bare.text) or _TANDEM.search(bare.text) or len(_CJK.findall(bare.text)) < 2
    if fault or repeats or models.model("three_f_rude").says(models.grams(bare.text)):
        start, end = with_punct.span(fault.start(), fault.end()) if fault else (0, len(text))
        why = (f"“{text[start:end]}”在指责、讽刺或冒犯客户：3F 是为了理解客户，不能借别人的经历说客户的不是。" if fault
               else "回复在重复同样的字词，不是完整的 3F：请依次说出理解、别人也有同感、他们后来的发现。" if repeats
               else "这句回复读起来在指责、讽刺或冒犯客户：3F 是为了理解客户，不能借别人的经历说客户的不是。")
        return ThreeF(feel, felt, found, in_order, False, missing, why, True)
    if missing:
        names = {"Feel": "理解客户的感受（Feel）", "Felt": "其他客户也有过同样的感受（Felt）",
                 "Found": "他们后来发现……（Found）"}
        why = "还缺少：" + "、".join(names[m] for m in missing) + "。"
    elif not in_order:
        why = "三部分都有，但顺序不对：先表示理解（Feel），再说别人也有同感（Felt），最后说他们的发现（Found）。"
    else:
        why = "先理解感受，再说别人也有同感，最后讲发现，3F 完整且顺序正确。"
    return ThreeF(feel, felt, found, in_order, in_order, missing, why)


_CLAUSE = re.compile(r"[^,.!?;:~…，。！？；：～]+")  # a clause: the text between two punctuation marks


def _clauses(view: View, original: str) -> list[tuple[int, int, str]]:
    """(start, end, text) in ``original`` of each clause of at least two characters, from its normalised view."""
    out = []
    for m in _CLAUSE.finditer(view.text):
        if len(m.group().strip()) >= 2:
            start, end = view.span(m.start(), m.end())
            out.append((start, end, original[start:end]))
    return out


def _learned_parts(text: str, with_punct: View, parts: dict[str, Part | None]) -> dict[str, Part | None]:
    """Fill in the parts the cue words missed: the clause the learned model reads most surely as that part,
    if sure enough and not holding a part already found."""
    taken = [(p.start, p.end) for p in parts.values() if p]
    free = [c for c in _clauses(with_punct, text) if not any(s < c[1] and c[0] < e for s, e in taken)]
    if not free:
        return parts
    role = models.model("three_f_part")
    scores = [role.scores(models.grams(views(c[2])[1].text)) for c in free]
    out = dict(parts)
    for name, p in parts.items():
        if p is None:
            best = max(range(len(free)), key=lambda k: scores[k][name])
            if scores[best][name] > role.threshold and max(scores[best], key=scores[best].get) == name:
                start, end, said = free[best]
                out[name] = Part(said, start, end)
    return out


# ----------------------------------------------------------------------------- complaint types

_COMPLAINT_WHY = {
    "solve": "客户讲清了事实，并提出明确要求“{cue}”，是解决问题的投诉：认真倾听、表示认同，及时处理并答复。",
    "vent": "客户情绪激动（“{cue}”），理由简单重复、没有明确要求，是纯粹为了发泄的投诉：先耐心倾听。",
    "expect": "客户语气平和，提出希望或拿好的例子比较（“{cue}”），是为了某种期待的投诉：表示认同并表达改进的意愿。",
    "account": "客户平静地讲清了遇到的问题，虽然没有明说要求，也是希望把这件事解决，是解决问题的投诉：认真倾听、表示认同，及时处理并答复。",
    "topic": "客户谈的是“{cue}”这类服务本身的做法，没有为这件事提出具体要求，是为了某种期待的投诉：表示认同并表达改进的意愿。",
}


@cache
def _complaint_cues() -> dict[str, re.Pattern]:
    cues = dict(_cues()["complaint"])
    topic = kb.load("cues")["complaint"]["topic"]
    cues["topic_noun"] = re.compile(topic)
    cues["topic"] = re.compile(f"(?:{cues['demand'].pattern})(?={topic})")
    for name in ("demand", "request"):  # a remedy word followed by a topic noun is a topic
        cues[name] = re.compile(f"(?:{cues[name].pattern})(?!{topic})")
    return cues


def complaint_type(text: str) -> Label:
    """"solve" | "vent" | "expect" for a customer's complaint (seed 004).

    solve: a clear request for a remedy (calm or angry), or facts of a case; vent: anger or the same
    words repeated, with no request; expect: positive evidence only (wishes, suggestions, comparisons
    with others), never just the absence of anger. The cue words decide; the learned model may overrule.
    """
    return _second_opinion("complaint", text, _complaint_by_cues(text))


def _complaint_by_cues(text: str) -> Label:
    """The complaint type by the cue words of ``[complaint]``."""
    with_punct, _ = _require_text(text)
    t = _Text(with_punct.text)
    cues = _complaint_cues()
    request = t.find(cues["request"])
    demand = request or t.find(cues["demand"])
    anger = t.find(cues["anger"])
    wish = t.find(cues["wish"]) or t.find(cues["compare"])
    improvement = wish and (t.find(cues["future"]) or t.find(cues["compare"]))
    if improvement and not anger:
        kind, m = "expect", wish
    elif request:
        kind, m = "solve", request
    elif anger:  # remedy words shouted, repeated or sneered at are not a request
        kind, m = "vent", anger
    elif wish:
        kind, m = "expect", wish
    elif demand:
        kind, m = "solve", demand
    elif topic := t.find(cues["topic"]):  # talks about how the service works (退货流程), asks no remedy
        noun = cues["topic_noun"].match(t.text, topic.end())
        cue = t.text[topic.start():noun.end()].strip(_EDGE_PUNCTUATION)  # quote 退货流程, not just 退货
        return Label("expect", _COMPLAINT_WHY["topic"].format(cue=cue), cue)
    else:  # a calm account of the matter: the customer wants it solved
        m = t.find(cues["facts"])
        return Label("solve", _COMPLAINT_WHY["account"], _cue(m) if m else "")
    cue = _cue(m)
    return Label(kind, _COMPLAINT_WHY[kind].format(cue=cue), cue)


# ----------------------------------------------------------------------------- time limits

_SEVERITY = {"simple": "simple", "简单": "simple", "ordinary": "ordinary", "一般": "ordinary", "普通": "ordinary",
             "complex": "complex", "复杂": "complex"}
_SEVERITY_NAME = {"simple": "简单投诉", "ordinary": "一般投诉", "complex": "复杂投诉"}


def _limits() -> dict:
    return {entry["id"]: entry for entry in kb.load("protocol")["time_limit"]}


def _as_date(day) -> date:
    if isinstance(day, datetime):
        return day.date()
    if isinstance(day, date):
        return day
    if isinstance(day, str):
        try:
            return date.fromisoformat(day.strip())
        except ValueError:
            pass
    raise TypeError(f"节假日请写成日期，例如 2026-10-01（holidays must be dates or 'YYYY-MM-DD', got {day!r}）")


def complaint_deadlines(severity: str, accepted_at: datetime, holidays=()) -> Deadlines:
    """Reply and answer deadlines for a complaint accepted at ``accepted_at`` (seed 003).

    First reply within 2 hours; simple: answer at once; ordinary: 1 working day (latest 3);
    complex: 5 working days (latest 7). Working days follow the official calendar with its
    make-up working days (``toolkit.workdays``); the given ``holidays`` are skipped as well.
    """
    from . import workdays

    if not isinstance(severity, str):
        raise TypeError(f"投诉级别请写 simple/ordinary/complex(expected str, got {type(severity).__name__})")
    key = _SEVERITY.get(views(severity)[1].text) if severity.strip() else None
    if key is None:
        raise ValueError(f"投诉级别只能是 简单/一般/复杂（simple/ordinary/complex），收到 {severity!r}")
    if not isinstance(accepted_at, datetime):
        raise TypeError(f"受理时间需要是 datetime(expected datetime, got {type(accepted_at).__name__})")
    if isinstance(holidays, (str, bytes)):
        holidays = [holidays]
    days_off = frozenset(_as_date(day) for day in holidays)
    limits = _limits()
    first = limits["complaint-first-reply"]
    rule = limits[f"complaint-{key}"]
    target = workdays.add_working_days(accepted_at, rule["target_working_days"], days_off)
    latest = workdays.add_working_days(accepted_at, rule["latest_working_days"], days_off)
    first_due = accepted_at + timedelta(hours=first["hours"])
    name = _SEVERITY_NAME[key]
    if rule["latest_working_days"] == 0:
        why = f"{name}要立即答复；受理后 {first['hours']:g} 小时内先回复客户处理情况。"
    else:
        why = (f"受理后 {first['hours']:g} 小时内回复客户；{name}在 {rule['target_working_days']} 个工作日内答复"
               f"（最迟 {rule['latest_working_days']} 个工作日，周末和节假日不算）；超过期限要主动联系客户。"
               + workdays.calendar_note(accepted_at.date(), latest.date()))
    return Deadlines(key, accepted_at, first_due, target, latest, why)


# ----------------------------------------------------------------------------- speech rate


def _rate_rules() -> dict:
    return {rule["id"]: rule for rule in kb.load("protocol")["rule"] if rule["topic"] == "speech-rate"}


def speech_rate(text: str, seconds) -> Rate:
    """Characters per minute for ``text`` spoken in ``seconds``: "slow" | "normal" | "fast".

    Seed 000: about 150 字/分钟; under 100 is slow, over 200 fast.
    """
    _, bare = _require_text(text)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"时长请填秒数（seconds must be a number, got {type(seconds).__name__}）")
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(f"时长必须大于 0 秒（seconds must be positive and finite, got {seconds!r}）")
    slow, fast = _speech_thresholds()
    chars = len(bare.text)
    per_minute = chars * 60 / seconds
    if per_minute < slow:
        label, why = "slow", f"每分钟约 {per_minute:.0f} 字，低于 {slow:g} 字，语速偏慢。"
    elif per_minute > fast:
        label, why = "fast", f"每分钟约 {per_minute:.0f} 字，超过 {fast:g} 字，语速偏快，客户可能听不清。"
    else:
        label, why = "normal", f"每分钟约 {per_minute:.0f} 字，语速适中（约 150 字/分钟为宜）。"
    return Rate(chars, float(seconds), per_minute, label, why)


@cache
def _speech_thresholds() -> tuple[float, float]:
    rules = _rate_rules()
    return float(rules["speech-rate-slow"]["value"]), float(rules["speech-rate-fast"]["value"])
