"""Composed soundtracks in the product: ranked beside library tracks, the default without a music folder, their
exact grid cut on without beat tracking, another seed or style on a re-render, cached by their parameters."""

import json

import numpy as np
import pytest
import soundfile as sf

import crossmodal_match.audio as audio
import crossmodal_match.compose.catalogue as catalogue
from crossmodal_match.matcher import MatcherConfig, create_matcher
from templates.draft import make_draft, rerender
from tests.media import colour_segments
from tests.studio_fakes import WordEncoder, fast_renderer
from tests.test_draft import _click_track, fake_generator


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    root = tmp_path_factory.mktemp("footage")
    return colour_segments(root / "clip.mp4", colours=[(200, 60, 40), (40, 60, 200), (60, 200, 40), (90, 90, 20)],
                           durations_s=[2.5, 2.5, 2.5, 2.5])


@pytest.fixture()
def no_beat_tracking(monkeypatch):
    """Beat tracking (and any analysis of a music file) fails loudly: a composed track must not need it."""
    def refuse(*args, **kwargs):
        raise AssertionError("beat tracking ran on a composed track")

    monkeypatch.setattr(audio, "_track_beats", refuse)
    monkeypatch.setattr(audio, "analyze_music", refuse)


@pytest.fixture(scope="module")
def composing(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return create_matcher(MatcherConfig(cache_dir=str(cache)), text_encoder=WordEncoder())


def test_without_a_music_folder_the_draft_is_cut_on_its_composed_soundtrack(composing, clip, tmp_path,
                                                                              no_beat_tracking):
    from crossmodal_match.footage import analyze_footage

    result = composing.match(analyze_footage(clip), "a calm cozy afternoon at home")
    assert result.music and all(c.origin == "composed" for c in result.music)
    assert result.music[0].reason.startswith("composed for this draft: ") and "bpm" in result.music[0].reason
    with fast_renderer():
        draft = make_draft([clip], "a calm cozy afternoon at home", generator=fake_generator, matcher=composing,
                           out_dir=tmp_path)
    data = json.loads(draft.manifest.read_text())
    music, timeline = data["music"], data["timeline"]
    assert music["id"].startswith("composed:") and music["composed"]["style"] in music["id"]
    samples, sr = sf.read(music["path"])
    assert len(samples) == round(music["analysis"]["duration_s"] * sr)
    # the draft is the whole composed track, cut on its own grid: every beat, first to last
    assert timeline["meta"]["grid"] == "music" and timeline["meta"]["window_s"][0] == 0.0
    assert np.allclose(timeline["beats_s"], music["analysis"]["beats_s"], atol=1e-6)
    assert timeline["duration_s"] == pytest.approx(len(samples) / sr, abs=1e-4)
    assert music["composed"]["sections"][-1][0] == "ending" and music["composed"]["loudness_lufs"] == \
        pytest.approx(-14, abs=1)
    cuts = [c["start_s"] for c in timeline["clips"]]
    assert all(np.min(np.abs(np.array(timeline["beats_s"]) - t)) < 1e-6 for t in cuts), "cuts sit on beats"

    # another take: another seed and style, recomposed for the same template and length, from the cache next time
    other = composing.recompose_id(music["id"], style="cinematic", seed=7)
    with fast_renderer():
        rerender(draft.folder, music_id=other, matcher=composing)
    again = json.loads(draft.manifest.read_text())["music"]
    assert again["id"] == other and again["composed"]["style"] == "cinematic" and again["composed"]["seed"] == 7
    assert again["analysis"]["duration_s"] == pytest.approx(music["analysis"]["duration_s"], rel=0.2)


def test_composed_tracks_rank_beside_library_tracks_labelled(tmp_path):
    folder = tmp_path / "music"
    folder.mkdir()
    _click_track(folder / "beat.wav", bpm=120)
    matcher = create_matcher(MatcherConfig(music_dir=str(folder), cache_dir=str(tmp_path / "cache")),
                             text_encoder=WordEncoder())
    result = matcher.match(None, "energetic party dance launch", top_k=10)
    origins = {c.id: c.origin for c in result.music}
    assert origins["beat.wav"] == "library" and sum(o == "composed" for o in origins.values()) == 5
    top = result.music[0]
    assert top.origin == "composed" and "upbeat-electronic" in top.id, "the brief's words pick the style"
    assert result.to_dict()["music"][0]["origin"] == "composed"
    assert "free to use" in top.reason and top.title.startswith("Composed for this draft")


def test_composed_styles_are_told_apart_by_the_briefs_words_and_library_tracks_are_untouched(tmp_path):
    # A real encoder's cosines of a brief with the five style descriptions differ by about 0.01, so the styles'
    # predicted energy used to pick the style alone (bench/compose_ranking.py: 6 of 16 held-out briefs, 12 now).
    folder = tmp_path / "music"
    folder.mkdir()
    _click_track(folder / "beat.wav", bpm=120)

    def semantic(style_words):
        matcher = create_matcher(MatcherConfig(music_dir=str(folder), cache_dir=str(tmp_path / "cache"),
                                               style_words=style_words), text_encoder=WordEncoder())
        query, _ = matcher._query(None, "rainy night study session 自习", None)
        idx = matcher._music_for(query)
        sem = matcher.features("music", query, idx)[:, 0]
        return {("composed:" + i.split(":")[1]) if i.startswith("composed:") else i: v for i, v in zip(idx.ids, sem)}

    words, cosine = semantic(True), semantic(False)
    assert words["beat.wav"] == cosine["beat.wav"]  # library tracks: the cosine alone, either way
    composed = [k for k in words if k.startswith("composed:")]
    assert max(composed, key=words.get) == "composed:lo-fi"  # its tags say rainy, study, 自习
    assert np.ptp([words[k] for k in composed]) > 2 * np.ptp([cosine[k] for k in composed])
    assert all(0.0 <= words[k] <= 1.0 for k in composed)


def test_a_composition_is_cached_by_its_parameters(tmp_path, monkeypatch):
    shelf = catalogue.ComposedCatalogue(cache_dir=tmp_path, sr=16000)
    track_id = catalogue.make_id(style="chill", bpm=90, length_s=5.0, valence=0.6, arousal=0.3, seed=2)
    path, analysis, meta = shelf.render(track_id)
    assert analysis.tempo_bpm == pytest.approx(90) and meta["key"] == catalogue.candidate(track_id).key

    def refuse(**kwargs):
        raise AssertionError("composed again")

    monkeypatch.setattr(catalogue, "compose_track", refuse)
    assert shelf.render(track_id)[0] == path
    with pytest.raises(AssertionError):
        shelf.render(track_id, length_s=8.0 / 3 * 2)  # other parameters, another composition


def test_composed_ids_round_trip_and_bad_ones_are_typed_errors():
    from crossmodal_match.errors import ComposeError

    track_id = catalogue.make_id(style="lo-fi", bpm=84.5, length_s=21.333, valence=0.62, arousal=0.41, seed=3)
    assert catalogue.parse_id(track_id) == {"style": "lo-fi", "bpm": 84.5, "length_s": 21.333, "valence": 0.62,
                                            "arousal": 0.41, "seed": 3}
    assert catalogue.with_changes(track_id, style="upbeat-electronic", seed=9).startswith(
        "composed:upbeat-electronic:112bpm:")
    for bad in ("composed:jazz:90bpm:10s:v50:a50:seed0", "beat.wav"):
        with pytest.raises(ComposeError):
            catalogue.parse_id(bad)


def test_a_draft_keeps_its_own_copy_of_the_composed_soundtrack(clip, tmp_path, no_beat_tracking):
    """The composition cache may be cleared; the draft still re-renders (its soundtrack lives in its folder)."""
    import shutil

    cache = tmp_path / "cache"
    matcher = create_matcher(MatcherConfig(cache_dir=str(cache)), text_encoder=WordEncoder())
    with fast_renderer():
        draft = make_draft([clip], "a calm cozy afternoon at home", generator=fake_generator, matcher=matcher,
                           out_dir=tmp_path / "drafts")
        data = json.loads(draft.manifest.read_text())
        own = draft.folder / "soundtrack.wav"
        assert data["music"]["path"] == str(own) and own.is_file()
        assert data["timeline"]["audio"]["source"] == str(own)
        shutil.rmtree(cache / "composed")
        again = rerender(draft.folder, title="Cozy afternoon", preview=True)
    assert json.loads(again.manifest.read_text())["picks"]["title"] == "Cozy afternoon" and own.is_file()
