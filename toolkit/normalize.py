"""Text normalisation with an offset map back to the original text.

Every checker works on a normalised view: Traditional -> Simplified (OpenCC ``t2s``),
NFKC (full-width letters/digits/punctuation -> half-width), lower case, no whitespace.
A second view also drops punctuation, for phrase matching that must not care whether
the trainee typed ``喂,说话呀`` or ``喂!说话呀``. Each view remembers where its characters
came from, so hits can be highlighted in the ORIGINAL text.

The offset map is stored as runs (segments) rather than one entry per character: a view
position maps back through the run it falls in. Building it costs one step per run of kept
characters, which keeps the checkers fast on ordinary replies.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

import opencc

_T2S = opencc.OpenCC("t2s")
_NOT_SPACE = re.compile(r"\S+")
_SPACE = re.compile(r"\s")
_WORD = re.compile(r"\w+")  # letters, digits and CJK; punctuation, symbols and emoji are dropped


@dataclass(frozen=True, slots=True)
class View:
    """A normalised string; run ``k`` starts at ``starts[k]`` here and at ``origins[k]`` in the original."""

    text: str
    starts: tuple[int, ...]
    origins: tuple[int, ...]
    original_length: int

    def origin(self, position: int) -> int:
        """Index in the original text of the character at ``position`` in this view."""
        k = bisect_right(self.starts, position) - 1
        return self.origins[k] + position - self.starts[k]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of this view back to the original text."""
        if not self.text:
            return 0, 0
        if end <= start:
            at = self.origin(min(start, len(self.text) - 1))
            return at, at
        return self.origin(start), self.origin(end - 1) + 1


def _identity(text: str, original_length: int) -> View:
    return View(text, (0,), (0,), original_length)


def _per_char(source: View, fold) -> View:
    """Apply a length-changing ``fold`` character by character (rare: keeps offsets exact)."""
    pieces, starts, origins, n = [], [], [], 0
    for i, ch in enumerate(source.text):
        piece = fold(ch)
        if piece:
            pieces.append(piece)
            for j in range(len(piece)):  # every output char of this piece maps to source char i
                starts.append(n + j)
                origins.append(source.origin(i))
            n += len(piece)
    return View("".join(pieces), tuple(starts) or (0,), tuple(origins) or (0,), source.original_length)


def _keep(source: View, pattern: re.Pattern) -> View:
    """Keep only the runs of ``source`` matching ``pattern``, composing the offset map."""
    runs = [m.span() for m in pattern.finditer(source.text)]
    if len(runs) == 1 and runs[0] == (0, len(source.text)):
        return source
    text = "".join(source.text[s:e] for s, e in runs)
    if source.starts == (0,):  # one run (the common case): new runs start where they matched
        base = source.origins[0]
        origins = tuple(base + s for s, _ in runs)
        starts = tuple(accumulate((e - s for s, e in runs[:-1]), initial=0))
        return View(text, starts or (0,), origins or (0,), source.original_length)
    old_starts, old_origins, old_len = source.starts, source.origins, len(source.text)
    starts, origins, n = [], [], 0
    for s, e in runs:
        k = bisect_right(old_starts, s) - 1
        pos = s
        while pos < e:
            seg_end = old_starts[k + 1] if k + 1 < len(old_starts) else old_len
            take = min(e, seg_end) - pos
            starts.append(n)
            origins.append(old_origins[k] + pos - old_starts[k])
            n, pos, k = n + take, pos + take, k + 1
    return View(text, tuple(starts) or (0,), tuple(origins) or (0,), source.original_length)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


@lru_cache(maxsize=4096)
def views(text: str) -> tuple[View, View]:
    """Return (with_punctuation, without_punctuation) normalised views of ``text``."""
    view = _identity(text, len(text))
    simple = _T2S.convert(text)
    view = _identity(simple, len(text)) if len(simple) == len(text) else _per_char(view, _T2S.convert)
    folded = _fold(view.text)
    if len(folded) == len(view.text):
        view = View(folded, view.starts, view.origins, view.original_length)
    else:
        view = _per_char(view, _fold)
    with_punct = _keep(view, _NOT_SPACE) if _SPACE.search(view.text) else view
    return with_punct, _keep(with_punct, _WORD)


def normalize(text: str) -> str:
    """The normalised form of ``text`` (Simplified, NFKC, lower case, no whitespace)."""
    return views(text)[0].text


def phrase_key(text: str) -> str:
    """The form a phrase from the knowledge base takes for matching (no punctuation either)."""
    return views(text)[1].text
