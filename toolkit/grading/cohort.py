"""Synthetic cohorts of submissions: for ``kefu demo``, the end-to-end tests and the benchmark.

Submissions are built from the RELEASED notebook (what trainees really get) by writing the model
answers of the source notebook into the answer cells as plain text (what a trainee types),
leaving them blank, typing code or old-style Python literals as answers, or damaging the
notebook the way hostile or careless trainees do. For every submission the autograded score it
deserves is computed from which questions were answered honestly and correctly — never taken
from a grading run. ``fill_answers`` writes arbitrary answers by grade_id.
"""

from __future__ import annotations

import copy
import random
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.v4.nbbase import random_cell_id

from ..exercise.answers import answer_text

_LETTERS = re.compile(r"^[A-Z]+$")


@dataclass(frozen=True)
class QuestionCells:
    answer_id: str
    test_id: str
    points: float


@dataclass
class Submission:
    student: str
    kind: str
    expected: float  # autograded points the submission deserves
    answered: tuple[str, ...]  # answer cells holding an honest model answer


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def model_answers(source_nb) -> dict[str, str]:
    """The model answer of each autograded answer cell of the source notebook, as plain text."""
    answers = {}
    for cell in source_nb.cells:
        meta = _meta(cell)
        if cell.cell_type == "code" and meta.get("solution") and not meta.get("grade"):
            answers[meta["grade_id"]] = answer_text(cell.source)
    return answers


def questions(source_nb) -> list[QuestionCells]:
    """Each autograded answer cell with the test cell that follows it and that test's points."""
    found, pending = [], None
    for cell in source_nb.cells:
        meta = _meta(cell)
        if cell.cell_type == "code" and meta.get("solution") and not meta.get("grade"):
            pending = meta["grade_id"]
        elif cell.cell_type == "code" and meta.get("grade") and not meta.get("solution") and pending:
            found.append(QuestionCells(pending, meta["grade_id"], float(meta["points"])))
            pending = None
    return found


def _cell(nb, grade_id: str):
    return next(c for c in nb.cells if _meta(c).get("grade_id") == grade_id)


def fill_answers(nb, answers: dict[str, str]) -> None:
    """Write ``answers`` ({grade_id: text}) into the answer cells of ``nb``, as a trainee types them."""
    ids = {_meta(c).get("grade_id") for c in nb.cells if _meta(c).get("solution") and not _meta(c).get("grade")}
    unknown = sorted(set(answers) - ids)
    if unknown:
        raise ValueError(f"no answer cell {', '.join(unknown)} in this notebook (answer cells: {', '.join(sorted(ids))})")
    for grade_id, text in answers.items():
        _cell(nb, grade_id).source = text


def _letter_questions(qs, model):
    """Questions answered by letters (choices, labels, orderings by letter): typed code or a
    Python literal there can never read as the right letters, so it deserves nothing."""
    return [q for q in qs if _LETTERS.match(model[q.answer_id])]


def _index(nb, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if _meta(c).get("grade_id") == grade_id)


def _added(nb, after_id: str, source: str) -> None:
    nb.cells.insert(_index(nb, after_id) + 1, nbformat.v4.new_code_cell(source))


# Each hostile kind: (description, function(nb, qs, model) -> ids of questions it spoils).
# A spoiled question earns nothing; the others keep their honest model answers.
def _loop(nb, qs, model):
    q = _letter_questions(qs, model)[0]
    _cell(nb, q.answer_id).source = "while True:\n    pass\n"  # typed as an answer: just text
    return {q.answer_id}


def _sys_exit(nb, qs, model):
    q = _letter_questions(qs, model)[0]
    _cell(nb, q.answer_id).source = model[q.answer_id] + "\nimport sys\nsys.exit(0)"
    return {q.answer_id}


def _os_exit(nb, qs, model):
    _added(nb, qs[0].test_id, "import os\nos._exit(1)")
    return set()


def _crash(nb, qs, model):
    _added(nb, qs[0].answer_id, "import ctypes\nctypes.string_at(0)  # segfault: the kernel dies")
    return set()


def _flood(nb, qs, model):
    _added(nb, qs[0].answer_id, "print('刷屏' * 5_000_000)  # about 10 MB of output")
    return set()


def _monkeypatch(nb, qs, model):
    patch = (
        "import toolkit.checks as c\n"
        "c.review_reply = lambda t: type('R', (), {'ok': True, 'score': 100, 'findings': ()})()\n"
        "c.classify_question = lambda t: 'open'\n"
    )
    q = _letter_questions(qs, model)[0]
    _cell(nb, q.answer_id).source = patch  # as an answer: text that names no letter
    _added(nb, qs[1].answer_id, "import builtins\nbuiltins.bool = lambda x: True\nbuiltins.print = lambda *a, **k: None")
    return {q.answer_id}


def _edited_test(nb, qs, model):
    _cell(nb, qs[0].test_id).source = f"{qs[0].points}  # full marks, please"
    _cell(nb, qs[0].answer_id).source = "……"  # the placeholder: no answer
    return {qs[0].answer_id}


