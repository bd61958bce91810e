"""Speech transcription: plain transcript data, language codes, audio decoding, caching, the CLI, bad input.

The default tests run a stand-in for the Whisper model (it returns known segments) so they are fast and need no
weights; the real model runs in the ``slow`` tests at the end, on espeak-ng speech, and skips when either is
missing.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from crossmodal_match import speech, speech_audio
from crossmodal_match.__main__ import main as cli_main
from crossmodal_match.errors import ConfigError, InvalidMediaError, ModelLoadError, NoAudioError
from crossmodal_match.evaluate.speech_wer import espeak_exe, synthesize, word_error_rate, write_wav
from crossmodal_match.transcript import NO_SPEECH, TRANSCRIPT_VERSION, Segment, Transcript, Word
from tests.media import audio_only, colour_segments, truncated


class FakeWhisper:
    """Stands in for ``faster_whisper.WhisperModel``: returns the segments it was given, records its calls."""

    def __init__(self, segments=(), *, language="en", probability=0.97, speech_s=None, later=()) -> None:
        self.segments, self.language, self.probability, self.speech_s = segments, language, probability, speech_s
        # (language, probability) that detection answers after the first one, in turn (transcribe without a
        # language, or detect_language)
        self.later = list(later)
        self.calls, self.detections, self.auto = [], 0, 0

    def _detected(self):
        self.auto += 1
        return self.later.pop(0) if self.auto > 1 and self.later else (self.language, self.probability)

    def detect_language(self, samples, **kwargs):
        self.detections += 1
        found, probability = self._detected()
        return found, probability, [(found, probability)]

    def transcribe(self, samples, **kwargs):
        self.calls.append(kwargs)
        duration = samples.size / speech.SAMPLE_RATE
        found, probability = (kwargs["language"], 1.0) if kwargs.get("language") else self._detected()
        info = SimpleNamespace(language=found, language_probability=probability,
                               duration_after_vad=duration if self.speech_s is None else self.speech_s)
        return iter(self.segments), info


def raw_segment(start, end, words, *, no_speech_prob=0.01, avg_logprob=-0.3):
    """A faster-whisper-like segment from (text, start, end) words."""
    return SimpleNamespace(start=start, end=end, text="".join(w[0] for w in words), no_speech_prob=no_speech_prob,
                           avg_logprob=avg_logprob,
                           words=[SimpleNamespace(word=t, start=s, end=e, probability=0.9) for t, s, e in words])


HELLO = [raw_segment(0.2, 1.4, [(" Hello", 0.2, 0.6), (" everyone.", 0.6, 1.4)]),
         raw_segment(1.8, 3.0, [(" Fifteen", 1.8, 2.3), (" minutes", 2.3, 2.9), (" today.", 2.9, 3.3)])]


def fake_transcriber(monkeypatch, fake, **kwargs) -> speech.Transcriber:
    transcriber = speech.Transcriber(**kwargs)
    monkeypatch.setattr(transcriber, "_load", lambda: fake)
    return transcriber


@pytest.fixture
def tone_wav(tmp_path) -> Path:
    t = np.arange(16_000 * 3) / 16_000
    return write_wav(tmp_path / "tone.wav", 0.3 * np.sin(2 * np.pi * 220 * t))


# --- the plain data --------------------------------------------------------------------------------------------


def test_a_transcript_round_trips_through_json_and_joins_words_by_script():
    seg = Segment(0.0, 1.0, "Hello there", (Word(0.0, 0.4, " Hello", 0.9), Word(0.4, 1.0, " there", 0.8)))
    en = Transcript("en", 0.9, 2.0, 1.0, (seg, Segment(1.2, 1.8, "again")), "m", "abc")
    back = Transcript.from_dict(json.loads(json.dumps(en.to_dict())))
    assert back == en and back.text == "Hello there again" and len(back.words) == 2 and back.has_speech
    zh = Transcript("zh", 1.0, 2.0, 1.0, (Segment(0, 1, "今天做面"), Segment(1, 2, "十五分钟")), "m")
    assert zh.text == "今天做面十五分钟"


def test_a_transcript_of_another_version_or_with_bad_times_is_refused():
    data = Transcript("en", 1.0, 1.0, 1.0, (), "m").to_dict()
    with pytest.raises(ConfigError, match="version"):
        Transcript.from_dict({**data, "version": TRANSCRIPT_VERSION + 1})
    with pytest.raises(ConfigError, match="not a transcript"):
        Transcript.from_dict({k: v for k, v in data.items() if k != "segments"})
    with pytest.raises(ConfigError, match="start_s"):
        Word(2.0, 1.0, "x")


# --- language codes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("given, code", [(None, None), ("", None), ("auto", None), ("zh", "zh"), ("EN", "en"),
                                         ("zh-CN", "zh"), ("en_US", "en")])
def test_language_codes_are_normalised(given, code):
    assert speech.check_language(given) == code


@pytest.mark.parametrize("bad", ["chinese", "xx", "zz-ZZ"])
def test_an_unknown_language_is_a_config_error_that_says_what_to_use(bad):
    with pytest.raises(ConfigError, match="ISO 639-1"):
        speech.check_language(bad)


def test_an_unknown_language_suggests_close_codes():
    with pytest.raises(ConfigError, match="did you mean"):
        speech.check_language("enn")


@pytest.mark.parametrize("field, value", [("compute_type", "fp8"), ("cpu_threads", 0), ("beam_size", 0),
                                          ("vad_threshold", 1.2), ("window_s", 10.0), ("window_s", "long")])
def test_a_bad_setting_names_its_field(field, value):
    with pytest.raises(ConfigError, match=field):
        speech.SpeechConfig(**{field: value})


# --- audio --------------------------------------------------------------------------------------------------------


def test_a_wav_decodes_to_16khz_mono(tmp_path):
    path = write_wav(tmp_path / "a.wav", np.zeros(44_100), sr=44_100)
    samples = speech.load_audio(path)
    assert samples.dtype == np.float32 and abs(samples.size - 16_000) <= 16


def test_footage_audio_is_read_from_the_video_file(tmp_path):
    clip = colour_segments(tmp_path / "c.mp4", colours=[(255, 0, 0)], durations_s=[1.0], audio=True)
    assert abs(speech.load_audio(clip).size / 16_000 - 1.0) < 0.1


def test_a_clip_without_an_audio_track_is_a_typed_error(tmp_path):
    clip = colour_segments(tmp_path / "silent.mp4", colours=[(0, 0, 255)], durations_s=[1.0])
    with pytest.raises(NoAudioError, match="no audio track"):
        speech.load_audio(clip)


@pytest.mark.parametrize("content", [b"", b"not media at all" * 100, b"RIFF" + bytes(60)])
def test_empty_or_corrupt_files_are_invalid_media(tmp_path, content):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(InvalidMediaError):
        speech.load_audio(path)


def test_a_cut_off_container_is_invalid_media(tmp_path):
    clip = audio_only(tmp_path / "voice.mp4", duration_s=2.0)
    with pytest.raises(InvalidMediaError):
        speech.load_audio(truncated(clip, tmp_path / "cut.mp4", keep_fraction=0.3))


def test_a_wav_cut_off_midway_gives_what_decodes(tmp_path, tone_wav):
    # documented graceful result: a stream cut part-way is transcribed up to the cut
    cut = truncated(tone_wav, tmp_path / "cut.wav", keep_fraction=0.5)
    assert 1.0 < speech.load_audio(cut).size / 16_000 < 2.0


def test_a_missing_file_or_unsupported_extension_is_invalid_media(tmp_path):
    with pytest.raises(InvalidMediaError, match="does not exist"):
        speech.load_audio(tmp_path / "nope.wav")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InvalidMediaError, match="unsupported extension"):
        speech.load_audio(tmp_path / "notes.txt")


# --- transcription with a stand-in model --------------------------------------------------------------------------


def test_segments_and_word_times_become_plain_data(monkeypatch, tone_wav):
    fake = FakeWhisper(HELLO)
    transcript = fake_transcriber(monkeypatch, fake).transcribe(tone_wav)
    assert transcript.text == "Hello everyone. Fifteen minutes today."
    assert transcript.language == "en" and not transcript.language_given and transcript.has_speech
    assert [w.text for w in transcript.words] == [" Hello", " everyone.", " Fifteen", " minutes", " today."]
    assert transcript.words[-1].end_s == 3.0  # a word running past its segment is clamped into it
    assert transcript.duration_s == pytest.approx(3.0, abs=0.01) and transcript.source_sha256
    assert fake.calls[0]["vad_filter"] and fake.calls[0]["word_timestamps"] and fake.calls[0]["language"] is None


def test_a_given_language_is_passed_on_and_recorded(monkeypatch, tone_wav):
    fake = FakeWhisper(HELLO, language="de")
    transcript = fake_transcriber(monkeypatch, fake).transcribe(tone_wav, language="zh")
    assert fake.calls[0]["language"] == "zh"
    assert transcript.language == "zh" and transcript.language_given and transcript.language_probability == 1.0


def test_music_or_silence_gives_an_empty_transcript_that_says_so(monkeypatch, tone_wav):
    transcript = fake_transcriber(monkeypatch, FakeWhisper([], speech_s=0.0)).transcribe(tone_wav)
    assert not transcript.has_speech and transcript.text == "" and transcript.words == ()
    assert transcript.notes == (NO_SPEECH,) and transcript.language == ""


def test_progress_reaches_one(monkeypatch, tone_wav):
    seen = []
    fake_transcriber(monkeypatch, FakeWhisper(HELLO)).transcribe(tone_wav, on_progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_transcripts_are_cached_by_file_hash_and_options(monkeypatch, tmp_path, tone_wav):
    fake = FakeWhisper(HELLO)
    transcriber = fake_transcriber(monkeypatch, fake, cache_dir=tmp_path / "cache")
    first = transcriber.transcribe(tone_wav)
    copy = tmp_path / "copy.wav"
    copy.write_bytes(tone_wav.read_bytes())
    assert transcriber.transcribe(copy) == first and len(fake.calls) == 1  # same bytes, other name: cached
    transcriber.transcribe(tone_wav, language="en")
    assert len(fake.calls) == 2  # another language option is another entry


def test_a_damaged_cache_entry_is_remade(monkeypatch, tmp_path, tone_wav, caplog):
    fake = FakeWhisper(HELLO)
    transcriber = fake_transcriber(monkeypatch, fake, cache_dir=tmp_path / "cache")
    transcriber.transcribe(tone_wav)
    (entry,) = (tmp_path / "cache").glob("*.json")
    entry.write_text("{not json")
    assert transcriber.transcribe(tone_wav).has_speech and len(fake.calls) == 2
    assert "ignoring unreadable cached transcript" in caplog.text


def test_bad_samples_are_refused():
    with pytest.raises(ConfigError, match="1-D"):
        speech.Transcriber().transcribe_samples(np.zeros((2, 100), np.float32))


def test_a_model_folder_without_its_files_is_a_model_load_error(tmp_path, tone_wav):
    transcriber = speech.Transcriber(speech.SpeechConfig(model_dir=str(tmp_path)))
    with pytest.raises(ModelLoadError, match="model.bin, config.json"):
        transcriber.transcribe(tone_wav)


def test_a_corrupt_model_file_is_a_model_load_error(tmp_path, tone_wav):
    (tmp_path / "model.bin").write_bytes(b"\x00garbage" * 100)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelLoadError, match="cannot be loaded"):
        speech.Transcriber(speech.SpeechConfig(model_dir=str(tmp_path))).transcribe(tone_wav)


# --- command line -------------------------------------------------------------------------------------------------


def test_the_cli_writes_transcript_json(monkeypatch, tmp_path, tone_wav, capsys):
    monkeypatch.setattr(speech.Transcriber, "_load", lambda self: FakeWhisper(HELLO))
    out = tmp_path / "t.json"
    assert cli_main(["transcribe", str(tone_wav), "--language", "en", "--out", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["language"] == "en" and data["segments"][1]["words"][0]["text"] == " Fifteen"
    assert "5 words in en" in capsys.readouterr().out


def test_the_cli_says_plainly_when_nothing_was_said(monkeypatch, tmp_path, tone_wav, capsys):
    monkeypatch.setattr(speech.Transcriber, "_load", lambda self: FakeWhisper([]))
    assert cli_main(["transcribe", str(tone_wav), "--out", str(tmp_path / "t.json")]) == 0
    assert "no speech was heard" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [(["--language", "klingon"], "unknown speech language"),
                                           ([], "no audio track")])
def test_the_cli_turns_bad_input_into_an_error_line(tmp_path, capsys, args, message):
    clip = colour_segments(tmp_path / "silent.mp4", colours=[(0, 0, 255)], durations_s=[1.0])
    assert cli_main(["transcribe", str(clip), *args]) == 2
    assert message in capsys.readouterr().err


# --- the real model on synthetic speech (slow; skipped without espeak-ng or the weight packages) -----------------

SENTENCE = "Today I will show you how to make a quick tomato pasta in fifteen minutes."


def _real_transcriber() -> speech.Transcriber:
    from crossmodal_match.errors import WhisperWeightsError

    if espeak_exe() is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    transcriber = speech.Transcriber()
    try:
        transcriber._load()
    except WhisperWeightsError as exc:
        pytest.skip(f"Whisper base weights not installed: {exc}")
    return transcriber


@pytest.mark.slow
def test_the_real_model_hears_synthetic_english_with_word_times(tmp_path):
    transcriber = _real_transcriber()
    voice = synthesize(SENTENCE, tmp_path / "voice.wav")
    clip = tmp_path / "clip.mp4"
    from tests.media import run_ffmpeg

    # footage with the voice starting after 1 s of silence: word times stay on the file's clock
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=red:s=64x64:d=7", "-i", str(voice), "-filter_complex",
                "[1:a]adelay=1000[a]", "-map", "0:v", "-map", "[a]", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-shortest", str(clip)])
    transcript = transcriber.transcribe(clip)
    assert transcript.language == "en" and word_error_rate(SENTENCE, transcript.text) <= 0.1
    starts = [w.start_s for w in transcript.words]
    # Whisper places the first word up to ~0.3 s early; VAD dropping the silence would put it near 0
    assert starts == sorted(starts) and 0.5 < starts[0] < 1.5


@pytest.mark.slow
def test_the_real_model_writes_nothing_for_silence_or_a_tone(tmp_path, tone_wav):
    transcriber = _real_transcriber()
    silence = write_wav(tmp_path / "silence.wav", np.zeros(16_000 * 3))
    for path in (silence, tone_wav):
        transcript = transcriber.transcribe(path)
        assert not transcript.has_speech and transcript.notes == (NO_SPEECH,), transcript.text


def test_the_word_error_rate_counts_edits_after_normalising():
    assert word_error_rate("Boil it for fifteen minutes.", "boil it for 15 minutes") == 0.0
    assert word_error_rate("twenty-five cloves", "25 cloves") == 0.0
    assert word_error_rate("a b c d", "a x c") == 0.5  # one substitution, one deletion
    with pytest.raises(ValueError):
        word_error_rate("...", "a")


def test_long_audio_is_cut_into_windows_at_its_quietest_moments():
    rng = np.random.default_rng(0)
    samples = (0.3 * rng.standard_normal(16_000 * 300)).astype(np.float32)
    samples[16_000 * 115:16_000 * 115 + 3200] = 0.0  # a pause 5 s before the first window's end
    bounds = speech.window_bounds(samples, window_s=120.0)
    assert bounds[0] == (0, 16_000 * 115 + 1600) and bounds[-1][1] == samples.size
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    assert all(end - start <= 120 * 16_000 for start, end in bounds)
    assert speech.window_bounds(samples[:16_000 * 60], window_s=120.0) == [(0, 16_000 * 60)]
    assert speech.window_bounds(samples[:16_000 * 30]) == [(0, 16_000 * 30)]  # the default window: 30 s


def test_streamed_windows_are_the_windows_of_the_whole_signal():
    rng = np.random.default_rng(1)
    samples = (0.3 * rng.standard_normal(16_000 * 300)).astype(np.float32)
    samples[16_000 * 233:16_000 * 233 + 3200] = 0.0
    cuts = np.cumsum(rng.integers(1, 16_000 * 45, size=40))
    chunks = iter(np.split(samples, cuts[cuts < samples.size]))
    streamed = [(start, w.size) for start, w in speech_audio.stream_windows(chunks, window_s=120.0)]
    assert streamed == [(a, b - a) for a, b in speech.window_bounds(samples, window_s=120.0)]


def test_a_long_file_is_decoded_in_chunks_and_transcribed_window_by_window(monkeypatch, tmp_path):
    """The file is never held whole: the decoder hands on chunks, the model sees one window at a time."""
    import soundfile as sf

    path = tmp_path / "long.wav"
    sf.write(path, np.zeros(16_000 * 150, np.float32), 16_000)
    fake = FakeWhisper(HELLO, language="en")
    transcriber = fake_transcriber(monkeypatch, fake)
    sizes = []
    real = speech_audio.iter_audio

    def spy(p, **kwargs):
        for chunk in real(p, chunk_s=20.0):
            sizes.append(chunk.size)
            yield chunk

    monkeypatch.setattr(speech, "iter_audio", spy)
    progress = []
    transcript = transcriber.transcribe(path, on_progress=progress.append)
    assert len(fake.calls) >= 150 // 30 and max(sizes) <= 16_000 * 21 and sum(sizes) == 16_000 * 150
    assert transcript.duration_s == pytest.approx(150.0) and progress[-1] == 1.0 and progress == sorted(progress)


def test_windows_keep_the_source_clock_and_the_first_language(monkeypatch):
    fake = FakeWhisper(HELLO, language="en")
    transcriber = fake_transcriber(monkeypatch, fake)
    transcriber.config = speech.SpeechConfig(window_s=60.0)
    samples = np.zeros(16_000 * 100, np.float32)
    transcript = transcriber.transcribe_samples(samples)
    assert len(fake.calls) == 2 and transcript.language == "en" and transcript.notes == ()
    second = transcript.segments[2]
    assert second.start_s > 50.0 and second.words[0].start_s == pytest.approx(second.start_s)
    assert [s.text for s in transcript.segments] == ["Hello everyone.", "Fifteen minutes today."] * 2


@pytest.mark.parametrize("sure, switched", [(0.95, True), (0.6, False)])
def test_a_window_that_surely_speaks_another_language_is_decoded_in_it(monkeypatch, sure, switched):
    fake = FakeWhisper(HELLO, language="en", later=[("zh", sure), ("en", 0.99)])
    transcriber = fake_transcriber(monkeypatch, fake)
    transcriber.config = speech.SpeechConfig(window_s=40.0)  # silence: cut 10 s before each window's end
    transcript = transcriber.transcribe_samples(np.zeros(16_000 * 80, np.float32))
    languages = [(c["language"], c["initial_prompt"]) for c in fake.calls]
    if switched:
        # English windows are detected while decoding; the Chinese one is decoded again with its prompt, and the
        # window after Chinese is checked first (one detect_language), so it is decoded once
        assert languages == [(None, None), (None, None), ("zh", speech.PROMPTS["zh"]), ("en", None)]
        assert fake.detections == 1
        assert transcript.language == "en" and "changes language (en 5 s, zh 2 s)" in transcript.notes[0]
    else:  # not sure enough: decoded again in the language heard so far
        assert languages == [(None, None), (None, None), ("en", None), (None, None)] and transcript.notes == ()


def test_the_character_error_rate_reads_numbers_as_characters():
    from crossmodal_match.evaluate.speech_wer import character_error_rate

    assert character_error_rate("加两勺盐，煮十五分钟。", "加2勺盐 煮15分钟") == 0.0
    assert character_error_rate("二十八块钱", "28块钱") == 0.0
    assert character_error_rate("番茄意面", "番茄一面") == 0.25


def test_chinese_is_decoded_with_a_simplified_prompt(monkeypatch, tone_wav):
    fake = FakeWhisper(HELLO, language="zh")
    transcript = fake_transcriber(monkeypatch, fake).transcribe(tone_wav)
    assert [(c["language"], c["initial_prompt"]) for c in fake.calls] == [(None, None), ("zh", speech.PROMPTS["zh"])]
    assert transcript.language == "zh" and transcript.language_probability == 0.97
    english = FakeWhisper(HELLO, language="en")
    fake_transcriber(monkeypatch, english).transcribe(tone_wav)
    assert len(english.calls) == 1 and english.calls[0]["initial_prompt"] is None


def test_words_invented_in_the_silence_after_speech_are_dropped(monkeypatch, tone_wav):
    tail = raw_segment(3.4, 3.54, [("试试", 3.4, 3.54)], no_speech_prob=0.5, avg_logprob=-1.3)
    unsure = raw_segment(3.6, 3.9, [(" hmm", 3.6, 3.9)], no_speech_prob=0.1, avg_logprob=-1.3)  # unsure, but speech
    transcript = fake_transcriber(monkeypatch, FakeWhisper([*HELLO, tail, unsure])).transcribe(tone_wav)
    assert [s.text for s in transcript.segments] == ["Hello everyone.", "Fifteen minutes today.", "hmm"]
