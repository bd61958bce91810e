"""SubRip (.srt) and WebVTT (.vtt) captions of a draft, from its title and caption overlays, so platforms and
players can show them as text. Where the template captions the footage's speech, the caption overlays are the
word-timed cues of ``templates.speech_captions``, so these files carry what was said.

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


def vtt_timestamp(t_s: float) -> str:
    """``HH:MM:SS.mmm`` for a time in seconds (WebVTT's form of :func:`srt_timestamp`)."""
    return srt_timestamp(t_s).replace(",", ".")


def caption_cues(timeline: Timeline) -> list[tuple[float, float, list[str]]]:
    """The timeline's title and caption overlays as ``(start_s, end_s, lines)``, in order of start time.

    Overlays are clamped to ``[0, duration_s]``; empty or zero-length ones are skipped; blank lines inside a text
    are removed (a blank line ends a cue in both formats).
    """
    cues = []
    shown = sorted((o for o in timeline.overlays if o.kind in CAPTION_KINDS), key=lambda o: (o.start_s, o.end_s))
    for overlay in shown:
        start, end = max(0.0, overlay.start_s), min(timeline.duration_s, overlay.end_s)
        lines = [line.strip() for line in overlay.text.splitlines() if line.strip()]
        if lines and round(end * 1000) > round(start * 1000):
            cues.append((start, end, lines))
    return cues


def srt_text(timeline: Timeline) -> str:
    """The .srt content of :func:`caption_cues` (``\\n`` line ends; empty when there is nothing to caption)."""
    blocks = [f"{i}\n{srt_timestamp(start)} --> {srt_timestamp(end)}\n" + "\n".join(lines) + "\n"
              for i, (start, end, lines) in enumerate(caption_cues(timeline), start=1)]
    return "\n".join(blocks)


def vtt_text(timeline: Timeline) -> str:
    """The .vtt content of :func:`caption_cues`: the ``WEBVTT`` header, then one block per cue ("-->" inside a
    text, which would end a cue's timing line, is written "->")."""
    blocks = [f"{vtt_timestamp(start)} --> {vtt_timestamp(end)}\n" + "\n".join(l.replace("-->", "->") for l in lines)
              + "\n" for start, end, lines in caption_cues(timeline)]
    return "\n".join(["WEBVTT\n", *blocks])


def write_srt(timeline: Timeline, out_path: str | os.PathLike[str]) -> Path:
    """Write the draft's captions as a UTF-8 .srt file (see :func:`write_captions`)."""
    return write_captions(srt_text(timeline), out_path)


def write_vtt(timeline: Timeline, out_path: str | os.PathLike[str]) -> Path:
    """Write the draft's captions as a UTF-8 .vtt file (see :func:`write_captions`)."""
    return write_captions(vtt_text(timeline), out_path)


def write_captions(text: str, out_path: str | os.PathLike[str]) -> Path:
    """Write caption text as UTF-8, atomically (temp file in the same folder + ``os.replace``).

    Args:
        text: from :func:`srt_text` or :func:`vtt_text`.
        out_path: the file to write; its folder must exist.

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
                handle.write(text)
            os.replace(tmp, out)  # readers see the old file or the whole new one
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    except OSError as exc:
        raise RenderError(f"cannot write captions to {str(out)!r}: {exc}") from exc
    return out
