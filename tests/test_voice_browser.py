"""Real-browser test of the voice drill: Chromium records through the widget, the kernel analyses.

Debian's Chromium runs headless with a fake microphone that plays a WAV file
(``--use-fake-ui-for-media-stream --use-fake-device-for-media-stream
--use-file-for-fake-audio-capture=<wav>``): espeak-ng reading a knowledge-base phrase, with
silence before and after (1 s and 8 s). JupyterLab (the ``lab`` fixture of tests/test_browser.py: a temp copy of
course/, throwaway HOME and KEFU_PROGRESS) opens a notebook holding ``voice_drill(script=...)``;
the test presses 开始录音, waits, presses 停止录音, and checks the feedback the page shows: the
rate the kernel measured from the browser's WebM/Opus recording against the rate of the WAV
itself, the plot, the playback element and the attempt in the progress store. A screenshot goes to tests/artifacts/voice_drill.png.

Needs /usr/bin/chromium, espeak-ng and sox (scripts/system-deps.sh).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import urllib.parse
from contextlib import closing
from pathlib import Path

import nbformat
import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS, UI_TIMEOUT_MS, lab  # noqa: F401 - lab is a fixture

from toolkit import kb
from toolkit.voice import analyse

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed (scripts/system-deps.sh)"),
    pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")),
                       reason="espeak-ng and sox are needed (scripts/system-deps.sh)"),
]
NOTEBOOK = "voice_drill_test.ipynb"
SCREENSHOT = Path(__file__).resolve().parent / "artifacts" / "voice_drill.png"
TAIL_SECONDS = 8  # silence after the phrase in the WAV: the test stops recording inside it


def _script() -> str:
    phrases = kb.load("standard_phrases")["phrase"]
    return next(p["text"] for p in phrases if p["situation"] == "greeting") + \
        next(p["text"] for p in phrases if p["situation"] == "enquiry")


@pytest.fixture(scope="module")
def fake_microphone(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mic")
    spoken = folder / "spoken.wav"
    subprocess.run(["espeak-ng", "-v", "cmn-latn-pinyin", "-s", "130", "-w", str(spoken), _script()],
                   check=True, capture_output=True)
    wav = folder / "microphone.wav"  # 48 kHz 16-bit mono, what Chromium's fake device expects
    subprocess.run(["sox", str(spoken), "-r", "48000", "-b", "16", "-c", "1", str(wav), "pad", "1", str(TAIL_SECONDS)],
                   check=True, capture_output=True)
    return wav


@pytest.fixture
def mic_page(tmp_path, fake_microphone):
    from playwright.sync_api import sync_playwright

    home = tmp_path / "chromium-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"))
    args = CHROMIUM_ARGS + [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={fake_microphone}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True, args=args, env=env,
            viewport={"width": 1280, "height": 1400}, locale="zh-CN",
        )
        try:
            context.set_default_timeout(UI_TIMEOUT_MS)
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def _write_notebook(folder: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
        f"from toolkit.widgets import voice_drill\nvoice_drill(script={_script()!r}, save_as='朗读')")]
    nbformat.write(nb, folder / NOTEBOOK)


def test_recording_in_the_browser_gets_feedback(lab, mic_page, fake_microphone):  # noqa: F811 - fixture
    page = mic_page
    _write_notebook(lab.root)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        _record_and_check(lab, page, fake_microphone, errors)
    except BaseException:
        shot = lab.tmp / "voice-failure.png"
        try:
            page.screenshot(path=str(shot))
        except Exception as exc:  # noqa: BLE001 - keep the original failure
            shot = f"(no screenshot: {exc})"
        status = page.locator(".kefu-voice-status").all_inner_texts()
        print(f"\n[test_voice_browser] page at failure: {shot}; recorder status: {status}\n"
              + lab.log.read_text(errors="replace")[-2000:])
        raise


def _record_and_check(lab, page, wav: Path, errors: list[str]) -> None:
    from toolkit.widgets.voice import _w

    page.goto(f"{lab.base}/lab/tree/{urllib.parse.quote(NOTEBOOK)}?token={lab.token}")
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    panel.locator(".jp-Notebook .jp-Cell").first.wait_for()
    page.locator("#jp-main-statusbar .jp-StatusBar-TextItem", has_text=re.compile(r"\|\s*Idle\s*$")).wait_for()
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^\s*Run\s*$")).click()
    page.locator(".lm-Menu-item:visible .lm-Menu-itemLabel", has_text=re.compile(r"^\s*Run All Cells\s*$")).click()

    record = panel.locator(".kefu-voice-record")
    record.wait_for()
    assert record.inner_text().strip() == _w("start")
    record.click()
    page.locator(".kefu-voice-record", has_text=_w("stop")).wait_for()
    page.locator(".kefu-voice-status", has_text="正在录音").wait_for()
    source = analyse(wav, _script())
    # The fake microphone plays the WAV meanwhile; stop in the silence after the phrase.
    page.wait_for_timeout((source.leading_silence + source.speaking_time + 2) * 1000)
    record.click()

    feedback = panel.get_by_text(re.compile(r"语速：每分钟约 \d+ 字")).first
    feedback.wait_for()
    shown = float(re.search(r"每分钟约 (\d+) 字", feedback.inner_text()).group(1))
    assert shown == pytest.approx(source.rate, rel=0.10), (shown, source.rate)
    for figure in ("停顿：", "音调变化：", "音量："):
        assert panel.get_by_text(figure).count() >= 1, figure
    plot = panel.locator("img.widget-image:visible").first  # the pitch/loudness plot
    plot.wait_for()
    assert plot.evaluate("img => img.complete && img.naturalWidth > 300")
    assert panel.locator("audio").count() >= 1  # playback of the recording
    assert page.get_by_text("Error displaying widget").count() == 0
    assert not errors, f"JavaScript errors in the page: {errors}"

    with closing(sqlite3.connect(lab.progress)) as db:
        rows = db.execute("SELECT answer FROM attempts WHERE module = 'voice'").fetchall()
    assert len(rows) == 1
    stored = json.loads(rows[0][0])
    assert stored["rate"] == pytest.approx(shown, abs=1) and stored["rate_source"] == "script"
    assert (lab.root / "朗读.webm").stat().st_size > 1000  # save_as kept the browser's recording

    page.wait_for_function("() => document.fonts.status === 'loaded'")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))  # copy to docs/screenshots/ to refresh the README's
