"""``compose_track``: a soundtrack composed for a draft, to its length, tempo and mood, in a style, from a seed.

How a length becomes bars (the rule the docs state): a bar is 4 beats at ``bpm``. When a whole number of bars
fits ``length_s`` with the tempo nudged by at most ``NUDGE`` (2 %), the tempo is nudged and the track is exactly
those bars: its last downbeat is its last sample. Otherwise the tempo is kept, the track holds the whole bars that
fit, and the rest (under a bar) is the final chord's ring-out. A length shorter than one bar is one bar at the
tempo that fills it (clamped to 50-200 bpm). The draft maker always asks for a whole number of bars at the grid's
tempo, so a draft's soundtrack is never nudged. Either way the track is exactly ``round(length_s * sr)`` samples,
the last bar is the ending (the tonic chord struck on its downbeat with a crash, a soft pulse, a fade over its last
beat to digital silence), and the beat grid is exact by construction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from crossmodal_match.compose.harmony import Key, choose_key, progression, section_numerals, style_number
from crossmodal_match.compose.master import master
from crossmodal_match.compose.melody import MelodyWriter
from crossmodal_match.compose.mix import fade_edges, mixdown, render_parts
from crossmodal_match.compose.patterns import BarPlan, Events, bass_bar, chord_bar, drum_bar, pad_bar
from crossmodal_match.compose.style import StyleSpec, get_style
from crossmodal_match.compose.track import ComposedTrack
from crossmodal_match.errors import ComposeError

COMPOSER_VERSION = 1  # changes whenever the same parameters would give other audio (cache keys carry it)
MIN_LENGTH_S, MAX_LENGTH_S = 2.0, 600.0
MIN_BPM, MAX_BPM = 50.0, 200.0
SAMPLE_RATES = (16000, 22050, 24000, 32000, 44100, 48000)
NUDGE = 0.02
SECTION_LABELS = ("intro", "body", "outro", "verse", "chorus", "bridge", "ending")
_ENERGY = {"intro": 1, "verse": 2, "chorus": 3, "bridge": 1, "ending": 4}


def _check(*, length_s, bpm, valence, arousal, seed, sr) -> None:
    def number(x) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)

    if not (number(length_s) and MIN_LENGTH_S <= length_s <= MAX_LENGTH_S):
        raise ComposeError("length_s", length_s, f"seconds in [{MIN_LENGTH_S:g}, {MAX_LENGTH_S:g}]")
    if not (number(bpm) and MIN_BPM <= bpm <= MAX_BPM):
        raise ComposeError("bpm", bpm, f"beats per minute in [{MIN_BPM:g}, {MAX_BPM:g}]")
    for name, value in (("valence", valence), ("arousal", arousal)):
        if not (number(value) and 0.0 <= value <= 1.0):
            raise ComposeError(name, value, "in [0, 1] (the matcher's feel scale)")
    if not (isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2 ** 32):
        raise ComposeError("seed", seed, "an integer in [0, 2**32)")
    if sr not in SAMPLE_RATES:
        raise ComposeError("sr", sr, f"one of {list(SAMPLE_RATES)} Hz")


def fit_bars(*, length_s: float, bpm: float) -> tuple[int, float]:
    """``(bars, tempo bpm)`` of a track of ``length_s`` seconds asked at ``bpm`` (the rule in the module docstring)."""
    bar_s = 240.0 / bpm
    n = round(length_s / bar_s)
    if n >= 1 and abs(n * bar_s - length_s) <= NUDGE * length_s:
        return n, 240.0 * n / length_s
    n = math.floor(length_s / bar_s)
    if n >= 1:
        return n, float(bpm)
    return 1, float(min(MAX_BPM, max(MIN_BPM, 240.0 / length_s)))


def _body(bars: int) -> list[tuple[str, int]]:
    """Split a body of ``bars`` into phrases (8 bars in a long track, else 4) labelled so that it ends on a chorus,
    with a bridge before the last chorus when there are five phrases or more."""
    if bars <= 0:
        return []
    if bars <= 4:
        return [("chorus", bars)]
    size = 8 if bars >= 24 else 4
    chunks = [size] * (bars // size)
    if bars % size:
        if bars % size >= 2:
            chunks.append(bars % size)
        else:
            chunks[-1] += bars % size
    labels = ["chorus" if (len(chunks) - 1 - i) % 2 == 0 else "verse" for i in range(len(chunks))]
    if len(chunks) >= 5:
        labels[-2] = "bridge"
    return list(zip(labels, chunks))


def plan_sections(n_bars: int, sections: Sequence[tuple[str, int]] | None = None) -> list[tuple[str, int]]:
    """The arrangement's sections as ``(label, bars)``, labels among intro, verse, chorus, bridge and ending.

    Args:
        n_bars: the track's bars (>= 1).
        sections: the template's sections, ``(label, bars)`` with labels in ``SECTION_LABELS``: an "intro" stays
            an intro, a "body" is split into verse/chorus phrases, an "outro" becomes a last chorus and the ending
            bar; None: an intro of 1-2 bars, the body, one ending bar.

    Raises:
        ComposeError: an unknown label, a negative count, or bars that do not add up to ``n_bars``.
    """
    if sections is None:
        intro = 0 if n_bars < 4 else 1 if n_bars < 12 else 2
        sections = [("intro", intro), ("body", n_bars - intro - 1), ("outro", 1)] if n_bars > 1 else [("outro", 1)]
    sections = [(str(label), bars) for label, bars in sections]
    bad = [s for s in sections if s[0] not in SECTION_LABELS or not isinstance(s[1], int) or s[1] < 0]
    if bad or sum(b for _, b in sections) != n_bars:
        raise ComposeError("sections", sections, f"(label, bars) pairs, labels in {list(SECTION_LABELS)}, "
                           f"bars adding up to the track's {n_bars} bars")
    out: list[tuple[str, int]] = []
    for label, bars in sections:
        if bars == 0:
            continue
        if label == "body":
            out += _body(bars)
        elif label == "outro":
            out += [("chorus", bars - 1)] * (bars > 1) + [("ending", 1)]
        else:
            out.append((label, bars))
    if out[-1][0] != "ending":  # the last bar always lands as the ending
        label, bars = out.pop()
        out += [(label, bars - 1)] * (bars > 1) + [("ending", 1)]
    return out


def _bars(spec: StyleSpec, key: Key, plan: list[tuple[str, int]], *, bar_s: float,
          rng: np.random.Generator) -> list[BarPlan]:
    """Every bar of the track with its section, energy and chord (voice-led across the whole track)."""
    chosen: dict[str, tuple[str, ...]] = {}
    numerals, labels, firsts, lasts = [], [], [], []
    for label, bars in plan:
        numerals += section_numerals(spec.progressions[key.mode], bars=bars, label=label, key=key, rng=rng,
                                     chosen=chosen)
        labels += [label] * bars
        firsts += [True] + [False] * (bars - 1)
        lasts += [False] * (bars - 1) + [True]
    chords = progression(numerals, key, extensions=spec.extensions, rng=rng)
    return [BarPlan(index=i, label=labels[i], energy=_ENERGY[labels[i]], start_s=i * bar_s, first=firsts[i],
                    last=lasts[i], chord=chords[i], next_chord=chords[min(i + 1, len(chords) - 1)])
            for i in range(len(chords))]


def _events(spec: StyleSpec, key: Key, bars: list[BarPlan], *, step_s: float, seed: int,
            rng: np.random.Generator) -> Events:
    events = Events(notes={}, hits={})
    writer = MelodyWriter(key, seed=seed, density=spec.melody.density, octave=spec.melody.octave, step_s=step_s,
                          swing=spec.swing)
    pad_everywhere = spec.pad.instrument == "strings" or spec.name == "chill"
    for i, bar in enumerate(bars):
        drum_bar(events, bar, groove=spec.drums.pattern, step_s=step_s, swing=spec.swing, rng=rng)
        bass_bar(events, bar, pattern=spec.bass.pattern, key=key, step_s=step_s, swing=spec.swing)
        chord_bar(events, bar, rhythm=spec.chords.pattern, step_s=step_s, swing=spec.swing, rng=rng)
        nxt = bars[min(i + 1, len(bars) - 1)]
        swell = bar.last and nxt.energy > bar.energy and i + 1 < len(bars)
        if spec.pad.instrument != "none" and (pad_everywhere or bar.label != "verse" or swell):
            pad_bar(events, bar, step_s=step_s, swell=swell)
    start = 0
    while start < len(bars):
        end = start
        while end < len(bars) and bars[end].label == bars[start].label and (end == start or not bars[end].first):
            end += 1
        writer.section(events, bars[start:end])
        start = end
    return events


def compose_track(*, length_s: float, bpm: float, style: str | StyleSpec = "lo-fi", valence: float = 0.6,
                  arousal: float = 0.5, seed: int = 0, sections: Sequence[tuple[str, int]] | None = None,
                  sr: int = 44100) -> ComposedTrack:
    """Compose, render and master a track (see the module docstring for how length, tempo and bars relate).

    Args:
        length_s: the track's length, seconds, in [2, 600].
        bpm: the tempo asked for, beats per minute, in [50, 200] (4/4 time).
        style: a style preset name (``list_styles()``) or a ``StyleSpec``.
        valence: the mood's valence in [0, 1] (the matcher's feel scale): major at 0.5 and above, minor below.
        arousal: the mood's arousal in [0, 1]: energetic moods take brighter keys.
        seed: the random seed (>= 0); the same arguments and seed give the same samples.
        sections: the template's sections as ``(label, bars)`` (see ``plan_sections``); None: the composer's own.
        sr: sample rate, Hz (one of ``SAMPLE_RATES``).

    Returns:
        The ``ComposedTrack``: stereo samples [shape=(round(length_s * sr), 2), float32], its exact beat grid, key,
        sections, loudness and true peak.

    Raises:
        ComposeError: a value out of range (the message gives the accepted range), an unknown style (the message
            lists the known ones), or sections that do not add up to the track's bars.
    """
    _check(length_s=length_s, bpm=bpm, valence=valence, arousal=arousal, seed=seed, sr=sr)
    spec = get_style(style)
    n_bars, tempo = fit_bars(length_s=length_s, bpm=bpm)
    plan = plan_sections(n_bars, sections)
    rng = np.random.default_rng([seed, style_number(spec.name)])
    key = choose_key(valence=valence, arousal=arousal, variant=seed + style_number(spec.name))
    beat_s = 60.0 / tempo
    bars = _bars(spec, key, plan, bar_s=4 * beat_s, rng=rng)
    events = _events(spec, key, bars, step_s=beat_s / 4, seed=seed, rng=rng)
    n = int(round(length_s * sr))
    sound_rng = np.random.default_rng([seed, 1])
    mix = mixdown(render_parts(events, spec, n=n, sr=sr, rng=sound_rng), events, spec, sr=sr, rng=sound_rng)
    mix = fade_edges(mix, sr=sr, fade_out_s=max(beat_s, length_s - n_bars * 4 * beat_s))
    samples, lufs, peak = master(mix, sr=sr)
    beats = tuple(round(k * beat_s, 6) for k in range(4 * n_bars + 1))
    firsts = np.cumsum([0] + [b for _, b in plan])[:-1]
    return ComposedTrack(
        samples=np.ascontiguousarray(samples, dtype=np.float32), sr=sr, length_s=n / sr, bpm=tempo,
        requested_bpm=float(bpm), beats_s=beats, downbeats_s=beats[::4], style=spec.name, seed=seed, key=key.name,
        mode=key.mode,
        valence=float(valence), arousal=float(arousal),
        sections=tuple((label, int(first), bars) for (label, bars), first in zip(plan, firsts)),
        loudness_lufs=lufs, true_peak_db=peak,
        notes_per_s=_onset_rate(events, length_s=n / sr), pitch_classes=_pitch_profile(events))


def _onset_rate(events: Events, *, length_s: float) -> float:
    """Onsets per second as an onset detector hears them: notes and hits of velocity 0.5 or more (ghost notes and
    soft off-beat hats pass unnoticed), onsets within 60 ms of the previous one merged (a strum is one onset)."""
    times = np.sort([t for notes in events.notes.values() for t, _, _, v in notes if v >= 0.5]
                    + [t for hits in events.hits.values() for t, v in hits if v >= 0.5])
    if times.size == 0:
        return 0.0
    count, last = 1, times[0]
    for t in times[1:]:
        if t - last >= 0.06:
            count, last = count + 1, t
    return count / length_s


def _pitch_profile(events: Events) -> tuple[float, ...]:
    """Duration-weighted pitch-class histogram of the pitched parts, 12 values from C."""
    profile = np.zeros(12)
    for notes in events.notes.values():
        for _, duration_s, midi, velocity in notes:
            profile[midi % 12] += duration_s * velocity
    return tuple(float(v) for v in profile / max(profile.sum(), 1e-9))
