"""Soundtracks composed for a draft, offline: to its length, tempo and mood, in a style, from a seed.

    from crossmodal_match.compose import compose_track, list_styles
    track = compose_track(length_s=24.0, bpm=96, style="lo-fi", valence=0.7, arousal=0.4, seed=3)
    track.write_wav("soundtrack.wav")      # 16-bit stereo, -14 LUFS, true peak <= -1 dBTP
    track.beats_s                          # the exact beat grid, seconds

Harmony, rhythm, bass, melody and drums are composed per section (``harmony``, ``patterns``, ``melody``), played
by numpy instruments (``synth``, ``drums``), mixed (``mix``) and mastered (``master``); nothing is sampled, so the
output is free of third-party rights (``track.LICENCE``). Styles are JSON presets in ``styles/`` (``style``).
``catalogue`` caches composed tracks by their parameters and makes the matcher's composed candidates.
Pure numpy/scipy: no librosa, no torch.
"""

from __future__ import annotations

from crossmodal_match.compose.composer import (COMPOSER_VERSION, MAX_BPM, MAX_LENGTH_S, MIN_BPM, MIN_LENGTH_S,
                                               compose_track, fit_bars, plan_sections)
from crossmodal_match.compose.style import StyleSpec, get_style, list_styles
from crossmodal_match.compose.track import LICENCE, ComposedTrack

__all__ = ["COMPOSER_VERSION", "LICENCE", "MAX_BPM", "MAX_LENGTH_S", "MIN_BPM", "MIN_LENGTH_S", "ComposedTrack",
           "StyleSpec", "compose_track", "fit_bars", "get_style", "list_styles", "plan_sections"]
