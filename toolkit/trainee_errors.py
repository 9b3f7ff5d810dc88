"""Short Chinese messages instead of tracebacks in a trainee's kernel.

``install()`` replaces the IPython shell's traceback display: a cell run before the ones it
needs (NameError), a missing package, an edited cell (SyntaxError), an interrupt or any other
error shows one line saying what to do. The output is still an ``error`` output, so "Run All"
stops there and nbval still fails on a real error; the full traceback goes to the kernel's real
stderr (the Jupyter server's log), where instructors find it.

scripts/start.sh (trainee start) and the hub's trainee servers load it through $PYTHONSTARTUP
(hub/jupyter/trainee/kernel_startup.py), so it works before the notebook imports anything. Import-light: the
standard library only; the messages live in toolkit/widgets/ui.toml ([errors]).
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
import traceback
from functools import cache
from pathlib import Path

__all__ = ["message_for", "install", "load_ipython_extension", "log_exception"]

_UI = Path(__file__).resolve().parent / "widgets" / "ui.toml"
_CJK = re.compile(r"[\u4e00-\u9fff]")
_ASCII_WORD = re.compile(r"[A-Za-z_]{3,}")
_TOOLKIT_PACKAGES = {"toolkit", "ipywidgets", "pandas", "matplotlib", "opencc", "ahocorasick", "nbgrader"}


@cache
def _messages() -> dict[str, str]:
    return tomllib.loads(_UI.read_text(encoding="utf-8"))["errors"]


def _written_for_trainees(text: str) -> bool:
    """A message the raising code already wrote for trainees: Chinese sentences, no English words."""
    return len(_CJK.findall(text)) >= 6 and not _ASCII_WORD.search(text) and len(text) <= 400


def message_for(exc: BaseException | type[BaseException]) -> str:
    """The Chinese message a trainee sees for ``exc`` (an exception or its type). An exception
    whose own text is already a Chinese message for trainees (a checker or an assignment's
    setup raising one) keeps it."""
    etype = exc if isinstance(exc, type) else type(exc)
    m = _messages()
    if isinstance(exc, BaseException) and _written_for_trainees(str(exc).strip()):
        return str(exc).strip()
    if issubclass(etype, KeyboardInterrupt):
        return m["interrupted"]
    if issubclass(etype, ImportError):  # ModuleNotFoundError included
        name = getattr(exc, "name", None) if isinstance(exc, BaseException) else None
        name = name if isinstance(name, str) else ""
        return m["not_installed"] if not name or name.split(".")[0] in _TOOLKIT_PACKAGES else m["other"]
    if issubclass(etype, NameError):  # UnboundLocalError included: a cell run out of order
        return m["not_run_yet"]
    if issubclass(etype, SyntaxError):
        return m["edited"]
    if issubclass(etype, FileNotFoundError):
        return m["missing_file"]
    return m["other"]


def _log(etype, value, tb) -> None:
    """The real traceback, for the instructor: the kernel process's own stderr (the server log).

    ipykernel forwards whatever reaches file descriptor 2 to the notebook, so write to the copy
    of the original descriptor it keeps, never to the notebook."""
    try:
        text = "[kefu] traceback hidden from the trainee:\n" + "".join(traceback.format_exception(etype, value, tb))
        fd = getattr(sys.stderr, "_original_stdstream_copy", None)
        if fd is not None:
            os.write(fd, text.encode("utf-8", "replace"))
        elif not hasattr(sys.stderr, "session"):  # not ipykernel's OutStream: a plain process
            sys.__stderr__.write(text)
    except Exception:  # noqa: BLE001 - logging must never add an error of its own
        pass


def log_exception(exc: BaseException) -> None:
    """Log ``exc`` with its traceback where the instructor looks, never on the trainee's page."""
    _log(type(exc), exc, exc.__traceback__)


def install(shell=None) -> bool:
    """Replace ``shell``'s traceback display (default: the running IPython). True if installed."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None or getattr(shell, "_kefu_trainee_errors", False):
        return False

    def show(etype, value, tb) -> None:
        _log(etype, value, tb)
        # One line, no traceback: still an `error` output (Run All stops, nbval fails).
        shell._showtraceback(etype, value, [message_for(value if value is not None else etype)])

    def showtraceback(exc_tuple=None, filename=None, tb_offset=None, exception_only=False,
                      running_compiled_code=False):
        try:
            etype, value, tb = shell._get_exc_info(exc_tuple)
        except ValueError:  # no exception to show
            return
        show(etype, value, tb)

    def showsyntaxerror(filename=None, running_compiled_code=False):
        etype, value, tb = sys.exc_info()
        if etype is None:
            return
        show(etype, value, tb)

    # Cell errors and widget callbacks (ipywidgets calls showtraceback) both come through here.
    shell.showtraceback = showtraceback
    shell.showsyntaxerror = showsyntaxerror
    shell._kefu_trainee_errors = True
    return True


def load_ipython_extension(shell) -> None:
    """``%load_ext toolkit.trainee_errors`` works too."""
    install(shell)
