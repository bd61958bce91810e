"""Real headline A/B tests (Upworthy) and news impressions (MIND), cleaned for click-model work.

Rules from ``../shared/data/README.md``, applied here once for training and evaluation alike:

* arms are compared only within one test, and only arms that showed the same image (``eyecatcher_id``);
* tests run in the randomisation-problem weeks (2013-06-25 to 2014-01-10, ``test_week`` 201326 to 201402) are
  left out;
* splits are by test id, and a headline that appears in a validation test is removed from every training test;
* bad rows (missing columns are an error; zero impressions, clicks above impressions, empty headlines, tests
  left with one arm) are counted and skipped, and the counts are reported with every result.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from titlegen.corpus import CLICK_HELDOUT_FRACTION, clean_text, in_click_heldout
from titlegen.errors import InputFileError

UPWORTHY_COLUMNS = ("clickability_test_id", "headline", "impressions", "clicks", "test_week", "eyecatcher_id")
BAD_WEEKS = (201326, 201402)


@dataclass
class Skipped:
    """How many rows or tests were dropped, and why (reported beside every metric)."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, reason: str, n: int) -> None:
        if n:
            self.counts[reason] = self.counts.get(reason, 0) + int(n)

    def summary(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self.counts.items()) or "nothing skipped"


def require_columns(df: pd.DataFrame, columns, what: str) -> None:
    """Raise :class:`InputFileError` naming the missing columns of ``what`` and the columns found."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputFileError(f"{what} lacks column(s) {', '.join(missing)}; columns found: "
                             f"{', '.join(map(str, df.columns))}")


def clean_arms(df: pd.DataFrame, skipped: Skipped) -> pd.DataFrame:
    """Validate and clean an Upworthy-style table of arms.

    Returns:
        Arms with ``test`` (test id + image, the unit of comparison), ``headline``, ``lede``, ``impressions``,
        ``clicks``, ``ctr``, ``week``, one row per distinct headline within a test, tests of >= 2 arms only.

    Raises:
        InputFileError: required columns are missing (the message lists the columns found).
    """
    require_columns(df, UPWORTHY_COLUMNS, "A/B table")
    out = pd.DataFrame({
        "test_id": df["clickability_test_id"].astype(str),
        "test": df["clickability_test_id"].astype(str) + "/" + df["eyecatcher_id"].astype(str),
        "headline": df["headline"].map(clean_text),
        "lede": df["lede"].map(clean_text) if "lede" in df.columns else "",
        "impressions": pd.to_numeric(df["impressions"], errors="coerce"),
        "clicks": pd.to_numeric(df["clicks"], errors="coerce"),
        "week": pd.to_numeric(df["test_week"], errors="coerce"),
    })
    bad_week = out["week"].between(*BAD_WEEKS)
    skipped.add("arms in randomisation-problem weeks", bad_week.sum())
    out = out[~bad_week]
    checks = {
        "arms with empty or missing headline": out["headline"] == "",
        "arms with missing or zero impressions": ~(out["impressions"] > 0),
        "arms with missing or negative clicks": ~(out["clicks"] >= 0),
        "arms with clicks > impressions": out["clicks"] > out["impressions"],
    }
    bad = pd.Series(False, index=out.index)
    for reason, mask in checks.items():  # each arm counted once, under its first reason
        skipped.add(reason, (mask & ~bad).sum())
        bad |= mask
    out = out[~bad]
    dup = out.duplicated(["test", "headline"])
    skipped.add("repeated headline within a test (first kept)", dup.sum())
    out = out[~dup].copy()
    out["ctr"] = out["clicks"] / out["impressions"]
    sizes = out.groupby("test")["headline"].transform("size")
    # An arm whose image no other arm of its test showed has no fair rival (this also drops one-arm tests).
    skipped.add("arms without a same-image rival in their test", int((sizes < 2).sum()))
    return out[sizes >= 2].reset_index(drop=True)


def load_upworthy(data_root: str | Path, skipped: Skipped) -> pd.DataFrame:
    """Clean arms of the Upworthy exploratory archive (see :func:`clean_arms`)."""
    path = Path(data_root) / "upworthy" / "upworthy_exploratory_dev.parquet"
    if not path.is_file():
        raise InputFileError(f"{path} not found; pass the shared/data folder")
    return clean_arms(pd.read_parquet(path), skipped)


def split_tests(arms: pd.DataFrame, *, val_fraction: float = CLICK_HELDOUT_FRACTION
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split by test id; drop from training every arm whose headline occurs in validation.

    Returns:
        ``(train, val)``; training tests left with one arm are dropped.
    """
    is_val = arms["test_id"].map(lambda t: in_click_heldout(t, val_fraction=val_fraction))
    val, train = arms[is_val], arms[~is_val]
    train = train[~train["headline"].str.lower().isin(set(val["headline"].str.lower()))]
    train = train[train.groupby("test")["headline"].transform("size") >= 2]
    return train.reset_index(drop=True), val.reset_index(drop=True)


