"""Mood words in Chinese and English map onto valence, arousal and energy; the lexicon is derived from tags."""

import json

import pytest

from crossmodal_match.errors import CatalogueError
from crossmodal_match.evaluate.music_lexicon import derive, leave_one_out
from crossmodal_match.mood_lexicon import has_words, load_lexicon, shared_terms


def test_a_chinese_brief_reads_as_calm_and_pleasant_and_a_sad_one_as_unpleasant():
    lexicon = load_lexicon()
    calm = lexicon.feel("周末治愈系露营vlog")
    sad = lexicon.feel("深夜伤感emo")
    party = lexicon.feel("蹦迪 DJ 嗨翻全场")
    assert calm.words == ("治愈", "露营")
    assert calm.valence > 0.6 > sad.valence
    assert party.energy > 0.6 > calm.energy


def test_english_words_reach_the_same_feel_as_their_chinese_tags():
    lexicon = load_lexicon()
    assert lexicon.feel("healing").valence == lexicon.feel("治愈").valence
    assert lexicon.feel("Chill lofi beats").words == ("chill", "lofi")
    assert lexicon.feel("rocket launch") is None  # "rock" only as a whole word


@pytest.mark.parametrize("text", ["", None, "12345", "520", "🎵🎶✨", "10%"])
def test_text_without_letters_has_no_words_and_no_feel(text):
    assert not has_words(text)
    assert load_lexicon().feel(text) is None
    assert shared_terms("周末治愈系露营vlog", text) == []


def test_shared_terms_name_what_a_brief_and_a_track_share_in_either_language():
    assert shared_terms("周末治愈系露营vlog", "山野 治愈 纯音乐 (旅行)") == ["治愈", "露营"]  # 露营 stands for 旅行
    assert shared_terms("chill beach walk", "放松 海边 Beach house") == ["chill", "beach"]
    assert shared_terms("美食探店", "夜晚 钢琴") == []


def test_co_occurrence_derives_a_word_from_its_seed_neighbours():
    seeds = {"happy": {"valence": 0.9, "arousal": 0.8, "energy": 0.8},
             "sad": {"valence": 0.1, "arousal": 0.2, "energy": 0.2}}
    docs = [frozenset({"happy", "dance"})] * 5 + [frozenset({"sad", "ballad"})] * 5 + [frozenset({"happy", "sad"})]
    words = derive(docs, seeds, shrink=1.0)
    assert words["dance"]["valence"] == pytest.approx((5 * 0.9 + 0.5) / 6, abs=1e-3)
    assert words["ballad"]["valence"] == pytest.approx((5 * 0.1 + 0.5) / 6, abs=1e-3)
    assert words["happy"]["valence"] == 0.9 and words["happy"]["seed"]  # a seed keeps its given value
    check = leave_one_out(docs * 3, seeds)
    assert check["valence"]["seeds"] == 2


def _write(tmp_path, payload) -> str:
    path = tmp_path / "lexicon.json"
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False),
                    encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("payload, message", [
    ("{not json", "not UTF-8 JSON"),
    ({"nothing": 1}, "needs a 'words' object"),
    ({"words": {"治愈": {"valence": 1.5, "arousal": 0.3, "energy": 0.3}}}, r"in \[0, 1\]"),
    ({"words": {"治愈": {"valence": 0.7, "arousal": 0.3, "energy": 0.3}}, "aliases": {"chill": ["放松"]}},
     "not all of them lexicon words"),
])
def test_a_broken_lexicon_file_is_a_typed_error_naming_it(tmp_path, payload, message):
    path = _write(tmp_path, payload)
    with pytest.raises(CatalogueError, match=message) as info:
        load_lexicon(path)
    assert "lexicon.json" in str(info.value)


def test_a_missing_lexicon_says_how_to_rebuild_it(tmp_path):
    with pytest.raises(CatalogueError, match="music-lexicon"):
        load_lexicon(str(tmp_path / "absent.json"))
