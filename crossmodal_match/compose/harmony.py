"""Harmony: the key and mode a mood asks for, chord progressions per section, and voice-led chord voicings.

Pitches are MIDI note numbers (60 = middle C, 69 = A 440 Hz); pitch classes are 0-11 from C.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

PITCHES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# Keys as musicians spell them (the key signature with the fewest accidentals): "Bb major", not "A# major".
_KEY_SPELLING = {"major": ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"),
                 "minor": ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")}
_FLATS = {"Db": 1, "Eb": 3, "Gb": 6, "Ab": 8, "Bb": 10}
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)  # natural minor; a "V" numeral borrows the harmonic minor's major third
# numeral -> (semitones above the tonic, quality)
_NUMERALS = {
    "major": {"I": (0, "maj"), "ii": (2, "min"), "iii": (4, "min"), "IV": (5, "maj"), "V": (7, "maj"),
              "vi": (9, "min")},
    "minor": {"i": (0, "min"), "ii": (2, "dim"), "III": (3, "maj"), "iv": (5, "min"), "v": (7, "min"),
              "V": (7, "maj"), "VI": (8, "maj"), "VII": (10, "maj")},
}
_TRIADS = {"maj": (0, 4, 7), "min": (0, 3, 7), "dim": (0, 3, 6)}
_SEVENTHS = {"maj": 11, "min": 10, "dim": 10}
VALENCE_MAJOR = 0.5  # a mood at or above this valence is set in major, below it in minor
CHORD_RANGE = (52, 74)  # E3-D5: where comping chords sit, below the melody and above the bass
BASS_RANGE = (33, 45)  # A1-A2: roots of the bass line


@dataclass(frozen=True)
class Key:
    """A key: tonic pitch class and mode.

    Attributes:
        tonic: pitch class 0-11 (0 = C).
        mode: "major" or "minor".
    """

    tonic: int
    mode: str

    @property
    def name(self) -> str:
        """E.g. "F# minor", "Bb major" (spelled as its key signature is)."""
        return f"{_KEY_SPELLING[self.mode][self.tonic]} {self.mode}"

    @property
    def scale(self) -> tuple[int, ...]:
        """Pitch classes of the scale, tonic first."""
        steps = MAJOR_SCALE if self.mode == "major" else MINOR_SCALE
        return tuple((self.tonic + s) % 12 for s in steps)


@dataclass(frozen=True)
class Chord:
    """One chord of the progression.

    Attributes:
        numeral: its roman numeral in the key ("vi", "VII" ...).
        root: pitch class of the root.
        tones: pitch classes of its tones, root first (triad plus any extension).
        bass: MIDI note of the bass's root, inside ``BASS_RANGE``.
        voicing: MIDI notes of the comping chord, ascending, voice-led from the previous chord.
    """

    numeral: str
    root: int
    tones: tuple[int, ...]
    bass: int
    voicing: tuple[int, ...]

    @property
    def fifth(self) -> int:
        """MIDI note a fifth above the bass root (for root-fifth bass lines)."""
        return self.bass + 7 if self.bass + 7 <= BASS_RANGE[1] + 7 else self.bass - 5


def tonic_of(name: str) -> int:
    """Pitch class 0-11 of a tonic spelled with a sharp or a flat ("A#", "Bb", or a key name: "Bb major")."""
    tonic = name.split()[0]
    return _FLATS[tonic] if tonic in _FLATS else PITCHES.index(tonic)


def choose_key(*, valence: float, arousal: float, variant: int) -> Key:
    """The key a mood asks for: major at or above ``VALENCE_MAJOR`` valence, minor below; the tonic is one of the
    brighter sharp keys for an energetic mood, of the flatter, darker ones for a calm one, picked by ``variant``
    (the composer passes the seed plus a number of the style), so consecutive seeds are in different keys while the
    register stays comfortable.

    Args:
        valence: happy/bright vs sad/dark, [0, 1].
        arousal: energetic vs calm, [0, 1].
        variant: any integer >= 0.
    """
    mode = "major" if valence >= VALENCE_MAJOR else "minor"
    bright, dark = (2, 9, 4, 11, 7, 0), (5, 10, 3, 8, 0, 2)  # D A E B G C vs F Bb Eb Ab C D
    pool = bright if arousal >= 0.5 else dark
    return Key(tonic=int(pool[variant % len(pool)]), mode=mode)


def style_number(name: str) -> int:
    """A fixed number per style name (the sum of its characters), mixed into its seeds."""
    return sum(map(ord, name))


def chord_tones(numeral: str, key: Key, *, extensions: str, variant: int = 0) -> tuple[int, tuple[int, ...]]:
    """``(root pitch class, tone pitch classes)`` of a numeral in a key, with the style's extensions.

    Args:
        numeral: e.g. "IV" (major) or "VI" (minor); see ``_NUMERALS``.
        key: the key.
        extensions: "triads" (a seventh only on V), "sevenths", "ninths" (sevenths plus ninths) or "sus"
            (``variant`` 1 turns a major triad into a sus4, 2 into an add9, for acoustic colour).
        variant: which colour to use where a style has more than one (drawn per bar by the caller).
    """
    offset, quality = _NUMERALS[key.mode][numeral]
    root = (key.tonic + offset) % 12
    tones = [(root + t) % 12 for t in _TRIADS[quality]]
    # extensions stay in the key: the diatonic seventh (a dominant seventh on V), a ninth only where it is a scale
    # tone (no F# over Em7 in C)
    if extensions in ("sevenths", "ninths") or (numeral == "V" and extensions == "triads" and variant == 1):
        sevenths = (10,) if numeral == "V" else (_SEVENTHS[quality], 21 - _SEVENTHS[quality])
        tones.append(next(((root + k) % 12 for k in sevenths if (root + k) % 12 in key.scale or numeral == "V"),
                          (root + sevenths[0]) % 12))
    if extensions == "ninths" and quality != "dim" and (root + 2) % 12 in key.scale:
        tones.append((root + 2) % 12)
    if extensions == "sus" and quality == "maj" and variant == 1:
        # a sus4 where the fourth is in the key (Fsus4 in C would sing a B flat), else a sus2 where that is
        tones[1] = next(((root + k) % 12 for k in (5, 2) if (root + k) % 12 in key.scale), tones[1])
    elif extensions == "sus" and variant == 2:
        tones.append((root + 2) % 12)
    return root, tuple(tones)


def voice(tones: tuple[int, ...], previous: tuple[int, ...] | None, *, low: int = CHORD_RANGE[0],
          high: int = CHORD_RANGE[1]) -> tuple[int, ...]:
    """The voicing of ``tones`` inside ``[low, high]`` that moves least from ``previous`` (smooth voice leading),
    or the closest one to the middle of the range for the first chord; spans wider than a tenth are avoided.

    Returns:
        MIDI notes, ascending, one per tone.
    """
    options = [[p for p in range(low, high + 1) if p % 12 == pc] for pc in tones]
    centre = (low + high) / 2
    best, best_cost = None, np.inf
    for combo in itertools.product(*options):
        notes = tuple(sorted(combo))
        span = notes[-1] - notes[0]
        if len(set(notes)) < len(notes) or span > 16:
            continue
        if previous is None or len(previous) != len(notes):
            cost = abs(float(np.mean(notes)) - centre) + 0.2 * span
        else:
            cost = float(np.abs(np.array(notes) - np.array(previous)).sum()) + 0.1 * span
        if cost < best_cost:
            best, best_cost = notes, cost
    if best is None:  # a range too narrow for a close voicing: stack the tones from the bottom
        best = tuple(sorted(low + (pc - low) % 12 for pc in tones))
    return best


def progression(numerals: list[str], key: Key, *, extensions: str, rng: np.random.Generator,
                previous: tuple[int, ...] | None = None) -> list[Chord]:
    """Chords for a run of numerals, voice-led from ``previous`` (the voicing before the run)."""
    chords = []
    for numeral in numerals:
        root, tones = chord_tones(numeral, key, extensions=extensions, variant=int(rng.integers(3)))
        bass = BASS_RANGE[0] + (root - BASS_RANGE[0]) % 12
        previous = voice(tones, previous)
        chords.append(Chord(numeral=numeral, root=root, tones=tones, bass=bass, voicing=previous))
    return chords


def section_numerals(rows: tuple[tuple[str, ...], ...], *, bars: int, label: str, key: Key,
                     rng: np.random.Generator, chosen: dict[str, tuple[str, ...]]) -> list[str]:
    """One numeral per bar for a section: its progression row (the same row each time the label comes back, so a
    chorus is recognisable; another row than the verse's where the style has one), repeated over the section's
    bars with the last bar of each pass turned toward home (V, or the tonic for the ending).

    Args:
        rows: the style's progressions for the key's mode.
        bars: the section's length in bars (>= 1).
        label: "intro", "verse", "chorus", "bridge" or "ending".
        key: the key (the tonic's numeral depends on the mode).
        rng: the composition's random generator.
        chosen: label -> row already used; updated.
    """
    tonic = "I" if key.mode == "major" else "i"
    if label not in chosen:
        used = set(chosen.values())
        fresh = [r for r in rows if r not in used] or list(rows)
        chosen[label] = fresh[int(rng.integers(len(fresh)))]
    row = chosen[label]
    if label == "ending":
        return [tonic] * bars
    numerals = [row[i % len(row)] for i in range(bars)]
    if label == "bridge":  # the bridge starts away from home: rotate its row by two bars
        numerals = [row[(i + 2) % len(row)] for i in range(bars)]
    return numerals
