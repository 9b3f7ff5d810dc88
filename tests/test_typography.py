"""Trainee-facing Chinese text uses Chinese (full-width) punctuation: ，。：；？！（）.

Checked: notebook prose and the Chinese strings and comments of notebook code (course/, source/),
the widget texts (ui.toml), the knowledge base (except regex fields, which match the normalised,
half-width form), and the Chinese strings of the toolkit's modules. Code a trainee types (inline
code, fenced blocks, `自检("…")`) keeps ASCII punctuation.
"""

from __future__ import annotations

import io
import re
import tokenize
import unicodedata
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CJK = "\u3400-\u9fff"
# Half-width punctuation touching Chinese text (a placeholder such as {name} counts as text).
BAD = re.compile(rf"[{CJK}“”…][,;?!:]|[,;:][{CJK}“]|[{CJK}…]\((?!\")|\)[{CJK}，。]")
REGEX_KEYS = re.compile(r"^\s*(pattern|patterns|variants)\s*=")
# re functions whose first argument is a pattern: never rewritten into full-width punctuation.
REGEX_CALLS = {"search", "match", "fullmatch", "compile", "findall", "finditer", "sub", "split"}
CUE_REGEX = re.compile(r"^\s*(?!why\b|default\b)\w+\s*=\s*'")  # cues.toml: every value but `why` is a regex


def _prose(markdown: str) -> str:
    text = re.sub(r"```.*?```", "", markdown, flags=re.S)
    text = re.sub(r"\]\([^)\s]*\)", "]", text)  # a link's target is a path, not prose
    return re.sub(r"`[^`\n]*`", "代码", text)  # inline code reads as a word of the sentence


def _python_text(source: str) -> list[str]:
    """Chinese string literals (minus {placeholders}) and comments of Python source."""
    out = []
    previous: list[str] = []  # the last tokens' text, to spot the pattern argument of re.search(...)
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        is_pattern = previous[:2] == ["re", "."] and previous[2:3] and previous[2] in REGEX_CALLS and previous[3:] == ["("]
        if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            previous = (previous + [tok.string])[-4:]
        if tok.type == tokenize.STRING and (is_pattern or re.match(r"[rRbBfF]*[rR]", tok.string)):
            continue  # a regular expression: it matches the normalised, half-width text
        if tok.type in (tokenize.STRING, tokenize.COMMENT) and re.search(f"[{CJK}]", tok.string):
            text = re.sub(r"\{[^{}]*\}", "", tok.string)
            text = re.sub(r'自检\(\\?"[^"]*\\?"\)', "", text)  # code the trainee types
            out.append(text)
    return out


def _notebook_texts(path: Path) -> list[str]:
    texts = []
    for cell in nbformat.read(path, as_version=4).cells:
        texts += [_prose(cell.source)] if cell.cell_type == "markdown" else _python_text(cell.source)
    return texts


def _toml_texts(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    keep = []
    for line in lines:
        if line.lstrip().startswith("#") or REGEX_KEYS.match(line):
            continue
        if path.name == "cues.toml":
            keep += re.findall(r'why = "([^"]*)"', line)
        else:
            keep.append(re.sub(r"\{[^{}]*\}", "", line))
    return keep


def _module_texts(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    return [t for t in _python_text(source) if not t.startswith(('"""', "#"))]  # docstrings, comments: English


def _unrendered_bold(markdown: str) -> list[str]:
    """Closing ** after punctuation and before a word: CommonMark (JupyterLab, nbconvert) prints
    the asterisks instead of bold text, e.g. **分值：**满分 (write **分值**：满分)."""
    bad = []
    for line in _prose(markdown).splitlines():
        markers = [m.start() for m in re.finditer(r"\*\*", line)]
        for closer in markers[1::2]:
            before, after = line[closer - 1], line[closer + 2:closer + 3] or " "
            if unicodedata.category(before).startswith("P") and not after.isspace() \
                    and not unicodedata.category(after).startswith("P"):
                bad.append(line[max(0, closer - 12):closer + 6])
    return bad


@pytest.mark.parametrize("path", sorted((ROOT / "course").glob("*.ipynb")) + sorted((ROOT / "source").glob("*/*.ipynb")),
                         ids=lambda p: p.name)
def test_bold_text_renders(path):
    cells = nbformat.read(path, as_version=4).cells
    bad = [b for cell in cells if cell.cell_type == "markdown" for b in _unrendered_bold(cell.source)]
    assert bad == [], f"{path.name}: ** that CommonMark will not render as bold: {bad}"


def _files():
    yield from (("notebook", p) for p in sorted((ROOT / "course").glob("*.ipynb")))
    yield from (("notebook", p) for p in sorted((ROOT / "source").glob("*/*.ipynb")))
    yield from (("toml", p) for p in sorted((ROOT / "toolkit").glob("**/*.toml")))
    # Not cli.py (the instructors' English help) nor cohort.py (synthetic trainee input).
    yield from (("module", p) for p in sorted((ROOT / "toolkit").glob("**/*.py"))
                if p.name not in ("cli.py", "cohort.py"))


@pytest.mark.parametrize("kind, path", list(_files()), ids=lambda v: v if isinstance(v, str) else v.name)
def test_chinese_punctuation(kind, path):
    texts = {"notebook": _notebook_texts, "toml": _toml_texts, "module": _module_texts}[kind](path)
    bad = sorted({t[max(0, m.start() - 12):m.end() + 12].replace("\n", " ") for t in texts for m in BAD.finditer(t)})
    assert bad == [], f"{path.relative_to(ROOT)}: half-width punctuation in Chinese text:\n" + "\n".join(bad[:20])


FULL_WIDTH_SYNTAX = re.compile(r"[（）［］｛｝｜？＊＋＾＄＼]")


def _patterns(source: str) -> list[str]:
    """String arguments of re.search(...) and friends in Python source."""
    found, previous = [], []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.STRING and previous[:2] == ["re", "."] and previous[2:3] and previous[2] in REGEX_CALLS:
            found.append(tok.string)
        if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            previous = (previous + [tok.string])[-4:]
    return found


@pytest.mark.parametrize("path", sorted((ROOT / "source").glob("*/*.ipynb")), ids=lambda p: p.parent.name)
def test_test_cell_regexes_stay_half_width(path):
    """A regex bracket or bar rewritten as （ ） ｜ ？ matches nothing a trainee types (answers are
    normalised to half-width before matching): honest model answers lost points this way."""
    bad = [p for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"
           for p in _patterns(cell.source) if FULL_WIDTH_SYNTAX.search(p)]
    assert not bad, bad
