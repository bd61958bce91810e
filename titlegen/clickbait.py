"""Clickbait patterns of a title, and the *restraint* that ranks titles using them less.

A click model rewards curiosity-gap wording ("You won't believe ...", "This is why ..."), which platforms demote
and readers tire of. ``restraint`` trades predicted click-through for plainer titles: a candidate's ranking score is
``logit(predicted_ctr) - restraint * (number of pattern groups it matches)``, so one restraint unit costs as much
as one unit of log-odds of clicking. The groups follow the hand-made features of the clickbait literature
(Chakraborty et al. 2016; Potthast et al. 2016): leading numbers, forward references, second person, hyperbole,
``!``/``?``, teaser phrases and leading question words. They are regular expressions, not a model fitted on any
data set, so the clickbait *classifier* used as an evaluation guardrail (``titlegen.evaluate.generated_eval``)
remains a separate judge of them.

A click model also rewards catchy titles about something else. ``relevance_weight`` adds back log-odds per unit of
cosine similarity between the title and its brief (MiniLM embeddings), so a title that stays on the post can
outrank a slightly "clickier" one that wanders off it.
"""

from __future__ import annotations

import math
import re

PATTERNS: dict[str, str] = {
    "leading number": r"^\s*\d+\b",
    "forward reference": r"\b(this|these|here'?s|here is|that'?s why|what happens|what happened)\b",
    "second person": r"\b(you|your|you'?re|you'?ll|you'?ve)\b",
    "hyperbole": r"\b(amazing|incredible|unbelievable|shocking|awesome|epic|insane|mind|blow\w*|genius|perfect|"
                 r"ridiculous\w*|adorable|hilarious|heartbreaking|powerful|stunning|brilliant|best|worst|ever|"
                 r"literally|totally|wow|omg|actually|seriously|crazy|jaw|tears?|cry|chills|speechless)\b",
    "! or ?": r"[!?]",
    "teaser phrase": r"\b(won'?t believe|can'?t|need to|reasons?|things|ways|times|will make|wait (until|till)|"
                     r"the reason|find out|what (he|she|they) did|who knew|the truth)\b",
    "leading question word": r"^\s*(why|how|what|who|when)\b",
}
_COMPILED = {name: re.compile(rx, re.IGNORECASE) for name, rx in PATTERNS.items()}


def clickbait_patterns(title: str) -> tuple[str, ...]:
    """Names of the pattern groups (keys of :data:`PATTERNS`) that ``title`` matches, in that order."""
    return tuple(name for name, rx in _COMPILED.items() if rx.search(title))


def ranking_score(predicted_ctr: float, title: str, restraint: float, *, relevance_weight: float = 0.0,
                  similarity: float | None = None) -> float:
    """Log-odds of ``predicted_ctr`` in (0, 1) minus ``restraint`` per matched pattern group, plus
    ``relevance_weight`` times ``similarity`` (cosine in [-1, 1] of title and brief; ``None``: no term). Higher
    ranks first."""
    p = min(max(predicted_ctr, 1e-9), 1 - 1e-9)
    score = math.log(p / (1 - p)) - restraint * len(clickbait_patterns(title))
    return score + relevance_weight * similarity if similarity is not None else score
