"""Style presets of the composer: small declarative JSON specs in ``compose/styles/``, validated on load.

    list_styles()            # ('acoustic-pop', 'chill', 'cinematic', 'lo-fi', 'upbeat-electronic')
    get_style("lo-fi")       # StyleSpec; an unknown name raises ComposeError listing the known ones

A spec names the instrument of each part (drums, bass, chords, melody, pad), the rhythm each plays, the tempo range
the style is written for, its swing, chord extensions, the progressions it draws from (roman numerals per mode),
its tone (low-pass, reverb, crackle) and the feel the matcher should expect of it before it is rendered.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crossmodal_match.errors import ComposeError

STYLE_VERSION = 1
STYLES_DIR = Path(__file__).resolve().parent / "styles"
KITS = ("soft", "acoustic", "electronic", "taiko", "brush")
GROOVES = ("boom-bap", "pop", "four-on-the-floor", "cinematic", "chill")
BASS_INSTRUMENTS = ("sub", "round", "saw", "cello")
BASS_PATTERNS = ("syncopated", "root-fifth", "offbeat", "sustained", "held")
CHORD_INSTRUMENTS = ("epiano", "strum", "supersaw", "ostinato")
CHORD_RHYTHMS = ("comp", "strum", "stabs", "ostinato", "held")
MELODY_INSTRUMENTS = ("bell", "piano", "lead", "pluck")
PAD_INSTRUMENTS = ("none", "pad", "strings")
EXTENSIONS = ("triads", "sevenths", "ninths", "sus")
NUMERALS = {"major": ("I", "ii", "iii", "IV", "V", "vi"), "minor": ("i", "iv", "v", "III", "VI", "VII", "V", "ii")}


@dataclass(frozen=True)
class Part:
    """One part of the arrangement: which instrument plays it, in which pattern, how loud.

    Attributes:
        instrument: a synth voice name (``synth.py``); "none" for a silent part.
        pattern: the rhythm it plays (drums: the groove; chords: the rhythm); "" where not used.
        level: linear mix level in [0, 1.5].
        octave: register of its lowest notes (MIDI octave, C4 = 60), where it has notes.
        density: for the melody, the share of eighth-note slots that start a note, in [0.1, 0.9].
    """

    instrument: str
    pattern: str = ""
    level: float = 1.0
    octave: int = 4
    density: float = 0.5


@dataclass(frozen=True)
class StyleSpec:
    """A style preset, as loaded from ``styles/<name>.json`` (see the module docstring).

    Attributes:
        name, description, tags: what it is called and how a creator would describe it.
        tempo_min_bpm, tempo_max_bpm: the tempo range it is written for; the composer plays any tempo in 50-200 bpm,
            the matcher proposes one inside this range.
        swing: how late the off-beat eighths (lo-fi: sixteenths) fall, as a fraction of half their slot, in [0, 0.7].
        extensions: chord colour: "triads", "sevenths", "ninths" or "sus".
        drums, bass, chords, melody, pad: the parts.
        lowpass_hz: a gentle low-pass on the mix (0: none); reverb: send level in [0, 1]; crackle: vinyl noise level.
        progressions: mode ("major"/"minor") -> lists of 4 roman numerals, one chord per bar.
        feel: the ``brightness`` and ``density`` feel values in [0, 1] its rendered tracks measure (the means over
            seeds that ``bench/compose_quality.py`` reports): the matcher ranks a composed candidate by them before
            it is rendered; its energy and mood follow from them, its tempo and its key by the usual formulas.
    """

    name: str
    description: str
    tags: tuple[str, ...]
    tempo_min_bpm: float
    tempo_max_bpm: float
    swing: float
    extensions: str
    drums: Part
    bass: Part
    chords: Part
    melody: Part
    pad: Part
    lowpass_hz: float
    reverb: float
    crackle: float
    progressions: dict[str, tuple[tuple[str, ...], ...]]
    feel: dict[str, float]

    def __post_init__(self) -> None:
        checks = [
            ("tempo", 50 <= self.tempo_min_bpm < self.tempo_max_bpm <= 200,
             "50 <= tempo_min_bpm < tempo_max_bpm <= 200"),
            ("swing", 0.0 <= self.swing <= 0.7, "in [0, 0.7]"),
            ("extensions", self.extensions in EXTENSIONS, f"one of {list(EXTENSIONS)}"),
            ("drums", self.drums.instrument in KITS and self.drums.pattern in GROOVES,
             f"kit in {list(KITS)} and groove in {list(GROOVES)}"),
            ("bass", self.bass.instrument in BASS_INSTRUMENTS and self.bass.pattern in BASS_PATTERNS,
             f"instrument in {list(BASS_INSTRUMENTS)} and pattern in {list(BASS_PATTERNS)}"),
            ("chords", self.chords.instrument in CHORD_INSTRUMENTS and self.chords.pattern in CHORD_RHYTHMS,
             f"instrument in {list(CHORD_INSTRUMENTS)} and rhythm in {list(CHORD_RHYTHMS)}"),
            ("melody", self.melody.instrument in MELODY_INSTRUMENTS and 0.1 <= self.melody.density <= 0.9,
             f"instrument in {list(MELODY_INSTRUMENTS)} and density in [0.1, 0.9]"),
            ("pad", self.pad.instrument in PAD_INSTRUMENTS, f"instrument in {list(PAD_INSTRUMENTS)}"),
            ("tone", self.lowpass_hz == 0 or 1000 <= self.lowpass_hz <= 20000, "lowpass_hz 0 or in [1000, 20000]"),
            ("reverb", 0.0 <= self.reverb <= 1.0 and 0.0 <= self.crackle <= 0.1,
             "reverb in [0, 1], crackle in [0, 0.1]"),
            ("feel", set(self.feel) == {"brightness", "density"}
             and all(0.0 <= v <= 1.0 for v in self.feel.values()), "brightness and density in [0, 1]"),
        ]
        for field, ok, accepted in checks:
            if not ok:
                raise ComposeError(f"style {self.name!r}: {field}", getattr(self, field, None), accepted)
        for part in (self.drums, self.bass, self.chords, self.melody, self.pad):
            if not 0.0 <= part.level <= 1.5 or not 1 <= part.octave <= 6:
                raise ComposeError(f"style {self.name!r}: part level/octave", (part.level, part.octave),
                                   "level in [0, 1.5], octave in [1, 6]")
        for mode in ("major", "minor"):
            rows = self.progressions.get(mode, ())
            if not rows or any(len(r) != 4 or not set(r) <= set(NUMERALS[mode]) for r in rows):
                raise ComposeError(f"style {self.name!r}: progressions.{mode}", rows,
                                   f"a list of 4-chord rows of {list(NUMERALS[mode])}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StyleSpec:
        """Build and validate a spec from its JSON form.

        Raises:
            ComposeError: a wrong version, a missing or unknown key, or a value out of range.
        """
        if data.get("version") != STYLE_VERSION:
            raise ComposeError("style version", data.get("version"), f"version {STYLE_VERSION}")
        try:
            parts = {k: Part(instrument=data[k].get("instrument", data[k].get("kit", "none")),
                             pattern=data[k].get("pattern", data[k].get("groove", data[k].get("rhythm", ""))),
                             level=float(data[k].get("level", 1.0)), octave=int(data[k].get("octave", 4)),
                             density=float(data[k].get("density", 0.5)))
                     for k in ("drums", "bass", "chords", "melody", "pad")}
            tone = data["tone"]
            return cls(name=data["name"], description=data["description"], tags=tuple(data.get("tags", ())),
                       tempo_min_bpm=float(data["tempo_min_bpm"]), tempo_max_bpm=float(data["tempo_max_bpm"]),
                       swing=float(data["swing"]), extensions=data["extensions"], **parts,
                       lowpass_hz=float(tone["lowpass_hz"]), reverb=float(tone["reverb"]),
                       crackle=float(tone["crackle"]),
                       progressions={m: tuple(tuple(r) for r in rows) for m, rows in data["progressions"].items()},
                       feel={k: float(v) for k, v in data["feel"].items()})
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ComposeError(f"style {data.get('name')!r}", type(exc).__name__ + f": {exc}",
                               "the keys of styles/lo-fi.json") from exc

    @property
    def mid_bpm(self) -> float:
        """The middle of the style's tempo range."""
        return (self.tempo_min_bpm + self.tempo_max_bpm) / 2


@functools.cache
def _registry() -> dict[str, StyleSpec]:
    specs = {}
    for path in sorted(STYLES_DIR.glob("*.json")):
        spec = StyleSpec.from_dict(json.loads(path.read_text(encoding="utf-8")))
        if spec.name != path.stem:
            raise ComposeError(f"style file {path.name}: name", spec.name, f"the file's stem {path.stem!r}")
        specs[spec.name] = spec
    return specs


def list_styles() -> tuple[str, ...]:
    """The names of the shipped style presets, sorted."""
    return tuple(sorted(_registry()))


def get_style(name: str | StyleSpec) -> StyleSpec:
    """The style preset called ``name`` (a ``StyleSpec`` is returned as is).

    Raises:
        ComposeError: no such style; the message lists the known ones.
    """
    if isinstance(name, StyleSpec):
        return name
    spec = _registry().get(name) if isinstance(name, str) else None
    if spec is None:
        raise ComposeError("style", name, f"one of {list(list_styles())}")
    return spec
