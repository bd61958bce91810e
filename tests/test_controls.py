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
