"""Faithfulness guard: does a title state a number or a name that the brief and controls do not support?

A creator posts a title as their own claim. "40 hours of battery" under a brief that says 30, a price the brief
never gave, or a brand the model made up ("Washown") is worse than a plain title, so such candidates are dropped
before ranking (:meth:`titlegen.TitleGenerator.__call__` reports how many and why).

* **Numbers**: Arabic numerals (``1,080``, ``4.5``, ``50%``, ``15-inch``), Chinese numerals (四十 is 40, 两万 is
  20,000, 2万4千 is 24,000, 半 is not counted), and English number words (two ... ninety, hundred, dozen). The
  article-like "one" / 一 on its own ("a") is not a claim. A title's number is supported when the same value
  occurs in the brief, the audience or a selling point, in any of those notations.
* **Names**: a Latin-script word of the title that occurs nowhere in the brief or controls (compared without case
  and with simple inflections) and is either a known proper noun (the casing lexicon's usual spelling is
  capitalised: "Amazon", "Paris") or not an English word at all (not in the word list of the embedded MiniLM
  vocabulary: an invented brand). Chinese names written in Han characters are not checked (there is no offline
  Chinese name list here); a Latin-script brand in a Chinese title is.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from pathlib import Path

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
           "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}
_ZH_NUM = re.compile(r"[0-9零〇一二两俩三四五六七八九十百千万亿.]+")
# Words where 一/万/十/千 are not quantities ("together", "just in case", "perfect", ...).
_ZH_IDIOMS = ("一起", "一下", "一定", "一样", "一直", "一切", "一些", "一点", "一般", "统一", "唯一", "万一", "十分",
              "一向", "一旦", "一边", "一番", "千万", "万能", "万物", "一致", "一律", "一味", "一整", "一体", "一时",
              "一新", "一流", "万家", "十足", "一族", "专一", "第一", "之一", "一口气", "一下子")
_EN_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
             "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
             "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
             "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000,
             "dozen": 12, "million": 1_000_000, "billion": 1_000_000_000}
_ARABIC = re.compile(r"\d+(?:[,，]\d{3})*(?:\.\d+)?")


def _parse_zh(token: str) -> float | None:
    """Value of a run of Chinese and Arabic numerals (``四十``, ``2万4千``, ``一百二十``), or None."""
    if re.fullmatch(r"\d+(\.\d+)?", token):
        return float(token)
    total, section, number = 0.0, 0.0, None
    i = 0
    while i < len(token):
        ch = token[i]
        m = re.match(r"\d+(\.\d+)?", token[i:])
        if m:
            number = float(m.group())
            i += len(m.group())
            continue
        if ch in _DIGITS:
            number = float(_DIGITS[ch])
        elif ch in _UNITS:
            unit = _UNITS[ch]
            value = 1.0 if number is None else number
            if unit >= 10_000:
                total = (total + section + (number or 0.0)) * unit if number is not None or section else total * unit
                if total == 0:
                    total = unit
                section, number = 0.0, None
            else:
                section += value * unit
                number = None
        else:
            return None
        i += 1
    return total + section + (number or 0.0)


def numbers_in(text: str) -> set[float]:
    """Every quantity stated in ``text`` (see the module docstring), as floats."""
    found: set[float] = set()
    lowered = text.lower()
    for idiom in _ZH_IDIOMS:
        lowered = lowered.replace(idiom, " ")
    # Runs with Chinese numerals (2万4千 is one number); pure Arabic runs are read below with their separators.
    mixed: list[tuple[int, int]] = []
    for m in _ZH_NUM.finditer(lowered):
        token = m.group().strip(".")
        if not token or re.fullmatch(r"[\d.]+", token):
            continue
        mixed.append(m.span())
        if token == "一":
            continue  # "a": 一个, 一款
        value = _parse_zh(token)
        if value is not None:
            found.add(value)
    for m in _ARABIC.finditer(lowered):
        if not any(start <= m.start() < end for start, end in mixed):
            found.add(float(re.sub(r"[,，]", "", m.group())))
    for word in re.findall(r"[a-z]+", lowered):
        if word in _EN_WORDS:
            found.add(float(_EN_WORDS[word]))
    return found


def unsupported_numbers(title: str, support: str) -> list[float]:
    """The quantities of ``title`` that ``support`` does not state, in order of value."""
    have = numbers_in(support)
    return sorted(n for n in numbers_in(title) if not any(abs(n - h) < 1e-9 for h in have))


@functools.lru_cache(maxsize=1)
def _english_words() -> frozenset[str]:
    from titlegen.model import minilm_path

    vocab = Path(minilm_path()) / "vocab.txt"
    words = vocab.read_text(encoding="utf-8").split() if vocab.is_file() else []
    return frozenset(w for w in words if w.isalpha() and not w.startswith("##"))


@functools.lru_cache(maxsize=1)
def _proper_nouns() -> frozenset[str]:
    path = Path(__file__).parent / "data" / "truecase.json"
    if not path.is_file():
        return frozenset()
    lexicon = json.loads(path.read_text(encoding="utf-8"))
    return frozenset(k for k, v in lexicon.items() if v[:1].isupper())


def _stem(word: str) -> str:
    for suffix in ("ies", "ing", "ed", "es", "s", "'s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def unsupported_names(title: str, support: str) -> list[str]:
    """Latin-script words of ``title`` that look like names and that ``support`` does not contain."""
    support_words = {_stem(w) for w in re.findall(r"[a-z][a-z']*", support.lower())}
    support_lower = support.lower()
    english, proper = _english_words(), _proper_nouns()
    out = []
    for word in re.findall(r"[A-Za-z][A-Za-z']+", title):
        low = word.lower().removesuffix("'s")
        if len(low) < 3 or _stem(low) in support_words or low in support_lower:
            continue
        if low in proper or (english and low not in english and _stem(low) not in english):
            out.append(word)
    return out


def check_title(title: str, support: Iterable[str]) -> list[str]:
    """Why ``title`` is not supported by the texts in ``support`` (brief, audience, selling points).

    Returns:
        Reasons such as ``"number 40 not in the brief"`` or ``"name 'Washown' not in the brief"``; empty when the
        title is supported.
    """
    text = " \n ".join(support)
    reasons = [f"number {n:g} not in the brief" for n in unsupported_numbers(title, text)]
    reasons += [f"name {w!r} not in the brief" for w in unsupported_names(title, text)]
    return reasons
