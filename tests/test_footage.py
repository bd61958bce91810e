"""Footage analysis on tiny synthetic media with known cuts, colours, motion and defects (tests/media.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from crossmodal_match import footage as fm
from crossmodal_match.descriptors import count_faces
from crossmodal_match.errors import ConfigError, InvalidMediaError, MatchError
from crossmodal_match.footage import Footage, analyze_footage, keyframes, probe, split_shots
from tests import media

pytest.importorskip("av")
pytest.importorskip("cv2")

RED, GREEN, BLUE, WHITE = (220, 30, 30), (30, 200, 60), (30, 60, 220), (235, 235, 235)
ANALYSIS_FPS = 10.0
FRAME_S = 1.0 / ANALYSIS_FPS


def _assert_cuts(spans, truth_s, *, tol_s=FRAME_S):
    """Detected cuts lie at or after the true ones, within one analysis frame."""
    cuts = [start for start, _ in spans[1:]]
    assert len(cuts) == len(truth_s), (cuts, truth_s)
    for found, true in zip(cuts, truth_s):
        assert true - 1e-6 <= found <= true + tol_s + 1e-6, (cuts, truth_s)


@pytest.fixture(scope="module")
def segments(tmp_path_factory):
    """Red 1.0 s | green 0.7 s | blue 1.3 s at 10 fps: cuts at 1.0 and 1.7 s."""
    path = tmp_path_factory.mktemp("seg") / "segments.mp4"
    return media.colour_segments(path, colours=[RED, GREEN, BLUE], durations_s=[1.0, 0.7, 1.3])


# --- shots and cuts -------------------------------------------------------------------------------------------

def test_split_shots_finds_known_cuts(segments):
    spans = split_shots(segments, analysis_fps=ANALYSIS_FPS)
    _assert_cuts(spans, [1.0, 1.7])
    assert spans[0][0] == 0.0 and spans[-1][1] == pytest.approx(3.0, abs=0.01)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))


@pytest.mark.parametrize("suffix,codec", [(".mov", "h264"), (".mkv", "h264"), (".webm", "vp9"),
                                          (".mp4", "hevc")])
def test_containers_and_codecs(tmp_path, suffix, codec):
    path = media.colour_segments(tmp_path / f"clip{suffix}", colours=[RED, BLUE], durations_s=[0.8, 0.8],
                                 codec=codec)
    info = probe(path)
    assert (info.kind, info.width, info.height, info.has_audio) == ("video", 64, 64, False)
    assert info.codec == codec
    _assert_cuts(split_shots(path), [0.8])


def test_higher_frame_rate_with_b_frames_is_sampled(tmp_path):
    # 30 fps with B-frames: the analysis pass skips non-reference frames, cuts stay within one analysis frame.
    path = media.colour_segments(tmp_path / "fast.mp4", colours=[GREEN, RED, WHITE], durations_s=[1.2, 0.9, 0.9],
                                 fps=30)
    _assert_cuts(split_shots(path, analysis_fps=ANALYSIS_FPS), [1.2, 2.1])


def test_variable_frame_rate_uses_true_timestamps(tmp_path):
    # segments at 10, 4 and 25 fps in one stream: the cuts are at 1.0 and 2.0 s only if pts are honoured
    path = media.colour_segments(tmp_path / "vfr.mp4", colours=[RED, GREEN, BLUE], durations_s=[1.0, 1.0, 1.0],
                                 fps=[10, 4, 25])
    footage = analyze_footage(path)
    _assert_cuts([(s.start_s, s.end_s) for s in footage.shots], [1.0, 2.0])
    assert footage.duration_s == pytest.approx(3.0, abs=0.05)


@pytest.mark.parametrize("name,codec,output_args", [("live.webm", "vp9", ["-live", "1"]), ("raw.h264", "h264", [])])
def test_streams_that_state_no_duration(tmp_path, name, codec, output_args):
    # browser MediaRecorder WebM and raw elementary streams carry no duration (raw ones not even timestamps)
    path = media.colour_segments(tmp_path / name, colours=[RED, BLUE], durations_s=[1.0, 1.0], codec=codec,
                                 output_args=output_args)
    assert probe(path).duration_s == pytest.approx(2.0, abs=0.05)
    footage = analyze_footage(path)
    assert footage.duration_s == pytest.approx(2.0, abs=0.05)
    _assert_cuts([(s.start_s, s.end_s) for s in footage.shots], [1.0])


def test_a_flash_shorter_than_min_shot_is_not_two_cuts(tmp_path):
    path = media.colour_segments(tmp_path / "flash.mp4", colours=[RED, WHITE, RED], durations_s=[1.0, 0.2, 1.0])
    assert len(split_shots(path, min_shot_s=0.5)) == 2  # into the flash is a cut, out of it is too soon
    assert len(split_shots(path, min_shot_s=0.0)) == 3


# --- descriptors ------------------------------------------------------------------------------------------------

def test_colour_descriptors_order_known_colours(tmp_path):
    colours = {"dark_blue": (20, 30, 90), "grey": (128, 128, 128), "orange": (250, 150, 40),
               "pale": (200, 190, 185)}
    path = media.colour_segments(tmp_path / "colours.mp4", colours=list(colours.values()),
                                 durations_s=[0.6] * 4)
    shots = analyze_footage(path).shots
    assert len(shots) == 4
    d = dict(zip(colours, (s.descriptors for s in shots)))
    assert d["dark_blue"].brightness < d["grey"].brightness < d["pale"].brightness
    assert d["orange"].warmth > d["pale"].warmth > d["grey"].warmth > d["dark_blue"].warmth
    assert d["orange"].saturation > d["dark_blue"].saturation > d["pale"].saturation > d["grey"].saturation
    assert d["orange"].colourfulness > d["pale"].colourfulness > d["grey"].colourfulness
    assert d["grey"].colourfulness < 3.0 and d["grey"].saturation < 0.05
    for desc in d.values():
        assert desc.motion_energy < 0.01 and desc.contrast < 0.03 and desc.face_count == 0
        assert 0 <= desc.brightness <= 1 and -1 <= desc.warmth <= 1 and desc.length_s == pytest.approx(0.6, abs=0.11)


def test_motion_energy_higher_for_moving_pattern(tmp_path):
    moving = media.frames_clip(tmp_path / "moving.mp4", media.square_frames(n_frames=20, step_px=4))
    static = media.frames_clip(tmp_path / "static.mp4", media.square_frames(n_frames=20, step_px=0))
    motion_moving = analyze_footage(moving).shots[0].descriptors.motion_energy
    motion_static = analyze_footage(static).shots[0].descriptors.motion_energy
    assert motion_static < 0.005 < motion_moving <= 1.0
    assert len(analyze_footage(moving).shots) == 1  # steady motion is not a cut


def test_contrast_of_checkerboard_exceeds_flat_photo(tmp_path):
    board = np.kron(np.indices((4, 4)).sum(axis=0) % 2, np.ones((16, 16)))[..., None].repeat(3, axis=2)
    checker = media.photo(tmp_path / "checker.png", pixels=(board * 255).astype(np.uint8))
    flat = media.photo(tmp_path / "flat.png", colour=(128, 128, 128))
    assert analyze_footage(checker).shots[0].descriptors.contrast > 0.4
    assert analyze_footage(flat).shots[0].descriptors.contrast < 0.01


def test_face_count_is_zero_on_blank_frames(segments):
    # A real face cannot be synthesised here (no face images ship in a registry package), so the detector is
    # only checked to load and to find nothing on blank and flat pictures.
    assert count_faces(np.zeros((240, 320, 3), dtype=np.uint8)) == 0
    assert count_faces(np.full((90, 160, 3), 200, dtype=np.uint8)) == 0
    assert all(s.descriptors.face_count == 0 for s in analyze_footage(segments).shots)


# --- keyframes ------------------------------------------------------------------------------------------------

def test_keyframes_grid_size_and_colours(segments):
    frames = list(keyframes(segments, every_s=0.5, max_side=32))
    # the first frame at or after each tick; non-reference B-frames are skipped, so it may be a few frames late
    times = [t for t, _ in frames]
    assert len(times) == 6
    for tick, time_s in zip([0.0, 0.5, 1.0, 1.5, 2.0, 2.5], times):
        assert tick - 1e-6 <= time_s < tick + 0.35
    for _, frame in frames:
        assert frame.shape == (32, 32, 3) and frame.dtype == np.uint8
    assert frames[0][1].mean(axis=(0, 1))[0] > 180  # red
    assert frames[-1][1].mean(axis=(0, 1))[2] > 180  # blue


def test_shot_keyframes_are_retrievable_and_every_shot_has_one(segments):
    footage = analyze_footage(segments, keyframes_per_s=2.0)
    assert [s.keyframe_times_s[0] for s in footage.shots] == [s.start_s for s in footage.shots]
    assert footage.shots[0].keyframe_times_s == pytest.approx((0.0, 0.5))
    times = [t for s in footage.shots for t in s.keyframe_times_s]
    got = [t for t, _ in keyframes(segments, times_s=times)]
    assert got == pytest.approx(times)


def test_keyframes_stream_lazily_and_close_early(segments):
    it = keyframes(segments, every_s=0.1)
    first_time, first = next(it)
    assert first_time == 0.0 and first.shape[2] == 3
    it.close()  # releases the container; no error


def test_rotation_metadata_is_applied_like_ffmpeg(tmp_path):
    plain = media.frames_clip(tmp_path / "plain.mp4", [media.split_frame(size=(64, 32), left=RED, right=BLUE)] * 5)
    rotated = media.with_display_rotation(plain, tmp_path / "rotated.mp4", degrees=90)
    info = probe(rotated)
    assert (info.width, info.height, info.rotation) == (32, 64, 90)
    footage = analyze_footage(rotated)
    assert (footage.width, footage.height, footage.rotation) == (32, 64, 90)
    _, ours = next(keyframes(rotated, max_side=64))
    reference = media.first_frame_by_ffmpeg(rotated)
    assert ours.shape == reference.shape == (64, 32, 3)
    assert np.abs(ours.astype(int) - reference.astype(int)).mean() < 12


# --- photos ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp"])
def test_photo_is_footage_with_one_still_shot(tmp_path, suffix):
    path = media.photo(tmp_path / f"photo{suffix}", colour=(250, 150, 40), size=(80, 60))
    footage = analyze_footage(path, still_duration_s=2.5)
    assert (footage.kind, footage.duration_s, footage.fps, footage.has_audio) == ("photo", 2.5, 0.0, False)
    assert (footage.width, footage.height) == (80, 60)
    (shot,) = footage.shots
    assert (shot.start_s, shot.end_s, shot.keyframe_times_s) == (0.0, 2.5, (0.0,))
    assert shot.descriptors.motion_energy == 0.0 and shot.descriptors.warmth > 0.5
    assert probe(path).kind == "photo" and split_shots(path) == [(0.0, 0.0)]
    (time_s, frame), = list(keyframes(path, max_side=40))
    assert time_s == 0.0 and frame.shape == (30, 40, 3)


def test_photo_exif_orientation_is_applied(tmp_path):
    path = media.photo(tmp_path / "portrait.jpg", size=(64, 32), exif_orientation=6)
    footage = analyze_footage(path)
    assert (footage.width, footage.height, footage.rotation) == (32, 64, 270)
    (_, frame), = list(keyframes(path))
    assert frame.shape == (64, 32, 3)


def test_heic_photo(tmp_path):
    pytest.importorskip("pillow_heif")
    path = media.photo(tmp_path / "photo.heic", size=(64, 48))
    assert analyze_footage(path).kind == "photo"


def test_heic_without_pillow_heif_names_the_package(tmp_path, monkeypatch):
    path = tmp_path / "photo.heic"
    path.write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(32))
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # makes `import pillow_heif` fail
    with pytest.raises(InvalidMediaError, match="pillow-heif"):
        analyze_footage(path)


# --- results as data ------------------------------------------------------------------------------------------

def test_footage_json_round_trip_with_version(segments):
    footage = analyze_footage(segments)
    data = json.loads(json.dumps(footage.to_dict()))
    assert data["version"] == fm.SCHEMA_VERSION
    assert Footage.from_dict(data) == footage
    with pytest.raises(MatchError, match="version"):
        Footage.from_dict({**data, "version": 999})
    with pytest.raises(MatchError, match="malformed"):
        Footage.from_dict({k: v for k, v in data.items() if k != "width"})


def test_importing_the_types_is_light():
    code = ("import sys; from crossmodal_match.footage import Footage, Shot, ShotDescriptors, ProbeInfo; "
            "print(sorted({'av', 'cv2', 'numpy', 'PIL', 'torch'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1],
                         capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_settings_are_validated(segments):
    with pytest.raises(ConfigError, match="keyframes_per_s"):
        analyze_footage(segments, keyframes_per_s=0)
    with pytest.raises(ConfigError, match="every_s"):
        keyframes(segments, every_s=-1.0)  # checked at the call, before any iteration
    with pytest.raises(ConfigError, match="cut_threshold"):
        split_shots(segments, cut_threshold=2.0)


# --- media that works though it looks odd ---------------------------------------------------------------------

@pytest.mark.parametrize("suffix,codec", [(".mp4", "h264-444"), (".webm", "vp9")])
def test_odd_frame_size_works(tmp_path, suffix, codec):
    path = media.colour_segments(tmp_path / f"odd{suffix}", colours=[RED], durations_s=[0.5], size=(161, 91),
                                 codec=codec)
    footage = analyze_footage(path)
    assert (footage.width, footage.height) == (161, 91)
    _, frame = next(keyframes(path, max_side=1000))
    assert frame.shape == (91, 161, 3)


def test_audio_presence_is_reported(tmp_path):
    with_audio = media.colour_segments(tmp_path / "a.mp4", colours=[RED], durations_s=[0.5], audio=True)
    without = media.colour_segments(tmp_path / "b.mp4", colours=[RED], durations_s=[0.5])
    assert analyze_footage(with_audio).has_audio is True
    assert analyze_footage(without).has_audio is False


def test_unicode_and_spaces_in_paths(tmp_path):
    folder = tmp_path / "my footage ünï 日本"
    folder.mkdir()
    clip = media.colour_segments(folder / "clip – été 01.mp4", colours=[RED, BLUE], durations_s=[0.6, 0.6])
    still = media.photo(folder / "фото 1.jpg")
    assert analyze_footage(clip).path == str(clip) and len(analyze_footage(clip).shots) == 2
    assert analyze_footage(still).kind == "photo"


def test_8k_frames_are_downscaled_in_the_decoder(tmp_path):
    path = media.colour_segments(tmp_path / "8k.mp4", colours=[BLUE], durations_s=[1.0], size=(7680, 4320),
                                 fps=2, codec="h264-ultrafast")
    footage = analyze_footage(path)
    assert (footage.width, footage.height) == (7680, 4320)
    assert footage.shots[0].descriptors.brightness > 0
    _, frame = next(keyframes(path))
    assert frame.shape == (180, 320, 3)


def test_frames_above_the_documented_limit_are_refused(segments, monkeypatch):
    monkeypatch.setattr(fm, "MAX_FRAME_PIXELS", 32 * 32)
    with pytest.raises(InvalidMediaError, match="64x64 is larger than the supported maximum"):
        probe(segments)


# --- bad input ------------------------------------------------------------------------------------------------

def _bad(path: Path, reason: str) -> None:
    for call in (probe, analyze_footage, split_shots, lambda p: list(keyframes(p))):
        with pytest.raises(InvalidMediaError, match=reason) as err:
            call(path)
        assert err.value.path == str(path)


def test_missing_file(tmp_path):
    _bad(tmp_path / "nope.mp4", "does not exist")


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.touch()
    _bad(path, "empty")


def test_truncated_mp4_without_moov(segments, tmp_path):
    _bad(media.truncated(segments, tmp_path / "cut.mp4", keep_fraction=0.5), "moov atom")


def test_truncated_faststart_mp4_is_not_silently_short(tmp_path):
    # with the index at the front the file still opens, but most of its frames are gone
    noise = np.random.default_rng(0).integers(0, 255, (80, 64, 64, 3), dtype=np.uint8)  # 8 s: data >> index
    whole = media.frames_clip(tmp_path / "fs.mp4", noise, output_args=["-movflags", "+faststart"])
    cut = media.truncated(whole, tmp_path / "fs_cut.mp4", keep_fraction=0.4)
    assert probe(cut).duration_s == pytest.approx(8.0)  # the index still states the full length
    for call in (analyze_footage, split_shots):
        with pytest.raises(InvalidMediaError, match="truncated"):
            call(cut)


def test_text_file_renamed_mp4(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("these are my notes, not a video\n" * 20)
    _bad(path, "not a video or photo")


def test_audio_only_mp4(tmp_path):
    _bad(media.audio_only(tmp_path / "song.mp4"), "no video stream")


def test_corrupt_images(tmp_path):
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(bytes(range(256)) * 8)
    _bad(garbage, "not a readable image")
    whole = media.photo(tmp_path / "whole.jpg", pixels=np.random.default_rng(0).integers(0, 255, (64, 64, 3),
                                                                                            dtype=np.uint8))
    _bad(media.truncated(whole, tmp_path / "half.jpg", keep_fraction=0.4), "corrupt or truncated")


def test_bad_input_leaves_no_child_process(tmp_path):
    psutil = pytest.importorskip("psutil")
    path = tmp_path / "bad.mp4"
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(InvalidMediaError):
        analyze_footage(path)
    assert psutil.Process().children(recursive=True) == []
