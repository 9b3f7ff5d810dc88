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
