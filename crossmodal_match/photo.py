"""Photo decoding: open a still image upright (EXIF orientation applied) and small enough to analyse.

A photo is footage with one still shot (``crossmodal_match.footage``); ``load_photo`` is how its pixels are read.
Pillow (and, for HEIC/HEIF, the optional ``pillow-heif``) is imported inside the functions that need it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from crossmodal_match.errors import InvalidMediaError

if TYPE_CHECKING:
    from pathlib import Path

HEIF_EXTENSIONS = frozenset({".heic", ".heif"})


@dataclass(frozen=True)
class LoadedPhoto:
    """A photo decoded for analysis.

    Attributes:
        rgb: np.ndarray [shape=(H, W, 3), uint8, RGB], upright, no larger than asked.
        width, height: the photo's full size in pixels as displayed (after rotation).
        rotation: counter-clockwise degrees (0, 90, 180, 270) from the EXIF orientation.
        format: Pillow's format name ("JPEG", "PNG", "WEBP", "HEIF" ...).
    """

    rgb: np.ndarray
    width: int
    height: int
    rotation: int
    format: str


# EXIF orientation -> counter-clockwise degrees the stored picture is turned for display (mirrors ignored).
_EXIF_ROTATION = {3: 180, 4: 180, 5: 90, 6: 270, 7: 270, 8: 90}


def load_photo(path: Path, *, max_side: int) -> LoadedPhoto:
    """Decode a photo upright (EXIF orientation applied), downscaled to ``max_side`` on its long side.

    JPEGs are decoded at reduced scale straight away (Pillow's draft mode), so a 50 MP photo never exists at
    full size in memory.

    Args:
        path: an existing, non-empty image file.
        max_side: long side in pixels of the returned ``rgb`` (never upscaled).

    Returns:
        LoadedPhoto.

    Raises:
        InvalidMediaError: not an image, corrupt or truncated, too large, or HEIC without ``pillow-heif``.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if path.suffix.lower() in HEIF_EXTENSIONS:
        _register_heif(path)
    try:
        with Image.open(path) as img:
            fmt, (width, height) = img.format or path.suffix.lstrip(".").upper(), img.size
            rotation = _EXIF_ROTATION.get(img.getexif().get(0x0112, 1), 0)
            img.draft("RGB", (max_side, max_side))  # JPEG decodes at 1/2-1/8 scale: no full-size buffer
            upright = ImageOps.exif_transpose(img).convert("RGB")
            upright.thumbnail((max_side, max_side), Image.Resampling.BOX)
            rgb = np.asarray(upright)
    except UnidentifiedImageError as exc:
        raise InvalidMediaError(path, "not a readable image (unrecognised data)") from exc
    except Image.DecompressionBombError as exc:
        raise InvalidMediaError(path, f"image is too large to analyse safely ({exc})") from exc
    except (OSError, SyntaxError, ValueError) as exc:  # Pillow's "truncated", "broken PNG file" ...
        raise InvalidMediaError(path, f"image data is corrupt or truncated ({exc})") from exc
    if rotation in (90, 270):
        width, height = height, width
    return LoadedPhoto(rgb=rgb, width=width, height=height, rotation=rotation, format=fmt)


def _register_heif(path: Path) -> None:
    try:
        import pillow_heif
    except ImportError as exc:
        raise InvalidMediaError(path, "HEIC/HEIF photos need the optional package 'pillow-heif' "
                                      "(pip install pillow-heif)") from exc
    pillow_heif.register_heif_opener()
