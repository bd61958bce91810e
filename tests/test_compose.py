"""The composer: deterministic, exact length and grid, mastered loudness, typed errors, nothing half-written."""

import numpy as np
import pytest

from crossmodal_match.compose import compose_track, fit_bars, get_style, list_styles, plan_sections
from crossmodal_match.compose.master import integrated_loudness, true_peak_db
from crossmodal_match.compose.style import StyleSpec
from crossmodal_match.errors import ComposeError, MatchError

SR = 22050  # half the default rate: the same code, four times less work


@pytest.fixture(scope="module")
def lofi():
    return compose_track(length_s=7.4, bpm=96, style="lo-fi", valence=0.7, arousal=0.4, seed=3, sr=SR)


def test_same_seed_same_samples_other_seed_or_style_other_music(lofi):
    again = compose_track(length_s=7.4, bpm=96, style="lo-fi", valence=0.7, arousal=0.4, seed=3, sr=SR)
    assert np.array_equal(lofi.samples, again.samples) and lofi.key == again.key
    keys = {compose_track(length_s=4.0, bpm=96, style="lo-fi", seed=s, sr=16000).key for s in range(3)}
    assert len(keys) == 3, "consecutive seeds are in different keys"
    other_seed = compose_track(length_s=7.4, bpm=96, style="lo-fi", valence=0.7, arousal=0.4, seed=4, sr=SR)
    other_style = compose_track(length_s=7.4, bpm=96, style="upbeat-electronic", valence=0.7, arousal=0.4, seed=3,
                                sr=SR)
    for other in (other_seed, other_style):
        corr = np.corrcoef(lofi.samples[:, 0], other.samples[:, 0])[0, 1]
        assert corr < 0.5, "a different seed or style must sound different, not be the same track"


def test_length_is_exact_to_the_sample_and_the_grid_is_exact(lofi):
    assert lofi.samples.shape == (round(7.4 * SR), 2) and lofi.samples.dtype == np.float32
    beat = 60.0 / lofi.bpm
    assert np.allclose(np.diff(lofi.beats_s), beat, atol=1e-5) and lofi.downbeats_s == lofi.beats_s[::4]
    # 7.4 s at 96 bpm is 2.96 bars: three bars fit with the tempo nudged by under 2 %
    assert len(lofi.downbeats_s) - 1 == 3 and abs(lofi.bpm - 96) / 96 <= 0.02
    assert lofi.beats_s[-1] == pytest.approx(7.4, abs=1e-5), "the last downbeat is the track's end"
    assert np.abs(lofi.samples[-1]).max() == 0.0, "the ending fades to silence on the last sample"


def test_tempo_is_kept_when_whole_bars_do_not_fit_and_the_rest_rings_out():
    assert fit_bars(length_s=30.0, bpm=84) == (10, 84.0)  # 10.5 bars: 10 bars, 1.43 s of ring-out
    assert fit_bars(length_s=60.0, bpm=120) == (30, 120.0)
    assert fit_bars(length_s=2.0, bpm=50) == (1, 120.0)  # shorter than a bar: one bar at the tempo that fills it


def test_mastered_to_minus_14_lufs_with_true_peak_under_minus_1(lofi):
    assert integrated_loudness(lofi.samples, sr=SR) == pytest.approx(-14.0, abs=1.0)
    assert true_peak_db(lofi.samples) <= -1.0 and np.abs(lofi.samples).max() < 1.0
    assert lofi.loudness_lufs == pytest.approx(-14.0, abs=0.5)


def _full_oversampled_peaks(x):
    """The reference: every channel oversampled 4x whole, the largest |value| per input sample."""
    from scipy import signal

    ups = [np.abs(signal.resample_poly(c, 4, 1))[: 4 * len(x)].reshape(len(x), 4).max(axis=1)
           for c in np.asarray(x, dtype=np.float32).T]
    return np.max(ups, axis=0)


