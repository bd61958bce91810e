"""Diversity-aware choice of k titles out of N: greedy MAP inference of a determinantal point process.

Kernel ``L = diag(q) S diag(q)`` with ``S`` the cosine-similarity Gram matrix of unit embeddings and
``q = exp(a * z)``, ``z`` the standardised quality (predicted CTR), ``a = theta / (2 (1 - theta))``: ``theta`` near 1
trusts quality, near 0 favours diversity (Chen, Zhang & Zhou, "Fast greedy MAP inference for DPP", NeurIPS 2018,
the method feed rankers use). Pure functions on arrays.
"""

from __future__ import annotations

import numpy as np


def dpp_select(quality: np.ndarray, embeddings: np.ndarray, k: int, *, theta: float = 0.7) -> list[int]:
    """Indices of up to ``k`` items chosen greedily, in the order chosen (the first is the best quality).

    Args:
        quality: ``[shape=(n,)]`` higher is better.
        embeddings: ``[shape=(n, d)]`` unit-length rows.
        k: how many to choose.
        theta: quality/diversity trade-off in (0, 1).

    Returns:
        Chosen indices; fewer than ``k`` only when ``n < k`` or the rest are exact duplicates.
    """
    if not 0 < theta < 1:
        raise ValueError(f"theta must be in (0, 1), got {theta}")
    quality = np.asarray(quality, dtype=np.float64)
    n = len(quality)
    if n == 0 or k <= 0:
        return []
    z = (quality - quality.mean()) / (quality.std() + 1e-12)
    q = np.exp(theta / (2 * (1 - theta)) * z)
    emb = np.asarray(embeddings, dtype=np.float64)
    kernel = q[:, None] * (emb @ emb.T) * q[None, :]
    cis = np.zeros((min(k, n), n))
    gains = np.diag(kernel).copy()
    chosen = [int(np.argmax(gains))]
    while len(chosen) < min(k, n):
        j, m = chosen[-1], len(chosen) - 1
        e = (kernel[j] - cis[:m, j] @ cis[:m]) / np.sqrt(max(gains[j], 1e-12))
        cis[m] = e
        gains = gains - e**2
        gains[chosen] = -np.inf
        nxt = int(np.argmax(gains))
        if gains[nxt] < 1e-10:
            break
        chosen.append(nxt)
    return chosen


def mean_pairwise_distance(embeddings: np.ndarray) -> float:
    """Mean cosine distance ``1 - cos`` over distinct pairs of unit rows (0 for fewer than two rows)."""
    emb = np.asarray(embeddings, dtype=np.float64)
    if len(emb) < 2:
        return 0.0
    sims = emb @ emb.T
    iu = np.triu_indices(len(emb), 1)
    return float(np.mean(1 - sims[iu]))


def compare_to_topk(quality: np.ndarray, embeddings: np.ndarray, k: int, *, theta: float = 0.7) -> dict:
    """Mean quality and diversity of the DPP choice against plain top-k.

    Returns:
        ``{"quality_kept": mean q(dpp) / mean q(topk), "diversity_gain": div(dpp) - div(topk), ...}`` where
        ``div`` is the mean pairwise cosine distance (an absolute gain: top-k may have zero diversity).
    """
    quality = np.asarray(quality, dtype=np.float64)
    top = list(np.argsort(-quality)[:k])
    dpp = dpp_select(quality, embeddings, k, theta=theta)
    q_top, q_dpp = quality[top].mean(), quality[dpp].mean()
    d_top, d_dpp = mean_pairwise_distance(embeddings[top]), mean_pairwise_distance(embeddings[dpp])
    return {"quality_topk": float(q_top), "quality_dpp": float(q_dpp), "quality_kept": float(q_dpp / q_top),
            "diversity_topk": d_top, "diversity_dpp": d_dpp,
            "diversity_gain": float(d_dpp - d_top)}
