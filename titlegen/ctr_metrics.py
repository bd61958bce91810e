"""Click-model metrics as pure functions on arrays (no files, no models); tested on hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd


def pairwise_accuracy(score_a: np.ndarray, score_b: np.ndarray, a_wins: np.ndarray) -> float:
    """Share of pairs where the higher-scored arm is the one that won; a score tie counts one half."""
    diff = np.asarray(score_a, float) - np.asarray(score_b, float)
    right = np.where(np.asarray(a_wins, bool), diff > 0, diff < 0)
    return float(np.mean(np.where(diff == 0, 0.5, right))) if len(diff) else float("nan")


def pairwise_log_loss(prob_a: np.ndarray, a_wins: np.ndarray) -> float:
    """Mean log-loss (nats) of the predicted probability that arm a wins."""
    p = np.clip(np.asarray(prob_a, float), 1e-7, 1 - 1e-7)
    y = np.asarray(a_wins, float)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def top1_accuracy(arms: pd.DataFrame, score: np.ndarray) -> tuple[float, float]:
    """Share of tests where the top-scored arm has the highest CTR, and chance (mean of 1/k over tests).

    Args:
        arms: frame with ``test`` and ``ctr``.
        score: one score per row of ``arms``.
    """
    df = arms.assign(score=np.asarray(score, float))
    hits, chance = [], []
    for _, g in df.groupby("test"):
        hits.append(g["ctr"].iloc[int(np.argmax(g["score"].to_numpy()))] == g["ctr"].max())
        chance.append(1.0 / len(g))
    return float(np.mean(hits)), float(np.mean(chance))


def bootstrap_mean_ci(values: np.ndarray, *, n_boot: int = 2000, seed: int = 0) -> list[float]:
    """95 % percentile-bootstrap interval ``[low, high]`` of the mean of ``values`` (shape ``(n,)``, one value per
    test, so resampling is by test). Paired differences go in as one array of per-test differences."""
    values = np.asarray(values, float)
    rng = np.random.default_rng(seed)
    boots = [values[rng.integers(0, len(values), len(values))].mean() for _ in range(n_boot)]
    return [float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))]


def replay_uplift(arms: pd.DataFrame, score: np.ndarray, *, n_boot: int = 2000, seed: int = 0) -> dict:
    """Uplift of picking the top-scored arm of each test, against the test's mean arm.

    Per test: ``ctr(pick) / mean(ctr of arms) - 1``; reported as the mean over tests with a bootstrap 95 %
    interval (resampling tests), beside the oracle (the realised best arm) and random choice (0 by construction).

    Returns:
        ``{"uplift", "ci95", "oracle", "share_of_oracle", "tests"}``.
    """
    df = arms.assign(score=np.asarray(score, float))
    picked, oracle = [], []
    for _, g in df.groupby("test"):
        mean = g["ctr"].mean()
        if mean <= 0:
            continue
        picked.append(g["ctr"].iloc[int(np.argmax(g["score"].to_numpy()))] / mean - 1)
        oracle.append(g["ctr"].max() / mean - 1)
    picked, oracle = np.array(picked), np.array(oracle)
    return {"uplift": float(picked.mean()), "ci95": bootstrap_mean_ci(picked, n_boot=n_boot, seed=seed),
            "oracle": float(oracle.mean()), "share_of_oracle": float(picked.mean() / oracle.mean()),
            "random": 0.0, "tests": int(len(picked))}


def group_auc(scores: list[np.ndarray], labels: list[np.ndarray]) -> float:
    """Mean over groups (impressions) of the AUC of clicked vs not clicked; groups of one class are skipped."""
    from sklearn.metrics import roc_auc_score

    aucs = [roc_auc_score(y, s) for s, y in zip(scores, labels) if 0 < np.sum(y) < len(y)]
    return float(np.mean(aucs)) if aucs else float("nan")


def calibration_bins(prob: np.ndarray, outcome: np.ndarray, *, bins: int = 10) -> list[dict]:
    """Reliability table: per equal-width bin of predicted probability, mean prediction, outcome rate, count."""
    prob, outcome = np.asarray(prob, float), np.asarray(outcome, float)
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(prob, edges) - 1, 0, bins - 1)
    return [{"bin": b, "predicted": float(prob[idx == b].mean()), "observed": float(outcome[idx == b].mean()),
             "n": int((idx == b).sum())} for b in range(bins) if (idx == b).any()]
