"""The renderer on tiny synthetic media: streams and tags, progress, cancel, failures, cover, captions, fonts."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from templates import fonts
from templates.encoder import preview_settings
from templates.errors import RenderCancelled, RenderError, TemplateError
from templates.framing import window, zoom_at
from templates.grade import grade_function, grade_matrix
from templates.lettering import text_image, wrap_text
from templates.timeline import AudioTrack, Grade, TextOverlay, TextStyle, Timeline, TimelineClip
from tests import media

av = pytest.importorskip("av")
pytest.importorskip("moviepy")
psutil = pytest.importorskip("psutil")
from templates.render import render, render_cover, write_srt  # noqa: E402  (after the skips)

ROOT = Path(__file__).resolve().parents[1]
RED, GREEN, ORANGE, GREY = (200, 30, 30), (30, 200, 30), (200, 120, 40), (90, 90, 90)
W, H, FPS = 96, 160, 10.0
CJK_TITLE = "一键成片 Travel vlog"


@pytest.fixture(scope="module")
def src(tmp_path_factory):
    """Red 1 s | green 1 s video (160x96, 10 fps), an orange photo, a grey photo and a 3 s 440 Hz tone."""
    folder = tmp_path_factory.mktemp("render_src")
    return {
        "video": media.colour_segments(folder / "v.mp4", colours=[RED, GREEN], durations_s=[1.0, 1.0],
                                       size=(160, 96)),
        "photo": media.photo(folder / "p.jpg", colour=ORANGE, size=(120, 80)),
        "grey": media.photo(folder / "g.png", colour=GREY, size=(W, H)),
        "music": _tone(folder / "m.m4a", duration_s=3.0),
    }


def _tone(path: Path, *, duration_s: float) -> Path:
    media.run_ffmpeg(["-f", "lavfi", "-i", f"sine=frequency=440:duration={duration_s}", "-c:a", "aac", str(path)])
    return path


def _timeline(src, *, overlays=(), audio=True, duration_s=2.0, second="crossfade", **kwargs) -> Timeline:
    clips = (
        TimelineClip(source=str(src["video"]), kind="video", src_start_s=0.2, src_end_s=1.2, start_s=0.0, end_s=1.0),
        TimelineClip(source=str(src["photo"]), kind="photo", src_start_s=0.0, src_end_s=duration_s - 1.0,
                     start_s=1.0, end_s=duration_s, motion="kenburns-in", transition_in=second,
                     transition_s=0.0 if second == "cut" else 0.4),
    )
    track = AudioTrack(source=str(src["music"]), src_start_s=0.5, src_end_s=0.5 + duration_s, start_s=0.0,
                       end_s=duration_s, fade_in_s=0.2, fade_out_s=0.5, gain_db=-3.0) if audio else None
    return Timeline(template="test", width=kwargs.pop("width", W), height=kwargs.pop("height", H),
                    fps=kwargs.pop("fps", FPS), duration_s=duration_s, clips=clips, audio=track,
                    overlays=tuple(overlays), **kwargs)


def _overlays():
    return (TextOverlay(text=CJK_TITLE, kind="title", start_s=0.0, end_s=1.5, box=(0.05, 0.1, 0.9, 0.3),
                        style=TextStyle(animation="pop")),
            TextOverlay(text="caption, slid up", kind="caption", start_s=0.5, end_s=2.0, box=(0.05, 0.75, 0.9, 0.2),
                        style=TextStyle(animation="slide-up", size=0.05, background="#00000099")),
            TextOverlay(text="THE END", kind="card", start_s=1.6, end_s=2.0, box=(0.1, 0.4, 0.8, 0.2)))


def _children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def _top_level_atoms(path: Path) -> list[str]:
    data, atoms, pos = path.read_bytes(), [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
        atoms.append(kind.decode("latin-1"))
        if size < 8:
            break
        pos += size
    return atoms


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --- the MP4 ----------------------------------------------------------------------------------------------------

def test_render_writes_tagged_faststart_h264_aac(src, tmp_path):
    before, calls = _children(), []
    out = render(_timeline(src, overlays=_overlays()), tmp_path / "draft.mp4",
                 on_progress=lambda f, stage: calls.append((f, stage)))
    assert out == tmp_path / "draft.mp4"
    with av.open(str(out)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        cc = video.codec_context
        assert (cc.name, cc.pix_fmt, video.width, video.height) == ("h264", "yuv420p", W, H)
        assert (int(cc.color_primaries), int(cc.color_trc), int(cc.colorspace)) == (1, 1, 1)  # 1 = BT.709
        assert audio.codec_context.name == "aac" and audio.codec_context.channels == 2
        assert container.duration / 1e6 == pytest.approx(2.0, abs=0.1)
    assert len(_frames(out)) == 20
    atoms = _top_level_atoms(out)
    assert atoms.index("moov") < atoms.index("mdat"), atoms
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and all(0.0 <= f <= 1.0 for f in fractions)
    assert calls[-1] == (1.0, "done") and fractions.count(1.0) == 1
    assert {"open", "audio", "video"} <= {stage for _, stage in calls}
    assert _leftovers(tmp_path) == [] and _children() <= before


def test_pictures_transitions_and_grade_follow_the_timeline(src, tmp_path):
    timeline = _timeline(src, audio=False)
    frames = _frames(render(timeline, tmp_path / "a.mp4"))
    mid = lambda i: frames[i][H // 2 - 8:H // 2 + 8, W // 2 - 8:W // 2 + 8].reshape(-1, 3).mean(axis=0)  # noqa: E731
    assert np.allclose(mid(5), RED, atol=12)  # source 0.7 s: still red
    assert np.allclose(mid(9), GREEN, atol=12)  # source 1.1 s: the cut inside the source
    # crossfade 1.0 .. 1.4 s: the video plays on under the photo, then the photo alone
    assert np.allclose(mid(12), 0.5 * np.add(GREEN, ORANGE), atol=25)
    assert np.allclose(mid(16), ORANGE, atol=12)
    faded = _frames(render(_timeline(src, audio=False, second="fade"), tmp_path / "b.mp4"))
    assert faded[10].mean() < 15 and np.allclose(faded[16][H // 2, W // 2], ORANGE, atol=12)  # from black
    warm = _timeline(src, audio=False, second="cut")
    warm = replace(warm, clips=(replace(warm.clips[0], grade=Grade(warmth=0.2)), warm.clips[1]))
    graded = _frames(render(warm, tmp_path / "c.mp4"))[5][H // 2, W // 2].astype(int)
    assert graded[0] > RED[0] + 20 and graded[2] < RED[2]  # warmer: more red, less blue


def test_colours_survive_the_bt709_round_trip(tmp_path):
    # encoded with the BT.601 matrix but tagged BT.709, saturated colours come back visibly off (> 10 levels)
    colours = [(30, 200, 60), (40, 60, 220), (200, 30, 30)]
    clips = tuple(TimelineClip(source=str(media.photo(tmp_path / f"{i}.png", colour=c, size=(W, H))), kind="photo",
                               src_start_s=0, src_end_s=0.3, start_s=0.3 * i, end_s=0.3 * (i + 1))
                  for i, c in enumerate(colours))
    timeline = Timeline(template="t", width=W, height=H, fps=FPS, duration_s=0.9, clips=clips)
    frames = _frames(render(timeline, tmp_path / "c.mp4"))
    for i, colour in enumerate(colours):
        assert np.abs(frames[3 * i + 1][H // 2, W // 2].astype(int) - colour).max() <= 4


def test_audio_window_is_placed_and_faded(src, tmp_path):
    base = _timeline(src, duration_s=2.0)
    late = AudioTrack(source=str(src["music"]), src_start_s=0.0, src_end_s=1.0, start_s=1.0, end_s=2.0,
                      fade_in_s=0.0, fade_out_s=0.0, gain_db=0.0)
    out = render(replace(base, audio=late), tmp_path / "a.mp4")
    with av.open(str(out)) as container:
        samples = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])
    rate = 44100
    assert np.sqrt(np.mean(samples[int(0.1 * rate):int(0.9 * rate)] ** 2)) < 0.01  # silence before the music
    assert np.sqrt(np.mean(samples[int(1.2 * rate):int(1.8 * rate)] ** 2)) > 0.03  # the tone (ffmpeg sine: 1/8 peak)


def test_preview_is_small_and_fast_from_the_same_timeline(src, tmp_path):
    timeline = _timeline(src, overlays=_overlays(), width=400, height=720, fps=30.0, duration_s=1.5)
    settings = preview_settings(timeline)
    assert (settings.width, settings.height, settings.fps, settings.preset) == (200, 360, 15.0, "ultrafast")
    out = render(timeline, tmp_path / "p.mp4", preview=True)
    with av.open(str(out)) as container:
        video = container.streams.video[0]
        assert (video.width, video.height, float(video.average_rate)) == (200, 360, 15.0)
    assert len(_frames(out)) == round(1.5 * 15)


# --- cancel and failures: no file, no temp file, no child --------------------------------------------------------

@pytest.mark.parametrize("kind,when", [("event", "video"), ("callable", "video"), ("event", "audio"),
                                       ("callable", "open"), ("raised by the callback", "video")])
def test_cancel_leaves_no_file_and_no_child(src, tmp_path, kind, when):
    event, before = threading.Event(), _children()
    cancel = {"event": event, "callable": event.is_set}.get(kind)

    def on_progress(fraction, stage):
        if stage == when and (stage != "video" or fraction > 0.3):
            if cancel is None:
                raise RenderCancelled("stop button")
            event.set()

    with pytest.raises(RenderCancelled):
        render(_timeline(src, overlays=_overlays()), tmp_path / "x.mp4", on_progress=on_progress, cancel=cancel)
    assert not (tmp_path / "x.mp4").exists() and _leftovers(tmp_path) == []
    assert _children() <= before


@pytest.mark.parametrize("broken", ["missing video", "garbage video", "missing photo", "missing music"])
def test_unreadable_source_is_a_render_error_and_keeps_the_old_file(src, tmp_path, broken):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00not a video\x00" * 100)
    timeline = _timeline(src)
    clips, audio = list(timeline.clips), timeline.audio
    bad = {"missing video": str(tmp_path / "nope.mp4"), "garbage video": str(garbage),
           "missing photo": str(tmp_path / "nope.jpg"), "missing music": str(tmp_path / "nope.m4a")}[broken]
    if broken == "missing music":
        audio = replace(audio, source=bad)
    else:
        i = 1 if "photo" in broken else 0
        clips[i] = replace(clips[i], source=bad)
    out = tmp_path / "draft.mp4"
    out.write_bytes(b"old draft")
    before = _children()
    with pytest.raises(RenderError, match=Path(bad).name):
        render(replace(timeline, clips=tuple(clips), audio=audio), out)
    assert out.read_bytes() == b"old draft" and _leftovers(tmp_path) == [] and _children() <= before


def test_encoder_failure_is_a_render_error_without_leftovers(src, tmp_path, monkeypatch):
    import templates.encoder as encoder

    real = encoder.encoder_command
    monkeypatch.setattr(encoder, "encoder_command",
                        lambda *a, **k: [x if x != "libx264" else "no-such-encoder" for x in real(*a, **k)])
    before = _children()
    with pytest.raises(RenderError, match="encoder"):
        render(_timeline(src), tmp_path / "x.mp4")
    assert list(tmp_path.iterdir()) == [] and _children() <= before


@pytest.mark.parametrize("font,text,match", [("/no/such/font.ttf", "hello", "does not exist"),
                                             ("no-such-font", "hello", "registered"),
                                             ("noto-sans-cjk", "fire \U0001F525", "no glyph")])
def test_font_problems_are_render_errors(src, tmp_path, font, text, match):
    overlay = TextOverlay(text=text, kind="title", start_s=0, end_s=1, box=(0, 0, 1, 0.3), style=TextStyle(font=font))
    with pytest.raises(RenderError, match=match):
        render(_timeline(src, overlays=[overlay]), tmp_path / "x.mp4")
    assert list(tmp_path.iterdir()) == []


# --- cover and captions ------------------------------------------------------------------------------------------

def test_cover_draws_the_cjk_title_inside_its_box(src, tmp_path):
    grey = TimelineClip(source=str(src["grey"]), kind="photo", src_start_s=0, src_end_s=1, start_s=0, end_s=1)
    box = (0.05, 0.1, 0.9, 0.3)
    title = TextOverlay(text=CJK_TITLE, kind="title", start_s=0.0, end_s=1.0, box=box)
    timeline = Timeline(template="t", width=W, height=H, fps=FPS, duration_s=1.0, clips=(grey,), overlays=(title,))
    from PIL import Image

    with Image.open(render_cover(timeline, tmp_path / "cover.png")) as img:
        cover = np.asarray(img.convert("RGB")).astype(int)
    changed = np.abs(cover - GREY).sum(axis=2) > 30
    top, bottom = round(box[1] * H), round((box[1] + box[3]) * H)
    assert changed[top:bottom].sum() > 150  # the glyphs are there (no fallback boxes: the font covers them)
    assert not changed[:top].any() and not changed[bottom:].any()  # and nothing outside the box
    assert render_cover(timeline, tmp_path / "cover.jpg", time_s=0.5).stat().st_size > 0
    assert _leftovers(tmp_path) == []


def test_cover_of_a_template_with_its_title_on_a_card_draws_that_card(src, tmp_path):
    grey = TimelineClip(source=str(src["grey"]), kind="photo", src_start_s=0, src_end_s=1, start_s=0, end_s=1)
    box = (0.05, 0.6, 0.9, 0.3)
    later = TextOverlay(text="#2", kind="card", start_s=0.5, end_s=1.0, box=(0.05, 0.05, 0.9, 0.3))
    intro = TextOverlay(text="Top five", kind="card", start_s=0.0, end_s=0.5, box=box)
    timeline = Timeline(template="t", width=W, height=H, fps=FPS, duration_s=1.0, clips=(grey,),
                        overlays=(later, intro))
    from PIL import Image

    with Image.open(render_cover(timeline, tmp_path / "cover.png")) as img:
        cover = np.asarray(img.convert("RGB")).astype(int)
    changed = np.abs(cover - GREY).sum(axis=2) > 30
    top, bottom = round(box[1] * H), round((box[1] + box[3]) * H)
    assert changed[top:bottom].sum() > 50 and not changed[:top].any()  # the intro card only


def test_srt_lists_title_and_captions_with_timestamps(src, tmp_path):
    late = TextOverlay(text="第二句\n second line", kind="caption", start_s=3661.5, end_s=3662.25, box=(0, 0, 1, 1))
    overlays = (late, *_overlays())
    timeline = _timeline(src, overlays=overlays, duration_s=3700.0)
    out = write_srt(timeline, tmp_path / "draft.srt")
    assert out.read_text(encoding="utf-8") == (
        f"1\n00:00:00,000 --> 00:00:01,500\n{CJK_TITLE}\n\n"
        "2\n00:00:00,500 --> 00:00:02,000\ncaption, slid up\n\n"
        "3\n01:01:01,500 --> 01:01:02,250\n第二句\nsecond line\n")
    assert _leftovers(tmp_path) == []


# --- fonts, lettering, framing, grade ----------------------------------------------------------------------------

def test_default_font_covers_mixed_chinese_and_latin():
    assert fonts.font_path(fonts.DEFAULT_FONT).is_file()
    assert fonts.covers(fonts.DEFAULT_FONT, CJK_TITLE)
    assert fonts.missing_glyphs(fonts.DEFAULT_FONT, "ok \U0001F525\n") == ["\U0001F525"]
    assert fonts.DEFAULT_FONT in fonts.list_fonts(installed_only=True)


def test_absent_font_names_what_to_install(monkeypatch):
    monkeypatch.setitem(fonts.REGISTRY, "ghost", fonts.FontEntry(name="ghost", system_files=("Ghost.ttf",),
                                                                  install="apt-get install fonts-ghost"))
    with pytest.raises(TemplateError, match="ghost.*apt-get install fonts-ghost"):
        fonts.font_path("ghost")
    with pytest.raises(TemplateError, match="noto-sans-cjk"):
        fonts.font_path("nope")


def test_text_wraps_between_cjk_characters_and_stays_in_its_box():
    from PIL import ImageFont

    font = ImageFont.truetype(str(fonts.font_path("noto-sans-cjk")), 20)
    lines = wrap_text("一键成片，周末去海边！Weekend trip", font=font, max_width_px=90)
    assert all(font.getlength(line) <= 90 for line in lines) and len(lines) > 2
    assert not any(line[0] in "，！" for line in lines)
    long = TextOverlay(text="很长的标题 " * 30, kind="title", start_s=0, end_s=1, box=(0.1, 0.2, 0.5, 0.2),
                       style=TextStyle(size=0.1, background="#000000aa"))
    image = text_image(long, frame_size=(W, H))
    h, w = image.rgba.shape[:2]
    assert round(0.1 * W) <= image.x and image.x + w <= round(0.6 * W)
    assert round(0.2 * H) <= image.y and image.y + h <= round(0.4 * H)


def test_framing_keeps_the_output_aspect_and_zooms_in():
    left, top, right, bottom = window(source_size=(1920, 1080), crop=(0, 0, 1, 1), out_size=(1080, 1920))
    assert (right - left) / (bottom - top) == pytest.approx(1080 / 1920) and (top, bottom) == (0, 1080)
    assert zoom_at(motion="kenburns-in", t_s=0, duration_s=2) == 1.0 < zoom_at(motion="kenburns-in", t_s=2,
                                                                                duration_s=2)
    assert zoom_at(motion="kenburns-out", t_s=2, duration_s=2) == 1.0


@pytest.mark.parametrize("grade", [Grade(brightness=0.1, contrast=1.2, warmth=-0.1),
                                   Grade(saturation=0.0), Grade(saturation=1.4, contrast=0.9, warmth=0.15)])
def test_grade_matches_its_affine_definition(grade):
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, size=(8, 9, 3), dtype=np.uint8)
    matrix, offset = grade_matrix(grade)
    expected = np.clip(np.rint((frame / 255.0 @ matrix.T + offset) * 255), 0, 255)
    assert np.abs(grade_function(grade)(frame).astype(int) - expected).max() <= 1
    if grade.saturation == 0:
        out = grade_function(grade)(frame).astype(int)
        assert np.abs(out - out[..., :1]).max() <= 1  # grey
    assert grade_function(Grade()) is None


def test_import_templates_render_loads_no_moviepy():
    code = "import json, sys; import templates, templates.render; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "moviepy" not in {m.split(".")[0] for m in json.loads(out.stdout.strip().splitlines()[-1])}
