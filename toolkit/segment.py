"""Word segmentation for the classifiers, so a cue is matched as a word and not inside another word
(主要是 holds the letters of 要是, but its words are 主要 + 是).

jieba is imported and its dictionary built on the FIRST call (about 0.5 s to import and 1-2 s to
build the prefix dictionary the first time on a machine, then ~0.5 s from its cache), so that
``import toolkit.checks`` stays fast. Texts are the normalised view of ``toolkit.normalize``
(Simplified, half-width punctuation, no whitespace); offsets index that text.
"""

from __future__ import annotations

import logging
import re
from functools import cache, lru_cache

__all__ = ["words", "spans", "crosses", "opaque_spans"]


@cache
def _tokenizer():
    import jieba  # lazy: ~0.5 s import

    jieba.setLogLevel(logging.WARNING)  # keep "Building prefix dict…" out of trainees' notebooks
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


@lru_cache(maxsize=8192)
def spans(text: str, fixed: tuple[tuple[int, int], ...] = ()) -> tuple[tuple[int, int], ...]:
    """(start, end) of each word of ``text``, left to right, covering the whole text.

    ``fixed``: sorted, non-overlapping spans that are words as they stand (fixed expressions); the
    text between them is cut on its own, so jieba cannot glue a fixed word to its neighbour
    (运费险|要是, not 运费|险要|是).
    """
    out, pos = [], 0
    for start, end in (*fixed, (len(text), len(text))):
        if start < pos:
            continue
        for word in _tokenizer().cut(text[pos:start], HMM=True) if start > pos else ():
            out.append((pos, pos + len(word)))
            pos += len(word)
        if end > start:
            out.append((start, end))
        pos = end
    return tuple(out)


def words(text: str) -> tuple[str, ...]:
    """The words of ``text`` (punctuation comes out as words of its own)."""
    return tuple(text[s:e] for s, e in spans(text))





def crosses(text: str, start: int, end: int, fixed: tuple[tuple[int, int], ...] = ()) -> bool:
    """True when ``text[start:end]`` begins inside a word and runs on past it (要是 in 主要|是).

    A match lying inside one word (难 in 太难) is not crossing. Only the start is judged: rules end
    in open-ended patterns (如果……能) whose last character may well begin a longer word.
    """
    for s, e in spans(text, fixed):
        if s == start:
            return False
        if s < start < e:
            return end > e
    return False


def opaque_spans(pattern: re.Pattern, text: str) -> tuple[tuple[int, int], ...]:
    """Spans of fixed expressions (``pattern``) inside which no cue may match (这几天, 无论如何)."""
    return tuple(m.span() for m in pattern.finditer(text) if m.end() > m.start())
