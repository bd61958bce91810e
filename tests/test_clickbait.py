"""Clickbait patterns and the restraint they feed into title ranking."""

import math

import pytest

from titlegen.clickbait import clickbait_patterns, ranking_score
from titlegen.evaluate.generated_eval import choose_weights, keep, split_t3_tests
from titlegen.generator import TitleCandidate


def test_patterns_name_each_group_matched():
    assert clickbait_patterns("Linen tote, 15-inch laptop sleeve") == ()
    assert clickbait_patterns("10 Reasons You Won't Believe This Tote Is Amazing!") == (
        "leading number", "forward reference", "second person", "hyperbole", "! or ?", "teaser phrase")
    assert clickbait_patterns("Why cities plant trees") == ("leading question word",)


def test_ranking_score_is_log_odds_minus_restraint_per_group():
    assert ranking_score(0.5, "plain title", 2.0) == pytest.approx(0.0)
    assert ranking_score(0.2, "You won't believe it", 0.0) == pytest.approx(math.log(0.25))
    assert ranking_score(0.2, "You won't believe it", 1.5) == pytest.approx(math.log(0.25) - 1.5 * 2)


def test_relevance_weight_adds_log_odds_per_unit_of_similarity():
    assert ranking_score(0.5, "plain title", 0.0, relevance_weight=2.0, similarity=0.25) == pytest.approx(0.5)
    assert ranking_score(0.5, "plain title", 0.0, relevance_weight=2.0) == pytest.approx(0.0)  # no similarity


def _table():
    import pandas as pd

    # Two tests; in each, a catchy off-topic title (4 pattern groups, low similarity) and a plain on-topic one.
    rows = []
    for t in range(2):
        rows += [{"test": t, "text": "You won't believe this!", "ctr": 0.06, "similarity": 0.1},
                 {"test": t, "text": "Council opens a new park", "ctr": 0.05, "similarity": 0.8}]
    table = pd.DataFrame(rows)
    table["patterns"] = [len(clickbait_patterns(t)) for t in table["text"]]
    return table


def test_keep_matches_ranking_score():
    table = _table()
    for restraint, weight in [(0.0, 0.0), (0.0, 0.3), (0.05, 0.0), (0.5, 1.0)]:
        kept = keep(table, restraint, weight)
        expected = max(table.iloc[:2].itertuples(), key=lambda c: ranking_score(
            c.ctr, c.text, restraint, relevance_weight=weight, similarity=c.similarity)).text
        assert list(kept["text"]) == [expected, expected]
    # logit(0.06) - logit(0.05) = 0.192: a weight of 0.3 x 0.7 more similarity (0.21) outweighs it, 0.25 does not.
    assert keep(table, 0.0, 0.3)["text"].iloc[0] == "Council opens a new park"
    assert keep(table, 0.0, 0.25)["text"].iloc[0] == "You won't believe this!"


def test_choose_weights_maximises_wins_under_the_clickbait_ceiling():
    import pandas as pd

    curve = pd.DataFrame([
        {"restraint": 0.0, "relevance_weight": 0.0, "win": 0.80, "clickbait": 0.97, "rougeL": 0.1},
        {"restraint": 0.25, "relevance_weight": 0.0, "win": 0.70, "clickbait": 0.90, "rougeL": 0.1},
        {"restraint": 0.25, "relevance_weight": 1.0, "win": 0.65, "clickbait": 0.85, "rougeL": 0.1},
        {"restraint": 0.5, "relevance_weight": 1.0, "win": 0.65, "clickbait": 0.80, "rougeL": 0.1},
        {"restraint": 1.0, "relevance_weight": 2.0, "win": 0.40, "clickbait": 0.70, "rougeL": 0.1}])
    # Human rate 0.92 on 100 tests: SE 0.027, ceiling 0.893; 0.90 is over it, so the best under it is a tie
    # between two points with 0.65 wins, broken towards the smaller restraint.
    assert choose_weights(curve, 0.92, 100) == (0.25, 1.0, 0.8929)
    # With no point under the ceiling, the plainest point.
    assert choose_weights(curve, 0.5, 100)[:2] == (1.0, 2.0)


