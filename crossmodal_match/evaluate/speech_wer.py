"""Speech with a known text, and the word error rate of a transcript against it.

English test speech comes from espeak-ng (a Debian package: ``apt-get install espeak-ng``; GPL-3.0, its output is
ours to use). Its Mandarin is not intelligible to Whisper, so no Chinese figure rests on it. The WER is the word
edit distance over the reference's word count, after the same normalisation on both sides (lower case, no
punctuation, hyphens as spaces, spelled numbers up to 99 as digits), so "15" and "fifteen" count alike.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np

ESPEAK_TIMEOUT_S = 60.0
_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
          "seventeen eighteen nineteen").split()
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}


def espeak_exe() -> str | None:
    """Path of the espeak-ng binary, or None when it is not installed."""
    return shutil.which("espeak-ng")


def synthesize(text: str, out_path: Path, *, voice: str = "en-us", rate_wpm: int = 160) -> Path:
    """Speak ``text`` into a 22.05 kHz mono WAV with espeak-ng.

    Args:
        text: what to say.
        out_path: the .wav to write.
        voice: an espeak-ng voice (``en-us``, ``en-gb``, ``en-us+f3`` ...).
        rate_wpm: speaking rate, words per minute (espeak's default is 175).

    Raises:
        RuntimeError: espeak-ng is missing, fails, or runs over a minute (it is killed).
    """
    exe = espeak_exe()
    if exe is None:
        raise RuntimeError("espeak-ng is not installed: apt-get install espeak-ng")
    try:
        proc = subprocess.run([exe, "-v", voice, "-s", str(rate_wpm), "-w", str(out_path), text],
                              capture_output=True, timeout=ESPEAK_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"espeak-ng ran over {ESPEAK_TIMEOUT_S} s and was stopped") from exc
    if proc.returncode != 0 or not out_path.is_file():
        raise RuntimeError(f"espeak-ng failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[:300]}")
    return out_path


def write_wav(path: Path, samples: np.ndarray, *, sr: int = 16_000) -> Path:
    """Write mono float samples (np.ndarray [shape=(n,)], -1..1, clipped) as a 16-bit PCM WAV at ``sr`` Hz."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def normalise_words(text: str) -> list[str]:
    """Lower-case words without punctuation; spelled numbers below 100 become digits ("twenty five" -> "25")."""
    words = re.sub(r"[^\w\s']|_", " ", text.lower().replace("-", " ")).split()
    out: list[str] = []
    for w in (w.strip("'") for w in words):
        if w in _UNITS:
            value = _UNITS.index(w)
            if out and out[-1].isdigit() and int(out[-1]) in _TENS.values() and value < 10:
                out[-1] = str(int(out[-1]) + value)
                continue
            out.append(str(value))
        elif w in _TENS:
            out.append(str(_TENS[w]))
        elif w:
            out.append(w)
    return out


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance between two token lists (substitutions, insertions, deletions each cost 1)."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        cur = [i]
        for j, h in enumerate(hyp, start=1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h)))
        prev = cur
    return prev[-1]


_ZH_DIGITS = "零一二三四五六七八九"


def _zh_number(n: int) -> str:
    """How a number below 10,000 is read in Chinese characters (15 -> 十五, 28 -> 二十八, 105 -> 一百零五)."""
    if n < 10:
        return _ZH_DIGITS[n]
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit, n = divmod(n, value)
        if digit:
            out += ("零" if zero and out else "") + ("" if value == 10 and digit == 1 and not out else
                                                      _ZH_DIGITS[digit]) + unit
            zero = False
        elif out:
            zero = True
    return out


def normalise_chars(text: str) -> list[str]:
    """Chinese characters to compare: punctuation and spaces dropped, numbers in digits read out in characters
    (Whisper writes 十五 as 15), 两 counted as 二, Latin letters lower-cased."""
    text = re.sub(r"\d{1,4}", lambda m: _zh_number(int(m.group())), text.lower()).replace("两", "二")
    return [c for c in text if c.isalnum()]


def character_error_rate(reference: str, hypothesis: str) -> float:
    """Character edit distance / reference characters, after :func:`normalise_chars` (for Chinese).

    Raises:
        ValueError: the reference has no characters.
    """
    return _error_rate(normalise_chars(reference), normalise_chars(hypothesis), unit="characters")


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word edit distance / reference words, after :func:`normalise_words` (0 = perfect; can exceed 1).

    Raises:
        ValueError: the reference has no words.
    """
    return _error_rate(normalise_words(reference), normalise_words(hypothesis), unit="words")


def _error_rate(ref: list[str], hyp: list[str], *, unit: str) -> float:
    if not ref:
        raise ValueError(f"the reference text has no {unit}")
    return edit_distance(ref, hyp) / len(ref)
