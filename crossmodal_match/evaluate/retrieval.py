"""Retrieval metrics with exact tie handling, a bootstrap, and the report writer of the retrieval evaluations.

A query has one target among n candidates. Its position is given by two counts: ``better``, how many other
candidates score strictly higher, and ``tied``, how many other candidates score exactly the same. Ties are
broken uniformly at random, and every metric is its expectation under that tie-break, so a system that gives
every candidate the same score (a popularity count that is zero everywhere) measures exactly as random does
instead of looking perfect (optimistic ties) or hopeless (pessimistic ties):

- recall@k: P(rank <= k) = clip((k - better) / (tied + 1), 0, 1), averaged over queries;
- MRR: E[1 / rank] with rank uniform on better+1 .. better+tied+1, averaged over queries;
- median rank: the median over queries of the expected rank 1 + better + tied / 2.

Used by ``copy_retrieval`` (YouTube description -> title) and ``music_usage`` (MGSV-EC category -> track).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from crossmodal_match.errors import ConfigError

# Everything below this line of an existing report (hand-written notes) survives a regeneration.
NOTES_MARKER = "<!-- notes below are hand-written and kept when the report is regenerated -->"
CURVE_KS: tuple[int, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


def target_ranks(scores: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each query's target sits among its candidates.

    Args:
        scores: np.ndarray [shape=(q, n), float], higher = better; every row scores the same n candidates.
        targets: np.ndarray [shape=(q,), int], the column of each query's target.

    Returns:
        ``(better, tied)``: np.ndarray [shape=(q,), int64] each; candidates other than the target scoring
        strictly higher, and exactly equal.

    Raises:
        ConfigError: shapes that do not line up, a target outside ``[0, n)``, or non-finite scores.
    """
    s, t = np.asarray(scores, dtype=np.float64), np.asarray(targets)
    if s.ndim != 2 or t.ndim != 1 or s.shape[0] != t.shape[0]:
        raise ConfigError(f"target_ranks needs scores (q, n) and targets (q,), got {s.shape} and {t.shape}")
    if t.size and (t.min() < 0 or t.max() >= s.shape[1]):
        raise ConfigError(f"targets must index the {s.shape[1]} candidates, got {t.min()}..{t.max()}")
    if not np.isfinite(s).all():
        raise ConfigError("target_ranks: scores must be finite")
    own = s[np.arange(t.size), t][:, None]
    better = (s > own).sum(axis=1)
    tied = (s == own).sum(axis=1) - 1  # the target equals itself
    return better.astype(np.int64), tied.astype(np.int64)


def _counts(better: Any, tied: Any | None) -> tuple[np.ndarray, np.ndarray]:
    b = np.asarray(better, dtype=np.int64)
    t = np.zeros_like(b) if tied is None else np.asarray(tied, dtype=np.int64)
    if b.ndim != 1 or t.shape != b.shape:
        raise ConfigError(f"better and tied must be 1-D of the same length, got {b.shape} and {t.shape}")
    if b.size and (b.min() < 0 or t.min() < 0):
        raise ConfigError("better and tied are counts of candidates and must be >= 0")
    return b, t


def hits_at_k(better: Any, *, k: int, tied: Any | None = None) -> np.ndarray:
    """Per query, the probability that the target is in the top ``k``.

    Args:
        better: np.ndarray [shape=(q,), int], candidates scoring strictly higher than the target.
        k: cut-off, >= 1.
        tied: np.ndarray [shape=(q,), int], other candidates tied with the target; None = no ties.

    Returns:
        np.ndarray [shape=(q,), float64] in [0, 1] (exactly 0 or 1 without ties).

    Raises:
        ConfigError: ``k`` < 1 or bad counts.
    """
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ConfigError(f"k must be an integer >= 1, got {k!r}")
    b, t = _counts(better, tied)
    return np.clip((k - b) / (t + 1.0), 0.0, 1.0)


