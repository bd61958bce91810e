"""Demo media for a first draft with nothing of one's own: short colourful clips, a photo and two drum tracks.

    media = make_demo_media("demo/")   # {"clips": [...], "photos": [...], "music_dir": "demo/music"}

Everything is synthesised here, deterministically and offline, in about a second: the clips are drawn with numpy
and encoded as H.264 MP4 by PyAV, the photo is saved by Pillow, and the tracks are drum patterns (kick, snare,
hi-hat and a held chord) written as 16-bit WAV by the standard library. The tracks come with sidecars (title,
genre, mood, licence), so the matcher has something to rank and explain.
"""

from __future__ import annotations

import json
import math
import os
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

DEMO_BRIEF = "A sunny day out: a sunset walk, city colours and a picnic by the sea"
CLIP_SIZE = (360, 640)  # width, height: portrait, as most templates are 9:16
CLIP_FPS = 24
PHOTO_SIZE = (720, 960)
SAMPLE_RATE = 22050
TRACK_S = 45.0  # long enough for every template's duration range (up to 20-60 s) in whole bars

Frame = Callable[[int, np.ndarray, np.ndarray], np.ndarray]


def _grid(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates scaled to [0, 1]: (x [shape=(1, W)], y [shape=(H, 1)])."""
    return np.linspace(0.0, 1.0, width)[None, :], np.linspace(0.0, 1.0, height)[:, None]


def _rgb(r: np.ndarray, g: np.ndarray, b: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Stack three float planes in [0, 1] (broadcast to ``shape``) as one uint8 RGB frame [shape=(H, W, 3)]."""
    planes = [np.broadcast_to(np.clip(p, 0.0, 1.0), shape) for p in (r, g, b)]
    return (np.stack(planes, axis=-1) * 255.0 + 0.5).astype(np.uint8)


def _sunset(i: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A warm sky with a sun sinking slowly: little motion, warm colours (a calm shot)."""
    t = i / CLIP_FPS
    shape = (y.shape[0], x.shape[1])
    width, height = CLIP_SIZE
    sun = np.exp(-(((x - 0.5) * width) ** 2 + ((y - 0.3 - 0.02 * t) * height) ** 2) / (2 * 45.0 ** 2))
    return _rgb(0.95 - 0.25 * y + 0.3 * sun, 0.45 + 0.25 * (1 - y) * 0.6 + 0.5 * sun, 0.35 * y + 0.2 * sun, shape)


def _city(i: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Saturated colour blocks with moving stripes and a hard cut every half second (an energetic shot)."""
    palette = ((0.95, 0.2, 0.45), (0.1, 0.75, 0.95), (0.98, 0.85, 0.1), (0.45, 0.2, 0.9), (0.1, 0.9, 0.4))
    shot = (i * 2) // CLIP_FPS  # a new colour every 12 frames
    r, g, b = palette[shot % len(palette)]
    stripes = 0.5 + 0.5 * np.sin((x * 10.0 + y * 4.0 - i * 0.35) * 2 * math.pi)
    shape = (y.shape[0], x.shape[1])
    return _rgb(r * (0.55 + 0.45 * stripes), g * (0.55 + 0.45 * stripes), b * (0.55 + 0.45 * stripes), shape)


def _ocean(i: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cool blue water with drifting waves and a bright horizon (a steady, cool shot)."""
    t = i / CLIP_FPS
    waves = 0.5 + 0.5 * np.sin((x * 3.0 + t * 0.6) * 2 * math.pi + np.sin(y * 14.0) * 1.5)
    water = y > 0.3
    shape = (y.shape[0], x.shape[1])
    r = np.where(water, 0.05 + 0.1 * waves, 0.75)
    g = np.where(water, 0.35 + 0.25 * waves, 0.88)
    b = np.where(water, 0.6 + 0.3 * waves, 0.98)
    return _rgb(r, g, b, shape)


CLIPS: tuple[tuple[str, Frame, float], ...] = (
    ("sunset-walk.mp4", _sunset, 4.0),
    ("city-colours.mp4", _city, 3.0),
    ("ocean-drift.mp4", _ocean, 3.0),
)


def _write_clip(path: Path, frame: Frame, *, duration_s: float) -> Path:
    """Encode ``frame(i, x, y)`` for ``duration_s`` seconds as an H.264 MP4 (yuv420p, CLIP_FPS)."""
    import av

    width, height = CLIP_SIZE
    x, y = _grid(width, height)
    tmp = path.with_name(f".{path.name}.tmp.mp4")
    with av.open(str(tmp), mode="w") as container:
        stream = container.add_stream("libx264", rate=CLIP_FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23"}
        for i in range(int(round(duration_s * CLIP_FPS))):
            picture = av.VideoFrame.from_ndarray(frame(i, x, y), format="rgb24")
            container.mux(stream.encode(picture))
        container.mux(stream.encode(None))
    os.replace(tmp, path)
    return path


def _write_photo(path: Path) -> Path:
    """A picnic-blanket check with a few bright 'fruit' circles, saved as JPEG."""
    from PIL import Image

    width, height = PHOTO_SIZE
    x, y = _grid(width, height)
    check = ((np.floor(x * 8) + np.floor(y * 10)) % 2).astype(np.float64)
    r, g, b = 0.85 + 0.1 * check, 0.25 + 0.6 * check, 0.25 + 0.6 * check
    for cx, cy, colour in ((0.3, 0.3, (0.95, 0.6, 0.1)), (0.65, 0.45, (0.3, 0.75, 0.2)), (0.45, 0.7, (0.6, 0.1, 0.5))):
        disc = ((x - cx) * width) ** 2 + ((y - cy) * height) ** 2 < (0.12 * width) ** 2
        r, g, b = (np.where(disc, c, p) for c, p in zip(colour, (r, g, b)))
    Image.fromarray(_rgb(r, g, b, (height, width))).save(path, quality=90)
    return path


def _drums(*, bpm: float, chord_hz: tuple[float, ...], seed: int, swing: float = 0.0) -> np.ndarray:
    """A drum pattern at ``bpm``: kick on 1 and 3, snare on 2 and 4, hi-hat eighths, a soft held chord.

    Returns:
        np.ndarray [shape=(TRACK_S * SAMPLE_RATE,), float32] in [-1, 1].
    """
    n = int(TRACK_S * SAMPLE_RATE)
    out = np.zeros(n, dtype=np.float64)
    rng = np.random.default_rng(seed)
    beat_s = 60.0 / bpm

    def hit(at_s: float, sound: np.ndarray, gain: float) -> None:
        i = int(at_s * SAMPLE_RATE)
        j = min(n, i + len(sound))
        if i < n:
            out[i:j] += gain * sound[: j - i]

    k = np.arange(int(0.25 * SAMPLE_RATE)) / SAMPLE_RATE
    # a pitch drop from 120 Hz to 50 Hz: the phase of f(t) = 50 + 70 exp(-30 t)
    kick = np.sin(2 * math.pi * (50.0 * k + 70.0 / 30.0 * (1 - np.exp(-k * 30.0)))) * np.exp(-k * 18.0)
    s = np.arange(int(0.18 * SAMPLE_RATE)) / SAMPLE_RATE
    snare = rng.uniform(-1.0, 1.0, len(s)) * np.exp(-s * 25.0) + 0.3 * np.sin(2 * math.pi * 190.0 * s) * np.exp(-s * 30)
    h = np.arange(int(0.05 * SAMPLE_RATE)) / SAMPLE_RATE
    hat = np.diff(rng.uniform(-1.0, 1.0, len(h) + 1)) * np.exp(-h * 90.0)
    for beat in range(int(TRACK_S / beat_s) + 1):
        t = beat * beat_s
        hit(t, kick if beat % 2 == 0 else snare, 0.9 if beat % 4 == 0 else 0.7)
        hit(t, hat, 0.25)
        hit(t + beat_s * (0.5 + swing), hat, 0.15)
    time_s = np.arange(n) / SAMPLE_RATE
    pad = sum(np.sin(2 * math.pi * f * time_s) for f in chord_hz) / len(chord_hz)
    out += 0.12 * pad * (0.6 + 0.4 * np.sin(2 * math.pi * time_s / (8 * beat_s)) ** 2)
    fade = np.minimum(1.0, np.minimum(time_s / 0.05, (TRACK_S - time_s) / 1.5))
    return (out * fade / max(1e-9, float(np.abs(out).max())) * 0.9).astype(np.float32)


TRACKS: tuple[tuple[str, dict, dict], ...] = (
    ("sunny-stroll-92bpm.wav", {"bpm": 92.0, "chord_hz": (261.63, 329.63, 392.0), "seed": 1, "swing": 0.08},
     {"title": "Sunny stroll", "genre": "lo-fi", "mood": "calm, warm, easy-going"}),
    ("upbeat-drive-128bpm.wav", {"bpm": 128.0, "chord_hz": (293.66, 369.99, 440.0), "seed": 2},
     {"title": "Upbeat drive", "genre": "dance", "mood": "upbeat, energetic, bright"}),
)


def _write_wav(path: Path, samples: np.ndarray) -> Path:
    """16-bit mono WAV at SAMPLE_RATE."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
    tmp = path.with_name(f".{path.name}.tmp")
    with wave.open(str(tmp), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm)
    os.replace(tmp, path)
    return path


def make_demo_media(folder: str | os.PathLike) -> dict[str, list[str] | str]:
    """Write the demo clips, photo and music into ``folder`` (created; existing demo files are rewritten).

    Args:
        folder: where to write; clips and the photo go in ``folder/footage``, the tracks in ``folder/music``.

    Returns:
        ``{"clips": [mp4 paths], "photos": [jpg paths], "music_dir": folder of the tracks}`` (absolute paths).
    """
    root = Path(folder).expanduser().resolve()
    footage, music = root / "footage", root / "music"
    footage.mkdir(parents=True, exist_ok=True)
    music.mkdir(parents=True, exist_ok=True)
    clips = [str(_write_clip(footage / name, frame, duration_s=seconds)) for name, frame, seconds in CLIPS]
    photos = [str(_write_photo(footage / "picnic.jpg"))]
    for name, recipe, meta in TRACKS:
        _write_wav(music / name, _drums(**recipe))
        sidecar = {**meta, "licence": "CC0 (synthesised by templates.demo)", "duration_s": TRACK_S}
        (music / f"{name}.json").write_text(json.dumps(sidecar, indent=1), encoding="utf-8")
    return {"clips": clips, "photos": photos, "music_dir": str(music)}
