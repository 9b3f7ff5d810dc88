"""The tone rules of online chat support (toolkit/data/chat.toml), import-light for grading.

``chat_tone(text)`` returns Chinese notes on a chat reply's tone (an empty list when it is right):
over-familiar or flippant words (亲爱的, 宝贝, 呵呵 …) and more tone particles (哦/呢 …) than the
data allows. 亲 and one or two 哦/呢 make a chat warm; more reads as filler.
"""

from __future__ import annotations

import re
from functools import cache

from . import kb
from .normalize import normalize

_FAMILIAR = "“{words}”太随意了：对买家可以称“亲”，但不要用过分亲昵或嬉笑的词。"
_PARTICLES = "“哦”“呢”这类语气词用了 {n} 个：一句回复里一两个就够了（最多 {max} 个），太多显得啰嗦、不专业。"


@cache
def _tone() -> dict:
    return {entry["id"]: entry for entry in kb.load("chat")["tone"]}


def response_limit() -> int:
    """Seconds within which a buyer's message should be answered."""
    return int(_tone()["response"]["max"])


def chat_tone(text: str) -> list[str]:
    """Chinese notes on a chat reply's tone; an empty list when the tone is right."""
    if not isinstance(text, str):
        raise TypeError(f"请输入一句中文文字（expected str, got {type(text).__name__}）")
    norm = normalize(text)
    notes = []
    familiar = [word for word in _tone()["over-familiar"]["words"] if word in norm]
    if familiar:
        notes.append(_FAMILIAR.format(words="、".join(familiar)))
    particles = _tone()["particles"]
    count = len(re.findall("|".join(map(re.escape, particles["words"])), norm))
    if count > particles["max"]:
        notes.append(_PARTICLES.format(n=count, max=particles["max"]))
    return notes
