"""The MGSV-EC music evaluation: grouped dev/test split, settings chosen on dev, priors that learn a planted signal,
and titles that carry no words (digits, emoji) handled as "no opinion"."""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from crossmodal_match.errors import ConfigError
from crossmodal_match.evaluate import music_priors as mp
from crossmodal_match.evaluate.music_mgsv import MusicMgsvConfig, MusicMgsvEvaluator, build_catalogue, report
from crossmodal_match.evaluate.music_usage import load_pairs, parse_music_path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
HEADER = ("video_id,music_id,video_start,video_end,music_start,music_end,music_total_duration,video_segment_duration,"
          "music_segment_duration,music_path,video_total_duration,video_width,video_height,video_total_frames,"
          "video_frame_rate,video_category")


class CharEncoder:
    """Bag of characters: texts sharing characters are close; no model in unit tests."""

    name, dim = "chars", 97

    def encode_texts(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for c in t:
                out[i, ord(c) % self.dim] += 1
            out[i] = out[i] / max(np.linalg.norm(out[i]), 1e-9) if out[i].any() else np.eye(self.dim)[0]
        return out


def _write_pairs(root: Path, *, rows: int = 400, seed: int = 0) -> Path:
    """Synthetic pairs: Food videos use "美食" titles, Games videos "DJ" titles; one title is only digits."""
    rng = np.random.default_rng(seed)
    lines = [HEADER]
    for i in range(rows):
        food = i % 2 == 0
        word = ("美食小调" if food else "战斗DJ版") if rng.random() < 0.8 else "普通歌曲"
        title = "1234567" if i == 7 else f"{word}{i}"
        mid = f"4+{hashlib.md5(str(i).encode()).hexdigest()[:12]}"
        lines.append(f"{10_000 + i},{mid},0,20,0,20,{rng.uniform(60, 200):.1f},20,20,/m/0/{mid}+{title}.mp3,"
                     f"{rng.uniform(10, 40):.1f},1080,1920,600,30,{'Food' if food else 'Games'}")
    (root / "mgsv_ec").mkdir(parents=True)
    (root / "mgsv_ec" / "val_data.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def metrics(tmp_path_factory):
    root = _write_pairs(tmp_path_factory.mktemp("data"))
    config = MusicMgsvConfig(data_dir=str(root), folds=3, n_boot=20, smoothing_grid=(5.0,), temperature_grid=(0.2,))
    return MusicMgsvEvaluator(config, encoders={"chars": CharEncoder()})()


def test_split_is_grouped_and_settings_come_from_dev(metrics):
    d = metrics["data"]
    assert d["dev_videos"] + d["test_videos"] == d["pairs"] == 400
    assert d["multi_row_groups"] == 0 and d["catalogue"] == 400
    assert set(metrics["chosen"]["cv"]) >= {"popularity", "priors", "text_chars", "fused"}
    assert metrics["chosen"]["fused_encoder"] == "chars"


def test_a_planted_category_signal_beats_popularity_and_chance(metrics):
    test, chance = metrics["test"], metrics["data"]["chance"]
    assert test["fused"]["median_rank"] < 0.8 * chance["median_rank"]
    assert test["fused"]["r_at_10"] >= test["popularity"]["r_at_10"]
    assert test["text_prior"]["mrr"] > 2 * test["random"]["mrr"]
    assert {"r_at_1", "r_at_5", "r_at_10", "median_rank"} <= set(test["fused"])


def test_a_title_of_digits_only_gets_no_text_opinion(metrics):
    assert metrics["data"]["titles_without_letters"] == ["1234567"]
    titles = ("美食", "1234567", "🎵🎶", "战斗")
    emb = CharEncoder().encode_texts(list(titles))
    sims = mp.text_similarity(CharEncoder().encode_texts(["美食短视频"]), emb, titles)
    assert sims[0, 1] == sims[0, 2] == pytest.approx(np.mean(sims[0, [0, 3]]))
    assert sims[0, 0] > sims[0, 3]


def test_report_writes_the_tables_and_the_command(metrics, tmp_path):
    report(metrics, out_dir=tmp_path, command="python -m crossmodal_match.evaluate music-mgsv")
    text = (tmp_path / "music_mgsv.md").read_text(encoding="utf-8")
    assert "music-mgsv" in text and "| fused: priors + text + text prior |" in text
    assert (tmp_path / "music_mgsv.png").stat().st_size > 0


def test_identical_titles_are_one_catalogue_track(tmp_path):
    root = _write_pairs(tmp_path, rows=6)
    csv = root / "mgsv_ec" / "val_data.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace("战斗DJ版1.mp3", "战斗 dj版3.mp3"), encoding="utf-8")
    pairs = load_pairs(str(root))
    catalogue, cand = build_catalogue(pairs)
    assert len(catalogue) == len(pairs) - (pairs["title"].map(mp.catalogue_key).duplicated().sum())


@pytest.mark.parametrize("path", ["/m/0/4+abc+.mp3", "/m/0/4+abc+   .mp3", "/m/0/no-title.mp3"])
def test_a_music_path_without_a_title_is_a_typed_error(path):
    with pytest.raises(ConfigError, match="does not end in"):
        parse_music_path(path)


def test_a_digits_only_title_parses_and_an_emoji_title_too():
    assert parse_music_path("/m/0/4+abc+520.mp3") == ("4+abc", "520")
    assert parse_music_path("/m/0/4+abc+🎵🎶.mp3") == ("4+abc", "🎵🎶")


def test_bad_settings_are_typed_errors():
    with pytest.raises(ConfigError, match="folds"):
        MusicMgsvConfig(data_dir=".", folds=1)
    with pytest.raises(ConfigError, match="temperature"):
        MusicMgsvConfig(data_dir=".", temperature_grid=(0.0,))
    with pytest.raises(ConfigError, match="at least one"):
        MusicMgsvEvaluator(MusicMgsvConfig(data_dir="."), encoders={})


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "mgsv_ec" / "val_data.csv").is_file(), reason="needs ../shared/data/mgsv_ec")
def test_real_mgsv_catalogue_and_split():
    pairs = load_pairs(str(DATA))
    catalogue, _ = build_catalogue(pairs)
    assert len(pairs) == 2000 and 1900 <= len(catalogue) < 2000
    assert {t for t in catalogue.titles if not mp.has_words(t)} == {"520", "2157", "1234567", "10%"}
