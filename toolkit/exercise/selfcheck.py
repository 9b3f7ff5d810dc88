"""``自检()``: the trainee's one-line self-check in a released assignment notebook.

It reads this notebook from disk (the released version holds only the visible checks; hidden
tests were stripped by nbgrader) and runs its setup and test cells on the answers: the text each
answer cell recorded when the trainee ran it, else the text saved in the notebook. It prints per
question what passes and what to fix in Chinese — like Otter's ``grader.check`` — and no score,
since the hidden checks have not run. It never sees hidden tests or solutions, because the
released notebook does not contain them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

from .answers import answer_name, answer_text


def _notebook_path(namespace: dict) -> Path | None:
    for candidate in (namespace.get("__session__"), os.environ.get("JPY_SESSION_NAME")):
        if candidate and str(candidate).endswith(".ipynb") and Path(candidate).is_file():
            return Path(candidate)
    notebooks = [p for p in Path.cwd().glob("*.ipynb") if _test_cells(p)]
    return notebooks[0] if len(notebooks) == 1 else None


def _cells(path: Path) -> list[dict]:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    cells = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        cells.append({"id": meta.get("grade_id", "?"), "source": source, "grade": bool(meta.get("grade")),
                      "solution": bool(meta.get("solution")), "locked": bool(meta.get("locked"))})
    return cells


def _test_cells(path: Path) -> list[dict]:
    return [c for c in _cells(path) if c["grade"] and not c["solution"]]


def run_visible_checks(path: Path, namespace: dict) -> list[tuple[str, str]]:
    """Run each test cell of ``path`` on the answers; return (cell id, printed report)."""
    cells = _cells(path)
    scope = dict(namespace)
    saved = []
    for cell in cells:
        if cell["solution"] and not cell["grade"] and answer_name(cell["id"]):
            name = answer_name(cell["id"])
            if not isinstance(scope.get(name), str):  # not run in this kernel: use the saved text
                scope[name] = answer_text(cell["source"])
                saved.append(name[2:])
        elif cell["id"] == "setup" and cell["locked"] and "Question" not in scope:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(cell["source"], "<setup>", "exec"), scope)
    results = []
    if saved:
        results.append(("saved", f"（第 {'、'.join(saved)} 题的答案格还没有运行：按笔记本里已保存的内容检查。）"))
    for cell in cells:
        if not cell["grade"] or cell["solution"]:
            continue
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(cell["source"], f"<{cell['id']}>", "exec"), dict(scope))
            report = out.getvalue().strip() or "✔ 检查通过"
        except Exception as exc:  # a check cell failing for any reason must not stop the others
            report = f"✘ 检查没能运行（{type(exc).__name__}）：请先运行最上面的“准备”格，再运行自检。"
        results.append((cell["id"], report))
    return results


def 自检(notebook: str | None = None) -> None:
    """检查本作业中已经作答的题目(只运行公开的检查,不显示隐藏测试和参考答案)。"""
    if os.environ.get("NBGRADER_EXECUTION"):
        return  # during nbgrader's own runs the checks are graded, not self-checked
    try:
        from IPython import get_ipython

        namespace = get_ipython().user_ns
    except (ImportError, AttributeError):
        namespace = {}
    path = Path(notebook) if notebook else _notebook_path(namespace)
    if path is None or not path.is_file():
        print("找不到作业文件：请写成 自检(\"作业文件名.ipynb\")，并先保存笔记本。")
        return
    results = run_visible_checks(path, namespace)
    if not any(cell_id != "saved" for cell_id, _ in results):
        print("这个笔记本里没有可以自检的题目。")
        return
    print(f"自检结果（{path.name}，只包含公开检查，正式评分还有隐藏检查）：")
    for _, report in results:
        print(report)
