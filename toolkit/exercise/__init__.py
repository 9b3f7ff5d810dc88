"""What runs inside the trainee's kernel for an assignment: ``Question`` for nbgrader test cells,
``自检`` for the trainee's self-check, and ``answers`` (answer cells hold plain text: the kernel
records it, the parsers read it).

Import-light: never imports nbgrader, pandas, matplotlib or anything in ``toolkit.grading``
(the instructor's side), so an assignment's setup cell stays fast.
"""

from . import answers
from .question import Question
from .selfcheck import 自检

__all__ = ["Question", "answers", "自检"]
