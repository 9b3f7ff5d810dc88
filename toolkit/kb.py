"""The knowledge base: versioned TOML files in ``toolkit/data``, validated when loaded.

Each file is one topic (phrase banks, question examples, time limits, ...). ``load(name)``
returns the parsed file after checking it against ``SCHEMA``; a malformed entry raises
``KnowledgeBaseError`` naming the file, the table, the entry and the field.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from types import MappingProxyType

SEEDS = ("000", "001", "002", "003", "004")
ORIGINS = ("seed", "authored")
FORBIDDEN_CATEGORIES = ("直呼", "责问与反问", "傲慢厌烦", "推诿", "不确定用语", "命令语")
SITUATIONS = (
    "greeting", "greeting-holiday", "ask-name", "hold", "hold-return", "cannot-hear", "noisy-line",
    "dialect", "silent-call", "apology", "thanks", "complaint-accept", "refusal", "transfer",
    "closing", "enquiry", "confirm",
)
SCENARIOS = SITUATIONS + ("opening", "complaint", "after-sale", "pre-sale", "refund", "delivery", "busy-line")
SKILLS = (
    "listening", "questions", "fab", "spin", "three_f", "complaint_types", "phrases", "telephone",
    "complaint_handling", "service_cycle", "online_chat",
)

# field -> type, or a tuple of allowed values; a trailing "?" on the name marks it optional.
_ENTRY = {"id": str, "seed": SEEDS}
_EXAMPLE = {**_ENTRY, "text": str, "origin": ORIGINS}
SCHEMA: dict[str, dict[str, dict]] = {
    "standard_phrases": {"phrase": {**_ENTRY, "situation": SITUATIONS, "text": str}},
    "forbidden_phrases": {
        "forbidden": {
            **_ENTRY, "phrase": str, "category": FORBIDDEN_CATEGORIES, "variants": list,
            "patterns": list, "suggestion": str,
        }
    },
    "pairs": {
        "pair": {
            **_ENTRY, "scenario": SCENARIOS, "customer": str, "good": str, "bad": str, "why": str,
            "bad_why": str,  # what is wrong with the × reply itself (``why`` explains the √)
            "near?": list,  # near-miss replies a real agent might say: {text, why, breaks} each
        },
        # the rules a near-miss breaks; ``finding`` is review_reply's code when the checker judges it
        "rule": {"id": str, "name": str, "finding?": str},
    },
    "questions": {
        "question": {**_EXAMPLE, "type": ("open", "closed")},
        "rule": {**_ENTRY, "text": str},
    },
    "spin": {
        "question": {**_EXAMPLE, "type": ("situation", "problem", "implication", "need-payoff")},
        "type": {"key": ("situation", "problem", "implication", "need-payoff"), "name": str,
                 "definition": str, "seed": SEEDS},
        "stage": {"order": int, "name": str, "need": ("implicit", "explicit"), "seed": SEEDS},
        "practice": {**_ENTRY, "customer": str, "type": ("situation", "problem", "implication", "need-payoff"),
                     "reference": str, "origin": ORIGINS},
    },
    "fab": {
        "pitch": {**_ENTRY, "product": str, "feature": str, "advantage": str, "benefit": str,
                  "origin": ORIGINS},
        "link": {**_ENTRY, "text": str, "role": ("advantage", "benefit")},
    },
    "three_f": {
        "reply": {**_ENTRY, "customer": str, "feel": str, "felt": str, "found": str, "origin": ORIGINS},
        "skill": {**_ENTRY, "avoid": str, "prefer": str, "why": str},
        "restate": {**_ENTRY, "kind": ("fact", "feeling"), "customer": str, "restated": str},
    },
    "complaints": {
        "type": {"key": ("solve", "vent", "expect"), "name": str, "traits": list, "treatment": list,
                 "seed": SEEDS},
        "case": {**_EXAMPLE, "type": ("solve", "vent", "expect")},
        "method": {**_ENTRY, "name": str, "when": str, "steps": list, "example": str},
    },
    "listening": {
        "level": {"rank": int, "name": str, "description": str, "behaviours": list, "seed": SEEDS},
        "method": {**_ENTRY, "name": str, "description": str, "example": str},
        "tip": {**_ENTRY, "text": str},
        "rule": {**_ENTRY, "text": str},
    },
    "service": {
        "step": {"order": int, "name": str, "goal": str, "actions": list, "seed": SEEDS},
        "standard": {**_ENTRY, "name": str, "question": str},
        "basic": {**_ENTRY, "name": str, "description": str},
        "principle": {**_ENTRY, "name": str, "description": str},
        "role": {**_ENTRY, "name": str, "description": str},
    },
    "protocol": {
        "rule": {**_ENTRY, "topic": str, "text": str, "value?": (int, float), "unit?": str},
        "time_limit": {**_ENTRY, "name": str, "text": str, "minutes?": (int, float), "hours?": (int, float),
                       "target_working_days?": int, "latest_working_days?": int},
    },
    "calendar": {"year": {"year": int, "note": str, "holidays": list, "workdays": list}},
    "voice": {"target": {**_ENTRY, "text": str, "value": (int, float), "unit": str}},
    "chat": {
        "tone": {**_ENTRY, "words": list, "max?": int},
        "chat": {**_ENTRY, "title": str, "stage": ("pre-sale", "in-sale", "after-sale"), "auto_reply": str,
                 "messages": list},
    },
    "capstone": {
        "call": {"id": str, "title": str, "domain": ("telecom", "e-commerce", "bank", "logistics"), "start": str,
                 "mode": ("choice", "free")},
        "node": {"id": str, "call": str, "customer": str, "mood": int, "choice": list, "needs?": list,
                 "upset?": str},
    },
    "cues": {},  # checker cue lists: free-form tables of string lists, checked in checks.py
}


class KnowledgeBaseError(ValueError):
    """A data file does not match the schema; the message names file, entry and field."""


def _check_value(value, rule) -> str | None:
    if isinstance(rule, tuple) and all(isinstance(r, type) for r in rule):
        ok = isinstance(value, rule) and not isinstance(value, bool)
        return None if ok else f"must be {' or '.join(r.__name__ for r in rule)}, got {value!r}"
    if isinstance(rule, tuple):
        return None if value in rule else f"must be one of {', '.join(rule)}, got {value!r}"
    if rule is list:
        ok = isinstance(value, list)
        return None if ok else f"must be a list, got {value!r}"
    if not isinstance(value, rule) or isinstance(value, bool):
        return f"must be {rule.__name__}, got {value!r}"
    if rule is str and not value.strip():
        return "must not be blank"
    return None


def validate(name: str, data: dict) -> None:
    """Raise KnowledgeBaseError if ``data`` (the parsed file ``name``.toml) breaks the schema."""
    where = f"toolkit/data/{name}.toml"
    if data.get("version") != 1:
        raise KnowledgeBaseError(f"{where}: missing or unsupported 'version' (expected 1)")
    for table, fields in SCHEMA[name].items():
        entries = data.get(table)
        if not isinstance(entries, list) or not entries:
            raise KnowledgeBaseError(f"{where}: no [[{table}]] entries")
        seen: set = set()
        for number, entry in enumerate(entries, 1):
            label = f"{where}: [[{table}]] entry #{number}" + (f" (id={entry.get('id')!r})" if "id" in entry else "")
            for field, rule in fields.items():
                optional = field.endswith("?")
                field = field.rstrip("?")
                if field not in entry:
                    if optional:
                        continue
                    raise KnowledgeBaseError(f"{label}: missing field '{field}'")
                problem = _check_value(entry[field], rule)
                if problem:
                    raise KnowledgeBaseError(f"{label}: field '{field}' {problem}")
            key = entry.get("id", entry.get("key", entry.get("order", entry.get("rank"))))
            if key is not None:
                if key in seen:
                    raise KnowledgeBaseError(f"{label}: duplicate id {key!r}")
                seen.add(key)


def _freeze(value):
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


@cache
def load(name: str):
    """Load, validate and return the read-only content of ``toolkit/data/<name>.toml``."""
    if name not in SCHEMA:
        raise KeyError(f"unknown knowledge-base file {name!r}; known: {', '.join(sorted(SCHEMA))}")
    raw = resources.files("toolkit").joinpath("data", f"{name}.toml").read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise KnowledgeBaseError(f"toolkit/data/{name}.toml: not valid TOML: {exc}") from exc
    validate(name, data)
    return _freeze(data)


def load_all() -> dict:
    """Load and validate every knowledge-base file (used by tests and `kefu check-data`)."""
    return {name: load(name) for name in SCHEMA}
