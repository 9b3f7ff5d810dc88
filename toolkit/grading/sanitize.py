"""Remove trainee code from a submitted notebook before nbgrader executes it.

Trainees answer with literal assignments such as ``回答1 = "您好,请问有什么可以帮您?"``; they
never need code. So before execution an autograded answer cell must hold only literal
assignments to answer names (``回答…``/``答案…``): a cell with any other statement is
emptied, and so is every code cell the trainee added. Loops, ``sys.exit``, crashes, floods and monkeypatches never run, and the checks in
the (restored) test cells see only data. Markdown and raw cells the trainee added are emptied
like added code cells; the hand-graded markdown answer keeps its text with its HTML and links
made inert (``html_safety``). In every trainee-authored cell nbgrader's markers are broken
(``markers``), and an answer longer than ``MAX_ANSWER_CHARS`` is cut there. All of this is
linear in the cell's length. What was removed is recorded under the notebook metadata
``kefu.removed`` so the grading summary can name it.
"""

from __future__ import annotations

import ast
import re

from .html_safety import clean_markdown
from .markers import neutralise

ANSWER_NAME = re.compile(r"^(回答|答案)\w*$")
REMOVED_NOTE = "# 评分时已移除这个单元格里的代码：答案只能写成 回答 = \"……\" 的形式。\n"
REMOVED_TEXT = "（评分时已移除学员自己添加的这个单元格。）"
# A reply is a sentence or a paragraph; anything longer is cut here (configurable on StripTraineeCode).
MAX_ANSWER_CHARS = 20_000
# Python's parser costs ~10 µs per statement: a long cell made of many small pieces (lines,
# statements, list items) is not an answer and is voided unparsed, so it cannot stall grading.
PARSE_LIMIT, MAX_PIECES = 100_000, 10_000
# String literals and comments, so that commas and lines inside a long answer do not count as pieces.
_STRINGS = re.compile(  # unrolled loops ("[^"]*(?:\\.[^"]*)*"): runs at C speed, no backtracking
    r'"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""' r"|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''"
    r'|"[^"\\\n]*(?:\\.[^"\\\n]*)*"' r"|'[^'\\\n]*(?:\\.[^'\\\n]*)*'" r"|#[^\n]*", re.S)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")  # lines as ast counts them (not \f, \v, ...)
_TAG = re.compile(r"<[A-Za-z!/?]")  # something a browser would read as markup
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # no terminal escapes in the instructor's summary


class _Source:
    """Source segments of ast nodes in linear time.

    ``ast.get_source_segment`` re-splits the whole source on every call (and quadratically so in
    CPython 3.11), which made a 1 M character answer take 22 s. Lines are split once here and
    encoded once each (ast offsets count UTF-8 bytes).
    """

    def __init__(self, source: str):
        if "\r" in source:
            self.lines = _LINE.findall(source)
        else:  # the usual case, at C speed
            self.lines = [line + "\n" for line in source.split("\n")]
            self.lines[-1] = self.lines[-1][:-1]
        self._encoded: dict[int, bytes] = {}

    def _line(self, index: int) -> bytes:
        if index not in self._encoded:
            self._encoded[index] = self.lines[index].encode("utf-8")
        return self._encoded[index]

    def segment(self, node: ast.AST) -> str:
        first, last = node.lineno - 1, node.end_lineno - 1
        if first == last:
            return self._line(first)[node.col_offset:node.end_col_offset].decode("utf-8")
        return (self._line(first)[node.col_offset:].decode("utf-8") + "".join(self.lines[first + 1:last])
                + self._line(last)[:node.end_col_offset].decode("utf-8"))

    def describe(self, node: ast.AST) -> str:
        """The start of a node's first line, at most 80 characters (reads a bounded slice only)."""
        line = self._line(node.lineno - 1)
        end = node.end_col_offset if node.end_lineno == node.lineno else None
        head = line[node.col_offset:end][:400].decode("utf-8", errors="ignore")
        text = _CONTROL.sub(" ", head.strip().splitlines()[0] if head.strip() else type(node).__name__)
        return text if len(text) <= 80 else text[:77] + "..."


def _is_literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
    except Exception:  # literal_eval raises several kinds (ValueError, RecursionError, ...)
        return False
    return True


def _cut(value, budget: int):
    """(value cut to ``budget`` characters, characters used) for a str or a list/tuple of str;
    None for any other literal (it cannot be cut, only dropped)."""
    if isinstance(value, str):
        return value[:budget], min(len(value), budget)
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        kept, used = [], 0
        for item in value:
            if used >= budget:
                break
            kept.append(item[:budget - used])
            used += len(kept[-1])
        return type(value)(kept), used
    return None


