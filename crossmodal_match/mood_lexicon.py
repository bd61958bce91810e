"""Mood, scene and genre words (Chinese and English) -> the feel descriptors valence, arousal and energy.

    lexicon = load_lexicon()
    lexicon.feel("周末治愈系露营vlog")   # WordFeel(valence, arousal, energy, words=("治愈", "露营"))
    shared_terms("周末治愈系露营vlog", "山野 治愈 纯音乐 (旅行)")   # ["治愈", "露营"]: 露营 stands for 旅行

The lexicon (``crossmodal_match/data/mood_lexicon.json``) is built by ``python -m crossmodal_match.evaluate
music-lexicon`` from the tag vocabulary of NetEase playlists and Douyin hot-chart tracks: a few seed mood words
placed by hand on the valence-arousal circumplex, every other tag's feel derived from the seeds it co-occurs with
(docs/crossmodal_match/mood_lexicon.md). Aliases map everyday words (露营, 健身, "workout", "chill") onto tags.

Matching: text is NFKC-normalised and case-folded; Chinese words are found as substrings (Chinese has no spaces),
Latin ones only as whole words ("rock" is not in "rocket"); overlapping candidates go to the longest word. Pure
Python and numpy; the JSON is read once per path.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from crossmodal_match.errors import CatalogueError

LEXICON_FILE = Path(__file__).resolve().parent / "data" / "mood_lexicon.json"
AXES = ("valence", "arousal", "energy")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_WORD = re.compile(r"[a-z][a-z0-9&'/-]{2,}")
# Latin words too common to count as a shared term in a reason.
_STOP = frozenset("the and for with from this that your you our music song track video short background "
                  "version edit mix".split())


def normalise(text: str) -> str:
    """NFKC (full-width letters, digits and brackets become ASCII) and case-folded."""
    return unicodedata.normalize("NFKC", str(text)).casefold()


def has_words(text: str | None) -> bool:
    """Whether a text holds any letter (Han or other script); False for None, "", "12345", "🎵🎶", "--".

    A track title without letters says nothing about the music: the matcher gives such a track a neutral
    semantic score instead of embedding the digits or emoji.
    """
    return bool(text) and any(unicodedata.category(c).startswith("L") for c in str(text))


@dataclass(frozen=True)
class WordFeel:
    """The feel the mood words of a text imply.

    Attributes:
        valence, arousal, energy: means over the words found, each in [0, 1].
        words: the words as written in the text (normalised), in order of appearance.
    """

    valence: float
    arousal: float
    energy: float
    words: tuple[str, ...]


@dataclass(frozen=True)
class MoodLexicon:
    """Words with a feel, and aliases onto them.

    Attributes:
        words: normalised word -> (valence, arousal, energy), each in [0, 1].
        aliases: normalised everyday word -> the lexicon words it stands for.
        source: where it was read from.
    """

    words: Mapping[str, tuple[float, float, float]]
    aliases: Mapping[str, tuple[str, ...]]
    source: str = ""

    @functools.cached_property
    def _pattern(self) -> re.Pattern[str]:
        keys = sorted(set(self.words) | set(self.aliases), key=lambda k: (-len(k), k))
        # Latin keys must not sit inside a longer Latin word; Han keys may sit anywhere
        parts = [re.escape(k) if _HAN.search(k) else rf"(?<![a-z0-9]){re.escape(k)}(?![a-z0-9])" for k in keys]
        return re.compile("|".join(parts) or r"(?!)")

    def find(self, text: str | None) -> list[tuple[str, tuple[str, ...]]]:
        """The lexicon words in a text.

        Returns:
            ``[(word as found, (lexicon words it stands for, ...)), ...]`` in order, without repeats; [] for None,
            empty text or a text without lexicon words.
        """
        if not text:
            return []
        out: dict[str, tuple[str, ...]] = {}
        for match in self._pattern.finditer(normalise(text)):
            key = match.group(0)
            out.setdefault(key, (key,) if key in self.words else self.aliases[key])
        return list(out.items())

    def feel(self, text: str | None) -> WordFeel | None:
        """Mean valence, arousal and energy of the lexicon words in a text; None when it has none."""
        found = self.find(text)
        targets = [t for _, ts in found for t in ts]
        if not targets:
            return None
        means = [sum(self.words[t][i] for t in targets) / len(targets) for i in range(len(AXES))]
        return WordFeel(*means, words=tuple(w for w, _ in found))


def _check_value(value: object, where: str) -> float:
    if not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise CatalogueError(f"{where}: every axis must be a number in [0, 1], got {value!r}; rebuild it with "
                             "python -m crossmodal_match.evaluate music-lexicon")
    return float(value)


@functools.lru_cache(maxsize=4)
def load_lexicon(path: str | None = None) -> MoodLexicon:
    """Read a mood lexicon JSON (``{"words": {word: {"valence", "arousal", "energy"}}, "aliases": {word:
    [words]}}``).

    Args:
        path: the file; None for the shipped ``crossmodal_match/data/mood_lexicon.json``.

    Raises:
        CatalogueError: the file is missing or not UTF-8 JSON of that shape, a value is outside [0, 1], or an alias
            points at a word the lexicon lacks.
    """
    file = Path(path) if path is not None else LEXICON_FILE
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueError(f"{file}: mood lexicon not found; rebuild it with python -m crossmodal_match.evaluate "
                             "music-lexicon --data ../shared/data") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogueError(f"{file}: mood lexicon is not UTF-8 JSON ({exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("words"), dict):
        raise CatalogueError(f"{file}: mood lexicon needs a 'words' object of word -> {{valence, arousal, energy}}")
    words = {}
    for word, values in raw["words"].items():
        if not isinstance(values, dict):
            raise CatalogueError(f"{file}: word {word!r} needs an object with {list(AXES)}")
        words[normalise(word)] = tuple(_check_value(values.get(a), f"{file}: {word!r} {a}") for a in AXES)
    aliases = {}
    for alias, targets in (raw.get("aliases") or {}).items():
        norm = tuple(normalise(t) for t in targets)
        if not norm or any(t not in words for t in norm):
            raise CatalogueError(f"{file}: alias {alias!r} points at {targets!r}, not all of them lexicon words")
        aliases[normalise(alias)] = norm
    return MoodLexicon(words=words, aliases=aliases, source=str(file))


def _han_overlaps(a: str, b: str, *, min_len: int = 2) -> list[str]:
    """Maximal Han substrings (>= ``min_len`` characters) of ``a`` that also occur in ``b``, in order of ``a``."""
    runs_b = "|".join(_HAN.findall(b))
    found: list[tuple[int, str]] = []
    for run in _HAN.findall(a):
        start = a.find(run)
        i = 0
        while i <= len(run) - min_len:
            j = i + min_len
            if run[i:j] not in runs_b:
                i += 1
                continue
            while j < len(run) and run[i:j + 1] in runs_b:
                j += 1
            found.append((start + i, run[i:j]))
            i = j
    return [s for _, s in sorted(found)]


def shared_terms(brief: str, text: str, *, lexicon: MoodLexicon | None = None, max_terms: int = 3) -> list[str]:
    """What a brief and a candidate's text have in common, for a reason a creator can read, in either language.

    First the brief's lexicon words whose meaning the text shares (a brief's 露营 and a track tagged 旅行 share
    旅行; "chill" and 放松 share 放松), then Chinese character runs of two or more in both texts, then Latin words of
    three or more letters in both.

    Args:
        brief: the creator's brief.
        text: the candidate's text (a track's title, genre, mood and tags; a copy line; a template's name).
        lexicon: None for the shipped one.
        max_terms: at most this many terms.

    Returns:
        the terms as written in the brief (normalised), at most ``max_terms``; [] when nothing is shared.
    """
    lexicon = lexicon or load_lexicon()
    brief_n, text_n = normalise(brief or ""), normalise(text or "")
    if not brief_n or not text_n:
        return []
    text_concepts = {t for _, ts in lexicon.find(text_n) for t in ts}
    terms = [w for w, ts in lexicon.find(brief_n) if text_concepts.intersection(ts)]
    terms += _han_overlaps(brief_n, text_n)
    text_words = set(_LATIN_WORD.findall(text_n))
    terms += [w for w in _LATIN_WORD.findall(brief_n) if w in text_words and w not in _STOP]
    kept: list[str] = []
    for term in terms:  # drop repeats and pieces of a term already kept (治愈 after 治愈系)
        if not any(term in k for k in kept):
            kept.append(term)
    return kept[:max_terms]
