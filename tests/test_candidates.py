"""Cleaning a chat model's raw titles, the drop reasons, deduplication and the list's summary."""

import pytest

from titlegen.candidates import TitleList, clean_title, filter_candidates, repeats_a_word, why_dropped


@pytest.mark.parametrize("raw,clean", [
    ('"Cozy Linen Tote"', "Cozy Linen Tote"),
    ("“降噪耳机开箱”", "降噪耳机开箱"),
    ("「西湖边的小咖啡馆」", "西湖边的小咖啡馆"),
    ("《西湖边的小咖啡馆》", "西湖边的小咖啡馆"),           # the whole answer in title marks
    ("《流浪地球》观后感", "《流浪地球》观后感"),           # title marks inside a title stay
    ("Title: Cozy Linen Tote", "Cozy Linen Tote"),
    ("TITLE: Cozy Linen Tote", "Cozy Linen Tote"),
    ("标题：西湖边的小咖啡馆", "西湖边的小咖啡馆"),
    ("標題：西湖邊的小咖啡館", "西湖邊的小咖啡館"),
    ("建议标题：西湖咖啡", "西湖咖啡"),
    ("Sure! Title: Cozy Tote", "Cozy Tote"),
    ("Subtitle: Cozy Tote", "Subtitle: Cozy Tote"),         # not a "Title:" prefix
    ("Cozy Tote.\nHere is another one", "Cozy Tote"),        # multi-line: the first line
    ("\n\n  Cozy Tote  \n", "Cozy Tote"),
    ('Here is a title:\n"Cozy Tote"', "Cozy Tote"),          # a preamble line is skipped
    ("标题：\n西湖咖啡", "西湖咖啡"),
    ("1. Cozy Tote", "Cozy Tote"), ("1、西湖咖啡", "西湖咖啡"), ("- Cozy Tote", "Cozy Tote"),
    ("**Cozy Tote**", "Cozy Tote"), ('**"Cozy Tote"**', "Cozy Tote"),
    ('"Cozy" Tote', '"Cozy" Tote'),                           # a quoted word at the start keeps its quotes
    ('"Cozy" Tote "Bag"', '"Cozy" Tote "Bag"'),
    ("“Cozy Tote", "Cozy Tote"), ('Cozy Tote"', "Cozy Tote"),  # a stray quote goes
    ("'Tis the Season for Totes", "'Tis the Season for Totes"),
    ("5 Ways to Style a Tote", "5 Ways to Style a Tote"),    # a listicle number is not a list marker
    ("3.5 Hours in Hangzhou", "3.5 Hours in Hangzhou"),
    ("Wait for it...", "Wait for it..."), ("Cozy Tote!", "Cozy Tote!"), ("西湖咖啡。", "西湖咖啡"),
    ("Cozy   linen\ttote", "Cozy linen tote"),
    ("", ""), ("   ", ""),
])
def test_clean_title(raw, clean):
    assert clean_title(raw) == clean


def test_repeats_a_word_checks_latin_content_words_only():
    assert repeats_a_word("Orange & Orange Dress")
    assert not repeats_a_word("The Tote and the Laptop")
    assert not repeats_a_word("天天慢慢喝咖啡")


SUPPORT = ["Cozy linen tote that fits a 15-inch laptop", "commuters", "washable"]


@pytest.mark.parametrize("title,language,limit,reason", [
    ("Cozy Linen Tote", "en", 20, None),
    ("A Cozy Linen Tote for Commuters", "en", 20, "over the limit"),
    ("亚麻托特包", "en", 20, "wrong language"),
    ("Cozy Linen Tote", "zh", 20, "wrong language"),
    ("A Tote for a 13-Inch Laptop", "en", 40, "unsupported number"),
    ("Washown Linen Tote", "en", 20, "unsupported name"),
    ("Linen Tote, Linen Love", "en", 30, "repeated word"),
    ("🔥🔥🔥 #ootd", "en", 20, "no words"),
    ("通勤必备的亚麻托特包", "zh", 20, None),
    ("能装15寸电脑的亚麻包", "zh", 20, None),
    ("能装13寸电脑的亚麻包", "zh", 20, "unsupported number"),
    ("通勤必备的亚麻托特包，能装下十五寸的笔记本电脑", "zh", 20, "over the limit"),
])
def test_why_dropped(title, language, limit, reason):
    verdict = why_dropped(title, limit=limit, language=language, support=SUPPORT)
    assert (verdict[0] if verdict else None) == reason


