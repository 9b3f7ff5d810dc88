"""Each checker must be at least 95% accurate on each labelled set (tests/eval, tests/holdout)."""

import pytest
from eval.score import SETS, TASKS, evaluate

SCORES = {}


@pytest.mark.parametrize("which", sorted(SETS))
@pytest.mark.parametrize("task", sorted(TASKS))
def test_accuracy_at_least_95_percent(task, which):
    score = evaluate(task, which)
    SCORES[task, which] = score
    assert score.total >= (60 if which == "eval" else 30)
    assert score.accuracy >= 0.95, "\n".join(
        [score.line()] + [f"  expected {e} got {g}: {t}" for t, e, g in score.errors]
    )
