"""Every fact of the curriculum map is taught: each course notebook mentions its key terms."""

import re
import tomllib
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = tomllib.loads((Path(__file__).with_name("curriculum.toml")).read_text(encoding="utf-8"))["module"]


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_notebook_teaches_its_facts(module):
    path = ROOT / "course" / f"{module}.ipynb"
    text = _squeeze("".join(cell.source for cell in nbformat.read(path, as_version=4).cells))
    missing = [term for term in MODULES[module]["terms"] if _squeeze(term) not in text]
    assert missing == [], f"{path.name} no longer teaches: {', '.join(missing)}"


def test_every_module_notebook_is_mapped():
    notebooks = {p.stem for p in (ROOT / "course").glob("*.ipynb")}
    assert set(MODULES) == notebooks - {"00_开始", "12_学习进度"}


def test_module_08_voice_drill_measures_the_taught_targets(monkeypatch, tmp_path):
    """Module 08's voice exercise, built as the notebook builds it, judges the course's sample
    recordings against the rate the module teaches (150 字/分钟, 100 to 200; seed 000)."""
    import ast

    from toolkit import kb, voice, widgets

    monkeypatch.setenv("KEFU_PROGRESS", str(tmp_path / "progress.sqlite3"))
    targets = {t["id"]: t["value"] for t in kb.load("voice")["target"]}
    assert (targets["rate-normal"], targets["rate-slow"], targets["rate-fast"]) == (150, 100, 200)
    nb = nbformat.read(ROOT / "course" / "08_电话礼仪与流程.ipynb", as_version=4)
    calls = [ast.unparse(node) for cell in nb.cells if cell.cell_type == "code"
             for node in ast.walk(ast.parse(cell.source))
             if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "voice_drill"]
    assert calls, "module 08 no longer runs voice_drill"
    drill = eval(calls[0], vars(widgets)).drill  # noqa: S307
    drill.raise_errors = True
    while drill.item["script"]:  # answer a customer's line freely: the rate is counted from syllables
        drill._new_round()
    _, recordings = voice.samples()
    (good, good_path), (fast, fast_path) = recordings.items()
    drill.take(good_path.read_bytes(), good_path.suffix)
    assert drill.report.ok and 100 <= drill.report.rate <= 200, (good, drill.report.why)
    assert "目标约 150 字，100～200 字为宜" in drill.feedback.value
    drill.take(fast_path.read_bytes(), fast_path.suffix)
    assert not drill.report.ok and drill.report.rate > 200 and "偏快" in drill.feedback.value, fast
