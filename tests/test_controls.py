import pytest

from titlegen import Controls, InvalidControlError, get_platform, get_style, list_platforms, list_styles
from titlegen.controls import bucket_of_title, encode_source, length_bucket


def test_registry_has_the_required_presets():
    assert {"selling-point", "audience", "lifestyle", "news", "question", "listicle"} <= set(list_styles())
    assert get_platform("xiaohongshu").max_chars == 20
    assert get_platform("youtube").max_chars == 100
    assert "generic" in list_platforms()


def test_unknown_style_lists_the_known_ones():
    with pytest.raises(InvalidControlError, match="listicle"):
        get_style("poetry")


def test_source_format_is_the_documented_one():
    c = Controls(style="selling-point", audience="runners", selling_points=("waterproof", "light | airy"),
                 platform="xiaohongshu")
    assert encode_source("A  shoe\nfor rain", c) == (
        "style: selling-point | audience: runners | points: waterproof; light / airy | length: short | lang: en"
        " | brief: A shoe for rain")
    assert encode_source("x", Controls()).startswith("style: lifestyle | audience: anyone | points: none")


@pytest.mark.parametrize("limit,bucket", [(20, "short"), (55, "short"), (70, "medium"), (100, "medium"),
                                          (200, "long")])
def test_length_bucket_of_limit(limit, bucket):
    assert length_bucket(limit) == bucket


def test_bucket_of_title():
    assert bucket_of_title("x" * 40) == "short"
    assert bucket_of_title("x" * 41) == "medium"
    assert bucket_of_title("x" * 71) == "long"


@pytest.mark.parametrize("kwargs,match", [
    ({"selling_points": "waterproof"}, "list of phrases"),
    ({"selling_points": tuple("abcdef")}, "at most 5"),
    ({"max_chars": 3}, "max_chars"),
    ({"language": "english"}, "ISO 639-1"),
    ({"platform": "myspace"}, "xiaohongshu"),
])
def test_bad_controls_are_typed_errors(kwargs, match):
    with pytest.raises(InvalidControlError, match=match):
        Controls(**kwargs)


def test_limit_prefers_max_chars():
    assert Controls(platform="xiaohongshu").limit == 20
    assert Controls(platform="xiaohongshu", max_chars=30).limit == 30


@pytest.mark.parametrize("code", ["fr", "english", "", "EN", "zh-CN", "Chinese"])
def test_unknown_language_lists_the_known_codes(code):
    with pytest.raises(InvalidControlError) as err:
        Controls(language=code)
    message = str(err.value)
    assert repr(code) in message
    assert "'zh' (Chinese)" in message and "'en' (English)" in message and "'auto'" in message


@pytest.mark.parametrize("code,hint", [("english", "en"), ("EN", "en"), ("zh-CN", "zh"), ("Chinese", "zh"),
                                       ("中文", "zh")])
def test_a_near_miss_language_suggests_the_code(code, hint):
    with pytest.raises(InvalidControlError, match=f"Did you mean '{hint}'"):
        Controls(language=code)


def test_fr_gets_no_false_suggestion():
    with pytest.raises(InvalidControlError) as err:
        Controls(language="fr")
    assert "Did you mean" not in str(err.value)


@pytest.mark.parametrize("code", ["auto", "zh", "en"])
def test_known_languages_are_accepted(code):
    assert Controls(language=code).language == code


@pytest.mark.parametrize("max_chars,why", [(3, "fewer than 8"), (0, "fewer than 8"), (-5, "fewer than 8"),
                                           (501, "over 500")])
def test_a_limit_outside_the_range_says_the_range_and_what_to_do(max_chars, why):
    with pytest.raises(InvalidControlError) as err:
        Controls(max_chars=max_chars)
    message = str(err.value)
    assert "between 8 and 500" in message and why in message
    assert "leave it out" in message and "xiaohongshu 20" in message


@pytest.mark.parametrize("max_chars", ["20", 12.5, True, [20]])
def test_a_limit_that_is_not_a_whole_number_is_a_typed_error(max_chars):
    with pytest.raises(InvalidControlError, match="whole number"):
        Controls(max_chars=max_chars)


def test_limit_bounds_are_inclusive_and_whole_numbers_are_normalised():
    import numpy as np

    assert Controls(max_chars=8).limit == 8 and Controls(max_chars=500).limit == 500
    c = Controls(max_chars=np.int64(20))
    assert c.max_chars == 20 and type(c.max_chars) is int
    assert type(Controls(max_chars=20.0).max_chars) is int


@pytest.mark.parametrize("kwargs,match", [
    ({"audience": None}, "audience must be text"),
    ({"selling_points": 5}, "list of phrases"),
    ({"style": None}, "lifestyle"),
    ({"platform": ["douyin"]}, "xiaohongshu"),
])
def test_wrongly_typed_controls_are_typed_errors(kwargs, match):
    with pytest.raises(InvalidControlError, match=match):
        Controls(**kwargs)


def test_no_selling_points_may_be_none():
    assert Controls(selling_points=None).selling_points == ()


def test_source_format_with_chinese():
    c = Controls(selling_points=("续航四十小时", "降噪"), platform="xiaohongshu")
    assert encode_source("这款降噪耳机\n续航四十小时", c) == (
        "style: lifestyle | audience: anyone | points: 续航四十小时; 降噪 | length: short | lang: zh"
        " | brief: 这款降噪耳机 续航四十小时")
    assert "lang: en" in encode_source("这款降噪耳机", Controls(language="en"))
