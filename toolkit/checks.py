"""Rule-based checkers for customer-service language: the contract every notebook, drill and
nbgrader test calls.

Inputs may be Simplified or Traditional Chinese, full- or half-width, with stray whitespace:
each function normalises first (``toolkit.normalize``). A non-string raises ``TypeError``;
an empty or blank string raises ``ValueError``; both messages are Chinese with English in brackets.

Every classifier says WHY: labels are returned as :class:`Label`, a ``str`` subclass
(``classify_question(q) == "open"``) carrying ``.why`` (Chinese reason for the trainee) and
``.cue`` (the matched words). Result objects (Review, ThreeF, FabOrder, Deadlines, Rate) carry
``.why`` too. Cue words live in ``toolkit/data/cues.toml``; phrase banks in the other data files.

Import cost is kept small (no pandas/Jupyter); data and matchers are built on first use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

import ahocorasick

from . import kb
from .literals import required_literals
from .normalize import View, phrase_key, views

__all__ = [
    "Label", "Hit", "Finding", "Review", "Part", "ThreeF", "FabOrder", "Deadlines", "Rate",
    "classify_question", "spin_type", "fab_label", "fab_order", "fab_in_order", "find_forbidden",
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


def _require_text(text) -> tuple[View, View]:
    if not isinstance(text, str):
        raise TypeError(f"请输入一句中文文字（expected str, got {type(text).__name__}）")
    if not text.strip():
        raise ValueError("内容不能为空，请输入一句话（text must not be empty or blank）")
    return views(text)


@cache
def _cues() -> dict[str, dict[str, re.Pattern]]:
    """The named cue patterns of ``cues.toml`` (sections without ordered rules)."""
    return {
        section: {name: re.compile(pattern) for name, pattern in table.items() if isinstance(pattern, str)}
        for section, table in kb.load("cues").items()
        if isinstance(table, Mapping)
    }


@cache
def _rules(section: str) -> tuple[tuple[tuple[re.Pattern, str, str], ...], Mapping]:
    """Ordered (pattern, label, why) rules and the default of a classifier section."""
    table = kb.load("cues")[section]
    return tuple((re.compile(r["pattern"]), r["label"], r["why"]) for r in table["rule"]), table["default"]


# ----------------------------------------------------------------------------- questions


_EDGE_PUNCTUATION = " \t\n,.!?;:，。！？；：、…"


def _cue(m: re.Match) -> str:
    """The matched words to quote in feedback: a cue such as "吗?" reads better as "吗"."""
    return m.group().strip(_EDGE_PUNCTUATION) or m.group()


def _classify(section: str, text: str) -> Label:
    """Run the ordered rules of ``cues.toml``'s ``section``: the first that matches decides."""
    text_view, _ = _require_text(text)
    rules, default = _rules(section)
    for pattern, label, why in rules:
        if m := pattern.search(text_view.text):
            cue = _cue(m)
            return Label(label, why.format(cue=cue), cue)
    return Label(default["label"], default["why"])


def classify_question(text: str) -> Label:
    """"open" (invites a free answer) or "closed" (yes/no, a choice, or a single fact).

    Seed 001: open questions usually use 什么/怎样/为什么 and get the customer talking; a request
    to describe is open even when it ends in 吗. Closed questions use 谁/何时/是不是/哪个/有没有…
    and ask for one fact, a choice or a yes/no.
    """
    return _classify("question", text)


def spin_type(text: str) -> Label:
    """"situation" | "problem" | "implication" | "need-payoff" for a sales question (seed 001)."""
    return _classify("spin", text)


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
    patterns: tuple[tuple[re.Pattern, _Entry], ...]  # paraphrase regexes, on the punctuation view
    triggers: ahocorasick.Automaton  # required literal of a regex -> its indices in `patterns`
    always: tuple[int, ...]  # regexes with no required literal: run on every text


