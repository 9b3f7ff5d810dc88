"""Answers written in plain words: what an answer cell holds and how it becomes data.

An assignment's answer cell is an nbgrader autograded-answer code cell (grade_id ``qN-answer``)
whose source is the trainee's text and nothing else: a letter, a sentence, or one item per line.
It never runs as Python:

- at autograde, kefu's sanitiser rewrites the cell into ``回答N = '<repr of the text>'``
  (``literal_source``), a line kefu builds itself, so the text is data whatever it contains;
- in the trainee's own kernel, the locked setup cell calls ``enable()``, which installs an IPython
  input transformer. JupyterLab sends each cell's metadata with its execute_request (nbgrader's
  ``grade_id`` included), so running an answer cell records its text instead of executing it.

The parsers (``choice``, ``letters``, ``lines``, ``ordered``) turn the text into what a test cell
compares, accepting full-width forms, Traditional characters and the usual separators.
Import-light: no nbgrader, no IPython at import time.
"""

from __future__ import annotations

import re

from toolkit.normalize import normalize

ANSWER_ID = re.compile(r"^q(\d+)-answer$")
_DELIMITER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")
# What a trainee may put around a letter: "选C", "答案：C", "(C)", "C。"
_PREFIX = re.compile(r"^(答案|回答|答|选项|选择|选)[:：是为]?")
_NOT_LETTERS = re.compile(r"[\s,，、;；/|.。·\-_>→]+")
# Numbering a trainee may put before an item: "1.", "1、", "（1）", "①", "第一步：", "- "
_NUMBERING = re.compile(r"^\s*(第?[0-9一二三四五六七八九十]+[步项个]?[.、:：)）]|[（(][0-9一二三四五六七八九十]+[)）]|[①-⑩]|[-*•·])\s*")
_ITEM_SEPARATORS = re.compile(r"\s*(?:[、，,;；/|]|->|→|>)\s*|\s+")
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])")
PLACEHOLDERS = ("", "……", "...", "。。。", "…")


def answer_name(grade_id: str) -> str | None:
    """The variable a test cell reads for answer cell ``grade_id``: q3-answer -> 回答3."""
    m = ANSWER_ID.match(grade_id or "")
    return f"回答{m.group(1)}" if m else None


def answer_text(source: str) -> str:
    """The trainee's words in an answer cell: solution delimiters (in the instructor's source)
    dropped, surrounding blank space removed, inner lines kept."""
    kept = [line.rstrip() for line in source.splitlines() if not _DELIMITER.match(line)]
    return "\n".join(kept).strip()


def literal_source(name: str, text: str) -> str:
    """The only code an answer cell ever runs: one assignment of a str literal built by repr."""
    return f"{name} = {text!r}\n"


def unanswered(text) -> bool:
    return not isinstance(text, str) or text.strip() in PLACEHOLDERS


# ----------------------------------------------------------------------------- parsers


def choice(text: str) -> str:
    """A one-letter answer, upper case: "c", "Ｃ", "选C。", "(C)" -> "C" (else the cleaned text)."""
    t = normalize(text) if isinstance(text, str) else ""
    t = _PREFIX.sub("", re.sub(r"[\s()（）\[\]【】\"'“”‘’。.!！]", "", t))
    return t.upper()


def letters(text: str) -> str:
    """A string of letters, one per item: "B、F、A", "b f a", "BFA" -> "BFA"."""
    t = normalize(text) if isinstance(text, str) else ""
    t = _PREFIX.sub("", _NOT_LETTERS.sub("", re.sub(r"[()（）\[\]【】\"'“”‘’]", "", t)))
    return t.upper()


def is_question(text: str) -> bool:
    """Written as a question: a question mark, 吗, or ending in 呢 (any width, any script)."""
    t = normalize(text) if isinstance(text, str) else ""
    return "?" in t or "吗" in t or t.rstrip("。.!！").endswith("呢")


def lines(text: str, sentences: bool = True) -> list[str]:
    """Items written one per line, numbering removed. A single line is split into sentences
    (。！？；) when ``sentences``, otherwise at 、，; / → and spaces."""
    if not isinstance(text, str):
        return []
    rows = [_NUMBERING.sub("", row).strip() for row in text.splitlines()]
    rows = [row for row in rows if row]
    if len(rows) == 1:
        parts = _SENTENCE_END.split(rows[0]) if sentences else _ITEM_SEPARATORS.split(rows[0])
        rows = [_NUMBERING.sub("", p).strip() for p in parts if p and p.strip()]
    return rows


