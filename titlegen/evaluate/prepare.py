"""Data and features shared by the click-model evaluations: one split, one embedding pass."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from titlegen.abtests import Skipped, arm_pairs, load_mind, load_upworthy, split_tests
from titlegen.corpus import in_validation
from titlegen.ctr import light_features

VAL_FRACTION = 0.2


@dataclass
class Prepared:
    """Clean arms split by test, their pairs, and features for every arm and MIND title."""

    train: pd.DataFrame
    val: pd.DataFrame
    train_pairs: pd.DataFrame
    val_pairs: pd.DataFrame
    emb: dict[str, np.ndarray]  # "train"/"val"/"mind" -> (n, encoder dim)
    light: dict[str, np.ndarray]  # same keys -> (n, 12)
    mind_ids: list[str]
    mind_train: list[tuple[list[int], list[int]]]  # impressions as (row indices into mind arrays, labels)
    mind_val: list[tuple[list[int], list[int]]]
    skipped: Skipped
    embedder: object
    mind_titles: list[str] = field(default_factory=list)  # aligned with mind_ids


def _mind_split(ids_index: dict[str, int], impressions, val_fraction: float):
    train, val = [], []
    for n, (ids, labels) in enumerate(impressions):
        item = ([ids_index[i] for i in ids], labels)
        (val if in_validation(f"mind-imp:{n}", val_fraction=val_fraction) else train).append(item)
    return train, val


def prepare(data_root: str | Path, *, embedder=None, val_fraction: float = VAL_FRACTION) -> Prepared:
    """Load, clean, split and featurise Upworthy and MIND (the embedding pass takes a few CPU minutes)."""
    from titlegen.embedding import TextEmbedder

    embedder = embedder or TextEmbedder()
    skipped = Skipped()
    train, val = split_tests(load_upworthy(data_root, skipped), val_fraction=val_fraction)
    titles, impressions = load_mind(data_root, skipped)
    mind_ids = sorted({i for ids, _ in impressions for i in ids})
    mind_train, mind_val = _mind_split({i: n for n, i in enumerate(mind_ids)}, impressions, val_fraction)
    emb, light = {}, {}
    for name, frame in (("train", train), ("val", val)):
        e = embedder.encode(frame["headline"].tolist())
        ctx = embedder.encode(frame["lede"].tolist())
        sim = np.where(frame["lede"].to_numpy() != "", np.sum(e * ctx, axis=1), 0.0)
        emb[name], light[name] = e, light_features(frame["headline"].tolist(), sim)
    mind_titles = [titles[i] for i in mind_ids]
    emb["mind"] = embedder.encode(mind_titles)
    light["mind"] = light_features(mind_titles, np.zeros(len(mind_titles)))
    return Prepared(train, val, arm_pairs(train), arm_pairs(val), emb, light, mind_ids, mind_train, mind_val,
                    skipped, embedder, mind_titles)


def mind_pairs(impressions, *, max_per_impression: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(clicked row, skipped row) index pairs from impressions, at most ``max_per_impression`` each."""
    rng = np.random.default_rng(seed)
    a, b = [], []
    for rows, labels in impressions:
        pos = [r for r, y in zip(rows, labels) if y]
        neg = [r for r, y in zip(rows, labels) if not y]
        combos = [(p, n) for p in pos for n in neg]
        for k in rng.permutation(len(combos))[:max_per_impression]:
            a.append(combos[k][0])
            b.append(combos[k][1])
    return np.array(a, dtype=int), np.array(b, dtype=int)
