"""The one ffmpeg child of a render: RGB frames in on a pipe, H.264 + AAC MP4 out, tagged BT.709, fast start.

The renderer composes frames with moviepy and feeds them here rather than calling ``write_videofile``, because
the output must carry things moviepy 2.2 does not let a caller set or guarantee: it appends ``-pix_fmt yuva420p``
after the caller's options (overriding ``yuv420p``), it converts RGB with ffmpeg's default BT.601 matrix while the
file should say BT.709, and a cancellation inside its audio pass leaves that ffmpeg child running. Owning the child
means one ``with`` block that always reaps it: killed on error or cancel, waited for on success.

Uses the ffmpeg binary of ``imageio-ffmpeg`` (the one moviepy uses); no moviepy import here.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import IO

import numpy as np

from templates.errors import RenderError
from templates.timeline import Timeline

PREVIEW_HEIGHT_PX = 360
PREVIEW_MAX_FPS = 15.0
FINISH_TIMEOUT_S = 300.0  # encoding the frames still buffered in the pipe; minutes would mean a hung ffmpeg
STDERR_TAIL_CHARS = 2000


@dataclass(frozen=True)
class EncodeSettings:
    """How the MP4 is encoded.

    Attributes:
        width, height: frame size in pixels (even numbers: yuv420p halves chroma).
        fps: frame rate, frames per second.
        preset: x264 speed preset (``"ultrafast"`` ... ``"veryslow"``).
        crf: x264 constant rate factor (lower = better, 18-23 typical).
        audio_bitrate_kbps: AAC bitrate, kbit/s.
    """

    width: int
    height: int
    fps: float
    preset: str = "veryfast"
    crf: int = 20
    audio_bitrate_kbps: int = 160

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0 or self.width % 2 or self.height % 2:
            raise RenderError(f"encode size must be positive even numbers, got {self.width}x{self.height}")
        if not self.fps > 0:
            raise RenderError(f"encode fps must be positive, got {self.fps}")


def full_settings(timeline: Timeline) -> EncodeSettings:
    """Encoding of a full render: the timeline's size and rate, x264 ``veryfast`` at CRF 20 (on two cores the
    slower presets cost more time than the bytes they save are worth for a draft)."""
    return EncodeSettings(width=timeline.width, height=timeline.height, fps=timeline.fps, preset="veryfast",
                          crf=20, audio_bitrate_kbps=160)


def preview_settings(timeline: Timeline) -> EncodeSettings:
    """Encoding of a preview: ``PREVIEW_HEIGHT_PX`` high (never upscaled; width rounded to even), at most
    ``PREVIEW_MAX_FPS``, x264 ``ultrafast``. Same timeline, so the same cuts, grade and text, only smaller."""
    scale = min(1.0, PREVIEW_HEIGHT_PX / timeline.height)
    width = max(2, 2 * round(timeline.width * scale / 2))
    height = max(2, 2 * round(timeline.height * scale / 2))
    return EncodeSettings(width=width, height=height, fps=min(timeline.fps, PREVIEW_MAX_FPS), preset="ultrafast",
                          crf=28, audio_bitrate_kbps=96)


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped by ``imageio-ffmpeg``.

    Raises:
        RenderError: imageio-ffmpeg is not installed or has no binary for this platform.
    """
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise RenderError(f'rendering needs the ffmpeg of imageio-ffmpeg: pip install "creator-studio[render]" '
                          f"({exc})") from exc


def encoder_command(settings: EncodeSettings, *, audio_path: Path, out_path: Path) -> list[str]:
    """The ffmpeg command line: raw RGB frames on stdin plus a WAV file, to an H.264/AAC MP4.

    Args:
        settings: size, rate and quality.
        audio_path: WAV file with the whole soundtrack (same length as the frames).
        out_path: MP4 file to write.

    Returns:
        The argument list for ``subprocess.Popen``.
    """
    rate = Fraction(settings.fps).limit_denominator(1001)  # 29.97 -> 30000/1001 exactly
    return [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{settings.width}x{settings.height}",
        "-framerate", f"{rate.numerator}/{rate.denominator}", "-i", "-",
        "-i", str(audio_path),
        "-map", "0:v:0", "-map", "1:a:0",
        # The RGB -> YUV matrix must match the tags, or colours shift (swscale's default matrix is BT.601); ffmpeg 7+
        # takes colour tags from the frames the filters emit, so setparams tags them as well as the options below.
        "-vf", "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
               "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv",
        "-c:v", "libx264", "-preset", settings.preset, "-crf", str(settings.crf), "-pix_fmt", "yuv420p",
        "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv",
        "-c:a", "aac", "-b:a", f"{settings.audio_bitrate_kbps}k", "-ac", "2",
        "-movflags", "+faststart", "-f", "mp4", str(out_path),
    ]


