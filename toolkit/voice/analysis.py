"""Measuring a recording with Praat (parselmouth): rate, pauses, pitch range, loudness.

- Silence and pauses come from Praat's intensity contour: a frame is silent when it is more than
  ``silence_db`` below the 99th percentile of the recording's intensity (De Jong & Wempe 2009),
  so the same rule holds for a loud and a quiet recording; a pause is a silence of at least
  ``pause-min`` seconds between the first and the last sounding frame.
- Read script: its characters over the speaking time (first to last sounding frame, leading and
  trailing silence excluded). Free speech: syllable nuclei counted as De Jong & Wempe do
  (intensity peaks above the silence threshold, standing ``min_dip_db`` above the dip before the
  next peak, and voiced), one syllable per character in Mandarin.
- Pitch range: 5th to 95th percentile of Praat's pitch track, in semitones.
- Loudness: mean power of the sounding frames, in dB relative to digital full scale (dBFS).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from .audio import VoiceError, _fail, load
from .settings import analysis, targets, text

# Praat's intensity is in dB re 2e-5 Pa, with sample values taken as pascals: 1.0 = 93.98 dB.
_PRAAT_FULL_SCALE_DB = 20 * np.log10(1 / 2e-5)
_STEP = 0.01  # seconds between analysis frames


@dataclass(frozen=True)
class Pauses:
    """Silences of at least ``pause-min`` s inside the speaking time."""

    count: int
    longest: float  # seconds (0.0 without pauses)
    total: float  # seconds
    share: float  # total over the speaking time
    spans: tuple[tuple[float, float], ...] = ()  # (start, end) in seconds from the file start

    def __len__(self) -> int:
        return self.count


@dataclass(frozen=True)
class Track:
    """Frame-wise contours for the plot: times (s), pitch (Hz, NaN unvoiced), intensity (dBFS)."""

    times: np.ndarray
    pitch_hz: np.ndarray
    intensity_dbfs: np.ndarray
    threshold_dbfs: float


@dataclass(frozen=True)
class VoiceReport:
    """What :func:`analyse` measured, with Chinese feedback in ``why`` and ``advice``.

    ``rate`` and ``articulation_rate`` are 字/分钟; ``rate_source`` is "script" (characters of
    the script) or "syllables" (syllable nuclei, free speech). ``flags`` lists what to change:
    slow, fast, monotone, quiet, clipped, no-pause, long-pause, many-pauses, leading-silence,
    trailing-silence, incomplete.
    """

    duration: float
    speaking_time: float
    leading_silence: float
    trailing_silence: float
    chars: int
    syllables: int
    rate: float
    articulation_rate: float
    rate_source: str
    rate_label: str  # slow | normal | fast
    pauses: Pauses
    pitch_range_st: float
    pitch_median_hz: float
    loudness_db: float  # dBFS of the sounding frames
    peak_db: float  # dBFS of the loudest sample
    clipped: float  # share of samples at full scale
    flags: tuple[str, ...]
    why: str
    advice: tuple[str, ...]
    track: Track = field(repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return not self.flags

    def summary(self) -> dict:
        """The figures as plain numbers (for the progress store and instructors)."""
        return {
            "rate": round(self.rate, 1), "articulation_rate": round(self.articulation_rate, 1),
            "rate_source": self.rate_source, "speaking_time": round(self.speaking_time, 2),
            "pauses": self.pauses.count, "longest_pause": round(self.pauses.longest, 2),
            "pitch_range_st": round(self.pitch_range_st, 1), "loudness_db": round(self.loudness_db, 1),
            "flags": list(self.flags),
        }


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) frame indices of the True runs of ``mask``."""
    if not mask.any():
        return []
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def _nuclei(db: np.ndarray, threshold: float, voiced: np.ndarray, min_dip: float) -> int:
    """Syllable nuclei after De Jong & Wempe: intensity peaks above the silence threshold, in
    voiced stretches, that stand at least ``min_dip`` dB above the dip separating them from the
    previous nucleus (on both sides). In Mandarin most syllables start with a voiceless
    consonant, so a voiced stretch holds one syllable unless its intensity dips between two."""
    count = 0
    min_run = max(1, int(round(0.04 / _STEP)))
    for a, b in _runs(voiced & (db > threshold)):
        if b - a < min_run:
            continue
        seg = db[a:b]
        inner = seg[1:-1]
        peaks = np.flatnonzero((inner > seg[:-2]) & (inner >= seg[2:])) + 1
        kept = [int(peaks[0])] if peaks.size else [int(np.argmax(seg))]
        for p in peaks[1:]:
            dip = seg[kept[-1]:p].min()
            if seg[kept[-1]] - dip >= min_dip and seg[p] - dip >= min_dip:
                kept.append(int(p))
            elif seg[p] > seg[kept[-1]]:
                kept[-1] = int(p)  # the same nucleus, its higher point
        count += len(kept)
    return count


