"""What the footage says, as words for the title generator and the matcher.

- An empty brief: the gist of what was said (its first whole sentences within 120 characters) becomes the brief
  for titles, copy and music.
- A brief and speech in the brief's language: titles read both (the brief first, then the gist), so a title can
  name what the creator says on camera; copy and music keep to the creator's own words. Speech in another
  language than the brief is left out of the titles (a title follows the brief's language) and the notes say so.

Transcripts are ``crossmodal_match.transcript.Transcript.to_dict()`` dicts by footage path (plain data; this module
never imports the speech engine).
"""

from __future__ import annotations

import re

from templates.errors import TemplateError

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CHINESE = ("zh", "yue")


def _first_gist(transcripts: dict[str, dict]) -> tuple[str, str]:
    """``(gist, language)`` of the first clip in which something was said; ``("", "")`` when nothing was."""
    from crossmodal_match.transcript import Transcript

    for data in transcripts.values():
        transcript = Transcript.from_dict(data)
        if transcript.has_speech:
            return transcript.gist(), transcript.language
    return "", ""


def brief_from_speech(transcripts: dict[str, dict]) -> str:
    """The gist of the footage's speech, for a draft whose brief was left empty.

    Raises:
        TemplateError: nothing was said either.
    """
    gist, _ = _first_gist(transcripts)
    if not gist:
        raise TemplateError("the brief is empty and no speech was heard in the footage: describe the post in one "
                            "line (it drives titles and matching)")
    return gist


def _is_chinese(text: str) -> bool:
    """More than a third of the visible characters are Han: the brief is written in Chinese."""
    visible = [ch for ch in text if not ch.isspace()]
    return bool(visible) and sum(bool(_HAN.match(ch)) for ch in visible) / len(visible) > 1 / 3


def titles_brief(brief: str, transcripts: dict[str, dict]) -> tuple[str, str | None]:
    """What the title generator reads for ``brief`` when the footage speaks, and a note for the draft.

    Args:
        brief: the creator's brief (not empty).
        transcripts: footage path -> transcript dict.

    Returns:
        ``(text, note)``: the brief joined with the gist of what was said when it is in the brief's language,
        else the brief alone; the note says which (None when nothing was said).
    """
    gist, language = _first_gist(transcripts)
    if not gist or gist in brief:
        return brief, None
    chinese = _is_chinese(brief)
    if chinese != (language in _CHINESE):
        return brief, (f"the footage speaks another language ({language}) than the brief, so the titles follow the "
                       "brief alone")
    stripped = brief.rstrip()
    if chinese:
        joined = stripped + ("" if stripped[-1] in "。！？!?." else "。") + gist
    else:
        joined = stripped + ("" if stripped[-1] in ".!?" else ".") + " " + gist
    return joined, f"the titles read the brief and what was said: {gist!r}"
