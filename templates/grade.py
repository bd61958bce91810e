"""The colour grade of a clip, applied per frame with numpy: cheap enough for every frame of a full render.

Each of the four controls of :class:`~templates.timeline.Grade` is an affine map of RGB, so the whole grade is one
affine map ``rgb @ matrix.T + offset`` (on 0..1 values), computed once per clip. Without saturation change the map
is per channel, and the frame goes through a 256-entry lookup table per channel; otherwise through Pillow's
colour-matrix conversion. Either costs a few milliseconds per 1080x1920 frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from templates.timeline import Grade

if TYPE_CHECKING:
    from collections.abc import Callable

# BT.709 luma weights: the output is tagged BT.709, so "grey" means equal Y' in that system.
LUMA_709 = np.array([0.2126, 0.7152, 0.0722])


def grade_matrix(grade: Grade) -> tuple[np.ndarray, np.ndarray]:
    """The affine map of a grade on RGB values in 0..1.

    The order is brightness and contrast (around mid-grey 0.5), then saturation (around BT.709 luma), then warmth
    (red gain ``1 + warmth``, blue gain ``1 - warmth``, so black stays black).

    Args:
        grade: the clip's grade.

    Returns:
        ``(matrix [shape=(3, 3)], offset [shape=(3,)])`` with ``graded = rgb @ matrix.T + offset``.
    """
    # brightness/contrast: x -> c * (x - 0.5) + 0.5 + b
    matrix = np.eye(3) * grade.contrast
    offset = np.full(3, 0.5 - 0.5 * grade.contrast + grade.brightness)
    # saturation: x -> luma + s * (x - luma), luma = w . x
    sat = grade.saturation * np.eye(3) + (1.0 - grade.saturation) * np.outer(np.ones(3), LUMA_709)
    matrix, offset = sat @ matrix, sat @ offset
    warm = np.diag([1.0 + grade.warmth, 1.0, 1.0 - grade.warmth])
    return warm @ matrix, warm @ offset


def grade_function(grade: Grade) -> Callable[[np.ndarray], np.ndarray] | None:
    """A function applying ``grade`` to frames, or None for the neutral grade (skip it: it is the identity).

    Pillow does the per-pixel work in C: a per-channel lookup table (``Image.point``) when the grade has no
    saturation change, else its affine colour-matrix conversion (``Image.convert("RGB", matrix)``); both round
    and clip to 0..255. A numpy matmul of a 1080x1920 frame by a 3x3 matrix takes several times longer.

    Args:
        grade: the clip's grade.

    Returns:
        ``f(frame) -> frame`` taking and returning np.ndarray [shape=(H, W, 3), uint8, RGB], or None.
    """
    if grade == Grade():
        return None
    matrix, offset = grade_matrix(grade)
    if np.allclose(matrix, np.diag(np.diag(matrix))):
        levels = np.arange(256) / 255.0
        lut = np.concatenate([np.clip(np.rint((levels * matrix[c, c] + offset[c]) * 255.0), 0, 255)
                              for c in range(3)]).astype(int).tolist()
        return lambda frame: np.asarray(Image.fromarray(frame).point(lut))
    # Pillow's matrix is 3 rows of (r, g, b, offset) in 0..255 units
    coefficients = tuple(float(v) for row in range(3) for v in (*matrix[row], offset[row] * 255.0))
    return lambda frame: np.asarray(Image.fromarray(frame).convert("RGB", matrix=coefficients))
