"""Music by meaning in both languages: a Chinese brief gets music reasons that name the words it shares with a
track; mood words set a track's mood and, without footage, the brief's; a track titled only by digits is neutral."""

import numpy as np
import pytest

from crossmodal_match.audio import MusicAnalysis
from crossmodal_match.catalog import MusicTrack
from crossmodal_match.feel import FEEL_DIMS
from crossmodal_match.index import music_index
from crossmodal_match.matcher import Matcher, MatcherConfig
from crossmodal_match.mood_lexicon import load_lexicon
from crossmodal_match.scoring import FEATURES


class HanCharEncoder:
    """Bag of Han characters and Latin words: a Chinese text has no spaces; no model in unit tests."""

    name, dim = "han-chars", 211

    def encode_texts(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            pieces = [c for c in t if "\u4e00" <= c <= "\u9fff"] + [w for w in t.lower().split() if w.isascii()]
            for p in pieces:
                out[i, sum(map(ord, p)) % self.dim] += 1
            out[i] = out[i] / np.linalg.norm(out[i]) if out[i].any() else np.eye(self.dim)[1]
        return out


def _analysis(*, arousal=0.5, valence=0.5, bpm=100.0):
    beats = tuple(np.arange(0.5, 60.0, 60 / bpm).round(3))
    return MusicAnalysis(sha256="x" * 64, duration_s=60.0, tempo_bpm=bpm, beats_s=beats, downbeats_s=beats[::4],
                         beats_per_bar=4, onset_density_per_s=3.0, energy=tuple(np.linspace(0.1, 0.5, 100)),
                         energy_hop_s=0.6, loudness_db=-15, centroid_hz=2000.0, brightness=0.5, key="C", mode="major",
                         key_confidence=0.5, arousal=arousal, valence=valence)


@pytest.fixture
def matcher():
    enc = HanCharEncoder()
    tracks = [MusicTrack("camp.wav", "camp.wav", "山野晨光", mood="治愈", tags=("露营", "轻音乐")),
              MusicTrack("club.wav", "club.wav", "Bass drop", genre="电子", tags=("蹦迪", "DJ")),
              MusicTrack("520.wav", "520.wav", "520"),
              MusicTrack("emoji.wav", "emoji.wav", "🎵🎶")]
    analyses = {t.id: _analysis() for t in tracks}
    return Matcher(MatcherConfig(top_k=4), text_encoder=enc, music=music_index(tracks, analyses, enc))


def test_a_chinese_brief_gets_a_chinese_aware_reason(matcher):
    result = matcher.match(None, "周末治愈系露营vlog")
    top = result.music[0]
    assert top.id == "camp.wav"
    assert "brief mentions '治愈', '露营'" in top.reason
    assert top.breakdown.facts["mood_words"] == ["治愈", "露营"]


def test_without_footage_the_brief_mood_words_set_the_feel(matcher):
    calm = matcher.match(None, "周末治愈系露营vlog")
    party = matcher.match(None, "周五蹦迪嗨翻")
    assert calm.query["feel"]["mood"] == pytest.approx(load_lexicon().feel("周末治愈系露营vlog").valence)
    assert party.query["feel"]["energy"] > calm.query["feel"]["energy"]
    by_id = {c.id: c for c in party.music}
    assert by_id["club.wav"].breakdown.features["mood"] > by_id["camp.wav"].breakdown.features["mood"]
    neutral = matcher.match(None, "新品开箱")  # no mood words: feel stays unknown, not a fit to 0.5
    assert all(c.breakdown.features["mood"] == 0.5 for c in neutral.music)


def test_track_mood_words_move_its_mood_toward_their_feel(matcher):
    idx = matcher.indexes["music"]
    mood = FEEL_DIMS.index("mood")
    camp, bare = idx.ids.index("camp.wav"), idx.ids.index("520.wav")
    assert idx.feel[bare, mood] == pytest.approx(0.5)  # the audio's valence, untouched
    assert idx.feel[camp, mood] == pytest.approx(0.5 * 0.5 + 0.5 * load_lexicon().feel("山野晨光 治愈 露营 轻音乐").valence)


@pytest.mark.parametrize("track_id", ["520.wav", "emoji.wav"])
def test_a_track_titled_without_letters_is_neutral_on_meaning(matcher, track_id):
    result = matcher.match(None, "520告白 周末治愈系露营vlog")
    row = next(c for c in result.music if c.id == track_id)
    assert row.breakdown.features["semantic"] == 0.5
    assert row.breakdown.facts["brief_terms"] == []
    assert "brief mentions" not in row.reason
    assert set(row.breakdown.features) == set(FEATURES)


def test_an_english_brief_still_gets_its_words_named(matcher):
    top = matcher.match(None, "bass drop party")
    assert top.music[0].id == "club.wav"
    assert "brief mentions 'party'" in top.music[0].reason or "brief mentions 'bass'" in top.music[0].reason