def test_tuning_tests_are_disjoint_from_the_evaluation_sample():
    import pandas as pd

    frame = pd.DataFrame({"test": [f"t{i // 2}" for i in range(40)],
                          "lede": ["A long enough lede about a park opening." if (i // 2) % 4 else "short"
                                   for i in range(40)]})
    evaluation, tuning = split_t3_tests(frame, n_tests=5, n_tuning=100, seed=0)
    assert len(evaluation) == 5 and not set(evaluation) & set(tuning)
    assert len(evaluation) + len(tuning) == 20 - 5  # tests t0, t4, t8, ... have only short ledes
    assert split_t3_tests(frame, n_tests=5, n_tuning=3, seed=0) == (evaluation, tuning[:3])


def test_generator_restraint_demotes_pattern_titles(tiny_t5_dir):
    from titlegen import ConfigError, Controls
    from titlegen.generator import TitleRequest
    from titlegen.loading import load_generator

    def click_model(titles, contexts):  # prefers clickbait a little
        return [0.04 if clickbait_patterns(t) else 0.03 for t in titles]

    gen = load_generator(str(tiny_t5_dir), click_model=click_model)
    gen.relevance_floor = None
    request = TitleRequest("A linen tote that fits a laptop.", Controls())
    raw = [("You won't believe this tote!", "beam", -1.0), ("Linen tote that fits a laptop", "beam", -1.0)]
    assert gen._postprocess(request, raw, num_titles=2)[0].text == "You won't believe this tote!"
    gen.restraint = 1.0  # 3 groups cost 3 log-odds, more than the 0.30 the click model prefers them by
    assert gen._postprocess(request, raw, num_titles=2)[0].text == "Linen tote that fits a laptop"
    with pytest.raises(ConfigError, match="restraint"):
        type(gen)(gen.model, gen.tokenizer, restraint=-1)
    with pytest.raises(ConfigError, match="restraint"):
        gen("A linen tote", restraint=-0.5)
    gen.restraint = 0.0  # a call's restraint applies to that call only (sessions share one generator)
    assert gen._postprocess(request, raw, num_titles=2, restraint=1.0)[0].text == "Linen tote that fits a laptop"
    assert gen("A linen tote that fits a laptop.", restraint=1.0)[0] and gen.restraint == 0.0


def test_generator_relevance_weight_prefers_titles_about_the_brief(tiny_t5_dir):
    import numpy as np

    from titlegen import ConfigError, Controls
    from titlegen.generator import TitleRequest
    from titlegen.loading import load_generator

    class WordModel:
        """Prefers the off-topic title a little; embeds texts as normalised word-presence vectors."""

        vocab = ["linen", "tote", "laptop", "cats", "dance"]

        def __call__(self, titles, contexts):
            return [0.04 if "cats" in t.lower() else 0.03 for t in titles]

        def embed(self, titles):
            x = np.array([[float(w in t.lower()) for w in self.vocab] for t in titles]) + 1e-3
            return x / np.linalg.norm(x, axis=1, keepdims=True)

    gen = load_generator(str(tiny_t5_dir), click_model=WordModel())
    gen.relevance_floor, gen.diversity = None, None
    request = TitleRequest("A linen tote that fits a laptop.", Controls())
    raw = [("Cats dance", "beam", -1.0), ("Linen tote for a laptop", "beam", -1.0)]
    ranked = gen._postprocess(request, raw, num_titles=2)
    assert [c.text for c in ranked] == ["Cats dance", "Linen tote for a laptop"]
    assert ranked[0].similarity < 0.01 < 0.99 < ranked[1].similarity  # similarity is reported with each candidate
    gen.relevance_weight = 1.0  # one unit of similarity outweighs the 0.30 log-odds the click model prefers by
    assert gen._postprocess(request, raw, num_titles=2)[0].text == "Linen tote for a laptop"
    assert gen._postprocess(request, raw, num_titles=2, relevance_weight=0.0)[0].text == "Cats dance"
    for bad in (-1.0, float("nan"), "1", True):
        with pytest.raises(ConfigError, match="relevance_weight"):
            gen.relevance_weight = bad
    with pytest.raises(ConfigError, match="relevance_weight"):
        gen("A linen tote", relevance_weight=-0.5)
    assert gen.relevance_weight == 1.0


def test_chinese_titles_are_matched_against_the_chinese_patterns():
    assert clickbait_patterns("北京市发布暴雨蓝色预警") == ()
    assert clickbait_patterns("震惊！你绝对想不到这个结果") == (
        "forward reference", "second person", "hyperbole", "! or ?", "teaser phrase")
    assert clickbait_patterns("5个技巧，拍出好看的照片") == ("leading number",)
    assert clickbait_patterns("为什么猫咪喜欢纸箱") == ("leading question word",)
    # the language is the title's (a brand name does not make a Chinese title English), or the caller's
    assert clickbait_patterns("iPhone 15 开箱：你一定要看") == ("second person", "teaser phrase")
    assert clickbait_patterns("Why cities plant trees", language="zh") == ()


def test_restraint_demotes_chinese_pattern_titles_too():
    plain, bait = "降噪耳机通勤实测", "震惊！这款耳机竟然这么好用？"
    assert ranking_score(0.5, bait, 0.5) < ranking_score(0.5, plain, 0.5) == pytest.approx(0.0)


def test_hancd_loader_names_what_is_wrong(tmp_path):
    from titlegen.errors import InputFileError
    from titlegen.evaluate.clickbait_eval import load_hancd

    with pytest.raises(InputFileError, match="hancd_clickbait.csv not found"):
        load_hancd(tmp_path)
    (tmp_path / "zh_titles").mkdir()
    (tmp_path / "zh_titles" / "hancd_clickbait.csv").write_text("title,label\n标题,1\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="lacks column.*label_clickbait.*columns found: title, label"):
        load_hancd(tmp_path)
    (tmp_path / "zh_titles" / "hancd_clickbait.csv").write_text(
        "title,label_clickbait\n标题一,1\n标题一,0\n,1\n标题二,x\n标题三,0\n", encoding="utf-8")
    frame, dups = load_hancd(tmp_path)
    assert frame["title"].tolist() == ["标题一", "标题三"] and dups == 1


def test_chinese_guardrail_eval_on_a_synthetic_set(tmp_path):
    import json

    import numpy as np

    from titlegen.evaluate.clickbait_eval import run_clickbait_zh_eval

    class Embedder:
        def encode(self, texts):
            return np.array([[1.0, 0.0] if "竟然" in t else [0.0, 1.0] for t in texts])

    rows = [f"{'竟然' if i % 2 else '发布'}第{i}条新闻,{i % 2}" for i in range(200)]
    (tmp_path / "zh_titles").mkdir()
    (tmp_path / "zh_titles" / "hancd_clickbait.csv").write_text(
        "title,label_clickbait\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = run_clickbait_zh_eval(tmp_path, tmp_path / "out", embedder=Embedder(), encoder="fake", command="t")
    systems = result["systems"]
    assert systems["guardrail: embedding (fake) + pattern groups logistic"] == 1.0
    assert systems["restraint patterns (>= 1 groups)"] == 1.0  # 竟然 is a forward reference
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["data"]["train_titles"] > 100
