"""Lexical closeness of a brief to catalogue lines, in any script, and its fusion with embedding similarity.

Dense sentence embeddings miss rare names (people, shows, products, places) that a brief and its right line
share; TF-IDF catches them. Terms: Han text is split into character unigrams and bigrams (Chinese has no spaces,
and a word is mostly one or two characters); other text into lower-cased, accent-stripped word unigrams and
bigrams. The vectoriser is fitted on the catalogue (its IDF says what is rare among the lines ranked), so a brief
is scored without refitting. Traditional and simplified forms of a character are different terms here; the
dense encoder is what bridges them.

Fusion (:func:`fuse`): per brief, the dense cosines and the lexical cosines are each standardised over the
candidates (z-scores: the two scales, and e5's compressed cosines, become comparable) and mixed with a weight
chosen on a development split (``python -m crossmodal_match.evaluate multilingual``, docs/crossmodal_match/
copy.md); the mix is mapped to [0, 1] with a logistic so it can stand in the ``semantic`` feature.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"\w+")


def terms(text: str) -> list[str]:
    """The lexical terms of a text: Han character 1- and 2-grams, other words' 1- and 2-grams (lower-cased,
    accents stripped, NFKC so full-width letters and digits read as ASCII). Emoji and punctuation give none."""
    text = unicodedata.normalize("NFKC", text).lower()
    out: list[str] = []
    for run in _HAN.findall(text):
        out.extend(run)
        out.extend(run[i:i + 2] for i in range(len(run) - 1))
    rest = unicodedata.normalize("NFKD", _HAN.sub(" | ", text))
    rest = "".join(c for c in rest if not unicodedata.combining(c))
    for chunk in rest.split("|"):  # a word pair never spans a Han run
        words = [w for w in _WORD.findall(chunk) if w != "_"]
        out.extend(words)
        out.extend(f"{a} {b}" for a, b in zip(words, words[1:]))
    return out


class LexicalIndex:
    """TF-IDF (sublinear tf, l2-normalised) of catalogue texts over :func:`terms`.

    Args:
        texts: the catalogue lines (n of them; empty strings are allowed and score 0).
    """

    def __init__(self, texts: Sequence[str]) -> None:
        self.n = len(texts)
        self._vectorizer = None
        self._matrix = None
        if any(terms(t) for t in texts):
            from sklearn.feature_extraction.text import TfidfVectorizer

            self._vectorizer = TfidfVectorizer(analyzer=terms, sublinear_tf=True)
            self._matrix = self._vectorizer.fit_transform(list(texts)).T.tocsr()

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        """Cosine of each query's TF-IDF vector with each line's.

        Returns:
            np.ndarray [shape=(len(queries), n), float64] in [0, 1]; all 0 for a query sharing no term.
        """
        if self._vectorizer is None or not len(queries):
            return np.zeros((len(queries), self.n))
        return np.asarray((self._vectorizer.transform(list(queries)) @ self._matrix).todense(), dtype=np.float64)


def zscore(scores: np.ndarray) -> np.ndarray:
    """Each row of np.ndarray [shape=(q, n)] to zero mean and unit variance over its candidates (a constant row
    stays 0)."""
    s = np.asarray(scores, dtype=np.float64)
    sd = s.std(axis=-1, keepdims=True)
    return (s - s.mean(axis=-1, keepdims=True)) / np.where(sd > 1e-12, sd, 1.0)


def fuse(dense: np.ndarray, lexical: np.ndarray, *, lexical_weight: float) -> np.ndarray:
    """Mix dense and lexical similarities of each query's candidates.

    Args:
        dense: cosines np.ndarray [shape=(q, n)] (or (n,) for one query).
        lexical: lexical cosines, same shape.
        lexical_weight: in [0, 1]; 0 is the dense ranking alone, 1 the lexical one.

    Returns:
        np.ndarray like ``dense``: ``(1 - w) * z(dense) + w * z(lexical)``, higher = closer.

    Raises:
        ValueError: a weight outside [0, 1] or shapes that differ.
    """
    if not 0.0 <= lexical_weight <= 1.0:
        raise ValueError(f"lexical_weight must be in [0, 1], got {lexical_weight!r}")
    if np.shape(dense) != np.shape(lexical):
        raise ValueError(f"dense {np.shape(dense)} and lexical {np.shape(lexical)} scores differ in shape")
    return (1.0 - lexical_weight) * zscore(dense) + lexical_weight * zscore(lexical)


def fused_fit(fused: np.ndarray) -> np.ndarray:
    """A fused score (z units) as a [0, 1] feature: logistic, so the average candidate sits at 0.5."""
    return 1.0 / (1.0 + np.exp(-np.asarray(fused, dtype=np.float64)))


#: Lexical weight of :func:`fuse` per text encoder (``Encoder.name``), chosen on the development half of
#: ``python -m crossmodal_match.evaluate multilingual`` (docs/crossmodal_match/copy_multilingual.md).
LEXICAL_WEIGHTS = {"multilingual-e5-small-q4": 0.3, "use-multilingual-v3": 0.4, "all-MiniLM-L6-v2": 0.7}
#: For an encoder measured nowhere (a custom one): the weight of the default encoder.
DEFAULT_LEXICAL_WEIGHT = 0.3


def han_share(text: str) -> float | None:
    """Share of Han characters among the letters of ``text`` (None when it has no letters, e.g. emoji only)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return None
    return sum(1 for c in letters if _HAN.match(c)) / len(letters)


def is_chinese(text: str) -> bool | None:
    """True when at least 30% of the letters are Han (so "周末露营 vlog" and "iPhone 15 开箱测评" are Chinese and
    "my trip to 北京" is not); None for text without letters."""
    share = han_share(text)
    return None if share is None else share >= 0.3
