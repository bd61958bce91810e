"""A title request and its candidates, and what is decided from the brief alone.

:class:`TitleRequest` (a brief and its controls) is validated at the boundary (:func:`validate_request`); the
brief's own words give the extractive candidates: the lead baseline (:func:`lead_title`), the labelled fallback
of a causal model (:func:`lead_fallback`, never cut inside a word) and the selling-point patterns of the seq2seq
path (:func:`points_titles`). :func:`contradiction_notes` warns when selling points state numbers the brief does
not.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, replace

from titlegen.controls import Controls
from titlegen.errors import InvalidBriefError
from titlegen.faithfulness import numbers_in
from titlegen.language import display_length, fit_to_length, has_words

#: Briefs longer than this (characters) are cut before encoding, with a warning; the encoder sees at most
#: ``max_source_tokens`` tokens anyway.
MAX_BRIEF_CHARS = 5000


@dataclass(frozen=True)
class TitleRequest:
    """One brief and the controls to write it with."""

    brief: str
    controls: Controls = Controls()


@dataclass(frozen=True)
class TitleCandidate:
    """One proposed title.

    Attributes:
        text: the title, detokenized and recased; never empty, never over the request's limit.
        source: where it came from: ``"beam"``, ``"sample"``, ``"lead"`` or ``"points"``.
        logprob: mean per-token log-probability (nats) of the title under the model, given the brief.
        predicted_ctr: click-through predicted by the click model, or ``None`` when no click model is attached.
        similarity: cosine similarity in [-1, 1] of the title's and the brief's embeddings, or ``None`` when the
            click model cannot ``embed``.
    """

    text: str
    source: str
    logprob: float
    predicted_ctr: float | None = None
    similarity: float | None = None


def _validate_brief(brief: object, index: int) -> str:
    if not isinstance(brief, str):
        raise InvalidBriefError(f"brief #{index} must be text, got {type(brief).__name__}")
    text = re.sub(r"\s+", " ", brief).strip()
    if not text:
        raise InvalidBriefError(f"brief #{index} is empty; describe the post in at least a few words")
    if not has_words(text):
        raise InvalidBriefError(f"brief #{index} ({text[:40]!r}) has no words, only emoji, hashtags, numbers or "
                                "punctuation; describe the post in a few words (Chinese or English)")
    if len(text) > MAX_BRIEF_CHARS:
        warnings.warn(f"brief #{index} has {len(text)} characters; only the first {MAX_BRIEF_CHARS} are used",
                      stacklevel=3)
        text = text[:MAX_BRIEF_CHARS]
    return text


def validate_request(request: TitleRequest, *, index: int = 0) -> TitleRequest:
    """The request with its brief checked and normalised (whitespace collapsed, cut to :data:`MAX_BRIEF_CHARS`).

    Raises:
        InvalidBriefError: the brief is empty or not text; ``index`` names it in the message.
    """
    return replace(request, brief=_validate_brief(request.brief, index))


def lead_title(brief: str, limit: int) -> str:
    """The brief's first sentence, cut at a word boundary to ``limit`` characters (the lead baseline)."""
    first = re.split(r"(?<=[.!?])\s+", brief.strip(), maxsplit=1)[0].strip()
    return cut_to_limit(first.rstrip("."), limit)


def lead_fallback(brief: str, limit: int) -> str:
    """The brief's opening that fits ``limit`` display characters, cut at a clause mark (Chinese) or a space,
    never inside a word; only a brief with no such boundary within the limit is cut at the limit itself."""
    first = re.split(r"(?<=[.!?。！？])\s*", brief.strip(), maxsplit=1)[0].strip().rstrip(".。")
    for text in (first, brief.strip()):
        fitted = fit_to_length(text, limit)
        if fitted:
            return fitted
    cut = ""
    for ch in brief.strip():
        if display_length(cut + ch) > limit:
            break
        cut += ch
    return cut.strip()


def points_titles(controls: Controls) -> list[str]:
    """Pattern titles from the selling points (and audience), each cut to the limit; empty without points."""
    points = [p.strip() for p in controls.selling_points if p.strip()]
    if not points:
        return []
    first = points[0][:1].upper() + points[0][1:]
    out = [", ".join([first] + points[1:2])]
    if controls.audience.strip():
        out.append(f"{first} for {controls.audience.strip()}")
    return [t for t in dict.fromkeys(cut_to_limit(t, controls.limit) for t in out) if t]


def cut_to_limit(text: str, limit: int) -> str:
    """Cut ``text`` at the last word boundary that fits in ``limit`` characters (hard cut if one word is longer)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0].rstrip(" ,;:-&") if " " in text[: limit + 1] else text[:limit]
    return cut if cut else text[:limit]


def contradiction_notes(req: TitleRequest) -> list[str]:
    """Notes for selling points that state a number the brief does not (``"续航30小时"`` under a brief that says
    四十小时): both count as support, so titles may use either; the creator is told to check which is right."""
    brief_numbers = numbers_in(req.brief)
    notes = []
    for point in req.controls.selling_points:
        extra = sorted(numbers_in(point) - brief_numbers)
        if extra and brief_numbers:
            notes.append(f"selling point {point!r} states {', '.join(f'{n:g}' for n in extra)}, which the brief "
                         "does not: titles may use either, check which is right")
    return notes
