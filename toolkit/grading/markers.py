"""nbgrader's region markers in trainee text: made inert, and looked for only where they leak.

nbgrader finds its regions by substring (``"BEGIN SOLUTION" in line``). A trainee who types such
a marker in an answer would make ClearHiddenTests fail the whole feedback run ("No end hidden
tests statement found"), or make the leak check believe a hidden test is shown. So markers in
trainee-authored cells get a no-break space instead of each space: the text reads the same, the
checkers see the same (NFKC folds U+00A0 to a space, and they drop whitespace), nbgrader sees
nothing.
"""

from __future__ import annotations

import re

NBSP = "\u00a0"
# nbgrader's default delimiters (ClearSolutions, ClearHiddenTests, ClearMarkScheme).
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
           "BEGIN MARK SCHEME", "END MARK SCHEME")
_MARKER = re.compile("|".join(re.escape(m) for m in MARKERS))


def neutralise(text: str) -> str:
    """``text`` with every nbgrader marker broken by no-break spaces (nothing else changes)."""
    return _MARKER.sub(lambda m: m.group(0).replace(" ", NBSP), text)


def found(text: str) -> list[str]:
    """The markers ``text`` contains."""
    return sorted({m.group(0) for m in _MARKER.finditer(text)})
