"""voice_drill: record (or upload) a reading, then see its speech rate, pauses, pitch and loudness.

The recorder is a small anywidget (``static/voice_recorder.js``: getUserMedia + MediaRecorder),
so it works in JupyterLab 4 without a front-end extension of its own. The kernel writes the
recording to a file, measures it with :func:`toolkit.voice.analyse` and shows the Chinese
feedback, a plot of pitch and loudness with the pauses marked, and the recording for playback.
Each analysed recording is an attempt of the "voice" module in the progress store.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import anywidget
import ipywidgets as w
import traitlets
from ipywidgets.widgets.trait_types import bytes_serialization

from .. import kb
from ._common import GREY, RED, Drill, esc, para

_STATIC = Path(__file__).with_name("static")
# MIME type of a browser recording -> file suffix PyAV recognises.
_SUFFIX = {"audio/webm": ".webm", "audio/ogg": ".ogg", "audio/mp4": ".m4a", "audio/wav": ".wav",
           "audio/x-wav": ".wav", "audio/mpeg": ".mp3"}
# Suffix -> the ``format`` of ipywidgets.Audio (the <audio> element's MIME subtype).
_PLAYBACK = {".webm": "webm", ".ogg": "ogg", ".m4a": "mp4", ".wav": "wav", ".mp3": "mpeg"}
UPLOAD_TYPES = ".wav,.mp3,.webm,.ogg,.m4a,audio/*"


def _w(key: str, **values) -> str:
    raw = kb.load("voice")["widget"][key]
    return raw.format(**values) if values else raw  # the recorder fills in {s} itself


class Recorder(anywidget.AnyWidget):
    """The browser-side recorder: ``audio`` (bytes of the last recording), ``mime``, ``recordings``."""

    _esm = _STATIC / "voice_recorder.js"
    audio = traitlets.Bytes(b"").tag(sync=True, **bytes_serialization)  # a binary buffer, as Image.value
    mime = traitlets.Unicode("").tag(sync=True)
    recordings = traitlets.Int(0).tag(sync=True)
    max_seconds = traitlets.Int(120).tag(sync=True)
    label_start = traitlets.Unicode().tag(sync=True)
    label_stop = traitlets.Unicode().tag(sync=True)
    label_recording = traitlets.Unicode().tag(sync=True)
    label_sent = traitlets.Unicode().tag(sync=True)
    label_denied = traitlets.Unicode().tag(sync=True)
    label_unsupported = traitlets.Unicode().tag(sync=True)

    def __init__(self, **kwargs):
        labels = {f"label_{k}": _w(k) for k in ("start", "stop", "recording", "sent", "denied", "unsupported")}
        super().__init__(**labels, **kwargs)


def _items() -> list[dict]:
    """Phrases to read (standard_phrases.toml) and customer lines to answer (pairs.toml)."""
    situations = set(kb.load("voice")["analysis"]["drill_situations"])
    read = [{"id": p["id"], "script": p["text"], "label": _w("option_read", text=p["text"])}
            for p in kb.load("standard_phrases")["phrase"] if p["situation"] in situations]
    free = [{"id": f"answer-{p['id']}", "script": None, "customer": p["customer"],
             "label": _w("option_free", customer=p["customer"])}
            for p in kb.load("pairs")["pair"] if p["scenario"] in situations]
    return read + free


class VoiceDrill(Drill):
    """Controls: ``choice`` (Dropdown of items), ``prompt`` (HTML), ``recorder`` (Recorder),
    ``upload`` (FileUpload), ``feedback`` (HTML), ``plot`` (Image), ``playback`` (Audio),
    ``next_round`` (换一句). State: ``item`` (the item shown), ``report`` (last VoiceReport or
    None), ``path`` (the last recording's file). ``take(data, suffix)`` analyses bytes directly.

    ``script`` fixes the text to read (no dropdown); ``save_as`` (e.g. "朗读") also keeps each
    recording next to the notebook as ``朗读.webm`` / ``朗读.wav``, for a graded task.
    """

    def __init__(self, script: str | None = None, save_as: str | None = None, seed=None):
        super().__init__("voice", seed, _w("title"), _w("intro"))
        self.save_as = save_as
        self.report = None
        self.path: Path | None = None
        self._dir = Path(tempfile.mkdtemp(prefix="kefu-voice-"))
        pool = [{"id": "script", "script": script, "label": script}] if script else _items()
        self.choice = w.Dropdown(options=[(i["label"][:60], n) for n, i in enumerate(pool)],
                                 description=_w("choose"), style={"description_width": "initial"},
                                 layout=w.Layout(width="100%", display="none" if script else None))
        self.pool = pool
        self.choice.observe(lambda ch: self._safe(self._show), names="value")
        self.prompt = w.HTML()
        self.recorder = Recorder()
        self.recorder.observe(lambda ch: self._safe(self._recorded), names="recordings")
        self.upload = w.FileUpload(accept=UPLOAD_TYPES, multiple=False, description=_w("upload"))
        self.upload.observe(lambda ch: self._safe(self._uploaded), names="value")
        self.plot = w.Image(format="png", layout=w.Layout(max_width="720px", display="none"))
        self.playback = w.Audio(autoplay=False, controls=True, layout=w.Layout(display="none"))
        self.playback_label = w.HTML()
        self.next_round.description = _w("next")
        if script:
            self.next_round.layout.display = "none"
        self.submit.layout.display = "none"  # recording itself is the answer
        self.body.children = (self.choice, self.prompt, w.HBox([self.recorder, self.upload]))
        self.widget.children = (self.title, self.notice, self.body, self.buttons, self.feedback, self.plot,
                                self.playback_label, self.playback)
        self._new_round()

    # -- items

    def new_round(self) -> None:
        if len(self.pool) > 1 and self.rounds > 1:
            options = [n for n in range(len(self.pool)) if n != self.choice.value]
            self.choice.value = self.rng.choice(options)
        elif self.rounds == 1 and len(self.pool) > 1:
            self.choice.value = self.rng.randrange(len(self.pool))
        self._show()

    def _show(self) -> None:
        self.item = item = self.pool[self.choice.value or 0]
        if item["script"]:
            chars = _chars(item["script"])
            self.prompt.value = para(f"<b>{esc(_w('read', chars=chars))}</b>") + para(
                f"<span style=\"font-size:1.2em\">{esc(item['script'])}</span>")
        else:
            self.prompt.value = para(esc(_w("free", customer=item["customer"])))
        self.feedback.value = ""

    # -- recordings

    def _recorded(self) -> None:
        mime = self.recorder.mime.split(";")[0].strip().lower()
        self.take(bytes(self.recorder.audio), _SUFFIX.get(mime, ".webm"))

    def _uploaded(self) -> None:
        files = self.upload.value
        if not files:
            return
        f = files[0]
        suffix = Path(f["name"]).suffix.lower() or _SUFFIX.get(f.get("type", ""), ".wav")
        self.take(bytes(f["content"]), suffix)

    def take(self, data: bytes, suffix: str = ".webm") -> None:
        """Analyse one recording given as bytes (from the recorder, an upload or a test)."""
        from ..voice import VoiceError, analyse
        from ..voice.plot import plot_png

        self.feedback.value = para(esc(_w("analysing")), GREY)
        path = self._dir / f"recording{suffix}"
        path.write_bytes(data)
        self.path = path
        saved = self._save(data, suffix) if data else None
        self.playback.format = _PLAYBACK.get(suffix, "webm")
        self.playback.value = data
        self.playback.layout.display = None if data else "none"
        self.playback_label.value = para(esc(_w("playback")), GREY) if data else ""
        try:
            report = analyse(path, self.item["script"])
        except VoiceError as exc:
            self.report = None
            self.plot.layout.display = "none"
            self.feedback.value = para(esc(str(exc)), RED, bold=True)
            return
        self.report = report
        lines = report.why.split("\n")
        html = "".join(para(esc(line), None if report.ok or not line.startswith("·") else RED) for line in lines)
        if saved:
            html += para(esc(_w("saved", name=saved)), GREY)
        self.feedback.value = html
        self.record(self.item["id"], json.dumps(report.summary(), ensure_ascii=False), report.ok,
                    round(report.duration, 1))
        self.plot.value = plot_png(report)  # last: the first plot of a session imports matplotlib
        self.plot.layout.display = None

    def _save(self, data: bytes, suffix: str) -> str | None:
        """Keep the recording next to the notebook as save_as + suffix (one file per stem)."""
        if not self.save_as:
            return None
        target = Path.cwd() / f"{self.save_as}{suffix}"
        for old in Path.cwd().glob(f"{self.save_as}.*"):
            if old != target and old.suffix.lower() in _PLAYBACK:
                old.unlink(missing_ok=True)
        target.write_bytes(data)
        return target.name


def _chars(script: str) -> int:
    from .. import checks

    return checks.speech_rate(script, 1).chars


def voice_drill(script: str | None = None, save_as: str | None = None, seed=None) -> w.VBox:
    """The voice drill; ``.drill`` is the VoiceDrill. ``script`` fixes the text to read,
    ``save_as`` keeps the recording next to the notebook (e.g. "朗读" -> 朗读.webm)."""
    return VoiceDrill(script=script, save_as=save_as, seed=seed).widget


__all__ = ["voice_drill", "VoiceDrill", "Recorder"]
