"""Click metrics and A/B-table cleaning on tiny hand-made tables with known answers."""

import numpy as np
import pandas as pd
import pytest

from titlegen import InputFileError
from titlegen.abtests import Skipped, arm_pairs, clean_arms, two_proportion_p
from titlegen.ctr_metrics import (calibration_bins, group_auc, pairwise_accuracy, pairwise_log_loss,
                                  replay_uplift, top1_accuracy)


def test_pairwise_accuracy_counts_ties_as_half():
    assert pairwise_accuracy([2, 1, 1], [1, 2, 1], [True, True, False]) == pytest.approx((1 + 0 + 0.5) / 3)


def test_pairwise_log_loss_known_value():
    assert pairwise_log_loss([0.5, 0.5], [True, False]) == pytest.approx(np.log(2))


def test_two_proportion_p_known_value():
    # 5.0 % vs 3.0 % of 1000: pooled 4 %, se 0.008764, z 2.282, p 0.0225
    assert two_proportion_p(50, 1000, 30, 1000) == pytest.approx(0.02248, abs=2e-4)
    assert two_proportion_p(0, 100, 0, 100) == pytest.approx(1.0)


ARMS = pd.DataFrame({"test": ["t1", "t1", "t1", "t2", "t2"], "ctr": [0.01, 0.02, 0.03, 0.04, 0.02]})


def test_top1_and_chance():
    top1, chance = top1_accuracy(ARMS, [0, 0, 1, 0, 1])  # right in t1, wrong in t2
    assert top1 == 0.5 and chance == pytest.approx((1 / 3 + 1 / 2) / 2)


def test_replay_uplift_known_answer():
    r = replay_uplift(ARMS, [0, 0, 1, 1, 0], n_boot=200)  # picks the best arm of both tests = oracle
    t1, t2 = 0.03 / 0.02 - 1, 0.04 / 0.03 - 1
    assert r["uplift"] == pytest.approx((t1 + t2) / 2) and r["oracle"] == pytest.approx(r["uplift"])
    assert r["share_of_oracle"] == pytest.approx(1.0) and r["tests"] == 2
    worst = replay_uplift(ARMS, [1, 0, 0, 0, 1], n_boot=200)
    assert worst["uplift"] == pytest.approx((0.01 / 0.02 - 1 + 0.02 / 0.03 - 1) / 2)
    assert worst["ci95"][0] <= worst["uplift"] <= worst["ci95"][1]


def test_bootstrap_mean_ci_known_answers():
    from titlegen.ctr_metrics import bootstrap_mean_ci

    assert bootstrap_mean_ci(np.full(30, 0.25), n_boot=100) == [0.25, 0.25]  # no spread, no interval
    low, high = bootstrap_mean_ci(np.r_[np.ones(50), np.zeros(50)], n_boot=2000)
    # The mean of 100 fair coin flips: SE 0.05, so about 0.5 -/+ 1.96 x 0.05.
    assert 0.39 < low < 0.42 and 0.58 < high < 0.61
    assert bootstrap_mean_ci(np.r_[np.ones(50), np.zeros(50)], n_boot=2000) == [low, high]  # seeded


def test_group_auc_skips_one_class_groups():
    auc = group_auc([np.array([0.9, 0.1]), np.array([0.1, 0.9, 0.5]), np.array([1.0])],
                    [np.array([1, 0]), np.array([1, 0, 0]), np.array([1])])
    assert auc == pytest.approx((1.0 + 0.0) / 2)


def test_calibration_bins():
    bins = calibration_bins(np.array([0.05, 0.15, 0.95]), np.array([0, 1, 1]), bins=10)
    assert [b["n"] for b in bins] == [1, 1, 1] and bins[1]["observed"] == 1.0


def _raw(**cols):
    base = {"clickability_test_id": ["a", "a", "b", "b", "c", "d", "d", "e", "e"],
            "headline": ["h1", "h2", "h3", None, "h5", "h6", "h7", "h8", "h9"],
            "impressions": [100, 100, 100, 100, 100, 0, 100, 100, 100],
            "clicks": [5, 3, 4, 4, 1, 0, 200, 2, 2], "test_week": [201501] * 7 + [201330, 201330],
            "eyecatcher_id": ["x"] * 9, "lede": ["story"] * 9}
    base.update(cols)
    return pd.DataFrame(base)


def test_clean_arms_counts_and_skips_bad_rows():
    skipped = Skipped()
    arms = clean_arms(_raw(), skipped)
    assert set(arms["test_id"]) == {"a"}  # b: NaN headline -> 1 arm; c: one arm; d: 0 impr + clicks>impr; e: bad weeks
    c = skipped.counts
    assert c["arms in randomisation-problem weeks"] == 2
    assert c["arms with empty or missing headline"] == 1
    assert c["arms with missing or zero impressions"] == 1
    assert c["arms with clicks > impressions"] == 1
    assert c["arms without a same-image rival in their test"] == 2  # b's h3 and c's h5
    assert "h1" in arms["headline"].tolist() and arms["ctr"].tolist() == [0.05, 0.03]


def test_missing_columns_name_what_was_found():
    with pytest.raises(InputFileError, match="clicks.*columns found"):
        clean_arms(_raw().drop(columns=["clicks"]), Skipped())


def test_arm_pairs_drops_ties_and_compares_within_image():
    raw = _raw(clickability_test_id=["a"] * 4 + ["z"] * 5, eyecatcher_id=["x", "x", "y", "y"] + ["q"] * 5,
               headline=[f"h{i}" for i in range(9)], impressions=[100] * 9, clicks=[5, 3, 4, 4, 1, 2, 3, 4, 5],
               test_week=[201501] * 9)
    arms = clean_arms(raw, Skipped())
    pairs = arm_pairs(arms)
    assert len(pairs[pairs["test"] == "a/x"]) == 1 and len(pairs[pairs["test"] == "a/y"]) == 0  # y tie dropped
    assert len(pairs[pairs["test"] == "z/q"]) == 10


def test_arm_pairs_soft_target_is_phi_of_z():
    raw = _raw(clickability_test_id=["a", "a", "b", "b"], eyecatcher_id=["x"] * 4, headline=["h1", "h2", "h3", "h4"],
               impressions=[1000, 1000, 100, 100], clicks=[50, 30, 5, 4], test_week=[201501] * 4,
               lede=["story"] * 4)
    pairs = arm_pairs(clean_arms(raw, Skipped())).set_index("test")
    # a/x: z = +2.282 (see the p-value test), Phi(z) = 0.9888; b/x: 5 % vs 4 % of 100 is mostly noise.
    assert pairs.loc["a/x", "p_a_better"] == pytest.approx(0.9888, abs=5e-4)
    assert 0.5 < pairs.loc["b/x", "p_a_better"] < 0.7
    assert pairs.loc["a/x", "p"] == pytest.approx(2 * (1 - pairs.loc["a/x", "p_a_better"]))
