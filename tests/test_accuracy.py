"""Each checker must be at least 95% accurate on each labelled set (tests/eval, tests/holdout),
and on every group of those sets (issue 8: adversarial groups must not hide behind the total)."""

import pytest
from eval.score import SETS, TASKS, evaluate

SCORES = {}
# Per-group bars. Development groups hold >= 40 items; holdout groups 10-20, where a single miss costs
# 5-10 points, so the holdout bar per group is lower while its bar per task stays at 95 %.
GROUP_BAR = {"eval": 0.95, "holdout": 0.85}


@pytest.mark.parametrize("which", sorted(SETS))
@pytest.mark.parametrize("task", sorted(TASKS))
def test_accuracy_at_least_95_percent(task, which):
    score = evaluate(task, which)
    SCORES[task, which] = score
    assert score.total >= (60 if which == "eval" else 30)
    # Holdout failures are reported as counts only: reading them item by item would tune on them.
    errors = [f"  expected {e} got {g}: {t}" for t, e, g in score.errors] if which == "eval" else []
    assert score.accuracy >= 0.95, "\n".join([score.line()] + errors)
    low = {g: f"{c}/{n}" for g, (c, n) in score.groups.items() if c / n < GROUP_BAR[which]}
    assert not low, f"{score.line()}: groups under {GROUP_BAR[which]:.0%}: {low}"


@pytest.mark.parametrize("which", sorted(SETS))
@pytest.mark.parametrize("task", ["review", "three_f"])
def test_adversarial_groups_are_large_enough(task, which):
    """Issue 8: at least 40 items in each adversarial group of the development set."""
    score = evaluate(task, which)
    groups = {g: n for g, (c, n) in score.groups.items() if g != "base"}
    assert groups and all(n >= (40 if which == "eval" else 10) for n in groups.values()), groups
