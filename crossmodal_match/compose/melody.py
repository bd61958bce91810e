"""The melody: four-bar phrases of a two-bar call and its answer, chord tones on the strong beats, passing and
neighbour tones between them, an arch contour, and the same tune each time a section comes back.

A section's rhythm motif and contour are drawn from a generator seeded by the composition's seed and the section's
label, so the second chorus sings the first chorus's tune over its chords (recognisable), while its last phrase
varies the answer (not a loop). Verses sit lower and sparser than choruses; intros are left to the accompaniment;
the ending bar lands on the tonic.
"""

from __future__ import annotations

import numpy as np

from crossmodal_match.compose.harmony import Key
from crossmodal_match.compose.patterns import STEPS, BarPlan, Events, swing_shift

_LABEL_ID = {"intro": 1, "verse": 2, "chorus": 3, "bridge": 4, "ending": 5}
_REGISTER = {"verse": -2, "chorus": 3, "bridge": 0}  # semitones from the style's melody centre
_DENSITY = {"verse": 0.85, "chorus": 1.0, "bridge": 0.6}


def _rhythm(density: float, rng: np.random.Generator, *, answer: bool) -> list[tuple[int, int]]:
    """``(step, length)`` of the notes of one bar on the eighth-note grid: strong beats likelier than off-beats
    (a sparse tune sits almost only on beats, so that it states the pulse rather than blurring it), the bar's first
    beat (or the "and" of it) always sung; an answering bar ends on a long note."""
    onsets = []
    for slot in range(8):
        p = density * 1.3 if slot % 2 == 0 else density * density
        if rng.random() < min(p, 0.95):
            onsets.append(2 * slot)
    if not onsets or onsets[0] > 2:
        onsets.insert(0, 0 if rng.random() < 0.7 else 2)
    if answer:
        onsets = [s for s in onsets if s <= 8] or [0]
        return [(s, (b - s)) for s, b in zip(onsets, onsets[1:])] + [(onsets[-1], min(STEPS - onsets[-1], 10))]
    ends = [*onsets[1:], STEPS]
    return [(s, min(e - s, 6)) for s, e in zip(onsets, ends)]


class MelodyWriter:
    """Writes the melody bar by bar (see the module docstring).

    Args:
        key: the key.
        seed: the composition's seed (with the section label it seeds each section's motif).
        density: the style's melody density, share of eighth slots that start a note.
        octave: the style's melody octave (C4 = 60): the tune centres a fifth above its C.
        step_s: a sixteenth note, seconds.
        swing: the style's swing.
    """

    def __init__(self, key: Key, *, seed: int, density: float, octave: int, step_s: float, swing: float) -> None:
        self.key, self.seed, self.density, self.step_s, self.swing = key, seed, density, step_s, swing
        self.centre = 12 * (octave + 1) + 7
        self.previous: int | None = None
        self.seen: dict[str, int] = {}

    def section(self, events: Events, bars: list[BarPlan]) -> None:
        """The melody over one section's bars (all of one label)."""
        label = bars[0].label
        if label == "intro":
            return
        if label == "ending":
            self._ending(events, bars)
            return
        occurrence = self.seen.get(label, 0)
        self.seen[label] = occurrence + 1
        for start in range(0, len(bars), 4):
            phrase = bars[start:start + 4]
            last_phrase = start + 4 >= len(bars)
            # the same label, the same tune; its last phrase's answer changes on each return
            rng = np.random.default_rng([self.seed, _LABEL_ID[label], start // 4 % 2])
            vary = np.random.default_rng([self.seed, _LABEL_ID[label], 7, occurrence]) if last_phrase else rng
            self._phrase(events, phrase, label=label, rng=rng, vary=vary)

    def _phrase(self, events: Events, bars: list[BarPlan], *, label: str, rng: np.random.Generator,
                vary: np.random.Generator) -> None:
        density = self.density * _DENSITY.get(label, 1.0)
        call = _rhythm(density, rng, answer=False)
        cells = [call, _rhythm(density, rng, answer=True), call, _rhythm(density, vary, answer=True)]
        centre = self.centre + _REGISTER.get(label, 0)
        contour = rng.choice([-1, 1])
        for i, bar in enumerate(bars):
            direction = contour if i < 2 else -contour
            for step, length in cells[i % 4]:
                strong = step % 4 == 0
                pitch = self._pitch(bar, strong=strong or length >= 4, direction=direction, centre=centre, rng=rng)
                onset = bar.start_s + (step + swing_shift(step, swing=self.swing)) * self.step_s
                events.note("melody", onset, length * self.step_s * 0.9, pitch, 0.85 if strong else 0.7)

    def _pitch(self, bar: BarPlan, *, strong: bool, direction: int, centre: int, rng: np.random.Generator) -> int:
        """A chord tone near where the line is heading on a strong beat; the next scale tone otherwise (a passing
        or neighbour tone); always within an octave and a fourth around ``centre``."""
        previous = centre if self.previous is None else self.previous
        target = previous + direction * (2 if strong else 1)
        if previous > centre + 8 or previous < centre - 8:  # too far from home: turn back
            target = previous + (2 if previous < centre else -2)
        span = range(centre - 9, centre + 10)
        if strong:
            pool = [p for p in span if p % 12 in bar.chord.tones[:3]]
        else:
            pool = [p for p in span if p % 12 in self.key.scale and 0 < abs(p - previous) <= 2]
        pool = pool or [p for p in span if p % 12 in self.key.scale]
        if rng.random() < 0.15:  # an occasional leap keeps the line from creeping
            target += int(rng.choice([-5, 5]))
        pitch = min(pool, key=lambda p: (abs(p - target), p))
        self.previous = pitch
        return pitch

    def _ending(self, events: Events, bars: list[BarPlan]) -> None:
        """The tonic, nearest where the line was, on the ending's downbeat, held through it."""
        previous = self.centre if self.previous is None else self.previous
        tonic = min((p for p in range(self.centre - 12, self.centre + 13) if p % 12 == self.key.tonic),
                    key=lambda p: abs(p - previous))
        events.note("melody", bars[0].start_s, len(bars) * STEPS * self.step_s, tonic, 0.8)
