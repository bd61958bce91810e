"""How long a window Whisper gets at once: word error rate on long talks against peak memory.

    .venv/bin/python bench/speech_windows.py --windows 30,60,120 --out bench/results/speech_windows_2026-12-04.json

A long clip is cut into windows (``SpeechConfig.window_s``, at the quietest 0.2 s of each window's last 10 s); a
window's last sentence is decoded with less context than Whisper's own 30 s seeking gives it, so more cuts can
cost words, while a longer window costs memory. Each window length transcribes, in a fresh process, talks made of
whole repetitions of the bench's recipe paragraph (``bench/speech_speed.py``) in three espeak-ng voices at 130
words a minute (four repetitions with 1.5 s pauses: about 3 minutes each), and reports the pooled WER and the
process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.speech_speed import PARAGRAPH  # noqa: E402

VOICES = ("en-gb-scotland", "en-gb", "en-us+f3")
REPEATS = 4


def _talk(folder: Path, voice: str) -> Path:
    from crossmodal_match.evaluate.speech_wer import synthesize, write_wav
    from crossmodal_match.speech_audio import load_audio

    one = load_audio(synthesize(PARAGRAPH, folder / f"{voice}.wav", voice=voice, rate_wpm=130))
    pause = np.zeros(24_000, np.float32)
    return write_wav(folder / f"{voice}_x{REPEATS}.wav", np.concatenate([one, pause] * REPEATS))


def child(window_s: float, paths: list[Path]) -> dict:
    from crossmodal_match.evaluate.speech_wer import normalise_words, edit_distance
    from crossmodal_match.speech import SpeechConfig, Transcriber

    transcriber = Transcriber(SpeechConfig(window_s=window_s))
    errors = words = 0
    per_voice = {}
    for path in paths:
        t = transcriber.transcribe(path)
        ref, hyp = normalise_words(" ".join([PARAGRAPH] * REPEATS)), normalise_words(t.text)
        e = edit_distance(ref, hyp)
        per_voice[path.stem] = round(e / len(ref), 4)
        errors, words = errors + e, words + len(ref)
    return {"window_s": window_s, "wer": round(errors / words, 4), "per_voice": per_voice,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", default="30,60,120", help="comma-separated window lengths, seconds")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "speech_windows.json")
    parser.add_argument("--child", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(args.child, args.paths)))
        return 0
    out = {"command": "python bench/speech_windows.py " + " ".join(sys.argv[1:] if argv is None else argv),
           "load_avg_1min_at_start": os.getloadavg()[0], "rows": []}
    with tempfile.TemporaryDirectory() as tmp:
        paths = [str(_talk(Path(tmp), v)) for v in VOICES]
        for w in (float(x) for x in args.windows.split(",")):
            done = subprocess.run([sys.executable, __file__, "--child", str(w), *paths], capture_output=True,
                                  text=True, check=True, timeout=3600)
            out["rows"].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps(out["rows"][-1]), flush=True)
    out["load_avg_1min_at_end"] = os.getloadavg()[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