def recall_at_k(better: Any, *, k: int, tied: Any | None = None) -> float:
    """Recall@k: the mean of ``hits_at_k`` over queries (NaN for no queries). Args as ``hits_at_k``."""
    hits = hits_at_k(better, k=k, tied=tied)
    return float(hits.mean()) if hits.size else float("nan")


def reciprocal_ranks(better: Any, *, tied: Any | None = None) -> np.ndarray:
    """Per query, E[1 / rank] with the rank uniform on ``better + 1 .. better + tied + 1``.

    Args:
        better, tied: as ``hits_at_k``.

    Returns:
        np.ndarray [shape=(q,), float64] in (0, 1].
    """
    b, t = _counts(better, tied)
    if not b.size:
        return np.zeros(0)
    # harmonic[m] = 1 + 1/2 + ... + 1/m, so the mean of 1/r over a block of ranks is a difference of two entries
    harmonic = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, int((b + t).max()) + 2))])
    return (harmonic[b + t + 1] - harmonic[b]) / (t + 1.0)


def mean_reciprocal_rank(better: Any, *, tied: Any | None = None) -> float:
    """MRR: the mean of ``reciprocal_ranks`` (NaN for no queries)."""
    rr = reciprocal_ranks(better, tied=tied)
    return float(rr.mean()) if rr.size else float("nan")


def expected_ranks(better: Any, *, tied: Any | None = None) -> np.ndarray:
    """Per query, the expected 1-based rank ``1 + better + tied / 2``: np.ndarray [shape=(q,), float64]."""
    b, t = _counts(better, tied)
    return 1.0 + b + t / 2.0


def median_rank(better: Any, *, tied: Any | None = None) -> float:
    """The median over queries of ``expected_ranks`` (1 = always first; NaN for no queries)."""
    r = expected_ranks(better, tied=tied)
    return float(np.median(r)) if r.size else float("nan")


