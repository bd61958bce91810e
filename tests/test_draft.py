"""make_draft end to end on synthetic media: the folder, its files, progress, re-render, and failure modes."""

import json
import threading
from dataclasses import dataclass

import numpy as np
import pytest
import soundfile as sf

from crossmodal_match.catalog import MusicLibrary
from crossmodal_match.index import copy_index, music_index
from crossmodal_match.matcher import Matcher, MatcherConfig
from templates import TemplateError
from templates.draft import load_draft, make_draft, rerender
from templates.errors import RenderCancelled
from templates.registry import template_cards
from tests.media import colour_segments, photo
from tests.test_matcher import WordEncoder


@dataclass
class Cand:
    text: str
    source: str = "beam"
    logprob: float = -1.0
    predicted_ctr: float | None = 0.02


def fake_generator(briefs, num_titles=5, controls=None):
    return [[Cand("Golden hour at the lake"), Cand("A quiet lake day", "sample")] for _ in briefs]


def _click_track(path, *, bpm: float, seconds: int = 30, sr: int = 22050):
    y = np.zeros(sr * seconds, dtype=np.float32)
    for k, t in enumerate(np.arange(0, seconds, 60 / bpm)):
        i = int(t * sr)
        y[i:i + 600] += (1.0 if k % 4 == 0 else 0.5) * np.hanning(1200)[:600] * np.sin(np.arange(600) * 0.25)
    sf.write(path, y, sr)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    root = tmp_path_factory.mktemp("media")
    clip = colour_segments(root / "clip one.mp4", colours=[(200, 60, 40), (40, 60, 200), (60, 200, 40)],
                           durations_s=[2.0, 2.0, 2.0])
    still = photo(root / "still.jpg")
    music = root / "music"
    music.mkdir()
    _click_track(music / "beat.wav", bpm=120)
    return clip, still, music


def _matcher(music) -> Matcher:
    """A matcher over the tracks of ``music`` and the example copy lines, with the word encoder."""
    from crossmodal_match.catalog import CopyLibrary

    enc = WordEncoder()
    library = MusicLibrary.from_folder(music)
    analyses, _ = library.analyses()
    return Matcher(MatcherConfig(), text_encoder=enc, music=music_index(list(library), analyses, enc),
                   copy=copy_index(list(CopyLibrary.example()), enc))


@pytest.fixture(scope="module")
def matcher(media):
    return _matcher(media[2])


