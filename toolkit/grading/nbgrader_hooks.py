"""nbgrader integration: preprocessors kefu adds to nbgrader's own pipelines.

``configure(c)`` is called from the course's nbgrader_config.py:
- autograde: ``ForgetDuplicates`` repairs what nbgrader's DeduplicateIds leaves behind;
- autograde: after nbgrader's OverwriteCells restores instructor cells, ``StripTraineeCode``
  turns each answer cell into a literal kefu builds from the trainee's text, empties cells the
  trainee added and makes trainee text inert (see ``sanitize``), so nothing a trainee wrote
  runs, in the kernel or in a browser; after execution ``RestoreAnswerText`` shows the answers
  as written again;
- validate (the Validate button of the Assignment List): ``answers_as_data_on_validate`` runs
  each answer cell as the literal of its text, as autograde does (nbclient sends no cell
  metadata, so the trainee kernel's transformer cannot tell answer cells apart there);
- every HTML page nbconvert renders from a notebook (formgrader's submission view, feedback):
  ``RenderSafely`` sanitises outputs with nbconvert's SanitizeHTML and makes trainee cells inert
  again, since nbgrader's formgrade and feedback templates render markdown unsanitised;
- generate_feedback: ``ClearHiddenTests`` strips hidden tests from the feedback (nbgrader #917),
  ``HideTracebacks`` keeps tracebacks from quoting them, and ``RefuseLeaks`` fails a trainee's
  feedback if an instructor cell still shows a hidden test or solution.
"""

from __future__ import annotations

import sys


def _import_jsonschema_without_iri_parser() -> None:
    """Import jsonschema (nbformat's validator) without ``rfc3987_syntax``, when it is not loaded yet.

    jsonschema registers an "iri" format checker if ``rfc3987_syntax`` is installed, and that
    module builds a Lark grammar when imported: about 2 s of every ``kefu`` command's start on
    the 2-core machine. No schema nbformat or nbgrader validates uses the "iri" format (and
    format checks are off in their validation), so the checker is left out. Blocked only while
    jsonschema imports: anything importing ``rfc3987_syntax`` itself later gets it.
    """
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        return
    sys.modules["rfc3987_syntax"] = None  # makes its import raise ImportError, which jsonschema skips
    try:
        import jsonschema  # noqa: F401
    finally:
        del sys.modules["rfc3987_syntax"]


_import_jsonschema_without_iri_parser()

from nbconvert.preprocessors.sanitize import SanitizeHTML  # noqa: E402
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor  # noqa: E402
from traitlets import Int  # noqa: E402

from . import markers  # noqa: E402
from ..exercise.answers import answer_name, answer_text, literal_source  # noqa: E402
from .html_safety import clean_markdown  # noqa: E402
from .sanitize import MAX_ANSWER_CHARS, forget_duplicates, instructor_cell, restore_answer_text, sanitize_notebook  # noqa: E402


class ForgetDuplicates(NbGraderPreprocessor):
    """Right after nbgrader's DeduplicateIds: demoted duplicates become plain cells."""

    def preprocess(self, nb, resources):
        forget_duplicates(nb)
        return nb, resources


class StripTraineeCode(NbGraderPreprocessor):
    """Keep only literal answers in answer cells and empty cells the trainee added."""

    max_answer_chars = Int(MAX_ANSWER_CHARS, help="Answers longer than this are cut (and the summary says so).").tag(config=True)

    def preprocess(self, nb, resources):
        removed = sanitize_notebook(nb, self.max_answer_chars)
        for line in removed:
            self.log.warning("kefu sanitiser: %s", line)
        return nb, resources


class RestoreAnswerText(NbGraderPreprocessor):
    """Right after execution: answer cells show the trainee's words, not kefu's literal."""

    def preprocess(self, nb, resources):
        restore_answer_text(nb)
        return nb, resources


