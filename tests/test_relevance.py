"""Lexical grounding and ranking by the model's score, for Chinese and English titles."""

import pytest

from titlegen.relevance import grounding, overlap, rank_by_score, units


def test_units_are_han_bigrams_and_latin_words():
    assert units("西湖咖啡") == {"西湖", "湖咖", "咖啡"}
    assert units("好") == {"好"}                       # a lone Han character is its own unit
    assert units("Cozy Cafe, cozy!") == {"cozy", "cafe"}
    assert units("a b") == set()                       # one-letter words carry nothing
    assert units("AirPods开箱") == {"airpods", "开箱"}
    assert units("") == set()


def test_grounding_in_chinese():
    brief = "杭州西湖边的小咖啡馆，手冲桂花拿铁"
    assert grounding("西湖边的小咖啡馆", brief) == 1.0
    assert grounding("西湖小咖啡馆", brief) == pytest.approx(4 / 5)  # 湖小 is not in the brief
    assert grounding("东京塔下的拉面", brief) == 0.0


def test_grounding_in_english():
    brief = "A cozy cafe by West Lake with osmanthus latte"
    assert grounding("Cozy Cafe by West Lake", brief) == 1.0
    assert grounding("Cozy Ramen in Tokyo", brief) == pytest.approx(1 / 4)
    assert grounding("!!!", brief) == 0.0             # nothing to ground


def test_overlap_is_symmetric_dice():
    assert overlap("西湖咖啡", "西湖咖啡") == 1.0
    assert overlap("West Lake cafe", "cafe West Lake") == 1.0
    assert overlap("West Lake cafe", "Tokyo ramen") == 0.0
    assert overlap("a", "b") == 1.0                   # both empty: the same nothing
    assert overlap("West Lake cafe", "West Lake") == pytest.approx(2 * 2 / 5)


def test_rank_by_score_adds_grounding_to_the_model_score():
    brief = "A cafe on West Lake with osmanthus latte"
    titles = ["Tokyo Ramen Night", "Osmanthus Latte by West Lake"]
    assert rank_by_score(titles, [-0.5, -1.0], brief, 2) == [1, 0]             # grounding outweighs 0.5 nats
    assert rank_by_score(titles, [-0.5, -1.0], brief, 2, relevance_weight=0.0) == [0, 1]


def test_rank_by_score_skips_near_duplicates_while_others_remain():
    brief = "A cafe on West Lake with osmanthus latte"
    titles = ["West Lake cafe", "The West Lake cafe", "Osmanthus latte"]
    assert rank_by_score(titles, [-1.0, -1.1, -2.0], brief, 2) == [0, 2]
    # Only near-duplicates left: they fill the list rather than leave it short.
    assert rank_by_score(titles, [-1.0, -1.1, -2.0], brief, 3) == [0, 2, 1]


def test_rank_by_score_in_chinese():
    brief = "这款降噪耳机续航四十小时，通勤路上很安静"
    titles = ["降噪耳机续航四十小时", "续航四十小时的降噪耳机", "通勤路上的安静"]
    assert rank_by_score(titles, [-1.0, -1.05, -1.2], brief, 2) == [0, 2]


def test_rank_by_score_edges():
    assert rank_by_score([], [], "brief", 3) == []
    assert rank_by_score(["a b", "c d"], [0.0, 0.0], "", 0) == []
    assert rank_by_score(["Cozy tote"], [float("-inf")], "cozy tote", 5) == [0]   # the lead fallback's score
    with pytest.raises(ValueError, match="2 titles but 1"):
        rank_by_score(["a", "b"], [0.0], "brief", 1)
