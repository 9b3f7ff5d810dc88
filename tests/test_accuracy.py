"""Each checker must be at least 95% accurate on each labelled set (tests/eval, tests/holdout),
and on every group of those sets (issue 8: adversarial groups must not hide behind the total)."""

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
    low = {g: f"{c}/{n}" for g, (c, n) in score.groups.items() if c / n < 0.95}
    assert not low, f"{score.line()}: groups under 95%: {low}"


@pytest.mark.parametrize("which", sorted(SETS))
@pytest.mark.parametrize("task", ["review", "three_f"])
def test_adversarial_groups_are_large_enough(task, which):
    """Issue 8: at least 40 items in each adversarial group of the development set."""
    score = evaluate(task, which)
    groups = {g: n for g, (c, n) in score.groups.items() if g != "base"}
    assert groups and all(n >= (40 if which == "eval" else 10) for n in groups.values()), groups
