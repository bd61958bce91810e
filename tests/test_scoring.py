"""Scoring features at known points, their ranges and errors, fusion, speed and the one-line explanation."""

from __future__ import annotations

import time

import numpy as np
import pytest

from crossmodal_match import scoring
from crossmodal_match.errors import ConfigError
from crossmodal_match.scoring import FEATURES, ScoreBreakdown


def _unit_rows(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.normal(size=(n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_cosine_matrix_matches_numpy_and_checks_its_input():
    rng = np.random.default_rng(0)
    a, b = _unit_rows(rng, 3, 8), _unit_rows(rng, 5, 8)
    sims = scoring.cosine_matrix(a, b)
    assert sims.shape == (3, 5)
    np.testing.assert_allclose(sims, a @ b.T, atol=1e-6)
    np.testing.assert_allclose(np.diag(scoring.cosine_matrix(a, a)), 1.0, atol=1e-6)
    with pytest.raises(ConfigError, match="L2-normalised"):
        scoring.cosine_matrix(a * 2, b)
    with pytest.raises(ConfigError, match=r"\(3, 8\) and \(5, 4\)"):
        scoring.cosine_matrix(a, b[:, :4])


@pytest.mark.parametrize(("bpm", "cuts_per_min", "expected"), [
    (120, 30, 1.0),  # a cut every 4 beats
    (120, 60, 1.0),  # every 2 beats
    (120, 120, 0.85),  # every beat: on the grid, mildly less preferred
    (120, 15, 0.85),  # every 8 beats
    (90, 30, 0.25),  # every 3 beats: 0.42 octaves from 4, off the grid
])
def test_tempo_fit_prefers_cuts_on_the_beat_grid(bpm, cuts_per_min, expected):
    assert float(scoring.tempo_fit(cuts_per_min=cuts_per_min, bpm=bpm)) == pytest.approx(expected, abs=0.02)


def test_tempo_fit_vectorised_neutral_and_errors():
    bpm = np.array([60.0, 120.0, 124.0, 480.0, 0.0, np.nan])
    fit = scoring.tempo_fit(cuts_per_min=30, bpm=bpm)
    assert fit.shape == (6,)
    assert fit[2] > 0.95  # 3% off the grid barely costs
    assert fit[3] < 0.01  # a cut every 16 beats: off the sensible multiples
    assert list(fit[4:]) == [0.5, 0.5]  # no pulse: neutral
    assert float(scoring.tempo_fit(cuts_per_min=0, bpm=120)) == 0.5  # one shot: no pace to match
    np.testing.assert_array_equal(scoring.nearest_beats_per_cut(cuts_per_min=30, bpm=bpm[:5]), [2, 4, 4, 8, 0])
    with pytest.raises(ConfigError, match="bpm"):
        scoring.tempo_fit(cuts_per_min=30, bpm=-120)


def test_other_features_at_known_points():
    assert float(scoring.semantic_fit(1.0)) == 1.0 and float(scoring.semantic_fit(-1.0)) == 0.0
    np.testing.assert_allclose(scoring.semantic_fit(np.array([0.0, np.nan])), [0.5, 0.5])
    assert float(scoring.energy_fit(footage_energy=0.4, music_energy=0.4)) == 1.0
    assert float(scoring.energy_fit(footage_energy=0.4, music_energy=0.65)) == pytest.approx(np.exp(-0.5))
    assert float(scoring.mood_fit(footage_valence=0.2, footage_arousal=0.3, music_valence=0.2,
                                  music_arousal=0.6)) == pytest.approx(np.exp(-0.5))
    np.testing.assert_allclose(scoring.duration_fit(footage_s=30, track_s=np.array([60, 30, 27, 15, np.nan])),
                               [1.0, 1.0, 0.81, 0.25, 0.5])
    np.testing.assert_allclose(scoring.popularity_fit(use_count=np.array([0, 9, 99])), [0, 0.5, 1])
    np.testing.assert_allclose(scoring.popularity_fit(use_count=np.zeros(3)), 0.5)


@pytest.mark.parametrize("call", [
    lambda: scoring.energy_fit(footage_energy=1.5, music_energy=0.2),
    lambda: scoring.mood_fit(footage_valence=0.5, footage_arousal=0.5, music_valence=-0.1, music_arousal=0.5),
    lambda: scoring.duration_fit(footage_s=0, track_s=10),
    lambda: scoring.duration_fit(footage_s=10, track_s=-1),
    lambda: scoring.popularity_fit(use_count=[-1, 2]),
])
def test_out_of_range_inputs_raise_config_error(call):
    with pytest.raises(ConfigError):
        call()


def _feature_matrix(rng: np.random.Generator, n: int) -> np.ndarray:
    columns = {
        "semantic": scoring.semantic_fit(rng.uniform(-1, 1, n)),
        "tempo": scoring.tempo_fit(cuts_per_min=rng.uniform(1, 90), bpm=rng.uniform(40, 220, n)),
        "energy": scoring.energy_fit(footage_energy=rng.uniform(), music_energy=rng.uniform(0, 1, n)),
        "mood": scoring.mood_fit(footage_valence=rng.uniform(), footage_arousal=rng.uniform(),
                                 music_valence=rng.uniform(0, 1, n), music_arousal=rng.uniform(0, 1, n)),
        "duration": scoring.duration_fit(footage_s=rng.uniform(5, 120), track_s=rng.uniform(0, 300, n)),
        "popularity": scoring.popularity_fit(use_count=rng.integers(0, 1000, n)),
    }
    return np.stack([columns[f] for f in FEATURES], axis=1)


def test_every_feature_lies_in_unit_interval_and_combine_is_fast():
    rng = np.random.default_rng(1)
    x = _feature_matrix(rng, 10_000)
    assert x.shape == (10_000, len(FEATURES)) and x.min() >= 0 and x.max() <= 1
    w = np.full(len(FEATURES), 1 / len(FEATURES))
    start = time.perf_counter()
    for _ in range(10):
        totals = scoring.combine(x, w)
    assert (time.perf_counter() - start) / 10 < 0.02  # 10,000 candidates: well under a frame's time
    np.testing.assert_allclose(totals, x.mean(axis=1))
    assert totals.min() >= 0 and totals.max() <= 1
    with pytest.raises(ConfigError, match=r"\(10000, 6\) and \(5,\)"):
        scoring.combine(x, w[:5])
    with pytest.raises(ConfigError, match="finite"):
        scoring.combine(np.full((2, 6), np.nan), w)


def test_explain_names_the_strongest_reasons_and_a_weakness():
    weights = {"semantic": 0.3, "tempo": 0.2, "energy": 0.15, "mood": 0.2, "duration": 0.1, "popularity": 0.05}
    features = np.array([[0.9, 1.0, 0.2, 0.8, 0.7, 0.5]])
    facts = {"bpm": 120.0, "beats_per_cut": 2, "mood": "calm", "brief_terms": ["beach"]}
    [b] = scoring.breakdowns(features, weights, facts=[facts])
    assert b.total == pytest.approx(float(features[0] @ [weights[f] for f in FEATURES]))
    assert b.explain() == ("brief mentions 'beach', fits the pace (120 bpm for a cut every 2 beats), calm mood "
                           "matches; but energy differs from the footage")
    short = ScoreBreakdown(features={"duration": 0.1, "tempo": 0.5}, weights={"duration": 1.0, "tempo": 1.0},
                           total=0.6, facts={"track_s": 10.0, "footage_s": 30.0})
    assert short.explain() == "no strong match; but shorter than the draft (10 s for 30 s)"
    with pytest.raises(ConfigError, match="unknown feature"):
        ScoreBreakdown(features={"loudness": 1.0}, weights={}, total=0.0)
