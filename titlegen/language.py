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


def han_count(text: str) -> int:
    """Number of Han (CJK ideograph) characters in ``text``."""
    return len(_HAN.findall(text))


def has_words(text: str) -> bool:
    """True when ``text`` has at least one Han character or a Latin, Cyrillic, ... letter outside hashtags/mentions.

    A brief of only emoji, hashtags, @mentions, digits and punctuation describes nothing a title can be written
    from. A Xiaohongshu topic is closed by a second ``#`` (``#降噪耳机#续航超长``): what follows it is text.
    """
    stripped = re.sub(r"#[^#\s]+#|[#@]\S+", " ", text)
    return any(unicodedata.category(ch).startswith("L") for ch in stripped)


def detect_language(text: str) -> str:
    """``"zh"`` or ``"en"``: the language most of ``text`` is written in.

    A Han character weighs as much as two Latin words. Latin words in a Chinese post are mostly names (brands,
    models: "Apple AirPods Pro 2 真香", "iPhone 15 Pro Max 开箱"), so a Chinese text with a few of them stays
    Chinese; an English text that names one Chinese thing ("Trying 小笼包 at the night market in Shanghai") stays
    English. Traditional characters count as Chinese. Text with neither is ``"en"``.
    """
    han = han_count(text)
    latin = len(_LATIN_WORD.findall(text))
    return "zh" if han > 0 and 2 * han >= latin else "en"


def resolve_language(requested: str, brief: str) -> str:
    """The language a title is written in: ``requested``, or the brief's when it is :data:`AUTO`."""
    return detect_language(brief) if requested == AUTO else requested


def _zero_width(ch: str) -> bool:
    """Code points that add nothing a reader sees: combining and enclosing marks, format characters (zero-width
    space, soft hyphen, the tag characters of subdivision flags), variation selectors and skin-tone modifiers."""
    cp = ord(ch)
    return (unicodedata.category(ch) in ("Mn", "Me", "Cf") or 0xFE00 <= cp <= 0xFE0F or 0x1F3FB <= cp <= 0x1F3FF
            or 0xE0100 <= cp <= 0xE01EF)


def display_length(text: str) -> int:
    """Characters as a reader counts them (see the module docstring).

    Combining marks, variation selectors, zero-width joiners (and the character each joins on), skin-tone
    modifiers, other invisible format characters and the second regional indicator of a flag add nothing.
    """
    count = 0
    prev_joiner = False
    regional_open = False
    for ch in text:
        cp = ord(ch)
        if ch == "\u200d":
            prev_joiner = True
            continue
        if _zero_width(ch):
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
# Marks that end a clause only before a space or the end: "4.5", "1,080" and "3:30" are not cut there.
_ASCII_MARKS = ",.!?;:"
# Marks kept at the end of a shortened title: they change what it says ("好用吗？" is a question).
_KEEP_MARKS = "!?！？…"


def fit_to_length(text: str, limit: int) -> str:
    """``text`` shortened to at most ``limit`` display characters, never inside a word.

    Latin text is cut at the last space that fits; Chinese text at the last clause mark (，。！？；、...) that fits.
    A question or exclamation mark at the cut is kept when it fits. Marks between digits ("4.5", "1,080") are not
    boundaries. When no boundary fits, the result is ``""`` rather than a word cut in half.
    """
    text = text.strip()
    if display_length(text) <= limit:
        return text
    best = ""
    for i, ch in enumerate(text):
        if ch != " " and ch not in _CLAUSE_END:
            continue
        if ch in _ASCII_MARKS and i + 1 < len(text) and not text[i + 1].isspace():
            continue
        head = text[:i].rstrip(" ,;:-&，、；：")
        if not head:
            continue
        if ch in _KEEP_MARKS and display_length(head + ch) <= limit:
            head += ch
        if display_length(head) > limit:
            break
        best = head
    return best
