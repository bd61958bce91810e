"""Chinese engagement data (Bilibili) for the click model's Chinese head: cleaning, uploader split, the follower
normalisation, pairs, and the evaluation on a tiny synthetic table; real-data checks under ``-m slow``."""

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from titlegen.abtests import Skipped
from titlegen.engagement import EngagementNormaliser, clean_videos, engagement_pairs, split_uploaders
from titlegen.errors import InputFileError

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DAY = 86400


def _table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Synthetic videos: views = followers^0.5 x age x (2 when the title has a question mark) x noise."""
    rng = np.random.default_rng(seed)
    followers = rng.integers(1_000, 2_000_000, n)
    question = rng.random(n) < 0.5
    pub = 1_690_000_000 + rng.integers(0, 30 * DAY, n)
    age = rng.integers(2, 10, n)
    views = (np.sqrt(followers) * age * np.where(question, 2.0, 1.0) * np.exp(rng.normal(0, 0.2, n)) * 50)
    last_seen = pd.to_datetime(pub + age * DAY, unit="s").strftime("%Y-%m-%d")
    return pd.DataFrame({
        "bvid": [f"BV{i}" for i in range(n)], "owner_mid": rng.integers(1, 120, n),
        "title": [f"视频{i}{'真的吗？' if q else '日常记录'}" for i, q in enumerate(question)],
        "tname": rng.choice(["搞笑", "美食"], n), "owner_follower": followers, "pubdate_unix": pub,
        "last_seen_date": last_seen, "view": views.astype(int), "like": 1, "coin": 1, "favorite": 1, "share": 1})


def test_clean_videos_counts_what_it_drops():
    df = _table(20)
    df.loc[0, ["view", "like", "coin", "favorite", "share"]] = 0  # every count 0: dropped
    df.loc[1, "title"] = "   "
    df.loc[2, "owner_follower"] = np.nan
    df.loc[3, "bvid"] = df.loc[4, "bvid"]
    skipped = Skipped()
    out = clean_videos(df, skipped)
    assert len(out) == 16 and skipped.counts == {
        "videos with every count 0": 1, "videos with an empty title": 1,
        "videos with missing counts, date or followers": 1, "repeated video id (first kept)": 1}
    assert (out["age_days"] >= 0.5).all()
    with pytest.raises(InputFileError, match="lacks column.*owner_follower"):
        clean_videos(df.drop(columns=["owner_follower"]), Skipped())


def test_split_is_by_uploader_and_drops_held_out_titles_from_training():
    videos = clean_videos(_table(), Skipped())
    videos.loc[0, "title"] = "同一个标题"
    held_out = videos["uploader"].map(lambda u: int.from_bytes(hashlib.sha1(("bili-up:" + u).encode()).digest()[:4],
                                                               "big") / 2**32 < 0.2)
    other = videos.index[held_out != held_out[0]][0]
    videos.loc[other, "title"] = "同一个标题"
    train, val = split_uploaders(videos)
    assert not set(train["uploader"]) & set(val["uploader"]) and len(val) > 0
    assert "同一个标题" in set(val["title"]) | set(train["title"])
    assert not ({"同一个标题"} & set(train["title"]) and {"同一个标题"} & set(val["title"]))


def test_normaliser_removes_the_follower_effect():
    videos = clean_videos(_table(), Skipped())
    norm = EngagementNormaliser.fit(videos)
    assert norm.coef[1] == pytest.approx(0.5, abs=0.1) and norm.coef[2] == pytest.approx(1.0, abs=0.2)
    resid = norm.residual(videos)
    assert abs(np.corrcoef(resid, np.log1p(videos["followers"]))[0, 1]) < 0.05


def test_pairs_stay_within_category_window_and_across_uploaders():
    videos = clean_videos(_table(), Skipped())
    e = EngagementNormaliser.fit(videos).residual(videos)
    pairs = engagement_pairs(videos, e, window_days=7, max_partners=3)
    a, b = videos.loc[pairs["a"]].reset_index(), videos.loc[pairs["b"]].reset_index()
    assert len(pairs) > 100
    assert (a["category"] == b["category"]).all() and (a["uploader"] != b["uploader"]).all()
    assert ((a["pubdate"] - b["pubdate"]).abs() <= 7 * DAY).all()
    assert (pairs["a_wins"] == (e[pairs["a"]] > e[pairs["b"]])).all()
    assert 0.4 < pairs["a_wins"].mean() < 0.6  # which side is "a" is random
    assert (pairs.groupby("a").size().max()) <= 3 + 10  # a video is "a" of its own sample and some later ones


class _Embedder:
    name = "fake-4d"

    def encode(self, texts):
        return np.array([[1.0, 0, 0, 0] if "？" in t else [0, 1.0, 0, 0] for t in texts])


def test_engagement_eval_on_a_synthetic_table(tmp_path, monkeypatch):
    from titlegen.ctr import load_click_model
    from titlegen.evaluate import engagement_eval

    root = tmp_path / "data"
    (root / "zh_engagement").mkdir(parents=True)
    _table(600).to_csv(root / "zh_engagement" / "bilibili_popular_videos.csv", index=False)
    monkeypatch.setattr(engagement_eval, "C_GRID", (1.0,))
    data = engagement_eval.prepare_zh(root, _Embedder())
    result = engagement_eval.run_engagement_eval(data, tmp_path / "out", save_dir=tmp_path / "model",
                                                 command="test", encoder="fake-4d", encoder_kind="multilingual")
    ships = result["systems"][result["ships"]]
    # The question mark doubles the views expected; half the pairs agree on it (a tie, counted 1/2): at most 0.75.
    assert ships["pairwise_accuracy"] > 0.7 and result["systems"]["random"]["pairwise_accuracy"] < 0.6
    assert 0.35 < result["systems"]["follower count (leak check)"]["pairwise_accuracy"] < 0.65
    assert (tmp_path / "out" / "report.md").read_text().count("|") > 20
    model = load_click_model(tmp_path / "model", embedder=_Embedder())
    assert model.languages == ("zh",)
    assert model(["视频真的吗？"])[0] > model(["视频日常记录"])[0]


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "zh_engagement").is_dir(), reason="needs ../shared/data/zh_engagement")
def test_real_bilibili_table_cleans_and_the_label_does_not_leak_followers():
    from titlegen.engagement import load_bilibili

    skipped = Skipped()
    videos = load_bilibili(DATA, skipped)
    assert skipped.counts.get("videos with every count 0", 0) >= 13 and len(videos) > 13_000
    train, val = split_uploaders(videos)
    norm = EngagementNormaliser.fit(train)
    e = norm.residual(val)
    pairs = engagement_pairs(val, e)
    f = np.log1p(val["followers"].to_numpy(float))
    follower_acc = np.mean((f[pairs["a"]] > f[pairs["b"]]) == pairs["a_wins"])
    assert len(pairs) > 2_000 and 0.45 < follower_acc < 0.55
