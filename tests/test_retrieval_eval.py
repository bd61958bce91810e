"""Retrieval metrics on hand-made ranks with known answers, the MGSV-EC path parser, the co-usage models on tiny
tables, and (slow, needs ../shared/data) the loaders and a short run on the real files with a fake encoder."""

from __future__ import annotations

import json
import zlib

import numpy as np
import pytest

from crossmodal_match.errors import ConfigError
from crossmodal_match.evaluate.copy_retrieval import clean_text, cut_at_word
from crossmodal_match.evaluate.music_usage import (co_usage_attribute_scores, co_usage_song_scores, length_bins,
                                                   parse_music_path, song_key, split_half, title_attributes)
from crossmodal_match.evaluate.retrieval import (bootstrap_ci, expected_ranks, hits_at_k, mean_reciprocal_rank,
                                                 median_rank, recall_at_k, reciprocal_ranks, summarise,
                                                 target_ranks, write_report)

from .conftest import SHARED_DATA


def test_target_ranks_counts_better_and_tied_candidates():
    scores = np.array([[0.9, 0.1, 0.5, 0.2],   # target 0 is best
                       [0.3, 0.3, 0.8, 0.3],   # target 1: one better, two tied
                       [0.1, 0.2, 0.3, 0.4]])  # target 0 is last
    better, tied = target_ranks(scores, np.array([0, 1, 0]))
    assert better.tolist() == [0, 1, 3]
    assert tied.tolist() == [0, 2, 0]


def test_recall_mrr_and_median_without_ties():
    better = np.array([0, 1, 9, 10])  # ranks 1, 2, 10, 11
    assert recall_at_k(better, k=1) == pytest.approx(0.25)
    assert recall_at_k(better, k=10) == pytest.approx(0.75)
    assert mean_reciprocal_rank(better) == pytest.approx((1 + 1 / 2 + 1 / 10 + 1 / 11) / 4)
    assert median_rank(better) == pytest.approx(6.0)  # median of 1, 2, 10, 11
    assert hits_at_k(better, k=2).tolist() == [1.0, 1.0, 0.0, 0.0]


def test_ties_are_a_uniform_random_tie_break():
    # target tied with 3 others at the top: rank uniform on 1..4
    assert hits_at_k([0], k=1, tied=[3])[0] == pytest.approx(0.25)
    assert hits_at_k([0], k=2, tied=[3])[0] == pytest.approx(0.5)
    assert hits_at_k([0], k=4, tied=[3])[0] == pytest.approx(1.0)
    assert reciprocal_ranks([0], tied=[3])[0] == pytest.approx((1 + 1 / 2 + 1 / 3 + 1 / 4) / 4)
    assert expected_ranks([2], tied=[3])[0] == pytest.approx(1 + 2 + 1.5)


def test_a_constant_score_measures_exactly_as_chance():
    n = 100
    better, tied = target_ranks(np.zeros((5, n)), np.arange(5))
    assert recall_at_k(better, k=10, tied=tied) == pytest.approx(10 / n)
    assert mean_reciprocal_rank(better, tied=tied) == pytest.approx(np.mean(1 / np.arange(1, n + 1)))
    assert median_rank(better, tied=tied) == pytest.approx((n + 1) / 2)


def test_bootstrap_ci_is_deterministic_and_brackets_the_mean():
    assert bootstrap_ci(np.full(50, 0.3)) == pytest.approx((0.3, 0.3))
    values = np.array([0.0, 1.0] * 200)  # mean 0.5, standard error 0.025
    low, high = bootstrap_ci(values, n_boot=500, seed=1)
    assert (low, high) == bootstrap_ci(values, n_boot=500, seed=1)
    assert low < 0.5 < high
    assert 0.06 < high - low < 0.14  # about 4 standard errors wide
    assert bootstrap_ci([1.0, 2.0, 3.0], statistic="median", n_boot=50)[0] >= 1.0


def test_summarise_reports_the_documented_keys():
    out = summarise([0, 1, 9, 10], n_candidates=20, n_boot=50)
    assert out["queries"] == 4 and out["r_at_10"] == pytest.approx(0.75)
    assert set(out["recall_curve"]) == {"1", "2", "5", "10", "20"}  # only k <= n_candidates
    assert out["r_at_10_ci95"][0] <= 0.75 <= out["r_at_10_ci95"][1]


@pytest.mark.parametrize("call", [lambda: hits_at_k([0], k=0), lambda: target_ranks(np.zeros((2, 3)), [0, 3]),
                                  lambda: bootstrap_ci([], n_boot=10), lambda: bootstrap_ci([1.0], n_boot=0),
                                  lambda: recall_at_k([-1], k=1), lambda: summarise([], n_candidates=3)])
def test_bad_inputs_raise_config_errors(call):
    with pytest.raises(ConfigError):
        call()


def test_write_report_keeps_hand_written_notes(tmp_path):
    m = summarise([0, 1, 9, 10], n_candidates=20, n_boot=20)
    write_report({"systems": {"a": m}}, out_dir=tmp_path, name="x", lines=["# X"], command="cmd",
                 plot_groups={"panel": {"a": m}})
    md = tmp_path / "x.md"
    md.write_text(md.read_text(encoding="utf-8") + "my note\n", encoding="utf-8")
    write_report({"systems": {"a": m}}, out_dir=tmp_path, name="x", lines=["# X again"], command="cmd",
                 plot_groups={"panel": {"a": m}})
    assert "my note" in md.read_text(encoding="utf-8") and "# X again" in md.read_text(encoding="utf-8")
    assert json.loads((tmp_path / "x.json").read_text(encoding="utf-8"))["command"] == "cmd"
    assert (tmp_path / "x.png").stat().st_size > 1000


