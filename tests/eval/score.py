"""Accuracy of toolkit.checks on the labelled evaluation set in this folder.

Each TOML file holds `[[item]]` entries with `text` and `label`; TASKS maps a file to the
checker's answer in the same label vocabulary.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from toolkit import checks

HERE = Path(__file__).parent


def _three_f(text: str) -> str:
    result = checks.three_f(text)
    return "ok" if result.ok else ("incomplete" if result.missing else "wrong-order")


TASKS = {
    "questions": checks.classify_question,
    "spin": checks.spin_type,
    "fab": checks.fab_label,
    "complaints": checks.complaint_type,
    "forbidden": lambda text: "forbidden" if checks.find_forbidden(text) else "clean",
    "three_f": _three_f,
    "review": lambda text: "ok" if checks.review_reply(text).ok else "not-ok",
}


@dataclass
class Score:
    task: str
    correct: int
    total: int
    errors: list[tuple[str, str, str]]  # (text, expected, got)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total

    def line(self) -> str:
        return f"{self.task:<20} {self.correct:>4}/{self.total:<4} {self.accuracy:6.1%}"


# tests/eval: the development set; tests/holdout: written later by someone who saw neither the
# rules nor the development set (its first-look accuracy is in the closing notes).
SETS = {"eval": HERE, "holdout": HERE.parent / "holdout"}


def items(task: str, which: str = "eval") -> list[dict]:
    return tomllib.loads((SETS[which] / f"{task}.toml").read_text(encoding="utf-8"))["item"]


def evaluate(task: str, which: str = "eval") -> Score:
    predict = TASKS[task]
    errors = []
    data = items(task, which)
    for item in data:
        got = str(predict(item["text"]))
        if got != item["label"]:
            errors.append((item["text"], item["label"], got))
    return Score(f"{task} ({which})" if which != "eval" else task, len(data) - len(errors), len(data), errors)


if __name__ == "__main__":
    import sys

    for which in SETS:
        for task in sys.argv[1:] or TASKS:
            score = evaluate(task, which)
            print(score.line())
            for text, expected, got in score.errors:
                print(f"    expected {expected:<12} got {got:<12} {text}")
