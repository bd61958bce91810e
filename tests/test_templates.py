"""Template specs, the registry and the beat-synced timeline, on synthetic footage and a synthetic beat grid."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from crossmodal_match.audio import MusicAnalysis, best_moment
from crossmodal_match.footage import Footage, Shot, ShotDescriptors
from crossmodal_match.template_card import TemplateCard
from templates import registry
from templates.errors import TemplateError, TemplateSpecError, TimelineError
from templates.overlays import split_sentences
from templates.placement import build_timeline
from templates.registry import TemplateRegistry, get_template, list_templates, template_cards
from templates.spec import TemplateSpec
from templates.timeline import TRANSITIONS, Timeline

ROOT = Path(__file__).resolve().parents[1]
BUILTINS = sorted(p.stem for p in (ROOT / "templates" / "specs").glob("*.json"))
CUT_TOL_S = 0.070


# --- synthetic inputs -----------------------------------------------------------------------------------------

def _descriptors(length_s: float, *, faces: int = 0) -> ShotDescriptors:
    return ShotDescriptors(motion_energy=0.02, brightness=0.5, saturation=0.4, warmth=0.05, contrast=0.2,
                           colourfulness=40.0, face_count=faces, length_s=length_s)


def _video(name: str, shot_lengths_s, *, size=(1920, 1080), faces: int = 0) -> Footage:
    shots, t = [], 0.0
    for i, length in enumerate(shot_lengths_s):
        shots.append(Shot(index=i, start_s=t, end_s=t + length, keyframe_times_s=(t,),
                          descriptors=_descriptors(length, faces=faces)))
        t += length
    return Footage(path=f"/footage/{name}.mp4", kind="video", duration_s=t, fps=30.0, width=size[0],
                   height=size[1], rotation=0, has_audio=False, shots=tuple(shots))


def _photo(name: str, *, size=(3000, 4000), still_s: float = 3.0) -> Footage:
    shot = Shot(index=0, start_s=0.0, end_s=still_s, keyframe_times_s=(0.0,), descriptors=_descriptors(still_s))
    return Footage(path=f"/footage/{name}.jpg", kind="photo", duration_s=still_s, fps=0.0, width=size[0],
                   height=size[1], rotation=0, has_audio=False, shots=(shot,))


def _music(*, bpm: float = 120.0, duration_s: float = 90.0, first_beat_s: float = 0.25, loud=(40.0, 70.0),
           jitter_s: float = 0.0) -> MusicAnalysis:
    """A click track's analysis: beats every 60/bpm s, a downbeat every 4, loud between ``loud`` seconds."""
    beat_s, beats, t, k = 60.0 / bpm, [], first_beat_s, 0
    while t < duration_s - 1e-9:
        beats.append(round(t + (jitter_s if k % 3 == 1 else 0.0), 6))
        t, k = t + beat_s, k + 1
    hop = 0.05
    energy = tuple(0.3 if loud[0] <= i * hop < loud[1] else 0.05 for i in range(int(duration_s / hop)))
    return MusicAnalysis(sha256="0" * 64, duration_s=duration_s, tempo_bpm=bpm, beats_s=tuple(beats),
                         downbeats_s=tuple(beats[::4]), beats_per_bar=4, onset_density_per_s=2.0, energy=energy,
                         energy_hop_s=hop, loudness_db=-14.0, centroid_hz=2000.0, brightness=0.6, key="C",
                         mode="major", key_confidence=0.7, arousal=0.6, valence=0.6)


def _footage():
    """3 clips x 2 shots of 4 s each: 24 s of material in 6 shots."""
    return [_video(f"clip{i}", [4.0, 4.0]) for i in range(3)]


def _build(name: str, footage=None, music="default", **kwargs) -> Timeline:
    music = _music() if music == "default" else music
    kwargs.setdefault("music_path", "/music/track.mp3" if music is not None else None)
    return build_timeline(get_template(name), footage if footage is not None else _footage(), music,
                          kwargs.pop("title", "Summer drop"), kwargs.pop("copy", "New colours. Same fit! Out now."),
                          **kwargs)


def _cuts(timeline: Timeline) -> list[float]:
    return [c.start_s for c in timeline.clips[1:]]


