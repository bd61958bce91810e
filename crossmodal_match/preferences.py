"""Preference pairs from the feedback log: within one shown list, what the creator kept beat what they did not.

``pairs_from_events`` reads ``FeedbackStore.events()`` rows: a candidate whose last action is kept, exported or
swapped in beats every candidate of the same list whose last action is skipped or swapped out, or that was left
alone. Co-usage counts add weaker pairs: within a list whose ``context["category"]`` has counts, a candidate
used at least twice as often beats the other. ``pairwise_accuracy`` scores weights on such pairs. Pure numpy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from crossmodal_match.feedback import POSITIVE_ACTIONS
from crossmodal_match.scoring import FEATURES, NEUTRAL

CO_USAGE_KEY = "category"


@dataclass(frozen=True)
class PairSet:
    """Preference pairs: row i says the candidate with features x_a beat x_b, as ``diffs[i] = x_a - x_b``.

    Attributes:
        diffs: np.ndarray [shape=(p, len(FEATURES)), float64].
        weights: np.ndarray [shape=(p,), float64]: 1 / (candidates beaten) for a creator's choice, so each kept
            candidate weighs 1 in all; ``co_usage_weight`` / (its pairs) per list for co-usage.
        sessions: np.ndarray [shape=(p,), object], the session each pair's list belongs to.
        explicit: np.ndarray [shape=(p,), bool], True for pairs from creator actions (only those validate).
        lists: number of shown lists that gave at least one explicit pair.
    """

    diffs: np.ndarray
    weights: np.ndarray
    sessions: np.ndarray
    explicit: np.ndarray
    lists: int

    def subset(self, mask: np.ndarray) -> PairSet:
        return PairSet(self.diffs[mask], self.weights[mask], self.sessions[mask], self.explicit[mask], self.lists)


def _list_pairs(x: np.ndarray, better: np.ndarray, worse: np.ndarray) -> np.ndarray:
    """Differences x[i] - x[j] for every i in ``better`` and j in ``worse``: [shape=(len(b) * len(w), k)]."""
    return (x[better][:, None, :] - x[worse][None, :, :]).reshape(-1, x.shape[1])


def pairs_from_events(events, *, co_usage: dict[tuple[str, str], int] | None = None,
                      co_usage_weight: float = 0.25) -> PairSet:
    """Turn ``FeedbackStore.events()`` rows into preference pairs within each shown list.

    Args:
        events: pandas.DataFrame with columns ``shown_id``, ``session_id``, ``candidate_id``, ``features``
            (dict; a missing feature counts as 0.5, neutral), ``actions`` (tuple, time order) and ``context``.
        co_usage: (context, candidate_id) -> count, e.g. ``FeedbackStore.co_usage()``.
        co_usage_weight: weight of a co-usage pair relative to a creator's choice, >= 0.

    Returns:
        the pairs (empty arrays when there are none).
    """
    diffs, weights, sessions, explicit, lists = [], [], [], [], 0
    co_usage = co_usage or {}
    if len(events):
        x_all = np.array([[float(f.get(n, NEUTRAL)) for n in FEATURES] for f in events["features"]])
        positive = np.array([bool(a) and a[-1] in POSITIVE_ACTIONS for a in events["actions"]])
        shown = events["shown_id"].to_numpy()
        for shown_id in dict.fromkeys(shown):  # first-seen order, i.e. oldest list first
            rows = np.flatnonzero(shown == shown_id)
            x, pos, session = x_all[rows], positive[rows], events["session_id"].iat[rows[0]]
            found = [_list_pairs(x, np.flatnonzero(pos), np.flatnonzero(~pos))]
            lists += int(len(found[0]) > 0)
            context = events["context"].iat[rows[0]] or {}
            if co_usage_weight > 0 and isinstance(context.get(CO_USAGE_KEY), str):
                used = np.log1p([co_usage.get((context[CO_USAGE_KEY], c), 0) for c in
                                 events["candidate_id"].iloc[rows]])
                better, worse = np.nonzero(used[:, None] - used[None, :] >= math.log(2.0))
                found.append(x[better] - x[worse])
            for i, d in enumerate(found):
                # Pairs sharing a winner are not independent evidence: each kept candidate (or each list's
                # co-usage ranking) weighs 1 (co_usage_weight) in total, however many it beat.
                share = 1.0 / max(1, int((~pos).sum())) if i == 0 else co_usage_weight / max(1, len(d))
                diffs.append(d)
                weights.append(np.full(len(d), share))
                sessions.append(np.full(len(d), session, dtype=object))
                explicit.append(np.full(len(d), i == 0))
    if not diffs:
        return PairSet(np.zeros((0, len(FEATURES))), np.zeros(0), np.zeros(0, dtype=object), np.zeros(0, bool), 0)
    return PairSet(np.concatenate(diffs), np.concatenate(weights), np.concatenate(sessions),
                   np.concatenate(explicit), lists)


def pairwise_accuracy(weights: np.ndarray, diffs: np.ndarray) -> float:
    """Share of pairs the weights order correctly (ties count half).

    Args:
        weights: np.ndarray [shape=(k,)].
        diffs: np.ndarray [shape=(p, k)], winner minus loser.

    Returns:
        accuracy in [0, 1]; NaN when there are no pairs.
    """
    if not len(diffs):
        return float("nan")
    margin = diffs @ weights
    return float(np.mean(np.where(np.abs(margin) < 1e-12, 0.5, margin > 0)))