class FrameEncoder:
    """An ffmpeg child encoding frames to an MP4; a context manager that never leaves the child behind.

        with FrameEncoder(settings, audio_path=wav, out_path=tmp) as enc:
            for frame in frames:
                enc.write(frame)
            enc.finish()          # waits for ffmpeg; without it, leaving the block kills ffmpeg

    Raises (from ``write`` and ``finish``):
        RenderError: ffmpeg exited early or with an error (its messages are in the exception).
    """

    def __init__(self, settings: EncodeSettings, *, audio_path: Path, out_path: Path) -> None:
        self.settings = settings
        self._cmd = encoder_command(settings, audio_path=audio_path, out_path=out_path)
        self._out_path = out_path
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr = None
        self._finished = False

    def __enter__(self) -> FrameEncoder:
        # stderr goes to a file, not a pipe: a pipe nobody reads could fill and block ffmpeg while we write stdin
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(self._cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                          stderr=self._stderr)
        except OSError as exc:
            self._stderr.close()
            raise RenderError(f"cannot start the encoder {self._cmd[0]!r}: {exc}") from exc
        return self

    def write(self, frame: np.ndarray) -> None:
        """Send one frame, np.ndarray [shape=(height, width, 3), uint8, RGB]."""
        expected = (self.settings.height, self.settings.width, 3)
        if frame.shape != expected or frame.dtype != np.uint8:
            raise RenderError(f"frame of shape {frame.shape} {frame.dtype}; the encoder takes {expected} uint8")
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame).data)
        except (BrokenPipeError, ValueError) as exc:  # ffmpeg died: its stderr says why
            self._proc.wait()
            raise RenderError(f"encoder failed writing {self._out_path.name}: {self._errors()}") from exc

    def finish(self) -> None:
        """Close the input and wait for ffmpeg to write the file.

        Raises:
            RenderError: ffmpeg failed or took longer than ``FINISH_TIMEOUT_S``.
        """
        try:
            self._proc.stdin.close()
            code = self._proc.wait(timeout=FINISH_TIMEOUT_S)
        except BrokenPipeError:
            code = self._proc.wait(timeout=FINISH_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise RenderError(f"encoder did not finish within {FINISH_TIMEOUT_S} s") from exc
        if code != 0:
            raise RenderError(f"encoder failed (exit {code}) writing {self._out_path.name}: {self._errors()}")
        self._finished = True

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        proc = self._proc
        if proc is not None:
            if proc.poll() is None:  # not finished: an error or a cancellation, so the partial file is worthless
                proc.kill()
            if proc.stdin and not proc.stdin.closed:
                try:
                    proc.stdin.close()
                except BrokenPipeError:
                    pass
            proc.wait()
        if self._stderr is not None:
            self._stderr.close()

    def _errors(self) -> str:
        return stderr_tail(self._stderr)


def stderr_tail(file: IO[bytes]) -> str:
    """The last ``STDERR_TAIL_CHARS`` of what an ffmpeg child wrote to its stderr ``file``, for an error message."""
    file.seek(0)
    text = file.read().decode("utf-8", errors="replace").strip()
    return text[-STDERR_TAIL_CHARS:] or "(no message)"


def write_wav(path: Path, chunks: Iterable[np.ndarray], *, rate_hz: int) -> None:
    """Write float samples as a 16-bit stereo WAV (the encoder's audio input; lossless, no child process).

    Args:
        path: the .wav file.
        chunks: consecutive np.ndarray [shape=(n,) or (n, channels), float in [-1, 1]]; mono is doubled, more
            than two channels are cut to the first two, values beyond +-1 are clipped.
        rate_hz: sample rate, Hz.
    """
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(rate_hz)
        for chunk in chunks:
            samples = np.asarray(chunk, dtype=np.float64)
            samples = samples[:, None] if samples.ndim == 1 else samples
            samples = np.repeat(samples, 2, axis=1) if samples.shape[1] == 1 else samples[:, :2]
            wav.writeframes((np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes())


def temp_path_for(out_path: Path, *, suffix: str) -> Path:
    """A new empty temp file next to ``out_path`` (same folder, so ``os.replace`` is atomic), hidden by a dot.

    Raises:
        RenderError: the folder does not exist or is not writable.
    """
    try:
        fd, name = tempfile.mkstemp(prefix=f".{out_path.stem}.", suffix=suffix, dir=out_path.parent)
    except OSError as exc:
        raise RenderError(f"cannot write next to {str(out_path)!r}: {exc}") from exc
    os.close(fd)
    return Path(name)
