"""Framing a source picture into the output frame: crop box, Ken Burns zoom and cover-fit, in one resample.

A timeline clip keeps ``crop`` (fractions of the source) and asks for the output size. When the crop's aspect
differs from the output's, the crop is trimmed around its centre to the output's aspect (cover-fit: never stretched,
never letterboxed). A Ken Burns move then shrinks that window around its centre over the clip's time. The window
is a float box in source pixels, so PIL crops and scales in one antialiased resample and slow zooms do not jitter.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from templates.errors import RenderError

KENBURNS_ZOOM = 1.12  # the tightest framing of a Ken Burns move, relative to the crop: slow enough to feel calm


def zoom_at(*, motion: str, t_s: float, duration_s: float) -> float:
    """Zoom factor (>= 1, 1 = the whole crop) of a clip's framing at clip time ``t_s``.

    Args:
        motion: ``"none"``, ``"kenburns-in"`` (1 -> KENBURNS_ZOOM) or ``"kenburns-out"`` (KENBURNS_ZOOM -> 1).
        t_s: seconds since the clip started; clamped to [0, duration_s].
        duration_s: the clip's length on the timeline, seconds.

    Returns:
        The zoom factor.
    """
    if motion == "none" or duration_s <= 0:
        return 1.0
    progress = min(max(t_s / duration_s, 0.0), 1.0)
    progress = progress * progress * (3.0 - 2.0 * progress)  # smoothstep: the move eases in and out
    if motion == "kenburns-out":
        progress = 1.0 - progress
    return 1.0 + (KENBURNS_ZOOM - 1.0) * progress


def window(*, source_size: tuple[int, int], crop: tuple[float, float, float, float],
           out_size: tuple[int, int], zoom: float = 1.0) -> tuple[float, float, float, float]:
    """The box of the source shown in the output frame.

    Args:
        source_size: source (width, height), pixels.
        crop: ``(x, y, w, h)`` of the source kept, fractions of its width and height; clamped into the frame.
        out_size: output (width, height), pixels.
        zoom: >= 1; the box shrinks by this factor around its centre.

    Returns:
        ``(left, top, right, bottom)`` in source pixels (floats), with the output's aspect ratio.
    """
    src_w, src_h = source_size
    x, y, w, h = (min(max(v, 0.0), 1.0) for v in crop)
    w, h = max(min(w, 1.0 - x), 1e-6), max(min(h, 1.0 - y), 1e-6)
    left, top, box_w, box_h = x * src_w, y * src_h, w * src_w, h * src_h
    target = out_size[0] / out_size[1]
    if box_w / box_h > target:  # too wide: trim the sides
        left += (box_w - box_h * target) / 2.0
        box_w = box_h * target
    else:  # too tall: trim top and bottom
        top += (box_h - box_w / target) / 2.0
        box_h = box_w / target
    zoom = max(zoom, 1.0)
    cx, cy = left + box_w / 2.0, top + box_h / 2.0
    half_w, half_h = box_w / (2.0 * zoom), box_h / (2.0 * zoom)
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def frame_to_output(picture: np.ndarray | Image.Image, *, box: tuple[float, float, float, float],
                    out_size: tuple[int, int]) -> np.ndarray:
    """Crop ``box`` out of ``picture`` and scale it to ``out_size`` in one antialiased resample.

    A box already of the output size (within half a pixel: a clip without motion whose source was decoded or
    prepared at the output's scale) is cut out by slicing, which is twenty times cheaper than resampling.

    Args:
        picture: np.ndarray [shape=(H, W, 3), uint8, RGB] or an RGB PIL image.
        box: ``(left, top, right, bottom)`` in picture pixels, from :func:`window`.
        out_size: output (width, height), pixels.

    Returns:
        np.ndarray [shape=(out_h, out_w, 3), uint8, RGB].
    """
    out_w, out_h = out_size
    left, top, right, bottom = box
    if abs(right - left - out_w) <= 0.5 and abs(bottom - top - out_h) <= 0.5:
        array = np.asarray(picture)
        x = min(max(round(left), 0), array.shape[1] - out_w)
        y = min(max(round(top), 0), array.shape[0] - out_h)
        if x >= 0 and y >= 0:
            return np.ascontiguousarray(array[y:y + out_h, x:x + out_w, :3])
    img = picture if isinstance(picture, Image.Image) else Image.fromarray(picture)
    # reducing_gap halves large downscales with a cheap box filter first: same look, much faster on 4K sources
    out = img.resize(out_size, resample=Image.Resampling.BILINEAR, box=box, reducing_gap=2.0)
    return np.asarray(out)


def frame_picture(picture: np.ndarray | Image.Image, *, crop: tuple[float, float, float, float],
                  out_size: tuple[int, int], zoom: float = 1.0) -> np.ndarray:
    """A source picture framed for the output: :func:`window` then :func:`frame_to_output`.

    Args:
        picture: np.ndarray [shape=(H, W, 3), uint8, RGB] or an RGB PIL image, any size.
        crop: the clip's crop box, fractions of the picture.
        out_size: output (width, height), pixels.
        zoom: Ken Burns zoom from :func:`zoom_at`.

    Returns:
        np.ndarray [shape=(out_h, out_w, 3), uint8, RGB].
    """
    size = picture.size if isinstance(picture, Image.Image) else (picture.shape[1], picture.shape[0])
    box = window(source_size=size, crop=crop, out_size=out_size, zoom=zoom)
    return frame_to_output(picture, box=box, out_size=out_size)


def decode_scale(*, source_size: tuple[int, int], crop: tuple[float, float, float, float],
                 out_size: tuple[int, int], motion: str) -> float:
    """The scale to bring a source to before framing, so a clip's widest window is exactly the output size
    (``KENBURNS_ZOOM`` times it for a Ken Burns move, whose tighter windows then still have full detail).

    Args:
        source_size: source (width, height), pixels, as displayed.
        crop: the clip's crop box, fractions.
        out_size: output (width, height), pixels.
        motion: the clip's motion.

    Returns:
        Scale factor (> 1 enlarges).
    """
    left, _, right, _ = window(source_size=source_size, crop=crop, out_size=out_size)
    return out_size[0] * (KENBURNS_ZOOM if motion != "none" else 1.0) / max(right - left, 1e-6)


def prepare_photo(img: Image.Image, *, crop: tuple[float, float, float, float], out_size: tuple[int, int],
                  motion: str) -> Image.Image:
    """Scale a photo once (Lanczos) by :func:`decode_scale`: a still photo's frames are then plain crops, and a
    Ken Burns move resamples at most ``KENBURNS_ZOOM`` times the output per frame, whatever the photo's size.

    Args:
        img: the RGB photo, orientation applied.
        crop: the clip's crop box, fractions.
        out_size: output (width, height), pixels.
        motion: the clip's motion.

    Returns:
        The RGB image the clip's frames are cut from (the whole photo, scaled).
    """
    scale = decode_scale(source_size=img.size, crop=crop, out_size=out_size, motion=motion)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    if size == img.size:
        return img
    return img.resize(size, resample=Image.Resampling.LANCZOS, reducing_gap=3.0)


def read_photo(path: Path) -> Image.Image:
    """An RGB photo as it is meant to be seen (EXIF orientation applied); HEIC/HEIF with the ``heic`` extra.

    Raises:
        RenderError: a HEIC photo without pillow-heif installed.
        OSError: PIL cannot read the file.
    """
    if path.suffix.lower() in (".heic", ".heif"):
        try:
            import pillow_heif
        except ImportError as exc:
            raise RenderError(f'photo {str(path)!r}: HEIC needs pillow-heif: pip install "creator-studio[heic]"') \
                from exc
        pillow_heif.register_heif_opener()
    with Image.open(path) as img:
        return ImageOps.exif_transpose(img).convert("RGB")
