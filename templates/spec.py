"""``TemplateSpec``: one declarative template, validated on load, and its card for the matcher.

    spec = TemplateSpec.from_dict(json.loads(Path("templates/specs/calm-vlog.json").read_text()))
    card = spec.to_card()        # crossmodal_match.template_card.TemplateCard: plain data the matcher ranks

The JSON has the fields of ``TemplateSpec`` (nested objects for the parts in ``templates.rules``, ``TextStyle`` and
``Grade`` from ``templates.timeline``), ``"resolution": "1080x1920"`` and ``"version": 1``. Unknown or missing
fields and bad values raise ``TemplateSpecError`` naming the field's path and value. Pure data: no file I/O here
(``templates.registry`` reads the files).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any

from crossmodal_match.template_card import TemplateCard
from templates.errors import TemplateSpecError
from templates.rules import (CaptionRule, CardRule, DurationRange, LabelRule, MusicRules, Pacing, Placement,
                             Section, TitleRule, Transition, check_choice, check_grade, check_number, fail)
from templates.timeline import Grade, TextStyle

SPEC_VERSION = 1
ASPECTS = {"9:16": (9, 16), "3:4": (3, 4), "1:1": (1, 1), "16:9": (16, 9)}
REFRAMES = ("centre", "face", "saliency")
PHOTO_MOTIONS = ("none", "kenburns-in", "kenburns-out", "kenburns-alternate")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_RESOLUTION_RE = re.compile(r"^(\d{2,5})x(\d{2,5})$")
# Which field of which class holds a nested object, so from_dict can build the tree from plain JSON.
_NESTED: dict[tuple[type, str], type] = {}
# Cut pace on the matcher's scale (crossmodal_match.feel): 8 s shots -> 0, 0.5 s shots -> 1.
_LONG_SHOT_S, _SHORT_SHOT_S = 8.0, 0.5


@dataclass(frozen=True)
class TemplateSpec:
    """A template: everything ``build_timeline`` needs to turn footage and a track into a draft.

    Attributes:
        name: registry name, lower-case letters, digits and dashes (the spec file's stem).
        description: what the template is for, one or two sentences (the matcher ranks it against the brief).
        tags: lower-case topic/feel words.
        aspect: ``"9:16"``, ``"3:4"``, ``"1:1"`` or ``"16:9"``.
        resolution: ``(width, height)`` in pixels, even numbers, of ``aspect`` (JSON: ``"1080x1920"``).
        fps: output frame rate, frames/s in [12, 60].
        duration: the draft's length range, seconds.
        pacing: cut every N beats/bars in the intro, body and outro.
        transition: how each clip enters.
        reframe: ``"centre"``, ``"face"`` or ``"saliency"``; face and saliency fall back to a centre crop (and
            the timeline's ``meta["reframe"]`` says why) when the footage analysis has no positions for them.
        grade: the light colour grade of every clip.
        title: how the title is shown, or None: only on the cards whose text has ``{title}``.
        caption: how the post's copy is shown.
        intro_card, outro_card: text cards at the start / end, or None.
        labels: numbered or part labels over the body, or None.
        music: tempo and energy the template is cut for; fades and level of the track.
        photo_motion: Ken Burns move of photos: ``"none"``, ``"kenburns-in"``, ``"kenburns-out"`` or
            ``"kenburns-alternate"`` (in, out, in ...).
        version: spec format version (``SPEC_VERSION``).
    """

    name: str
    description: str
    aspect: str
    resolution: tuple[int, int]
    duration: DurationRange
    pacing: Pacing
    music: MusicRules
    tags: tuple[str, ...] = ()
    fps: float = 30.0
    transition: Transition = Transition()
    reframe: str = "centre"
    grade: Grade = Grade()
    title: TitleRule | None = TitleRule()
    caption: CaptionRule = CaptionRule()
    intro_card: CardRule | None = None
    outro_card: CardRule | None = None
    labels: LabelRule | None = None
    photo_motion: str = "none"
    version: int = SPEC_VERSION

    def __post_init__(self) -> None:
        if self.version != SPEC_VERSION:
            raise fail("version", self.version, f"this code reads spec version {SPEC_VERSION}")
        if not isinstance(self.name, str) or not _NAME_RE.match(self.name):
            raise fail("name", self.name, "must be 1-64 lower-case letters, digits or dashes, e.g. 'calm-vlog'")
        if not isinstance(self.description, str) or len(self.description.strip()) < 10:
            raise fail("description", self.description, "must be a sentence (>= 10 characters) the matcher can rank")
        tags = self.tags
        if isinstance(tags, str) or not isinstance(tags, (list, tuple)) or not all(
                isinstance(t, str) and t.strip() for t in tags):
            raise fail("tags", tags, "must be a list of non-empty strings")
        object.__setattr__(self, "tags", tuple(dict.fromkeys(t.strip().lower() for t in tags)))
        check_choice("aspect", self.aspect, tuple(ASPECTS))
        object.__setattr__(self, "resolution", self._parse_resolution(self.resolution))
        check_number("fps", self.fps, 12.0, 60.0)
        check_choice("reframe", self.reframe, REFRAMES)
        check_choice("photo_motion", self.photo_motion, PHOTO_MOTIONS)
        check_grade(self.grade)
        self._check_types()
        self._check_music_fit()

    def _parse_resolution(self, value: Any) -> tuple[int, int]:
        if isinstance(value, str) and (m := _RESOLUTION_RE.match(value)):
            value = (int(m.group(1)), int(m.group(2)))
        if (not isinstance(value, (list, tuple)) or len(value) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
            raise fail("resolution", value, "must look like '1080x1920' (width x height, pixels)")
        width, height = value
        if not (16 <= width <= 7680 and 16 <= height <= 7680) or width % 2 or height % 2:
            raise fail("resolution", f"{width}x{height}", "needs even numbers in [16, 7680] (video encoders)")
        aw, ah = ASPECTS[self.aspect]
        if abs(width * ah - height * aw) > 0.01 * height * aw:
            raise fail("resolution", f"{width}x{height}", f"is not {self.aspect} (aspect)")
        return width, height

    def _check_types(self) -> None:
        for f in fields(self):
            expected = _NESTED.get((TemplateSpec, f.name))
            value = getattr(self, f.name)
            optional = f.name in ("title", "intro_card", "outro_card", "labels")
            if expected is not None and not isinstance(value, expected) and not (optional and value is None):
                raise fail(f.name, value, f"must be a {expected.__name__} object")

    def _check_music_fit(self) -> None:
        # Drafts are whole bars: a range narrower than a bar at the slowest tempo could hold no bar count at all.
        slowest_bar_s = 4 * 60.0 / self.music.tempo_min_bpm
        if self.duration.max_s - self.duration.min_s < slowest_bar_s:
            raise fail("duration.max_s", self.duration.max_s,
                       f"must be at least one bar ({slowest_bar_s:.2f} s at music.tempo_min_bpm="
                       f"{self.music.tempo_min_bpm:g}) above duration.min_s ({self.duration.min_s})")
        # Fades longer than half the shortest draft would overlap; the builder would have to cut them silently.
        for name in ("fade_in_s", "fade_out_s"):
            if getattr(self.music, name) > self.duration.min_s / 2:
                raise fail(f"music.{name}", getattr(self.music, name),
                           f"must be at most half of duration.min_s ({self.duration.min_s} s)")

    @property
    def width(self) -> int:
        return self.resolution[0]

    @property
    def height(self) -> int:
        return self.resolution[1]

    def to_card(self) -> TemplateCard:
        """The plain card the matcher ranks (name, description, tags, aspect, tempo range, energy, pace).

        ``pace`` is the body's cut length at the tempo midpoint on the matcher's cut-pace scale
        (``crossmodal_match.feel``): ``clip(log2(8 s / shot_s) / 4)``, so a cut every bar at 120 bpm (2 s) is 0.5.

        Returns:
            TemplateCard.
        """
        shot_s = self.pacing.body.beats_per_cut * 60.0 / self.music.mid_bpm
        pace = math.log2(_LONG_SHOT_S / shot_s) / math.log2(_LONG_SHOT_S / _SHORT_SHOT_S)
        return TemplateCard(name=self.name, description=self.description, tags=self.tags, aspect=self.aspect,
                            tempo_min_bpm=float(self.music.tempo_min_bpm),
                            tempo_max_bpm=float(self.music.tempo_max_bpm), energy=float(self.music.energy),
                            pace=float(min(1.0, max(0.0, pace))))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict in the file format; inverse of :meth:`from_dict`."""
        data = asdict(self)
        data["resolution"] = f"{self.width}x{self.height}"
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TemplateSpec:
        """Build and validate a spec from its JSON form.

        Args:
            data: the parsed JSON object.

        Returns:
            TemplateSpec.

        Raises:
            TemplateSpecError: not an object, unknown or missing fields (listed), or a bad value; the message names
                the field's path and value, e.g. ``title.style.size=2: must be a number in (0.0, 0.3]``.
        """
        return _build(cls, data, "")


def _build(cls: type, data: Any, where: str) -> Any:
    """Build ``cls`` from a JSON object, nested objects first; prefix errors with the field path ``where``."""
    if not isinstance(data, Mapping):
        raise fail(where or "spec", data, "must be a JSON object")
    names = [f.name for f in fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise TemplateSpecError(f"{where or 'spec'}: unknown field(s) {unknown}; the fields are {names}")
    missing = [f.name for f in fields(cls) if f.name not in data
               and f.default is MISSING and f.default_factory is MISSING]
    if missing:
        raise TemplateSpecError(f"{where or 'spec'}: missing field(s) {missing}")
    kwargs = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else key
        nested = _NESTED.get((cls, key))
        if nested is not None and value is not None:
            value = _build(nested, value, path)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[key] = value
    try:
        return cls(**kwargs)
    except TemplateSpecError as exc:
        raise TemplateSpecError(f"{where}.{exc}" if where else str(exc)) from None


def _register_nested() -> None:
    styles = {"style": TextStyle, "placement": Placement}
    _NESTED.update({(TemplateSpec, "duration"): DurationRange, (TemplateSpec, "pacing"): Pacing,
                    (TemplateSpec, "music"): MusicRules, (TemplateSpec, "transition"): Transition,
                    (TemplateSpec, "grade"): Grade, (TemplateSpec, "title"): TitleRule,
                    (TemplateSpec, "caption"): CaptionRule, (TemplateSpec, "intro_card"): CardRule,
                    (TemplateSpec, "outro_card"): CardRule, (TemplateSpec, "labels"): LabelRule})
    _NESTED.update({(Pacing, s): Section for s in ("intro", "body", "outro")})
    _NESTED.update({(rule, k): v for rule in (TitleRule, CaptionRule, CardRule, LabelRule) for k, v in styles.items()})


_register_nested()
