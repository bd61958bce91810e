"""SubRip (.srt) captions of a draft, from its title and caption overlays, so platforms can show them as text.

Cards (intro/outro/numbered) are picture, not speech or description, so they stay out of the captions.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from templates.errors import RenderError
from templates.timeline import Timeline

CAPTION_KINDS = ("title", "caption")


def srt_timestamp(t_s: float) -> str:
    """``HH:MM:SS,mmm`` for a time in seconds (negative times clamp to 0), rounded to the millisecond."""
    ms = max(0, round(t_s * 1000.0))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    seconds, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d},{ms:03d}"


def srt_text(timeline: Timeline) -> str:
    """The .srt content for a timeline's title and caption overlays, in order of start time.

    Overlays are clamped to ``[0, duration_s]``; empty or zero-length ones are skipped; blank lines inside a text
    are removed (a blank line ends an SRT cue).

    Args:
        timeline: the draft.

    Returns:
        SRT text (``\\n`` line ends; empty string when there is nothing to caption).
    """
    cues = []
    shown = sorted((o for o in timeline.overlays if o.kind in CAPTION_KINDS), key=lambda o: (o.start_s, o.end_s))
    for overlay in shown:
        start, end = max(0.0, overlay.start_s), min(timeline.duration_s, overlay.end_s)
        lines = [line.strip() for line in overlay.text.splitlines() if line.strip()]
        if lines and round(end * 1000) > round(start * 1000):
            cues.append((start, end, lines))
    blocks = [f"{i}\n{srt_timestamp(start)} --> {srt_timestamp(end)}\n" + "\n".join(lines) + "\n"
              for i, (start, end, lines) in enumerate(cues, start=1)]
    return "\n".join(blocks)


def write_srt(timeline: Timeline, out_path: str | os.PathLike[str]) -> Path:
    """Write the draft's captions as a UTF-8 .srt file, atomically (temp file in the same folder + ``os.replace``).

    Args:
        timeline: the draft.
        out_path: the .srt file to write; its folder must exist.

    Returns:
        ``out_path`` as a Path.

    Raises:
        RenderError: the folder does not exist or is not writable.
    """
    out = Path(out_path)
    if not out.parent.is_dir():
        raise RenderError(f"cannot write captions to {str(out)!r}: folder {str(out.parent)!r} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(srt_text(timeline))
            os.replace(tmp, out)  # readers see the old file or the whole new one
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    except OSError as exc:
        raise RenderError(f"cannot write captions to {str(out)!r}: {exc}") from exc
    return out
