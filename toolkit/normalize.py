"""Text normalisation with an offset map back to the original text.

Every checker works on a normalised view: Traditional -> Simplified (OpenCC ``t2s``),
NFKC (full-width letters/digits/punctuation -> half-width), lower case, no whitespace.
A second view also drops punctuation, for phrase matching that must not care whether
the trainee typed ``喂,说话呀`` or ``喂!说话呀``. Each view keeps, per character, the
offset of the character it came from, so hits can be highlighted in the ORIGINAL text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import opencc

_T2S = opencc.OpenCC("t2s")
_SPACE = re.compile(r"\s+")
# Punctuation and symbols after NFKC; letters, digits and CJK stay.
_PUNCT = re.compile(r"[^\w]+")


@dataclass(frozen=True, slots=True)
class View:
    """A normalised string and, for each of its characters, the index in the original."""

    text: str
    index: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of this view back to the original text."""
        if end <= start:
            pos = self.index[start] if start < len(self.index) else (self.index[-1] + 1 if self.index else 0)
            return pos, pos
        return self.index[start], self.index[end - 1] + 1


def _per_char(text: str, fold) -> tuple[str, list[int]]:
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        piece = fold(ch)
        out.append(piece)
        index.extend([i] * len(piece))
    return "".join(out), index


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _simplify(text: str) -> str:
    return _T2S.convert(text)


def _drop(text: str, index: list[int] | tuple[int, ...], pattern: re.Pattern) -> tuple[str, tuple[int, ...]]:
    if not pattern.search(text):
        return text, tuple(index)
    keep = [i for i, ch in enumerate(text) if not pattern.fullmatch(ch)]
    return "".join(text[i] for i in keep), tuple(index[i] for i in keep)


@lru_cache(maxsize=4096)
def views(text: str) -> tuple[View, View]:
    """Return (with_punctuation, without_punctuation) normalised views of ``text``."""
    simple = _simplify(text)
    if len(simple) != len(text):  # OpenCC changed the length: convert char by char to keep offsets
        simple, index = _per_char(text, _simplify)
    else:
        index = range(len(text))
    folded = _fold(simple)
    if len(folded) != len(simple):
        folded, sub = _per_char(simple, _fold)
        index = [index[i] for i in sub]
    spaced, index = _drop(folded, list(index) if not isinstance(index, list) else index, _SPACE)
    with_punct = View(spaced, index)
    bare, bare_index = _drop(spaced, index, _PUNCT)
    return with_punct, View(bare, bare_index)


def normalize(text: str) -> str:
    """The normalised form of ``text`` (Simplified, NFKC, lower case, no whitespace)."""
    return views(text)[0].text


def phrase_key(text: str) -> str:
    """The form a phrase from the knowledge base takes for matching (no punctuation either)."""
    return views(text)[1].text
