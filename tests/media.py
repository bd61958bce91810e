"""Synthetic test media: tiny clips, photos and broken files with known content, made with ffmpeg and numpy.

The ffmpeg binary comes from the ``imageio-ffmpeg`` package (a dev dependency), so nothing outside PyPI is
needed. Every ffmpeg call has a timeout; ``subprocess.run`` kills the child when it expires, so a test never
leaves a hung ffmpeg behind. All outputs are deterministic for a given ffmpeg build.

Colours are ``(r, g, b)`` tuples of 0-255 ints; sizes are ``(width, height)`` in pixels.
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

FFMPEG_TIMEOUT_S = 60.0
# Encoder arguments per codec; each produces a stream PyAV's bundled decoders read.
CODEC_ARGS = {
    "h264": ["-c:v", "libx264", "-preset", "veryfast"],
    "h264-ultrafast": ["-c:v", "libx264", "-preset", "ultrafast"],  # for huge frames
    "h264-444": ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv444p"],  # allows odd sizes
    "hevc": ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1"],
    "vp9": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"],
}
YUV420 = ["-pix_fmt", "yuv420p"]


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped by ``imageio-ffmpeg``."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(args: Sequence[str], *, input_bytes: bytes | None = None,
               timeout_s: float = FFMPEG_TIMEOUT_S) -> bytes:
    """Run ffmpeg quietly, overwriting outputs; return its stdout.

    Raises:
        RuntimeError: ffmpeg failed (its stderr is in the message) or ran past ``timeout_s`` (it was killed).
    """
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *map(str, args)]
    try:
        out = subprocess.run(cmd, input=input_bytes, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:  # run() has already killed and reaped the child
        raise RuntimeError(f"ffmpeg timed out after {timeout_s} s: {' '.join(cmd)}") from exc
    if out.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({out.returncode}): {' '.join(cmd)}\n{out.stderr.decode(errors='replace')}")
    return out.stdout


def _hex(colour: tuple[int, int, int]) -> str:
    return "0x{:02x}{:02x}{:02x}".format(*colour)


def colour_segments(path: Path, *, colours: Sequence[tuple[int, int, int]], durations_s: Sequence[float],
                    size: tuple[int, int] = (64, 64), fps: float | Sequence[float] = 10.0, codec: str = "h264",
                    audio: bool = False, output_args: Sequence[str] = ()) -> Path:
    """A clip of solid-colour segments: hard cuts at the running sums of ``durations_s``.

    Args:
        path: output file; its extension picks the container (.mp4, .mov, .mkv, .webm).
        colours: one colour per segment.
        durations_s: one duration per segment, seconds; use multiples of 1/fps for exact cut times.
        size: frame size (width, height).
        fps: frame rate, or one per segment (different rates give a variable-frame-rate file).
        codec: key of ``CODEC_ARGS``.
        audio: add a 440 Hz tone as an AAC (or Opus for .webm) audio stream.
        output_args: extra ffmpeg output options, after the codec's (e.g. ``["-live", "1"]`` for WebM).

    Returns:
        ``path``.
    """
    rates = [fps] * len(colours) if isinstance(fps, (int, float)) else list(fps)
    args: list[str] = []
    for colour, duration, rate in zip(colours, durations_s, rates, strict=True):
        args += ["-f", "lavfi", "-i", f"color=c={_hex(colour)}:s={size[0]}x{size[1]}:r={rate}:d={duration}"]
    n = len(colours)
    if audio:  # input n, after the colour inputs 0 .. n-1
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={sum(durations_s)}"]
    graph = "".join(f"[{i}:v]" for i in range(n)) + f"concat=n={n}:v=1:a=0[v]"
    args += ["-filter_complex", graph, "-map", "[v]", "-fps_mode", "passthrough"]
    if audio:
        args += ["-map", f"{n}:a", "-c:a", "libopus" if path.suffix == ".webm" else "aac"]
    pix = [] if "-pix_fmt" in CODEC_ARGS[codec] else YUV420
    run_ffmpeg([*args, *CODEC_ARGS[codec], *pix, *output_args, str(path)])
    return path


def frames_clip(path: Path, frames: Iterable[np.ndarray], *, fps: float = 10.0, codec: str = "h264",
                output_args: Sequence[str] = ()) -> Path:
    """Encode RGB frames (np.ndarray [shape=(H, W, 3), uint8], all one size) as a clip at ``fps``.

    ``output_args`` are extra ffmpeg output options (e.g. ``["-movflags", "+faststart"]``).

    Returns:
        ``path``.
    """
    frames = list(frames)
    height, width = frames[0].shape[:2]
    raw = b"".join(np.ascontiguousarray(f, dtype=np.uint8).tobytes() for f in frames)
    pix = [] if "-pix_fmt" in CODEC_ARGS[codec] else YUV420
    run_ffmpeg(["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(fps), "-i", "-",
                *CODEC_ARGS[codec], *pix, *output_args, str(path)], input_bytes=raw)
    return path


def square_frames(*, n_frames: int, size: tuple[int, int] = (64, 64), step_px: int = 0,
                  square_px: int = 16) -> list[np.ndarray]:
    """Frames of a white square on dark grey, moving ``step_px`` pixels right per frame (0: static).

    Returns:
        list of np.ndarray [shape=(H, W, 3), uint8, RGB].
    """
    width, height = size
    frames = []
    for i in range(n_frames):
        frame = np.full((height, width, 3), 40, dtype=np.uint8)
        x = (i * step_px) % (width - square_px)
        y = (height - square_px) // 2
        frame[y:y + square_px, x:x + square_px] = 255
        frames.append(frame)
    return frames


def split_frame(*, size: tuple[int, int], left: tuple[int, int, int],
                right: tuple[int, int, int]) -> np.ndarray:
    """One frame whose left half is ``left`` and right half ``right`` (to check orientation)."""
    width, height = size
    frame = np.empty((height, width, 3), dtype=np.uint8)
    frame[:, : width // 2] = left
    frame[:, width // 2:] = right
    return frame


def with_display_rotation(src: Path, dst: Path, *, degrees: int) -> Path:
    """Copy ``src`` to ``dst`` (no re-encode) with a display matrix turning it ``degrees`` counter-clockwise."""
    run_ffmpeg(["-display_rotation", str(degrees), "-i", str(src), "-c", "copy", str(dst)])
    return dst


def first_frame_by_ffmpeg(path: Path) -> np.ndarray:
    """The first frame as ffmpeg's own decoder shows it (rotation applied), as reference.

    Returns:
        np.ndarray [shape=(H, W, 3), uint8, RGB].
    """
    from PIL import Image

    png = path.with_name(path.stem + "_ffmpeg_ref.png")
    run_ffmpeg(["-i", str(path), "-frames:v", "1", str(png)])
    with Image.open(png) as img:
        return np.asarray(img.convert("RGB"))


def photo(path: Path, *, colour: tuple[int, int, int] = (200, 120, 40), size: tuple[int, int] = (64, 48),
          pixels: np.ndarray | None = None, exif_orientation: int | None = None) -> Path:
    """Save a solid-colour (or given ``pixels`` [shape=(H, W, 3), uint8]) photo; the extension picks the format.

    Args:
        exif_orientation: EXIF Orientation tag to store (JPEG/WebP), e.g. 6 = shown turned 90 degrees clockwise.

    Returns:
        ``path``.
    """
    from PIL import Image

    img = Image.fromarray(pixels) if pixels is not None else Image.new("RGB", size, colour)
    kwargs = {}
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        kwargs["exif"] = exif.tobytes()
    if path.suffix.lower() in (".heic", ".heif"):
        import pillow_heif

        pillow_heif.register_heif_opener()
    img.save(path, **kwargs)
    return path


def audio_only(path: Path, *, duration_s: float = 1.0) -> Path:
    """An MP4 holding only an AAC tone (no video stream)."""
    run_ffmpeg(["-f", "lavfi", "-i", f"sine=frequency=440:duration={duration_s}", "-c:a", "aac", str(path)])
    return path


def truncated(src: Path, dst: Path, *, keep_fraction: float = 0.5) -> Path:
    """Copy the first ``keep_fraction`` of ``src``'s bytes to ``dst`` (an upload cut off midway)."""
    data = src.read_bytes()
    dst.write_bytes(data[: max(1, int(len(data) * keep_fraction))])
    return dst