def ordered(text: str, options: dict[str, str]) -> list[str]:
    """An ordering answered by letters ("CABED") or by names, one per line: the names in order.

    ``options`` maps each letter shown in the question to its item. Letters that are not options
    are kept as written, so a wrong answer stays wrong.
    """
    seq = letters(text)
    labels = set(options)
    if seq and len(seq) == len(options) and set(seq) <= labels | set("ABCDEFGHIJ"):
        return [options.get(ch, ch) for ch in seq]
    return lines(text, sentences=False)


# ----------------------------------------------------------------------------- trainee kernel


def _answer_cell(shell) -> str | None:
    """grade_id of the answer cell being executed, read from JupyterLab's execute_request metadata."""
    kernel = getattr(shell, "kernel", None)
    try:
        parent = kernel.get_parent() if kernel is not None else None
    except Exception:  # no parent outside a request (e.g. while the kernel starts)
        return None
    meta = ((parent or {}).get("metadata") or {}).get("nbgrader") or {}
    if meta.get("solution") and not meta.get("grade") and answer_name(meta.get("grade_id", "")):
        return meta["grade_id"]
    return None


def record(grade_id: str, text: str) -> None:
    """Store an answer cell's text as its answer in the trainee's kernel and confirm it in Chinese."""
    from IPython import get_ipython

    name = answer_name(grade_id)
    number = name[2:]
    get_ipython().user_ns[name] = text
    if unanswered(text):
        print(f"第 {number} 题还没有作答：在这个格子里写下你的答案，再按 Shift+Enter。")
    else:
        print(f"已记下第 {number} 题的答案。")


def _transformer(shell):
    def as_data(source_lines: list[str]) -> list[str]:
        grade_id = _answer_cell(shell)
        if grade_id is None:
            return source_lines
        text = answer_text("".join(source_lines))
        return [f"__import__('toolkit.exercise.answers', fromlist=['record']).record({grade_id!r}, {text!r})\n"]

    as_data.kefu_answers = True  # so enable() installs it once
    return as_data


_NAME_ERROR = re.compile(r"name '(回答(\d+))' is not defined")


def _out_of_order(previous, handled: tuple):
    """A test cell run before its answer cell: a Chinese sentence instead of a NameError traceback."""

    def handler(self, etype, value, tb, tb_offset=None):
        m = _NAME_ERROR.search(str(value))
        if m:
            print(f"第 {m.group(2)} 题还没有作答：先在上面的答案格里写下答案并运行它（Shift+Enter），再运行这个格子。")
            return None
        if previous is not None and issubclass(etype, handled):  # the course's own handler came first
            return previous(etype, value, tb, tb_offset)
        return self.showtraceback((etype, value, tb), tb_offset=tb_offset)

    return handler


def enable(shell=None) -> None:
    """Make answer cells of this kernel record their text (called by the assignment's setup cell).

    Does nothing outside IPython and during nbgrader's own runs, where kefu's sanitiser has
    already turned every answer cell into a literal. Returns None: the setup cell shows nothing.
    """
    import os

    if os.environ.get("NBGRADER_EXECUTION"):
        return
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
    if shell is None:
        return
    cleanup = shell.input_transformers_cleanup
    if not any(getattr(t, "kefu_answers", False) for t in cleanup):
        cleanup.insert(0, _transformer(shell))
    if not getattr(shell, "_kefu_answers_exc", False):
        handled = tuple(shell.custom_exceptions or ())
        previous = shell.CustomTB if handled else None
        shell.set_custom_exc(tuple(dict.fromkeys(handled + (NameError,))), _out_of_order(previous, handled))
        shell._kefu_answers_exc = True


def load_ipython_extension(shell) -> None:
    """``%load_ext toolkit.exercise.answers``, or ``c.InteractiveShellApp.extensions`` in a course
    kernel's IPython config: answer cells are text even before the setup cell has run."""
    enable(shell)
