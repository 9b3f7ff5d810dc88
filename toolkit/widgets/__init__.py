"""Drill widgets for the course notebooks (ipywidgets 8): thin views over toolkit.checks and the
knowledge base. Every item comes from ``toolkit/data`` (``kb.load``); every string a trainee sees
is Simplified Chinese (``toolkit/widgets/ui.toml``). Each public function returns a displayable
VBox whose ``.drill`` attribute is the drill object (controls for tests and notebooks).

Answers are recorded in the progress store (``toolkit.progress``). pandas and matplotlib are
imported only when ``dashboard()`` is called.
"""

from .chat import chat_drill
from .choice import choice_drill
from .dashboard import dashboard
from .order import order_drill
from .reply import reply_drill
from .simulator import call_simulator
from .sort import sort_drill


def voice_drill(*args, **kwargs):
    """The voice drill (toolkit.widgets.voice); imported on first use so the other drills stay light."""
    from .voice import voice_drill as make

    return make(*args, **kwargs)


__all__ = ["chat_drill", "choice_drill", "sort_drill", "order_drill", "reply_drill", "call_simulator", "dashboard", "voice_drill"]
