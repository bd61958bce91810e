"""Faithfulness guard: does a title state a number or a name that the brief and controls do not support?

A creator posts a title as their own claim. "40 hours of battery" under a brief that says 30, a price the brief
never gave, or a brand the model made up ("Washown") is worse than a plain title, so such candidates are dropped
before ranking (:meth:`titlegen.TitleGenerator.__call__` reports how many and why).

* **Numbers**: Arabic numerals (``1,080``, ``4.5``, ``50%``, ``15-inch``, full-width ``４０``), Chinese numerals (四十
  is 40, 两万 is 20,000, 2万4千 and 两万四 are 24,000, 三点五 is 3.5, 百分之五十 is 50, 五六个 gives 5 and 6, 半 is
  not counted), and English number words ("two hundred and fifty" is 250, "twenty-four" 24, "5 million" 5,000,000;
  its parts 5 and 1,000,000 support a title too). The article-like "one" / 一 on its own ("a") is not a claim, nor
  are words where a numeral means something else (一起, 十分, 万一, 第一, 百搭) or a guess (几十, 数百, 上万,
  "hundreds of"). A title's number is supported when the same value occurs in the brief, the audience or a selling
  point, in any of those notations.
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
import unicodedata
from collections.abc import Iterable
from pathlib import Path

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
           "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}
_NUMERALS = "0-9零〇一二两俩三四五六七八九十百千万亿"
_ZH_DIGITS = "零〇一二两俩三四五六七八九"
# A run of numerals, with a decimal part: "." (1.5万) or, between Chinese digits, 点 (三点五). 点 after Arabic digits
# is "points" (2400点), and before 十/分 a time (三点五十, 三点十分).
_ZH_NUM = re.compile(rf"[{_NUMERALS}]+(?:\.[0-9]+[{_NUMERALS}]*|(?<=[{_ZH_DIGITS}十])点[{_ZH_DIGITS}]+(?![十百千分])"
                     rf"[{_NUMERALS}]*)?")
# Words where 一/万/十/千 are not quantities ("together", "just in case", "perfect", ...). None applies next to
# another numeral (三十一起 is "from 31", 一千万 is ten million, 一点五 is 1.5) nor before 钟 (十分钟 is ten minutes).
_ZH_IDIOMS = ("一起", "一下", "一定", "一样", "一直", "一切", "一些", "一点", "一般", "统一", "唯一", "万一", "十分",
              "一向", "一旦", "一边", "一番", "千万", "万能", "万物", "一致", "一律", "一味", "一整", "一体", "一时",
              "一新", "一流", "万家", "十足", "一族", "专一", "第一", "之一", "一口气", "一下子", "万万", "亿万",
              "成千上万", "千千万万", "万里", "三明治", "三文鱼", "缺斤短两")
_ZH_IDIOM = re.compile(rf"(?<![{_NUMERALS}])(?:{'|'.join(sorted(_ZH_IDIOMS, key=len, reverse=True))})"
                       rf"(?![钟{_ZH_DIGITS}十百千万亿])")
# 几 ("some"), 数 ("several") and 上 ("upwards of") make the number next to them a guess, not a claim: 几十, 十几,
# 二十几, 数十, 上万.
_ZH_VAGUE = re.compile(rf"[{_NUMERALS}]*(?:几|[数上](?=[十百千万亿]))[{_NUMERALS}]*")
_EN_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
             "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
             "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
             "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_EN_SCALES = {"hundred": 100, "dozen": 12, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
_ARABIC = re.compile(r"\d+(?:[,，]\d{3})*(?:\.\d+)?")


def _zh_digits(text: str) -> float:
    """Positional value of a string of single digits, Arabic or Chinese (二〇二四 is 2024, 五 is 5)."""
    return float("".join(str(_DIGITS.get(ch, ch)) for ch in text))


def _parse_zh(token: str) -> list[float]:
    """Values of a run of Chinese and Arabic numerals (``四十``, ``2万4千``, ``一万二``, ``三点五``, ``五六``).

    Two neighbouring digits without a unit between them (五六, 两三, 三五) are a range ("five or six") and give
    both values, other pairs are two numbers (三八), longer runs are positional (二〇二四); a digit after a unit
    without 零 is the next unit down (一万二 is 12,000, 两百五 is 250); numbers with no unit between them are
    separate (两72 gives 2 and 72).
    """
    token = token.replace("点", ".")
    pair = re.fullmatch(r"([一二两三四五六七八九])([一二三四五六七八九])(.*)", token)
    if pair and (_DIGITS[pair[2]] - _DIGITS[pair[1]] == 1 or pair[1] + pair[2] == "三五"):
        return _parse_zh(pair[1] + pair[3]) + _parse_zh(pair[2] + pair[3])
    if pair and not pair[3]:
        # Two digits that are not a range are two numbers, not a positional 2-digit one (三八 is March 8, 一一 "one
        # by one", 一三角形 "a triangle"); a year like 二〇二四 is read positionally below.
        return [float(_DIGITS[ch]) for ch in token if ch != "一"]
    values: list[float] = []
    total, section = 0.0, 0.0
    number: float | None = None
    last_unit, after_zero = 0, False
    for part in re.findall(r"\d+(?:\.\d+)?|[零〇一二两俩三四五六七八九]+(?:\.[零〇一二三四五六七八九]+)?|[十百千万亿]", token):
        if part not in _UNITS:
            if number is not None:  # two numbers with no unit between (缺斤短两72%): separate claims
                values.append(total + section + number)
                total, section, last_unit = 0.0, 0.0, 0
            after_zero = part[0] in "零〇" and last_unit > 0
            whole, _, frac = part.partition(".")
            number = _zh_digits(whole) + (_zh_digits(frac) / 10 ** len(frac) if frac else 0.0)
            continue
        unit = _UNITS[part]
        if unit >= 10_000:
            value = section + (number or 0.0)
            if unit == 100_000_000:
                total = (total + value) * unit if total or value else unit
            else:
                total += (value or 1.0) * unit
            section = 0.0
        else:
            section += (1.0 if number is None else number) * unit
        number, last_unit, after_zero = None, unit, False
    if number is not None and last_unit >= 100 and not after_zero and number < 10:
        number *= last_unit // 10  # 一千二 is 1,200; 一万二 is 12,000; 一亿二 is 120,000,000
    return values + [total + section + (number or 0.0)]


_EN_TOKEN = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?|[a-z]+")


def _english_runs(text: str) -> list[tuple[tuple[int, int], float, list[float]]]:
    """Runs of English number words, each ``(span, value, parts)``: "two hundred and fifty" is 250,
    "twenty-four" 24, "5 million" 5,000,000 (its parts: 5 and 1,000,000). A lone "one" or "a" is an article."""
    tokens = list(_EN_TOKEN.finditer(text))
    runs, i = [], 0
    while i < len(tokens):
        j, words = i, []
        while j < len(tokens):
            word = tokens[j].group()
            if j > i and not re.fullmatch(r"[\s-]*", text[tokens[j - 1].end():tokens[j].start()]):
                break
            nxt = tokens[j + 1].group() if j + 1 < len(tokens) else ""
            if word in _EN_WORDS or word in _EN_SCALES:
                words.append(word)
            elif j == i and (word == "a" or word[0].isdigit()) and nxt in _EN_SCALES:
                words.append(word)
            elif word == "and" and words and words[-1] in _EN_SCALES and nxt in _EN_WORDS:
                pass
            else:
                break
            j += 1
        if not words or words in (["one"], ["a"]) or all(w[0].isdigit() for w in words):
            i = max(j, i + 1)
            continue
        total, current, parts = 0.0, 0.0, []
        for word in words:
            value = float(re.sub(",", "", word)) if word[0].isdigit() else 1.0 if word == "a" else None
            if value is None and word in _EN_WORDS:
                value = float(_EN_WORDS[word])
            if value is not None:
                current += value
                parts.append(value)
                continue
            scale = _EN_SCALES[word]
            parts.append(float(scale))
            if scale >= 1000:
                total, current = total + (current or 1.0) * scale, 0.0
            else:
                current = (current or 1.0) * scale
        runs.append(((tokens[i].start(), tokens[j - 1].end()), total + current, parts))
        i = j
    return runs


def _numbers(text: str, *, parts: bool) -> set[float]:
    """:func:`numbers_in`; with ``parts``, also each part of a compound ("5 million" adds 5 and 1,000,000)."""
    found: set[float] = set()
    text = unicodedata.normalize("NFKC", text).lower().replace("百分之", " ")
    text = _ZH_VAGUE.sub(" ", _ZH_IDIOM.sub(" ", text))
    taken: list[tuple[int, int]] = []
    # Runs with Chinese numerals (2万4千 is one number); pure Arabic runs are read below with their separators.
    for m in _ZH_NUM.finditer(text):
        token = m.group()
        if re.fullmatch(r"[\d.]+", token):
            continue
        taken.append(m.span())
        # 一 alone is "a" (一个, 一款); 百/千/万 without a digit are "all kinds" or "countless" (百搭, 千金, 百万粉丝).
        if token != "一" and not re.fullmatch(r"[百千万亿]+", token):
            found.update(_parse_zh(token))
    for span, value, run_parts in _english_runs(text):
        taken.append(span)
        found.add(value)
        if parts:
            found.update(run_parts)
    for m in _ARABIC.finditer(text):
        if not any(start <= m.start() < end for start, end in taken):
            found.add(float(re.sub(r"[,，]", "", m.group())))
    return found


def numbers_in(text: str) -> set[float]:
    """Every quantity stated in ``text`` (see the module docstring), as floats.

    Approximate amounts are not claims and are skipped: 几十 ("dozens"), 十几, "hundreds of".
    """
    return _numbers(text, parts=False)


def unsupported_numbers(title: str, support: str) -> list[float]:
    """The quantities of ``title`` that ``support`` does not state, in order of value."""
    have = _numbers(support, parts=True)
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


# Latin letters, accented ones included (café); Han characters around a brand name are not part of it (Sony降噪).
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f][A-Za-z\u00c0-\u024f']*")
_INFLECTIONS = (("ies", "y"), ("es", ""), ("s", ""), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"), ("d", ""),
                ("er", ""), ("ers", ""), ("er", "e"), ("ers", "e"))


def _fold(word: str) -> str:
    """``word`` lower-cased, without accents or a possessive 's (Café's -> cafe)."""
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))
    return plain.lower().replace("’", "'").removesuffix("'s").strip("'")


def _stems(word: str) -> set[str]:
    """``word`` (folded) and the stems its simple English inflections could come from: totes -> tote,
    commuting -> commute, shopping -> shop, stories -> story. Over-generating is harmless: a stem is only
    compared with other words' stems."""
    out = {word}
    for suffix, repl in _INFLECTIONS:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            out.add(stem + repl)
            if len(stem) >= 4 and stem[-1] == stem[-2] and stem[-1] not in "aeiouls":
                out.add(stem[:-1])  # shopping -> shop
    return out


def unsupported_names(title: str, support: str) -> list[str]:
    """Latin-script words of ``title`` that look like names and that ``support`` does not contain.

    A word is supported when one of its :func:`_stems` is a stem of a support word, or when it begins or ends a
    longer support word (a hashtag or compound: "sourdough" in "#sourdoughbread"); a word merely inside another
    ("paris" in "comparison") is not.
    """
    support_words = {_fold(w) for w in _LATIN.findall(support)}
    support_stems = set().union(*(_stems(w) for w in support_words)) if support_words else set()
    english, proper = _english_words(), _proper_nouns()
    out = []
    for word in _LATIN.findall(title):
        low = _fold(word)
        stems = _stems(low)
        if len(low) < 3 or stems & support_stems:
            continue
        if any(len(w) > len(low) and (w.startswith(low) or w.endswith(low)) for w in support_words):
            continue
        if low in proper or (english and not stems & english):
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
