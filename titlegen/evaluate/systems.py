"""The click models compared in the evaluations: the baselines and the model that ships.

Each system gives a utility per arm of a split (``"train"``, ``"val"``) and per MIND title (``"mind"``), fitted on
the training tests only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from titlegen.ctr import ClickHead, ClickModelConfig, fit_pairwise_logistic
from titlegen.evaluate.prepare import Prepared, mind_pairs
from titlegen.ctr_metrics import pairwise_accuracy

C_GRID = (0.005, 0.02, 0.1, 0.5)
#: Weights of the n-gram utility tried when it is added to the dense model's (chosen on an inner split).
W_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
#: Folds of the training tests (by test id) on which C, w and hard or soft targets are chosen.
INNER_FOLDS = 5


@dataclass
class System:
    """A fitted scorer: ``utility[split]`` arrays and whether its utilities are calibrated log-odds."""

    name: str
    utility: dict[str, np.ndarray]
    probabilistic: bool
    detail: str = ""
    score_texts: object = None  # optional (titles) -> utilities, for texts outside the splits
    fitted: dict | None = None  # what the shipped model is built from (C, features, coefficients)


def _dense(prep: Prepared, split: str, *, embedding: bool, light: bool) -> np.ndarray:
    parts = ([prep.emb[split]] if embedding else []) + ([prep.light[split]] if light else [])
    return np.hstack(parts).astype(np.float64)


def _diffs(x_arms, x_mind, prep: Prepared, pair_rows, *, mind_weight: float, soft: bool = False):
    """(feature differences, targets, weights) of the training pairs (and MIND pairs) to fit on.

    With ``soft`` each pair enters twice, as a win with weight ``p_a_better`` and as a loss with weight
    ``1 - p_a_better``: the expected log-likelihood under the uncertainty of which arm is truly better, so a pair
    whose observed winner is mostly noise pulls the weights little (most pairs are far from significant).
    """
    pairs = prep.train_pairs.iloc[pair_rows] if pair_rows is not None else prep.train_pairs
    diffs = x_arms[pairs["a"].to_numpy()] - x_arms[pairs["b"].to_numpy()]
    wins = pairs["a_wins"].to_numpy().astype(float)
    weights = np.ones(len(pairs))
    stack = sparse.vstack if sparse.issparse(diffs) else np.vstack
    if soft:
        q = pairs["p_a_better"].to_numpy(float)
        diffs = stack([diffs, diffs])
        wins = np.concatenate([np.ones(len(q)), np.zeros(len(q))])
        weights = np.concatenate([q, 1 - q])
    if mind_weight > 0 and x_mind is not None:
        a, b = mind_pairs(prep.mind_train)
        diffs = stack([diffs, x_mind[a] - x_mind[b]])
        wins = np.concatenate([wins, np.ones(len(a))])
        weights = np.concatenate([weights, np.full(len(a), mind_weight)])
    return diffs, wins, weights


def _inner_folds(prep: Prepared) -> list[tuple[np.ndarray, pd.DataFrame]]:
    """:data:`INNER_FOLDS` ``(pair rows to fit on, pairs to check)`` splits of the *training* tests by test id.

    Settings are chosen by accuracy pooled over all folds: one 20 % inner split checks ~1,900 pairs, whose
    standard error (~1.1 points) is larger than the differences between the settings compared. As between the
    training and held-out tests, a fitting pair is dropped when either headline occurs in the fold's check tests.
    """
    test_id = prep.train_pairs["test"].str.split("/").str[0]
    fold = test_id.map(lambda t: int.from_bytes(hashlib.sha1(("inner:" + t).encode()).digest()[:4], "big")
                       % INNER_FOLDS).to_numpy()
    heads = prep.train["headline"].str.lower().to_numpy()
    head_a, head_b = heads[prep.train_pairs["a"].to_numpy()], heads[prep.train_pairs["b"].to_numpy()]
    out = []
    for k in range(INNER_FOLDS):
        seen = set(head_a[fold == k]) | set(head_b[fold == k])
        clean = ~(pd.Series(head_a).isin(seen).to_numpy() | pd.Series(head_b).isin(seen).to_numpy())
        out.append((np.flatnonzero((fold != k) & clean), prep.train_pairs[fold == k]))
    return out


def _pooled_accuracy(per_fold: list[tuple[np.ndarray, pd.DataFrame]]) -> float:
    """Pairwise accuracy over the check pairs of all folds, from ``(utility of the train arms, check pairs)``."""
    right = sum(pairwise_accuracy(u[ch["a"]], u[ch["b"]], ch["a_wins"]) * len(ch) for u, ch in per_fold)
    return right / sum(len(ch) for _, ch in per_fold)


def _tune_c(x_arms, x_mind, prep: Prepared, *, mind_weight: float, soft: bool = False) -> tuple[float, float]:
    """Pick C by pooled accuracy over the inner folds of the training tests: ``(C, its pooled accuracy)``."""
    folds = _inner_folds(prep)
    accs = {}
    for c in C_GRID:
        accs[c] = _pooled_accuracy([(x_arms @ fit_pairwise_logistic(
            *_diffs(x_arms, x_mind, prep, rows, mind_weight=mind_weight, soft=soft), c=c), check)
            for rows, check in folds])
    best = max(accs, key=accs.get)
    return best, round(float(accs[best]), 4)


def linear_system(prep: Prepared, name: str, *, embedding: bool, light: bool, mind_weight: float,
                  soft: bool = False) -> tuple[System, float]:
    """A pairwise logistic model on dense features (``soft``: see :func:`_diffs`); returns it and its tuned C."""
    x = {s: _dense(prep, s, embedding=embedding, light=light) for s in ("train", "val", "mind")}
    c, inner = _tune_c(x["train"], x["mind"], prep, mind_weight=mind_weight, soft=soft)
    coef = fit_pairwise_logistic(*_diffs(x["train"], x["mind"], prep, None, mind_weight=mind_weight, soft=soft), c=c)
    return System(name, {s: x[s] @ coef for s in x}, True, f"C={c}",
                  fitted={"c": c, "soft": soft, "inner_best": inner, "mind_weight": mind_weight, "light": light,
                          "embedding": embedding}), c


def bow_system(prep: Prepared, *, soft: bool = False) -> System:
    """Bag-of-words (unigrams + bigrams, binary) pairwise logistic model (``soft``: see :func:`_diffs`)."""
    from sklearn.feature_extraction.text import CountVectorizer

    vec = CountVectorizer(binary=True, min_df=2, ngram_range=(1, 2))
    x_train = vec.fit_transform(prep.train["headline"]).astype(np.float64).tocsr()
    x_val = vec.transform(prep.val["headline"]).astype(np.float64)
    c, inner = _tune_c(x_train, None, prep, mind_weight=0, soft=soft)
    coef = fit_pairwise_logistic(*_diffs(x_train, None, prep, None, mind_weight=0, soft=soft), c=c)
    score = lambda titles: vec.transform(titles).astype(np.float64) @ coef  # noqa: E731
    utility = {"train": x_train @ coef, "val": x_val @ coef}
    if prep.mind_titles:
        utility["mind"] = score(prep.mind_titles)
    return System("bag-of-words logistic", utility, True, f"C={c}", score_texts=score,
                  fitted={"c": c, "soft": soft, "inner_best": inner, "x_train": x_train, "coef": coef,
                          "terms": vec.get_feature_names_out()})


def ensemble_system(prep: Prepared, dense: System, bow: System, *, mind_weight: float,
                    name: str = "full + word n-grams") -> System:
    """The dense model plus ``w`` times the n-gram model, ``w`` chosen from :data:`W_GRID` on the inner folds.

    Both parts are refitted on each inner fold's fitting tests to choose ``w``, then used as fitted on all
    training tests.
    """
    x_dense = _dense(prep, "train", embedding=True, light=True)
    x_mind = _dense(prep, "mind", embedding=True, light=True)
    x_bow = bow.fitted["x_train"]
    per_fold = []
    for rows, check in _inner_folds(prep):
        u_dense = x_dense @ fit_pairwise_logistic(*_diffs(x_dense, x_mind, prep, rows, mind_weight=mind_weight,
                                                          soft=dense.fitted["soft"]), c=dense.fitted["c"])
        u_bow = x_bow @ fit_pairwise_logistic(*_diffs(x_bow, None, prep, rows, mind_weight=0,
                                                      soft=bow.fitted["soft"]), c=bow.fitted["c"])
        per_fold.append((u_dense, u_bow, check))
    accs = {w: _pooled_accuracy([(ud + w * ub, ch) for ud, ub, ch in per_fold]) for w in W_GRID}
    w = max(accs, key=accs.get)
    utility = {s: dense.utility[s] + w * bow.utility[s] for s in dense.utility if s in bow.utility}
    return System(name, utility, True, f"w={w}; dense {dense.detail}; n-grams {bow.detail}",
                  fitted={"w": w, "dense": dense, "bow": bow,
                          "inner_accuracy": {str(k): round(v, 4) for k, v in accs.items()},
                          "inner_best": round(accs[w], 4)})


def length_system(prep: Prepared) -> System:
    """Headline length, with the sign that wins more often on the training pairs."""
    u = {s: prep.light[s][:, 0].astype(np.float64) for s in ("train", "val", "mind")}
    p = prep.train_pairs
    sign = 1.0 if pairwise_accuracy(u["train"][p["a"]], u["train"][p["b"]], p["a_wins"]) >= 0.5 else -1.0
    return System("headline length", {s: sign * v for s, v in u.items()}, False, "longer wins" if sign > 0 else
                  "shorter wins")


def random_system(prep: Prepared, seed: int = 0) -> System:
    rng = np.random.default_rng(seed)
    return System("random", {s: rng.random(len(prep.light[s])) for s in ("train", "val", "mind")}, False)


def shipped_head(prep: Prepared, system: System) -> ClickHead:
    """The English head of the system that ships, refitted on all training tests with its CTR calibration.

    ``system`` is a :func:`linear_system` on embedding + light features, or an :func:`ensemble_system` of one and
    the n-gram model.
    """
    dense, bow = (system.fitted["dense"], system.fitted["bow"]) if "w" in system.fitted else (system, None)
    f = dense.fitted
    if not (f["embedding"] and f["light"]):
        raise ValueError(f"{system.name} is not an embedding + light-feature model; only those ship")
    w = system.fitted.get("w", 0.0) if bow is not None else 0.0
    config = ClickModelConfig(c=f["c"], mind_weight=f["mind_weight"], ngram_weight=w, soft_labels=f["soft"],
                              language="en")
    x = {s: _dense(prep, s, embedding=True, light=True) for s in ("train", "mind")}
    diffs, wins, weights = _diffs(x["train"], x["mind"], prep, None, mind_weight=f["mind_weight"], soft=f["soft"])
    ngrams = None
    if w > 0:
        ngrams = {str(t): float(v) for t, v in zip(bow.fitted["terms"], bow.fitted["coef"]) if abs(v) >= 1e-5}
    return ClickHead.fit(diffs, wins, weights, config=config,
                         arm_utility_inputs=(x["train"], prep.train["clicks"].to_numpy(float),
                                             prep.train["impressions"].to_numpy(float)),
                         ngrams=ngrams, arm_ngram_utility=bow.utility["train"] if w > 0 else None)
