"""Scoring: pure functions on normalised arrays that turn footage/candidate measures into features in [0, 1].

Every feature function is vectorised over candidates (numpy broadcasting: pass the footage's value as a scalar
and the candidates' values as ``[n]`` arrays) and returns values in [0, 1], 1 best. ``combine`` fuses a
``[n, k]`` feature matrix with ``k`` weights into one score per candidate; ``ScoreBreakdown`` keeps one
candidate's features, the weights used and the total, and says in one line why it ranks where it does.

Neutral value: a feature that cannot be measured (no tempo found, a single-shot clip, a copy line that has no
tempo at all) is 0.5, so it neither helps nor hurts a candidate against another one that lacks it too, and
a learned fusion sees a feature difference of zero.

No files, models or torch here: the matcher computes the raw measures and calls these functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crossmodal_match.errors import ConfigError

# Order of the columns of a feature matrix and of a weight vector; stored feedback and fusion models use it too.
FEATURES: tuple[str, ...] = ("semantic", "tempo", "energy", "mood", "duration", "popularity")
NEUTRAL = 0.5

# Cuts every 1, 2, 4 or 8 beats land on the beat grid; half a bar (2) and a bar (4, in 4/4) are preferred, a cut
# on every beat reads as frantic and one every two bars as slow, so those two get a mild discount.
BEATS_PER_CUT: tuple[int, ...] = (1, 2, 4, 8)
BEATS_PER_CUT_PREFERENCE: tuple[float, ...] = (0.85, 1.0, 1.0, 0.85)
TEMPO_SIGMA_OCTAVES = 0.25  # 10% off a multiple still scores 0.86; halfway between two multiples (x1.41) 0.14
ENERGY_SIGMA = 0.25  # energy levels 0.25 apart (a quarter of the scale) score 0.61
MOOD_SIGMA = 0.3  # distance in the valence-arousal square at which the mood score is 0.61
UNIT_NORM_TOL = 1e-3


def _unit(name: str, value: Any) -> np.ndarray:
    """``value`` as a float array whose entries must lie in [0, 1] (NaN allowed: it means "not measured")."""
    arr = np.asarray(value, dtype=np.float64)
    finite = arr[np.isfinite(arr)]
    if finite.size and (finite.min() < -1e-9 or finite.max() > 1 + 1e-9):
        raise ConfigError(f"{name} must lie in [0, 1], got values from {finite.min():g} to {finite.max():g}")
    return np.clip(arr, 0.0, 1.0)


def cosine_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarities of every row of ``a`` with every row of ``b``.

    Args:
        a: np.ndarray [shape=(n, d), float], L2-normalised rows (encoders return them so).
        b: np.ndarray [shape=(m, d), float], L2-normalised rows.

    Returns:
        np.ndarray [shape=(n, m), float32] in [-1, 1].

    Raises:
        ConfigError: not 2-D, different widths, non-finite values, or a row whose norm is not 1.
    """
    a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ConfigError(f"cosine_matrix needs (n, d) and (m, d) arrays, got shapes {a.shape} and {b.shape}")
    for name, x in (("a", a), ("b", b)):
        if not np.isfinite(x).all():
            raise ConfigError(f"cosine_matrix: {name} has non-finite values")
        norms = np.linalg.norm(x, axis=1)
        if norms.size and np.abs(norms - 1).max() > UNIT_NORM_TOL:
            raise ConfigError(f"cosine_matrix: rows of {name} must be L2-normalised, norms range "
                              f"{norms.min():.4f}-{norms.max():.4f}")
    return np.clip(a @ b.T, -1.0, 1.0)


def semantic_fit(similarity: np.ndarray | float) -> np.ndarray:
    """Map cosine similarity to [0, 1]: ``(clip(similarity, -1, 1) + 1) / 2`` (orthogonal -> 0.5).

    Args:
        similarity: cosine similarity, scalar or np.ndarray [shape=(n,)], in [-1, 1]; NaN (no embedding) -> 0.5.

    Returns:
        np.ndarray [shape like ``similarity``, float64] in [0, 1].
    """
    s = np.asarray(similarity, dtype=np.float64)
    return np.where(np.isfinite(s), (np.clip(s, -1.0, 1.0) + 1.0) / 2.0, NEUTRAL)