def test_one_click_draft_writes_the_whole_folder(media, matcher, tmp_path):
    clip, still, _ = media
    seen = []
    draft = make_draft([clip, still], "a calm day at the lake", generator=fake_generator, matcher=matcher,
                       out_dir=tmp_path, preview=True, on_progress=lambda f, s: seen.append((f, s)))
    assert {p.name for p in draft.folder.iterdir()} == {"draft.json", "draft.mp4", "captions.srt", "captions.vtt",
                                                        "cover.jpg"}
    assert draft.title == "Golden hour at the lake" and draft.music_id == "beat.wav"
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and fractions.count(1.0) == 1
    assert {s for _, s in seen} >= {"analyse footage", "match", "titles", "timeline", "render", "done"}
    data = load_draft(draft.folder)
    assert data["picks"]["template"] == draft.template and data["match"]["music"][0]["reason"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_rerender_after_an_edit_keeps_the_analyses(media, matcher, tmp_path):
    clip, _, _ = media
    draft = make_draft([clip], "lake day", generator=fake_generator, matcher=matcher, out_dir=tmp_path,
                       preview=True, template="calm-vlog" if "calm-vlog" in [c.name for c in template_cards()]
                       else None)
    again = rerender(draft.folder, title="My own title", preview=True)
    assert again.title == "My own title" and again.folder == draft.folder
    data = json.loads((draft.folder / "draft.json").read_text(encoding="utf-8"))
    assert data["picks"]["title"] == "My own title"
    assert any(o["text"] == "My own title" for o in data["timeline"]["overlays"])


def test_rerender_swaps_the_music_and_recuts_on_its_beats_without_re_analysis(media, tmp_path, monkeypatch):
    from crossmodal_match.errors import ConfigError

    clip, _, _ = media
    music = tmp_path / "music"
    music.mkdir()
    _click_track(music / "a-120.wav", bpm=120)
    _click_track(music / "b-90.wav", bpm=90)
    m = _matcher(music)
    draft = make_draft([clip], "lake day", generator=fake_generator, matcher=m, out_dir=tmp_path / "out",
                       preview=True, template="beat-cut-showcase", title="Kept title")
    other = next(t for t in ("a-120.wav", "b-90.wav") if t != draft.music_id)
    before = load_draft(draft.folder)

    def no_analysis(*_a, **_k):
        raise AssertionError("the footage was analysed again")

    monkeypatch.setattr(m, "analyze_footage", no_analysis)
    with pytest.raises(TemplateError, match="matcher="):
        rerender(draft.folder, music_id=other, preview=True)
    with pytest.raises(ConfigError, match="no track"):
        rerender(draft.folder, music_id="nope.wav", matcher=m, preview=True)
    again = rerender(draft.folder, music_id=other, matcher=m, preview=True)
    after = load_draft(draft.folder)
    assert again.music_id == other and after["music"]["id"] == other and after["music"]["path"].endswith(other)
    assert after["picks"] == before["picks"] == {**before["picks"], "title": "Kept title"}
    assert after["footage"] == before["footage"]  # the stored analyses, reused
    old_beats, new_beats = before["timeline"]["beats_s"], after["timeline"]["beats_s"]
    step = 60 / (90 if other == "b-90.wav" else 120)
    assert np.median(np.diff(new_beats)) == pytest.approx(step, abs=0.03)
    assert np.median(np.diff(old_beats)) != pytest.approx(step, abs=0.03)
    assert after["timeline"]["audio"]["source"].endswith(other)
    for cut in [c["start_s"] for c in after["timeline"]["clips"]][1:]:  # every cut on a beat of the new track
        assert min(abs(cut - b) for b in new_beats) < 0.03


def test_bad_requests_leave_nothing(media, matcher, tmp_path):
    clip, _, _ = media
    with pytest.raises(TemplateError, match="brief is empty"):
        make_draft([clip], "  ", generator=fake_generator, matcher=matcher, out_dir=tmp_path)
    with pytest.raises(TemplateError, match="no footage"):
        make_draft([], "x", generator=fake_generator, matcher=matcher, out_dir=tmp_path)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(RenderCancelled):
        make_draft([clip], "lake", generator=fake_generator, matcher=matcher, out_dir=tmp_path, preview=True,
                   cancel=cancel)
    assert list(tmp_path.iterdir()) == []


def test_batch_drafts_report_each_item_and_resume(media, matcher, tmp_path):
    from templates.batch import STATUS_FILE, run_batch

    clip, still, _ = media
    manifest = tmp_path / "drafts.jsonl"
    manifest.write_text("\n".join([
        json.dumps({"id": "a", "footage": [str(clip)], "brief": "lake day", "preview": True}),
        json.dumps({"id": "b", "footage": [str(tmp_path / "missing.mp4")], "brief": "broken"}),
        "{not json",
        json.dumps({"id": "c", "footage": [str(still)], "brief": "one photo", "preview": True}),
    ]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    summary = run_batch(manifest, out, generator=fake_generator, matcher=matcher)
    assert (summary["ok"], summary["failed"], len(summary["bad_lines"])) == (2, 1, 1)
    assert "missing.mp4" in summary["failures"][0]["error"]
    again = run_batch(manifest, out, generator=fake_generator, matcher=matcher)
    assert (again["ok"], again["skipped"], again["failed"]) == (0, 2, 1)
    rows = [json.loads(line) for line in (out / STATUS_FILE).read_text(encoding="utf-8").splitlines()]
    assert [r["status"] for r in rows].count("ok") == 2


def fake_factory(click_model=None):
    return fake_generator


def test_batch_cli_summarises(media, tmp_path, capsys):
    from templates.__main__ import main

    clip, _, music = media
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"id": "x", "footage": [str(clip)], "brief": "lake", "preview": True}) + "\n"
                        + json.dumps({"id": "y", "footage": ["nope.mp4"], "brief": "lake"}) + "\n", encoding="utf-8")
    assert main(["draft", "--manifest", str(manifest), "--out-dir", str(tmp_path / "out"), "--music", str(music),
                 "--generator", "tests.test_draft:fake_factory"]) == 0
    out = capsys.readouterr().out
    assert "1 ok, 1 failed" in out and "failed y" in out


def test_a_short_track_skips_templates_it_cannot_fill(media, tmp_path):
    """With a 14 s track, templates that need 20 s or more are passed over for one that fits (and it is noted)."""
    clip, _, _ = media
    music = tmp_path / "short"
    music.mkdir()
    sr = 22050
    y = np.zeros(sr * 14, dtype=np.float32)
    for t in np.arange(0, 14, 0.5):
        i = int(t * sr)
        y[i:i + 600] += np.hanning(1200)[:600] * np.sin(np.arange(600) * 0.25)
    sf.write(music / "short.wav", y, sr)
    m = _matcher(music)
    m.set_templates([c for c in template_cards() if c.name in ("calm-vlog", "beat-cut-showcase")])
    draft = make_draft([clip], "a calm slow vlog with long shots", generator=fake_generator, matcher=m,
                       out_dir=tmp_path / "out", preview=True)
    assert draft.template == "beat-cut-showcase"
    assert any("calm-vlog" in n for n in draft.notes)


def test_make_draft_and_rerender_are_the_package_entry_points():
    import templates

    assert templates.make_draft is make_draft and templates.rerender is rerender
    assert templates.load_draft is load_draft
    assert {"make_draft", "rerender", "load_draft"} <= set(templates.__all__)
