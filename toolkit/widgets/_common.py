"""Shared helpers for the drill widgets: UI strings, HTML and highlighting, decks, the Drill base."""

from __future__ import annotations

import html
import random
import time
import tomllib
from functools import cache
from importlib import resources

import ipywidgets as w

from .. import progress

GREEN = "#1a7f37"
RED = "#cf222e"
GREY = "#57606a"
MARK_STYLE = "background:#fff3a3;padding:0 2px;border-radius:2px"


# ----------------------------------------------------------------------------- UI strings


@cache
def ui() -> dict:
    """The parsed ``toolkit/widgets/ui.toml`` (every string a trainee sees that is not data)."""
    raw = resources.files("toolkit.widgets").joinpath("ui.toml").read_text(encoding="utf-8")
    return tomllib.loads(raw)


def t(section: str, key: str, **values) -> str:
    """A UI string from ``ui.toml``, formatted with ``values``."""
    s = ui()[section][key]
    return s.format(**values) if values else s


def module_name(module: str) -> str:
    """Chinese name of a progress-store module key (falls back to the key itself)."""
    return ui()["module_names"].get(module, module)


# ----------------------------------------------------------------------------- HTML


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def mark(text: str, title: str = "") -> str:
    """``text`` (escaped) wrapped in a highlighted ``<mark>``; ``title`` shows on hover."""
    attr = f' title="{esc(title)}"' if title else ""
    return f'<mark style="{MARK_STYLE}"{attr}>{esc(text)}</mark>'


def highlight(text: str, spans) -> str:
    """Escape ``text`` and wrap each ``(start, end[, title])`` span in ``<mark>``.

    Spans index ``text`` (the checkers return offsets in the original input). Overlapping or
    empty spans are skipped, so every character is highlighted at most once.
    """
    out: list[str] = []
    pos = 0
    for span in sorted(spans, key=lambda s: (s[0], -s[1])):
        start, end = span[0], span[1]
        title = span[2] if len(span) > 2 else ""
        if start < pos or end <= start or end > len(text):
            continue
        out.append(esc(text[pos:start]))
        out.append(mark(text[start:end], title))
        pos = end
    out.append(esc(text[pos:]))
    return "".join(out)


def para(inner: str, color: str | None = None, bold: bool = False) -> str:
    style = ";".join(s for s in (f"color:{color}" if color else "", "font-weight:600" if bold else "") if s)
    return f'<div style="margin:4px 0;{style}">{inner}</div>'


def verdict(correct: bool) -> str:
    """The ✔/✘ line for a checked answer."""
    return para(esc(t("text", "correct" if correct else "wrong")), GREEN if correct else RED, bold=True)


def prompt(message: str) -> str:
    """A gentle Chinese prompt (nothing was checked)."""
    return para(esc(message), GREY)


def bullets(items) -> str:
    items = list(items)
    return "<ul style=\"margin:4px 0\">" + "".join(f"<li>{i}</li>" for i in items) + "</ul>" if items else ""


# ----------------------------------------------------------------------------- randomness


def make_rng(seed) -> random.Random:
    """A private RNG: ``seed=None`` draws a fresh random order, an int/str repeats it."""
    return random.Random(seed)


class Deck:
    """Items dealt in a shuffled order; a new shuffle starts only when all were dealt."""

    def __init__(self, items, rng: random.Random):
        self._items: list = []
        for item in items:  # equal items would make draw() loop
            if item not in self._items:
                self._items.append(item)
        self._rng = rng
        self._pile: list = []

    def __len__(self) -> int:
        return len(self._items)

    def draw(self, n: int) -> list:
        n = min(n, len(self._items))
        out: list = []
        while len(out) < n:
            if not self._pile:
                self._pile = self._items[:]
                self._rng.shuffle(self._pile)
            item = self._pile.pop()
            if item not in out:
                out.append(item)
        return out


def shuffled(items, rng: random.Random, avoid_identity: bool = True) -> list:
    """A shuffled copy; with ``avoid_identity`` never the original order (if there are 2+ items)."""
    items = list(items)
    out = items[:]
    for _ in range(20):
        rng.shuffle(out)
        if not avoid_identity or len(set(map(str, items))) < 2 or out != items:
            break
    return out


