"""nbgrader integration: preprocessors kefu adds to nbgrader's own pipelines.

``configure(c)`` is called from the course's nbgrader_config.py:
- autograde: ``ForgetDuplicates`` repairs what nbgrader's DeduplicateIds leaves behind;
- autograde: after nbgrader's OverwriteCells restores instructor cells, ``StripTraineeCode``
  turns each answer cell into a literal kefu builds from the trainee's text and empties cells the
  trainee added (see ``sanitize``), so nothing a trainee wrote runs; after execution
  ``RestoreAnswerText`` shows the answers as written again;
- validate (the Validate button of the Assignment List): ``answers_as_data_on_validate`` runs
  each answer cell as the literal of its text, as autograde does (nbclient sends no cell metadata,
  so the trainee kernel's transformer cannot tell answer cells apart there);
- generate_feedback: ``ClearHiddenTests`` strips hidden tests from the feedback (nbgrader #917)
  and ``HideTracebacks`` keeps tracebacks from quoting them.
"""

from __future__ import annotations

from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor

from .answers import answer_name, answer_text, literal_source
from .sanitize import forget_duplicates, restore_answer_text, sanitize_notebook


class ForgetDuplicates(NbGraderPreprocessor):
    """Right after nbgrader's DeduplicateIds: demoted duplicates become plain cells."""

    def preprocess(self, nb, resources):
        forget_duplicates(nb)
        return nb, resources


class StripTraineeCode(NbGraderPreprocessor):
    """Keep only literal answers in answer cells and empty cells the trainee added."""

    def preprocess(self, nb, resources):
        removed = sanitize_notebook(nb)
        for line in removed:
            self.log.warning("kefu sanitiser: %s", line)
        return nb, resources


class RestoreAnswerText(NbGraderPreprocessor):
    """Right after execution: answer cells show the trainee's words, not kefu's literal."""

    def preprocess(self, nb, resources):
        restore_answer_text(nb)
        return nb, resources


class HideTracebacks(NbGraderPreprocessor):
    """Feedback shows an error's name and message, never its traceback: a traceback quotes the
    lines around the failing one, hidden tests included."""

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


def answers_as_data_on_validate(cell, cell_index) -> None:
    """nbclient hook, before a cell runs: under ``nbgrader validate`` an answer cell becomes the
    literal of its text (under autograde the sanitiser has done so already)."""
    import os

    meta = cell.get("metadata", {}).get("nbgrader", {})
    if os.environ.get("NBGRADER_EXECUTION") == "validate" and meta.get("solution") and not meta.get("grade"):
        name = answer_name(meta.get("grade_id", ""))
        cell.source = literal_source(name, answer_text(cell.source)) if name else ""


def configure(c) -> None:
    from nbgrader.converters.autograde import Autograde
    from nbgrader.converters.generate_feedback import GenerateFeedback
    from nbgrader.preprocessors import DeduplicateIds, Execute, GetGrades, OverwriteCells

    sanitize = Autograde.class_traits()["sanitize_preprocessors"].default()
    sanitize.insert(sanitize.index(OverwriteCells) + 1, StripTraineeCode)
    sanitize.insert(sanitize.index(DeduplicateIds) + 1, ForgetDuplicates)
    c.Autograde.sanitize_preprocessors = sanitize
    autograde = Autograde.class_traits()["autograde_preprocessors"].default()
    autograde.insert(autograde.index(Execute) + 1, RestoreAnswerText)
    c.Autograde.autograde_preprocessors = autograde
    feedback = GenerateFeedback.class_traits()["preprocessors"].default()
    feedback.insert(feedback.index(GetGrades) + 1, ClearHiddenTests)
    feedback.insert(feedback.index(ClearHiddenTests) + 1, HideTracebacks)
    c.GenerateFeedback.preprocessors = feedback
    c.Execute.on_cell_execute = answers_as_data_on_validate
