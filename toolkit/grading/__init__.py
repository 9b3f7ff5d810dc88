"""Grading helpers that run inside the trainee's kernel: ``Question`` for nbgrader test cells,
``自检`` for the trainee's self-check, and ``answers`` (answer cells hold plain text: the kernel
records it, the parsers read it). Import-light: never imports nbgrader.

Instructor-side parts (sanitiser, parallel grading, export, report) live in sibling modules
and are imported only by the ``kefu`` command and ``nbgrader_config.py``.
"""

from . import answers
from .question import Question
from .selfcheck import 自检

__all__ = ["Question", "answers", "自检"]
