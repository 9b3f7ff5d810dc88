"""The instructor's grading machinery, used by the ``kefu`` command and ``nbgrader_config.py``:
sanitiser, nbgrader hooks, in-process executor, parallel driver, exchange, roster, export,
feedback, report, demo, watch and gradebook backups. Nothing here runs in the trainee's kernel;
that side is ``toolkit.exercise``.

Importing this package loads none of its modules: each caller imports the one it needs.
"""

# For notebooks released before the split: their setup cell says
# ``from toolkit.grading import Question, 自检, answers``. The names come from toolkit.exercise,
# imported only when asked for, so the instructor's modules stay out of the trainee's kernel.
_MOVED_TO_EXERCISE = ("Question", "answers", "自检")


def __getattr__(name: str):
    if name in _MOVED_TO_EXERCISE:
        import toolkit.exercise

        return getattr(toolkit.exercise, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