def answer_names(source: str) -> list[str]:
    """Answer variables a cell assigns (so a voided cell can still define them, blank)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # broken code: read the names off the text
        return [m.group(1) for m in re.finditer(r"^[ \t]*(\w+)[ \t]*=", source, re.M) if ANSWER_NAME.match(m.group(1))]
    return [t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name) and ANSWER_NAME.match(t.id)]


def literal_answers(source: str, limit: int = MAX_ANSWER_CHARS) -> tuple[str, list[str], bool]:
    """Split an answer cell into (kept source, descriptions of removed statements, whether the
    answer was cut at ``limit`` characters)."""
    if len(source) > PARSE_LIMIT and sum(map(_STRINGS.sub("", source).count, "\n;,")) > MAX_PIECES:
        return "", [f"{len(source)} characters of code with too many statements (not parsed)"], False
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "", ["unparsable code (syntax error)"] if source.strip() else [], False
    text = _Source(source)
    kept, removed, budget, cut = [], [], limit, False
    for node in tree.body:
        ok = (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and ANSWER_NAME.match(node.targets[0].id)
            and _is_literal(node.value)
        )
        if ok:
            segment = text.segment(node)
            if len(segment) <= budget:  # the literal is shorter than its source: within budget
                kept.append(segment)
                budget -= len(segment)
                continue
            value = ast.literal_eval(node.value)
            shortened = _cut(value, budget)
            if shortened is None:
                removed.append(f"answer longer than {limit} characters: {text.describe(node)}")
                continue
            cut = cut or shortened[0] != value
            kept.append(f"{node.targets[0].id} = {shortened[0]!r}")  # every answer name stays defined
            budget -= shortened[1]
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            removed.append(text.describe(node))
    if len(removed) > 20:
        removed[20:] = [f"... and {len(removed) - 20} more statements"]
    return "\n".join(kept) + ("\n" if kept else ""), removed, cut


def forget_duplicates(nb) -> None:
    """Make cells whose nbgrader metadata nbgrader's DeduplicateIds emptied into plain cells.

    Left empty, that metadata makes nbgrader's own later steps fail the whole notebook
    (OverwriteCells looks up their grade_id; CheckCellMetadata rejects them).
    """
    for cell in nb["cells"]:
        metadata = cell.get("metadata", {})
        if "nbgrader" in metadata and not metadata["nbgrader"].get("grade_id"):
            del metadata["nbgrader"]


def instructor_cell(cell) -> bool:
    """A cell whose source is the instructor's: a locked, test or task cell known to nbgrader
    (OverwriteCells restores its source and drops the grade_id of cells the gradebook lacks)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade_id")) and not meta.get("solution") and bool(
        meta.get("locked") or meta.get("grade") or meta.get("task"))


def _sanitize_text_cell(cell, meta: dict, source: str, limit: int) -> list[str]:
    """A markdown or raw cell: the hand-graded answer is made inert, an added cell is emptied."""
    if meta.get("solution") and meta.get("grade_id"):  # the hand-graded answer: trainee text
        report = [f"{meta['grade_id']}: answer cut at {limit} characters"] if len(source) > limit else []
        if _TAG.search(source[:limit]):
            report.append(f"{meta['grade_id']}: HTML in the answer shown as text")
        cell["source"] = clean_markdown(neutralise(source[:limit]))
        cell.pop("attachments", None)  # no image of the trainee's is ever loaded
        return report
    if instructor_cell(cell):
        return []  # nbgrader's OverwriteCells has restored its source
    if not source.strip():
        return []
    first = _CONTROL.sub(" ", source.strip().splitlines()[0])
    cell["source"] = REMOVED_TEXT
    cell.pop("attachments", None)  # attachments render as images
    return [f"added {cell['cell_type']} cell: removed `{first[:80]}`"]


def sanitize_notebook(nb, limit: int = MAX_ANSWER_CHARS) -> list[str]:
    """Sanitise ``nb`` in place; return what was removed (one line per statement or cell).

    Cells are read with item access: cells nbgrader adds back are plain dicts.
    """
    report = []
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if cell.get("cell_type") != "code":
            report += _sanitize_text_cell(cell, meta, source, limit)
            continue
        name = meta.get("grade_id", "unnamed cell")
        if meta.get("solution"):
            kept, removed, cut = literal_answers(source, limit)
            if removed:  # any code voids the whole cell: answers are data, nothing else
                blanks = "".join(f'{name} = ""\n' for name in dict.fromkeys(answer_names(source)))
                cell["source"] = REMOVED_NOTE + blanks
                report += [f"{name}: removed `{r}`" for r in removed]
            else:
                cell["source"] = neutralise(kept if cut else source)
                if cut:
                    report.append(f"{name}: answer cut at {limit} characters")
        elif meta.get("locked") or meta.get("grade"):
            continue  # instructor cells: nbgrader's OverwriteCells has restored their source
        elif source.strip():
            first = source.strip().splitlines()[0]
            report.append(f"added code cell: removed `{first[:80]}`")
            cell["source"] = REMOVED_NOTE
    nb["metadata"].setdefault("kefu", {})["removed"] = report
    return report
