"""Composed tracks as matcher candidates: one per style, planned for the footage and brief, rendered on demand
and cached by their parameters.

A candidate is planned without rendering anything: its tempo is the one in the style's range that puts the
footage's cuts on 1, 2, 4 or 8 beats (``scoring.tempo_fit``), its mood is the draft's (valence and arousal from
the footage and brief), its length the footage's; its feel for ranking is predicted from the style spec with the
same formulas a rendered track is measured by (``expected_analysis``). Its id carries every parameter
(``composed:lo-fi:96bpm:24s:v62:a41:seed0``), so any process can render the very same track from the id alone.
``ComposedCatalogue.render`` composes (or reads from the cache: ``<cache>/<sha256 of the parameters>.wav`` plus
a ``.json`` with the analysis and the composition's facts) and returns the file and its exact ``MusicAnalysis``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crossmodal_match.compose.composer import COMPOSER_VERSION, MAX_LENGTH_S, MIN_LENGTH_S, compose_track, fit_bars
from crossmodal_match.compose.harmony import choose_key, style_number
from crossmodal_match.compose.style import get_style, list_styles
from crossmodal_match.compose.track import LICENCE
from crossmodal_match.errors import ComposeError

PREFIX = "composed:"
_ID = re.compile(r"^composed:(?P<style>[a-z0-9-]+):(?P<bpm>\d+(?:\.\d+)?)bpm:(?P<length>\d+(?:\.\d+)?)s:"
                 r"v(?P<v>\d{1,3}):a(?P<a>\d{1,3}):seed(?P<seed>\d+)$")
#: RMS loudness (mean dBFS) of a track mastered to -14 LUFS, as ``crossmodal_match.audio`` measures it (bench).
_MASTERED_RMS_DB = -17.0


@dataclass(frozen=True)
class ComposedCandidate:
    """A composed track the matcher may rank (it reads like a ``catalog.MusicTrack``).

    Attributes:
        id: carries every parameter (see the module docstring).
        title: e.g. "Composed for this draft: lo-fi, 96 bpm, A minor".
        style, seed, bpm, length_s, valence, arousal: the composition's parameters.
        key: the key it will be in (known before rendering: it depends only on the seed, style and mood).
        genre, mood, licence, tags: as a library track's sidecar would say.
        path: None until rendered (``ComposedCatalogue.render`` returns the file).
    """

    id: str
    title: str
    style: str
    seed: int
    bpm: float
    length_s: float
    valence: float
    arousal: float
    key: str
    genre: str
    mood: str
    licence: str = LICENCE
    tags: tuple[str, ...] = ()
    path: str | None = None
    composed: bool = True

    @property
    def text(self) -> str:
        """The style's name, description and tags: what the text encoder compares with the brief."""
        spec = get_style(self.style)
        return f"{self.style.replace('-', ' ')} {spec.description} {' '.join(spec.tags)}"


def is_composed(track_id: str | None) -> bool:
    """Whether a music id names a composed track."""
    return isinstance(track_id, str) and track_id.startswith(PREFIX)


def make_id(*, style: str, bpm: float, length_s: float, valence: float, arousal: float, seed: int) -> str:
    """The id of a composed track (tempo to 0.01 bpm, length to 0.001 s, mood to 0.01)."""
    return (f"{PREFIX}{style}:{round(bpm, 2):g}bpm:{round(length_s, 3):g}s:v{round(valence * 100)}:"
            f"a{round(arousal * 100)}:seed{seed}")


def parse_id(track_id: str) -> dict[str, Any]:
    """The parameters of a composed track's id.

    Raises:
        ComposeError: not a composed id, or an unknown style.
    """
    m = _ID.match(track_id or "")
    if not m:
        raise ComposeError("music id", track_id, "composed:<style>:<bpm>bpm:<length>s:v<0-100>:a<0-100>:seed<n>")
    get_style(m["style"])
    return {"style": m["style"], "bpm": float(m["bpm"]), "length_s": float(m["length"]),
            "valence": int(m["v"]) / 100, "arousal": int(m["a"]) / 100, "seed": int(m["seed"])}


def with_changes(track_id: str, *, style: str | None = None, seed: int | None = None) -> str:
    """The id of the same composition with another style and/or seed (the tempo moves into the new style's
    range only when it falls outside it)."""
    params = parse_id(track_id)
    if style is not None:
        spec = get_style(style)
        params["style"] = style
        params["bpm"] = float(min(max(params["bpm"], spec.tempo_min_bpm), spec.tempo_max_bpm))
    if seed is not None:
        params["seed"] = int(seed)
    return make_id(**params)


