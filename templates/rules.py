"""The parts a template spec is made of: small frozen dataclasses, each validated in ``__post_init__``.

``templates.spec.TemplateSpec`` is built from these: the draft's length (``DurationRange``), its cutting rhythm
(``Pacing`` of ``Section``s), its ``Transition``, its text (``TitleRule``, ``CaptionRule``, ``CardRule``,
``LabelRule``, each placed by a ``Placement`` inside safe margins) and its ``MusicRules``. A bad value raises
``TemplateSpecError`` naming the field and the value (``cut_every=0: must be an integer in [1, 64]``);
``TemplateSpec.from_dict`` prefixes the path (``pacing.body.cut_every=0: ...``). Standard library only.
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass
from typing import Any

from templates.errors import TemplateSpecError
from templates.timeline import ANIMATIONS, TRANSITIONS, Grade, TextStyle

UNITS = ("beat", "bar")
ANCHORS = ("top", "middle", "bottom")
CAPTION_MODES = ("whole", "sentences", "speech")
LABEL_MODES = ("numbered", "parts")
ALIGNS = ("center", "left", "right")
BEATS_PER_BAR = 4  # the pace of a card assumes 4/4, like crossmodal_match.audio
_RGB_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
_RGBA_RE = re.compile(r"^#[0-9a-fA-F]{8}$")


def fail(field: str, value: Any, why: str) -> TemplateSpecError:
    """The error for a bad field: ``"<field>=<value>: <why>"``."""
    return TemplateSpecError(f"{field}={value!r}: {why}")


def check_number(field: str, value: Any, lo: float, hi: float, *, lo_open: bool = False) -> None:
    """Refuse a bool, a non-number, NaN, or a value outside ``[lo, hi]`` (``(lo, hi]`` when ``lo_open``)."""
    ok = (not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
          and (value > lo if lo_open else value >= lo) and value <= hi)
    if not ok:
        raise fail(field, value, f"must be a number in {'(' if lo_open else '['}{lo}, {hi}]")


def check_choice(field: str, value: Any, allowed: tuple[str, ...]) -> None:
    """Refuse a value that is not one of ``allowed``."""
    if value not in allowed:
        raise fail(field, value, f"must be one of {list(allowed)}")


def _text_template(field: str, value: Any, placeholders: tuple[str, ...]) -> None:
    """A text with only the named ``{placeholders}``, e.g. ``"Step {n}"``."""
    if not isinstance(value, str):
        raise fail(field, value, "must be a string")
    try:
        used = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    except ValueError as exc:
        raise fail(field, value, f"is not a valid text template ({exc})") from None
    if used - set(placeholders):
        raise fail(field, value, f"uses {sorted(used - set(placeholders))}; allowed placeholders are "
                                  f"{['{' + p + '}' for p in placeholders]}")


def check_text_style(style: TextStyle, *, field: str = "style") -> None:
    """Validate a ``TextStyle`` (it has no checks of its own, being plain timeline data).

    Raises:
        TemplateSpecError: a field out of range, named as ``<field>.<attribute>``.
    """
    if not isinstance(style, TextStyle):
        raise fail(field, style, "must be a text style object")
    if not isinstance(style.font, str) or not style.font.strip():
        raise fail(f"{field}.font", style.font, "must be a font name or a font file path")
    check_number(f"{field}.size", style.size, 0.0, 0.3, lo_open=True)
    check_number(f"{field}.stroke", style.stroke, 0.0, 0.05)
    for name in ("colour", "stroke_colour"):
        if not isinstance(getattr(style, name), str) or not _RGB_RE.match(getattr(style, name)):
            raise fail(f"{field}.{name}", getattr(style, name), "must look like '#rrggbb'")
    if style.background != "" and not (isinstance(style.background, str) and _RGBA_RE.match(style.background)):
        raise fail(f"{field}.background", style.background, "must be '' (none) or look like '#rrggbbaa'")
    check_choice(f"{field}.animation", style.animation, ANIMATIONS)
    check_choice(f"{field}.align", style.align, ALIGNS)


def check_grade(grade: Grade, *, field: str = "grade") -> None:
    """Validate a ``Grade`` against the ranges its docstring gives.

    Raises:
        TemplateSpecError: a field out of range, named as ``<field>.<attribute>``.
    """
    if not isinstance(grade, Grade):
        raise fail(field, grade, "must be a grade object")
    check_number(f"{field}.brightness", grade.brightness, -0.5, 0.5)
    check_number(f"{field}.contrast", grade.contrast, 0.0, 3.0, lo_open=True)
    check_number(f"{field}.saturation", grade.saturation, 0.0, 3.0)
    check_number(f"{field}.warmth", grade.warmth, -0.5, 0.5)


@dataclass(frozen=True)
class DurationRange:
    """How long a draft of this template may be, seconds: ``min_s <= duration <= max_s``."""

    min_s: float
    max_s: float

    def __post_init__(self) -> None:
        check_number("min_s", self.min_s, 1.0, 600.0)
        check_number("max_s", self.max_s, 1.0, 600.0)
        if self.max_s < self.min_s:
            raise fail("max_s", self.max_s, f"must be >= min_s ({self.min_s})")


@dataclass(frozen=True)
class Section:
    """The cutting rhythm of one section: a cut every ``cut_every`` beats or bars.

    Attributes:
        cut_every: beats or bars between two cuts, >= 1.
        unit: ``"beat"`` or ``"bar"`` (a bar is the music's bar, 4 beats in 4/4).
        bars: length of the section in bars (intro and outro; 0 = no such section). The body takes the rest, so
            its ``bars`` must be 0.
    """

    cut_every: int = 1
    unit: str = "bar"
    bars: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.cut_every, bool) or not isinstance(self.cut_every, int) or not 1 <= self.cut_every <= 64:
            raise fail("cut_every", self.cut_every, "must be an integer in [1, 64]")
        check_choice("unit", self.unit, UNITS)
        if isinstance(self.bars, bool) or not isinstance(self.bars, int) or not 0 <= self.bars <= 32:
            raise fail("bars", self.bars, "must be an integer in [0, 32]")

    @property
    def beats_per_cut(self) -> int:
        """Beats between two cuts, assuming 4/4 (the builder counts the music's own bars)."""
        return self.cut_every * (BEATS_PER_BAR if self.unit == "bar" else 1)


@dataclass(frozen=True)
class Pacing:
    """Cutting rhythm per section: ``intro`` (first ``intro.bars`` bars), ``body``, ``outro`` (last bars)."""

    body: Section
    intro: Section = Section()
    outro: Section = Section()

    def __post_init__(self) -> None:
        for name in ("body", "intro", "outro"):
            if not isinstance(getattr(self, name), Section):
                raise fail(name, getattr(self, name), "must be a section object")
        if self.body.bars != 0:
            raise fail("body.bars", self.body.bars, "must be 0: the body is what the intro and outro leave")


@dataclass(frozen=True)
class Transition:
    """How each clip enters: ``type`` from ``timeline.TRANSITIONS``, lasting ``duration_s`` (0 for a cut)."""

    type: str = "cut"
    duration_s: float = 0.0

    def __post_init__(self) -> None:
        check_choice("type", self.type, TRANSITIONS)
        check_number("duration_s", self.duration_s, 0.0, 2.0)
        if self.type == "cut" and self.duration_s != 0:
            raise fail("duration_s", self.duration_s, "must be 0 for a 'cut'")
        if self.type != "cut" and self.duration_s == 0:
            raise fail("duration_s", self.duration_s, f"must be > 0 for a {self.type!r}")


@dataclass(frozen=True)
class Placement:
    """Where a text box sits, as fractions of the frame, inside safe margins (platform buttons, rounded corners).

    Attributes:
        anchor: ``"top"``, ``"middle"`` or ``"bottom"`` of the safe area.
        margin_x, margin_y: safe margins left/right and top/bottom, fractions of width / height in [0, 0.4].
        height: height of the box, fraction of the frame height (it must fit inside the safe area).
    """

    anchor: str = "bottom"
    margin_x: float = 0.06
    margin_y: float = 0.1
    height: float = 0.15

    def __post_init__(self) -> None:
        check_choice("anchor", self.anchor, ANCHORS)
        check_number("margin_x", self.margin_x, 0.0, 0.4)
        check_number("margin_y", self.margin_y, 0.0, 0.4)
        check_number("height", self.height, 0.0, 1.0 - 2 * self.margin_y, lo_open=True)

    @property
    def box(self) -> tuple[float, float, float, float]:
        """``(x, y, w, h)`` of the box, fractions of the frame."""
        y = {"top": self.margin_y, "middle": 0.5 - self.height / 2,
             "bottom": 1.0 - self.margin_y - self.height}[self.anchor]
        return self.margin_x, y, 1.0 - 2 * self.margin_x, self.height


def _check_text_box(style: TextStyle, placement: Placement) -> None:
    check_text_style(style)
    if not isinstance(placement, Placement):
        raise fail("placement", placement, "must be a placement object")
    if style.size > placement.height:
        raise fail("style.size", style.size, f"is taller than its box (placement.height={placement.height})")


@dataclass(frozen=True)
class TitleRule:
    """The title: shown from ``start_s`` after the intro card for ``duration_s`` (None: until the outro)."""

    style: TextStyle = TextStyle()
    placement: Placement = Placement(anchor="top", height=0.14)
    start_s: float = 0.0
    duration_s: float | None = None

    def __post_init__(self) -> None:
        _check_text_box(self.style, self.placement)
        check_number("start_s", self.start_s, 0.0, 60.0)
        if self.duration_s is not None:
            check_number("duration_s", self.duration_s, 0.0, 600.0, lo_open=True)


@dataclass(frozen=True)
class CaptionRule:
    """The caption: the post's copy as one overlay (``"whole"``) or a sentence at a time (``"sentences"``), or
    ``"speech"``: the footage's spoken words, word-timed (``templates.speech_captions``); a draft without speech
    then shows the copy a sentence at a time."""

    style: TextStyle = TextStyle(size=0.035)
    placement: Placement = Placement()
    mode: str = "whole"

    def __post_init__(self) -> None:
        _check_text_box(self.style, self.placement)
        check_choice("mode", self.mode, CAPTION_MODES)


@dataclass(frozen=True)
class CardRule:
    """An intro or outro card: ``text`` (placeholders ``{title}``, ``{copy}``) for ``duration_s`` seconds."""

    text: str
    duration_s: float = 1.5
    style: TextStyle = TextStyle(size=0.08, background="#000000b3")
    placement: Placement = Placement(anchor="middle", height=0.3)

    def __post_init__(self) -> None:
        _text_template("text", self.text, ("title", "copy"))
        check_number("duration_s", self.duration_s, 0.0, 10.0, lo_open=True)
        _check_text_box(self.style, self.placement)


@dataclass(frozen=True)
class LabelRule:
    """Labels over the body: ``"numbered"`` puts ``text`` (``{n}`` = 1, 2, ...) on each clip; ``"parts"`` splits
    the body into ``len(parts)`` runs on bar boundaries, each labelled and cut from its own share of the footage
    (before/after: the first half of the footage is "before")."""

    mode: str = "numbered"
    text: str = "{n}"
    parts: tuple[str, ...] = ()
    style: TextStyle = TextStyle(size=0.09, animation="pop")
    placement: Placement = Placement(anchor="middle", height=0.14)

    def __post_init__(self) -> None:
        check_choice("mode", self.mode, LABEL_MODES)
        _text_template("text", self.text, ("n",))
        if isinstance(self.parts, str) or not all(isinstance(p, str) and p.strip() for p in self.parts):
            raise fail("parts", self.parts, "must be a list of non-empty strings")
        if self.mode == "parts" and not 2 <= len(self.parts) <= 8:
            raise fail("parts", self.parts, "must list 2 to 8 labels in 'parts' mode")
        _check_text_box(self.style, self.placement)


@dataclass(frozen=True)
class MusicRules:
    """The music a template is cut for, and how the track is faded.

    Attributes:
        tempo_min_bpm, tempo_max_bpm: tempo range in beats per minute, within [40, 220]; without music the cuts
            follow a fixed grid at the midpoint.
        energy: how intense a track fits, 0 (calm) .. 1 (intense).
        fade_in_s, fade_out_s: fades of the music at the draft's start and end, seconds.
        gain_db: music level, dB (negative under speech).
    """

    tempo_min_bpm: float
    tempo_max_bpm: float
    energy: float
    fade_in_s: float = 0.0
    fade_out_s: float = 1.0
    gain_db: float = 0.0

    def __post_init__(self) -> None:
        check_number("tempo_min_bpm", self.tempo_min_bpm, 40.0, 220.0)
        check_number("tempo_max_bpm", self.tempo_max_bpm, 40.0, 220.0)
        if self.tempo_max_bpm < self.tempo_min_bpm:
            raise fail("tempo_max_bpm", self.tempo_max_bpm, f"must be >= tempo_min_bpm ({self.tempo_min_bpm})")
        check_number("energy", self.energy, 0.0, 1.0)
        check_number("fade_in_s", self.fade_in_s, 0.0, 10.0)
        check_number("fade_out_s", self.fade_out_s, 0.0, 10.0)
        check_number("gain_db", self.gain_db, -40.0, 6.0)

    @property
    def mid_bpm(self) -> float:
        """The tempo midpoint, beats per minute."""
        return (self.tempo_min_bpm + self.tempo_max_bpm) / 2
