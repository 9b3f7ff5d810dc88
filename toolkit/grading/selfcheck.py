"""``自检()``: the trainee's one-line self-check in a released assignment notebook.

It reads this notebook's test cells from disk (the released version holds only the visible
checks; hidden tests were stripped by nbgrader) and runs them against the answers currently in
the kernel, printing per question what passes and what to fix — like Otter's ``grader.check``.
It never sees hidden tests or solutions, because the released notebook does not contain them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path


def _notebook_path(namespace: dict) -> Path | None:
    for candidate in (namespace.get("__session__"), os.environ.get("JPY_SESSION_NAME")):
        if candidate and str(candidate).endswith(".ipynb") and Path(candidate).is_file():
            return Path(candidate)
    notebooks = [p for p in Path.cwd().glob("*.ipynb") if _test_cells(p)]
    return notebooks[0] if len(notebooks) == 1 else None


def _test_cells(path: Path) -> list[dict]:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    cells = []
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "code" and meta.get("grade") and not meta.get("solution"):
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            cells.append({"id": meta.get("grade_id", "?"), "source": source})
    return cells


def run_visible_checks(path: Path, namespace: dict) -> list[tuple[str, str]]:
    """Run each test cell of ``path`` on a copy of ``namespace``; return (cell id, printed report)."""
    results = []
    for cell in _test_cells(path):
        out = io.StringIO()
        scope = dict(namespace)
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(cell["source"], f"<{cell['id']}>", "exec"), scope)
            report = out.getvalue().strip() or "✔ 检查通过"
        except NameError as exc:
            report = f"✘ 还没有运行答案单元格（找不到 {exc.name}）：请先运行上面填写答案的单元格。"
        except Exception as exc:  # a check cell failing for any reason must not stop the others
            report = f"✘ 检查未通过：{exc}"
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
    if not results:
        print("这个笔记本里没有可以自检的题目。")
        return
    print(f"自检结果（{path.name}，只包含公开检查，正式评分还有隐藏检查）：")
    for _, report in results:
        print(report)
