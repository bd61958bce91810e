"""The issue's bad inputs, each with its typed error that says what to do or its documented graceful result:
emoji- or hashtag-only briefs, mixed Chinese and English, traditional characters, a 100k-character brief, selling
points that contradict the brief, an unknown ``language`` and a platform limit shorter than any sensible title.

Generator-level checks run tiny random models (see conftest); where what matters is what happens to candidates,
fixed raw candidates stand in for the gibberish a random model writes.
"""

from __future__ import annotations

import pytest

import titlegen.generator as generator_module
from titlegen import Controls, InvalidBriefError, InvalidControlError, TitleRequest
from titlegen.candidates import TitleList
from titlegen.faithfulness import check_title
from titlegen.generator import MAX_BRIEF_CHARS, contradiction_notes, validate_request
from titlegen.language import display_length, resolve_language
from titlegen.loading import load_generator

ZH_BRIEF = "这款降噪耳机续航四十小时，通勤路上安静又舒服。"
MIXED = "这款Sony WH-1000XM5降噪耳机续航四十小时，通勤路上很安静，iPhone和Android都能连。"
TRADITIONAL = "這款降噪耳機續航四十小時，通勤路上安靜又舒服。"


def _model_dir(request, name: str) -> str:
    try:
        return request.getfixturevalue(name)
    except pytest.FixtureLookupError:
        pytest.skip(f"conftest has no {name} fixture")


@pytest.fixture(scope="module")
def causal_generator(request):
    return load_generator(_model_dir(request, "tiny_causal_dir"))


@pytest.fixture(params=["tiny_t5_dir", "tiny_causal_dir"])
def any_generator(request):
    return load_generator(_model_dir(request, request.param))


def _fixed_candidates(monkeypatch, titles: list[str]) -> None:
    """Make the causal generator's raw candidates ``titles`` for every brief (a tiny random model writes noise)."""
    def fake(model, tokenizer, lines, **kwargs):
        return [[(t, "beam", -1.0 - i / 10) for i, t in enumerate(titles)] for _ in lines]

    monkeypatch.setattr(generator_module, "generate_candidates", fake)


# --- a brief of only emoji or hashtags ------------------------------------------------------------------------


@pytest.mark.parametrize("brief", ["🎧🔥✨👍🏽", "#ootd #fashion #好物分享", "🎧 #降噪耳机 @小明 !!!", "2024 ...", "   \n "],
                         ids=["emoji", "hashtags", "emoji-hashtag-mention", "digits", "blank"])
def test_a_brief_without_words_is_a_typed_error_that_says_what_to_do(brief):
    with pytest.raises(InvalidBriefError, match="describe the post"):
        validate_request(TitleRequest(brief))