def _spec_dict(name: str = "beat-cut-showcase") -> dict:
    return json.loads((ROOT / "templates" / "specs" / f"{name}.json").read_text(encoding="utf-8"))


# --- specs and registry ---------------------------------------------------------------------------------------

def test_builtins_load_and_differ():
    assert list_templates() == BUILTINS and len(BUILTINS) >= 8
    specs = [get_template(n) for n in BUILTINS]
    for key in (lambda s: s.description, lambda s: (s.pacing, s.music), lambda s: s.grade):
        assert len({key(s) for s in specs}) == len(specs)
    assert {s.aspect for s in specs} == {"9:16", "3:4", "1:1", "16:9"}
    cards = template_cards()
    assert [c.name for c in cards] == BUILTINS and all(isinstance(c, TemplateCard) for c in cards)
    paces = {c.name: c.pace for c in cards}
    assert paces["beat-cut-showcase"] > paces["travel-montage"] > paces["calm-vlog"]


@pytest.mark.parametrize("name", BUILTINS)
def test_spec_round_trip(name):
    spec = get_template(name)
    assert TemplateSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


@pytest.mark.parametrize("path,value,field", [
    (("pacing", "body", "cut_every"), 0, "pacing.body.cut_every=0"),
    (("pacing", "body", "unit"), "measure", "pacing.body.unit='measure'"),
    (("aspect",), "4:5", "aspect='4:5'"),
    (("resolution",), "1081x1920", "resolution='1081x1920'"),
    (("resolution",), "1080x1080", "resolution='1080x1080'"),
    (("title", "style", "size"), 2, "title.style.size=2"),
    (("title", "style", "colour"), "white", "title.style.colour='white'"),
    (("title", "placement", "anchor"), "left", "title.placement.anchor='left'"),
    (("transition", "type"), "wipe", "transition.type='wipe'"),
    (("reframe",), "smart", "reframe='smart'"),
    (("grade", "contrast"), -1, "grade.contrast=-1"),
    (("music", "energy"), 1.5, "music.energy=1.5"),
    (("music", "tempo_max_bpm"), 90, "music.tempo_max_bpm=90"),
    (("outro_card", "text"), "{price}", "outro_card.text='{price}'"),
    (("duration", "max_s"), 5, "duration.max_s=5"),
    (("name",), "Bad Name", "name='Bad Name'"),
    (("duration", "max_s"), 9, "duration.max_s=9"),  # narrower than a bar at 115 bpm
    (("music", "fade_out_s"), 5, "music.fade_out_s=5"),
])
def test_invalid_fields_are_named_with_their_value(path, value, field):
    data = _spec_dict()
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(TemplateSpecError, match=f"^{field.replace('{', '.').replace('}', '.')}"):
        TemplateSpec.from_dict(data)


def test_unknown_and_missing_fields_are_listed():
    data = _spec_dict()
    data["pacing"]["body"]["speed"] = 2
    with pytest.raises(TemplateSpecError, match=r"pacing.body: unknown field\(s\) \['speed'\]"):
        TemplateSpec.from_dict(data)
    del data["pacing"]["body"]["speed"], data["music"]
    with pytest.raises(TemplateSpecError, match=r"missing field\(s\) \['music'\]"):
        TemplateSpec.from_dict(data)


def test_unknown_template_lists_known_ones():
    with pytest.raises(TemplateSpecError) as err:
        get_template("no-such-template")
    assert "no-such-template" in str(err.value) and all(n in str(err.value) for n in BUILTINS)


