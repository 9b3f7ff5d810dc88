"""Make trainee-authored markdown inert before anyone renders it (formgrader, feedback).

A hand-graded answer is a markdown cell the trainee wrote. nbconvert renders markdown with raw
HTML passed through and any link scheme allowed, and nbgrader's formgrade and feedback templates
do not sanitise markdown cells, so the text itself must carry nothing live:

- HTML goes through bleach (nbconvert's own sanitiser): a few formatting tags stay, every other
  tag is escaped so it shows as text, and no attribute survives (no handler, no ``href``/``src``);
- ``[`` becomes the entity ``&#91;``, so no markdown link, image or reference definition can
  form (``[x](javascript:…)``, ``![](/api/contents/…)``); the reader still sees ``[``.

``clean_html`` is the same bleach policy for HTML that is already rendered (outputs, pages).
"""

from __future__ import annotations

import bleach

# Formatting a written answer may use; nothing that loads, links, styles or scripts.
TEXT_TAGS = frozenset({"b", "strong", "i", "em", "u", "s", "del", "sub", "sup", "code", "pre", "br", "p",
                       "ul", "ol", "li", "blockquote"})


def clean_markdown(text: str) -> str:
    """Trainee markdown with every tag, attribute and link syntax made inert (text kept)."""
    cleaned = bleach.clean(text, tags=TEXT_TAGS, attributes={}, strip=False, strip_comments=True)
    return cleaned.replace("[", "&#91;")


def clean_html(html: str) -> str:
    """Rendered HTML reduced to inert formatting (same policy as trainee markdown)."""
    return bleach.clean(html, tags=TEXT_TAGS, attributes={}, strip=False, strip_comments=True)
