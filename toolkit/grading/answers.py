"""For notebooks released before the split: their setup cell says
``from toolkit.grading.answers import choice, letters, lines, ordered, is_question``.

A submodule import is not answered by the package's ``__getattr__``, so this name stays as an
alias: importing it gives ``toolkit.exercise.answers`` itself (the same module object, so the
answers a kernel records are the same whichever name a notebook used). New code imports
``toolkit.exercise.answers``.
"""

import sys

from toolkit.exercise import answers as _answers

sys.modules[__name__] = _answers
