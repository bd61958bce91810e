"""Chinese briefs through the shipped default text encoder: templates and copy lines (item 5 of issue #13).

Slow: loads the multilingual encoder and embeds the template cards and ~160 bundled copy lines.
"""

import pytest

BRIEFS = [("周末做一道红烧肉，分步骤教你", "recipe-steps"), ("新品耳机开箱，快节奏卡点展示", "beat-cut-showcase"),
          ("三天的海岛旅行混剪，风景大片", "travel-montage"), ("安静的一天，记录日常生活", "calm-vlog"),
          ("房间改造前后对比", "before-after"), ("週末做一道紅燒肉，分步驟教你", "recipe-steps")]  # last: traditional


@pytest.fixture(scope="module")
def matcher():
    import templates
    from crossmodal_match.matcher import MatcherConfig, create_matcher

    return create_matcher(MatcherConfig(top_k=3), templates=templates.template_cards())


@pytest.mark.slow
@pytest.mark.parametrize(("brief", "template"), BRIEFS)
def test_a_chinese_brief_ranks_the_fitting_template_in_the_top_two(matcher, brief, template):
    ranked = [c.id for c in matcher.match(None, brief).templates]
    assert template in ranked[:2], (brief, ranked)


@pytest.mark.slow
def test_english_briefs_still_rank_templates(matcher):
    ranked = [c.id for c in matcher.match(None, "how to cook a quick pasta, step by step").templates]
    assert "recipe-steps" in ranked[:2]


@pytest.mark.slow
def test_chinese_brief_gets_chinese_copy_with_reasons(matcher):
    from crossmodal_match.lexical import is_chinese

    result = matcher.match(None, "带狗狗去海边玩了一整天")
    assert result.encoder == "multilingual-e5-small-q4"
    assert all(is_chinese(c.title) and c.reason for c in result.copy)
    assert "pets" in [t for c in result.copy for t in c.item.tags]
