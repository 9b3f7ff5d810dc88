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
from functools import lru_cache
from itertools import accumulate

import opencc

_T2S = opencc.OpenCC("t2s")
_SPACES = re.compile(r"(\s+)")
_NON_WORDS = re.compile(r"(\W+)")  # keeps letters, digits and CJK; drops punctuation, symbols, emoji


class View:
    """A normalised string; run ``k`` starts at ``starts[k]`` here and at ``origins[k]`` in the original.

    A view made by dropping characters from a one-run view keeps the split pieces and builds its
    runs only when an offset is asked for: most replies need no offset on their punctuation-free view."""

    __slots__ = ("text", "_starts", "_origins", "original_length", "_pieces")

    def __init__(self, text: str, starts: tuple[int, ...] | None, origins: tuple[int, ...] | None,
                 original_length: int, pieces: tuple[list[str], int] | None = None):
        self.text, self._starts, self._origins, self.original_length = text, starts, origins, original_length
        self._pieces = pieces  # (kept, gap, kept, ..., kept pieces; origin of the first) when built lazily

    def _runs(self) -> None:
        pieces, first = self._pieces
        kept = pieces[0::2]
        self._origins = tuple(list(accumulate(map(len, pieces), initial=first))[0::2][:len(kept)])
        self._starts = tuple(accumulate(map(len, kept[:-1]), initial=0))
        self._pieces = None

    @property
    def starts(self) -> tuple[int, ...]:
        if self._starts is None:
            self._runs()
        return self._starts

    @property
    def origins(self) -> tuple[int, ...]:
        if self._origins is None:
            self._runs()
        return self._origins

    def __eq__(self, other) -> bool:
        return isinstance(other, View) and (self.text, self.starts, self.origins, self.original_length) == (
            other.text, other.starts, other.origins, other.original_length)

    __hash__ = None

    def __repr__(self) -> str:
        return f"View(text={self.text!r}, starts={self.starts!r}, origins={self.origins!r}, " \
               f"original_length={self.original_length!r})"

    def origin(self, position: int) -> int:
        """Index in the original text of the character at ``position`` in this view."""
        starts = self.starts
        k = bisect_right(starts, position) - 1
        return self._origins[k] + position - starts[k]

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


def _drop(source: View, gaps: re.Pattern) -> View:
    """Remove the runs of ``source`` matching ``gaps`` (a ``(...)+`` group), composing the offset map."""
    pieces = gaps.split(source.text)  # kept, gap, kept, gap, ..., kept
    if len(pieces) == 1:
        return source
    kept = pieces[0::2]
    text = "".join(kept)
    if source.starts == (0,):  # one run (the common case): the runs are built when first needed
        return View(text, None, None, source.original_length, (pieces, source.origins[0]))
    old_starts, old_origins, old_len = source.starts, source.origins, len(source.text)
    starts, origins, n, s = [], [], 0, 0
    for index, piece in enumerate(pieces):
        e = s + len(piece)
        if index % 2 == 0:  # a kept run [s, e) of the source, possibly across its runs
            k = bisect_right(old_starts, s) - 1
            pos = s
            while pos < e:
                seg_end = old_starts[k + 1] if k + 1 < len(old_starts) else old_len
                take = min(e, seg_end) - pos
                starts.append(n)
                origins.append(old_origins[k] + pos - old_starts[k])
                n, pos, k = n + take, pos + take, k + 1
        s = e
    return View(text, tuple(starts) or (0,), tuple(origins) or (0,), source.original_length)


# Runs that NFKC may change: anything but ASCII and CJK ideographs, plus the character before
# (a combining mark composes with its base). Checking only these runs is much faster than
# NFKC over a whole Chinese sentence.
_MAY_CHANGE = re.compile(r"([\x00-\x7f]?[^\x00-\x7f\u4e00-\u9fff]+)")


# NFKC of the full-width marks every Chinese sentence has: one character each, done with
# fast str.replace before the (much slower) general NFKC.
_COMMON_FULL_WIDTH = tuple((mark, unicodedata.normalize("NFKC", mark)) for mark in "，？！：；（）\u3000")


def _nfkc_char_by_char(run: str) -> str | None:
    """NFKC of ``run`` if it maps character for character (same length, no composition), else None."""
    whole = unicodedata.normalize("NFKC", run)
    if len(whole) == len(run) and whole == "".join(unicodedata.normalize("NFKC", c) for c in run):
        return whole
    return None


def _fold(text: str) -> str:
    """NFKC + lower case (for one character, or a piece of text with no offsets to keep)."""
    return unicodedata.normalize("NFKC", text).lower()


def _fold_view(source: View) -> View:
    """NFKC + lower case of a view, keeping offsets exact.

    Most text folds character for character and keeps its runs. Runs where a character becomes
    several (… -> ...) or characters compose (an accent on its letter) are mapped character by
    character, on their own, so a reply with “……” still maps back in a few runs. Equal total
    length is not enough to skip this: a composed accent and an ellipsis could cancel out."""
    text = source.text
    if not unicodedata.is_normalized("NFKC", text):
        for mark, plain in _COMMON_FULL_WIDTH:  # one character each: offsets unchanged
            text = text.replace(mark, plain)
    # plain, run, plain, run, ..., plain: only the runs can change under NFKC
    pieces = [text] if unicodedata.is_normalized("NFKC", text) else _MAY_CHANGE.split(text)
    odd = set()
    for index in range(1, len(pieces), 2):
        folded = _nfkc_char_by_char(pieces[index])
        if folded is None:
            odd.add(index)
        else:
            pieces[index] = folded
    lowered = [piece.lower() for piece in pieces]
    if any(len(a) != len(b) for a, b in zip(lowered, pieces)) or (odd and source.starts != (0,)):
        return _per_char(source, _fold)  # rare (İ, or text already mapped character by character)
    if not odd:
        return View("".join(lowered), source.starts, source.origins, source.original_length)
    parts, starts, origins, n, at, open_run = [], [], [], 0, source.origins[0], False
    for index, piece in enumerate(pieces):
        if index in odd:  # each output character is a run back to its source character
            for offset, char in enumerate(piece):
                out = _fold(char)
                parts.append(out)
                starts.extend(range(n, n + len(out)))
                origins.extend([at + offset] * len(out))
                n += len(out)
            open_run = False
        elif piece:
            if not open_run:  # consecutive one-to-one pieces share one run
                starts.append(n)
                origins.append(at)
                open_run = True
            parts.append(lowered[index])
            n += len(piece)
        at += len(piece)
    return View("".join(parts), tuple(starts), tuple(origins), source.original_length)


@lru_cache(maxsize=4096)
def views(text: str) -> tuple[View, View]:
    """Return (with_punctuation, without_punctuation) normalised views of ``text``.

    Raises ``ValueError`` for a lone surrogate (OpenCC would raise a raw UnicodeEncodeError)."""
    view = _identity(text, len(text))
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("内容里有无法识别的字符，请重新输入（text contains a lone surrogate）") from None
    simple = _T2S.convert(text)
    view = _identity(simple, len(text)) if len(simple) == len(text) else _per_char(view, _T2S.convert)
    view = _fold_view(view)
    with_punct = _drop(view, _SPACES)
    return with_punct, _drop(with_punct, _NON_WORDS)


def normalize(text: str) -> str:
    """The normalised form of ``text`` (Simplified, NFKC, lower case, no whitespace)."""
    return views(text)[0].text


def phrase_key(text: str) -> str:
    """The form a phrase from the knowledge base takes for matching (no punctuation either)."""
    return views(text)[1].text
