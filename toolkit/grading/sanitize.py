"""Make a submitted notebook safe before nbgrader executes it: answers become data.

An answer cell (nbgrader autograded answer, grade_id ``qN-answer``) holds the trainee's words,
never code. Before execution kefu rewrites it into ``回答N = '<repr of the text>'``, built here
(``toolkit.exercise.answers.literal_source``): the text is never parsed as Python, so code typed
as an answer is just text and a malformed answer cannot void another one. An answer longer than
``MAX_ANSWER_CHARS`` is cut there, and nbgrader's markers in it are broken (``markers``). Every
cell the trainee added is emptied (code, markdown or raw); the hand-graded markdown answer keeps
its text with its HTML and links made inert (``html_safety``). Loops, ``sys.exit``, crashes,
floods and monkeypatches never run, and the checks in the (restored) test cells see only data.
All of this is linear in the cell's length. The trainee's text is kept in the cell's
``kefu.answer`` metadata (``RestoreAnswerText`` puts it back on screen after execution); what
was removed is listed under the notebook metadata ``kefu.removed`` for the grading summary.
"""

from __future__ import annotations

import re

from ..exercise.answers import answer_name, answer_text, literal_source
from .html_safety import clean_markdown
from .markers import neutralise

REMOVED_NOTE = "# 评分时已移除这个单元格：答案只写在每道题的答案格里。\n"
REMOVED_TEXT = "（评分时已移除学员自己添加的这个单元格。）"
# A reply is a sentence or a paragraph; anything longer is cut here (configurable on StripTraineeCode).
MAX_ANSWER_CHARS = 20_000
_TAG = re.compile(r"<[A-Za-z!/?]")  # something a browser would read as markup
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # no terminal escapes in the instructor's summary


def _source(cell) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def answer_as_data(cell, limit: int = MAX_ANSWER_CHARS) -> tuple[str | None, bool]:
    """Rewrite one autograded answer cell in place into a literal assignment of its text.

    Returns (the text kept, whether it was cut); the text is None when the cell's grade_id
    names no answer, in which case the cell is emptied.
    """
    meta = cell.get("metadata", {}).get("nbgrader", {})
    name = answer_name(meta.get("grade_id", ""))
    source = _source(cell)
    text = answer_text(source[:limit + 1000])  # linear: never look past the cap (plus its margin)
    cut = len(text) > limit
    text = neutralise(text[:limit])
    if cell.get("cell_type") != "code":  # retyped to markdown/raw: an answer cell stays a code cell
        cell["cell_type"] = "code"
        cell["outputs"], cell["execution_count"] = [], None
        cell.pop("attachments", None)
    cell.setdefault("metadata", {}).setdefault("kefu", {})["answer"] = text
    cell["source"] = literal_source(name, text) if name else REMOVED_NOTE
    return (text if name else None), cut


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
    """Sanitise ``nb`` in place; return what was removed or cut (one line per cell).

    Cells are read with item access: cells nbgrader adds back are plain dicts.
    """
    report = []
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and not meta.get("grade"):  # an autograded answer, whatever its type
            text, cut = answer_as_data(cell, limit)
            if text is None:
                report.append(f"{meta.get('grade_id', 'unnamed cell')}: not an answer cell id, emptied")
            elif cut:
                report.append(f"{meta['grade_id']}: answer cut at {limit} characters")
            continue
        source = _source(cell)
        if cell.get("cell_type") != "code":
            report += _sanitize_text_cell(cell, meta, source, limit)
            continue
        if meta.get("locked") or meta.get("grade"):
            continue  # instructor cells: nbgrader's OverwriteCells has restored their source
        if source.strip():
            first = _CONTROL.sub(" ", source.strip().splitlines()[0])
            report.append(f"added code cell: removed `{first[:80]}`")
            cell["source"] = REMOVED_NOTE
    nb["metadata"].setdefault("kefu", {})["removed"] = report
    return report


def restore_answer_text(nb) -> None:
    """After execution: show each answer cell as the trainee wrote it (feedback, formgrader)."""
    for cell in nb["cells"]:
        text = cell.get("metadata", {}).get("kefu", {}).get("answer")
        if text is not None and cell.get("cell_type") == "code":
            cell["source"] = text
