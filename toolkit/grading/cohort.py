"""Synthetic cohorts of submissions: for ``kefu demo``, the end-to-end tests and the benchmark.

Submissions are built from the RELEASED notebook (what trainees really get) by filling answer
cells with the model answers from the source notebook, leaving them blank, giving answers of
the wrong type, or damaging the notebook the way hostile or careless trainees do. For every
submission the autograded score it deserves is computed from which questions were answered
honestly and correctly — never taken from a grading run.
"""

from __future__ import annotations

import copy
import random
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.v4.nbbase import random_cell_id

_DELIMITER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


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
    """Autograded answer cells of the source notebook with the solution delimiters removed."""
    answers = {}
    for cell in source_nb.cells:
        meta = _meta(cell)
        if cell.cell_type == "code" and meta.get("solution") and not meta.get("grade"):
            answers[meta["grade_id"]] = "\n".join(l for l in cell.source.splitlines() if not _DELIMITER.match(l))
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


def _index(nb, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if _meta(c).get("grade_id") == grade_id)


def _added(nb, after_id: str, source: str) -> None:
    nb.cells.insert(_index(nb, after_id) + 1, nbformat.v4.new_code_cell(source))


# Each hostile kind: (description, function(nb, qs, model) -> ids of questions it spoils).
# A spoiled question earns nothing; the others keep their honest model answers.
def _loop(nb, qs, model):
    _cell(nb, qs[0].answer_id).source = "while True:\n    pass\n" + model[qs[0].answer_id]
    return {qs[0].answer_id}


def _sys_exit(nb, qs, model):
    _cell(nb, qs[0].answer_id).source = model[qs[0].answer_id] + "\nimport sys\nsys.exit(0)"
    return {qs[0].answer_id}


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
    _cell(nb, qs[0].answer_id).source = patch + '回答_q = "喂,你到底想干嘛"'
    _added(nb, qs[1].answer_id, "import builtins\nbuiltins.bool = lambda x: True\nbuiltins.print = lambda *a, **k: None")
    return {qs[0].answer_id}


def _answer_name(model_source: str) -> str:
    return model_source.split("=")[0].strip()


def _edited_test(nb, qs, model):
    _cell(nb, qs[0].test_id).source = f"{qs[0].points}  # full marks, please"
    _cell(nb, qs[0].answer_id).source = f'{_answer_name(model[qs[0].answer_id])} = "……"'  # no answer
    return {qs[0].answer_id}


def _deleted_cells(nb, qs, model):
    nb.cells.remove(_cell(nb, qs[0].test_id))  # nbgrader puts it back
    nb.cells.remove(_cell(nb, qs[1].answer_id))  # put back blank: no answer, no points
    return {qs[1].answer_id}


def _duplicated_cells(nb, qs, model):
    twin = copy.deepcopy(_cell(nb, qs[0].answer_id))
    twin.source = '回答_dup = "喂"'
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


def _wrong_types(nb, qs, model):
    values = ["None", "42", "['您好', 3]", "3.14", "{'a': 1}"]
    for q, value in zip(qs, values):
        _cell(nb, q.answer_id).source = f"{_answer_name(model[q.answer_id])} = {value}"
    return {q.answer_id for q in qs[: len(values)]}


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
    "wrong-types": _wrong_types,
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
