"""Music analysis on tiny synthetic tracks with known beats: tempo, beats, bars, best moment, cache, bad input.

Tempo rule: the estimate must be within 2% of the true tempo itself (no octave tolerance); the metrical-level
check in ``audio._track_beats`` is what keeps slow grooves with 8th-note hi-hats and fast kick/snare grooves at
their notated tempo.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from crossmodal_match import audio
from crossmodal_match.audio import MusicAnalysis, analyze_music, best_moment
from crossmodal_match.errors import ConfigError, InvalidMediaError, MatchError
from crossmodal_match.evaluate.beats import click_track, drum_loop

SR = audio.SR
ROOT = Path(__file__).resolve().parents[1]
sf = pytest.importorskip("soundfile")


def _write(path: Path, y: np.ndarray, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, y, SR, **kwargs)
    return path


def _ffmpeg(*args: str) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-y", "-loglevel", "error", *args],
                   check=True, capture_output=True, timeout=60)


def _assert_beats_match(est_s, true_s, *, tol_s=0.07, min_recall=0.9) -> None:
    est, true = np.asarray(est_s), np.asarray(true_s)
    assert est.size, "no beats found"
    assert all(np.abs(true - e).min() <= tol_s for e in est), "an estimated beat is off every true beat"
    inner = true[(true > 1.0) & (true < true.max() - 0.5)]  # the tracker may trim the first and last beat
    recall = np.mean([np.abs(est - t).min() <= tol_s for t in inner])
    assert recall >= min_recall, f"only {recall:.0%} of the true beats were found"


@pytest.fixture(scope="module")
def drums_120(tmp_path_factory) -> Path:
    y, _ = drum_loop(bpm=120, duration_s=8.0, sr=SR)
    return _write(tmp_path_factory.mktemp("drums") / "drums_120.wav", y)


def test_import_is_light():
    code = "import sys, crossmodal_match.audio as a; print(sorted({'librosa', 'torch', 'numba'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("bpm", [72, 120, 168])
def test_click_track_tempo_and_beats(tmp_path, bpm):
    y, beats = click_track(bpm=bpm, duration_s=10.0, sr=SR)
    a = analyze_music(_write(tmp_path / "clicks.wav", y))
    assert a.tempo_bpm == pytest.approx(bpm, rel=0.02)
    _assert_beats_match(a.beats_s, beats)
    assert a.duration_s == pytest.approx(10.0, abs=0.01)


@pytest.mark.parametrize("bpm", [64, 100, 176])
def test_drum_loop_tempo_and_beats(tmp_path, bpm):
    y, beats = drum_loop(bpm=bpm, duration_s=10.0, sr=SR, swing=1 / 3 if bpm == 100 else 0.0)
    a = analyze_music(_write(tmp_path / "drums.wav", y))
    assert a.tempo_bpm == pytest.approx(bpm, rel=0.02)
    _assert_beats_match(a.beats_s, beats)


@pytest.mark.parametrize("make", [click_track, drum_loop])
def test_downbeat_phase_of_an_accented_loop(tmp_path, make):
    y, beats = make(bpm=110, duration_s=12.0, sr=SR)
    cut_s = beats[1] - 0.1  # start the file on beat 2, so the first beat heard is not a downbeat
    a = analyze_music(_write(tmp_path / "accented.wav", y[int(cut_s * SR):]))
    true_down = beats[4::4] - cut_s
    assert a.beats_per_bar == 4 and set(a.downbeats_s) <= set(a.beats_s)
    _assert_beats_match(a.downbeats_s, true_down, min_recall=0.99)


def test_best_moment_skips_a_quiet_intro(tmp_path):
    y, beats = drum_loop(bpm=120, duration_s=16.0, sr=SR)
    y[: 8 * SR] *= 0.05  # bars 1-4 are a near-silent intro, bars 5-8 the loud part
    a = analyze_music(_write(tmp_path / "intro.wav", y))
    start, end = best_moment(a, duration_s=4.0)
    assert start >= 8.0 - 0.1 and end == pytest.approx(start + 4.0) and end <= a.duration_s
    assert start in a.downbeats_s


def test_best_moment_edges(drums_120):
    a = analyze_music(drums_120)
    assert best_moment(a, duration_s=60.0) == (0.0, a.duration_s)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ConfigError, match="duration_s"):
            best_moment(a, duration_s=bad)


def test_features_are_plain_and_in_range(drums_120):
    a = analyze_music(drums_120)
    assert 0 <= a.brightness <= 1 and 0 <= a.arousal <= 1 and 0 <= a.valence <= 1
    assert a.onset_density_per_s == pytest.approx(4.0, rel=0.35)  # 8th-note hats at 120 bpm: 4 onsets/s
    assert len(a.energy) == pytest.approx(a.duration_s / a.energy_hop_s, abs=2)
    assert all(isinstance(v, float) for v in a.energy) and isinstance(a.beats_s, tuple)


_NOTE_HZ = {"C": 261.63, "D": 293.66, "E": 329.63, "F": 349.23, "G": 392.0, "G#": 415.3, "A": 440.0, "B": 493.88}


def test_key_mode_and_valence_of_cadences(tmp_path):
    t = np.arange(SR) / SR
    found = {}
    for chords, key, mode in [(("CEG", "FAC", "GBD", "CEG"), "C", "major"),  # I-IV-V-I
                              (("ACE", "DFA", ("E", "G#", "B"), "ACE"), "A", "minor")]:  # i-iv-V-i
        y = np.concatenate([sum(np.sin(2 * np.pi * _NOTE_HZ[n] * t) for n in chord) / 4 for chord in chords])
        found[mode] = analyze_music(_write(tmp_path / f"{mode}.wav", y.astype(np.float32)))
        assert (found[mode].key, found[mode].mode) == (key, mode)
    assert found["major"].valence > found["minor"].valence  # same tempo and timbre: the mode decides


def test_round_trip_and_version(drums_120):
    a = analyze_music(drums_120)
    data = json.loads(json.dumps(a.to_dict()))
    assert data["version"] == audio.ANALYSIS_VERSION and MusicAnalysis.from_dict(data) == a
    with pytest.raises(ConfigError, match="version"):
        MusicAnalysis.from_dict({**data, "version": 0})


def test_second_call_comes_from_the_cache(tmp_path, drums_120, monkeypatch):
    first = analyze_music(drums_120, cache_dir=tmp_path / "cache")
    files = list((tmp_path / "cache").iterdir())
    assert [f.name for f in files] == [f"{audio._file_sha256(drums_120)}.v{audio.ANALYSIS_VERSION}.json"]

    def must_not_run(*args, **kwargs):
        raise AssertionError("analysed again instead of reading the cache")

    monkeypatch.setattr(audio, "_analyze_signal", must_not_run)
    assert analyze_music(drums_120, cache_dir=tmp_path / "cache") == first
    files[0].write_text("{not json", encoding="utf-8")  # a damaged entry is recomputed, not fatal
    monkeypatch.undo()
    assert analyze_music(drums_120, cache_dir=tmp_path / "cache") == first


def test_silence_has_no_tempo_and_no_beats(tmp_path):
    a = analyze_music(_write(tmp_path / "silence.wav", np.zeros(3 * SR, dtype=np.float32)))
    assert a.tempo_bpm is None and a.beats_s == () and a.downbeats_s == () and a.key is None
    assert a.duration_s == pytest.approx(3.0) and best_moment(a, duration_s=1.0) == (0.0, 1.0)


def test_one_second_clip_is_analysed(tmp_path):
    y, _ = click_track(bpm=120, duration_s=1.0, sr=SR, start_s=0.1)
    a = analyze_music(_write(tmp_path / "short.wav", y))
    assert a.duration_s == pytest.approx(1.0) and len(a.beats_s) <= 3


def test_unicode_and_spaces_in_the_path(tmp_path, drums_120):
    target = tmp_path / "音乐 folder" / "my träck – 1.flac"
    _write(target, sf.read(drums_120)[0])
    assert analyze_music(target).tempo_bpm == pytest.approx(120, rel=0.02)


@pytest.mark.parametrize("ext", [".flac", ".ogg", ".mp3", ".m4a", ".mp4"])
def test_formats_decode_to_the_same_tempo(tmp_path, drums_120, ext):
    target = tmp_path / f"track{ext}"
    if ext in (".m4a", ".mp4"):
        _ffmpeg("-i", str(drums_120), "-c:a", "aac", str(target))
    else:
        _write(target, sf.read(drums_120)[0])
    a = analyze_music(target)
    assert a.tempo_bpm == pytest.approx(120, rel=0.02) and a.duration_s == pytest.approx(8.0, abs=0.1)


def _bad_files(folder: Path, wav: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, a word the error's reason must contain)."""
    (folder / "empty.wav").write_bytes(b"")
    (folder / "notes.mp3").write_text("not music\n" * 50, encoding="utf-8")
    (folder / "notes.wav").write_text("not music\n" * 50, encoding="utf-8")
    data = wav.read_bytes()
    (folder / "cut.wav").write_bytes(data[: len(data) // 3])
    _write(folder / "full.flac", sf.read(wav)[0])
    flac = (folder / "full.flac").read_bytes()
    (folder / "cut.flac").write_bytes(flac[: len(flac) // 2])
    (folder / "notes.txt").write_text("hello", encoding="utf-8")
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=10:duration=1", "-c:v", "mpeg4", str(folder / "mute.mp4"))
    _ffmpeg("-i", str(wav), "-c:a", "aac", "-movflags", "+faststart", str(folder / "full.m4a"))
    m4a = (folder / "full.m4a").read_bytes()
    (folder / "cut.m4a").write_bytes(m4a[: len(m4a) // 2])
    return {"missing": (folder / "nope.wav", "does not exist"), "empty": (folder / "empty.wav", "empty"),
            "text as mp3": (folder / "notes.mp3", "not a readable"), "text as wav": (folder / "notes.wav",
                                                                                    "not a readable"),
            "truncated wav": (folder / "cut.wav", "truncated"), "truncated flac": (folder / "cut.flac", "flac"),
            "truncated m4a": (folder / "cut.m4a", "truncated"), "unsupported": (folder / "notes.txt", "extension"),
            "video without audio": (folder / "mute.mp4", "no audio track")}


def test_bad_inputs_raise_invalid_media_error(tmp_path, drums_120):
    for name, (path, reason) in _bad_files(tmp_path, drums_120).items():
        with pytest.raises(InvalidMediaError) as info:
            analyze_music(path)
        assert info.value.path == str(path), name
        assert reason in info.value.reason.lower(), f"{name}: {info.value.reason}"


def test_ffmpeg_timeout_leaves_no_child(tmp_path, drums_120):
    psutil = pytest.importorskip("psutil")
    target = tmp_path / "slow.m4a"
    _ffmpeg("-i", str(drums_120), "-c:a", "aac", str(target))
    with pytest.raises(InvalidMediaError, match="longer than"):
        analyze_music(target, decode_timeout_s=1e-4)
    assert not [p for p in psutil.Process().children(recursive=True) if "ffmpeg" in p.name()]
    with pytest.raises(ConfigError):
        analyze_music(target, decode_timeout_s=0)


def test_numba_cache_dir_default(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    code = "import os; from crossmodal_match import audio; audio._librosa(); print(os.environ['NUMBA_CACHE_DIR'])"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == str(tmp_path / "creator-studio" / "numba")
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "mine")  # a user's own setting wins
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == str(tmp_path / "mine")


def test_warm_up_returns_seconds():
    assert 0 < audio.warm_up() < 120


def test_missing_librosa_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "librosa", None)  # makes `import librosa` fail as if it were not installed
    with pytest.raises(MatchError, match=r"creator-studio\[music\]"):
        audio._librosa()
