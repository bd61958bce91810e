"""Word-timed captions: words carried onto the draft's clock, cues of at most two lines that fit the frame, the
talking-head template burning in speech instead of the copy, SRT and WebVTT, and drafts that keep transcripts."""

from __future__ import annotations

import json

import pytest

from crossmodal_match.errors import ConfigError, NoAudioError
from crossmodal_match.transcript import NO_SPEECH, Segment, Transcript, Word
from templates import TemplateError
from templates.captions import srt_text, vtt_text
from templates.draft import load_draft, make_draft, rerender
from templates.fonts import font_path
from templates.lettering import font_at, wrap_text
from templates.registry import get_template
from templates.speech_captions import MAX_CUE_S, SpokenWord, caption_cues, words_on_timeline
from templates.timeline import TextStyle, TimelineClip
from tests.test_templates import _build, _video

EN = ("Today I will show you how to make a quick tomato pasta in fifteen minutes. First boil the water and salt it "
      "well. Then slice the garlic very thin and fry it gently in olive oil until it turns golden.")
ZH = "今天教大家做一道十五分钟就能完成的番茄意面。先把水烧开再加盐。然后把大蒜切成薄片用橄榄油小火慢慢煎到金黄。"


def transcript_of(text: str, *, language: str = "en", start_s: float = 0.5, word_s: float = 0.3,
                  pause_after_sentence_s: float = 0.2) -> Transcript:
    """Evenly timed words (Latin words with a leading space, Chinese one character each), a segment a sentence."""
    segments, t = [], start_s
    sentences = [s for s in text.replace("。", "。|").replace(". ", ".|").split("|") if s]
    for sentence in sentences:
        units = list(sentence) if language == "zh" else [f" {w}" for w in sentence.split()]
        words = []
        for unit in units:
            words.append(Word(t, t + word_s * 0.9, unit, 0.9))
            t += word_s
        segments.append(Segment(words[0].start_s, words[-1].end_s, sentence.strip(), tuple(words)))
        t += pause_after_sentence_s
    return Transcript(language, 0.99, t + 1.0, t - start_s, tuple(segments), "test")


def clip(source, src_start, src_end, start, kind="video") -> TimelineClip:
    return TimelineClip(source=source, kind=kind, src_start_s=src_start, src_end_s=src_end, start_s=start,
                        end_s=start + src_end - src_start)


# --- words onto the draft's clock ---------------------------------------------------------------------------------


def test_words_follow_the_clip_that_plays_them():
    t = Transcript("en", 1, 10, 5, (Segment(1.0, 6.0, "a b c", (Word(1.0, 1.4, " a"), Word(3.0, 3.4, " b"),
                                                                  Word(5.0, 5.4, " c"))),), "m")
    clips = [clip("/v.mp4", 4.5, 6.0, 0.0), clip("/photo.jpg", 0, 2, 1.5, kind="photo"), clip("/v.mp4", 0.5, 2.0, 3.5)]
    words = words_on_timeline(clips, {"/v.mp4": t, "/photo.jpg": t})
    assert [(w.text, w.start_s, w.clip) for w in words] == [(" c", 0.5, 0), (" a", 4.0, 2)]  # " b" is not shown
    assert words_on_timeline(clips, {}) == []


# --- cues ---------------------------------------------------------------------------------------------------------

STYLE = get_template("talking-head-captions").caption.style
BOX = get_template("talking-head-captions").caption.placement.box
FRAME = (1080, 1920)


def _lines(text: str) -> list[str]:
    font = font_at(font_path(STYLE.font), round(STYLE.size * FRAME[1]))
    stroke = round(STYLE.stroke * FRAME[1])
    return wrap_text(text, font=font, max_width_px=round(BOX[2] * FRAME[0]) - 2 * stroke)