def bootstrap_ci(values: Any, *, n_boot: int = 1000, level: float = 0.95, seed: int = 0,
                 statistic: str = "mean") -> tuple[float, float]:
    """Percentile bootstrap interval of a per-query statistic, resampling queries with replacement.

    Args:
        values: np.ndarray [shape=(q,), float], one value per query (e.g. ``hits_at_k``), q >= 1.
        n_boot: bootstrap resamples, >= 1.
        level: coverage in (0, 1), e.g. 0.95.
        seed: seeds the resampling.
        statistic: ``"mean"`` or ``"median"``.

    Returns:
        ``(low, high)``.

    Raises:
        ConfigError: no values, a bad ``n_boot``, ``level`` or ``statistic``.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or not v.size:
        raise ConfigError(f"bootstrap_ci needs a non-empty 1-D array, got shape {v.shape}")
    if n_boot < 1 or not 0 < level < 1 or statistic not in ("mean", "median"):
        raise ConfigError(f"bootstrap_ci: n_boot >= 1, 0 < level < 1, statistic mean|median; got {n_boot!r}, "
                          f"{level!r}, {statistic!r}")
    rng = np.random.default_rng(seed)
    stats = np.empty(n_boot)
    for i in range(n_boot):  # a loop, not a (n_boot, q) index matrix: q can be large
        sample = v[rng.integers(0, v.size, v.size)]
        stats[i] = sample.mean() if statistic == "mean" else np.median(sample)
    alpha = (1.0 - level) / 2.0
    return float(np.quantile(stats, alpha)), float(np.quantile(stats, 1.0 - alpha))


def summarise(better: Any, *, tied: Any | None = None, n_candidates: int, n_boot: int = 1000,
              seed: int = 0) -> dict[str, Any]:
    """The metrics of one system on one query set.

    Args:
        better, tied: as ``hits_at_k``.
        n_candidates: how many candidates each query ranked (for the recall curve's range).
        n_boot: bootstrap resamples for the 95% interval of R@10 and of the median rank.
        seed: seeds the bootstrap.

    Returns:
        ``{"queries", "r_at_1", "r_at_10", "r_at_10_ci95", "mrr", "median_rank", "median_rank_ci95",
        "recall_curve": {k: recall}}``.

    Raises:
        ConfigError: no queries or bad counts.
    """
    b, t = _counts(better, tied)
    if not b.size:
        raise ConfigError("summarise: no queries")
    hits10 = hits_at_k(b, k=10, tied=t)
    ranks = expected_ranks(b, tied=t)
    return {"queries": int(b.size), "r_at_1": recall_at_k(b, k=1, tied=t), "r_at_10": float(hits10.mean()),
            "r_at_10_ci95": list(bootstrap_ci(hits10, n_boot=n_boot, seed=seed)),
            "mrr": mean_reciprocal_rank(b, tied=t), "median_rank": float(np.median(ranks)),
            "median_rank_ci95": list(bootstrap_ci(ranks, n_boot=n_boot, seed=seed, statistic="median")),
            "recall_curve": {str(k): recall_at_k(b, k=k, tied=t) for k in CURVE_KS if k <= n_candidates}}


def metrics_table(systems: dict[str, dict[str, Any]], *, labels: dict[str, str] | None = None) -> list[str]:
    """Markdown table rows (header included) of ``summarise`` outputs, one row per system."""
    rows = ["| system | queries | R@1 | R@10 (95% CI) | MRR | median rank (95% CI) |", "|---|---|---|---|---|---|"]
    for name, m in systems.items():
        lo, hi = m["r_at_10_ci95"]
        mlo, mhi = m["median_rank_ci95"]
        rows.append(f"| {(labels or {}).get(name, name)} | {m['queries']} | {m['r_at_1']:.3f} | {m['r_at_10']:.3f} "
                    f"({lo:.3f}-{hi:.3f}) | {m['mrr']:.3f} | {m['median_rank']:.0f} ({mlo:.0f}-{mhi:.0f}) |")
    return rows


def write_report(metrics: dict[str, Any], *, out_dir: Path, name: str, lines: list[str], command: str,
                 plot_groups: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Write ``<name>.json``, ``<name>.md`` and ``<name>.png`` to ``out_dir``.

    Args:
        metrics: the evaluator's dict (written as JSON with the command).
        out_dir: target folder (created).
        name: file stem, e.g. ``"copy"``.
        lines: the markdown body above the hand-written notes (title, command, tables, generated notes);
            notes after ``NOTES_MARKER`` in an existing ``<name>.md`` are kept.
        command: the exact command that made the report.
        plot_groups: panel title -> {system label -> ``summarise`` output}: one recall@k panel each.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps({**metrics, "command": command}, indent=1,
                                                     ensure_ascii=False) + "\n", encoding="utf-8")
    target = out_dir / f"{name}.md"
    old = target.read_text(encoding="utf-8") if target.is_file() else ""
    notes = old[old.index(NOTES_MARKER):] if NOTES_MARKER in old else NOTES_MARKER + "\n"
    target.write_text("\n".join(lines) + "\n\n" + notes, encoding="utf-8")
    _plot(plot_groups, out_dir / f"{name}.png")


def _plot(groups: dict[str, dict[str, dict[str, Any]]], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(groups), figsize=(5.5 * len(groups), 4.2), squeeze=False)
    # a shared y range sized to the data, so near-chance systems are not squashed against the axis
    top = max(v for systems in groups.values() for m in systems.values() for v in m["recall_curve"].values())
    for ax, (title, systems) in zip(axes[0], groups.items()):
        for label, m in systems.items():
            ks = [int(k) for k in m["recall_curve"]]
            line, = ax.plot(ks, list(m["recall_curve"].values()), marker="o", ms=3, label=label)
            lo, hi = m["r_at_10_ci95"]
            ax.errorbar([10], [m["r_at_10"]], yerr=[[m["r_at_10"] - lo], [hi - m["r_at_10"]]], color=line.get_color(),
                        capsize=3, lw=1)
        ax.axvline(10, color="grey", ls=":", lw=0.8)
        ax.set(xscale="log", xlabel="k (candidates looked at)", ylabel="recall@k",
               ylim=(0, min(1.02, 1.1 * top + 0.02)), title=title)
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
