"""nbgrader integration: preprocessors kefu adds to nbgrader's own pipelines.

``configure(c)`` is called from the course's nbgrader_config.py:
- autograde: ``ForgetDuplicates`` repairs what nbgrader's DeduplicateIds leaves behind;
- autograde: after nbgrader's OverwriteCells restores instructor cells, ``StripTraineeCode``
  removes every piece of trainee code (see ``sanitize``), so hostile submissions cannot run;
- generate_feedback: ``ClearHiddenTests`` strips hidden tests from the feedback (nbgrader #917)
  and ``HideTracebacks`` keeps tracebacks from quoting them.
"""

from __future__ import annotations

from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor

from .sanitize import forget_duplicates, sanitize_notebook


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


class HideTracebacks(NbGraderPreprocessor):
    """Feedback shows an error's name and message, never its traceback: a traceback quotes the
    lines around the failing one, hidden tests included."""

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


def configure(c) -> None:
    from nbgrader.converters.autograde import Autograde
    from nbgrader.converters.generate_feedback import GenerateFeedback
    from nbgrader.preprocessors import DeduplicateIds, GetGrades, OverwriteCells

    sanitize = Autograde.class_traits()["sanitize_preprocessors"].default()
    sanitize.insert(sanitize.index(OverwriteCells) + 1, StripTraineeCode)
    sanitize.insert(sanitize.index(DeduplicateIds) + 1, ForgetDuplicates)
    from .refuse_links import RefuseLinkedFiles  # plain autograde: no grading through a trainee's links

    sanitize.insert(0, RefuseLinkedFiles)
    c.Autograde.sanitize_preprocessors = sanitize
    feedback = GenerateFeedback.class_traits()["preprocessors"].default()
    feedback.insert(feedback.index(GetGrades) + 1, ClearHiddenTests)
    feedback.insert(feedback.index(ClearHiddenTests) + 1, HideTracebacks)
    c.GenerateFeedback.preprocessors = feedback
