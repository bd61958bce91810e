"""The draft as an immutable timeline: pure data, JSON round-trip, no moviepy.

A ``Timeline`` says everything the renderer needs and nothing it must guess: which part of which source plays when
(``clips``), how it is framed and graded, which part of which track plays under it and how it fades (``audio``),
and which text shows where and when (``overlays``). Times are seconds on the draft's own clock; crop boxes and
overlay positions are fractions of the frame, so one timeline renders at preview and full resolution alike.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from templates.errors import TemplateError

TIMELINE_VERSION = 1
TRANSITIONS = ("cut", "crossfade", "fade")
MOTIONS = ("none", "kenburns-in", "kenburns-out")
ANIMATIONS = ("none", "fade", "slide-up", "pop")
OVERLAY_KINDS = ("title", "caption", "card")


@dataclass(frozen=True)
class Grade:
    """A light colour grade, each value a multiplier or offset around neutral.

    Attributes:
        brightness: added to every channel, fraction of full scale in [-0.5, 0.5] (0 = unchanged).
        contrast: multiplier around mid-grey, > 0 (1 = unchanged).
        saturation: multiplier of chroma, >= 0 (1 = unchanged, 0 = grey).
        warmth: shifts red up and blue down by this fraction in [-0.5, 0.5] (0 = unchanged).
    """

    brightness: float = 0.0
    contrast: float = 1.0
    saturation: float = 1.0
    warmth: float = 0.0


@dataclass(frozen=True)
class TimelineClip:
    """One piece of a source on the timeline.

    Attributes:
        source: path of the video or photo.
        kind: ``"video"`` or ``"photo"``.
        src_start_s, src_end_s: the part of the source used, seconds (photos: 0 and the hold time).
        start_s, end_s: when it plays on the draft's clock, seconds; ``end_s - start_s == src_end_s - src_start_s``.
        crop: ``(x, y, w, h)`` of the source frame kept, as fractions of its width and height.
        motion: ``"none"`` or a Ken Burns move (photos).
        transition_in: how it enters: ``"cut"``, ``"crossfade"`` from the previous clip, or ``"fade"`` from black.
        transition_s: length of that transition, seconds (0 for a cut).
        grade: colour grade.
        shot_index: which shot of the source this is (for "never reuse a shot while unused material remains").
    """

    source: str
    kind: str
    src_start_s: float
    src_end_s: float
    start_s: float
    end_s: float
    crop: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
    motion: str = "none"
    transition_in: str = "cut"
    transition_s: float = 0.0
    grade: Grade = Grade()
    shot_index: int = 0


@dataclass(frozen=True)
class AudioTrack:
    """A window of one sound source placed at ``start_s``: the music under the draft (faded, and lowered by
    ``duck_db`` over ``duck_spans_s`` while someone speaks), or the footage's own sound under one clip.

    Attributes:
        duck_spans_s: ``(start_s, end_s)`` spans on the draft's clock where speech plays (music only).
        duck_db: gain added inside those spans, dB (<= 0), reached over ``templates.soundtrack.DUCK_RAMP_S``.
    """

    source: str
    src_start_s: float
    src_end_s: float
    start_s: float
    end_s: float
    fade_in_s: float = 0.0
    fade_out_s: float = 0.0
    gain_db: float = 0.0
    duck_spans_s: tuple[tuple[float, float], ...] = ()
    duck_db: float = 0.0


@dataclass(frozen=True)
class TextStyle:
    """How an overlay's text looks.

    Attributes:
        font: a font name from the registry (``templates.fonts``) or a path to a .ttf/.otf/.ttc file.
        size: text height as a fraction of the frame height.
        colour, stroke_colour: ``"#rrggbb"``.
        stroke: outline width as a fraction of the frame height (0 = none).
        animation: ``"none"``, ``"fade"``, ``"slide-up"`` or ``"pop"`` on entry.
        align: ``"center"``, ``"left"`` or ``"right"``.
        background: ``"#rrggbbaa"`` box behind the text, or ``""`` for none.
    """

    font: str = "noto-sans-cjk"
    size: float = 0.06
    colour: str = "#ffffff"
    stroke_colour: str = "#000000"
    stroke: float = 0.004
    animation: str = "fade"
    align: str = "center"
    background: str = ""


@dataclass(frozen=True)
class TextOverlay:
    """Text on screen: a title, a caption or an intro/outro/numbered card.

    Attributes:
        text: what it says (any script; the font must cover it).
        kind: ``"title"``, ``"caption"`` or ``"card"``.
        start_s, end_s: when it shows, seconds.
        box: ``(x, y, w, h)`` area it must stay inside, fractions of the frame (inside the template's safe margins).
        style: how it looks.
    """

    text: str
    kind: str
    start_s: float
    end_s: float
    box: tuple[float, float, float, float]
    style: TextStyle = TextStyle()


@dataclass(frozen=True)
class Timeline:
    """A whole draft.

    Attributes:
        template: name of the template it follows.
        width, height: output size in pixels (even numbers).
        fps: output frame rate.
        duration_s: length, seconds (ends on a bar boundary of the music when there is music).
        clips: the pictures, in time order, covering ``[0, duration_s]``.
        audio: the music, or None.
        voices: the footage's own sound, one window per clip that plays it (speech-led templates), else empty.
        overlays: title, captions and cards.
        beats_s: the music's beat times on the draft's clock (for checks and for the studio's display).
        meta: free-form facts (brief, chosen track id, title source...), JSON-serialisable.
    """

    template: str
    width: int
    height: int
    fps: float
    duration_s: float
    clips: tuple[TimelineClip, ...]
    audio: AudioTrack | None = None
    overlays: tuple[TextOverlay, ...] = ()
    voices: tuple[AudioTrack, ...] = ()
    beats_s: tuple[float, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)
    version: int = TIMELINE_VERSION

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0 or self.width % 2 or self.height % 2:
            raise TemplateError(f"timeline size must be positive even numbers, got {self.width}x{self.height}")
        if not self.fps > 0 or not self.duration_s > 0:
            raise TemplateError(f"timeline fps and duration_s must be positive, got {self.fps}, {self.duration_s}")
        for c in self.clips:
            if c.transition_in not in TRANSITIONS or c.motion not in MOTIONS or c.kind not in ("video", "photo"):
                raise TemplateError(f"clip of {c.source}: kind {c.kind!r}, transition {c.transition_in!r}, motion "
                                    f"{c.motion!r}; allowed {('video', 'photo')}, {TRANSITIONS}, {MOTIONS}")
        for o in self.overlays:
            if o.kind not in OVERLAY_KINDS or o.style.animation not in ANIMATIONS:
                raise TemplateError(f"overlay {o.text[:20]!r}: kind {o.kind!r} / animation {o.style.animation!r}; "
                                    f"allowed {OVERLAY_KINDS} / {ANIMATIONS}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists); inverse of :meth:`from_dict`."""
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Timeline:
        """Rebuild a timeline from :meth:`to_dict` output.

        Raises:
            TemplateError: another version, or missing/unknown fields.
        """
        if data.get("version") != TIMELINE_VERSION:
            raise TemplateError(f"timeline version {data.get('version')!r}; this code reads {TIMELINE_VERSION}")
        try:
            clips = tuple(TimelineClip(**{**c, "crop": tuple(c["crop"]), "grade": Grade(**c["grade"])})
                          for c in data["clips"])
            audio = _audio_track(data["audio"]) if data.get("audio") else None
            voices = tuple(_audio_track(v) for v in data.get("voices", ()))
            overlays = tuple(TextOverlay(**{**o, "box": tuple(o["box"]), "style": TextStyle(**o["style"])})
                             for o in data.get("overlays", ()))
            rest = {f.name: data[f.name] for f in fields(cls)
                    if f.name not in ("clips", "audio", "overlays", "beats_s", "voices") and f.name in data}
            return cls(**rest, clips=clips, audio=audio, overlays=overlays, beats_s=tuple(data.get("beats_s", ())),
                       voices=voices)
        except (KeyError, TypeError) as exc:
            raise TemplateError(f"not a timeline: {exc}") from exc

    @classmethod
    def from_json(cls, text: str) -> Timeline:
        return cls.from_dict(json.loads(text))


def _audio_track(data: dict[str, Any]) -> AudioTrack:
    return AudioTrack(**{**data, "duck_spans_s": tuple(tuple(s) for s in data.get("duck_spans_s", ()))})