@cache
def _forbidden_matchers() -> _Matchers:
    literals = ahocorasick.Automaton()
    patterns: list[tuple[re.Pattern, _Entry]] = []
    for raw in kb.load("forbidden_phrases")["forbidden"]:
        entry = _Entry(raw["id"], raw["phrase"], raw["category"], raw["suggestion"])
        for wording in (raw["phrase"], *raw["variants"]):
            key = phrase_key(wording)
            if key and key not in literals:
                literals.add_word(key, (len(key), entry))
        patterns.extend((re.compile(p), entry) for p in raw["patterns"])
    literals.make_automaton()
    # One automaton pass tells which regexes can match at all (see toolkit.literals).
    by_literal: dict[str, list[int]] = {}
    always = []
    for index, (pattern, _) in enumerate(patterns):
        required = required_literals(pattern.pattern)
        if required is None:
            always.append(index)
        for literal in required or ():
            by_literal.setdefault(literal, []).append(index)
    triggers = ahocorasick.Automaton()
    for literal, indices in by_literal.items():
        triggers.add_word(literal, tuple(indices))
    if by_literal:
        triggers.make_automaton()
    return _Matchers(literals, tuple(patterns), triggers, tuple(always))


def _hit(view: View, original: str, start: int, end: int, entry: _Entry) -> Hit:
    o_start, o_end = view.span(start, end)
    return Hit(entry.phrase, entry.category, o_start, o_end, entry.suggestion, original[o_start:o_end], entry.id)


def _forbidden_hits(original: str, with_punct: View, bare: View) -> list[Hit]:
    m = _forbidden_matchers()
    found: list[Hit] = []
    for end, (length, entry) in m.literals.iter(bare.text):
        found.append(_hit(bare, original, end - length + 1, end + 1, entry))
    candidates = set(m.always)
    if len(m.triggers):
        for _, indices in m.triggers.iter(with_punct.text):
            candidates.update(indices)
    for index in sorted(candidates):
        pattern, entry = m.patterns[index]
        for match in pattern.finditer(with_punct.text):
            if match.end() > match.start():
                found.append(_hit(with_punct, original, match.start(), match.end(), entry))
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

_PENALTY = {"vague-promise": 10, "forbidden": 30, "ni": 10, "command": 25, "bare-refusal": 25, "uncertain": 20, "interrogation": 30}
_MESSAGES = {
    "ni": "“{m}”：对客户要称“您”，不要用“你”。",
    "command": "“{m}”是命令的口气，改成征询：“请您……”或“您能……吗？”",
    "uncertain": "“{m}”听起来不确定，请查清楚后给出肯定的答复。",
    "interrogation": "“{m}”带有责问、反问的口气，请心平气和地询问或再解释一遍。",
    "bare-refusal": "“{m}”是生硬的拒绝：说明原因，并告诉客户“您可以……”的其他办法。",
    "vague-promise": "“{m}”听起来没把握，改说“我会……”，明确告诉客户您会做什么。",
}


def _finding(code: str, view: View, original: str, start: int, end: int, message: str | None = None) -> Finding:
    o_start, o_end = view.span(start, end)
    matched = original[o_start:o_end]
    return Finding(code, message or _MESSAGES[code].format(m=matched), o_start, o_end, matched)


def review_reply(text: str, customer: str | None = None) -> Review:
    """Judge a staff reply against the service-language standards (seeds 000, 001, 002).

    Findings: forbidden phrases, 你 where 您 is due, commands, bare refusals (also a bare 不),
    uncertain wording, vague promises (我尽可能 instead of 我会), interrogating tone.
    Polite markers (您好/请/谢谢/对不起/抱歉…) raise the score.

    ``customer``: the customer's turn the reply answers (optional); with it the reply must also
    address the customer's matter.
    """
    with_punct, bare = _require_text(text)
    t = with_punct.text
    cues = _cues()["review"]
    findings = [
        Finding("forbidden", f"“{h.matched}”是服务禁语（{h.category}），可以改说：“{h.suggestion}”", h.start, h.end, h.matched)
        for h in _forbidden_hits(text, with_punct, bare)
    ]
    covered = [(f.start, f.end) for f in findings]

    def add(code: str, m: re.Match) -> None:
        finding = _finding(code, with_punct, text, m.start(), m.end())
        if not any(s <= finding.start and finding.end <= e for s, e in covered):
            findings.append(finding)
            covered.append((finding.start, finding.end))

    for code in ("interrogation", "command", "uncertain", "vague_promise"):
        for m in cues[code].finditer(t):
            add(code.replace("_", "-"), m)
    for m in cues["refusal"].finditer(t):
        if not cues["alternative"].search(t, m.end()):  # a refusal that offers another way is fine
            add("bare-refusal", m)
    for m in cues["ni"].finditer(t):
        add("ni", m)
    findings.sort(key=lambda f: f.start)

    polite = tuple(dict.fromkeys(m.group() for m in cues["polite"].finditer(t)))
    penalty = sum(_PENALTY[f.code] for f in findings)
    score = max(0, min(100, 70 + 10 * min(len(polite), 3) - penalty))
    ok = not findings and score >= 60
    if ok:
        why = "用语规范" + (f"，用了礼貌用语“{'、'.join(polite)}”。" if polite else "；再加上“您好、请、谢谢”等礼貌用语会更好。")
    else:
        why = f"有 {len(findings)} 处需要修改：" + " ".join(f.message for f in findings) if findings else \
            "缺少礼貌用语，请加上“您好、请、谢谢、对不起”。"
    return Review(ok, score, tuple(findings), polite, why)