def test_the_generator_rejects_it_before_generating_anything(causal_generator, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("the model ran on a brief without words")

    monkeypatch.setattr(generator_module, "generate_candidates", never)
    with pytest.raises(InvalidBriefError, match=r"brief #1 .*describe the post in a few words"):
        causal_generator([ZH_BRIEF, "#ootd #fashion"])


def test_a_brief_with_a_hashtag_and_words_is_fine():
    assert validate_request(TitleRequest("#好物分享 降噪耳机续航超长")).brief == "#好物分享 降噪耳机续航超长"


# --- mixed Chinese and English, traditional characters --------------------------------------------------------


@pytest.mark.parametrize("brief", [MIXED, TRADITIONAL, "Apple AirPods Pro 2 真香，降噪很强"],
                         ids=["mixed", "traditional", "brand-heavy"])
def test_mixed_and_traditional_briefs_resolve_to_chinese(brief):
    assert resolve_language("auto", brief) == "zh"


@pytest.mark.parametrize("brief", [MIXED, TRADITIONAL], ids=["mixed", "traditional"])
def test_mixed_and_traditional_briefs_get_chinese_titles(causal_generator, brief):
    (titles,) = causal_generator([TitleRequest(brief, Controls(platform="xiaohongshu"))], num_titles=3,
                                 num_beams=2, num_samples=1)
    assert isinstance(titles, TitleList) and titles and titles.language == "zh"
    assert all(0 < display_length(c.text) <= 20 for c in titles)


def test_a_mixed_brief_keeps_titles_that_name_its_latin_brand(causal_generator, monkeypatch):
    _fixed_candidates(monkeypatch, ["Sony降噪耳机续航四十小时", "Washown降噪耳机续航四十小时", "Sony耳机续航五十小时"])
    (titles,) = causal_generator([TitleRequest(MIXED, Controls(platform="xiaohongshu"))], num_titles=3)
    assert [c.text for c in titles] == ["Sony降噪耳机续航四十小时"]
    assert titles.language == "zh"
    assert titles.dropped == {"unsupported number": 1, "unsupported name": 1}


# --- a 100k-character brief -----------------------------------------------------------------------------------


def test_a_huge_brief_is_cut_with_a_warning():
    brief = "小户型客厅改造，一千元搞定温馨角落。" * 6000  # about 108k characters
    assert len(brief) > 100_000
    with pytest.warns(UserWarning, match=f"only the first {MAX_BRIEF_CHARS} are used"):
        req = validate_request(TitleRequest(brief))
    assert len(req.brief) == MAX_BRIEF_CHARS and brief.startswith(req.brief)


def test_a_huge_brief_still_gets_titles(any_generator):
    brief = "Handmade linen tote bag that holds a 15-inch laptop. " * 2000
    with pytest.warns(UserWarning, match="characters; only the first"):
        (titles,) = any_generator([brief], controls=Controls(max_chars=40), num_titles=2, num_beams=2,
                                  num_samples=1)
    assert titles and all(0 < display_length(c.text) <= 40 for c in titles)


# --- selling points that contradict the brief -----------------------------------------------------------------


def test_a_contradicting_selling_point_gets_a_note():
    req = TitleRequest(ZH_BRIEF, Controls(selling_points=("续航30小时", "降噪")))
    (note,) = contradiction_notes(req)
    assert "续航30小时" in note and "30" in note and "check which is right" in note


def test_agreeing_points_get_no_note():
    assert contradiction_notes(TitleRequest(ZH_BRIEF, Controls(selling_points=("续航40小时",)))) == []
    assert contradiction_notes(TitleRequest(ZH_BRIEF, Controls(selling_points=("降噪",)))) == []
    assert contradiction_notes(TitleRequest("Forty hours of battery", Controls(selling_points=("40 hours",)))) == []


def test_both_numbers_count_as_support():
    support = [ZH_BRIEF, "", "续航30小时"]
    assert check_title("续航四十小时的降噪耳机", support) == []
    assert check_title("续航30小时的降噪耳机", support) == []
    assert check_title("续航50小时的降噪耳机", support) == ["number 50 not in the brief"]


def test_the_generator_keeps_either_number_and_says_to_check(causal_generator, monkeypatch):
    _fixed_candidates(monkeypatch, ["续航四十小时的降噪耳机", "续航30小时的降噪耳机", "续航50小时的降噪耳机"])
    req = TitleRequest(ZH_BRIEF, Controls(platform="xiaohongshu", selling_points=("续航30小时",)))
    (titles,) = causal_generator([req], num_titles=3)
    assert sorted(c.text for c in titles) == ["续航30小时的降噪耳机", "续航四十小时的降噪耳机"]
    assert titles.dropped == {"unsupported number": 1}
    assert "check which is right" in titles.ranking and "check which is right" in titles.summary()


# --- controls: an unknown language, a limit no title fits -----------------------------------------------------


@pytest.mark.parametrize("code", ["fr", "english", ""])
def test_an_unknown_language_lists_the_known_codes(code):
    with pytest.raises(InvalidControlError, match=r"'zh' \(Chinese\), 'en' \(English\), or 'auto'"):
        TitleRequest(ZH_BRIEF, Controls(language=code))


def test_a_limit_shorter_than_any_title_gives_the_accepted_range():
    with pytest.raises(InvalidControlError, match=r"between 8 and 500 .*got 3.*leave it out"):
        Controls(platform="xiaohongshu", max_chars=3)


def test_the_shortest_accepted_limit_still_gives_a_title_that_fits(causal_generator):
    (titles,) = causal_generator([TitleRequest(ZH_BRIEF, Controls(max_chars=8))], num_titles=2, num_beams=2,
                                 num_samples=1)
    assert titles and all(0 < display_length(c.text) <= 8 for c in titles)
