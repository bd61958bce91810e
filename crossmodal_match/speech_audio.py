"""A voice track as Whisper reads it (16 kHz mono float32), decoded and cut into windows as it streams.

faster-whisper computes VAD and features over the whole array it is given, and its ``decode_audio`` holds the
whole decoded file (its int16 bytes, then the float32 copy) before it returns; at 10 minutes that was +409 MB of
peak memory. Here the file is decoded a chunk at a time (PyAV, the decoder faster-whisper itself uses) and cut into
windows of at most ``WINDOW_S`` seconds, each ending at the quietest ``CUT_FRAME_S`` frame of its last
``CUT_SEARCH_S`` so no word is split; only one window and one chunk are held at a time, so memory stays flat with
the clip's length.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from crossmodal_match.audio_decode import check_audio_file
from crossmodal_match.errors import InvalidMediaError, MatchError, NoAudioError

SAMPLE_RATE = 16_000  # Hz, what Whisper reads
# 30 s (Whisper's own decoding span): peak memory 380 MB at 30 s of audio, 419 MB at 10 minutes; 120 s windows gave
# 395 / 507 MB and the same words (bench/results/speech_memory_2026-12-04b.json and _w30.json). A window is also the
# span whose language is checked, so a clip that changes language is followed within about 30 s.
WINDOW_S = 30.0
CUT_SEARCH_S = 10.0
CUT_FRAME_S = 0.2
_CHUNK_S = 30.0  # decoded seconds handed on at a time


def _libc_trim():
    """glibc's ``malloc_trim``, or None where there is no glibc (macOS, musl)."""
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_TRIM = _libc_trim()


def release_freed_memory() -> None:
    """Hand memory freed by the last window back to the system. faster-whisper frees a window's buffers, but glibc
    keeps the freed arenas, so each window's peak sat on the last one's: a 3-minute talk peaked at 438 MB without
    this and 395 MB with it (30 s windows)."""
    if _TRIM is not None:
        _TRIM(0)


def _cut(tail: np.ndarray, frame: int) -> int:
    """Offset in ``tail`` of the middle of its quietest ``frame``-sample frame (lowest RMS)."""
    rms = np.sqrt(np.mean(tail[: tail.size // frame * frame].reshape(-1, frame) ** 2, axis=1))
    return int(np.argmin(rms)) * frame + frame // 2


def _sizes(window_s: float | None) -> tuple[int, int, int]:
    size = int((window_s or WINDOW_S) * SAMPLE_RATE)
    return size, int(CUT_FRAME_S * SAMPLE_RATE), min(int(CUT_SEARCH_S * SAMPLE_RATE), size // 2)


def window_bounds(samples: np.ndarray, *, window_s: float | None = None) -> list[tuple[int, int]]:
    """``[start, end)`` sample ranges covering ``samples``, each at most ``window_s`` (default ``WINDOW_S``)
    long; every cut but the last sits at the quietest ``CUT_FRAME_S`` frame of the window's final ``CUT_SEARCH_S``.

    Args:
        samples: np.ndarray [shape=(n,), float32, 16 kHz].

    Returns:
        Contiguous ranges in order (one range when the audio fits in one window).
    """
    size, frame, search = _sizes(window_s)
    bounds, start = [], 0
    while samples.size - start > size:
        lo = start + size - search
        cut = lo + _cut(samples[lo:start + size], frame)
        bounds.append((start, cut))
        start = cut
    bounds.append((start, samples.size))
    return bounds


def stream_windows(chunks: Iterator[np.ndarray], *,
                   window_s: float | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Cut a stream of sample chunks into the windows :func:`window_bounds` gives for their concatenation.

    Args:
        chunks: np.ndarray [shape=(k,), float32, 16 kHz] pieces, in order.

    Yields:
        ``(start, window)``: the window's first sample's index in the whole stream, and its samples.
    """
    size, frame, search = _sizes(window_s)
    buffer, start = np.zeros(0, np.float32), 0
    for chunk in chunks:
        buffer = np.concatenate([buffer, chunk])
        while buffer.size > size:
            cut = size - search + _cut(buffer[size - search:size], frame)
            yield start, buffer[:cut].copy()
            buffer, start = buffer[cut:], start + cut
    if buffer.size:
        yield start, buffer


def _frames(container, path: Path):
    """The audio frames of stream 0, skipping ones that fail to decode (a file cut off part-way gives what
    decodes, as faster-whisper's own decoder does)."""
    import av

    frames = container.decode(audio=0)
    while True:
        try:
            yield next(frames)
        except StopIteration:
            return
        except av.error.InvalidDataError:
            continue


def iter_audio(path: str | os.PathLike, *, chunk_s: float = _CHUNK_S) -> Iterator[np.ndarray]:
    """The first audio track of a footage or voice file, decoded a chunk at a time.

    Yields:
        np.ndarray [shape=(k,), float32, 16 kHz mono, -1..1], about ``chunk_s`` seconds each.

    Raises (while iterating):
        InvalidMediaError: missing, empty, unsupported extension, not decodable, no samples decode, or samples
            that are not finite.
        NoAudioError: the file has no audio track.
    """
    import av

    path = Path(path)
    check_audio_file(path)
    resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    pending, held, total = [], 0, 0
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise NoAudioError(path, "has no audio track, so there is no speech to transcribe")
            for frame in _frames(container, path):
                for out in resampler.resample(frame):
                    pending.append(out.to_ndarray().reshape(-1))
                    held += pending[-1].size
                if held >= chunk_s * SAMPLE_RATE:
                    total += held
                    yield _floats(pending, path)
                    pending, held = [], 0
            for out in resampler.resample(None):  # what the resampler still holds
                pending.append(out.to_ndarray().reshape(-1))
    except MatchError:
        raise
    except (ValueError, OSError) as exc:  # PyAV's FFmpegError family subclasses ValueError
        raise InvalidMediaError(path, f"its audio cannot be decoded ({exc}); re-export the file") from exc
    finally:
        del resampler
        gc.collect()  # PyAV's resampler keeps native buffers until collected (faster-whisper issue 390)
    tail = _floats(pending, path) if pending else np.zeros(0, np.float32)
    if total + tail.size == 0:
        raise InvalidMediaError(path, "no audio samples could be decoded (empty or corrupt audio stream)")
    if tail.size:
        yield tail


def _floats(pieces: list[np.ndarray], path: Path) -> np.ndarray:
    samples = np.concatenate(pieces).astype(np.float32) / 32768.0
    if not np.all(np.isfinite(samples)):
        raise InvalidMediaError(path, "decoded audio contains NaN or infinite samples")
    return samples


def audio_duration_s(path: str | os.PathLike) -> float | None:
    """The length the file's container states, seconds; None when it states none or cannot be opened (the
    decoder then reports what is wrong)."""
    import av

    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            return container.duration / av.time_base if container.duration else None
    except (ValueError, OSError):
        return None


def load_audio(path: str | os.PathLike) -> np.ndarray:
    """The whole first audio track of a file (:func:`iter_audio` joined): for short clips and tests.

    Returns:
        np.ndarray [shape=(n,), float32, 16 kHz mono, -1..1]; a stream cut off part-way gives what decodes.

    Raises:
        InvalidMediaError, NoAudioError: as :func:`iter_audio`.
    """
    return np.concatenate(list(iter_audio(path)))