def choose_bpm(style: str, *, cuts_per_min: float, arousal: float) -> float:
    """The whole-number tempo in the style's range where the footage's cuts fall best on the beat grid
    (``scoring.tempo_fit``), the one nearest the range's middle on ties; without a measurable pace, a point of
    the range set by the arousal (calm low, energetic high)."""
    from crossmodal_match.scoring import tempo_fit

    spec = get_style(style)
    if not (math.isfinite(cuts_per_min) and cuts_per_min > 0):
        return float(round(spec.tempo_min_bpm + (spec.tempo_max_bpm - spec.tempo_min_bpm) * (0.2 + 0.6 * arousal)))
    tempi = np.arange(math.ceil(spec.tempo_min_bpm), math.floor(spec.tempo_max_bpm) + 1, dtype=np.float64)
    fits = tempo_fit(cuts_per_min=np.full(len(tempi), cuts_per_min), bpm=tempi)
    best = np.flatnonzero(fits >= fits.max() - 1e-9)
    return float(tempi[best[np.argmin(np.abs(tempi[best] - spec.mid_bpm))]])


def expected_analysis(candidate: ComposedCandidate):
    """A ``MusicAnalysis`` of the candidate before it is rendered: the exact grid, the tempo, the key, and the
    loudness, brightness and onset density the style's spec predicts (``StyleSpec.feel``), with arousal and
    valence from the same formulas as a measured track; no energy curve (the draft maker renders the track)."""
    from crossmodal_match.audio import BEATS_PER_BAR, MusicAnalysis, mood_proxies

    spec = get_style(candidate.style)
    bars, bpm = fit_bars(length_s=candidate.length_s, bpm=candidate.bpm)
    beats = tuple(round(k * 60.0 / bpm, 6) for k in range(4 * bars + 1))
    busy, brightness = spec.feel["density"] * 8.0, spec.feel["brightness"]
    mode = "major" if candidate.key.endswith("major") else "minor"
    arousal, valence = mood_proxies(tempo_bpm=bpm, loudness_db=_MASTERED_RMS_DB, onset_density_per_s=busy,
                                    mode=mode, key_confidence=0.8, brightness=brightness)
    return MusicAnalysis(sha256="planned:" + candidate.id, duration_s=candidate.length_s, tempo_bpm=round(bpm, 4),
                         beats_s=beats, downbeats_s=beats[::BEATS_PER_BAR], beats_per_bar=BEATS_PER_BAR,
                         onset_density_per_s=busy, energy=(), energy_hop_s=1024 / 22050,
                         loudness_db=_MASTERED_RMS_DB, centroid_hz=250.0 * 2 ** (5 * brightness),
                         brightness=brightness, key=candidate.key.split()[0], mode=mode, key_confidence=0.8,
                         arousal=round(arousal, 4), valence=round(valence, 4))


def candidate(track_id: str) -> ComposedCandidate:
    """The candidate an id describes."""
    p = parse_id(track_id)
    spec = get_style(p["style"])
    key = choose_key(valence=p["valence"], arousal=p["arousal"], variant=p["seed"] + style_number(spec.name))
    energy = "upbeat" if p["arousal"] > 0.6 else "calm" if p["arousal"] < 0.4 else "easy-going"
    colour = "bright" if key.mode == "major" else "wistful"
    return ComposedCandidate(id=track_id, title=f"Composed for this draft: {p['style']}, {p['bpm']:g} bpm, {key.name}",
                             key=key.name, genre=p["style"], mood=f"{energy}, {colour}", tags=spec.tags, **p)


