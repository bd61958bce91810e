"""Which language a text is in, and how long it looks to a reader.

The platforms this project serves count a title's length as a reader sees it: each Han character is one, each
Latin letter, digit or punctuation mark is one, and an emoji built from several code points (skin tones, flags,
families joined by zero-width joiners) is one. :func:`display_length` counts that way; ``len()`` does not.

Only the two languages the embedded model writes are known: :data:`LANGUAGES`.
"""

from __future__ import annotations

import re
import unicodedata

#: Language codes a title can be asked for, with their names; ``auto`` follows the brief.
LANGUAGES = {"zh": "Chinese", "en": "English"}
AUTO = "auto"

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
# Code points that join or modify the previous one without being a visible character of their own.
_JOINERS = {"\u200d", "\ufe0e", "\ufe0f", "\u20e3"}


def han_count(text: str) -> int:
    """Number of Han (CJK ideograph) characters in ``text``."""
    return len(_HAN.findall(text))


def has_words(text: str) -> bool:
    """True when ``text`` has at least one Han character or a Latin, Cyrillic, ... letter outside hashtags/mentions.

    A brief of only emoji, hashtags, @mentions, digits and punctuation describes nothing a title can be written
    from.
    """
    stripped = re.sub(r"[#@]\S+", " ", text)
    return any(unicodedata.category(ch).startswith("L") for ch in stripped)


def detect_language(text: str) -> str:
    """``"zh"`` or ``"en"``: the language most of ``text`` is written in.

    A Han character weighs as much as a Latin word (two Han characters make a typical Chinese word, so this
    leans to Chinese on an even mix, which is what a mixed Chinese brief with a brand name in Latin letters
    needs). Traditional characters count as Chinese. Text with neither is ``"en"``.
    """
    han = han_count(text)
    latin = len(_LATIN_WORD.findall(text))
    return "zh" if han > 0 and han >= latin else "en"


def resolve_language(requested: str, brief: str) -> str:
    """The language a title is written in: ``requested``, or the brief's when it is :data:`AUTO`."""
    return detect_language(brief) if requested == AUTO else requested


def display_length(text: str) -> int:
    """Characters as a reader counts them (see the module docstring).

    Combining marks, variation selectors, zero-width joiners, skin-tone modifiers and the second regional
    indicator of a flag add nothing to the count.
    """
    count = 0
    prev_joiner = False
    regional_open = False
    for ch in text:
        cp = ord(ch)
        if ch in _JOINERS:
            prev_joiner = ch == "\u200d"
            continue
        if unicodedata.combining(ch) or 0x1F3FB <= cp <= 0x1F3FF:
            continue
        if 0x1F1E6 <= cp <= 0x1F1FF:  # regional indicators: a flag is a pair
            if regional_open:
                regional_open = False
                continue
            regional_open = True
        else:
            regional_open = False
        if prev_joiner:
            prev_joiner = False
            continue
        count += 1
    return count


_CLAUSE_END = "，。！？；：、,.!?;:…"


def fit_to_length(text: str, limit: int) -> str:
    """``text`` shortened to at most ``limit`` display characters, never inside a word.

    Latin text is cut at the last space that fits; Chinese text at the last clause mark (，。！？；、...) that fits.
    When no boundary fits, the result is ``""`` rather than a word cut in half.
    """
    text = text.strip()
    if display_length(text) <= limit:
        return text
    best = ""
    for i, ch in enumerate(text):
        if ch == " " or ch in _CLAUSE_END:
            head = text[:i].rstrip(" ,;:-&，、；：")
            if head and display_length(head) <= limit:
                best = head
            elif head:
                break
    return best
