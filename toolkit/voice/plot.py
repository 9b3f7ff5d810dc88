"""A small picture of a recording: pitch contour and loudness over time, pauses shaded."""

from __future__ import annotations

import io
import warnings

import numpy as np

from .analysis import VoiceReport


def plot_png(report: VoiceReport) -> bytes:
    """PNG bytes of the pitch (Hz) and loudness (dBFS) contours with the pauses marked."""
    import matplotlib
    from matplotlib.figure import Figure

    from ..fonts import cjk_font

    font = cjk_font()
    rc = {"font.family": "sans-serif", "axes.unicode_minus": False}
    if font:
        rc["font.sans-serif"] = [font, *matplotlib.rcParams["font.sans-serif"]]
    track = report.track
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing glyphs without a CJK font: draw anyway
        fig = Figure(figsize=(7, 3.4), dpi=100)
        pitch_ax, loud_ax = fig.subplots(2, 1, sharex=True)
        for ax in (pitch_ax, loud_ax):
            for i, (a, b) in enumerate(report.pauses.spans):
                ax.axvspan(a, b, color="#fde68a", alpha=0.7, lw=0, label="停顿" if i == 0 and ax is pitch_ax else None)
        pitch_ax.plot(track.times, track.pitch_hz, color="#1f6feb", lw=1.5, label="音调")
        pitch_ax.set_ylabel("音调（Hz）")
        pitch_ax.set_title(f"音调变化 {report.pitch_range_st:.1f} 个半音　语速 {report.rate:.0f} 字/分钟", fontsize=10)
        if np.isfinite(track.pitch_hz).any():
            lo, hi = np.nanpercentile(track.pitch_hz, [1, 99])
            pitch_ax.set_ylim(max(lo * 0.8, 40), hi * 1.2)
        if report.pauses.spans:
            pitch_ax.legend(loc="upper right", fontsize=8)
        loud = np.maximum(track.intensity_dbfs, track.threshold_dbfs - 20)
        loud_ax.plot(track.times, loud, color="#8250df", lw=1)
        loud_ax.axhline(track.threshold_dbfs, color="#6e7781", lw=0.8, ls="--")
        loud_ax.set_ylabel("音量（dBFS）")
        loud_ax.set_xlabel("时间（秒）")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    return buf.getvalue()
