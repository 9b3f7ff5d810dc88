"""Print how long the voice drill takes to analyse a recording (figures, no asserts).

    .venv/bin/python benchmarks/voice.py

Synthesises a 30-second Mandarin reading of knowledge-base phrases with espeak-ng
(cmn-latn-pinyin voice), also encodes it as WebM/Opus (what browsers record) with PyAV, and
times ``toolkit.voice.analyse`` on one core (goal: <= 1 s for 30 s of audio): decode, Praat
intensity and pitch, pauses and syllable nuclei. Import time is printed separately. Also prints
the measured-vs-true rate table of a few readings (true rate: characters over the speaking
time that sox measures after trimming silence).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, as the goal says

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def speak(text: str, speed: int, path: Path, gap: int = 0) -> Path:
    subprocess.run(["espeak-ng", "-v", "cmn-latn-pinyin", "-s", str(speed), "-g", str(gap), "-w", str(path), text],
                   check=True, capture_output=True)
    return path


def sox_speaking_seconds(path: Path) -> float:
    trimmed = path.with_suffix(".trim.wav")
    subprocess.run(["sox", str(path), str(trimmed), "silence", "1", "0.01", "0.1%", "reverse", "silence", "1",
                    "0.01", "0.1%", "reverse"], check=True)
    return float(subprocess.run(["soxi", "-D", str(trimmed)], check=True, capture_output=True, text=True).stdout)


def to_webm(src: Path, dst: Path) -> Path:
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = out.add_stream("libopus", rate=48000)
        resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=48000)
        for frame in list(inp.decode(audio=0)) + [None]:
            for f in resampler.resample(frame):
                for packet in stream.encode(f):
                    out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return dst


def main() -> None:
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        sys.exit("needs espeak-ng and sox (scripts/system-deps.sh)")
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass
    started = time.perf_counter()
    from toolkit import checks, kb
    from toolkit.voice import analyse

    import parselmouth  # noqa: F401 - imported by the first analyse(); counted here
    import av  # noqa: F401
    print(f"import toolkit.voice + parselmouth + av: {time.perf_counter() - started:.2f} s")

    phrases = [p["text"] for p in kb.load("standard_phrases")["phrase"]]
    tmp = Path(tempfile.mkdtemp(prefix="kefu-voice-bench-"))
    try:
        script, wav = "", tmp / "thirty.wav"
        for text in phrases:  # add phrases until the reading lasts 30 s
            script += text
            speak(script, 150, wav)
            if sox_speaking_seconds(wav) >= 30:
                break
        webm = to_webm(wav, tmp / "thirty.webm")
        analyse(wav, script)  # warm-up
        for label, path in (("WAV", wav), ("WebM/Opus", webm)):
            times = []
            for _ in range(5):
                t = time.perf_counter()
                report = analyse(path, script)
                times.append(time.perf_counter() - t)
            print(f"analyse {report.duration:.1f} s {label} recording ({report.chars} 字): "
                  f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms (goal <= 1000 ms)")

        print("\nmeasured vs true rate (字/分钟; true = characters / sox-trimmed speaking time)")
        print(f"{'-s':>4} {'true':>6} {'read':>6} {'err':>7} {'free':>6} {'err':>7}")
        text = phrases[0] + phrases[1]
        chars = checks.speech_rate(text, 1).chars
        for speed, gap in ((70, 3), (95, 0), (120, 0), (150, 0), (180, 0), (215, 0)):
            path = speak(text, speed, tmp / f"s{speed}.wav", gap)
            true = chars * 60 / sox_speaking_seconds(path)
            read, free = analyse(path, text).rate, analyse(path).rate
            print(f"{speed:>4} {true:6.0f} {read:6.0f} {read / true - 1:+7.1%} {free:6.0f} {free / true - 1:+7.1%}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
