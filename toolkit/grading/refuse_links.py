"""Plain ``nbgrader autograde``: a submission holding links, FIFOs or outside hard links fails.

``kefu grade`` and kefu's collect never read through a trainee's links (``safe_files``). Plain
``nbgrader autograde`` reads ``submitted/`` itself, so a notebook linked to ``source/`` would
earn the model answers' marks. This first sanitising step refuses such a submission: nbgrader
then reports it as failed and removes what it had copied into ``autograded/``; grade it with
``kefu grade``, which drops the links and grades the rest. Under ``kefu grade`` it sees the
checked copy and never fires.
"""

from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

from .safe_files import inspect


class RefuseLinkedFiles(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        folder = resources.get("metadata", {}).get("path")
        if folder and resources.get("nbgrader", {}).get("student"):
            refused = inspect(folder)
            if refused:
                raise RuntimeError("kefu: submission refused (grade it with `kefu grade`, which drops these): "
                                   + "; ".join(map(str, refused)))
        return nb, resources