def answers_as_data_on_validate(cell, cell_index) -> None:
    """nbclient hook, before a cell runs: under ``nbgrader validate`` an answer cell becomes the
    literal of its text (under autograde the sanitiser has done so already)."""
    import os

    meta = cell.get("metadata", {}).get("nbgrader", {})
    if os.environ.get("NBGRADER_EXECUTION") == "validate" and meta.get("solution") and not meta.get("grade"):
        name = answer_name(meta.get("grade_id", ""))
        cell.source = literal_source(name, answer_text(cell.source)) if name else ""


class RenderSafely(SanitizeHTML):
    """Before a notebook becomes a page: no live output (nbconvert's SanitizeHTML drops scripts
    and unknown mimetypes, cleans HTML), trainee markdown and raw cells inert, no nbgrader marker
    in trainee cells. Instructor cells keep their markdown (their source is nbgrader-restored)."""

    def preprocess(self, nb, resources):
        nb.metadata.pop("widgets", None)  # widget state is rendered into a <script> element
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            cell.outputs = self.sanitize_code_outputs(cell.get("outputs", []))
        if instructor_cell(cell):
            return cell, resources
        cell.source = markers.neutralise(cell.source)
        if cell.cell_type in ("markdown", "raw"):
            cell.source = clean_markdown(cell.source)
            cell.pop("attachments", None)
        return cell, resources


class HideTracebacks(NbGraderPreprocessor):
    """Feedback shows an error's name and message, never its traceback: a traceback quotes the
    lines around the failing one, hidden tests included."""

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


class RefuseLeaks(NbGraderPreprocessor):
    """Last before rendering feedback: an instructor cell that still holds an nbgrader marker
    would show a hidden test or solution, so this trainee's feedback fails instead."""

    def preprocess(self, nb, resources):
        from .feedback import leaks

        found = leaks(nb)
        if found:
            raise RuntimeError(f"feedback would reveal hidden tests or solutions: {'; '.join(found)}")
        return nb, resources


def configure(c) -> None:
    import os

    from nbgrader.converters.autograde import Autograde
    from nbgrader.converters.generate_feedback import GenerateFeedback
    from nbgrader.preprocessors import DeduplicateIds, Execute, GetGrades, OverwriteCells

    from .inprocess import InProcessExecute, cache_metadata_validation

    cache_metadata_validation()

    sanitize = Autograde.class_traits()["sanitize_preprocessors"].default()
    sanitize.insert(sanitize.index(OverwriteCells) + 1, StripTraineeCode)
    sanitize.insert(sanitize.index(DeduplicateIds) + 1, ForgetDuplicates)
    from .refuse_links import RefuseLinkedFiles  # plain autograde: no grading through a trainee's links

    sanitize.insert(0, RefuseLinkedFiles)
    c.Autograde.sanitize_preprocessors = sanitize
    # Answers are data after the sanitiser, so no kernel is needed to run the instructor's tests;
    # KEFU_EXECUTOR=kernel keeps nbgrader's own Execute (a kernel per submission).
    grade = Autograde.class_traits()["autograde_preprocessors"].default()
    if os.environ.get("KEFU_EXECUTOR", "inprocess") != "kernel":
        grade[grade.index(Execute)] = InProcessExecute
    grade.insert(grade.index(InProcessExecute if InProcessExecute in grade else Execute) + 1, RestoreAnswerText)
    c.Autograde.autograde_preprocessors = grade
    c.Execute.on_cell_execute = answers_as_data_on_validate
    feedback = GenerateFeedback.class_traits()["preprocessors"].default()
    at = feedback.index(GetGrades) + 1
    feedback[at:at] = [ClearHiddenTests, HideTracebacks, RefuseLeaks]
    c.GenerateFeedback.preprocessors = feedback
    # Every HTMLExporter: formgrader's submission view and generate_feedback. The exporter's own
    # preprocessors run before nbgrader's, so trainee markers are broken before ClearHiddenTests.
    c.HTMLExporter.preprocessors = [RenderSafely]
    c.HTMLExporter.sanitize_html = True  # nbconvert's templates then clean output HTML too