def _script_chars(script: str) -> int:
    from .. import checks  # its character count, so drills and grading agree with speech_rate

    return checks.speech_rate(script, 1).chars


def analyse(path: str | os.PathLike, script: str | None = None) -> VoiceReport:
    """Measure the recording at ``path``; with ``script`` (the text read aloud) the rate is its
    characters over the speaking time, without it the rate is estimated from syllable nuclei.

    Raises :class:`VoiceError` (a ValueError with a Chinese message) for a missing, empty,
    non-audio, too long or silent file.
    """
    import parselmouth

    cfg, goal = analysis(), targets()
    sr = int(cfg["sample_rate"])
    samples = load(path, sr)
    if isinstance(script, str) and not script.strip():
        script = None  # a blank script: measure as free speech
    chars = _script_chars(script) if script is not None else 0
    return _measure(parselmouth.Sound(samples.astype(np.float64), sampling_frequency=sr), samples, chars,
                    script is not None, cfg, goal)


def _measure(sound, samples: np.ndarray, chars: int, scripted: bool, cfg, goal) -> VoiceReport:
    duration = samples.size / sound.sampling_frequency
    peak = float(np.abs(samples).max())
    if peak <= 10 ** (cfg["floor_dbfs"] / 20):
        raise _fail("silent")
    intensity = sound.to_intensity(minimum_pitch=100.0, time_step=_STEP)
    times = intensity.xs()
    db = intensity.values[0] - _PRAAT_FULL_SCALE_DB  # dBFS per frame
    db = np.maximum(db, -120.0)  # digital silence is -300 dB in Praat: keep the plot readable
    threshold = max(float(np.percentile(db, 99)) - cfg["silence_db"], cfg["floor_dbfs"])
    sounding = db > threshold
    # Clicks and breaths shorter than min_sounding are not speech.
    min_len = max(1, int(round(cfg["min_sounding"] / _STEP)))
    for a, b in _runs(sounding):
        if b - a < min_len:
            sounding[a:b] = False
    runs = _runs(sounding)
    if not runs:
        raise _fail("silent")
    half = _STEP / 2
    start, end = times[runs[0][0]] - half, times[runs[-1][1] - 1] + half
    speaking = max(end - start, _STEP)
    pause_min, spans = goal["pause-min"], []
    for (_, a_end), (b_start, _) in zip(runs, runs[1:]):
        gap_start, gap_end = times[a_end - 1] + half, times[b_start] - half
        if gap_end - gap_start >= pause_min:
            spans.append((float(gap_start), float(gap_end)))
    pause_total = sum(b - a for a, b in spans)
    pauses = Pauses(len(spans), max((b - a for a, b in spans), default=0.0), pause_total,
                    pause_total / speaking, tuple(spans))

    pitch = sound.to_pitch(time_step=_STEP, pitch_floor=cfg["pitch_floor"], pitch_ceiling=cfg["pitch_ceiling"])
    f0 = pitch.selected_array["frequency"]
    # Pitch at each intensity frame: the nearest pitch frame (interpolating would voice the edges).
    f0_at = f0[np.clip(np.searchsorted(pitch.xs(), times), 0, f0.size - 1)] if f0.size else np.zeros_like(times)
    voiced_f0 = f0[f0 > 0]
    if voiced_f0.size >= 10:
        lo, median, hi = np.percentile(voiced_f0, [5, 50, 95])
        pitch_range = float(12 * np.log2(hi / lo))
    else:
        median, pitch_range = 0.0, 0.0
    syllables = _nuclei(db, threshold, f0_at > 0, cfg["min_dip_db"])

    power = 10 ** (db[sounding] / 10)
    loudness = float(10 * np.log10(power.mean()))
    clipped = float(np.mean(np.abs(samples) >= 0.999))

    units = chars if scripted else syllables
    rate = units * 60 / speaking
    phonation = max(speaking - pause_total, _STEP)
    articulation = units * 60 / phonation
    label = "slow" if rate < goal["rate-slow"] else "fast" if rate > goal["rate-fast"] else "normal"
    leading, trailing = float(start), float(max(duration - end, 0.0))

    flags, advice = [], []

    def flag(code: str, key: str, **values) -> None:
        flags.append(code)
        advice.append(text(key, **values))

    numbers = {"slow": goal["rate-slow"], "fast": goal["rate-fast"], "normal": goal["rate-normal"]}
    if label != "normal":
        flag(label, f"advice_{label}", **numbers)
    if scripted and syllables < 0.5 * chars:
        flag("incomplete", "advice_incomplete", found=syllables, chars=chars)
    if pitch_range < goal["pitch-monotone"]:
        flag("monotone", "advice_monotone", st=pitch_range)
    if clipped > goal["clipping"]:
        flag("clipped", "advice_clipped", share=clipped)
    elif loudness < goal["loudness-quiet"]:
        flag("quiet", "advice_quiet", db=loudness)
    if pauses.longest > goal["pause-long"]:
        flag("long-pause", "advice_long_pause", longest=pauses.longest)
    elif pauses.share > goal["silence-share"]:
        flag("many-pauses", "advice_many_pauses", share=pauses.share)
    if pauses.count == 0 and units >= 20:  # a whole reading without a breath
        flag("no-pause", "advice_no_pause")
    if leading > goal["edge-silence"]:
        flag("leading-silence", "advice_leading", seconds=leading)
    if trailing > goal["trailing-silence"]:
        flag("trailing-silence", "advice_trailing", seconds=trailing)

    verdict = text(f"verdict_{label}")
    lines = [
        text("rate_script" if scripted else "rate_free", rate=rate, chars=units, seconds=speaking, verdict=verdict,
             **numbers),
        text("articulation", rate=articulation),
        text("pauses", count=pauses.count, longest=pauses.longest, share=pauses.share),
        text("pitch", st=pitch_range, monotone=goal["pitch-monotone"],
             verdict=text("verdict_flat" if "monotone" in flags else "verdict_varied")),
        text("loudness", db=loudness, quiet=goal["loudness-quiet"],
             verdict=text("verdict_clipped" if "clipped" in flags else "verdict_quiet" if "quiet" in flags
                          else "verdict_loud_ok")),
    ]
    lines += [text("advice_title"), *(f"· {a}" for a in advice)] if advice else [text("all_good")]
    f0_track = np.where(f0_at > 0, f0_at, np.nan)
    return VoiceReport(
        duration=float(duration), speaking_time=float(speaking), leading_silence=leading, trailing_silence=trailing,
        chars=chars, syllables=syllables, rate=float(rate), articulation_rate=float(articulation),
        rate_source="script" if scripted else "syllables", rate_label=label, pauses=pauses,
        pitch_range_st=pitch_range, pitch_median_hz=float(median), loudness_db=loudness,
        peak_db=float(20 * np.log10(peak)), clipped=clipped, flags=tuple(flags), why="\n".join(lines),
        advice=tuple(advice), track=Track(np.asarray(times), f0_track, db, threshold),
    )


__all__ = ["analyse", "VoiceReport", "Pauses", "Track", "VoiceError"]
