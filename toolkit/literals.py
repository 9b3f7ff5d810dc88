"""Required literals of a regular expression, for prefiltering many regexes with one automaton.

``required_sets(pattern)`` returns sets of strings such that every non-empty match of ``pattern``
contains at least one string of EACH set (a conjunction of alternatives), most selective set
first; ``[]`` when nothing can be derived (the pattern must then always be run).
``required_literals(pattern)`` is the first, most selective set alone, or ``None``.

Literals are built the way regex engines extract them: adjacent parts with a small, finite set of
spellings multiply out (``[你您]?(听|看)[懂清]`` -> 听懂 听清 看懂 看清), so a pattern is tried only
when a whole word it needs occurs, not just a common character such as 你. Zero-width parts
(look-arounds, anchors) keep neighbours adjacent. The matchers feed the first set to an
Aho-Corasick automaton and test the others with ``in`` before running the regex.
"""

from __future__ import annotations

import re._constants as C
import re._parser as parser

_MAX_SPELLINGS = 256  # a product of spellings larger than this is cut into separate requirements
_MAX_CLASS = 16  # character classes with more members than this are not spelled out
_ZERO_WIDTH = (C.AT, C.ASSERT_NOT)


def _minimal(strings: set[str]) -> frozenset[str] | None:
    """Drop spellings that contain a shorter one (finding the shorter suffices); None if one is empty."""
    if "" in strings:
        return None
    ordered = sorted(strings, key=len)
    kept: list[str] = []
    for s in ordered:
        if not any(k in s for k in kept):
            kept.append(s)
    return frozenset(kept)


def _class(av) -> set[str] | None:
    chars: set[str] = set()
    for op, value in av:
        if op is C.LITERAL:
            chars.add(chr(value))
        elif op is C.RANGE and value[1] - value[0] < _MAX_CLASS:
            chars.update(map(chr, range(value[0], value[1] + 1)))
        else:  # negation, categories (\d, \w), large ranges
            return None
    return chars if len(chars) <= _MAX_CLASS else None


def _product(a: set[str], b: set[str]) -> set[str] | None:
    if len(a) * len(b) > _MAX_SPELLINGS:
        return None
    return {x + y for x in a for y in b}


def _analyse(items) -> tuple[set[str] | None, list[frozenset[str]]]:
    """(exact spellings of the whole sequence if finite and small, else None; required sets)."""
    required: list[frozenset[str]] = []
    run: set[str] | None = {""}  # spellings of the adjacent exact parts so far

    def flush():
        nonlocal run
        if run is not None and (kept := _minimal(run)):
            required.append(kept)
        run = {""}

    exact_whole = True
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue
        if op is C.ASSERT:  # (?=X) / (?<=X): X is in the text too, right after / before this point
            direction, sub = av
            sub_exact, sub_sets = _analyse(sub)
            required.extend(sub_sets)
            if sub_exact is not None:
                if direction < 0 and run == {""}:
                    run = set(sub_exact)  # what follows begins right after X
                elif direction > 0 and (joined := _product(run, sub_exact)) and (kept := _minimal(joined)):
                    required.append(kept)  # X follows the run; what follows starts where X does
                elif kept := _minimal(set(sub_exact)):
                    required.append(kept)
            continue
        exact, inner = _node(op, av)
        if exact is not None:
            joined = _product(run, exact)
            if joined is None:
                flush()
                joined = set(exact)
            run = joined
            continue
        exact_whole = False
        # A part repeated at least once: its first copy follows the run, its last copy precedes what follows.
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and av[0] >= 1:
            sub_exact, _ = _analyse(av[2])
            if sub_exact is not None:
                joined = _product(run, sub_exact)
                run = joined if joined is not None else set(sub_exact)
                flush()
                run = set(sub_exact)
                required.extend(inner)
                continue
        flush()
        required.extend(inner)
    whole = run if exact_whole else None
    flush()
    return whole, required


def _node(op, av) -> tuple[set[str] | None, list[frozenset[str]]]:
    """(exact spellings of one parsed node, or None; required sets inside it)."""
    if op is C.LITERAL:
        return {chr(av)}, []
    if op is C.IN:
        return _class(av), []
    if op is C.SUBPATTERN:
        return _analyse(av[-1])
    if op is C.ATOMIC_GROUP:
        return _analyse(av)
    if op is C.BRANCH:
        analysed = [_analyse(branch) for branch in av[1]]
        if all(exact is not None for exact, _ in analysed):
            union = set().union(*(exact for exact, _ in analysed))
            if len(union) <= _MAX_SPELLINGS:
                return union, []
        # Each branch needs one of its sets: the union of each branch's best set is needed.
        best = [_best(exact, sets) for exact, sets in analysed]
        if any(b is None for b in best):
            return None, []
        merged = _minimal(set().union(*best))
        return None, [merged] if merged else []
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        low, high, sub = av
        sub_exact, sub_sets = _analyse(sub)
        if sub_exact is not None and high <= 3:
            spellings, power = ({""} if low == 0 else set()), {""}
            for count in range(1, high + 1):
                power = _product(power, sub_exact)
                if power is None:
                    break
                if count >= low:
                    spellings |= power
            else:
                if len(spellings) <= _MAX_SPELLINGS:
                    return spellings, []
        return None, (sub_sets if low >= 1 else [])
    return None, []  # wildcards, categories, back-references: nothing literal


def _best(exact: set[str] | None, sets: list[frozenset[str]]) -> frozenset[str] | None:
    candidates = list(sets)
    if exact is not None and (kept := _minimal(exact)):
        candidates.append(kept)
    return _ordered(candidates)[0] if candidates else None


def _ordered(sets: list[frozenset[str]]) -> list[frozenset[str]]:
    # Most selective first: longest shortest literal (single characters such as 我 or 不 occur in
    # most replies), then fewest alternatives.
    ordered = sorted(dict.fromkeys(sets), key=lambda s: (-min(map(len, s)), len(s)))
    kept: list[frozenset[str]] = []
    for candidate in ordered:  # a set is implied when every spelling of a kept set contains one of it
        if not any(all(any(c in k for c in candidate) for k in chosen) for chosen in kept):
            kept.append(candidate)
    return kept


def required_sets(pattern: str) -> list[frozenset[str]]:
    exact, sets = _analyse(parser.parse(pattern))
    if exact is not None and (kept := _minimal(exact)):
        sets = [*sets, kept]
    return _ordered(sets)


def required_literals(pattern: str) -> set[str] | None:
    sets = required_sets(pattern)
    return set(sets[0]) if sets else None
