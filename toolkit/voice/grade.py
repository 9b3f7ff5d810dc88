"""A graded reading task: the trainee saves a recording next to the assignment notebook and an
nbgrader test cell checks its speech rate and pauses.

    q = RecordingQuestion("第7题", "朗读", script="您好……", points=2)
    q.expect(lambda r: r.speaking_time > 0, "……", "找到了录音")
    ### BEGIN HIDDEN TESTS
    q = RecordingQuestion("第7题", "朗读", script="您好……", points=2)
    q.expect(lambda r: 100 <= r.rate <= 200, "……")
    ### END HIDDEN TESTS
    q.score()

The answer is the :class:`~toolkit.voice.VoiceReport` of the newest ``朗读.*`` audio file in the
working directory (nbgrader runs the notebook in the trainee's folder, where it copies the
submission's other files). A missing or unusable file fails every check with the Chinese reason
(0 points), never an error.
"""

from __future__ import annotations

from pathlib import Path

from ..exercise.question import Question
from .settings import text

AUDIO_SUFFIXES = (".wav", ".webm", ".ogg", ".opus", ".mp3", ".m4a", ".flac")


def find_recording(stem: str, folder: str | Path = ".") -> Path | None:
    """The newest ``stem.<audio suffix>`` in ``folder`` (case-insensitive suffix), or None."""
    found = [p for p in Path(folder).glob(f"{stem}.*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


class RecordingQuestion(Question):
    """A Question whose answer is the analysis of the recording ``stem.*`` (script read aloud)."""

    def __init__(self, name: str, stem: str, script: str, points: float = 1, folder: str | Path = "."):
        from . import VoiceError, analyse

        self.problem: str | None = None
        path = find_recording(stem, folder)
        report = None
        if path is None:
            self.problem = text("error_missing", name=f"{stem}.wav / {stem}.webm / {stem}.mp3")
        else:
            try:
                report = analyse(path, script)
            except VoiceError as exc:
                self.problem = str(exc)
            except Exception as exc:  # noqa: BLE001 - a grading cell must never crash
                self.problem = text("error_not_audio", name=path.name) + f"（{type(exc).__name__}）"
        super().__init__(name, report, points)

    def unanswered(self) -> str | None:
        return self.problem