def _grid_fit(*, cuts_per_min: Any, bpm: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per multiple k in ``BEATS_PER_CUT``: preference * alignment, plus which inputs are measurable."""
    cuts = np.asarray(cuts_per_min, dtype=np.float64)
    tempo = np.asarray(bpm, dtype=np.float64)
    if np.any(cuts[np.isfinite(cuts)] < 0) or np.any(tempo[np.isfinite(tempo)] < 0):
        raise ConfigError(f"cuts_per_min and bpm must be >= 0, got cuts_per_min={cuts_per_min!r}, bpm={bpm!r}")
    ok = np.isfinite(cuts) & np.isfinite(tempo) & (cuts > 0) & (tempo > 0)
    beats_per_cut = np.where(ok, tempo, 1.0) / np.where(ok, cuts, 1.0)
    ks = np.asarray(BEATS_PER_CUT, dtype=np.float64).reshape((-1,) + (1,) * beats_per_cut.ndim)
    prefs = np.asarray(BEATS_PER_CUT_PREFERENCE).reshape(ks.shape)
    distance = np.abs(np.log2(beats_per_cut[None] / ks))  # octaves to the multiple k
    return prefs * np.exp(-0.5 * (distance / TEMPO_SIGMA_OCTAVES) ** 2), ok, beats_per_cut


def tempo_fit(*, cuts_per_min: np.ndarray | float, bpm: np.ndarray | float) -> np.ndarray:
    """How well the footage's cutting pace sits on the track's beat grid.

    beats_per_cut = bpm / cuts_per_min (beats between two cuts if cut evenly). For each musically sensible
    multiple k in (1, 2, 4, 8) beats, d_k = |log2(beats_per_cut / k)| octaves; the fit is
    ``max_k pref_k * exp(-0.5 * (d_k / 0.25)**2)`` with pref = (0.85, 1.0, 1.0, 0.85): a cut every half bar or
    bar is preferred over every beat or every two bars. Outside 1-8 beats per cut the fit falls off fast (a cut
    every half beat: d = 1 octave -> 0.0003). A tempo found at double or half its true value stays on the grid.

    Args:
        cuts_per_min: cuts per minute of the footage (number of cuts / duration_min), >= 0; 0 (one shot, a photo)
            or NaN means there is no pace to match -> 0.5.
        bpm: track tempo in beats per minute, >= 0; 0 or NaN (no pulse found) -> 0.5.

    Returns:
        np.ndarray [broadcast shape of the inputs, float64] in [0, 1].

    Raises:
        ConfigError: a negative pace or tempo.
    """
    fits, ok, _ = _grid_fit(cuts_per_min=cuts_per_min, bpm=bpm)
    return np.where(ok, fits.max(axis=0), NEUTRAL)


def nearest_beats_per_cut(*, cuts_per_min: np.ndarray | float, bpm: np.ndarray | float) -> np.ndarray:
    """The multiple k in (1, 2, 4, 8) that ``tempo_fit`` matched: "a cut every k beats" (0 when not measurable).

    Args and Raises: as ``tempo_fit``.

    Returns:
        np.ndarray [broadcast shape, int64].
    """
    fits, ok, _ = _grid_fit(cuts_per_min=cuts_per_min, bpm=bpm)
    return np.where(ok, np.asarray(BEATS_PER_CUT)[fits.argmax(axis=0)], 0)


def energy_fit(*, footage_energy: np.ndarray | float, music_energy: np.ndarray | float) -> np.ndarray:
    """Similarity of energy levels: ``exp(-0.5 * ((footage_energy - music_energy) / 0.25)**2)``.

    Args:
        footage_energy: how energetic the footage is (motion and cutting pace, as the matcher defines it), in
            [0, 1]; NaN -> 0.5.
        music_energy: how energetic each track is (e.g. ``MusicAnalysis.arousal``), in [0, 1]; NaN -> 0.5.

    Returns:
        np.ndarray [broadcast shape, float64] in [0, 1].

    Raises:
        ConfigError: values outside [0, 1].
    """
    f, m = _unit("footage_energy", footage_energy), _unit("music_energy", music_energy)
    fit = np.exp(-0.5 * ((f - m) / ENERGY_SIGMA) ** 2)
    return np.where(np.isfinite(f) & np.isfinite(m), fit, NEUTRAL)


def mood_fit(*, footage_valence: np.ndarray | float, footage_arousal: np.ndarray | float,
             music_valence: np.ndarray | float, music_arousal: np.ndarray | float) -> np.ndarray:
    """Closeness in the valence-arousal square: ``exp(-(dv**2 + da**2) / (2 * 0.3**2))``.

    Args:
        footage_valence, footage_arousal: the footage/brief's mood (pleasant vs dark, energetic vs calm), in
            [0, 1].
        music_valence, music_arousal: each track's mood (``MusicAnalysis.valence`` / ``.arousal``), in [0, 1].
        Any NaN -> 0.5 for that candidate.

    Returns:
        np.ndarray [broadcast shape, float64] in [0, 1].

    Raises:
        ConfigError: values outside [0, 1].
    """
    dv = _unit("footage_valence", footage_valence) - _unit("music_valence", music_valence)
    da = _unit("footage_arousal", footage_arousal) - _unit("music_arousal", music_arousal)
    fit = np.exp(-(dv ** 2 + da ** 2) / (2 * MOOD_SIGMA ** 2))
    return np.where(np.isfinite(dv) & np.isfinite(da), fit, NEUTRAL)


def duration_fit(*, footage_s: np.ndarray | float, track_s: np.ndarray | float) -> np.ndarray:
    """Whether the track covers the draft: 1 when ``track_s >= footage_s``, else ``(track_s / footage_s)**2``.

    A longer track is trimmed at a bar line, so length beyond the draft costs nothing; a shorter one leaves the
    end silent or needs a loop, and the square makes "much shorter" cost much more (90% -> 0.81, half -> 0.25).

    Args:
        footage_s: draft length in seconds, > 0.
        track_s: each track's length in seconds, >= 0; NaN (unknown) -> 0.5.

    Returns:
        np.ndarray [broadcast shape, float64] in [0, 1].

    Raises:
        ConfigError: a non-positive draft length or a negative track length.
    """
    f, t = np.asarray(footage_s, dtype=np.float64), np.asarray(track_s, dtype=np.float64)
    if not np.all(np.isfinite(f) & (f > 0)):
        raise ConfigError(f"footage_s must be a positive number of seconds, got {footage_s!r}")
    if np.any(t[np.isfinite(t)] < 0):
        raise ConfigError(f"track_s must be >= 0 seconds, got a minimum of {np.nanmin(t):g}")
    fit = np.minimum(np.where(np.isfinite(t), t, 0.0) / f, 1.0) ** 2
    return np.where(np.isfinite(t), fit, NEUTRAL)


def popularity_fit(*, use_count: np.ndarray | float) -> np.ndarray:
    """Popularity on a log scale: ``log1p(use_count) / log1p(max(use_count))`` (all zero -> 0.5 for all).

    Args:
        use_count: times each candidate was kept or used (feedback or co-usage counts), np.ndarray [shape=(n,)],
            >= 0.

    Returns:
        np.ndarray [shape=(n,), float64] in [0, 1].

    Raises:
        ConfigError: a negative or non-finite count.
    """
    c = np.asarray(use_count, dtype=np.float64)
    if not np.all(np.isfinite(c) & (c >= 0)):
        raise ConfigError(f"use_count must be finite and >= 0, got {use_count!r}")
    top = np.log1p(c.max()) if c.size else 0.0
    return np.log1p(c) / top if top > 0 else np.full(c.shape, NEUTRAL)


def combine(features: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Fuse a feature matrix into one score per candidate: ``features @ weights``.

    With non-negative weights whose sum is 1 (the zero-shot and the saved fusion weights are so normalised)
    the score lies in [0, 1]; a learned negative weight is allowed and can take it below 0.

    Args:
        features: np.ndarray [shape=(n, k), float] in [0, 1], columns in ``FEATURES`` order.
        weights: np.ndarray [shape=(k,), float], finite.

    Returns:
        np.ndarray [shape=(n,), float64].

    Raises:
        ConfigError: shapes that do not line up, or non-finite values.
    """
    x, w = np.asarray(features, dtype=np.float64), np.asarray(weights, dtype=np.float64)
    if x.ndim != 2 or w.ndim != 1 or x.shape[1] != w.shape[0]:
        raise ConfigError(f"combine needs features (n, k) and weights (k,), got {x.shape} and {w.shape}")
    if not (np.isfinite(x).all() and np.isfinite(w).all()):
        raise ConfigError("combine: features and weights must be finite (use 0.5 for a feature not measured)")
    return x @ w


# Phrases for explain(): what a strong feature says, and what a weak one warns about.
_GOOD = {"semantic": "close to the brief", "tempo": "fits the pace", "energy": "energy matches the footage",
         "mood": "mood matches", "duration": "long enough for the draft", "popularity": "popular with creators"}
_WEAK = {"semantic": "little to do with the brief", "tempo": "off the cutting pace",
         "energy": "energy differs from the footage", "mood": "mood differs", "duration": "shorter than the draft",
         "popularity": "rarely used"}
GOOD_AT, WEAK_BELOW = 0.6, 0.3


@dataclass(frozen=True)
class ScoreBreakdown:
    """One candidate's score, feature by feature.

    Attributes:
        features: feature name -> value in [0, 1] (names from ``FEATURES``).
        weights: feature name -> weight used for the total.
        total: sum of weight * value.
        facts: optional measures for ``explain``: ``bpm`` (track tempo), ``beats_per_cut`` (from
            ``nearest_beats_per_cut``), ``mood`` (a word such as "calm"), ``mood_words`` (the candidate's mood
            words, e.g. ["治愈"]), ``brief_terms`` (brief words the candidate matches, in either language, e.g.
            ["露营", "vlog"]), ``track_s`` and ``footage_s`` (seconds).
    """

    features: dict[str, float]
    weights: dict[str, float]
    total: float
    facts: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = (set(self.features) | set(self.weights)) - set(FEATURES)
        if unknown:
            raise ConfigError(f"ScoreBreakdown: unknown feature(s) {sorted(unknown)}; known: {list(FEATURES)}")

    def contributions(self) -> dict[str, float]:
        """Feature name -> weight * value, in ``FEATURES`` order."""
        return {n: self.weights.get(n, 0.0) * self.features[n] for n in FEATURES if n in self.features}

    def explain(self, *, max_reasons: int = 3) -> str:
        """A one-line reason, e.g. "fits the pace (120 bpm for a cut every 2 beats), calm mood matches, brief
        mentions 'beach'", naming the strongest weighted features and the weakest one if it is poor."""
        ranked = sorted(self.contributions().items(), key=lambda kv: -kv[1])
        good = [n for n, c in ranked if c > 0 and self.features[n] >= GOOD_AT][:max_reasons]
        weak = [n for n, _ in sorted(self.features.items(), key=lambda kv: kv[1])
                if self.weights.get(n, 0.0) > 0 and self.features[n] < WEAK_BELOW and n not in good][:1]
        parts = [self._phrase(n, good=True) for n in good] or ["no strong match"]
        return ", ".join(parts) + "".join(f"; but {self._phrase(n, good=False)}" for n in weak)

    def _phrase(self, name: str, *, good: bool) -> str:
        f = self.facts
        if not good:
            if name == "duration" and f.get("track_s") and f.get("footage_s"):
                return f"{_WEAK[name]} ({f['track_s']:.0f} s for {f['footage_s']:.0f} s)"
            return _WEAK[name]
        if name == "tempo" and f.get("bpm") and f.get("beats_per_cut"):
            k = int(f["beats_per_cut"])
            return f"{_GOOD[name]} ({f['bpm']:.0f} bpm for a cut every {'beat' if k == 1 else f'{k} beats'})"
        if name == "mood" and f.get("mood"):
            # the words that set a track's mood (its title or tags: 治愈, 伤感, "chill") say why in its language
            words = f" ({', '.join(f.get('mood_words', [])[:2])})" if f.get("mood_words") else ""
            return f"{f['mood']} {_GOOD[name]}{words}"
        if name == "semantic" and f.get("brief_terms"):
            return "brief mentions " + ", ".join(f"'{t}'" for t in list(f["brief_terms"])[:2])
        return _GOOD[name]


def breakdowns(features: np.ndarray, weights: dict[str, float], *,
               facts: list[dict[str, Any]] | None = None) -> list[ScoreBreakdown]:
    """One ``ScoreBreakdown`` per row of a feature matrix (for the candidates actually shown, not all 10,000).

    Args:
        features: np.ndarray [shape=(n, len(FEATURES)), float] in ``FEATURES`` column order.
        weights: feature name -> weight (missing names weigh 0).
        facts: optional per-row facts for ``explain`` (length n).

    Returns:
        list of n breakdowns, totals from ``combine``.

    Raises:
        ConfigError: shapes that do not line up or unknown feature names.
    """
    w = np.array([weights.get(n, 0.0) for n in FEATURES])
    totals = combine(features, w)
    if facts is not None and len(facts) != len(totals):
        raise ConfigError(f"breakdowns: {len(facts)} facts for {len(totals)} rows")
    return [ScoreBreakdown(features=dict(zip(FEATURES, map(float, row))), weights=dict(weights), total=float(t),
                           facts=(facts[i] if facts is not None else {}))
            for i, (row, t) in enumerate(zip(np.asarray(features), totals))]