@pytest.mark.parametrize("text, language", [(EN, "en"), (ZH, "zh")])
def test_cues_have_at_most_two_lines_inside_the_frame_and_never_overlap(text, language):
    words = words_on_timeline([clip("/v.mp4", 0, 60, 0)], {"/v.mp4": transcript_of(text, language=language)})
    cues = caption_cues(words, style=STYLE, box=BOX, frame_size=FRAME, end_s=60.0)
    assert len(cues) >= 5
    glue = "" if language == "zh" else " "
    assert glue.join(c.text for c in cues) == (text if language == "en" else text)
    font = font_at(font_path(STYLE.font), round(STYLE.size * FRAME[1]))
    for cue in cues:
        lines = _lines(cue.text)
        assert len(lines) <= 2 and all(font.getlength(line) <= BOX[2] * FRAME[0] for line in lines), lines
        assert cue.kind == "caption" and cue.end_s - cue.start_s <= MAX_CUE_S + 1.0
    assert all(a.end_s <= b.start_s for a, b in zip(cues, cues[1:]))


def test_a_cue_ends_at_a_sentence_a_pause_or_a_cut():
    words = [SpokenWord(0.0, 0.3, " Hi.", 0), SpokenWord(0.4, 0.7, " One", 0), SpokenWord(2.0, 2.3, " two", 0),
             SpokenWord(2.4, 2.7, " three", 1)]
    cues = caption_cues(words, style=STYLE, box=BOX, frame_size=FRAME, end_s=10.0)
    assert [c.text for c in cues] == ["Hi.", "One", "two", "three"]
    assert cues[0].end_s == 0.4 and cues[-1].end_s == pytest.approx(2.7 + 0.6)  # held, but never past the next


def test_chinese_cues_never_start_a_line_with_closing_punctuation():
    words = words_on_timeline([clip("/v.mp4", 0, 60, 0)], {"/v.mp4": transcript_of(ZH, language="zh")})
    for cue in caption_cues(words, style=STYLE, box=BOX, frame_size=FRAME, end_s=60.0):
        assert not any(line[:1] in "，。！？、" for line in _lines(cue.text))


def test_a_missing_caption_font_is_a_template_error():
    with pytest.raises(TemplateError, match="cannot measure captions"):
        caption_cues([SpokenWord(0, 1, " a", 0)], style=TextStyle(font="/nonexistent/font.ttf"), box=BOX,
                     frame_size=FRAME, end_s=2.0)


# --- the talking-head template --------------------------------------------------------------------------------------


def _talking_head(transcripts):
    footage = [_video("talk", [30.0], faces=1)]
    return _build("talking-head-captions", footage=footage, copy="The copy line.", transcripts=transcripts)


def test_talking_head_burns_in_the_spoken_words_instead_of_the_copy():
    tl = _talking_head({"/footage/talk.mp4": transcript_of(EN)})
    captions = [o for o in tl.overlays if o.kind == "caption"]
    assert tl.meta["captions"]["source"] == "speech" and captions
    assert "The copy line." not in [o.text for o in captions]
    assert all(o.box == BOX for o in captions)
    spoken = " ".join(o.text for o in captions)
    assert spoken and spoken in EN  # the cut plays one window of the talk: its words, in order


def test_talking_head_without_speech_shows_the_copy_and_says_why():
    silent = Transcript("", 0.0, 30.0, 0.0, (), "test", notes=(NO_SPEECH,))
    for transcripts, why in (({}, "no transcript"), ({"/footage/talk.mp4": silent}, "no speech was heard")):
        tl = _talking_head(transcripts)
        assert [o.text for o in tl.overlays if o.kind == "caption"] == ["The copy line."]
        assert tl.meta["captions"]["source"] == "copy" and why in tl.meta["captions"]["note"]


def test_other_templates_keep_the_copy():
    tl = _build("recipe-steps", transcripts={"/footage/clip0.mp4": transcript_of(EN)})
    assert tl.meta["captions"] == {"source": "copy"}


