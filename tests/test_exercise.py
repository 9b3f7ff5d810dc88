"""The two sides of assignment grading live in packages whose names say which side they serve:
``toolkit.exercise`` runs in the trainee's kernel and stays import-light, ``toolkit.grading`` is
the instructor's. Notebooks released before the split keep working in a trainee's kernel."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "source").glob("*/*.ipynb")) + sorted((ROOT / "release").glob("*/*.ipynb"))
HEAVY = ("nbgrader", "pandas", "matplotlib")
# The setup cell of every assignment released before the split.
OLD_SETUP = ("from toolkit.grading import Question, 自检, answers\n"
             "from toolkit.grading.answers import choice, letters, lines, ordered, is_question\n")


def _run(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it leaves its findings as JSON on the last line."""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


_LOADED = ("import json, sys\n"
           "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})\n"
           "grading = sorted(m for m in sys.modules if m == 'toolkit.grading' or m.startswith('toolkit.grading.'))\n")


def test_the_exercise_package_is_import_light():
    found = _run("import toolkit.exercise\n"
                 "from toolkit.exercise.answers import choice, letters, lines, ordered, is_question\n"
                 + _LOADED.format(heavy=HEAVY)
                 + "print(json.dumps({'heavy': heavy, 'grading': grading, "
                   "'names': sorted(n for n in ('Question', '自检', 'answers') if hasattr(toolkit.exercise, n))}))")
    assert found == {"heavy": [], "grading": [], "names": ["Question", "answers", "自检"]}


def test_notebooks_released_before_the_split_still_import():
    """The old setup cell gets the very objects of toolkit.exercise, and still no nbgrader, pandas,
    matplotlib nor any instructor module (only the package and its answers alias)."""
    found = _run(OLD_SETUP
                 + "import toolkit.exercise as e, toolkit.exercise.answers as a\n"
                 + _LOADED.format(heavy=HEAVY)
                 + "same = [Question is e.Question, 自检 is e.自检, answers is a, choice is a.choice,\n"
                   "        is_question is a.is_question, sys.modules['toolkit.grading.answers'] is a]\n"
                 + "q = Question('第1题', letters('A、C'), points=2)\n"
                   "q.expect(lambda x: x == 'AC', '要选 A 和 C'); q.expect(lambda x: 'B' in x, '还要选 B')\n"
                 + "print(json.dumps({'heavy': heavy, 'grading': grading, 'same': same, 'earned': q.earned}))")
    assert found["heavy"] == []
    assert found["grading"] == ["toolkit.grading", "toolkit.grading.answers"]
    assert found["same"] == [True] * 6
    assert found["earned"] == 1  # one of its two checks passes


def test_the_grading_package_imports_none_of_its_modules():
    found = _run("import toolkit.grading\n" + _LOADED.format(heavy=HEAVY)
                 + "print(json.dumps({'heavy': heavy, 'grading': grading}))")
    assert found == {"heavy": [], "grading": ["toolkit.grading"]}
    with pytest.raises(AttributeError):
        import toolkit.grading

        toolkit.grading.no_such_name  # noqa: B018


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_no_assignment_imports_the_instructor_package(path):
    code = ["".join(cell["source"]) for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
            if cell["cell_type"] == "code"]
    imports = [line for source in code for line in source.splitlines()
               if re.match(r"\s*(from|import)\s+toolkit\b", line)]
    assert any(re.match(r"\s*from toolkit\.exercise import .*Question", line) for line in imports), imports
    assert not [line for line in imports if re.search(r"\btoolkit\.grading\b", line)]
