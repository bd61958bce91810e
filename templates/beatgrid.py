"""The beat grid a draft is cut on: which bars of the track play, and where their beats fall on the draft's clock.

``plan_grid`` picks the draft's length as a whole number of the music's bars inside the template's duration range,
as close as it can to the length asked for, and the track's part under it: the track's best moment
(``crossmodal_match.audio.best_moment``, the loudest bar-aligned window), moved to another run of bars only when
that one does not fit. The beats of that window, shifted so the window starts at 0, are the only places a cut may
go. Without music, or with a track in which no beat was found, the grid is a fixed one at the template's tempo
midpoint, and ``BeatGrid.notes`` says so.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from crossmodal_match.audio import MusicAnalysis, best_moment
from templates.errors import TimelineError
from templates.spec import TemplateSpec

_TOL_S = 1e-6  # float slack when comparing times built from the same beat list


@dataclass(frozen=True)
class BeatGrid:
    """The beats of the draft, on its own clock.

    Attributes:
        beats_s: beat times, seconds, increasing; ``beats_s[0] == 0`` and ``beats_s[-1]`` is the draft's end,
            itself a downbeat (the first beat of the bar after the last one).
        bars: indices into ``beats_s`` of the bar starts, from 0 to ``len(beats_s) - 1``.
        window_s: ``(start_s, end_s)`` of the track under the draft, seconds of the track; None without music.
        tempo_bpm: tempo of the grid, beats per minute.
        source: ``"music"`` (the track's own beats) or ``"fixed"`` (an even grid at ``tempo_bpm``).
        notes: why the grid is what it is, for the timeline's ``meta``.
    """

    beats_s: tuple[float, ...]
    bars: tuple[int, ...]
    window_s: tuple[float, float] | None
    tempo_bpm: float
    source: str
    notes: tuple[str, ...] = ()

    @property
    def duration_s(self) -> float:
        """The draft's length, seconds."""
        return self.beats_s[-1]

    @property
    def beat_s(self) -> float:
        """Median beat length, seconds."""
        return statistics.median(b - a for a, b in zip(self.beats_s, self.beats_s[1:]))

    @property
    def longest_beat_s(self) -> float:
        """Longest gap between two beats, seconds (the least material a clip must have)."""
        return max(b - a for a, b in zip(self.beats_s, self.beats_s[1:]))

    def index_at(self, time_s: float) -> int:
        """Index of the beat nearest ``time_s`` (seconds on the draft's clock)."""
        return min(range(len(self.beats_s)), key=lambda i: abs(self.beats_s[i] - time_s))


def plan_grid(spec: TemplateSpec, music: MusicAnalysis | None, *, target_s: float) -> BeatGrid:
    """The beat grid of a draft of about ``target_s`` seconds.

    Args:
        spec: the template (duration range, beats per bar of the fallback grid, tempo range).
        music: the track's analysis, or None for a silent draft.
        target_s: wanted length, seconds; the result is the nearest whole number of bars in the spec's range.

    Returns:
        BeatGrid whose length lies in ``[spec.duration.min_s, spec.duration.max_s]`` and ends on a downbeat.

    Raises:
        TimelineError: the track is shorter than the template's minimum length, or no run of whole bars of the
            track fits the template's duration range.
    """
    if music is not None and music.duration_s + _TOL_S < spec.duration.min_s:
        raise TimelineError(f"music: the track is {music.duration_s:.2f} s; template {spec.name!r} needs at least "
                            f"{spec.duration.min_s} s (duration.min_s)")
    beats_per_bar = max(1, int(music.beats_per_bar)) if music is not None else 4
    if music is None or music.tempo_bpm is None or len(music.beats_s) < 2 * beats_per_bar + 1:
        return _fixed_grid(spec, music, target_s=target_s)
    beats = list(music.beats_s)
    bar_idx = _bar_indices(beats, music.downbeats_s, beats_per_bar=beats_per_bar)
    downbeats = [beats[i] for i in bar_idx]
    bar_s = statistics.median(b - a for a, b in zip(downbeats, downbeats[1:]))
    n_wanted = max(1, round(target_s / bar_s))
    start_s, _ = best_moment(music, duration_s=n_wanted * bar_s)
    k_best = min(range(len(downbeats)), key=lambda k: abs(downbeats[k] - start_s))
    k, n = _choose_bars(spec, downbeats, k_best=k_best, n_wanted=n_wanted)
    first, last = bar_idx[k], bar_idx[k + n]
    origin = beats[first]
    notes = []
    if not spec.music.tempo_min_bpm <= music.tempo_bpm <= spec.music.tempo_max_bpm:
        notes.append(f"the track's tempo ({music.tempo_bpm:.0f} bpm) is outside the template's range "
                     f"({spec.music.tempo_min_bpm:g}-{spec.music.tempo_max_bpm:g} bpm)")
    if k != k_best:
        notes.append(f"the track's best moment ({downbeats[k_best]:.2f} s) leaves too few bars after it; "
                     f"the draft uses the bars from {origin:.2f} s")
    return BeatGrid(beats_s=tuple(b - origin for b in beats[first:last + 1]),
                    bars=tuple(i - first for i in bar_idx[k:k + n + 1]),
                    window_s=(origin, beats[last]), tempo_bpm=float(music.tempo_bpm), source="music",
                    notes=tuple(notes))


def _bar_indices(beats: Sequence[float], downbeats_s: Sequence[float], *, beats_per_bar: int) -> list[int]:
    """Indices of the beats that start bars: the analysis's downbeats, or every ``beats_per_bar`` beats."""
    if len(downbeats_s) < 2:
        return list(range(0, len(beats), beats_per_bar))
    indices, j = [], 0
    for d in downbeats_s:  # downbeats are a subset of the beats; find each one walking forward once
        while j + 1 < len(beats) and abs(beats[j + 1] - d) <= abs(beats[j] - d):
            j += 1
        if not indices or j > indices[-1]:
            indices.append(j)
    return indices


def _choose_bars(spec: TemplateSpec, downbeats: Sequence[float], *, k_best: int, n_wanted: int) -> tuple[int, int]:
    """``(first bar, bar count)``: the run in the duration range nearest ``n_wanted`` bars, from the best moment
    if it fits there, else from the nearest bar where it does."""
    lo, hi = spec.duration.min_s - _TOL_S, spec.duration.max_s + _TOL_S
    for k in sorted(range(len(downbeats) - 1), key=lambda k: (abs(k - k_best), k)):
        fitting = [n for n in range(1, len(downbeats) - k) if lo <= downbeats[k + n] - downbeats[k] <= hi]
        if fitting:
            return k, min(fitting, key=lambda n: (abs(n - n_wanted), n))
    span_s = downbeats[-1] - downbeats[0] if len(downbeats) > 1 else 0.0
    raise TimelineError(f"music: the track's {len(downbeats) - 1} whole bars span {span_s:.2f} s; no run of them "
                        f"lasts {spec.duration.min_s}-{spec.duration.max_s} s as template {spec.name!r} needs")


def _fixed_grid(spec: TemplateSpec, music: MusicAnalysis | None, *, target_s: float) -> BeatGrid:
    """An even 4/4 grid at the spec's tempo midpoint; the track (if any) plays from its best moment."""
    bpm = spec.music.mid_bpm
    beat_s, max_s = 60.0 / bpm, spec.duration.max_s
    if music is not None:
        max_s = min(max_s, music.duration_s)
    bar_s = 4 * beat_s
    n_lo, n_hi = math.ceil(spec.duration.min_s / bar_s - _TOL_S), math.floor(max_s / bar_s + _TOL_S)
    if n_lo > n_hi:
        # The range is narrower than a bar at this tempo: whole bars cannot land in it; take the bar count
        # nearest the range's middle (a fixed grid has no downbeat to honour beyond its own).
        n_lo = n_hi = max(1, round((spec.duration.min_s + max_s) / 2 / bar_s))
    n = min(max(round(target_s / bar_s), n_lo), n_hi)
    if music is not None and n * bar_s > music.duration_s + _TOL_S:
        raise TimelineError(f"music: the track is {music.duration_s:.2f} s, shorter than {n} bars at {bpm:g} bpm "
                            f"({n * bar_s:.2f} s), the least template {spec.name!r} can cut")
    beats = tuple(i * beat_s for i in range(4 * n + 1))
    window = None
    notes = [f"no music: cuts follow a fixed grid at {bpm:g} bpm, the template's tempo midpoint"]
    if music is not None:
        start_s, _ = best_moment(music, duration_s=beats[-1])
        window = (start_s, start_s + beats[-1])
        notes = [f"no beat was found in the track: cuts follow a fixed grid at {bpm:g} bpm, the template's tempo "
                 f"midpoint, and the track plays from its loudest part"]
    return BeatGrid(beats_s=beats, bars=tuple(range(0, 4 * n + 1, 4)), window_s=window, tempo_bpm=bpm,
                    source="fixed", notes=tuple(notes))


@dataclass(frozen=True)
class Sections:
    """The draft's bars split into intro, body and outro (and the body into labelled parts, if any).

    Attributes:
        intro_bars, body_bars, outro_bars: ``(first, end)`` bar indices into ``BeatGrid.bars``, end exclusive.
        parts: ``(label, first beat, end beat)`` of each labelled part of the body (``LabelRule`` "parts" mode),
            beat indices into ``BeatGrid.beats_s``; empty otherwise.
        notes: what was shortened to fit, for the timeline's ``meta``.
    """

    intro_bars: tuple[int, int]
    body_bars: tuple[int, int]
    outro_bars: tuple[int, int]
    parts: tuple[tuple[str, int, int], ...] = ()
    notes: tuple[str, ...] = ()

    @classmethod
    def plan(cls, spec: TemplateSpec, grid: BeatGrid) -> Sections:
        """Intro and outro as the spec says, shortened when the draft is too short to leave the body its bars.

        Args:
            spec: the template (``pacing`` bars, ``labels`` parts).
            grid: the draft's beat grid.

        Returns:
            Sections.
        """
        n = len(grid.bars) - 1
        labels = spec.labels.parts if spec.labels is not None and spec.labels.mode == "parts" else ()
        body_min = min(n, max(1, len(labels)))  # each labelled part needs a bar of its own
        intro = min(spec.pacing.intro.bars, n - body_min)
        outro = min(spec.pacing.outro.bars, n - body_min - intro)
        notes = []
        if (intro, outro) != (spec.pacing.intro.bars, spec.pacing.outro.bars):
            notes.append(f"a {n}-bar draft: intro {intro} and outro {outro} bars instead of "
                         f"{spec.pacing.intro.bars} and {spec.pacing.outro.bars}")
        body = (intro, n - outro)
        parts = []
        if labels:
            bounds = [body[0] + round(p * (body[1] - body[0]) / len(labels)) for p in range(len(labels) + 1)]
            parts = [(label, grid.bars[a], grid.bars[b]) for label, a, b in zip(labels, bounds, bounds[1:]) if b > a]
            if len(parts) < len(labels):
                notes.append(f"a {n}-bar draft has room for {len(parts)} of the {len(labels)} labelled parts")
        return cls(intro_bars=(0, intro), body_bars=body, outro_bars=(n - outro, n), parts=tuple(parts),
                   notes=tuple(notes))

    def part_starts(self) -> list[int]:
        """Beat indices where each labelled part starts (a cut goes there)."""
        return [first for _, first, _ in self.parts]

    def part_of(self, beat: int) -> int:
        """Which labelled part beat index ``beat`` is in (the intro counts as the first, the outro as the last)."""
        return max(0, sum(1 for _, first, _ in self.parts[1:] if beat >= first))

    def bar_counts(self) -> dict[str, int]:
        """Bars per section, e.g. ``{"intro": 1, "body": 6, "outro": 1}``."""
        return {name: b - a for name, (a, b) in
                (("intro", self.intro_bars), ("body", self.body_bars), ("outro", self.outro_bars))}


def composed_plan(spec: TemplateSpec, *, material_s: float, bpm: float) -> tuple[float, float, list[tuple[str, int]]]:
    """Length, tempo and sections of a soundtrack composed for a draft of template ``spec``.

    The tempo is the one asked (from the footage's pace), moved into the template's tempo range; the length is the
    draft's (the footage's, clamped to the template's duration range, as ``build_timeline`` takes it) rounded to
    whole bars at that tempo inside the range; the sections are the template's intro, body and outro bars for that
    many bars (``Sections.plan``). A track composed so is exactly the draft: ``plan_grid`` takes all its bars.

    Args:
        spec: the template.
        material_s: seconds of footage.
        bpm: the tempo asked for, beats per minute.

    Returns:
        ``(length_s, bpm, [("intro", bars), ("body", bars), ("outro", bars)])``.
    """
    bpm = float(min(max(bpm, spec.music.tempo_min_bpm), spec.music.tempo_max_bpm))
    bar_s = 240.0 / bpm
    n_lo = math.ceil(spec.duration.min_s / bar_s - _TOL_S)
    n_hi = math.floor(spec.duration.max_s / bar_s + _TOL_S)
    if n_lo > n_hi:  # a range narrower than a bar at this tempo: the bar count nearest its middle
        n_lo = n_hi = max(1, round((spec.duration.min_s + spec.duration.max_s) / 2 / bar_s))
    target_s = min(max(material_s, spec.duration.min_s), spec.duration.max_s)
    n = min(max(round(target_s / bar_s), n_lo), n_hi)
    grid = BeatGrid(beats_s=tuple(i * bar_s / 4 for i in range(4 * n + 1)), bars=tuple(range(0, 4 * n + 1, 4)),
                    window_s=None, tempo_bpm=bpm, source="fixed")
    counts = Sections.plan(spec, grid).bar_counts()
    return n * bar_s, bpm, [(name, counts[name]) for name in ("intro", "body", "outro")]