def test_srt_and_vtt_carry_the_spoken_cues():
    tl = _talking_head({"/footage/talk.mp4": transcript_of(EN)})
    srt, vtt = srt_text(tl), vtt_text(tl)
    n = len([o for o in tl.overlays if o.kind in ("caption", "title")])
    assert srt.count(" --> ") == vtt.count(" --> ") == n
    assert vtt.startswith("WEBVTT\n\n") and "," not in vtt.split("\n")[2].split(" --> ")[0]
    assert srt.startswith("1\n00:00:0")


# --- drafts that listen ----------------------------------------------------------------------------------------------


class FakeTranscriber:
    """Returns a set transcript per file name; raises NoAudioError for names in ``silent``."""

    def __init__(self, by_name, silent=()):
        self.by_name, self.silent, self.calls = by_name, set(silent), []

    def transcribe(self, path):
        from pathlib import Path

        self.calls.append(path)
        if Path(path).name in self.silent:
            raise NoAudioError(path, "has no audio track, so there is no speech to transcribe")
        return self.by_name[Path(path).name]


@pytest.fixture(scope="module")
def media_and_matcher(tmp_path_factory):
    from tests.media import colour_segments
    from tests.test_draft import _click_track, _matcher

    root = tmp_path_factory.mktemp("talk")
    talk = colour_segments(root / "talk.mp4", colours=[(200, 160, 140)], durations_s=[16.0], size=(64, 112),
                           audio=True)
    music = root / "music"
    music.mkdir()
    _click_track(music / "beat.wav", bpm=100, seconds=40)
    return talk, _matcher(music)


def test_a_talking_head_draft_with_an_empty_brief_listens(media_and_matcher, tmp_path):
    from tests.test_draft import fake_generator

    talk, matcher = media_and_matcher
    transcriber = FakeTranscriber({"talk.mp4": transcript_of(EN)})
    briefs = []

    def generator(b, **kwargs):
        briefs.extend(b)
        return fake_generator(b, **kwargs)

    draft = make_draft([talk], "", generator=generator, matcher=matcher, out_dir=tmp_path, preview=True,
                       template="talking-head-captions", transcriber=transcriber)
    data = load_draft(draft.folder)
    assert briefs == [data["brief"]] and data["brief"] == "Today I will show you how to make a quick tomato pasta " \
                                                          "in fifteen minutes. First boil the water and salt it well."
    assert any("the brief was empty" in n for n in draft.notes)
    assert data["transcripts"][str(talk)]["text"].startswith("Today")
    assert data["timeline"]["meta"]["captions"]["source"] == "speech"
    assert draft.subtitles.read_text(encoding="utf-8").startswith("WEBVTT")
    again = rerender(draft.folder, title="Pasta in 15", preview=True)
    assert len(transcriber.calls) == 1 and again.subtitles.is_file()  # an edit never transcribes again
    assert json.loads(again.manifest.read_text())["timeline"]["meta"]["captions"]["source"] == "speech"


def test_an_empty_brief_with_nothing_said_is_refused(media_and_matcher, tmp_path):
    from tests.test_draft import fake_generator

    talk, matcher = media_and_matcher
    for transcriber in (FakeTranscriber({}, silent={"talk.mp4"}),
                        FakeTranscriber({"talk.mp4": Transcript("", 0, 16, 0, (), "t", notes=(NO_SPEECH,))})):
        with pytest.raises(TemplateError, match="no speech was heard"):
            make_draft([talk], " ", generator=fake_generator, matcher=matcher, out_dir=tmp_path, preview=True,
                       template="talking-head-captions", transcriber=transcriber)
    assert list(tmp_path.iterdir()) == []


def test_a_clip_without_sound_is_noted_and_the_copy_is_captioned(media_and_matcher, tmp_path):
    from tests.test_draft import fake_generator

    talk, matcher = media_and_matcher
    draft = make_draft([talk], "pasta night", generator=fake_generator, matcher=matcher, out_dir=tmp_path,
                       preview=True, template="talking-head-captions",
                       transcriber=FakeTranscriber({}, silent={"talk.mp4"}))
    assert any("has no audio track" in n for n in draft.notes)
    assert load_draft(draft.folder)["timeline"]["meta"]["captions"]["source"] == "copy"


