"""Lexical terms in any script, the TF-IDF index, fusion with dense scores, and the language test."""

import numpy as np
import pytest

from crossmodal_match.lexical import LexicalIndex, fuse, fused_fit, han_share, is_chinese, terms, zscore


def test_terms_split_han_into_characters_and_words_into_words():
    assert terms("周末露营") == ["周", "末", "露", "营", "周末", "末露", "露营"]
    assert terms("Week-end à la PLAGE") == ["week", "end", "a", "la", "plage", "week end", "end a", "a la", "la plage"]
    assert terms("ＡＢＣ１２") == ["abc12"]  # full-width letters and digits read as ASCII
    assert terms("😀🎉 !!") == [] and terms("") == []


def test_mixed_language_terms_do_not_pair_across_scripts():
    got = terms("露营 vlog 日记")
    assert "vlog" in got and "露营" in got and "日记" in got and not any(" " in t and "营" in t for t in got)


def test_index_finds_the_line_sharing_rare_words():
    index = LexicalIndex(["周末的早餐，慢慢煎一张松饼。", "第一次跑完十公里", "Leg day done, no excuses"])
    s = index.scores(["松饼早餐", "10 公里 跑步", "leg day"])
    assert s.shape == (3, 3) and list(s.argmax(axis=1)) == [0, 1, 2]
    assert index.scores(["😀"]).tolist() == [[0.0, 0.0, 0.0]]  # nothing shared: all zero, not an error
    assert index.scores([]).shape == (0, 3)


def test_index_of_lines_without_terms_scores_zero():
    assert LexicalIndex(["😀", ""]).scores(["anything"]).tolist() == [[0.0, 0.0]]
    assert LexicalIndex([]).scores(["x"]).shape == (1, 0)


def test_fusion_is_a_weighted_sum_of_z_scores():
    dense = np.array([[0.9, 0.8, 0.7]])
    lexical = np.array([[0.0, 0.0, 0.9]])
    np.testing.assert_allclose(fuse(dense, lexical, lexical_weight=0.0), zscore(dense))
    assert fuse(dense, lexical, lexical_weight=1.0).argmax() == 2
    np.testing.assert_allclose(fuse(dense, lexical, lexical_weight=0.3), 0.7 * zscore(dense) + 0.3 * zscore(lexical))
    # in a pool, one shared rare word lifts a line whose cosine is only a little below the best
    pool_dense = np.array([[0.62, 0.60, 0.30, 0.28, 0.25, 0.20]])
    pool_lex = np.array([[0.0, 0.7, 0.0, 0.0, 0.0, 0.0]])
    assert fuse(pool_dense, pool_lex, lexical_weight=0.4).argmax() == 1
    assert zscore(np.array([[0.3, 0.3]])).tolist() == [[0.0, 0.0]]  # constant row: 0, not NaN
    assert fused_fit(np.array([0.0]))[0] == 0.5
    assert 0 < fused_fit(np.array([-40.0]))[0] < fused_fit(np.array([3.0]))[0] < 1
    with pytest.raises(ValueError, match="lexical_weight"):
        fuse(dense, lexical, lexical_weight=1.2)
    with pytest.raises(ValueError, match="shape"):
        fuse(dense, lexical[:, :2], lexical_weight=0.5)


def test_language_of_a_text():
    assert is_chinese("周末露营 vlog") and is_chinese("iPhone 15 开箱测评") and is_chinese("一隻小狗在海邊")
    assert is_chinese("my trip to 北京") is False and is_chinese("Week-end à la plage") is False
    assert is_chinese("😀😀") is None and is_chinese("") is None and han_share("123") is None