def test_why_dropped_explains_the_detail():
    assert why_dropped("A 40-Hour Tote", limit=20, language="en", support=["tote"]) == (
        "unsupported number", "number 40 not in the brief")
    assert why_dropped("通勤必备的亚麻托特包", limit=8, language="zh", support=SUPPORT) == (
        "over the limit", "10 characters, limit 8")


def test_filter_candidates_drops_counts_explains_and_deduplicates():
    raw = [
        ('"Cozy Linen Tote"', "beam", -1.0),
        ("cozy linen tote!", "sample", -1.5),       # the same title once cleaned and normalised
        ("Title: Cozy Linen Tote", "sample", -1.6),
        ("亚麻托特包", "sample", -1.0),
        ("Linen Tote, Linen Love", "beam", -1.1),
        ("A very long title that goes well over the platform limit", "beam", -1.2),
        ("Washown Tote", "beam", -1.3),
        ("Tote for 40 Hours", "sample", -1.4),
        ("", "beam", 0.0),                           # empty: skipped, not counted
        ("Washable Tote for Commuters", "lead", -2.0),
    ]
    kept, dropped, examples = filter_candidates(raw, limit=30, language="en", support=SUPPORT)
    assert kept == [("Cozy Linen Tote", "beam", -1.0), ("Washable Tote for Commuters", "lead", -2.0)]
    assert dict(dropped) == {"wrong language": 1, "repeated word": 1, "over the limit": 1, "unsupported name": 1,
                             "unsupported number": 1}
    assert examples["unsupported number"] == "'Tote for 40 Hours': number 40 not in the brief"
    assert examples["unsupported name"] == "'Washown Tote': name 'Washown' not in the brief"


def test_filter_candidates_in_chinese():
    raw = [("标题：续航四十小时的降噪耳机", "beam", -0.5), ("续航40小时的降噪耳机", "sample", -0.6),
           ("续航五十小时的降噪耳机", "sample", -0.7), ("Quiet Headphones", "beam", -0.8),
           ("续航四十小时的降噪耳机", "sample", -0.9)]
    kept, dropped, examples = filter_candidates(raw, limit=20, language="zh", support=["这款降噪耳机续航四十小时"])
    assert [t for t, _, _ in kept] == ["续航四十小时的降噪耳机", "续航40小时的降噪耳机"]
    assert dict(dropped) == {"unsupported number": 1, "wrong language": 1}
    assert "number 50" in examples["unsupported number"]


def test_title_list_is_a_list_with_a_report():
    tl = TitleList(["a", "b"], dropped={"unsupported number": 2, "wrong language": 1},
                   examples={"unsupported number": "'x': number 40 not in the brief"}, language="zh",
                   ranking="ranked by the model's score and grounding in the brief")
    assert tl == ["a", "b"] and isinstance(tl, list)
    assert tl.dropped_total == 3 and tl.language == "zh"
    assert tl.summary() == ("dropped 3 (2 unsupported number, 1 wrong language); "
                            "ranked by the model's score and grounding in the brief")


def test_title_list_summary_when_nothing_was_dropped():
    assert TitleList().summary() == "nothing dropped"
    assert TitleList(["a"], ranking="ranked by predicted click-through").summary() == (
        "nothing dropped; ranked by predicted click-through")
    assert TitleList().dropped_total == 0 and TitleList().language == "en"
