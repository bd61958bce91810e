"""Render speed: ``python bench/render_speed.py [--quick] [--keep DIR]`` prints JSON.

Generates (with the ffmpeg binary of ``imageio-ffmpeg``) a 1080x1920 30 fps H.264 source (ffmpeg's testsrc2, so
every frame differs and the decoder and encoder do real work), a 4000x3000 photo and a music tone, then renders a
15 s 1080x1920 30 fps timeline of six shots (video shots and Ken Burns photos, crossfades, a fade from black, a
colour grade with saturation, so the matrix path runs), with a CJK title that pops in and a caption on a
background box:

- ``preview``: ``render(..., preview=True)`` (202x360 at 15 fps, ultrafast);
- ``full``: ``render(...)`` at full size (1080x1920 at 30 fps, veryfast CRF 20);
- ``full_540``: the same timeline at 540x960 30 fps, full settings (a mid-size draft).

Each reports ``wall_s`` and ``realtime_x`` (timeline seconds per wall-clock second; > 1 is faster than playback).
The machine's cores may be shared with other work; the 1-minute load average at the start is reported.
``--quick`` renders 5 s instead of 15 s.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from templates.render import render  # noqa: E402
from templates.timeline import AudioTrack, Grade, TextOverlay, TextStyle, Timeline, TimelineClip  # noqa: E402
from tests.media import photo, run_ffmpeg  # noqa: E402

WIDTH, HEIGHT, FPS = 1080, 1920, 30.0


def make_sources(folder: Path, *, duration_s: float) -> dict[str, Path]:
    """A portrait testsrc2 clip, a 4:3 photo with a gradient and a tone, all at least ``duration_s`` long."""
    video, music = folder / "src.mp4", folder / "music.m4a"
    run_ffmpeg(["-f", "lavfi", "-i", f"testsrc2=s={WIDTH}x{HEIGHT}:r={FPS}:d={duration_s}", "-c:v", "libx264",
                "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(video)], timeout_s=600)
    run_ffmpeg(["-f", "lavfi", "-i", f"sine=frequency=330:duration={duration_s + 2}", "-c:a", "aac", str(music)])
    import numpy as np

    ramp = np.linspace(0, 255, 4000, dtype=np.float32)
    pixels = np.stack([np.tile(ramp, (3000, 1)), np.tile(ramp[:3000, None], (1, 4000)),
                       np.full((3000, 4000), 120, np.float32)], axis=2).astype(np.uint8)
    return {"video": video, "photo": photo(folder / "photo.jpg", pixels=pixels), "music": music}


def make_timeline(src: dict[str, Path], *, duration_s: float) -> Timeline:
    """Six shots alternating video and photo, crossfades and a fade, a grade, a CJK title and a caption."""
    shot_s = duration_s / 6
    clips = []
    for i in range(6):
        start = i * shot_s
        kind = "video" if i % 2 == 0 else "photo"
        clips.append(TimelineClip(
            source=str(src[kind]), kind=kind, src_start_s=start if kind == "video" else 0.0,
            src_end_s=(start if kind == "video" else 0.0) + shot_s, start_s=start, end_s=start + shot_s,
            crop=(0.1, 0.0, 0.8, 1.0) if kind == "video" else (0.0, 0.0, 1.0, 1.0),
            motion="none" if kind == "video" else ("kenburns-in" if i % 4 == 1 else "kenburns-out"),
            transition_in="cut" if i == 0 else ("fade" if i == 3 else "crossfade"),
            transition_s=0.0 if i == 0 else 0.4, grade=Grade(brightness=0.02, contrast=1.1, saturation=1.15,
                                                             warmth=0.05)))
    title = TextOverlay(text="一键成片 Travel vlog", kind="title", start_s=0.0, end_s=min(4.0, duration_s),
                        box=(0.08, 0.12, 0.84, 0.2), style=TextStyle(size=0.06, animation="pop"))
    caption = TextOverlay(text="周末去海边 · a weekend by the sea", kind="caption", start_s=1.0, end_s=duration_s,
                          box=(0.08, 0.78, 0.84, 0.12),
                          style=TextStyle(size=0.035, animation="slide-up", background="#00000099"))
    overlays = (title, caption)
    music = AudioTrack(source=str(src["music"]), src_start_s=0.5, src_end_s=0.5 + duration_s, start_s=0.0,
                       end_s=duration_s, fade_in_s=0.5, fade_out_s=1.0, gain_db=-2.0)
    return Timeline(template="bench", width=WIDTH, height=HEIGHT, fps=FPS, duration_s=duration_s,
                    clips=tuple(clips), audio=music, overlays=overlays)


def timed(timeline: Timeline, out: Path, *, preview: bool) -> dict[str, float]:
    start = time.perf_counter()
    render(timeline, out, preview=preview)
    wall = time.perf_counter() - start
    return {"wall_s": round(wall, 2), "realtime_x": round(timeline.duration_s / wall, 3),
            "size_mb": round(out.stat().st_size / 1e6, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="render 5 s instead of 15 s")
    parser.add_argument("--keep", type=Path, help="write sources and renders here instead of a temp folder")
    args = parser.parse_args()
    duration = 5.0 if args.quick else 15.0
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        timeline = make_timeline(make_sources(folder, duration_s=duration), duration_s=duration)
        report = {"duration_s": duration, "load_1min": round(load, 2), "cpus": os.cpu_count(),
                  "preview": timed(timeline, folder / "preview.mp4", preview=True),
                  "full_540": timed(replace(timeline, width=540, height=960), folder / "full_540.mp4",
                                    preview=False),
                  "full": timed(timeline, folder / "full.mp4", preview=False)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