def test_true_peak_skips_only_what_cannot_matter():
    # Mastering oversamples only where a value could pass the floor; where it does, the values must be the whole
    # signal's, to the bit. A sine at fs/4 and 45 degrees has every sample 3 dB under its true peak.
    from crossmodal_match.compose.master import _oversampled_peaks

    rng = np.random.default_rng(0)
    n = SR * 3
    x = 0.05 * rng.standard_normal((n, 2))
    x[:: SR // 3] *= 15  # clicks
    x[SR: SR + 2000, 0] += 0.6 * np.sin(np.pi / 2 * np.arange(2000) + np.pi / 4)
    full = _full_oversampled_peaks(x)
    for floor in (0.3, 0.6, 0.85):
        fast = _oversampled_peaks(x, floor=floor)
        above = full > floor
        assert above.any() and np.array_equal(fast[above], full[above])
        assert (fast[~above] <= floor).all()
    assert true_peak_db(x) == pytest.approx(20 * np.log10(float(full.max())), abs=1e-9)
    sine = np.zeros((n, 2))
    sine[:, 1] = 0.6 * np.sin(np.pi / 2 * np.arange(n) + np.pi / 4)  # every sample 3 dB under the sine's peak
    assert true_peak_db(sine) == pytest.approx(20 * np.log10(0.6), abs=0.25)
    assert true_peak_db(sine) > 20 * np.log10(np.abs(sine).max()) + 2.5


def test_keys_are_spelled_as_their_signatures():
    from crossmodal_match.compose.harmony import Key, tonic_of

    assert [Key(t, "major").name for t in (10, 3, 8, 1, 6)] == ["Bb major", "Eb major", "Ab major", "Db major",
                                                               "F# major"]
    assert [Key(t, "minor").name for t in (1, 3, 8, 10)] == ["C# minor", "Eb minor", "G# minor", "Bb minor"]
    assert all(tonic_of(Key(t, m).name) == t for t in range(12) for m in ("major", "minor"))
    assert tonic_of("A#") == tonic_of("Bb") == 10


def test_limiter_release_is_the_running_recovery():
    from crossmodal_match.compose.master import _recover

    gain = np.ones(400)
    gain[[10, 11, 50, 200, 203]] = [0.5, 0.7, 0.9, 0.2, 0.95]
    release = 0.9
    loop = gain.copy()
    for i in range(1, len(loop)):
        loop[i] = min(gain[i], 1.0 - (1.0 - loop[i - 1]) * release)
    np.testing.assert_allclose(_recover(gain, release), loop, rtol=0, atol=1e-12)


def test_loudness_meter_agrees_with_pyloudnorm():
    pyln = pytest.importorskip("pyloudnorm")
    rng = np.random.default_rng(0)
    for sr in (22050, 44100):
        t = np.arange(3 * sr) / sr
        x = np.stack([0.3 * np.sin(2 * np.pi * 440 * t) * (t > 1), 0.1 * rng.standard_normal(len(t))], axis=1)
        assert integrated_loudness(x, sr=sr) == pytest.approx(pyln.Meter(sr).integrated_loudness(x), abs=0.1)


@pytest.mark.parametrize("style", ["acoustic-pop", "upbeat-electronic", "cinematic", "chill"])
def test_every_style_masters_and_differs(style, lofi):
    track = compose_track(length_s=5.0, bpm=110, style=style, valence=0.3, arousal=0.7, seed=1, sr=16000)
    assert track.mode == "minor" and track.style == style
    assert integrated_loudness(track.samples, sr=16000) == pytest.approx(-14.0, abs=1.0)
    assert true_peak_db(track.samples) <= -1.0


def test_sections_follow_the_template_and_end_on_the_ending_bar():
    track = compose_track(length_s=8 * 2.5, bpm=96, style="cinematic", seed=0, sr=16000,
                          sections=[("intro", 1), ("body", 6), ("outro", 1)])
    assert [s[0] for s in track.sections] == ["intro", "verse", "chorus", "ending"]
    assert track.sections[0] == ("intro", 0, 1) and track.sections[-1] == ("ending", 7, 1)
    assert plan_sections(20)[-1] == ("ending", 1) and plan_sections(20)[0] == ("intro", 2)


def test_melody_sings_chord_tones_on_the_beats():
    from crossmodal_match.compose import composer
    from crossmodal_match.compose.harmony import choose_key

    spec = get_style("acoustic-pop")
    rng = np.random.default_rng(5)
    key = choose_key(valence=0.8, arousal=0.6, variant=5)
    bars = composer._bars(spec, key, plan_sections(12), bar_s=2.0, rng=rng)
    events = composer._events(spec, key, bars, step_s=0.125, seed=5, rng=rng)
    melody = events.notes["melody"]
    on_beat = [(t, m) for t, _, m, _ in melody if abs(t / 0.5 - round(t / 0.5)) < 1e-6]
    in_chord = [m % 12 in bars[int(t // 2.0)].chord.tones for t, m in on_beat]
    assert len(on_beat) >= 8 and np.mean(in_chord) >= 0.9
    assert all(m % 12 in key.scale for _, _, m, _ in melody), "no note outside the key"


@pytest.mark.parametrize("kwargs, field, accepted", [
    ({"length_s": 0}, "length_s", "[2, 600]"), ({"length_s": 3600}, "length_s", "[2, 600]"),
    ({"bpm": 40}, "bpm", "[50, 200]"), ({"bpm": 250}, "bpm", "[50, 200]"),
    ({"style": "polka"}, "style", "lo-fi"), ({"valence": 1.5}, "valence", "[0, 1]"),
    ({"arousal": -0.1}, "arousal", "[0, 1]"), ({"seed": -1}, "seed", "2**32"), ({"sr": 1234}, "sr", "44100"),
])
def test_bad_input_is_a_typed_error_naming_the_accepted_range(kwargs, field, accepted):
    args = {"length_s": 4.0, "bpm": 100, "style": "lo-fi", "sr": SR, **kwargs}
    with pytest.raises(ComposeError) as info:
        compose_track(**args)
    assert info.value.field == field and accepted in str(info.value) and isinstance(info.value, MatchError)
    if field == "style":
        assert all(name in str(info.value) for name in list_styles())


def test_a_failed_write_leaves_nothing_behind(lofi, tmp_path, monkeypatch):
    import soundfile

    def broken(path, *args, **kwargs):
        with open(path, "wb") as f:
            f.write(b"RIFF half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(soundfile, "write", broken)
    with pytest.raises(ComposeError, match="disk full"):
        lofi.write_wav(tmp_path / "song.wav")
    assert list(tmp_path.iterdir()) == []


def test_cli_writes_a_track_and_its_grid_and_refuses_bad_input(tmp_path, capsys):
    import json

    from crossmodal_match.__main__ import main

    out = tmp_path / "t.wav"
    assert main(["compose", "--length-s", "4", "--bpm", "120", "--style", "chill", "--seed", "2", "--sr", "16000",
                 "--out", str(out)]) == 0
    grid = json.loads((tmp_path / "t.wav.json").read_text())
    assert out.stat().st_size > 4 * 16000 * 4 and grid["beats_s"][-1] == pytest.approx(4.0)
    assert main(["compose", "--length-s", "4", "--bpm", "250", "--out", str(tmp_path / "bad.wav")]) == 2
    assert "bpm=250.0: beats per minute in [50, 200]" in capsys.readouterr().err
    assert not (tmp_path / "bad.wav").exists()


def test_style_specs_are_validated():
    import dataclasses

    spec = get_style("lo-fi")
    with pytest.raises(ComposeError, match="swing"):
        dataclasses.replace(spec, swing=2.0)
    with pytest.raises(ComposeError, match="progressions.major"):
        dataclasses.replace(spec, progressions={"major": (("I", "IX", "V", "I"),), "minor": spec.progressions["minor"]})
    assert isinstance(get_style(spec), StyleSpec) and len(list_styles()) >= 5