# ----------------------------------------------------------------------------- 3F


def three_f(text: str) -> ThreeF:
    """Find Feel / Felt / Found in a reply; ``ok`` when all three appear in that order (seed 001)."""
    with_punct, _ = _require_text(text)
    t = with_punct.text
    cues = _cues()["three_f"]

    def part(m: re.Match | None) -> Part | None:
        if not m:
            return None
        start, end = with_punct.span(m.start(), m.end())
        return Part(text[start:end], start, end)

    feel_m = cues["feel"].search(t)
    felt_m = cues["felt"].search(t, feel_m.end() if feel_m else 0) or cues["felt"].search(t)
    found_m = cues["found"].search(t, felt_m.end() if felt_m else 0) or cues["found"].search(t)
    feel, felt, found = part(feel_m), part(felt_m), part(found_m)
    missing = tuple(name for name, p in (("Feel", feel), ("Felt", felt), ("Found", found)) if p is None)
    in_order = not missing and feel.start < felt.start < found.start
    if missing:
        names = {"Feel": "理解客户的感受（Feel）", "Felt": "其他客户也有过同样的感受（Felt）",
                 "Found": "他们后来发现……（Found）"}
        why = "还缺少：" + "、".join(names[m] for m in missing) + "。"
    elif not in_order:
        why = "三部分都有，但顺序不对：先表示理解（Feel），再说别人也有同感（Felt），最后说他们的发现（Found）。"
    else:
        why = "先理解感受，再说别人也有同感，最后讲发现，3F 完整且顺序正确。"
    return ThreeF(feel, felt, found, in_order, in_order, missing, why)


# ----------------------------------------------------------------------------- complaint types

_COMPLAINT_WHY = {
    "solve": "客户讲清了事实，并提出明确要求“{cue}”，是解决问题的投诉：认真倾听、表示认同，及时处理并答复。",
    "vent": "客户情绪激动（“{cue}”），理由简单重复、没有明确要求，是纯粹为了发泄的投诉：先耐心倾听。",
    "expect": "客户语气平和，提出希望或拿好的例子比较（“{cue}”），是为了某种期待的投诉：表示认同并表达改进的意愿。",
}


def complaint_type(text: str) -> Label:
    """"solve" | "vent" | "expect" for a customer's complaint (seed 004's cues)."""
    with_punct, _ = _require_text(text)
    t = with_punct.text
    cues = _cues()["complaint"]
    demand = cues["demand"].search(t)
    anger = cues["anger"].search(t)
    wish = cues["wish"].search(t) or cues["compare"].search(t)
    improvement = wish and (cues["future"].search(t) or cues["compare"].search(t))
    facts = cues["facts"].search(t)
    if demand and not improvement:
        kind, m = "solve", demand
    elif wish and not anger:
        kind, m = "expect", wish
    elif demand:
        kind, m = "solve", demand
    elif anger:
        kind, m = "vent", anger
    elif wish:
        kind, m = "expect", wish
    elif facts:
        kind, m = "solve", facts
    else:  # calm, no demand: venting needs anger (seed 004), so it is an expectation
        kind, m = "expect", None
    cue = _cue(m) if m else ""
    return Label(kind, _COMPLAINT_WHY[kind].format(cue=cue or "语气平和"), cue)


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
