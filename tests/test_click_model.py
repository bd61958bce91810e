import hashlib

import numpy as np
import pytest

from titlegen import ConfigError, ModelLoadError, TitleGenerator
from titlegen.ctr import ClickModel, ClickModelConfig, LIGHT_FEATURES, load_click_model
from titlegen.diversity import compare_to_topk, dpp_select
from titlegen.model import load_base


class FakeEmbedder:
    """Deterministic unit vectors from a hash: no model load in unit tests."""

    def encode(self, texts):
        rows = []
        for t in texts:
            rng = np.random.default_rng(int(hashlib.md5(t.encode()).hexdigest()[:8], 16))
            v = rng.normal(size=8)
            rows.append(v / np.linalg.norm(v))
        return np.array(rows).reshape(len(texts), 8)


def test_fit_learns_a_known_preference_and_round_trips(tmp_path):
    # arm a wins whenever it has a question mark: the "question" light feature must get a positive weight
    cfg = ClickModelConfig(c=10.0, use_embedding=False)
    q = LIGHT_FEATURES.index("question")
    diffs = np.zeros((200, len(LIGHT_FEATURES)))
    diffs[:, q] = np.where(np.arange(200) % 2, 1.0, -1.0)
    wins = (diffs[:, q] > 0).astype(float)
    model = ClickModel.fit(diffs, wins, np.ones(200), config=cfg, embedder=FakeEmbedder())
    assert model.coef[q] > 1
    ctr = model(["Is this the best bike?", "This is the best bike"])
    assert ctr[0] > ctr[1] and all(0 < p < 1 for p in ctr)
    model.save(tmp_path)
    again = load_click_model(tmp_path, embedder=FakeEmbedder())
    assert np.allclose(again(["Why?"]), model(["Why?"]))


def test_bad_config_and_corrupt_file(tmp_path):
    with pytest.raises(ConfigError, match="c must be positive"):
        ClickModelConfig(c=0)
    with pytest.raises(ConfigError, match="at least one"):
        ClickModelConfig(use_embedding=False, use_light=False)
    (tmp_path / "click_model.json").write_text("{broken")
    with pytest.raises(ModelLoadError, match="cannot load a click model"):
        load_click_model(tmp_path)


def test_dpp_prefers_quality_then_diversity():
    emb = np.array([[1, 0], [1, 0], [0, 1]], dtype=float)  # items 0 and 1 are the same title
    chosen = dpp_select(np.array([0.9, 0.89, 0.5]), emb, 2)
    assert chosen == [0, 2]
    report = compare_to_topk(np.array([0.9, 0.89, 0.5]), emb, 2)
    assert report["diversity_gain"] > 0 and 0 < report["quality_kept"] < 1
    with pytest.raises(ValueError):
        dpp_select(np.array([1.0]), emb[:1], 1, theta=1.0)


def test_generator_uses_dpp_with_an_embedding_click_model(tiny_t5_dir):
    class Scorer:
        def __call__(self, titles, contexts):
            return [0.01 + len(t) / 1e4 for t in titles]

        def embed(self, titles):
            return FakeEmbedder().encode(titles)

    model, tok = load_base(tiny_t5_dir)
    # random embeddings would put most titles under the relevance floor; this test is about the DPP
    gen = TitleGenerator(model, tok, click_model=Scorer(), max_title_tokens=6, relevance_floor=None)
    (cands,) = gen(["A bike ride at dawn along the river"], num_titles=2, num_beams=3, num_samples=3)
    assert len(cands) == 2 and all(c.predicted_ctr is not None for c in cands)


def test_shipped_click_model_scores_titles(tmp_path):
    from titlegen.cli import main

    src = tmp_path / "titles.csv"
    src.write_text("title,context\nWhy this dog waits at the door every day,A dog story\n,\n", encoding="utf-8")
    assert main(["score", "--input", str(src), "--output", str(tmp_path / "out.csv")]) == 0
    rows = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "id,title,context,predicted_ctr,error"
    assert 0 < float(rows[1].split(",")[3]) < 0.2 and rows[2].endswith("empty title: nothing to score")


def test_ngram_part_adds_its_weighted_utility_and_round_trips(tmp_path):
    cfg = ClickModelConfig(c=1.0, use_embedding=False, ngram_weight=0.5)
    coef = np.zeros(len(LIGHT_FEATURES))
    model = ClickModel(coef, (-4.0, 1.0), cfg, FakeEmbedder(), ngrams={"puppy": 2.0, "you won": 1.0})
    u = model.utility(["A puppy story", "You won't believe it", "Plain title"])
    assert u == pytest.approx([1.0, 0.5, 0.0])  # 0.5 x (2.0 | 1.0 for the bigram "you won" | nothing)
    model.save(tmp_path)
    again = load_click_model(tmp_path, embedder=FakeEmbedder())
    assert again.utility(["A puppy story"]) == pytest.approx([1.0])
    with pytest.raises(ConfigError, match="needs the n-gram weights"):
        ClickModel(coef, (-4.0, 1.0), cfg, FakeEmbedder())


def test_relevance_floor_drops_off_topic_generated_titles(tiny_t5_dir):
    class Scorer:
        """Every generated title is orthogonal to the brief; the lead is the brief itself."""

        brief = "A bike ride at dawn along the river"

        def __call__(self, titles, contexts):
            return [0.5 for _ in titles]

        def embed(self, titles):
            return np.array([[1.0, 0.0] if t.startswith("A bike ride") else [0.0, 1.0] for t in titles])

    model, tok = load_base(tiny_t5_dir)
    gen = TitleGenerator(model, tok, click_model=Scorer(), max_title_tokens=6, diversity=None)
    (cands,) = gen([Scorer.brief], num_titles=5, num_beams=3, num_samples=3)
    assert [c.source for c in cands] == ["lead"]
    gen.relevance_floor = None
    (cands,) = gen([Scorer.brief], num_titles=5, num_beams=3, num_samples=3)
    assert any(c.source != "lead" for c in cands)
