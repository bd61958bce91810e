"""Relevance of a title to its brief when no click model reads its language: lexical grounding.

With a click model that reads the language, relevance is the cosine of the click model's text embeddings
(``titlegen.embedding.TextEmbedder``, multilingual by default; ``TitleGenerator._on_topic``). Without one (no click
model, or one fitted for other languages), candidates are ranked by the model's own score plus how much of the
title is grounded in the brief: the share of the title's units (Han character bigrams, and lower-cased Latin
words) that also occur in the brief, controls included.
"""

from __future__ import annotations

import re

_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+")


def units(text: str) -> set[str]:
    """Han character bigrams (a single Han character alone when a run has one) and lower-cased Latin words."""
    out: set[str] = set()
    for run in _HAN_RUN.findall(text):
        out.update(run[i:i + 2] for i in range(max(1, len(run) - 1)))
    out.update(w for w in _WORD.findall(text.lower()) if len(w) > 1)
    return out


def grounding(title: str, brief: str) -> float:
    """Share in [0, 1] of the title's :func:`units` that occur in ``brief`` (0 for a title without units)."""
    mine = units(title)
    return len(mine & units(brief)) / len(mine) if mine else 0.0


def overlap(a: str, b: str) -> float:
    """Dice coefficient in [0, 1] of two texts' :func:`units` (1: the same units)."""
    ua, ub = units(a), units(b)
    return 2 * len(ua & ub) / (len(ua) + len(ub)) if ua or ub else 1.0


def rank_by_score(titles: list[str], logprobs: list[float], brief: str, k: int, *, relevance_weight: float = 1.0,
                  max_overlap: float = 0.7) -> list[int]:
    """Indices of up to ``k`` titles, best first, by ``logprob + relevance_weight * grounding``, skipping a title
    whose :func:`overlap` with one already chosen exceeds ``max_overlap`` (near-duplicates) while others remain.

    Args:
        titles: candidate titles.
        logprobs: the model's mean per-token log-probability of each (nats).
        brief: the brief and controls, as one text.
        k: how many to return; 0 or less returns none.

    Raises:
        ValueError: ``titles`` and ``logprobs`` differ in length.
    """
    if len(titles) != len(logprobs):
        raise ValueError(f"rank_by_score: {len(titles)} titles but {len(logprobs)} log-probabilities")
    if k <= 0:
        return []
    order = sorted(range(len(titles)), key=lambda i: -(logprobs[i] + relevance_weight * grounding(titles[i], brief)))
    chosen: list[int] = []
    for i in order:
        if all(overlap(titles[i], titles[j]) <= max_overlap for j in chosen):
            chosen.append(i)
        if len(chosen) == k:
            return chosen
    rest = [i for i in order if i not in chosen]
    return chosen + rest[: k - len(chosen)]
