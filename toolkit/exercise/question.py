"""``Question``: the object an nbgrader test cell builds to check one answer.

A test cell looks like::

    q = Question("第1题", 回答1, points=2)
    q.expect(lambda a: 是问句(a), "要写成一个问句……")
    ### BEGIN HIDDEN TESTS
    q.expect(lambda a: checks.classify_question(a) == "open", "改写后要是开放式问题……")
    ### END HIDDEN TESTS
    q.score()

``回答1`` is the text of the answer cell (a ``str``: see ``answers``), whatever the trainee wrote.

Each ``expect`` is one check worth an equal share of the points. ``score()`` prints what passed
and what to fix (Chinese); under autograde it returns the points earned as the cell's value,
which nbgrader reads as partial credit. A checker that raises (e.g. an answer of the wrong type) fails that
check with a Chinese message instead of an error, so the cell never goes to stderr.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .answers import unanswered


@dataclass
class Outcome:
    passed: bool
    message: str
    required: bool = False


class Question:
    def __init__(self, name: str, answer, points: float = 1):
        self.name = name
        self.answer = answer
        self.points = points
        self.outcomes: list[Outcome] = []

    def unanswered(self) -> str | None:
        """A Chinese reason if the answer is missing or a placeholder."""
        if not isinstance(self.answer, str):  # only kefu's own literal or the kernel's record set it
            return "答案格里只写你的答案（文字或字母），不要写代码。"
        if unanswered(self.answer):
            return "还没有作答：在这道题的答案格里写下你的答案，再运行它（Shift+Enter）。"
        return None

    def expect(self, check, message: str, passed_message: str = "") -> bool:
        """Record one check: ``check(answer)`` must be truthy; ``message`` says what to fix."""
        problem = self.unanswered()
        if problem:
            self.outcomes.append(Outcome(False, problem))
            return False
        try:
            passed = bool(check(self.answer))
        except (TypeError, ValueError) as exc:
            passed, message = False, f"{message}（答案格式有误：{str(exc).split('(')[0]}）"
        self.outcomes.append(Outcome(passed, passed_message if passed else message))
        return passed

    def require(self, check, message: str, passed_message: str = "") -> bool:
        """Like ``expect``, but the question earns nothing unless it passes: e.g. a reply the
        review judges unacceptable (stuffed with polite words, abusive, off the customer's
        matter) gets no credit for the other checks it happens to meet."""
        passed = self.expect(check, message, passed_message)
        self.outcomes[-1].required = True
        return passed

    @property
    def earned(self) -> float:
        if not self.outcomes or any(o.required and not o.passed for o in self.outcomes):
            return 0.0
        share = self.points / len(self.outcomes)
        return round(share * sum(o.passed for o in self.outcomes), 2)

    def report(self) -> str:
        if graded():
            lines = [f"{self.name}:{self.earned:g} / {self.points:g} 分"]
        else:  # the trainee's own run: only the public checks are here, so no score is shown
            lines = [f"{self.name}（公开检查；正式评分时还有更多检查）："]
        seen = set()
        for outcome in self.outcomes:
            if outcome.passed:
                lines.append(f"  ✔ {outcome.message or '通过一项检查'}")
            elif outcome.message not in seen:
                lines.append(f"  ✘ {outcome.message}")
            seen.add(outcome.message)
        return "\n".join(lines)

    def score(self) -> float | None:
        """Print the outcome; under nbgrader's autograde, return the points earned (partial credit).

        In the trainee's own kernel it returns None: a number there would look like a final score
        although the hidden checks have not run.
        """
        print(self.report())
        return self.earned if graded() else None


def graded() -> bool:
    """True while nbgrader autogrades (it sets NBGRADER_EXECUTION for the kernel it starts)."""
    return os.environ.get("NBGRADER_EXECUTION") == "autograde"
