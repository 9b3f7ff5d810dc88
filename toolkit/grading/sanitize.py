"""Remove trainee code from a submitted notebook before nbgrader executes it.

Trainees answer with literal assignments such as ``回答1 = "您好,请问有什么可以帮您?"``; they
never need code. So before execution an autograded answer cell must hold only literal
assignments to answer names (``回答…``/``答案…``): a cell with any other statement is
emptied, and so is every code cell the trainee added. Loops, ``sys.exit``, crashes, floods and monkeypatches never run, and the checks in
the (restored) test cells see only data. What was removed is recorded in the cell metadata
under the notebook metadata ``kefu.removed`` so the grading summary can name it.
"""

from __future__ import annotations

import ast
import re

ANSWER_NAME = re.compile(r"^(回答|答案)\w*$")
REMOVED_NOTE = "# 评分时已移除这个单元格里的代码：答案只能写成 回答 = \"……\" 的形式。\n"


def _is_literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
    except Exception:  # literal_eval raises several kinds (ValueError, RecursionError, ...)
        return False
    return True


def _describe(source: str, node: ast.AST) -> str:
    text = (ast.get_source_segment(source, node) or type(node).__name__).strip().splitlines()[0]
    return text if len(text) <= 80 else text[:77] + "..."


def answer_names(source: str) -> list[str]:
    """Answer variables a cell assigns (so a voided cell can still define them, blank)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # broken code: read the names off the text
        return [m.group(1) for m in re.finditer(r"^\s*(\w+)\s*=", source, re.M) if ANSWER_NAME.match(m.group(1))]
    return [t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name) and ANSWER_NAME.match(t.id)]


def literal_answers(source: str) -> tuple[str, list[str]]:
    """Split an answer cell into (kept source, descriptions of removed statements)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "", ["unparsable code (syntax error)"] if source.strip() else []
    kept, removed = [], []
    for node in tree.body:
        ok = (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and ANSWER_NAME.match(node.targets[0].id)
            and _is_literal(node.value)
        )
        if ok:
            kept.append(ast.get_source_segment(source, node))
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            removed.append(_describe(source, node))
    return "\n".join(kept) + ("\n" if kept else ""), removed


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
    """Sanitise ``nb`` in place; return what was removed (one line per statement or cell).

    Cells are read with item access: cells nbgrader adds back are plain dicts.
    """
    report = []
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        name = meta.get("grade_id", "unnamed cell")
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if meta.get("solution"):
            _, removed = literal_answers(source)
            if removed:  # any code voids the whole cell: answers are data, nothing else
                blanks = "".join(f'{name} = ""\n' for name in dict.fromkeys(answer_names(source)))
                cell["source"] = REMOVED_NOTE + blanks
                report += [f"{name}: removed `{r}`" for r in removed]
        elif meta.get("locked") or meta.get("grade"):
            continue  # instructor cells: nbgrader's OverwriteCells has restored their source
        elif source.strip():
            first = source.strip().splitlines()[0]
            report.append(f"added code cell: removed `{first[:80]}`")
            cell["source"] = REMOVED_NOTE
    nb["metadata"].setdefault("kefu", {})["removed"] = report
    return report
