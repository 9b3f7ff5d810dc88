"""``InProcessExecute``: nbgrader's Execute step without a kernel.

After kefu's sanitiser a submission holds only the instructor's cells (restored by nbgrader's
OverwriteCells) and literal answers written by kefu itself, so nothing a trainee wrote is code.
Starting a Jupyter kernel per submission then buys isolation from nothing and costs about a
second. This preprocessor runs the cells in a fresh namespace inside the (warm) grading
process and writes the outputs nbgrader's Execute would write: stream output, the last
expression's value as an ``execute_result`` (nbgrader reads partial credit from it), errors as
``error`` outputs. Every other step (LimitOutput, SaveAutoGrades, late penalties, the
gradebook) stays nbgrader's own.

It is configured in nbgrader_config.py in place of ``Execute``; ``KEFU_EXECUTOR=kernel`` puts
nbgrader's kernel back for courses whose tests need one (plots, other languages).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import os
import signal
import threading
import time
import traceback
import warnings

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer


class CellTimeout(Exception):
    """A cell ran past ``InProcessExecute.timeout`` seconds."""


class _Stream:
    """A text stream that appends to the cell's outputs as a kernel's iopub messages would:
    consecutive writes to the same stream merge into one output."""

    def __init__(self, outputs: list, name: str):
        self.outputs, self.name = outputs, name

    def write(self, text) -> int:
        text = str(text)
        if not text:
            return 0
        last = self.outputs[-1] if self.outputs else None
        if last is not None and last.get("output_type") == "stream" and last.get("name") == self.name:
            last["text"] += text
        else:
            self.outputs.append(NotebookNode(output_type="stream", name=self.name, text=text))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _display_text(value) -> str:
    """``text/plain`` of a value, as IPython's display formatter writes it."""
    from IPython.lib.pretty import pretty

    return pretty(value, max_width=79)


@contextlib.contextmanager
def _time_limit(seconds: int | None):
    """Raise CellTimeout in the main thread after ``seconds`` (no limit elsewhere)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum, frame):
        raise CellTimeout(f"cell still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _error_output(exc: BaseException) -> NotebookNode:
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    # Drop this module's own frames: the traceback starts at the cell, as a kernel's does.
    return NotebookNode(output_type="error", ename=type(exc).__name__, evalue=str(exc),
                        traceback=[line.rstrip("\n") for line in lines if __file__ not in line])


def run_cell(source: str, namespace: dict, outputs: list, count: int, timeout: int | None) -> bool:
    """Execute one cell's source into ``outputs``; False if it raised (an error output is written)."""
    out, err = _Stream(outputs, "stdout"), _Stream(outputs, "stderr")
    try:
        tree = ast.parse(source, filename=f"<cell {count}>")
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        with _time_limit(timeout), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            exec(compile(tree, f"<cell {count}>", "exec"), namespace)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), f"<cell {count}>", "eval"), namespace)
                if value is not None:
                    namespace["_"] = value
                    outputs.append(NotebookNode(output_type="execute_result", execution_count=count,
                                                metadata={}, data={"text/plain": _display_text(value)}))
    except (Exception, CellTimeout, SystemExit, KeyboardInterrupt) as exc:  # the kernel reports all of these
        if isinstance(exc, CellTimeout):
            outputs.append(NotebookNode(output_type="error", ename="CellTimeoutError", evalue=str(exc),
                                        traceback=[f"CellTimeoutError: {exc}"]))
        else:
            outputs.append(_error_output(exc))
        return False
    return True


class InProcessExecute(NbGraderPreprocessor):
    """Run a sanitised notebook's code cells in-process, writing kernel-like outputs."""

    timeout = Integer(15, allow_none=True,
                      help="Seconds a cell may run before it is stopped with a CellTimeoutError.").tag(config=True)

    def preprocess(self, nb, resources):
        path = resources.get("metadata", {}).get("path") or os.getcwd()
        namespace = {"__name__": "__main__", "__builtins__": builtins}
        # The kernel's working directory is the notebook's folder (a recording next to it is read
        # from there). sys.path is left alone: files in a submission are never importable.
        saved_cwd = os.getcwd()
        os.chdir(path)
        started = time.perf_counter()
        # Fresh warning filters per notebook (this also resets "shown once" registries), so every
        # submission sees the warnings a fresh kernel would: a warning on stderr costs the points.
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            count = self._run(nb, namespace, path, saved_cwd)
        self.log.debug("in-process execution: %d cells in %.3f s", count, time.perf_counter() - started)
        return nb, resources

    def _run(self, nb, namespace: dict, path: str, saved_cwd: str) -> int:
        try:
            count = 0
            for cell in nb.cells:
                if cell.cell_type != "code" or not cell.source.strip():
                    continue  # nbclient skips empty cells too (no execution count)
                count += 1
                cell.outputs = []
                cell.execution_count = count
                run_cell(cell.source, namespace, cell.outputs, count, self.timeout)
        finally:
            os.chdir(saved_cwd)
        return count


class _CachedSchemaValidation:
    """Stand-in for the ``jsonschema`` module inside nbgrader's metadata validator.

    nbgrader validates every cell's metadata with ``jsonschema.validate``, which re-checks the
    schema itself on each call, and every ``MetadataValidator`` reads its schema afresh: about
    half of a kernel-free autograde. This does the same validation with one compiled validator
    per schema content: fastjsonschema (nbformat's own default validator) says whether the
    metadata is valid; only when it is not does jsonschema run, to raise the same best-match
    error ``jsonschema.validate`` raises.
    """

    def __init__(self):
        import jsonschema

        self._jsonschema = jsonschema
        self._by_content: dict[str, tuple] = {}
        self._last: tuple = (None, None)  # (schema object, its validators): one validator's cells in a row

    def _validators(self, schema) -> tuple:
        if self._last[0] is schema:
            return self._last[1]
        import json

        key = json.dumps(schema, sort_keys=True)
        found = self._by_content.get(key)
        if found is None:
            cls = self._jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            try:
                import fastjsonschema

                # use_default=False: fastjsonschema would otherwise write the schema's defaults
                # into the metadata it checks (jsonschema only reads it)
                quick = fastjsonschema.compile(schema, use_default=False)
            except Exception:  # a schema fastjsonschema cannot compile: jsonschema alone
                quick = None
            found = self._by_content[key] = (cls(schema), quick)
        self._last = (schema, found)
        return found

    def validate(self, instance, schema) -> None:
        full, quick = self._validators(schema)
        if quick is not None:
            try:
                quick(instance)
                return
            except Exception:  # not valid (or not checkable quickly): jsonschema decides and names the error
                pass
        error = self._jsonschema.exceptions.best_match(full.iter_errors(instance))
        if error is not None:
            raise error

    def __getattr__(self, name):  # anything else nbgrader might use stays jsonschema's
        return getattr(self._jsonschema, name)


def cache_metadata_validation() -> None:
    """Install the cached validation in nbgrader's metadata validator (idempotent)."""
    from nbgrader.nbgraderformat import common

    if not isinstance(common.jsonschema, _CachedSchemaValidation):
        common.jsonschema = _CachedSchemaValidation()
