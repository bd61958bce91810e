"""Real engagement of Chinese video titles (Bilibili popular feed), cleaned and paired for the click model.

There are no impressions here, so no click-through: a video's *relative engagement* is the log of its views less
what its uploader's follower count and the video's age at the last snapshot predict (an ordinary least-squares fit
on the training uploaders only). Titles are compared only within one category (``tname``) and one publication
window, between two different uploaders, so the pair label says "this title did better than expected, the other
worse", not "this uploader is bigger". Because the label is a residual of follower count, a follower-only rule
can reach well above chance only where the normalisation fails; the evaluation reports that rule beside the model
as the check that follower count does not leak into the label.

Rules from ``../shared/data/README.md``: rows with every count 0 are dropped; splits are by uploader
(``owner_mid``); a title that occurs in a held-out video is removed from training.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from titlegen.abtests import Skipped, require_columns
from titlegen.corpus import clean_text, in_validation
from titlegen.errors import InputFileError

BILIBILI_COLUMNS = ("bvid", "title", "tname", "owner_mid", "owner_follower", "pubdate_unix", "last_seen_date",
                    "view", "like", "coin", "favorite", "share")
_COUNTS = ("view", "like", "coin", "favorite", "share")
#: Share of uploaders held out for the Chinese engagement evaluation.
ENGAGEMENT_HELDOUT_FRACTION = 0.2


def clean_videos(df: pd.DataFrame, skipped: Skipped) -> pd.DataFrame:
    """Validate and clean a Bilibili-style table of videos.

    Returns:
        One row per video: ``video``, ``uploader``, ``title``, ``category``, ``pubdate`` (unix seconds),
        ``followers``, ``views``, ``age_days`` (publication to the last snapshot, at least half a day).

    Raises:
        InputFileError: required columns are missing (the message lists the columns found).
    """
    require_columns(df, BILIBILI_COLUMNS, "engagement table")
    counts = df[list(_COUNTS)].apply(pd.to_numeric, errors="coerce")
    # The day of the last snapshot, counted to its end (seconds since the epoch, whatever the datetime resolution).
    last_seen = (pd.to_datetime(df["last_seen_date"], errors="coerce") - pd.Timestamp(0)).dt.total_seconds() + 86400
    out = pd.DataFrame({
        "video": df["bvid"].astype(str), "uploader": df["owner_mid"].astype(str),
        "title": df["title"].map(clean_text), "category": df["tname"].fillna("").astype(str),
        "pubdate": pd.to_numeric(df["pubdate_unix"], errors="coerce"),
        "followers": pd.to_numeric(df["owner_follower"], errors="coerce"), "views": counts["view"],
        "age_days": ((last_seen - pd.to_numeric(df["pubdate_unix"], errors="coerce")) / 86400).clip(lower=0.5),
    })
    checks = {
        "videos with every count 0": (counts.fillna(0) == 0).all(axis=1),
        "videos with an empty title": out["title"] == "",
        "videos without a category": out["category"] == "",
        "videos with missing counts, date or followers": out[["views", "pubdate", "followers", "age_days"]]
        .isna().any(axis=1),
        "videos with zero views": ~(out["views"] > 0),
    }
    bad = pd.Series(False, index=out.index)
    for reason, mask in checks.items():  # each video counted once, under its first reason
        skipped.add(reason, (mask & ~bad).sum())
        bad |= mask
    out = out[~bad]
    dup = out.duplicated("video")
    skipped.add("repeated video id (first kept)", dup.sum())
    return out[~dup].reset_index(drop=True)


def load_bilibili(data_root: str | Path, skipped: Skipped) -> pd.DataFrame:
    """Clean videos of ``zh_engagement/bilibili_popular_videos.csv`` (see :func:`clean_videos`)."""
    path = Path(data_root) / "zh_engagement" / "bilibili_popular_videos.csv"
    if not path.is_file():
        raise InputFileError(f"{path} not found; pass the shared/data folder")
    return clean_videos(pd.read_csv(path), skipped)


def split_uploaders(videos: pd.DataFrame, *, val_fraction: float = ENGAGEMENT_HELDOUT_FRACTION,
                    salt: str = "bili-up:") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split by uploader (a hash of ``salt + uploader``); drop from training every title held out.

    Returns:
        ``(train, val)``.
    """
    is_val = videos["uploader"].map(lambda u: in_validation(salt + u, val_fraction=val_fraction))
    val, train = videos[is_val], videos[~is_val]
    train = train[~train["title"].isin(set(val["title"]))]
    return train.reset_index(drop=True), val.reset_index(drop=True)


@dataclass(frozen=True)
class EngagementNormaliser:
    """``log(views) ~ intercept + a * log1p(followers) + b * log(age_days)``, fitted by least squares.

    :meth:`residual` is the relative engagement (natural-log units: +0.69 is twice the views expected).
    """

    coef: tuple[float, float, float]

    @staticmethod
    def _design(videos: pd.DataFrame) -> np.ndarray:
        return np.column_stack([np.ones(len(videos)), np.log1p(videos["followers"].to_numpy(float)),
                                np.log(videos["age_days"].to_numpy(float))])

    @classmethod
    def fit(cls, videos: pd.DataFrame) -> EngagementNormaliser:
        coef, *_ = np.linalg.lstsq(cls._design(videos), np.log(videos["views"].to_numpy(float)), rcond=None)
        return cls(tuple(float(c) for c in coef))

    def residual(self, videos: pd.DataFrame) -> np.ndarray:
        """Relative engagement ``[shape=(n,)]``, log views less the expected log views."""
        return np.log(videos["views"].to_numpy(float)) - self._design(videos) @ np.asarray(self.coef)


def engagement_pairs(videos: pd.DataFrame, engagement: np.ndarray, *, window_days: float = 7.0,
                     max_partners: int = 6, seed: int = 0) -> pd.DataFrame:
    """Pairs of videos of one category, published within ``window_days`` of each other, by different uploaders.

    Each video is paired with at most ``max_partners`` later videos of its window (a seeded sample), so big
    categories do not dominate; which one is ``a`` is random.

    Returns:
        Columns ``a``, ``b`` (row indices into ``videos``), ``a_wins`` (bool), ``margin`` (``|e_a - e_b|``) and
        ``group`` (the category); exact ties dropped.
    """
    rng = np.random.default_rng(seed)
    rows = []
    window = window_days * 86400
    for category, group in videos.groupby("category", sort=True):
        order = group.sort_values("pubdate")
        idx, dates, owners = order.index.to_numpy(), order["pubdate"].to_numpy(), order["uploader"].to_numpy()
        for k in range(len(idx)):
            end = np.searchsorted(dates, dates[k] + window, side="right")
            partners = [j for j in range(k + 1, end) if owners[j] != owners[k]]
            for j in rng.permutation(partners)[:max_partners] if partners else ():
                a, b = (idx[k], idx[j]) if rng.random() < 0.5 else (idx[j], idx[k])
                if engagement[a] != engagement[b]:
                    rows.append((a, b, engagement[a] > engagement[b], abs(engagement[a] - engagement[b]),
                                 category))
    return pd.DataFrame(rows, columns=["a", "b", "a_wins", "margin", "group"])
