"""Word-timed captions: what the footage says, placed on the draft's clock and cut into cues that fit the frame.

A draft re-orders and trims its footage, so the words are first carried from each source's clock onto the
draft's through the clips that show them (a word plays where its clip plays it; words of footage a clip does not
use are not captioned). They are then grouped into cues, one after another, never two at once. A cue ends
- where the speech jumps (the next word comes from another clip: the cut broke the sentence),
- at a pause longer than ``MAX_PAUSE_S`` or after a sentence's end (. ! ? 。！？),
- when one more word would need a third line at the template's caption size in its box (the lines are broken
  as the renderer breaks them, ``templates.lettering.wrap_text``: between Latin words and between CJK
  characters, never before closing punctuation), or the cue would last over ``MAX_CUE_S``.
A cue shows from its first word's start to its last word's end, held up to ``HOLD_S`` longer when the next cue
is not due yet, so short words stay readable.

Transcripts are ``crossmodal_match.transcript.Transcript`` (plain data; this module never imports the speech
engine).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from templates.errors import RenderError, TemplateError
from templates.fonts import font_path
from templates.lettering import BACKGROUND_PAD, font_at, wrap_text
from templates.timeline import TextOverlay, TextStyle, TimelineClip

MAX_LINES = 2
MAX_PAUSE_S = 0.8  # a longer silence ends the cue: the next words start a new thought
MAX_CUE_S = 5.0  # a reader needs new text at least this often
HOLD_S = 0.6  # a cue stays up this much past its last word unless the next one starts first
_SENTENCE_END = tuple(".!?。！？")


@dataclass(frozen=True)
class SpokenWord:
    """A word on the draft's clock.

    Attributes:
        start_s, end_s: when it plays in the draft, seconds.
        text: as transcribed (Latin words carry their leading space).
        clip: index of the clip that plays it.
    """

    start_s: float
    end_s: float
    text: str
    clip: int


def words_on_timeline(clips: Sequence[TimelineClip], transcripts: Mapping[str, object]) -> list[SpokenWord]:
    """The words each clip plays, moved onto the draft's clock, in draft order.

    A word is kept when its middle lies inside the clip's source window; its times are clamped to the clip.

    Args:
        clips: the timeline's clips.
        transcripts: source path -> ``Transcript`` (sources without one, and photos, have no words).

    Returns:
        list of SpokenWord sorted by start time.
    """
    out = []
    for i, clip in enumerate(clips):
        transcript = transcripts.get(clip.source)
        if clip.kind != "video" or transcript is None:
            continue
        shift = clip.start_s - clip.src_start_s
        for word in transcript.words:
            middle = (word.start_s + word.end_s) / 2
            if clip.src_start_s <= middle < clip.src_end_s and word.text.strip():
                start = min(max(word.start_s + shift, clip.start_s), clip.end_s)
                out.append(SpokenWord(start, min(max(word.end_s + shift, start), clip.end_s), word.text, i))
    return sorted(out, key=lambda w: w.start_s)


def caption_cues(words: Sequence[SpokenWord], *, style: TextStyle, box: tuple[float, float, float, float],
                 frame_size: tuple[int, int], end_s: float) -> list[TextOverlay]:
    """Group spoken words into caption overlays of at most two lines each (see the module docstring).

    Args:
        words: from :func:`words_on_timeline`.
        style: the template's caption style (its ``size`` is the font height as a fraction of the frame height).
        box: the caption box, fractions of the frame.
        frame_size: (width, height) of the draft, pixels.
        end_s: the draft's length; no cue runs past it.

    Returns:
        list of TextOverlay (kind ``"caption"``) in time order, none overlapping.

    Raises:
        TemplateError: the caption font is not installed.
    """
    if not words:
        return []
    try:
        font = font_at(font_path(style.font), max(1, round(style.size * frame_size[1])))
    except (TemplateError, RenderError, OSError) as exc:
        raise TemplateError(f"cannot measure captions in font {style.font!r}: {exc}") from exc
    stroke_px = max(1, round(style.stroke * frame_size[1])) if style.stroke > 0 else 0
    pad = round(BACKGROUND_PAD * font.size) if style.background else 0
    width_px = max(1, round(box[2] * frame_size[0]) - 2 * (pad + stroke_px))
    groups: list[list[SpokenWord]] = [[words[0]]]
    for word in words[1:]:
        group = groups[-1]
        text = _join(group + [word])
        if (word.clip != group[-1].clip or word.start_s - group[-1].end_s > MAX_PAUSE_S
                or group[-1].text.rstrip().endswith(_SENTENCE_END) or word.end_s - group[0].start_s > MAX_CUE_S
                or len(wrap_text(text, font=font, max_width_px=width_px)) > MAX_LINES):
            groups.append([word])
        else:
            group.append(word)
    cues = []
    for k, group in enumerate(groups):
        start = group[0].start_s
        next_start = groups[k + 1][0].start_s if k + 1 < len(groups) else end_s
        stop = min(max(group[-1].end_s + HOLD_S, start + 0.05), next_start, end_s)
        if stop > start:
            cues.append(TextOverlay(text=_join(group), kind="caption", start_s=start, end_s=stop, box=box,
                                    style=style))
    return cues


def _join(words: Sequence[SpokenWord]) -> str:
    """The words as one line: Whisper gives Latin words their leading space and CJK ones none."""
    return "".join(w.text for w in words).strip()
