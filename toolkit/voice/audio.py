"""Reading a recording into mono float samples at one sample rate, whatever the format.

Decoding is PyAV's (FFmpeg's libraries inside the wheel, so pip alone is enough): WAV, MP3, and
the WebM/Opus or Ogg/Opus that browsers' MediaRecorder produces. Every way a file can be
unusable (missing, empty, not audio, too long, too short) raises :class:`VoiceError`, a
``ValueError`` with a Chinese message for the trainee and a ``code`` for programs.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .settings import analysis, text


class VoiceError(ValueError):
    """A recording that cannot be analysed. ``str(exc)`` is Chinese; ``code`` is one of
    missing, empty, too-big, not-audio, too-long, too-short, silent."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _fail(code: str, **values) -> VoiceError:
    return VoiceError(code, text(f"error_{code.replace('-', '_')}", **values))


def load(path: str | os.PathLike, rate: int | None = None) -> np.ndarray:
    """Mono float32 samples of ``path`` at ``rate`` Hz (default: the analysis rate)."""
    import av  # decoding only when there is something to decode

    cfg = analysis()
    rate = rate or int(cfg["sample_rate"])
    path = Path(path)
    if not path.is_file():
        raise _fail("missing", name=path.name)
    size = path.stat().st_size
    if size == 0:
        raise _fail("empty")
    if size > cfg["max_bytes"]:
        raise _fail("too-big", mb=size / 1e6, minutes=cfg["max_seconds"] / 60)
    max_samples = int(cfg["max_seconds"] * rate)
    chunks, n = [], 0
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = next((s for s in container.streams if s.type == "audio"), None)
            if stream is None:
                raise _fail("not-audio", name=path.name)
            # Browsers' WebM has no duration in its header: the sample cap below covers that case.
            if container.duration and container.duration / 1e6 > cfg["max_seconds"] + 1:
                raise _fail("too-long", minutes=cfg["max_seconds"] / 60)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            frames = container.decode(stream)
            for frame in _with_flush(frames):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    n += chunk.size
                if n > max_samples:
                    raise _fail("too-long", minutes=cfg["max_seconds"] / 60)
    except VoiceError:
        raise
    except Exception as exc:  # noqa: BLE001 - FFmpeg's many errors all mean "not a recording"
        raise _fail("not-audio", name=path.name) from exc
    samples = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    if samples.size < cfg["min_seconds"] * rate:
        raise _fail("too-short", seconds=samples.size / rate)
    return samples


def _with_flush(frames):
    """The decoded frames, then None so the resampler hands out what it still holds."""
    yield from frames
    yield None
