"""Lettering: text overlays drawn with Pillow: wrapping (CJK-aware), fitting into the box, styling, entry animations.

One rasteriser serves the video (the renderer wraps each image in a moviepy ``ImageClip``) and the cover (drawn
straight onto the frame), so the title looks the same in both. The text is wrapped to the overlay's box width,
breaking between words and between CJK characters (never before closing punctuation), and shrunk until it fits the
box height, so it always stays inside the box the template reserved.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFont

from templates.errors import RenderError
from templates.fonts import font_path, missing_glyphs
from templates.timeline import TextOverlay

MIN_FONT_PX = 8
SHRINK_STEP = 0.9
BACKGROUND_PAD = 0.35  # padding of the background box, fraction of the font size
ANIMATION_S = 0.4  # entry animations last this long, or a third of the overlay when it is shorter
SLIDE_FRACTION = 0.5  # slide-up starts this many text-block heights below its place
# Line-breaking rules (a light kinsoku): never start a line with closing punctuation, never end one with opening.
NO_LINE_START = frozenset("，。！？、；：）」』】》〉〕…—～,.!?;:)]}%'\"’”")
NO_LINE_END = frozenset("（「『【《〈〔([{‘“")


@dataclass(frozen=True)
class TextImage:
    """An overlay rasterised at one frame size.

    Attributes:
        rgba: np.ndarray [shape=(h, w, 4), uint8, straight alpha].
        x, y: top-left corner in the frame, pixels (the image lies inside the overlay's box).
        font_px: the font size used after fitting, pixels.
        lines: the wrapped lines.
    """

    rgba: np.ndarray
    x: int
    y: int
    font_px: int
    lines: tuple[str, ...]


def text_image(overlay: TextOverlay, *, frame_size: tuple[int, int]) -> TextImage:
    """Rasterise an overlay for a frame of ``frame_size``.

    Args:
        overlay: the text and its style; ``style.size`` and ``style.stroke`` are fractions of the frame height.
        frame_size: (width, height) of the frame, pixels.

    Returns:
        The styled text block, placed inside the overlay's box (aligned per ``style.align``, centred vertically).

    Raises:
        RenderError: the font is missing, or lacks glyphs for some characters (they would show as boxes), or a
            colour is not ``#rrggbb`` / ``#rrggbbaa``.
    """
    style = overlay.style
    try:
        path = font_path(style.font)
        missing = missing_glyphs(path, overlay.text)
    except Exception as exc:  # TemplateError from the registry: re-raised as a render failure naming the font
        raise RenderError(f"overlay {overlay.text[:30]!r}: {exc}") from exc
    if missing:
        raise RenderError(f"font {style.font!r} has no glyph for {''.join(missing)!r} in overlay "
                          f"{overlay.text[:30]!r}; pick a font that covers them or remove them from the text")
    fill, stroke_fill, background = (_colour(c, overlay) for c in (style.colour, style.stroke_colour,
                                                                   style.background or "#00000000"))
    width, height = frame_size
    bx, by, bw, bh = _box_px(overlay.box, frame_size)
    stroke_px = max(1, round(style.stroke * height)) if style.stroke > 0 else 0
    font, lines, pad = _fit(overlay.text, path, size_px=round(style.size * height), stroke_px=stroke_px,
                            padded=bool(style.background), box_size=(bw, bh))
    line_px = sum(font.getmetrics())
    text_w = max(font.getlength(line) for line in lines)
    img_w = min(bw, round(text_w) + 2 * (pad + stroke_px))
    img_h = min(bh, line_px * len(lines) + 2 * (pad + stroke_px))
    img = Image.new("RGBA", (max(1, img_w), max(1, img_h)), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    if style.background:
        draw.rounded_rectangle((0, 0, img_w - 1, img_h - 1), radius=pad, fill=background)
    ascent = font.getmetrics()[0]
    anchor_x = {"left": pad + stroke_px, "right": img_w - pad - stroke_px}.get(style.align, img_w / 2)
    anchor = {"left": "ls", "right": "rs"}.get(style.align, "ms")
    for i, line in enumerate(lines):
        draw.text((anchor_x, pad + stroke_px + i * line_px + ascent), line, font=font, fill=fill, anchor=anchor,
                  stroke_width=stroke_px, stroke_fill=stroke_fill)
    x = {"left": bx, "right": bx + bw - img_w}.get(style.align, bx + (bw - img_w) // 2)
    y = by + (bh - img_h) // 2
    x, y = min(max(x, 0), width - img_w), min(max(y, 0), height - img_h)
    return TextImage(rgba=np.asarray(img), x=x, y=y, font_px=font.size, lines=tuple(lines))


def _fit(text: str, path: Path, *, size_px: int, stroke_px: int, padded: bool,
         box_size: tuple[int, int]) -> tuple[ImageFont.FreeTypeFont, list[str], int]:
    """The font (shrunk from ``size_px`` as needed), wrapped lines and padding that fit the text in the box.

    At ``MIN_FONT_PX`` the lines that would still overflow are dropped rather than drawn outside the box.
    """
    box_w, box_h = box_size
    font_px = max(MIN_FONT_PX, size_px)
    while True:
        font = font_at(path, font_px)
        pad = round(BACKGROUND_PAD * font_px) if padded else 0
        lines = wrap_text(text, font=font, max_width_px=max(1, box_w - 2 * (pad + stroke_px)))
        line_px = sum(font.getmetrics())
        if line_px * len(lines) + 2 * (pad + stroke_px) <= box_h or font_px <= MIN_FONT_PX:
            return font, lines[: max(1, (box_h - 2 * (pad + stroke_px)) // line_px)], pad
        font_px = max(MIN_FONT_PX, int(font_px * SHRINK_STEP))


def wrap_text(text: str, *, font: ImageFont.FreeTypeFont, max_width_px: int) -> list[str]:
    """Greedy line breaking to ``max_width_px``: between words, between CJK characters, at explicit newlines.

    A word wider than the line is broken between its characters.

    Args:
        text: the text.
        font: the font it is measured with.
        max_width_px: the widest a line may be, pixels.

    Returns:
        The lines (at least one; trailing spaces removed).
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for unit in _break_units(paragraph):
            if not line and unit.isspace():
                continue
            if font.getlength((line + unit).rstrip()) <= max_width_px:
                line += unit
                continue
            if line:
                lines.append(line.rstrip())
            line = ""
            for char in unit.lstrip():  # a unit wider than a whole line: break it anywhere
                if line and font.getlength(line + char) > max_width_px:
                    lines.append(line)
                    line = ""
                line += char
        lines.append(line.rstrip())
    return lines or [""]


def _break_units(text: str) -> list[str]:
    """Split into the pieces a line may break between: words, runs of spaces and single wide (CJK) characters."""
    units: list[str] = []
    for char in text:
        wide = unicodedata.east_asian_width(char) in ("W", "F")
        prev = units[-1] if units else ""
        glue = prev and (char in NO_LINE_START or prev[-1] in NO_LINE_END
                         or (not wide and not char.isspace() and not prev[-1].isspace()
                             and unicodedata.east_asian_width(prev[-1]) not in ("W", "F")))
        if glue:
            units[-1] += char
        else:
            units.append(char)
    merged: list[str] = []
    for unit in units:  # runs of spaces stay one unit so they are dropped at line ends
        if merged and unit.isspace() and merged[-1].isspace():
            merged[-1] += unit
        else:
            merged.append(unit)
    return merged


def animation_state(animation: str, *, t_s: float, duration_s: float) -> tuple[float, float, float]:
    """How an overlay looks ``t_s`` seconds after it appeared.

    Args:
        animation: ``"none"``, ``"fade"``, ``"slide-up"`` or ``"pop"``.
        t_s: seconds since the overlay's start.
        duration_s: how long the overlay shows, seconds.

    Returns:
        ``(opacity in [0, 1], offset down as a fraction of the block height, scale)``; ``(1, 0, 1)`` when settled.
    """
    length = min(ANIMATION_S, duration_s / 3.0)
    if animation == "none" or length <= 0 or t_s >= length:
        return 1.0, 0.0, 1.0
    p = max(t_s / length, 0.0)
    ease = 1.0 - (1.0 - p) ** 3  # ease-out cubic: fast start, soft landing
    if animation == "fade":
        return p, 0.0, 1.0
    if animation == "slide-up":
        return ease, SLIDE_FRACTION * (1.0 - ease), 1.0
    # pop: grow from 70 % past full size, then settle (ease-out-back overshoot)
    back = 1.0 + 2.7 * (p - 1.0) ** 3 + 1.7 * (p - 1.0) ** 2
    return min(1.0, 2.0 * p), 0.0, 0.7 + 0.3 * back


def draw_overlays(frame: np.ndarray, images: list[TextImage]) -> np.ndarray:
    """Alpha-composite settled overlays onto a frame (for covers and stills).

    Args:
        frame: np.ndarray [shape=(H, W, 3), uint8, RGB].
        images: overlays from :func:`text_image` at this frame's size.

    Returns:
        np.ndarray [shape=(H, W, 3), uint8, RGB], a new array.
    """
    canvas = Image.fromarray(frame).convert("RGBA")
    for image in images:
        canvas.alpha_composite(Image.fromarray(image.rgba), dest=(image.x, image.y))
    return np.asarray(canvas.convert("RGB"))


def _box_px(box: tuple[float, float, float, float], frame_size: tuple[int, int]) -> tuple[int, int, int, int]:
    width, height = frame_size
    x, y, w, h = (min(max(v, 0.0), 1.0) for v in box)
    left, top = round(x * width), round(y * height)
    right, bottom = min(width, round((x + w) * width)), min(height, round((y + h) * height))
    return left, top, max(1, right - left), max(1, bottom - top)


def _colour(text: str, overlay: TextOverlay) -> tuple[int, ...]:
    try:
        if not text.startswith("#") or len(text) not in (7, 9):
            raise ValueError(text)
        return ImageColor.getcolor(text, "RGBA")
    except ValueError as exc:
        raise RenderError(f"overlay {overlay.text[:30]!r}: colour {text!r} is not #rrggbb or #rrggbbaa") from exc


@functools.lru_cache(maxsize=32)
def font_at(path: Path, size_px: int) -> ImageFont.FreeTypeFont:
    """The font file at ``size_px`` pixels (cached: captions and every overlay measure with the same objects)."""
    return ImageFont.truetype(str(path), size_px)
