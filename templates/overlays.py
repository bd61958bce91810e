"""The text of a draft: intro/outro cards, title, caption and labels, timed on the beat, placed in safe areas.

Every overlay starts and ends on a beat of the draft's grid and sits in the box its template rule's ``Placement``
gives (inside the safe margins). An empty title or caption shows nothing, and a card whose text comes out empty
(e.g. ``"{title}"`` with no title) is left out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from templates.beatgrid import BeatGrid, Sections
from templates.rules import CardRule
from templates.spec import TemplateSpec
from templates.timeline import TextOverlay

# A sentence ends at . ! ? followed by space, right after 。！？ (CJK text has no spaces), or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])\s*|\n+")


def build_overlays(spec: TemplateSpec, grid: BeatGrid, sections: Sections, *, title: str, copy: str,
                   cuts: Sequence[int]) -> list[TextOverlay]:
    """The overlays of a draft, in order of appearance.

    Args:
        spec: the template (title, caption, cards, labels).
        grid: the draft's beat grid.
        sections: its intro/body/outro bars and labelled parts.
        title: the title ("" for none).
        copy: the caption ("" for none).
        cuts: beat indices of the planned cuts (numbered labels go on the body's slots between them).

    Returns:
        list of TextOverlay sorted by start time.
    """
    last = len(grid.beats_s) - 1
    fields = {"title": title.strip(), "copy": copy.strip()}
    overlays, intro_end, outro_start = [], 0, last
    if spec.intro_card is not None and (card := _card(spec.intro_card, grid, fields, at_start=True)):
        overlays.append(card)
        intro_end = grid.index_at(card.end_s)
    if spec.outro_card is not None and (card := _card(spec.outro_card, grid, fields, at_start=False)):
        overlays.append(card)
        outro_start = grid.index_at(card.start_s)
    if fields["title"] and spec.title is not None:
        overlays.append(_title(spec, grid, fields["title"], intro_end=intro_end, outro_start=outro_start))
    if fields["copy"]:
        overlays.extend(_captions(spec, grid, fields["copy"], first=intro_end, end=outro_start))
    if spec.labels is not None:
        overlays.extend(_labels(spec, grid, sections, cuts, first=intro_end, end=outro_start))
    return sorted(overlays, key=lambda o: (o.start_s, o.kind))


def split_sentences(text: str) -> list[str]:
    """Split a caption into sentences (after . ! ? and a space, after 。！？, and at line breaks)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _span(grid: BeatGrid, first: int, end: int) -> tuple[float, float]:
    return grid.beats_s[first], grid.beats_s[end]


def _card(rule: CardRule, grid: BeatGrid, fields: dict[str, str], *, at_start: bool) -> TextOverlay | None:
    """A card of about ``rule.duration_s`` in whole beats, at most a third of the draft; None when it says nothing."""
    text = rule.text.format(**fields).strip()
    last = len(grid.beats_s) - 1
    beats = min(max(1, round(rule.duration_s / grid.beat_s)), last // 3)
    if not text or beats < 1:
        return None
    first, end = (0, beats) if at_start else (last - beats, last)
    start_s, end_s = _span(grid, first, end)
    return TextOverlay(text=text, kind="card", start_s=start_s, end_s=end_s, box=rule.placement.box,
                       style=rule.style)


def _title(spec: TemplateSpec, grid: BeatGrid, title: str, *, intro_end: int, outro_start: int) -> TextOverlay:
    """From ``title.start_s`` after the intro card for ``title.duration_s`` (or to the outro card), on beats."""
    rule = spec.title
    first = min(max(grid.index_at(grid.beats_s[intro_end] + rule.start_s), intro_end), outro_start - 1)
    end = outro_start
    if rule.duration_s is not None:
        end = min(max(grid.index_at(grid.beats_s[first] + rule.duration_s), first + 1), outro_start)
    start_s, end_s = _span(grid, first, end)
    return TextOverlay(text=title, kind="title", start_s=start_s, end_s=end_s, box=rule.placement.box,
                       style=rule.style)


def _captions(spec: TemplateSpec, grid: BeatGrid, copy: str, *, first: int, end: int) -> list[TextOverlay]:
    """The whole copy between the cards, or one sentence at a time on equal runs of beats."""
    rule = spec.caption
    # "speech" captions replace these when the footage speaks (placement.build_timeline); the copy is the fallback
    chunks = split_sentences(copy) if rule.mode in ("sentences", "speech") else [copy]
    n_beats = end - first
    if n_beats < 1 or not chunks:
        return []
    if len(chunks) > n_beats:  # more sentences than beats: group them so each group still shows for a beat
        chunks = [" ".join(chunks[k * len(chunks) // n_beats:(k + 1) * len(chunks) // n_beats])
                  for k in range(n_beats)]
    bounds = [first + round(k * n_beats / len(chunks)) for k in range(len(chunks) + 1)]
    return [TextOverlay(text=text, kind="caption", start_s=grid.beats_s[a], end_s=grid.beats_s[b],
                        box=rule.placement.box, style=rule.style)
            for text, a, b in zip(chunks, bounds, bounds[1:])]


def _labels(spec: TemplateSpec, grid: BeatGrid, sections: Sections, cuts: Sequence[int], *, first: int,
            end: int) -> list[TextOverlay]:
    """Numbered labels on the body's slots, or one label per labelled part, kept clear of the cards."""
    rule = spec.labels
    if rule.mode == "parts":
        # The intro is cut from the first part's footage and the outro from the last's: label them so.
        spans = [(label, 0 if k == 0 else a, len(grid.beats_s) - 1 if k == len(sections.parts) - 1 else b)
                 for k, (label, a, b) in enumerate(sections.parts)]
    else:
        body_first, body_end = grid.bars[sections.body_bars[0]], grid.bars[sections.body_bars[1]]
        slots = [(a, b) for a, b in zip(cuts, cuts[1:]) if body_first <= a < body_end]
        spans = [(rule.text.format(n=k), a, b) for k, (a, b) in enumerate(slots, start=1)]
    out = []
    for text, a, b in spans:
        a, b = max(a, first), min(b, end)
        if b > a:
            start_s, end_s = _span(grid, a, b)
            out.append(TextOverlay(text=text, kind="card", start_s=start_s, end_s=end_s, box=rule.placement.box,
                                   style=rule.style))
    return out