# --- the voice and the music under it ----------------------------------------------------------------------------------


def test_the_music_ducks_over_speech_with_ramps():
    from templates.soundtrack import AUDIO_RATE_HZ, DUCK_RAMP_S, duck_envelope

    env = duck_envelope(((2.0, 3.0),), duck_db=-10.0, total=5 * AUDIO_RATE_HZ)
    at = lambda t: env[round(t * AUDIO_RATE_HZ)]  # noqa: E731
    assert at(1.0) == 0.0 and at(2.0) == at(2.5) == at(3.0) == -10.0 and at(4.0) == 0.0
    assert at(2.0 - DUCK_RAMP_S / 2) == pytest.approx(-5.0, abs=0.01)  # the ramp ends as the voice starts
    assert env.min() == -10.0 and env.max() == 0.0


def test_talking_head_plays_the_voice_and_ducks_the_music_under_the_words():
    from templates.placement import SPEECH_DUCK_DB
    from templates.timeline import Timeline

    tl = _talking_head({"/footage/talk.mp4": transcript_of(EN)})
    assert [(v.src_start_s, v.start_s, v.end_s) for v in tl.voices] == \
        [(c.src_start_s, c.start_s, c.end_s) for c in tl.clips]
    spans, words = tl.audio.duck_spans_s, words_on_timeline(tl.clips, {"/footage/talk.mp4": transcript_of(EN)})
    assert tl.audio.duck_db == SPEECH_DUCK_DB and spans
    assert all(any(a - 1e-3 <= w.start_s and w.end_s <= b + 1e-3 for a, b in spans) for w in words)
    assert Timeline.from_dict(json.loads(tl.to_json())) == tl
    plain = _build("recipe-steps", transcripts={"/footage/clip0.mp4": transcript_of(EN)})
    assert plain.voices == () and plain.audio.duck_spans_s == ()


def test_the_soundtrack_mixes_the_voice_over_the_ducked_music(tmp_path):
    import numpy as np
    import soundfile as sf

    from templates.soundtrack import AUDIO_RATE_HZ, write_soundtrack
    from templates.timeline import AudioTrack, Timeline

    t = np.arange(10 * AUDIO_RATE_HZ) / AUDIO_RATE_HZ
    sf.write(tmp_path / "music.wav", 0.5 * np.sin(2 * np.pi * 440 * t), AUDIO_RATE_HZ)
    sf.write(tmp_path / "voice.wav", 0.3 * np.sin(2 * np.pi * 1500 * t), AUDIO_RATE_HZ)
    music = AudioTrack(str(tmp_path / "music.wav"), 0.0, 8.0, 0.0, 8.0, duck_spans_s=((3.0, 6.0),), duck_db=-10.0)
    voice = AudioTrack(str(tmp_path / "voice.wav"), 1.0, 4.0, 3.0, 6.0)
    tl = Timeline(template="t", width=64, height=64, fps=10, duration_s=8.0, clips=(), audio=music, voices=(voice,))

    class Progress:
        def stage(self, *_):
            pass

    write_soundtrack(tl, tmp_path / "mix.wav", source_duration_s=10.0, cancel=None, progress=Progress())
    mix, sr = sf.read(tmp_path / "mix.wav")

    def level_db(start, end, hz):
        part = mix[round(start * sr):round(end * sr), 0]
        k = np.arange(part.size) / sr
        return 20 * np.log10(abs(np.mean(part * np.exp(-2j * np.pi * hz * k))) * 2 + 1e-12)

    assert level_db(4.0, 5.0, 440) - level_db(1.0, 2.0, 440) == pytest.approx(-10.0, abs=0.3)
    # the voice at its own level (as loud against the undimmed music as in the sources: 0.3 vs 0.5)
    assert level_db(4.0, 5.0, 1500) - level_db(1.0, 2.0, 440) == pytest.approx(20 * np.log10(0.3 / 0.5), abs=0.3)
    assert level_db(1.0, 2.0, 1500) < -60  # the voice plays only under its clip


