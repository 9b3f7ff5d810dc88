"""The voice drill's measurements: speech rate, pauses, pitch variation and loudness of a recording.

``analyse(path, script=None)`` returns a :class:`VoiceReport` (``.rate`` 字/分钟,
``.articulation_rate``, ``.pauses``, ``.pitch_range_st``, ``.loudness_db``, Chinese ``.why``);
an unusable file (missing, empty, not audio, longer than 5 minutes, silent) raises
:class:`VoiceError`, a ValueError whose message is Chinese. ``RecordingQuestion`` grades a
recording in an nbgrader test cell. Separate from ``toolkit.checks`` so that the checkers never
import Praat or FFmpeg (parselmouth and av are imported when a recording is analysed).
"""

from .analysis import Pauses, Track, VoiceReport, analyse
from .audio import VoiceError, load
from .grade import RecordingQuestion, find_recording


def samples() -> tuple[str, dict[str, "Path"]]:
    """The script of the sample recordings and {Chinese title: path} (toolkit/voice/samples)."""
    from pathlib import Path

    from .. import kb

    table = kb.load("voice")["sample"]
    folder = Path(__file__).with_name("samples")
    return table["script"], {table[key]: folder / f"{key}.ogg" for key in ("good", "fast")}


__all__ = ["analyse", "load", "VoiceReport", "Pauses", "Track", "VoiceError", "RecordingQuestion", "find_recording", "samples"]
