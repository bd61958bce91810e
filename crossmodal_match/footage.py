"""Footage analysis: probe a video or photo, split it into shots, sample keyframes, describe each shot.

    footage = analyze_footage("clip.mp4", keyframes_per_s=1.0)   # one decoding pass
    for shot in footage.shots: print(shot.start_s, shot.end_s, shot.descriptors.motion_energy)

Videos are decoded in-process by PyAV as a stream (``crossmodal_match.video.VideoReader``): memory does not grow
with the clip's length, an 8K frame never exists in RGB at full size, rotation metadata is applied and times come
from each frame's pts (variable frame rate is exact). Photos (``PHOTO_EXTENSIONS``, chosen by extension; HEIC/HEIF
with the optional ``pillow-heif``) are footage with one still shot, read by ``crossmodal_match.photo``.

Only the standard library is imported at import time (numpy, PyAV, Pillow, OpenCV inside the functions), so
``from crossmodal_match.footage import Footage, Shot`` is cheap and pulls in no torch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from crossmodal_match.errors import ConfigError, InvalidMediaError
from crossmodal_match.footage_types import SCHEMA_VERSION, Footage, ProbeInfo, Shot, ShotDescriptors
from crossmodal_match.video import MAX_FRAME_PIXELS, VideoReader

if TYPE_CHECKING:
    import numpy as np

PHOTO_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".bmp", ".tif", ".tiff"})
ANALYSIS_MAX_SIDE = 160  # cuts, motion and colour are measured on frames this small; enough and cheap
FACE_MAX_SIDE = 360  # faces down to ~7% of the frame's long side are still >= 24 px for the cascade
KEYFRAME_MAX_SIDE = 320

__all__ = ["SCHEMA_VERSION", "Footage", "ProbeInfo", "Shot", "ShotDescriptors", "analyze_footage",
           "check_media_file", "is_photo", "keyframes", "probe", "split_shots"]


def check_media_file(path: str | Path) -> Path:
    """Check that ``path`` names a non-empty regular file.

    Returns:
        the path as a ``Path``.

    Raises:
        InvalidMediaError: missing, not a file, or empty.
    """
    p = Path(path)
    if not p.exists():
        raise InvalidMediaError(path, "file does not exist")
    if not p.is_file():
        raise InvalidMediaError(path, "is not a regular file")
    if p.stat().st_size == 0:
        raise InvalidMediaError(path, "file is empty (0 bytes)")
    return p


def is_photo(path: str | Path) -> bool:
    """Whether ``path`` is treated as a photo (by its extension, ``PHOTO_EXTENSIONS``) rather than a video."""
    return Path(path).suffix.lower() in PHOTO_EXTENSIONS


def probe(path: str | Path) -> ProbeInfo:
    """Read what a video or photo is: size, rotation, duration, frame rate, codec, audio.

    For a video the first frame is decoded too, to read its rotation and to make sure the stream decodes.

    Args:
        path: video or photo file.

    Returns:
        ProbeInfo.

    Raises:
        InvalidMediaError: missing, empty, truncated, not media, no video stream, frame too large, or a photo
            format whose optional package is missing; the message names the file and the reason.
    """
    p = check_media_file(path)
    if is_photo(p):
        return _probe_photo(p)
    with _open_video(p) as video:
        return video.probe()


def split_shots(path: str | Path, *, analysis_fps: float = 10.0, cut_threshold: float = 0.1,
                min_shot_s: float = 0.5) -> list[tuple[float, float]]:
    """Find shot boundaries (hard cuts) in a video.

    Frames are sampled at ``analysis_fps`` (the first frame at or after each ``1 / analysis_fps`` tick of
    their own timestamps), downscaled to ``ANALYSIS_MAX_SIDE`` px, and a cut is placed at a sampled frame whose
    HSV content difference to the previous one is >= ``cut_threshold`` and well above the shot's recent
    differences (so steady fast motion is not cut). A cut is therefore reported at or up to one analysis frame
    (``1 / analysis_fps`` s) after the true one (plus a frame or two on B-frame streams sampled at under half
    their frame rate, where non-reference frames are not decoded). Fades and dissolves are not detected.

    Args:
        path: video file (a photo gives one span ``(0.0, 0.0)``).
        analysis_fps: frames/s compared, > 0.
        cut_threshold: content difference in [0, 1] that counts as a cut (0.3-0.7 across typical cuts).
        min_shot_s: no cut within this many seconds after the previous one (suppresses flashes), >= 0.

    Returns:
        list of (start_s, end_s) spans in seconds, in order, covering the whole video.

    Raises:
        InvalidMediaError: the file cannot be decoded (see ``probe``).
        ConfigError: a setting is out of range.
    """
    p = check_media_file(path)
    _check_positive(analysis_fps=analysis_fps)
    _check_shot_settings(cut_threshold=cut_threshold, min_shot_s=min_shot_s)
    if is_photo(p):
        _probe_photo(p)
        return [(0.0, 0.0)]
    shots, _ = _scan_video(p, analysis_fps=analysis_fps, cut_threshold=cut_threshold, min_shot_s=min_shot_s,
                           keyframe_every_s=None)
    return [(shot.start_s, shot.end_s) for shot in shots]


def keyframes(path: str | Path, *, every_s: float = 1.0, max_side: int = KEYFRAME_MAX_SIDE,
              times_s: Sequence[float] | None = None) -> Iterator[tuple[float, np.ndarray]]:
    """Stream frames of a video at regular times (or at given times), downscaled and upright.

    The file is opened (and checked) when this is called; frames are then decoded as a stream, one held at a
    time whatever the clip's length. Close the iterator (or let it be collected) to release the file early.

    Args:
        path: video or photo (a photo yields one frame at 0.0).
        every_s: seconds between frames, > 0: the first frame at or after 0, every_s, 2 * every_s, ...
        max_side: long side of the returned frames in pixels, >= 16 (never upscaled).
        times_s: if given, frames at (the first frame at or after) these times in seconds instead of the
            regular grid, e.g. a ``Shot.keyframe_times_s``; several times within one frame give that frame once.

    Returns:
        iterator of (time_s, frame): the frame's own timestamp in seconds (on B-frame streams a grid tick may
        get a frame a few frames after it, as non-reference frames are skipped when fewer than half the frames
        are wanted) and np.ndarray [shape=(H, W, 3), uint8, RGB], as displayed (rotation applied).

    Raises:
        InvalidMediaError: the file cannot be opened (now) or decoded (while iterating); see ``probe``.
        ConfigError: ``every_s`` or ``max_side`` out of range.
    """
    p = check_media_file(path)
    _check_positive(every_s=every_s)
    if max_side < 16:
        raise ConfigError(f"max_side must be >= 16 pixels, got {max_side!r}")
    if is_photo(p):
        from crossmodal_match.photo import load_photo

        return iter([(0.0, load_photo(p, max_side=max_side).rgb)])
    return _stream_keyframes(_open_video(p), every_s=every_s, max_side=max_side, times_s=times_s)


def _stream_keyframes(video: VideoReader, *, every_s: float, max_side: int,
                      times_s: Sequence[float] | None) -> Iterator[tuple[float, np.ndarray]]:
    with video:
        for time_s, frame in video.sample(every_s=every_s, times_s=times_s):
            yield time_s, video.to_rgb(frame, max_side=max_side)


def analyze_footage(path: str | Path, *, keyframes_per_s: float = 1.0, still_duration_s: float = 3.0,
                    analysis_fps: float = 10.0, cut_threshold: float = 0.1, min_shot_s: float = 0.5) -> Footage:
    """Probe, split into shots, take keyframes and describe each shot, in one decoding pass.

    Args:
        path: video or photo file.
        keyframes_per_s: keyframes per second of each shot (faces are counted on them), > 0; keyframes are
            analysis frames, so at most ``analysis_fps`` of them per second.
        still_duration_s: how long a photo lasts as footage, in seconds, > 0.
        analysis_fps, cut_threshold, min_shot_s: shot detection settings, see ``split_shots``.

    Returns:
        Footage with at least one shot; shots cover [0, duration_s].

    Raises:
        InvalidMediaError: the file cannot be used (see ``probe``).
        ConfigError: a setting is out of range.
    """
    p = check_media_file(path)
    _check_positive(keyframes_per_s=keyframes_per_s, still_duration_s=still_duration_s, analysis_fps=analysis_fps)
    _check_shot_settings(cut_threshold=cut_threshold, min_shot_s=min_shot_s)
    if is_photo(p):
        return _analyze_photo(p, still_duration_s=still_duration_s)
    shots, info = _scan_video(p, analysis_fps=analysis_fps, cut_threshold=cut_threshold, min_shot_s=min_shot_s,
                              keyframe_every_s=1.0 / keyframes_per_s)
    return Footage(path=str(path), kind="video", duration_s=shots[-1].end_s, fps=info.fps, width=info.width,
                   height=info.height, rotation=info.rotation, has_audio=info.has_audio, shots=tuple(shots))


def _scan_video(path: Path, *, analysis_fps: float, cut_threshold: float, min_shot_s: float,
                keyframe_every_s: float | None) -> tuple[list[Shot], ProbeInfo]:
    from crossmodal_match.descriptors import scan_shots

    with _open_video(path) as video:
        shots = scan_shots(video, analysis_fps=analysis_fps, cut_threshold=cut_threshold, min_shot_s=min_shot_s,
                           keyframe_every_s=keyframe_every_s, analysis_max_side=ANALYSIS_MAX_SIDE,
                           face_max_side=FACE_MAX_SIDE)
        video.check_complete()
        return shots, video.probe()


def _open_video(path: Path) -> VideoReader:
    # MAX_FRAME_PIXELS is read at each call, so setting footage.MAX_FRAME_PIXELS still changes the limit.
    return VideoReader(path, max_frame_pixels=MAX_FRAME_PIXELS)


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not isinstance(value, (int, float)) or not value > 0:
            raise ConfigError(f"{name} must be a positive number, got {value!r}")


def _check_shot_settings(*, cut_threshold: float, min_shot_s: float) -> None:
    if not 0.0 < cut_threshold <= 1.0:
        raise ConfigError(f"cut_threshold must be in (0, 1], got {cut_threshold!r}")
    if not min_shot_s >= 0.0:
        raise ConfigError(f"min_shot_s must be >= 0 seconds, got {min_shot_s!r}")


def _probe_photo(path: Path) -> ProbeInfo:
    from crossmodal_match.photo import load_photo

    photo = load_photo(path, max_side=ANALYSIS_MAX_SIDE)
    return ProbeInfo(path=str(path), kind="photo", container=photo.format, codec=photo.format, duration_s=0.0,
                     fps=0.0, width=photo.width, height=photo.height, rotation=photo.rotation, has_audio=False)


def _analyze_photo(path: Path, *, still_duration_s: float) -> Footage:
    from crossmodal_match.descriptors import describe_still
    from crossmodal_match.photo import load_photo

    photo = load_photo(path, max_side=FACE_MAX_SIDE)
    shot = describe_still(photo.rgb, duration_s=still_duration_s, analysis_max_side=ANALYSIS_MAX_SIDE)
    return Footage(path=str(path), kind="photo", duration_s=still_duration_s, fps=0.0, width=photo.width,
                   height=photo.height, rotation=photo.rotation, has_audio=False, shots=(shot,))
