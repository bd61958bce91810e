"""The soundtrack of a render: the music window decoded once by ffmpeg, gained, faded and placed, as a WAV file.

One ffmpeg child decodes exactly the window the timeline plays (input-seeked, resampled to 44.1 kHz stereo) into
memory; numpy applies the gain and the linear fades and places it at its start on the timeline, with silence
elsewhere. This replaced moviepy's ``AudioFileClip`` pipeline, whose reader decoded a buffer from the start of the
file before seeking, restarted ffmpeg to seek, and resampled through Python per chunk: about half a second of a
preview's few seconds, for the same samples.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from templates.encoder import ffmpeg_exe, write_wav
from templates.errors import RenderError
from templates.progress import Cancel, Progress, check_cancelled
from templates.timeline import AudioTrack, Timeline

AUDIO_RATE_HZ = 44100
AUDIO_CHUNK_S = 1.0  # WAV written (and cancel checked, progress reported) a second at a time
DECODE_TIMEOUT_S = 120.0  # decoding minutes of music takes seconds; longer means a hung ffmpeg


def write_soundtrack(timeline: Timeline, path: Path, *, source_duration_s: float | None, cancel: Cancel | None,
                     progress: Progress) -> None:
    """Write the timeline's soundtrack as a 16-bit stereo 44.1 kHz WAV of exactly the timeline's length.

    The music window is placed at ``track.start_s``, scaled by ``gain_db`` and faded in and out linearly over
    ``fade_in_s`` / ``fade_out_s`` at the ends of the part that plays; silence elsewhere (every draft gets an audio
    stream, so players and platforms treat them alike).

    Args:
        timeline: the draft; ``timeline.audio`` None gives silence.
        path: the .wav file to write.
        source_duration_s: the music file's length, seconds (from the probe), or None when there is no music.
        cancel: checked before each second of audio.
        progress: gets stage ``"audio"``.

    Raises:
        RenderError: the music window starts past the file's end, or ffmpeg cannot decode it.
        RenderCancelled: ``cancel`` was set.
    """
    total = round(timeline.duration_s * AUDIO_RATE_HZ)
    track = timeline.audio
    mix = None
    if track is not None:
        check_cancelled(cancel)
        mix = _placed(track, total=total, source_duration_s=source_duration_s or 0.0)
    step = round(AUDIO_CHUNK_S * AUDIO_RATE_HZ)

    def chunks() -> Iterator[np.ndarray]:
        for start in range(0, total, step):
            check_cancelled(cancel)
            n = min(step, total - start)
            yield np.zeros((n, 2)) if mix is None else mix[start:start + n]
            progress.stage("audio", (start + n) / max(total, 1))

    write_wav(path, chunks(), rate_hz=AUDIO_RATE_HZ)


def _placed(track: AudioTrack, *, total: int, source_duration_s: float) -> np.ndarray:
    """The whole soundtrack, np.ndarray [shape=(total, 2), float in -1..1]: the window gained, faded and placed."""
    end = min(track.src_end_s, source_duration_s, track.src_start_s + (track.end_s - track.start_s))
    if end <= track.src_start_s:
        raise RenderError(f"music {track.source!r} is {source_duration_s:.2f} s long; its window starts at "
                          f"{track.src_start_s:.2f} s")
    offset = round(track.start_s * AUDIO_RATE_HZ)
    length_s = end - track.src_start_s
    samples = _decode(track.source, start_s=track.src_start_s, duration_s=length_s) * 10.0 ** (track.gain_db / 20.0)
    # the fades belong to the window (a fade-out the timeline's end cuts off stays cut off), as moviepy's afx did
    t = np.arange(len(samples)) / AUDIO_RATE_HZ
    if track.fade_in_s > 0:
        samples *= np.minimum(t / track.fade_in_s, 1.0)[:, None]
    if track.fade_out_s > 0:
        samples *= np.clip((length_s - t) / track.fade_out_s, 0.0, 1.0)[:, None]
    mix = np.zeros((total, 2))
    samples = samples[:max(0, total - offset)]
    mix[offset:offset + len(samples)] = samples
    return mix


def _decode(source: str, *, start_s: float, duration_s: float) -> np.ndarray:
    """``duration_s`` seconds of ``source`` from ``start_s``, np.ndarray [shape=(n, 2), float in -1..1], 44.1 kHz.

    Raises:
        RenderError: ffmpeg failed or hung (killed after ``DECODE_TIMEOUT_S``; ``subprocess.run`` reaps it).
    """
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-ss", f"{start_s:.6f}",
           "-t", f"{duration_s:.6f}", "-i", source, "-vn", "-f", "s16le", "-acodec", "pcm_s16le",
           "-ar", str(AUDIO_RATE_HZ), "-ac", "2", "-"]
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=DECODE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"decoding music {source!r} took over {DECODE_TIMEOUT_S} s") from exc
    if out.returncode != 0:
        message = out.stderr.decode("utf-8", errors="replace").strip()[-2000:]
        raise RenderError(f"cannot decode music {source!r}: {message or f'ffmpeg exit {out.returncode}'}")
    pcm = np.frombuffer(out.stdout[:len(out.stdout) // 4 * 4], dtype="<i2").reshape(-1, 2)
    return pcm / 32768.0
