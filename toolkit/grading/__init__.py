"""Grading helpers that run inside the trainee's kernel: ``Question`` for nbgrader test cells
and ``自检`` for the trainee's self-check. Import-light: never imports nbgrader.

Instructor-side parts (sanitiser, parallel grading, export, report) live in sibling modules
and are imported only by the ``kefu`` command and ``nbgrader_config.py``.
"""

from .question import Question
from .selfcheck import 自检

__all__ = ["Question", "自检"]
