"""The shared "feel" space in which footage, music and templates are compared: pace, energy, brightness, mood, density.

Footage descriptors (``crossmodal_match.footage``) and music analyses (``crossmodal_match.audio``) measure different
things in different units, so each is mapped by a documented formula onto the same five axes, every one in [0, 1]:

=========== ===================================================== ===============================================
axis        footage (shot-length-weighted means over the shots)   music
=========== ===================================================== ===============================================
pace        0.7 cut_pace + 0.3 motion                             tempo = clip((bpm - 60) / 120); 0 with no pulse
energy      0.5 motion + 0.25 contrast + 0.25 colour              0.4 arousal + 0.3 loud + 0.3 busy
brightness  luma = clip((brightness - 0.1) / 0.6)                 ``analysis.brightness`` (log spectral centroid)
mood        0.4 warm + 0.3 sat + 0.3 luma                         ``analysis.valence``
density     0.5 clip(cuts_per_s / 2) + 0.5 colour                 busy
=========== ===================================================== ===============================================

with cut_pace = clip(log2(8 s / mean shot length) / 4) (8 s shots -> 0, 2 s -> 0.5, 0.5 s -> 1; a cut per bar of
4 beats at 120 bpm lands at 0.5, like 120 bpm on the music side), motion = clip(motion_energy / 0.06),
contrast = clip(contrast / 0.25), colour = clip(colourfulness / 100), warm = clip(0.5 + 2 warmth),
sat = clip(saturation / 0.6), loud = clip((loudness_db + 40) / 30), busy = clip(onsets_per_s / 8).
The constants put everyday phone footage and commercial music mid-scale; they are heuristics for ranking, not a
trained model, and ``FEEL_VERSION`` changes whenever a formula does.

Everything here is pure numpy on plain dataclasses: no torch, no files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from crossmodal_match.errors import ConfigError

if TYPE_CHECKING:
    from crossmodal_match.audio import MusicAnalysis
    from crossmodal_match.footage import Footage

FEEL_VERSION = 1
FEEL_DIMS = ("pace", "energy", "brightness", "mood", "density")
# Pace and energy are what a viewer notices first when picture and music disagree; colour-mood and density less so.
DEFAULT_FEEL_WEIGHTS: Mapping[str, float] = {"pace": 0.3, "energy": 0.3, "brightness": 0.1, "mood": 0.2,
                                             "density": 0.1}
LONG_SHOT_S = 8.0  # mean shot length at which cut pace is 0
SHORTEST_SHOT_S = 0.5  # mean shot length at which cut pace is 1
MOTION_FULL = 0.06  # motion_energy (luma change per 0.1 s, fraction of full scale) that reads as "all action"


def _clip(x: float) -> float:
    return float(min(1.0, max(0.0, x)))


def _weighted_means(footage: Footage) -> dict[str, float]:
    """Shot-length-weighted means of the descriptors (equal weights when every shot has zero length)."""
    shots = tuple(footage.shots)
    if not shots:
        raise ConfigError(f"footage {getattr(footage, 'path', '?')!r} has no shots to describe")
    lengths = np.array([max(float(s.descriptors.length_s), 0.0) for s in shots])
    weights = lengths / lengths.sum() if lengths.sum() > 0 else np.full(len(shots), 1.0 / len(shots))
    names = ("motion_energy", "brightness", "saturation", "warmth", "contrast", "colourfulness")
    return {n: float(sum(w * float(getattr(s.descriptors, n)) for w, s in zip(weights, shots))) for n in names}


def footage_feel(footage: Footage) -> np.ndarray:
    """Map analysed footage onto the feel axes (formulas in the module docstring).

    Args:
        footage: a ``crossmodal_match.footage.Footage`` (anything with ``duration_s`` and ``shots`` whose
            ``descriptors`` are ``ShotDescriptors``).

    Returns:
        np.ndarray [shape=(5,), float32] in [0, 1], ordered as ``FEEL_DIMS``.

    Raises:
        ConfigError: the footage has no shots.
    """
    m = _weighted_means(footage)
    n_shots = len(tuple(footage.shots))
    duration_s = float(footage.duration_s) or sum(float(s.descriptors.length_s) for s in footage.shots)
    mean_shot_s = max(duration_s / n_shots, 1e-3)
    # A single shot has no cuts however short it is: a 3 s photo must not read as a fast edit.
    cut_pace = 0.0 if n_shots == 1 else _clip(math.log2(LONG_SHOT_S / mean_shot_s)
                                              / math.log2(LONG_SHOT_S / SHORTEST_SHOT_S))
    cuts_per_s = (n_shots - 1) / duration_s if duration_s > 0 else 0.0
    motion = _clip(m["motion_energy"] / MOTION_FULL)
    contrast = _clip(m["contrast"] / 0.25)
    colour = _clip(m["colourfulness"] / 100.0)
    luma = _clip((m["brightness"] - 0.1) / 0.6)
    warm = _clip(0.5 + 2.0 * m["warmth"])
    sat = _clip(m["saturation"] / 0.6)
    return np.array([0.7 * cut_pace + 0.3 * motion,
                     0.5 * motion + 0.25 * contrast + 0.25 * colour,
                     luma,
                     0.4 * warm + 0.3 * sat + 0.3 * luma,
                     0.5 * _clip(cuts_per_s / 2.0) + 0.5 * colour], dtype=np.float32)


def music_feel(analysis: MusicAnalysis) -> np.ndarray:
    """Map a music analysis onto the feel axes (formulas in the module docstring).

    Args:
        analysis: a ``crossmodal_match.audio.MusicAnalysis``.

    Returns:
        np.ndarray [shape=(5,), float32] in [0, 1], ordered as ``FEEL_DIMS``.
    """
    tempo = _clip((analysis.tempo_bpm - 60.0) / 120.0) if analysis.tempo_bpm else 0.0
    loud = _clip((analysis.loudness_db + 40.0) / 30.0)
    busy = _clip(analysis.onset_density_per_s / 8.0)
    return np.array([tempo,
                     0.4 * _clip(analysis.arousal) + 0.3 * loud + 0.3 * busy,
                     _clip(analysis.brightness),
                     _clip(analysis.valence),
                     busy], dtype=np.float32)


def feel_weights(weights: Mapping[str, float] | None = None) -> np.ndarray:
    """Axis weights as an array that sums to 1.

    Args:
        weights: a weight >= 0 per axis name; missing axes get 0. None: ``DEFAULT_FEEL_WEIGHTS``.

    Returns:
        np.ndarray [shape=(5,), float64], ordered as ``FEEL_DIMS``.

    Raises:
        ConfigError: an unknown axis, a negative or non-finite weight, or all weights zero.
    """
    weights = DEFAULT_FEEL_WEIGHTS if weights is None else weights
    unknown = sorted(set(weights) - set(FEEL_DIMS))
    if unknown:
        raise ConfigError(f"feel weights: unknown axes {unknown}; the axes are {list(FEEL_DIMS)}")
    w = np.array([float(weights.get(d, 0.0)) for d in FEEL_DIMS])
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ConfigError(f"feel weights must be finite, >= 0 and not all 0, got {dict(weights)!r}")
    return w / w.sum()


def feel_similarity(query: np.ndarray, candidates: np.ndarray | Sequence[np.ndarray], *,
                    weights: Mapping[str, float] | None = None) -> np.ndarray:
    """How alike two feels are: 1 - the weighted mean absolute difference over the axes.

    Feel vectors are not compared by cosine: they are all non-negative, so a calm [0.1, ...] and an energetic
    [0.9, ...] vector would point the same way.

    Args:
        query: np.ndarray [shape=(5,)] in [0, 1], e.g. ``footage_feel(...)``.
        candidates: np.ndarray [shape=(n, 5)] (or one (5,) vector), e.g. stacked ``music_feel(...)`` rows.
        weights: per-axis weights (see ``feel_weights``).

    Returns:
        np.ndarray [shape=(n,), float32] in [0, 1]; 1 for identical feels.

    Raises:
        ConfigError: a vector is not 5-dimensional.
    """
    q = np.asarray(query, dtype=np.float64)
    c = np.atleast_2d(np.asarray(candidates, dtype=np.float64))
    if q.shape != (len(FEEL_DIMS),) or c.shape[1:] != (len(FEEL_DIMS),):
        raise ConfigError(f"feel vectors must have {len(FEEL_DIMS)} values ({', '.join(FEEL_DIMS)}); "
                          f"got query {q.shape} and candidates {c.shape}")
    return (1.0 - np.abs(c - q) @ feel_weights(weights)).astype(np.float32)


class DescriptorEncoder:
    """Encoder of footage and music into the feel space (``FEEL_DIMS``), pure numpy, always available.

    It encodes analysed footage and music, not raw pixels or words: ``encode_texts`` and ``encode_images`` raise
    ``ConfigError`` (use ``TextEncoder`` for the brief and ``ClipEncoder`` for picture semantics). Its vectors
    are *not* L2-normalised (each axis keeps its [0, 1] meaning); compare them with ``feel_similarity``.
    """

    name = f"feel-v{FEEL_VERSION}"
    dim = len(FEEL_DIMS)
    dims = FEEL_DIMS

    def encode_footage(self, footage: Footage) -> np.ndarray:
        """``footage_feel(footage)``: np.ndarray [shape=(5,), float32] in [0, 1]."""
        return footage_feel(footage)

    def encode_music(self, analysis: MusicAnalysis) -> np.ndarray:
        """``music_feel(analysis)``: np.ndarray [shape=(5,), float32] in [0, 1]."""
        return music_feel(analysis)

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """Not supported: feel comes from measured footage and music, not from words.

        Raises:
            ConfigError: always.
        """
        raise ConfigError("the descriptor (feel) encoder does not encode text; use TextEncoder "
                          "(create_encoder('text')) for briefs and copy lines")

    def encode_images(self, images: list[np.ndarray]) -> np.ndarray:
        """Not supported: a picture's feel needs its shots (pace, motion); analyse footage and use encode_footage.

        Raises:
            ConfigError: always.
        """
        raise ConfigError("the descriptor (feel) encoder does not encode raw images; run "
                          "crossmodal_match.footage.analyze_footage on the file and call encode_footage, or use "
                          "ClipEncoder for picture semantics")
