"""Language detection, reader-visible length and cutting to length, with Chinese and English text."""

import pytest

from titlegen.language import (AUTO, LANGUAGES, detect_language, display_length, fit_to_length, han_count,
                               has_words, resolve_language)


@pytest.mark.parametrize("text,length", [
    ("降噪耳机", 4),                               # each Han character is one
    ("這款耳機", 4),                               # traditional too
    ("AirPods Pro 开箱", 14),                      # Latin letters, spaces and Han alike
    ("续航四十小时！", 7),                          # full-width punctuation is one
    ("👍🏽", 1),                                    # emoji + skin tone
    ("👨\u200d👩\u200d👧\u200d👦", 1),             # family joined by zero-width joiners
    ("👩🏽\u200d💻", 1),                            # skin tone inside a ZWJ sequence
    ("🏳️\u200d🌈", 1),                             # variation selector + ZWJ
    ("🇨🇳", 1),                                    # a flag is two regional indicators
    ("🇨🇳🇺🇸", 2),
    ("🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", 1),  # subdivision flag with tag characters
    ("❤️", 1), ("1️⃣", 1),                          # variation selector, keycap
    ("cafe\u0301", 4), ("café", 4),                # combining acute is zero, precomposed is one
    ("e\u0301\u0302", 1),
    ("a\u200bb", 2), ("soft\u00adhyphen", 10),    # zero-width space, soft hyphen
    ("", 0),
])
def test_display_length_counts_what_a_reader_sees(text, length):
    assert display_length(text) == length


def test_display_length_differs_from_len_where_it_matters():
    title = "通勤神器👍🏽"
    assert len(title) == 6 and display_length(title) == 5


@pytest.mark.parametrize("text,language", [
    ("这款降噪耳机续航四十小时，通勤路上很安静", "zh"),
    ("Noise-cancelling headphones with 40 hours of battery", "en"),
    ("這款降噪耳機續航四十小時，通勤路上很安靜", "zh"),          # traditional characters
    ("这款Sony降噪耳机真的好用", "zh"),                           # Chinese with a Latin brand
    ("Apple AirPods Pro 2 真香", "zh"),                           # more Latin words than Han, still a Chinese post
    ("iPhone 15 Pro Max 开箱测评", "zh"),
    ("Trying 小笼包 at the night market in Shanghai", "en"),     # English naming one Chinese thing
    ("🎧🔥✨", "en"),                                              # emoji only: neither language
    ("", "en"), ("2024 !!!", "en"),
])
def test_detect_language(text, language):
    assert detect_language(text) == language


def test_han_count_counts_simplified_traditional_and_extension_characters():
    assert han_count("降噪耳機 AirPods") == 4
    assert han_count("𠮷野家") == 3  # U+20BB7, outside the BMP


def test_resolve_language_follows_the_brief_only_for_auto():
    assert resolve_language(AUTO, "这款耳机续航四十小时") == "zh"
    assert resolve_language(AUTO, "Headphones with long battery life") == "en"
    assert resolve_language("en", "这款耳机续航四十小时") == "en"
    assert resolve_language("zh", "Headphones") == "zh"
    assert set(LANGUAGES) == {"zh", "en"}


@pytest.mark.parametrize("text,expected", [
    ("降噪耳机开箱", True), ("Unboxing headphones", True), ("這款耳機", True),
    ("🎧🔥✨", False), ("#ootd #fashion", False), ("#降噪耳机 #开箱", False), ("@小明 @bob", False),
    ("123 !!! ...", False), ("", False),
    ("#降噪耳机# 续航超长", True), ("#降噪耳机#续航超长", True),  # a closed Xiaohongshu topic, then text
    ("🎧 #ootd new headphones", True),
])
def test_has_words(text, expected):
    assert has_words(text) is expected


@pytest.mark.parametrize("text,limit,expected", [
    ("Handmade linen tote for laptops", 20, "Handmade linen tote"),       # Latin: at the last space that fits
    ("Handmade linen tote for laptops", 100, "Handmade linen tote for laptops"),
    ("Tote bag - laptop sleeve", 10, "Tote bag"),                         # no dangling dash
    ("Supercalifragilistic tote", 5, ""),                                  # no boundary fits: nothing, not "Super"
    ("续航四十小时，降噪超强，通勤必备", 12, "续航四十小时，降噪超强"),  # Chinese: at the last clause mark
    ("续航四十小时，降噪超强，通勤必备", 10, "续航四十小时"),
    ("续航四十小时降噪超强通勤必备", 10, ""),                            # one clause, too long: nothing
    ("降噪耳机 开箱测评 续航超长", 9, "降噪耳机 开箱测评"),             # a space is a boundary in Chinese too
    ("好用吗？真的吗", 4, "好用吗？"),                                     # the question mark is kept
    ("Wow! Great tote", 5, "Wow!"),
    ("Battery 4.5 hours of fun", 9, "Battery"),                           # never between the digits of 4.5
    ("Costs 1,080 yuan a month", 11, "Costs 1,080"),
    ("续航4.5小时，超长", 5, ""),
    ("  padded   text  ", 6, "padded"),
])
def test_fit_to_length_never_cuts_inside_a_word(text, limit, expected):
    fitted = fit_to_length(text, limit)
    assert fitted == expected
    assert display_length(fitted) <= limit


def test_fit_to_length_counts_display_characters():
    assert fit_to_length("好物👍🏽分享", 5) == "好物👍🏽分享"  # 5 as read, 6 code points: fits as is
    assert fit_to_length("好物👍🏽 分享", 5) == "好物👍🏽"
