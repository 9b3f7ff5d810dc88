"""Make a submitted notebook safe before nbgrader executes it: answers become data.

An answer cell (nbgrader autograded answer, grade_id ``qN-answer``) holds the trainee's words,
never code. Before execution kefu rewrites it into ``回答N = '<repr of the text>'``, built here
(``toolkit.grading.answers.literal_source``): the text is never parsed as Python, so code typed
as an answer is just text and a malformed answer cannot void another one. Every code cell the
trainee added is emptied. Loops, ``sys.exit``, crashes, floods and monkeypatches never run, and
the checks in the (restored) test cells see only data. The trainee's text is kept in the cell's
``kefu.answer`` metadata (``RestoreAnswerText`` puts it back on screen after execution); what
was removed is listed under the notebook metadata ``kefu.removed`` for the grading summary.
"""

from __future__ import annotations

from .answers import answer_name, answer_text, literal_source

REMOVED_NOTE = "# 评分时已移除这个单元格：答案只写在每道题的答案格里。\n"


def _source(cell) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def answer_as_data(cell) -> str | None:
    """Rewrite one answer cell in place into a literal assignment; return the trainee's text
    (None when the cell's grade_id names no answer, in which case the cell is emptied)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    name = answer_name(meta.get("grade_id", ""))
    text = answer_text(_source(cell))
    if cell.get("cell_type") != "code":  # retyped to markdown/raw: an answer cell stays a code cell
        cell["cell_type"] = "code"
        cell["outputs"], cell["execution_count"] = [], None
        cell.pop("attachments", None)
    cell.setdefault("metadata", {}).setdefault("kefu", {})["answer"] = text
    cell["source"] = literal_source(name, text) if name else REMOVED_NOTE
    return text if name else None


def forget_duplicates(nb) -> None:
    """Make cells whose nbgrader metadata nbgrader's DeduplicateIds emptied into plain cells.

    Left empty, that metadata makes nbgrader's own later steps fail the whole notebook
    (OverwriteCells looks up their grade_id; CheckCellMetadata rejects them).
    """
    for cell in nb["cells"]:
        metadata = cell.get("metadata", {})
        if "nbgrader" in metadata and not metadata["nbgrader"].get("grade_id"):
            del metadata["nbgrader"]


def sanitize_notebook(nb) -> list[str]:
    """Sanitise ``nb`` in place; return what was removed (one line per cell).

    Cells are read with item access: cells nbgrader adds back are plain dicts.
    """
    report = []
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and not meta.get("grade"):
            if answer_as_data(cell) is None:
                report.append(f"{meta.get('grade_id', 'unnamed cell')}: not an answer cell id, emptied")
            continue
        if cell.get("cell_type") != "code" or meta.get("locked") or meta.get("grade"):
            continue  # text, and instructor cells: nbgrader's OverwriteCells has restored their source
        source = _source(cell)
        if source.strip():
            first = source.strip().splitlines()[0]
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
