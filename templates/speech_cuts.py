"""Cuts that respect the words: in a speech-led draft, a cut never lands inside a spoken word if a beat nearby
falls in a pause.

A boundary between two clips is *seen* when the picture and the sound jump there (another source, or the same one
not carrying on from where the previous clip stopped); a boundary where one take simply plays on is not a cut
anyone notices. A seen cut is *inside a word* when the outgoing clip stops, or the incoming clip starts, strictly
inside a word of its source's transcript. Such a cut is moved to the nearest of the next ``SEARCH_BEATS`` beats on
either side where both sides fall in a pause (the outgoing shot is held longer, or left earlier); when no such
beat exists the cut stays, and is counted.

Transcripts are ``crossmodal_match.transcript.Transcript`` (plain data).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from templates.timeline import TimelineClip

SEARCH_BEATS = 4  # beats tried on each side of a cut inside a word
MARGIN_S = 0.02  # a cut this close to a word's edge is in the pause (Whisper's word edges are ~20 ms grained)
MIN_CLIP_S = 0.5  # moving a cut never leaves a clip shorter than this
_TOL_S = 1e-3


def inside_word(transcript, t_s: float) -> bool:
    """True when ``t_s`` (seconds on the source's clock) falls strictly inside one of the transcript's words."""
    return transcript is not None and any(w.start_s + MARGIN_S < t_s < w.end_s - MARGIN_S for w in transcript.words)


def pause_beat(transcript, *, src_start_s: float, beats_s: Sequence[float], first: int, last: int, limit: int,
               max_src_s: float) -> int:
    """Where a slot that plays a source from ``src_start_s`` at beat ``first`` should end so it stops in a pause.

    Args:
        transcript: the source's ``Transcript`` (None: any end will do).
        src_start_s: the slot's start on the source's clock, seconds.
        beats_s: the draft's beats; ``first``/``last``: the slot's planned beat indices.
        limit: the slot may end no later than the beat before this index (the next slot keeps a beat).
        max_src_s: the source's length; the slot may not run past it.

    Returns:
        ``last`` when it already ends in a pause (or nothing nearer does), else the nearest beat index within
        ``SEARCH_BEATS`` that does, a later one (holding the shot) on a tie.
    """
    def ends_in_pause(j: int) -> bool:
        t = src_start_s + beats_s[j] - beats_s[first]
        return t <= max_src_s + _TOL_S and not inside_word(transcript, t)

    if transcript is None or ends_in_pause(last):
        return last
    candidates = [j for j in range(max(first + 1, last - SEARCH_BEATS), min(limit, last + SEARCH_BEATS + 1))
                  if j != last]
    return next((j for j in sorted(candidates, key=lambda j: (abs(j - last), -j)) if ends_in_pause(j)), last)


def seen_cuts(clips: Sequence[TimelineClip]) -> list[int]:
    """Indices ``k`` of the clips that start with a seen cut (their source jumps from clip ``k - 1``'s)."""
    return [k for k in range(1, len(clips))
            if not (clips[k].source == clips[k - 1].source and clips[k].kind == "video"
                    and abs(clips[k].src_start_s - clips[k - 1].src_end_s) < _TOL_S)]


def cuts_inside_words(clips: Sequence[TimelineClip], transcripts: Mapping[str, object]) -> int:
    """How many seen cuts stop or start a clip inside a word."""
    return sum(_splits_a_word(clips[k - 1], clips[k], transcripts, shift_s=0.0) for k in seen_cuts(clips))


def snap_cuts(clips: Sequence[TimelineClip], transcripts: Mapping[str, object], beats_s: Sequence[float],
              durations_s: Mapping[str, float]) -> tuple[list[TimelineClip], dict]:
    """Move seen cuts that split a word to the nearest beat where both sides are in a pause.

    Args:
        clips: the timeline's clips in order.
        transcripts: source path -> ``Transcript``.
        beats_s: the draft's beat times, seconds.
        durations_s: source path -> its length, seconds (a held clip cannot run past its source's end).

    Returns:
        The clips (moved ones replaced) and a report: ``seen_cuts``, ``inside_words_before``,
        ``inside_words_after``, ``moved``.
    """
    clips = list(clips)
    cuts = seen_cuts(clips)
    before = moved = 0
    for k in cuts:
        if not _splits_a_word(clips[k - 1], clips[k], transcripts, shift_s=0.0):
            continue
        before += 1
        for shift in _shifts(clips[k - 1], clips[k], beats_s):
            prev, cur = clips[k - 1], clips[k]
            if prev.kind == "video" and prev.src_end_s + shift > durations_s.get(prev.source, float("inf")) + _TOL_S:
                continue
            if cur.kind == "video" and cur.src_start_s + shift < -_TOL_S:
                continue
            if not _splits_a_word(prev, cur, transcripts, shift_s=shift):
                clips[k - 1] = dataclasses.replace(prev, end_s=prev.end_s + shift, src_end_s=prev.src_end_s + shift)
                clips[k] = dataclasses.replace(cur, start_s=cur.start_s + shift, src_start_s=cur.src_start_s + shift)
                moved += 1
                break
    return clips, {"seen_cuts": len(cuts), "inside_words_before": before, "moved": moved,
                   "inside_words_after": cuts_inside_words(clips, transcripts)}


def _splits_a_word(prev: TimelineClip, cur: TimelineClip, transcripts: Mapping[str, object], *,
                   shift_s: float) -> bool:
    out = prev.kind == "video" and inside_word(transcripts.get(prev.source), prev.src_end_s + shift_s)
    return out or (cur.kind == "video" and inside_word(transcripts.get(cur.source), cur.src_start_s + shift_s))


def _shifts(prev: TimelineClip, cur: TimelineClip, beats_s: Sequence[float]) -> list[float]:
    """Offsets to the beats within ``SEARCH_BEATS`` of the cut that keep both clips at least ``MIN_CLIP_S``,
    nearest first."""
    cut = cur.start_s
    later = [b - cut for b in beats_s if cut + _TOL_S < b <= cur.end_s - MIN_CLIP_S][:SEARCH_BEATS]
    earlier = [b - cut for b in reversed(beats_s) if prev.start_s + MIN_CLIP_S <= b < cut - _TOL_S][:SEARCH_BEATS]
    return sorted(later + earlier, key=abs)