def test_a_speech_led_draft_plays_a_take_in_order_across_its_shots():
    tl = _build("talking-head-captions", footage=[_video("talk", [6.0, 9.0, 15.0], faces=1)], copy="c")
    windows = [(c.src_start_s, c.src_end_s) for c in tl.clips]
    assert windows[0][0] == 0.0 and all(a[1] == pytest.approx(b[0]) for a, b in zip(windows, windows[1:]))


# --- cuts that respect the words ---------------------------------------------------------------------------------------


def _words(*spans):
    return Transcript("en", 1, 20, 5, (Segment(spans[0][0], spans[-1][1], "w", tuple(Word(a, b, " w") for a, b in spans)),),
                      "m")


def test_a_cut_inside_a_word_moves_to_the_nearest_beat_in_a_pause():
    from templates.speech_cuts import cuts_inside_words, snap_cuts

    a = _words((3.2, 3.45), (3.8, 4.3), (4.6, 5.0))  # 4.0 splits a word; 3.5 and 4.5 are pauses
    b = _words((0.1, 0.4), (0.6, 0.9))  # its start (2.0 or 2.5 after the move) is in a pause... or inside?
    clips = [clip("/a.mp4", 1.0, 4.0, 0.0), clip("/b.mp4", 2.0, 6.0, 3.0)]
    beats = [0.5 * i for i in range(15)]
    assert cuts_inside_words(clips, {"/a.mp4": a, "/b.mp4": b}) == 1
    snapped, report = snap_cuts(clips, {"/a.mp4": a, "/b.mp4": b}, beats, {"/a.mp4": 10.0, "/b.mp4": 10.0})
    assert report == {"seen_cuts": 1, "inside_words_before": 1, "moved": 1, "inside_words_after": 0}
    assert snapped[0].end_s == snapped[1].start_s and snapped[1].end_s == 7.0
    assert snapped[0].src_end_s - snapped[0].src_start_s == pytest.approx(snapped[0].end_s - snapped[0].start_s)
    assert snapped[0].src_end_s in (3.5, 4.5)


def test_a_take_playing_on_is_not_a_cut_and_a_cut_with_no_pause_nearby_stays():
    from templates.speech_cuts import seen_cuts, snap_cuts

    talk = _words(*[(max(0.0, 0.5 * i - 0.05), 0.5 * i + 0.55) for i in range(30)])  # speech with no pause at all
    on = [clip("/a.mp4", 0.0, 3.0, 0.0), clip("/a.mp4", 3.0, 6.0, 3.0)]
    assert seen_cuts(on) == []
    jump = [clip("/a.mp4", 0.0, 3.2, 0.0), clip("/a.mp4", 8.2, 11.0, 3.2)]
    snapped, report = snap_cuts(jump, {"/a.mp4": talk}, [0.4 * i for i in range(20)], {"/a.mp4": 15.0})
    assert report["inside_words_before"] == report["inside_words_after"] == 1 and snapped == jump


def test_a_held_shot_never_runs_past_its_source():
    from templates.speech_cuts import snap_cuts

    a = _words((3.8, 4.3))
    clips = [clip("/a.mp4", 1.0, 4.0, 0.0), clip("/b.mp4", 1.0, 5.0, 3.0)]
    snapped, report = snap_cuts(clips, {"/a.mp4": a}, [0.5 * i for i in range(15)], {"/a.mp4": 4.1})
    assert report["moved"] == 1 and snapped[0].src_end_s == 3.5  # 4.5 would be past the end of /a.mp4