def two_proportion_z(c1, n1, c2, n2) -> np.ndarray:
    """z statistic of ``ctr1 - ctr2`` under the pooled two-proportion test, elementwise (0 where undefined)."""
    c1, n1, c2, n2 = (np.asarray(x, dtype=float) for x in (c1, n1, c2, n2))
    pooled = (c1 + c2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return np.divide(c1 / n1 - c2 / n2, se, out=np.zeros_like(se), where=se > 0)


def two_proportion_p(c1, n1, c2, n2) -> np.ndarray:
    """Two-sided p-value of the two-proportion z-test (pooled), elementwise."""
    from scipy.stats import norm

    return 2 * norm.sf(np.abs(two_proportion_z(c1, n1, c2, n2)))


def arm_pairs(arms: pd.DataFrame) -> pd.DataFrame:
    """Every unordered pair of arms within a test (same image), with which one won and how sure that is.

    Returns:
        Columns ``test``, ``a``, ``b`` (row indices into ``arms``), ``a_wins`` (bool), ``p`` (two-sided p-value)
        and ``p_a_better`` (``Phi(z)``: the normal-approximation probability that arm a's true CTR is the higher,
        a soft training target for pairs whose observed winner is mostly noise); ties dropped.
    """
    from scipy.stats import norm

    rows = []
    for test, group in arms.groupby("test"):
        for i, j in itertools.combinations(group.index, 2):
            if arms.at[i, "ctr"] != arms.at[j, "ctr"]:
                rows.append((test, i, j, arms.at[i, "ctr"] > arms.at[j, "ctr"]))
    pairs = pd.DataFrame(rows, columns=["test", "a", "b", "a_wins"])
    z = two_proportion_z(arms.loc[pairs["a"], "clicks"].to_numpy(), arms.loc[pairs["a"], "impressions"].to_numpy(),
                         arms.loc[pairs["b"], "clicks"].to_numpy(), arms.loc[pairs["b"], "impressions"].to_numpy())
    pairs["p"] = 2 * norm.sf(np.abs(z))
    pairs["p_a_better"] = norm.cdf(z)
    return pairs


def load_mind(data_root: str | Path, skipped: Skipped) -> tuple[dict[str, str], list[tuple[list[str], list[int]]]]:
    """MIND titles and impressions restricted to the news in the subset.

    Returns:
        ``(titles, impressions)``: ``{news id: title}`` and, per impression, ``(news ids, clicked 0/1)`` with at
        least one click and one non-click among the known news.
    """
    root = Path(data_root) / "mind_small"
    news = pd.read_csv(root / "news.tsv", sep="\t", header=None, quoting=3, usecols=[0, 3], names=["id", "title"])
    titles = {i: clean_text(t) for i, t in zip(news["id"], news["title"]) if clean_text(t)}
    behaviors = pd.read_csv(root / "behaviors.tsv", sep="\t", header=None, names=["imp", "user", "time", "hist",
                                                                                    "items"])
    out, unknown = [], 0
    for items in behaviors["items"].dropna():
        ids, labels = [], []
        for item in str(items).split():
            nid, _, label = item.rpartition("-")
            if nid in titles:
                ids.append(nid)
                labels.append(int(label))
            else:
                unknown += 1
        if 0 < sum(labels) < len(labels):
            out.append((ids, labels))
    skipped.add("MIND impression items not in the news subset", unknown)
    skipped.add("MIND impressions without both a click and a non-click", len(behaviors) - len(out))
    return titles, out
