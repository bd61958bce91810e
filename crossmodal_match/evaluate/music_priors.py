"""Signals that rank a music catalogue for a video from what the video offers (its category and length), each
learned from development pairs, each a score matrix np.ndarray [shape=(queries, candidates)], higher = better.

Used by ``music_mgsv`` (MGSV-EC). Learned from ``dev`` rows (``category``, ``cand`` (the catalogue index of the
track used), ``video_s``); applied to ``queries`` (``category``, ``video_s``) over a ``Catalogue``:

- ``popularity``: log(1 + dev uses) of each candidate: the same list for every video;
- ``category_usage``: log of the category's smoothed share of each candidate,
  ``(n(cat, c) + a * n(c) / N) / (n(cat) + a)``;
- ``attributes``: naive Bayes log-likelihood ratio of the title's version hints and length bin given the category
  (``music_usage.co_usage_attribute_scores``);
- ``covers``: whether the track lasts as long as the video, as a log-likelihood ratio of used pairs against all
  (video, candidate) pairs of the dev part;
- ``word_feel``: closeness of the valence and energy the title's mood words imply (``mood_lexicon``) to the mean
  of the category's dev tracks; 0 for a title without mood words;
- ``text``: cosine of the category's text (a brief such as "美妆短视频背景音乐") with the title embedding,
  zero-shot; a title without letters ("520", "1234567") gets the row's mean, i.e. no opinion;
- ``text_prior``: a kernel density ratio in the encoder's space: how much more a title resembles the titles the
  category used in dev than those all categories used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crossmodal_match.evaluate.music_usage import co_usage_attribute_scores, length_bins, title_attributes
from crossmodal_match.mood_lexicon import has_words, load_lexicon, normalise


def catalogue_key(title: str) -> str:
    """Two titles name the same catalogue track when they are equal after NFKC, case-folding and removing spaces."""
    return "".join(normalise(title).split())


@dataclass(frozen=True)
class Catalogue:
    """The deduplicated tracks of a pair file.

    Attributes:
        titles: one display title per track, length n.
        length_s: np.ndarray [shape=(n,)], the track's length in seconds (median over its rows).
    """

    titles: tuple[str, ...]
    length_s: np.ndarray

    def __len__(self) -> int:
        return len(self.titles)


def _rows(frame, column: str) -> np.ndarray:
    return frame[column].to_numpy()


def popularity(dev, *, n: int, queries: int) -> np.ndarray:
    """log(1 + dev uses) of each of n candidates, tiled for every query."""
    counts = np.bincount(_rows(dev, "cand").astype(int), minlength=n).astype(np.float64)
    return np.tile(np.log1p(counts), (queries, 1))


def category_usage(dev, query_categories: np.ndarray, *, n: int, smoothing: float) -> np.ndarray:
    """log of ``(n(cat, c) + a * n(c) / N) / (n(cat) + a)`` per (query category, candidate)."""
    cand, cats = _rows(dev, "cand").astype(int), _rows(dev, "category")
    prior = np.bincount(cand, minlength=n) / max(len(cand), 1)
    distinct, inverse = np.unique(query_categories.astype(str), return_inverse=True)
    out = np.empty((len(distinct), n))
    for i, cat in enumerate(distinct):
        mine = cand[cats == cat]
        out[i] = np.log((np.bincount(mine, minlength=n) + smoothing * prior + 1e-9) / (len(mine) + smoothing))
    return out[inverse]


def attributes(dev, query_categories: np.ndarray, catalogue: Catalogue, *, smoothing: float) -> np.ndarray:
    """Naive Bayes LLR of (title hints, length bin) given the category; see ``co_usage_attribute_scores``."""
    import pandas as pd

    used = np.asarray(_rows(dev, "cand"), dtype=int)
    train = pd.DataFrame({"title": [catalogue.titles[i] for i in used], "video_category": _rows(dev, "category"),
                          "music_total_duration": catalogue.length_s[used]})
    return co_usage_attribute_scores(train, categories=list(query_categories),
                                     attrs=title_attributes(list(catalogue.titles)),
                                     bins=length_bins(catalogue.length_s), smoothing=smoothing)


def covers(dev, query_video_s: np.ndarray, catalogue: Catalogue) -> np.ndarray:
    """LLR of "the track is at least as long as the video" in used pairs against all dev (video, track) pairs."""
    length = catalogue.length_s
    used = length[_rows(dev, "cand").astype(int)] >= _rows(dev, "video_s")
    pool = (length[None, :] >= _rows(dev, "video_s")[:, None]).mean()
    p_used = (used.sum() + 1.0) / (used.size + 2.0)
    llr_yes, llr_no = np.log(p_used / pool), np.log((1 - p_used) / max(1 - pool, 1e-9))
    return np.where(length[None, :] >= np.asarray(query_video_s, dtype=np.float64)[:, None], llr_yes, llr_no)


def title_feel(titles: tuple[str, ...] | list[str]) -> np.ndarray:
    """(valence, energy) the mood words of each title imply: np.ndarray [shape=(n, 2)], NaN without words."""
    lexicon = load_lexicon()
    out = np.full((len(titles), 2), np.nan)
    for i, title in enumerate(titles):
        feel = lexicon.feel(title)
        if feel is not None:
            out[i] = feel.valence, feel.energy
    return out


def word_feel(dev, query_categories: np.ndarray, feel: np.ndarray, *, smoothing: float) -> np.ndarray:
    """Minus the distance of each candidate's word feel to its query category's mean dev word feel (0: no words).

    Args:
        feel: ``title_feel`` of the catalogue, np.ndarray [shape=(n, 2)].
    """
    used = feel[_rows(dev, "cand").astype(int)]
    has = np.isfinite(used[:, 0])
    overall = used[has].mean(axis=0) if has.any() else np.full(2, 0.5)
    cats = _rows(dev, "category")
    distinct, inverse = np.unique(query_categories.astype(str), return_inverse=True)
    out = np.zeros((len(distinct), len(feel)))
    known = np.isfinite(feel[:, 0])
    for i, cat in enumerate(distinct):
        mine = used[(cats == cat) & has]
        centre = (mine.sum(axis=0) + smoothing * overall) / (len(mine) + smoothing)
        out[i, known] = -np.linalg.norm(feel[known] - centre, axis=1)
    return out[inverse]


def text_similarity(brief_emb: np.ndarray, title_emb: np.ndarray, titles: tuple[str, ...]) -> np.ndarray:
    """Cosine of each brief with each title; titles without letters get each row's mean (no opinion).

    Args:
        brief_emb: np.ndarray [shape=(q, d)], unit rows. title_emb: np.ndarray [shape=(n, d)], unit rows.
    """
    sims = np.asarray(brief_emb, dtype=np.float64) @ np.asarray(title_emb, dtype=np.float64).T
    blank = np.array([not has_words(t) for t in titles])
    if blank.any() and not blank.all():
        sims[:, blank] = sims[:, ~blank].mean(axis=1, keepdims=True)
    return sims


def text_prior(dev, query_categories: np.ndarray, title_emb: np.ndarray, titles: tuple[str, ...], *,
               temperature: float) -> np.ndarray:
    """How much more a title resembles the titles the category used in dev than the titles all categories used.

    A kernel density ratio in the encoder's space: ``log mean_{j in dev(cat)} exp(cos(c, j) / t) -
    log mean_{j in dev} exp(cos(c, j) / t)``; a small temperature ``t`` looks at the nearest titles (a near
    duplicate of a title the category used), a large one at the category's overall style.
    """
    cand, cats = _rows(dev, "cand").astype(int), _rows(dev, "category")
    emb = np.asarray(title_emb, dtype=np.float64)
    kernel = (emb @ emb[cand].T) / temperature  # (n, dev rows)
    peak = kernel.max(axis=1, keepdims=True)
    weights = np.exp(kernel - peak)
    overall = np.log(weights.mean(axis=1))
    distinct, inverse = np.unique(query_categories.astype(str), return_inverse=True)
    scores = np.zeros((len(distinct), len(emb)))
    for i, cat in enumerate(distinct):
        mine = cats == cat
        if mine.any():
            scores[i] = np.log(weights[:, mine].mean(axis=1) + 1e-300) - overall
    blank = np.array([not has_words(t) for t in titles])
    scores[:, blank] = 0.0  # the digits or emoji of a title carry no meaning to compare
    return scores[inverse]
