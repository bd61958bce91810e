"""The plain data types of footage analysis: ``Footage``, its ``Shot``s and their ``ShotDescriptors``, ``ProbeInfo``.

They live apart from the code that computes them (``footage``, ``video``, ``descriptors``) so that each of those
modules can name them without importing the others: no import circle, and ``templates`` can take them without
pulling in any media library. ``crossmodal_match.footage`` re-exports them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from crossmodal_match.errors import MatchError

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ShotDescriptors:
    """What one shot looks like, averaged over its analysis frames (``face_count`` over its keyframes).

    Attributes:
        motion_energy: mean absolute luma change from one analysis frame to the next, per analysis interval
            (``1 / analysis_fps``, 0.1 s by default; longer gaps are scaled to it), as a fraction of full
            scale, in [0, 1]; 0 for a still.
        brightness: mean luma (BT.601) in [0, 1].
        saturation: mean HSV saturation in [0, 1].
        warmth: (mean red - mean blue) / 255 in [-1, 1]; > 0 warm (orange light), < 0 cool (blue light).
        contrast: RMS contrast (standard deviation of luma) in [0, 0.5].
        colourfulness: Hasler-Süsstrunk colourfulness M (0-255 scale), >= 0; about 33 "moderately" and
            59 "quite" colourful, above 100 "extremely".
        face_count: most frontal faces found on any one keyframe of the shot (OpenCV Haar cascade), >= 0.
        length_s: shot length in seconds.
    """

    motion_energy: float
    brightness: float
    saturation: float
    warmth: float
    contrast: float
    colourfulness: float
    face_count: int
    length_s: float


@dataclass(frozen=True)
class Shot:
    """One shot: a run of frames between two cuts.

    Attributes:
        index: position in the footage, from 0.
        start_s, end_s: shot span in seconds from the start of the footage; ``end_s`` is the next shot's start.
        keyframe_times_s: times (s) of the frames the descriptors' faces were counted on: the shot's first
            analysis frame, then one every ``1 / keyframes_per_s`` seconds; get the pictures with
            ``keyframes(path, times_s=...)``.
        descriptors: what the shot looks like.
    """

    index: int
    start_s: float
    end_s: float
    keyframe_times_s: tuple[float, ...]
    descriptors: ShotDescriptors


@dataclass(frozen=True)
class Footage:
    """A video or photo, analysed.

    Attributes:
        path: the file, as a string.
        kind: ``"video"`` or ``"photo"``.
        duration_s: length in seconds (decoded; a photo: the ``still_duration_s`` asked for).
        fps: average frame rate in frames/s (0.0 for a photo).
        width, height: frame size in pixels as displayed, i.e. after ``rotation``.
        rotation: counter-clockwise degrees (0, 90, 180 or 270) the stored frames are turned for display
            (video display matrix or photo EXIF orientation); already applied to ``width``, ``height`` and frames.
        has_audio: whether the file has an audio stream.
        shots: the shots in time order, at least one.
    """

    path: str
    kind: str
    duration_s: float
    fps: float
    width: int
    height: int
    rotation: int
    has_audio: bool
    shots: tuple[Shot, ...]

    def __post_init__(self) -> None:
        if self.kind not in ("video", "photo"):
            raise MatchError(f"Footage.kind must be 'video' or 'photo', got {self.kind!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with a ``version`` stamp (``SCHEMA_VERSION``); inverse of ``from_dict``."""
        return {"version": SCHEMA_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Footage:
        """Rebuild a ``Footage`` from ``to_dict()``'s output (e.g. read back from JSON).

        Raises:
            MatchError: unknown version or a missing/unexpected field, named in the message.
        """
        version = data.get("version")
        if version != SCHEMA_VERSION:
            raise MatchError(f"footage analysis has version {version!r}; this code reads version {SCHEMA_VERSION}"
                             " (re-run analyze_footage)")
        try:
            fields = {k: v for k, v in data.items() if k not in ("version", "shots")}
            shots = tuple(Shot(**{**s, "keyframe_times_s": tuple(s["keyframe_times_s"]),
                                  "descriptors": ShotDescriptors(**s["descriptors"])}) for s in data["shots"])
            return cls(**fields, shots=shots)
        except (KeyError, TypeError) as exc:
            raise MatchError(f"footage analysis dict is malformed: {exc}") from exc


@dataclass(frozen=True)
class ProbeInfo:
    """What a file is, without analysing its pictures.

    Attributes:
        path: the file, as a string.
        kind: ``"video"`` or ``"photo"``.
        container: demuxer name (e.g. ``"mov,mp4,m4a,3gp,3g2,mj2"``, ``"matroska,webm"``) or image format
            (``"JPEG"``, ``"PNG"`` ...).
        codec: video codec name (``"h264"``, ``"hevc"``, ``"vp9"`` ...), or the image format for a photo.
        duration_s: length in seconds from the container (0.0 for a photo).
        fps: average frame rate in frames/s (0.0 for a photo or when unknown).
        width, height: frame size in pixels as displayed (after rotation).
        rotation: counter-clockwise degrees applied for display: 0, 90, 180 or 270.
        has_audio: whether there is an audio stream.
    """

    path: str
    kind: str
    container: str
    codec: str
    duration_s: float
    fps: float
    width: int
    height: int
    rotation: int
    has_audio: bool