def test_add_template_dir_overrides_with_a_warning(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(registry, "_DEFAULT", TemplateRegistry())
    data = _spec_dict("calm-vlog")
    data["description"] = "My own calm vlog with longer fades for rainy days."
    (tmp_path / "calm-vlog.json").write_text(json.dumps(data), encoding="utf-8")
    new = {**data, "name": "my-vlog"}
    (tmp_path / "my-vlog.json").write_text(json.dumps(new), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="templates.registry"):
        assert registry.add_template_dir(tmp_path) == ["calm-vlog", "my-vlog"]
    assert "overrides" in caplog.text and "calm-vlog" in caplog.text
    assert registry.get_template("calm-vlog").description.startswith("My own")
    assert "my-vlog" in registry.list_templates() and len(registry.template_cards()) == len(BUILTINS) + 1


def test_add_template_dir_rejects_bad_folders(tmp_path):
    reg = TemplateRegistry()
    with pytest.raises(TemplateSpecError, match="does not exist"):
        reg.add_dir(tmp_path / "missing")
    (tmp_path / "other-name.json").write_text(json.dumps(_spec_dict()), encoding="utf-8")
    with pytest.raises(TemplateSpecError, match="other-name.json: name='beat-cut-showcase'"):
        reg.add_dir(tmp_path)
    (tmp_path / "other-name.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(TemplateSpecError, match="other-name.json: cannot read"):
        reg.add_dir(tmp_path)
    assert reg.names() == BUILTINS  # nothing was added


# --- the timeline ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", BUILTINS)
def test_timeline_is_cut_on_the_beat(name):
    music = _music()
    spec = get_template(name)
    tl = _build(name, music=music)
    start = tl.audio.src_start_s
    track_beats = set(music.beats_s)
    cuts = _cuts(tl)
    # Every cut is a beat of the track (exactly: the times come from the analysis); >= 95% within 70 ms is the bar.
    near = [min(abs(start + c - b) for b in music.beats_s) <= CUT_TOL_S for c in cuts]
    assert cuts and sum(near) / len(near) >= 0.95 and all(near)
    assert all(round(start + c, 6) in track_beats for c in cuts)
    # The draft ends on a downbeat, within the template's range, and the clips tile it.
    assert round(start + tl.duration_s, 6) in set(music.downbeats_s)
    assert spec.duration.min_s <= tl.duration_s <= spec.duration.max_s
    assert tl.clips[0].start_s == 0.0 and tl.clips[-1].end_s == tl.duration_s
    assert all(a.end_s == b.start_s for a, b in zip(tl.clips, tl.clips[1:]))
    for c in tl.clips:
        assert c.src_end_s - c.src_start_s == pytest.approx(c.end_s - c.start_s)
        assert c.transition_in in TRANSITIONS and c.transition_s <= (c.end_s - c.start_s) / 2 + 1e-9
        assert c.grade == spec.grade
    # The music is the track's best moment, trimmed and faded as the spec says.
    assert tl.audio.src_start_s == best_moment(music, duration_s=tl.duration_s)[0]
    assert tl.audio.src_end_s - tl.audio.src_start_s == pytest.approx(tl.duration_s)
    assert (tl.audio.fade_in_s, tl.audio.fade_out_s) == (spec.music.fade_in_s, spec.music.fade_out_s)
    assert (tl.width, tl.height) == spec.resolution and tl.meta["grid"] == "music"


@pytest.mark.parametrize("name", BUILTINS)
def test_overlays_stay_inside_the_frame_and_safe_area(name):
    spec = get_template(name)
    tl = _build(name)
    rules = [r for r in (spec.title, spec.caption, spec.intro_card, spec.outro_card, spec.labels) if r is not None]
    margin_x = min(r.placement.margin_x for r in rules)
    assert tl.overlays
    for o in tl.overlays:
        x, y, w, h = o.box
        assert margin_x - 1e-9 <= x and x + w <= 1 - margin_x + 1e-9 and 0 <= y and y + h <= 1
        assert 0 <= o.start_s < o.end_s <= tl.duration_s and o.start_s in tl.beats_s and o.end_s in tl.beats_s
    title = [o for o in tl.overlays if o.kind == "title"]
    if spec.title is not None:
        x, y, w, h = spec.title.placement.box
        assert [o.box for o in title] == [(x, y, w, h)] and spec.title.placement.margin_y <= y
    assert tl.meta["title_shown"] and tl.meta["caption_shown"]


@pytest.mark.parametrize("name", BUILTINS)
def test_timeline_json_round_trip(name):
    tl = _build(name, footage=[*_footage(), _photo("p")])
    assert Timeline.from_json(tl.to_json()) == tl
    json.dumps(tl.meta)


def test_no_shot_is_reused_while_unused_ones_remain():
    tl = _build("beat-cut-showcase", draft_s=16.0)  # 32 beats: more slots than the 6 shots
    used = [(c.source, c.shot_index) for c in tl.clips]
    assert len(set(used[:6])) == 6 and used[:6] == [(f"/footage/clip{i}.mp4", s) for i in range(3) for s in (0, 1)]
    assert tl.meta["shots_reused"] == len(used) - 6
    few = _build("calm-vlog", draft_s=20.0)  # 2-bar slots: 5 slots, 6 shots
    assert len({(c.source, c.shot_index) for c in few.clips}) == len(few.clips) and few.meta["shots_reused"] == 0


def test_cycling_starts_from_the_longest_shot():
    footage = [_video("a", [1.0, 3.0]), _video("b", [6.0])]
    tl = _build("beat-cut-showcase", footage=footage, draft_s=12.0)
    assert [(c.source[-5:], c.shot_index) for c in tl.clips[3:4]] == [("b.mp4", 0)]


def test_a_short_shot_runs_on_and_long_ones_play_their_middle():
    tl = _build("calm-vlog", footage=[_video("a", [1.0, 12.0])], draft_s=20.0)
    first, second = tl.clips[0], tl.clips[1]
    assert first.shot_index == 0 and first.src_start_s == 0.0 and first.end_s == 4.0  # 2 bars from a 1 s shot
    assert second.shot_index == 1 and second.src_start_s == pytest.approx(1.0 + (12.0 - 4.0) / 2)
    assert all(c.src_end_s <= 13.0 + 1e-9 for c in tl.clips)


def test_clip_shorter_than_its_slot_ends_on_an_earlier_beat():
    footage = [_video("short", [1.2]), _video("long", [30.0])]
    tl = _build("calm-vlog", footage=footage, draft_s=20.0)
    assert tl.clips[0].source.endswith("short.mp4") and tl.clips[0].end_s == 1.0  # 2 beats fit in 1.2 s
    assert tl.clips[1].start_s == 1.0 and all(round(tl.audio.src_start_s + c, 6) in set(_music().beats_s)
                                              for c in _cuts(tl))


def test_photos_get_ken_burns_in_the_carousel():
    photos = [_photo(f"p{i}") for i in range(5)]
    tl = _build("photo-carousel", footage=photos)
    assert all(c.kind == "photo" for c in tl.clips)
    assert [c.motion for c in tl.clips[:4]] == ["kenburns-in", "kenburns-out"] * 2
    assert all(c.src_start_s == 0.0 for c in tl.clips)
    x, y, w, h = tl.clips[0].crop  # 3:4 portrait photo into a 1:1 frame: full width, centred band
    assert (x, w) == (0.0, 1.0) and h == pytest.approx(0.75) and y == pytest.approx(0.125)
    assert [o.kind for o in tl.overlays][0] == "card" and tl.overlays[0].text == "Summer drop"


def test_centre_crop_for_the_aspect_and_face_fallback():
    tl = _build("talking-head-captions", footage=[_video("talk", [20.0], faces=1)])
    x, y, w, h = tl.clips[0].crop  # 16:9 source into 9:16
    assert (y, h) == (0.0, 1.0) and w == pytest.approx((9 / 16) / (16 / 9)) and x == pytest.approx((1 - w) / 2)
    assert tl.meta["reframe"]["asked"] == "face" and tl.meta["reframe"]["used"] == "centre"
    assert "no face positions" in tl.meta["reframe"]["reason"]
    assert tl.audio.gain_db == get_template("talking-head-captions").music.gain_db


def test_draft_length_lands_on_a_bar_near_the_request():
    for want_s, bars in ((10.0, 5), (13.1, 7), (20.0, 10)):
        tl = _build("beat-cut-showcase", draft_s=want_s)
        assert tl.duration_s == pytest.approx(2.0 * bars) and tl.meta["bars"] == bars


def test_default_length_follows_the_footage():
    assert _build("travel-montage").duration_s == pytest.approx(24.0)  # 24 s of material, 12 bars at 120 bpm


def test_jittered_beats_are_still_hit_exactly():
    music = _music(bpm=100.0, jitter_s=0.013)
    tl = _build("travel-montage", music=music)
    assert all(round(tl.audio.src_start_s + c, 6) in set(music.beats_s) for c in _cuts(tl))
    assert round(tl.audio.src_start_s + tl.duration_s, 6) in set(music.downbeats_s)


def test_without_music_cuts_follow_the_tempo_midpoint():
    spec = get_template("beat-cut-showcase")
    tl = _build("beat-cut-showcase", music=None)
    beat_s = 60.0 / spec.music.mid_bpm
    assert tl.audio is None and tl.meta["grid"] == "fixed" and "no music" in tl.meta["notes"][0]
    assert all(abs(c / beat_s - round(c / beat_s)) < 1e-9 for c in _cuts(tl))
    assert abs(tl.duration_s / (4 * beat_s) - round(tl.duration_s / (4 * beat_s))) < 1e-9


def test_recipe_captions_go_a_sentence_at_a_time_with_step_labels():
    copy = "Whisk the eggs. Fold in the flour! Bake for 20 minutes.\nServe warm"
    tl = _build("recipe-steps", copy=copy)
    captions = [o.text for o in tl.overlays if o.kind == "caption"]
    assert captions == ["Whisk the eggs.", "Fold in the flour!", "Bake for 20 minutes.", "Serve warm"]
    steps = [o.text for o in tl.overlays if o.text.startswith("Step ")]
    assert steps[:3] == ["Step 1", "Step 2", "Step 3"]
    assert split_sentences("第一步。第二步！ Third") == ["第一步。", "第二步！", "Third"]


def test_before_after_splits_footage_and_labels_at_a_bar():
    footage = [_video("before", [8.0]), _video("after", [8.0])]
    tl = _build("before-after", footage=footage, draft_s=12.0)
    labels = {o.text: o for o in tl.overlays if o.text in ("Before", "After")}
    switch = labels["After"].start_s
    assert labels["Before"].end_s == switch and switch in [c.start_s for c in tl.clips]
    assert labels["Before"].start_s == 0.0 and labels["After"].end_s == tl.duration_s
    assert all(c.source.endswith("before.mp4") for c in tl.clips if c.start_s < switch)
    assert all(c.source.endswith("after.mp4") for c in tl.clips if c.start_s >= switch)


def test_empty_title_and_copy_show_nothing():
    tl = _build("listicle-numbered", title="", copy="  ")
    kinds = [o.kind for o in tl.overlays]
    assert "title" not in kinds and "caption" not in kinds and not tl.meta["title_shown"]
    assert [o.text for o in tl.overlays][:2] == ["#1", "#2"]  # the "{title}" intro card is left out


def test_preview_and_footage_paths():
    tl = _build("calm-vlog", preview=True, footage_paths=["/w/a.mp4", "/w/b.mp4", "/w/c.mp4"])
    assert (tl.width, tl.height) == (1920, 1080) and tl.meta["preview"]  # the renderer makes previews small
    assert {c.source for c in tl.clips} == {"/w/a.mp4", "/w/b.mp4", "/w/c.mp4"}


@pytest.mark.parametrize("kwargs,message", [
    ({"footage": []}, "non-empty list"),
    ({"footage": [_video("tiny", [0.8])]}, "shorter than one bar"),
    ({"music": _music(duration_s=6.0)}, "needs at least 8"),
    ({"draft_s": 45.0}, "draft_s=45.0"),
    ({"music_path": None}, "music_path=None"),
    ({"footage_paths": ["/a.mp4"]}, "one path per footage item"),
    ({"title": None}, "title and copy must be strings"),
    ({"music": _music(duration_s=40.0, first_beat_s=33.0)}, "no run of them lasts"),
])
def test_bad_inputs_raise_timeline_errors(kwargs, message):
    footage = kwargs.pop("footage", None)
    with pytest.raises(TimelineError, match=message) as err:
        _build("beat-cut-showcase", footage=footage, **kwargs)
    assert isinstance(err.value, TemplateError)


def test_too_short_videos_are_skipped_when_others_remain():
    tl = _build("calm-vlog", footage=[_video("blink", [0.3]), *_footage()])
    assert tl.meta["skipped_footage"] == ["/footage/blink.mp4"]
    assert all(not c.source.endswith("blink.mp4") for c in tl.clips)


def test_importing_templates_loads_no_heavy_library():
    code = ("import json, sys, templates, templates.placement, templates.registry; "
            "templates.get_template('calm-vlog'); print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         timeout=60)
    loaded = {m.split(".")[0] for m in json.loads(out.stdout.strip().splitlines()[-1])}
    assert not loaded & {"torch", "librosa", "moviepy", "streamlit", "titlegen", "numba", "open_clip"}
