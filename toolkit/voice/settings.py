"""The voice drill's targets, analysis settings and texts, from ``toolkit/data/voice.toml``."""

from __future__ import annotations

from functools import cache

from .. import kb


@cache
def targets() -> dict[str, float]:
    """Target id -> value (rate-normal, rate-slow, rate-fast, pitch-monotone, ...)."""
    return {t["id"]: float(t["value"]) for t in kb.load("voice")["target"]}


def analysis():
    return kb.load("voice")["analysis"]


def text(key: str, **values) -> str:
    return kb.load("voice")["text"][key].format(**values)