def test_a_talking_head_draft_ends_each_jump_on_a_beat_in_a_pause():
    from templates.speech_cuts import cuts_inside_words, seen_cuts

    footage = [_video(f"take{i}", [length], faces=1) for i, length in enumerate((22.0, 18.0, 25.0))]
    # words of 0.37 s with 0.05 s between them, a 0.6 s pause after every 9 words
    transcripts = {f.path: _words(*[(0.3 + 0.42 * i + 0.6 * (i // 9), 0.67 + 0.42 * i + 0.6 * (i // 9))
                                    for i in range(int(f.duration_s / 0.5))]) for f in footage}
    transcripts = {p: Transcript("en", 1, 30, 20, t.segments, "m") for p, t in transcripts.items()}
    plain = _build("talking-head-captions", footage=footage, draft_s=45.0)
    tl = _build("talking-head-captions", footage=footage, draft_s=45.0, transcripts=transcripts)
    assert cuts_inside_words(plain.clips, transcripts) > 0 and seen_cuts(tl.clips)
    assert cuts_inside_words(tl.clips, transcripts) == 0 == tl.meta["captions"]["cuts"]["inside_words_after"]
    beats = {round(b, 6) for b in tl.beats_s}
    assert all(round(c.start_s, 6) in beats for c in tl.clips)  # cuts stay on the beat


@pytest.mark.slow
def test_a_spoken_clip_with_an_empty_brief_gives_a_draft_that_follows_the_words(media_and_matcher, tmp_path):
    """The real model on espeak-ng speech, end to end: captions, voice, title brief (skips without either)."""
    from crossmodal_match.errors import WhisperWeightsError
    from crossmodal_match.evaluate.speech_wer import espeak_exe, synthesize
    from crossmodal_match.speech import Transcriber
    from tests.media import run_ffmpeg
    from tests.test_draft import fake_generator

    if espeak_exe() is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    transcriber = Transcriber()
    try:
        transcriber._load()
    except WhisperWeightsError as exc:
        pytest.skip(f"Whisper base weights not installed: {exc}")
    voice = synthesize(EN, tmp_path / "voice.wav")
    talk = tmp_path / "talk.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=0xc8a08c:s=64x112:d=16", "-i", str(voice), "-map", "0:v", "-map", "1:a",
                "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(talk)])
    draft = make_draft([talk], "", generator=fake_generator, matcher=media_and_matcher[1], out_dir=tmp_path / "d",
                       preview=True, template="talking-head-captions", transcriber=transcriber)
    data = load_draft(draft.folder)
    assert "quick tomato pasta in 15 minutes" in data["brief"] and any("brief was empty" in n for n in draft.notes)
    assert data["timeline"]["meta"]["captions"]["source"] == "speech" and data["timeline"]["voices"]
    spoken = " ".join(line for line in draft.subtitles.read_text(encoding="utf-8").splitlines()[1:]
                      if line and "-->" not in line)
    assert "tomato pasta" in spoken.lower()


def test_silent_clips_get_one_note_not_one_each(media_and_matcher, tmp_path):
    from templates.draft import _transcribe

    talk, _ = media_and_matcher

    class _Footage:
        kind = "video"

    class _Report:
        def stage(self, *args):
            pass

    paths = [talk, talk.with_name("b.mp4"), talk.with_name("c.mp4")]
    _, notes = _transcribe(FakeTranscriber({}, silent={p.name for p in paths}), paths, [_Footage()] * 3, _Report())
    assert notes == ["none of the 3 clips has an audio track (talk.mp4, b.mp4, c.mp4): nothing to transcribe or "
                     "caption from them"]


# --- the transcript beside a brief, and the creator's fixes ------------------------------------------------------------


def test_with_a_brief_the_titles_read_the_brief_and_what_was_said(media_and_matcher, tmp_path):
    from tests.test_draft import fake_generator

    talk, matcher = media_and_matcher
    briefs = []

    def generator(b, **kwargs):
        briefs.extend(b)
        return fake_generator(b, **kwargs)

    draft = make_draft([talk], "pasta night", generator=generator, matcher=matcher, out_dir=tmp_path, preview=True,
                       template="talking-head-captions",
                       transcriber=FakeTranscriber({"talk.mp4": transcript_of(EN)}))
    assert briefs == ["pasta night. Today I will show you how to make a quick tomato pasta in fifteen minutes. First "
                      "boil the water and salt it well."]
    assert load_draft(draft.folder)["brief"] == "pasta night"  # copy and music keep to the creator's words
    assert any(n.startswith("the titles read the brief and what was said") for n in draft.notes)


def test_speech_in_another_language_than_the_brief_stays_out_of_the_titles():
    from templates.speech_brief import titles_brief

    zh = {"a.mp4": transcript_of(ZH, language="zh").to_dict()}
    en = {"a.mp4": transcript_of(EN).to_dict()}
    joined, note = titles_brief("番茄意面教程", zh)
    assert joined.startswith("番茄意面教程。今天教大家") and "what was said" in note
    assert titles_brief("番茄意面教程", en) == ("番茄意面教程", "the footage speaks another language (en) than the "
                                                           "brief, so the titles follow the brief alone")
    assert titles_brief("pasta night", zh)[0] == "pasta night"
    silent = {"a.mp4": Transcript("", 0, 16, 0, (), "t", notes=(NO_SPEECH,)).to_dict()}
    assert titles_brief("pasta night", silent) == ("pasta night", None)


def test_a_fixed_segment_keeps_the_voice_span_and_an_empty_one_is_removed():
    t = transcript_of(ZH, language="zh")
    first = t.segments[0]
    fixed = t.with_segment_text(0, "今天教大家做番茄炒蛋。")
    words = fixed.segments[0].words
    assert "".join(w.text for w in words) == "今天教大家做番茄炒蛋。" and fixed.segments[0].text == "今天教大家做番茄炒蛋。"
    assert words[0].start_s == first.words[0].start_s and words[-1].end_s == pytest.approx(first.words[-1].end_s)
    assert all(a.end_s == pytest.approx(b.start_s) for a, b in zip(words, words[1:]))
    assert "captions edited by the creator" in fixed.notes
    shorter = t.with_segment_text(1, "  ")
    assert len(shorter.segments) == len(t.segments) - 1 and shorter.segments[1] == t.segments[2]
    english = transcript_of(EN).with_segment_text(0, "Today: a quick tomato pasta, in 15 minutes!")
    assert [w.text for w in english.segments[0].words][:3] == [" Today:", " a", " quick"]
    for bad in (-1, len(t.segments), "0"):
        with pytest.raises(ConfigError, match="does not exist"):
            t.with_segment_text(bad, "x")


def test_a_transcript_fix_re_captions_the_draft_and_bad_fixes_are_refused(media_and_matcher, tmp_path):
    from tests.test_draft import fake_generator

    talk, matcher = media_and_matcher
    transcriber = FakeTranscriber({"talk.mp4": transcript_of(EN)})
    draft = make_draft([talk], "", generator=fake_generator, matcher=matcher, out_dir=tmp_path, preview=True,
                       template="talking-head-captions", transcriber=transcriber)
    before = draft.folder.joinpath("draft.json").read_text(encoding="utf-8")
    for edits, match in (({"other.mp4": {0: "x"}}, "no transcript of 'other.mp4'"),
                         ({str(talk): {9: "x"}}, "segment 9 does not exist"),
                         ({str(talk): {"0": "x"}}, "keyed by segment number")):
        with pytest.raises(TemplateError, match=match):
            rerender(draft.folder, transcript_edits=edits, preview=True)
    assert draft.folder.joinpath("draft.json").read_text(encoding="utf-8") == before  # nothing half-written
    again = rerender(draft.folder, transcript_edits={str(talk): {1: "First boil the water and salt it like the sea."}},
                     preview=True)
    def said(d):
        return " ".join(d.subtitles.read_text(encoding="utf-8").split())

    assert "it like the sea." in said(again) and "salt it well" not in said(again)
    assert len(transcriber.calls) == 1
    # the fix outlives a later edit of something else
    assert "like the sea" in said(rerender(draft.folder, title="Pasta", preview=True))
