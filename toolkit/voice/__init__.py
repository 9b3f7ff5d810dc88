"""The voice drill's measurements: speech rate, pauses, pitch variation and loudness of a recording.

``analyse(path, script=None)`` returns a :class:`VoiceReport` (``.rate`` 字/分钟,
``.articulation_rate``, ``.pauses``, ``.pitch_range_st``, ``.loudness_db``, Chinese ``.why``);
an unusable file raises :class:`VoiceError`, a ValueError whose message is Chinese.
Separate from ``toolkit.checks`` so that the checkers never import Praat or FFmpeg.
"""

from .analysis import Pauses, Track, VoiceReport, analyse
from .audio import VoiceError, load

__all__ = ["analyse", "load", "VoiceReport", "Pauses", "Track", "VoiceError"]
