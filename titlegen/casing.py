"""Turning a model's word-piece output into a readable title: detokenize, then restore casing.

The embedded default's vocabulary is uncased (MiniLM), so its output is lowercase and spaced around punctuation
("what ' s new in the u . s ."). :func:`detokenize` joins the punctuation back; :func:`restore_case` takes the
casing of each word from the brief when it occurs there (names, brands), then from a lexicon of the usual form of
words in published headlines (``iPhone``, ``NASA``), then applies the style's title or sentence case.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

_SMALL_WORDS = set("a an and as at but by for from in into nor of on or per the to vs via with".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’]*")


def detokenize(text: str) -> str:
    """Undo word-piece spacing around punctuation: ``"it ' s a $ 5 deal !"`` -> ``"it's a $5 deal!"``."""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\b(\w) \. (\w) \.", r"\1.\2.", text)  # u . s . -> u.s.
    text = re.sub(r"\b([a-z])\. ([a-z])\.", r"\1.\2.", text, flags=re.I)  # u. s. -> u.s.
    # French elision: l ' un -> l'un, qu ' il -> qu'il
    text = re.sub(r"\b([ldjnc]|qu) ?['’] ?(?=[aeiouyhéèêàâîô])", r"\1'", text, flags=re.I)
    text = re.sub(r"([\w.]) ?(['’]) ?(s|t|re|ve|ll|d|m)\b", r"\1\2\3", text)  # contractions and possessives
    text = re.sub(r" ([,.!?:;%)\]}])", r"\1", text)
    text = re.sub(r"([(\[{$#@]) ", r"\1", text)
    text = re.sub(r"(\d) ([.,:]) (\d)", r"\1\2\3", text)  # 3 . 5 -> 3.5, 10 : 30 -> 10:30
    text = re.sub(r"(\d)([.,:])\s(\d)", r"\1\2\3", text)
    text = re.sub(r"(\w) - (\w)", r"\1-\2", text)
    text = re.sub(r"\" (.*?) \"", r'"\1"', text)
    text = re.sub(r"' (.*?) '", r"'\1'", text)
    text = re.sub(r" ?& ?", " & ", text)
    return text.strip(" -|,;:")


def build_lexicon(titles: Iterable[str], *, min_count: int = 3) -> dict[str, str]:
    """Most common non-lowercase spelling of each word, counted away from the start of a title.

    Only words whose usual form is *not* plain lowercase or plain capitalised are kept (``iPhone``, ``NASA``,
    ``McDonald's``), plus proper names that are capitalised in the middle of sentence-cased titles; the rest is
    left to the style's casing rule.

    Returns:
        ``{lowercase word: usual spelling}``.
    """
    forms: dict[str, Counter] = {}
    for title in titles:
        words = _WORD.findall(title)
        # All-caps or Title Case titles say nothing about a word's own casing: learn from sentence-case ones.
        if len(words) < 4 or sum(w[0].isupper() for w in words) > len(words) / 2:
            continue
        for word in words[1:]:
            forms.setdefault(word.lower(), Counter())[word] += 1
    lexicon = {}
    for low, counts in forms.items():
        form, n = counts.most_common(1)[0]
        if n >= min_count and form != low and n / sum(counts.values()) >= 0.6:
            lexicon[low] = form
    return lexicon


def save_lexicon(lexicon: dict[str, str], path: str | Path) -> None:
    """Write the lexicon as sorted JSON."""
    Path(path).write_text(json.dumps(dict(sorted(lexicon.items())), ensure_ascii=False, indent=0) + "\n",
                          encoding="utf-8")


def load_lexicon(path: str | Path) -> dict[str, str]:
    """Read a lexicon written by :func:`save_lexicon`; a missing file gives an empty lexicon."""
    p = Path(path)
    return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else {}


def _brief_forms(brief: str) -> dict[str, str]:
    forms: dict[str, Counter] = {}
    for i, word in enumerate(_WORD.findall(brief)):
        if i and word != word.lower():  # the brief's first word is capitalised for grammar, not for meaning
            forms.setdefault(word.lower(), Counter())[word] += 1
    return {low: c.most_common(1)[0][0] for low, c in forms.items()}


def restore_case(title: str, *, brief: str = "", lexicon: dict[str, str] | None = None,
                 casing: str = "title") -> str:
    """Recase a lowercase ``title``.

    Args:
        title: detokenized model output.
        brief: the text it was written from; spellings there win (names, brands).
        lexicon: usual spellings from :func:`build_lexicon`.
        casing: ``"title"`` (Capitalise Each Major Word) or ``"sentence"`` (first word only).

    Returns:
        The recased title; text that already has capitals is returned unchanged.
    """
    if title != title.lower():
        return title
    known = {**(lexicon or {}), **_brief_forms(brief)}
    # Abbreviations first (u.s. -> U.S.): they are not words to title-case.
    title = re.sub(r"\b([a-z])\.([a-z])\.", lambda m: m.group(0).upper(), title)
    state = {"first": True}

    def fix(match: re.Match) -> str:
        core, low = match.group(0), match.group(0).lower()
        if match.start() and title[match.start() - 1] in "'’" and low in ("s", "t", "re", "ve", "ll", "d", "m"):
            return core  # the tail of a contraction or possessive, not a word
        before = title[: match.start()].rstrip()
        first = state["first"] or before.endswith((":", "?", "!"))
        state["first"] = False
        if low in known:
            return known[low]
        if first or (casing == "title" and low not in _SMALL_WORDS):
            return core[:1].upper() + core[1:]
        return core

    return re.sub(r"[A-Za-z][A-Za-z0-9'’]*", fix, title)