def _deleted_cells(nb, qs, model):
    nb.cells.remove(_cell(nb, qs[0].test_id))  # nbgrader puts it back
    nb.cells.remove(_cell(nb, qs[1].answer_id))  # put back blank: no answer, no points
    return {qs[1].answer_id}


def _duplicated_cells(nb, qs, model):
    twin = copy.deepcopy(_cell(nb, qs[0].answer_id))
    twin.source = "喂"
    twin["id"] = random_cell_id()  # a fresh cell id, as Jupyter gives a pasted cell
    # nbgrader keeps the LAST cell with a grade_id; earlier twins become plain cells.
    nb.cells.insert(_index(nb, qs[0].answer_id), twin)
    test_twin = copy.deepcopy(_cell(nb, qs[1].test_id))
    test_twin["id"] = random_cell_id()
    nb.cells.insert(_index(nb, qs[1].test_id) + 1, test_twin)
    return set()


def _retyped_cells(nb, qs, model):
    _cell(nb, qs[0].test_id).cell_type = "markdown"
    test = _cell(nb, qs[0].test_id)
    test.pop("outputs", None)
    test.pop("execution_count", None)
    return set()


def _python_literals(nb, qs, model):
    """The old answer format typed by habit: ``回答2 = "C"`` is text, not the letter C."""
    spoiled = set()
    for q in _letter_questions(qs, model):
        number = q.answer_id[1:].split("-")[0]
        _cell(nb, q.answer_id).source = f'回答{number} = "{model[q.answer_id]}"'
        spoiled.add(q.answer_id)
    return spoiled


_FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(ord("A"), ord("Z") + 1)}


def _full_width(nb, qs, model):
    """Letters typed with a Chinese input method: full-width, in Chinese quotes, with 、 and 。."""
    for q in _letter_questions(qs, model):
        _cell(nb, q.answer_id).source = "“" + "、".join(_FULL_WIDTH[ch] for ch in model[q.answer_id]) + "”。"
    return set()  # honest answers: they deserve full marks


HOSTILE = {
    "infinite-loop": _loop,
    "sys-exit": _sys_exit,
    "os-exit": _os_exit,
    "kernel-crash": _crash,
    "output-flood": _flood,
    "monkeypatch": _monkeypatch,
    "edited-test-cell": _edited_test,
    "deleted-cells": _deleted_cells,
    "duplicated-cells": _duplicated_cells,
    "retyped-cells": _retyped_cells,
    "wrong-types": _python_literals,  # the old answer format, typed by habit
    "full-width-letters": _full_width,
}


def build(release_nb, source_nb, kind: str, rng: random.Random) -> tuple[object, float, tuple[str, ...]]:
    """A submission notebook of ``kind`` and the autograded points it deserves."""
    nb = copy.deepcopy(release_nb)
    model = model_answers(source_nb)
    qs = questions(source_nb)
    if kind == "perfect":
        honest = {q.answer_id for q in qs}
    elif kind == "partial":
        honest = {q.answer_id for q in rng.sample(qs, k=rng.randint(1, max(1, len(qs) - 1)))}
    elif kind == "blank":
        honest = set()
    elif kind in HOSTILE:
        honest = {q.answer_id for q in qs}
        for q in qs:
            _cell(nb, q.answer_id).source = model[q.answer_id]
        honest -= HOSTILE[kind](nb, qs, model)
        return nb, sum(q.points for q in qs if q.answer_id in honest), tuple(sorted(honest))
    else:
        raise ValueError(f"unknown submission kind {kind!r}")
    for q in qs:
        if q.answer_id in honest:
            _cell(nb, q.answer_id).source = model[q.answer_id]
    return nb, sum(q.points for q in qs if q.answer_id in honest), tuple(sorted(honest))


def notebook_name(course_root: Path, assignment: str) -> str:
    """The assignment's notebook file name (kefu assignments have exactly one notebook)."""
    paths = sorted((course_root / "source" / assignment).glob("*.ipynb"))
    if len(paths) != 1:
        raise SystemExit(f"{assignment}: expected one notebook in source/{assignment}, found {len(paths)}")
    return paths[0].name


def write_cohort(course_root: Path, assignment: str, kinds: list[str], seed: int = 0,
                 prefix: str = "trainee") -> list[Submission]:
    """Write one submission per entry of ``kinds`` into submitted/ and return what each deserves."""
    rng = random.Random(seed)
    name = notebook_name(course_root, assignment)
    source_nb = nbformat.read(course_root / "source" / assignment / name, as_version=4)
    release_nb = nbformat.read(course_root / "release" / assignment / name, as_version=4)
    cohort = []
    for number, kind in enumerate(kinds, 1):
        student = f"{prefix}{number:03d}"
        folder = course_root / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nb, expected, honest = build(release_nb, source_nb, kind, rng)
        nbformat.write(nb, folder / name)
        (folder / "timestamp.txt").write_text("2026-11-20 09:00:00.000000 UTC")
        cohort.append(Submission(student, kind, expected, honest))
    return cohort


def write_broken(course_root: Path, assignment: str, student: str) -> None:
    """A submission whose notebook is not JSON at all (a crashed upload, a renamed .docx)."""
    folder = course_root / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / notebook_name(course_root, assignment)).write_text('{"cells": [ 这不是一个完整的笔记本', encoding="utf-8")
