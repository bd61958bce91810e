"""Clickbait patterns and the restraint they feed into title ranking."""

import math

import pytest

from titlegen.clickbait import clickbait_patterns, ranking_score
from titlegen.evaluate.uplift_eval import choose_restraint
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


class _FlagsPatterns:
    """A stand-in clickbait judge: flags any title with a pattern."""

    def predict_proba(self, titles):
        import numpy as np

        flags = np.array([float(bool(clickbait_patterns(t))) for t in titles])
        return np.stack([1 - flags, flags], axis=1)


def test_choose_restraint_takes_the_smallest_value_that_matches_the_humans():
    import pandas as pd

    groups = [pd.DataFrame({"headline": ["Plain news", "You must see this!"], "ctr": [0.02, 0.01]}),
              pd.DataFrame({"headline": ["Another plain one", "Why?"], "ctr": [0.03, 0.01]})]
    cands = [[TitleCandidate("You won't believe this!", "beam", -1.0, 0.060),
              TitleCandidate("Council opens a new park", "beam", -1.0, 0.020)]] * 2
    restraint, rates = choose_restraint(groups, cands, _FlagsPatterns())
    # The bait title has 4 groups and log-odds 1.14 above the plain one: 0.25 is not enough, 0.5 is.
    assert rates["human_winner"] == 0.0 and rates["kept"][0.0] == 1.0 and rates["kept"][0.25] == 1.0
    assert restraint == 0.5


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
