"""Required literals of a regular expression, for prefiltering many regexes with one automaton.

``required_literals(pattern)`` returns a set of strings such that every non-empty match of
``pattern`` contains at least one of them, or ``None`` when no such set can be derived
(the pattern must then always be run). The forbidden-phrase matcher feeds these literals to an
Aho-Corasick automaton and runs only the regexes whose literal occurs in the text.
"""

from __future__ import annotations

import re._constants as C
import re._parser as parser


def _required(items) -> set[str] | None:
    """Best required-literal set for a parsed sequence (None if nothing is mandatory)."""
    candidates: list[set[str]] = []
    run: list[str] = []

    def flush():
        if run:
            candidates.append({"".join(run)})
            run.clear()

    for op, av in items:
        if op is C.LITERAL:
            run.append(chr(av))
            continue
        flush()
        if op is C.SUBPATTERN:
            sub = _required(av[-1])
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            sub = _required(av[2]) if av[0] >= 1 else None
        elif op is C.BRANCH:
            branches = [_required(b) for b in av[1]]
            sub = None if any(b is None for b in branches) else set().union(*branches)
        elif op is C.ATOMIC_GROUP:
            sub = _required(av)
        else:  # classes, wildcards, anchors, lookarounds: nothing mandatory and literal
            sub = None
        if sub:
            candidates.append(sub)
    flush()
    if not candidates:
        return None
    # Prefer the most selective set: longest shortest literal (single characters such as 我 or 不
    # occur in most replies), then fewest alternatives.
    return min(candidates, key=lambda s: (-min(map(len, s)), len(s)))


def required_literals(pattern: str) -> set[str] | None:
    return _required(parser.parse(pattern))
