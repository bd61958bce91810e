"""Rhythm and notes of each part, bar by bar: drum grooves, bass lines, chord rhythms and phrase-built melodies.

Everything is placed on a 16-step grid per 4/4 bar (step = a sixteenth note) and returned as note events in
seconds; ``swing_shift`` moves the off-beat eighths (and sixteenths) late by the style's swing. Randomness comes
only from the composition's ``np.random.Generator``, so a seed gives the same notes every time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crossmodal_match.compose.harmony import Chord, Key

STEPS = 16  # sixteenth notes per 4/4 bar

# 16-step drum grooves: X accent, x normal, o ghost. Each groove has its "full" form (energy 2); energy 1 plays
# only the pulse-carrying voices, energy 3 adds the extras listed under "+".
GROOVES: dict[str, dict[str, str]] = {
    "boom-bap": {"kick": "X.....x...x.....", "snare": "....X.......X...", "hat": "x.x.x.x.x.x.x.x.",
                 "+hat": "x.xox.xox.xox.xo", "+snare": "....X..o....X..o"},
    "pop": {"kick": "X.......X.x.....", "snare": "....X.......X...", "shaker": "xoxoxoxoxoxoxoxo",
            "+kick": "X.....x.X.x.....", "+hat": "x.x.x.x.x.x.x.x."},
    "four-on-the-floor": {"kick": "X...X...X...X...", "clap": "....X.......X...", "hat": "x.o.x.o.x.o.x.o.",
                          "+open": "..o...o...o...o.", "+shaker": "xoxoxoxoxoxoxoxo"},
    "cinematic": {"taiko": "X...x...X...x...", "rim": "x...x...x...x...", "+taiko": "X..xX...X..xX...",
                  "+snare": "....x.......x..."},
    "chill": {"kick": "X.......x.......", "rim": "....x.......x...", "shaker": "x.x.x.x.x.x.x.x.",
              "+kick": "X......ox.......", "+hat": "...o.......o...."},
}
_LEVEL = {"X": 1.0, "x": 0.8, "o": 0.45}
# Voices that keep playing at energy 1 (intro, bridge): enough pulse to follow, nothing heavy.
_LIGHT = {"kick", "hat", "shaker", "rim", "open"}


@dataclass(frozen=True)
class BarPlan:
    """What one bar is in the arrangement.

    Attributes:
        index: bar number from 0.
        label: "intro", "verse", "chorus", "bridge" or "ending".
        energy: 1 (intro, bridge), 2 (verse), 3 (chorus), 4 for the ending bar.
        start_s: when it starts, seconds.
        first: it starts its section; last: it ends its section (a fill goes there).
        chord: its chord.
        next_chord: the chord of the next bar (for approach notes), or its own for the last bar.
    """

    index: int
    label: str
    energy: int
    start_s: float
    first: bool
    last: bool
    chord: Chord
    next_chord: Chord


@dataclass
class Events:
    """Note and hit events of the whole track, seconds.

    Attributes:
        notes: part -> list of ``(onset_s, duration_s, midi, velocity)``.
        hits: drum voice -> list of ``(onset_s, velocity)``.
    """

    notes: dict[str, list[tuple[float, float, int, float]]]
    hits: dict[str, list[tuple[float, float]]]

    def note(self, part: str, onset_s: float, duration_s: float, midi: int, velocity: float) -> None:
        self.notes.setdefault(part, []).append((onset_s, duration_s, int(midi), float(velocity)))

    def hit(self, voice: str, onset_s: float, velocity: float) -> None:
        self.hits.setdefault(voice, []).append((onset_s, float(velocity)))


def swing_shift(step: int, *, swing: float) -> float:
    """How late step ``step`` (a sixteenth of the bar) plays, in steps: an off-beat eighth by ``2 swing / 3`` of a
    step (swing 0.7 puts it at 0.62 of the beat, most of the way to a triplet feel), an off-beat sixteenth by half
    as much."""
    if step % 4 == 2:
        return 2 * swing * (1 / 3)
    if step % 2 == 1:
        return swing * (1 / 3)
    return 0.0


def drum_bar(events: Events, bar: BarPlan, *, groove: str, step_s: float, swing: float,
             rng: np.random.Generator) -> None:
    """The drum hits of one bar: the groove at the bar's energy, a crash on a section's first bar, a fill on its
    last, and on the ending bar one big hit on the downbeat followed by a soft quarter-note pulse."""
    pattern = GROOVES[groove]
    if bar.energy == 4:  # the ending: the band hits the tonic on each beat, the downbeat hardest, then it fades
        low = "taiko" if groove == "cinematic" else "kick"
        back = "clap" if "clap" in pattern else "snare" if groove in ("boom-bap", "pop") else "rim"
        events.hit("crash", bar.start_s, 0.9)
        for beat, velocity in enumerate((1.3, 1.25, 1.25, 1.25)):
            events.hit(low, bar.start_s + 4 * beat * step_s, velocity)
            if beat % 2:
                events.hit(back, bar.start_s + 4 * beat * step_s, velocity)
        return
    voices = {v: p for v, p in pattern.items() if not v.startswith("+")}
    if bar.energy >= 3:
        voices.update({v[1:]: p for v, p in pattern.items() if v.startswith("+")})
    if bar.energy <= 1:
        voices = {v: p for v, p in voices.items() if v in _LIGHT}
    for voice, steps in voices.items():
        for step, mark in enumerate(steps):
            if mark == "." or (bar.last and bar.energy >= 2 and step >= 12 and voice in ("snare", "clap")):
                continue
            velocity = _LEVEL[mark] * float(rng.uniform(0.88, 1.0))
            events.hit(voice, bar.start_s + (step + swing_shift(step, swing=swing)) * step_s, velocity)
    if bar.first and bar.energy >= 2 and bar.index > 0:
        events.hit("crash", bar.start_s, 0.7)
    if bar.last and bar.energy >= 2:
        fill_voice = "taiko" if groove == "cinematic" else "snare"
        for k, step in enumerate((12, 13, 14, 15) if rng.random() < 0.6 else (12, 14, 15)):
            events.hit(fill_voice, bar.start_s + step * step_s, 0.5 + 0.12 * k)


_BASS = {  # (step, duration in steps, what: r root, f fifth, o octave, a approach to the next root)
    # driving eighths in a verse; the off-beat pump is the chorus's (_BASS_BUSY)
    "offbeat": tuple((s, 2, "o" if s == 6 else "a" if s == 14 else "r") for s in range(0, 16, 2)),
    "syncopated": ((0, 5, "r"), (6, 2, "r"), (10, 4, "f"), (14, 2, "a")),
    "root-fifth": ((0, 6, "r"), (8, 6, "f")),
    "sustained": ((0, 16, "r"),),
    "held": ((0, 12, "r"), (12, 4, "f")),
}
_BASS_BUSY = {"offbeat": ((2, 2, "r"), (6, 2, "r"), (10, 2, "r"), (14, 2, "o")),
              "root-fifth": ((0, 4, "r"), (6, 2, "r"), (8, 4, "f"), (14, 2, "a")),
              "sustained": ((0, 8, "r"), (8, 8, "f"))}


def bass_bar(events: Events, bar: BarPlan, *, pattern: str, key: Key, step_s: float, swing: float) -> None:
    """The bass of one bar: the style's pattern on the chord's root (busier in a chorus), whole notes in an intro,
    the root held under the ending."""
    if bar.energy == 4:
        for beat in range(4):
            events.note("bass", bar.start_s + 4 * beat * step_s, (4 if beat < 3 else 6) * step_s, bar.chord.bass, 0.9)
        return
    steps = ((0, 16, "r"),) if bar.energy <= 1 else _BASS_BUSY.get(pattern, _BASS[pattern]) if bar.energy >= 3 \
        else _BASS[pattern]
    for step, length, what in steps:
        pitch = {"r": bar.chord.bass, "f": bar.chord.fifth, "o": bar.chord.bass + 12,
                 "a": _approach(bar.chord.bass, bar.next_chord.bass, key)}[what]
        events.note("bass", bar.start_s + (step + swing_shift(step, swing=swing)) * step_s, length * step_s * 0.92,
                    pitch, 0.9 if step == 0 else 0.75)


def _approach(current: int, target: int, key: Key) -> int:
    """A scale tone a step above or below ``target``, on the side ``current`` comes from (a walking approach)."""
    scale = key.scale
    below = next(p for p in range(target - 1, target - 4, -1) if p % 12 in scale)
    above = next(p for p in range(target + 1, target + 4) if p % 12 in scale)
    return below if current <= target else above


_CHORD_RHYTHMS = {  # (step, duration in steps)
    "comp": ((0, 6), (6, 10)),
    "strum": ((0, 4), (4, 2), (6, 4), (10, 2), (12, 2), (14, 2)),
    "stabs": ((2, 1), (6, 1), (10, 1), (14, 1)),
    "ostinato": tuple((s, 1) for s in range(0, 16, 2)),
    "held": ((0, 16),),
}


def chord_bar(events: Events, bar: BarPlan, *, rhythm: str, step_s: float, swing: float,
              rng: np.random.Generator) -> None:
    """The comping of one bar: the chord's voicing in the style's rhythm (held in an intro and on the ending);
    strums alternate down and up strokes with the strings a few milliseconds apart; an ostinato cycles root,
    fifth, octave and third in eighths (sixteenths in a chorus)."""
    notes = bar.chord.voicing
    if bar.energy == 4:  # the ending's hits: the chord struck on each beat, the last one left to ring
        for beat in range(4):
            for k, pitch in enumerate(notes):
                events.note("chords", bar.start_s + 4 * beat * step_s + 0.011 * k * (rhythm == "strum"),
                            (3 if beat < 3 else 8) * step_s, pitch, 0.9 - 0.05 * beat)
        return
    if bar.energy <= 1 and rhythm not in ("ostinato", "strum"):
        for k, pitch in enumerate(notes):
            events.note("chords", bar.start_s + 0.012 * k * (rhythm == "strum"), STEPS * step_s, pitch, 0.8)
        return
    if rhythm == "ostinato":  # quarters, galloping pairs in a chorus: nothing on the off-beat eighths
        cycle = [notes[0] - 12, notes[0] - 5, notes[0], notes[min(1, len(notes) - 1)] - 12]
        grid = (0, 1, 4, 5, 8, 9, 12, 13) if bar.energy >= 3 else (0, 4, 8, 12)
        for i, step in enumerate(grid):
            accent = 0.95 if step % 4 == 0 else 0.7
            events.note("chords", bar.start_s + step * step_s, step_s * 0.8, cycle[i % 4], accent)
        return
    for i, (step, length) in enumerate(_CHORD_RHYTHMS[rhythm]):
        onset = bar.start_s + (step + swing_shift(step, swing=swing)) * step_s
        if rhythm == "strum":
            down = step % 4 == 0 or i == 0
            order = notes if down else notes[::-1]
            velocity = (0.85 if down else 0.6) * float(rng.uniform(0.9, 1.0))
            for k, pitch in enumerate(order):
                events.note("chords", onset + 0.011 * k, length * step_s, pitch, velocity * (1 - 0.04 * k))
        else:
            for pitch in notes:
                events.note("chords", onset, length * step_s * 0.95, pitch, 0.8 if step % 4 == 0 else 0.7)


def pad_bar(events: Events, bar: BarPlan, *, step_s: float, swell: bool) -> None:
    """A held pad chord a bar long, an octave-wide voicing under the comping; ``swell`` marks the bar before a
    section change, whose pad the synth fades in over the bar (a cinematic swell)."""
    velocity = 0.5 if swell else 0.7
    for pitch in (bar.chord.voicing[0] - 12, *bar.chord.voicing):
        events.note("pad_swell" if swell else "pad", bar.start_s, STEPS * step_s, pitch, velocity)
