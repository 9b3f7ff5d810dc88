"""Each checker must be at least 95% accurate on its labelled evaluation set (tests/eval)."""

import pytest

from eval.score import TASKS, evaluate

SCORES = {}


@pytest.mark.parametrize("task", sorted(TASKS))
def test_accuracy_at_least_95_percent(task):
    score = evaluate(task)
    SCORES[task] = score
    assert score.total >= 60
    assert score.accuracy >= 0.95, "\n".join(
        [score.line()] + [f"  expected {e} got {g}: {t}" for t, e, g in score.errors]
    )