# ----------------------------------------------------------------------------- the drill base


def button(label: str, style: str = "") -> w.Button:
    return w.Button(description=label, button_style=style, layout=w.Layout(width="auto"))


class Drill:
    """Common parts of a drill: RNG, warning banner, feedback, 检查 and 再来一组 buttons, recording.

    Subclasses build ``self.body`` (a VBox) in ``new_round()`` and grade in ``check()``.
    Attributes for tests and notebooks: ``rng``, ``module``, ``title``, ``notice`` (storage
    warning, HTML), ``body``, ``submit`` (检查), ``next_round`` (再来一组), ``feedback`` (HTML),
    ``widget`` (the VBox returned to the notebook; ``widget.drill is self``), ``rounds``.
    """

    module: str = ""
    #: Tests set this to True so a bug raises instead of becoming a Chinese message.
    raise_errors: bool = False

    def __init__(self, module: str, seed=None, title: str = "", intro: str = ""):
        if module not in progress.MODULES:
            raise ValueError(f"未知的练习模块 {module!r}(module must be one of {', '.join(progress.MODULES)})")
        self.module = module
        self.seed = seed
        self.rng = make_rng(seed)
        self.rounds = 0
        self.title = w.HTML(f"<h3 style=\"margin:4px 0\">{esc(title)}</h3>" + (para(esc(intro), GREY) if intro else ""))
        self.notice = w.HTML("")
        self.body = w.VBox()
        self.feedback = w.HTML("")
        self.submit = button(t("text", "check"), "primary")
        self.next_round = button(t("text", "next_round"))
        self.submit.on_click(lambda _b: self._safe(self.check))
        self.next_round.on_click(lambda _b: self._safe(self._new_round))
        self.buttons = w.HBox([self.submit, self.next_round])
        self.widget = w.VBox([self.title, self.notice, self.body, self.buttons, self.feedback],
                             layout=w.Layout(width="100%"))
        self.widget.drill = self
        self._started = time.monotonic()
        self._show_warning()

    # -- rounds

    def _new_round(self) -> None:
        self.rounds += 1
        self._started = time.monotonic()
        self.feedback.value = ""
        self.submit.disabled = False
        self.new_round()

    def new_round(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def check(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def elapsed(self) -> float:
        return round(time.monotonic() - self._started, 1)

    # -- recording and the storage warning

    def record(self, item: str, answer, correct: bool, seconds: float | None = None) -> None:
        """Store the attempt; never let a storage problem break the drill."""
        try:
            progress.record(self.module, item, answer, correct, self.elapsed() if seconds is None else seconds)
        except Exception as exc:  # noqa: BLE001 - a drill must keep working
            store = progress.get_store()
            if store.warning is None:
                store.warning = progress.WARNING.format(reason=str(exc))
        self._show_warning()

    def _show_warning(self) -> None:
        try:
            message = progress.take_warning()
        except Exception as exc:  # noqa: BLE001
            message = progress.WARNING.format(reason=str(exc))
        if message:
            self.notice.value = para(esc(t("text", "storage_warning", message=message)), "#9a6700", bold=True)

    def _safe(self, action) -> None:
        """Run a button action; an unexpected error becomes a Chinese message, not a traceback."""
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - trainees must not see tracebacks
            if self.raise_errors:
                raise
            # What to do, in Chinese; the exception itself goes to the server log, not the page.
            from ..trainee_errors import log_exception

            log_exception(exc)
            self.feedback.value = prompt(t("errors", "drill"))


def dropdown(options, placeholder: bool = True) -> w.Dropdown:
    """A full-width dropdown; ``options`` are (label, value) pairs, with an empty "请选择" first."""
    opts = ([(t("text", "placeholder_choose"), "")] if placeholder else []) + list(options)
    return w.Dropdown(options=opts, value="" if placeholder else opts[0][1], layout=w.Layout(width="auto"))


def text_row(html_text: str) -> w.HTML:
    return w.HTML(html_text, layout=w.Layout(width="100%"))