@pytest.mark.parametrize("path, expected", [
    ("/Data/music/source_music/1/4+5xxavfkz9qscs44+旋律（DJ版）.mp3", ("4+5xxavfkz9qscs44", "旋律（DJ版）")),
    ("/Data/music/source_music/7/7+5xrzq8sbvtwhffc+随风曲.mp3", ("7+5xrzq8sbvtwhffc", "随风曲")),
    ("4+5x8tv26zb59zjwa+whoo.mp3", ("4+5x8tv26zb59zjwa", "whoo")),
    ("C:\\music\\0\\4+5xabc+A+B (Remix).mp3", ("4+5xabc", "A+B (Remix)")),  # a "+" inside the title stays
])
def test_parse_music_path(path, expected):
    assert parse_music_path(path) == expected


@pytest.mark.parametrize("path", ["/Data/music/song.mp3", "/Data/4+abc+.mp3", "/Data/4+abc+title.wav", ""])
def test_parse_music_path_rejects_other_layouts(path):
    with pytest.raises(ConfigError, match="music_path"):
        parse_music_path(path)


def test_song_key_drops_version_notes():
    assert song_key("孤城（剪辑版）") == song_key("孤城") == "孤城"
    assert song_key("Cobardía") == "cobardía"
    assert song_key("(伴奏)") == "(伴奏)"  # nothing but a bracket: keep it rather than return ""


def test_split_half_is_stable_and_balanced():
    ids = [str(100000000000 + 7919 * i) for i in range(2000)]
    halves = [split_half(v) for v in ids]
    assert halves == [split_half(v) for v in ids]
    assert 0.45 < np.mean(halves) < 0.55


def test_title_attributes_and_length_bins():
    attrs = title_attributes(["旋律（DJ版）", "whoo", "天空之城(钢琴)"])
    assert attrs.shape == (3, 11)
    assert attrs[0, 0] and attrs[0, 8] and not attrs[0, 10]  # dj, version-marked, not Latin
    assert attrs[1, 10] and not attrs[1, :10].any()
    assert attrs[2, 3]  # piano
    assert length_bins(np.array([30.0, 60.0, 120.0, 180.0, 230.0])).tolist() == [0, 1, 2, 3, 4]


def _train_table():
    import pandas as pd

    rows = ([("Food", "钢琴曲（钢琴）", 60.0)] * 8 + [("Games", "冲（DJ版）", 200.0)] * 8
            + [("Food", "家（伴奏）", 60.0)] * 2)
    frame = pd.DataFrame(rows, columns=["video_category", "title", "music_total_duration"])
    frame["song_key"] = frame["title"].map(song_key)
    return frame


def test_co_usage_song_scores_prefer_the_category_songs():
    scores = co_usage_song_scores(_train_table(), categories=["Food", "Games"], keys=["钢琴曲", "冲", "新歌"],
                                  smoothing=2.0)
    assert scores.shape == (2, 3)
    assert scores[0, 0] > scores[0, 1] > scores[0, 2] == 0  # Food: its song, then the other, never-seen last
    assert scores[1, 1] > scores[1, 0]


def test_co_usage_attribute_scores_generalise_to_unseen_titles():
    titles = ["新曲（钢琴）", "新曲（DJ版）"]  # neither title occurs in the training table
    scores = co_usage_attribute_scores(_train_table(), categories=["Food", "Games"],
                                       attrs=title_attributes(titles), bins=length_bins(np.array([60.0, 200.0])),
                                       smoothing=2.0)
    assert scores[0, 0] > scores[0, 1]  # Food videos used piano
    assert scores[1, 1] > scores[1, 0]  # Games videos used DJ versions


def test_text_helpers():
    assert clean_text("Hi\\nthere <b>x</b> &amp; https://a.b/c?d=1 www.e.fr end") == "Hi there x & end"
    assert clean_text(float("nan")) == ""
    assert cut_at_word("aaaa bbbb cccc dddd", max_chars=12) == "aaaa bbbb"
    assert cut_at_word("a bbbbbbbbbbbbbbbb", max_chars=12) == "a bbbbbbbbbb"  # no space in the last third
    assert cut_at_word("short", max_chars=12) == "short"


class _HashEncoder:
    """Bag of hashed words: a deterministic stand-in for MiniLM in the slow smoke runs."""

    dim = 64
    name = "hash"

    def encode_texts(self, texts):
        out = np.full((len(texts), self.dim), 1e-3, dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.casefold().split():
                out[i, zlib.crc32(word.encode("utf-8")) % self.dim] += 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="needs ../shared/data")
def test_youtube_loader_gives_one_title_per_video():
    from crossmodal_match.evaluate.copy_retrieval import CopyRetrievalConfig, load_videos

    videos, counts = load_videos(CopyRetrievalConfig(data_dir=str(SHARED_DATA)))
    assert len(videos) >= 1000 and counts["kept"] == len(videos)
    assert videos["video_id"].is_unique and videos["title"].str.casefold().is_unique
    assert not videos["brief"].str.contains("https?://", regex=True).any()
    assert set(videos["lang"]) == {"US", "FR"}


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="needs ../shared/data")
def test_music_usage_runs_on_mgsv_with_a_fake_encoder():
    from crossmodal_match.evaluate.music_usage import MusicUsageConfig, MusicUsageEvaluator

    metrics = MusicUsageEvaluator(MusicUsageConfig(data_dir=str(SHARED_DATA), n_boot=50), text_encoder=_HashEncoder(),
                                  probe_tokenizer=False)()
    n = metrics["data"]["test_videos"]
    assert metrics["data"]["pairs"] == 2000 and 900 < n < 1100
    assert metrics["data"]["test_tracks_with_id_in_train"] == 0
    assert metrics["systems"]["random"]["r_at_10"] == pytest.approx(10 / n, abs=0.015)