class ComposedCatalogue:
    """Plans composed candidates for a query and renders them, cached by their parameters.

    Args:
        cache_dir: where rendered tracks are kept; None: a folder under the system's temporary directory.
        styles: the styles to propose (default: every preset).
        seed: the seed of first proposals (the studio's "another take" changes it per track).
        sr: sample rate of rendered tracks, Hz.
    """

    def __init__(self, *, cache_dir: str | Path | None = None, styles: tuple[str, ...] | None = None,
                 seed: int = 0, sr: int = 44100) -> None:
        self.styles = tuple(styles) if styles is not None else list_styles()
        for style in self.styles:
            get_style(style)
        self.cache_dir = Path(cache_dir) if cache_dir else Path(tempfile.gettempdir()) / "creator-studio-composed"
        self.seed, self.sr = seed, sr

    def candidates(self, *, footage_s: float, cuts_per_min: float, valence: float,
                   arousal: float) -> list[ComposedCandidate]:
        """One candidate per style, for a draft of about ``footage_s`` seconds of footage cut ``cuts_per_min``
        times a minute, in a mood of ``valence`` and ``arousal`` (the feel scale, clipped to [0, 1])."""
        length = float(min(max(footage_s, MIN_LENGTH_S), MAX_LENGTH_S))
        v, a = (float(np.clip(x, 0.0, 1.0)) for x in (valence, arousal))
        return [candidate(make_id(style=s, bpm=choose_bpm(s, cuts_per_min=cuts_per_min, arousal=a), length_s=length,
                                  valence=v, arousal=a, seed=self.seed)) for s in self.styles]

    def render(self, track_id: str, *, length_s: float | None = None, bpm: float | None = None,
               sections: list[tuple[str, int]] | None = None) -> tuple[str, Any, dict[str, Any]]:
        """Compose the track an id names (or read it from the cache).

        Args:
            track_id: a composed id.
            length_s, bpm: the draft's exact length and tempo, overriding the id's (the draft maker asks for a
                whole number of bars at the grid's tempo); None: the id's.
            sections: the template's sections, ``(label, bars)`` (see ``composer.plan_sections``).

        Returns:
            ``(wav path, MusicAnalysis with the exact grid, the composition's facts)``.

        Raises:
            ComposeError: a bad id or parameter; the cache folder cannot be written.
        """
        params = parse_id(track_id)
        params.update({k: v for k, v in (("length_s", length_s), ("bpm", bpm)) if v is not None})
        plan = [(str(label), int(bars)) for label, bars in sections] if sections else None
        digest = hashlib.sha256(json.dumps({**params, "sections": plan, "sr": self.sr, "version": COMPOSER_VERSION},
                                           sort_keys=True).encode()).hexdigest()[:32]
        wav, meta_file = self.cache_dir / f"{digest}.wav", self.cache_dir / f"{digest}.json"
        from crossmodal_match.audio import MusicAnalysis
        from crossmodal_match.audio_decode import write_json_atomic

        if wav.is_file() and meta_file.is_file():
            try:
                stored = json.loads(meta_file.read_text(encoding="utf-8"))
                return str(wav), MusicAnalysis.from_dict(stored["analysis"]), stored["meta"]
            except (OSError, ValueError, KeyError, TypeError):
                pass  # a damaged entry is composed again
        track = compose_track(**params, sections=plan, sr=self.sr)
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ComposeError("cache_dir", str(self.cache_dir), f"a writable folder ({exc})") from exc
        track.write_wav(wav)
        analysis = track.analysis(sha256=hashlib.sha256(wav.read_bytes()).hexdigest())
        meta = {**track.meta(), "id": track_id}
        write_json_atomic(meta_file, {"analysis": analysis.to_dict(), "meta": meta})
        return str(wav), analysis, meta


def reason(c: ComposedCandidate, *, cuts_per_min: float) -> str:
    """Why a composed candidate fits, in one line (the matcher adds its score breakdown after it)."""
    from crossmodal_match.scoring import nearest_beats_per_cut

    pace = ""
    if math.isfinite(cuts_per_min) and cuts_per_min > 0:
        k = int(nearest_beats_per_cut(cuts_per_min=cuts_per_min, bpm=c.bpm))
        pace = f" (a cut every {k} beat{'s' * (k > 1)} at the footage's pace)"
    feel = "bright" if c.key.endswith("major") else "wistful"
    energy = "energetic" if c.arousal > 0.6 else "calm" if c.arousal < 0.4 else "easy-going"
    return (f"composed for this draft: {c.style} at {c.bpm:g} bpm{pace}, in {c.key} for its {feel}, {energy} "
            f"mood, to its length with the ending on its last bar; free to use (CC0)")


def composed_index(catalogue: ComposedCatalogue, query, encoder):
    """The matcher's ``CandidateIndex`` of the candidates composed for one query (its ``footage_s``,
    ``cuts_per_min`` and ``feel``), each with its ``expected_analysis``."""
    from crossmodal_match.feel import FEEL_DIMS
    from crossmodal_match.index import music_index

    found = catalogue.candidates(footage_s=query.footage_s, cuts_per_min=query.cuts_per_min,
                                 valence=float(query.feel[FEEL_DIMS.index("mood")]),
                                 arousal=float(query.feel[FEEL_DIMS.index("energy")]))
    # the style texts are the same at every match: the project's text encoders memoise them by text
    return music_index(found, {c.id: expected_analysis(c) for c in found}, encoder)
