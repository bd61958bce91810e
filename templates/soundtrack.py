"""The soundtrack of a render: the music window decoded once by ffmpeg, gained, faded, ducked under speech and
placed, plus the footage's own sound where a speech-led template plays it, as a WAV file.

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
DUCK_RAMP_S = 0.25  # the music goes down (and back up) over this long around speech, so the dip is not heard
VOICE_EDGE_S = 0.01  # each footage sound window fades in and out this fast, so a cut does not click
DECODE_TIMEOUT_S = 120.0  # decoding minutes of music takes seconds; longer means a hung ffmpeg


def write_soundtrack(timeline: Timeline, path: Path, *, source_duration_s: float | None, cancel: Cancel | None,
                     progress: Progress) -> None:
    """Write the timeline's soundtrack as a 16-bit stereo 44.1 kHz WAV of exactly the timeline's length.

    The music window is placed at ``track.start_s``, scaled by ``gain_db`` and faded in and out linearly over
    ``fade_in_s`` / ``fade_out_s`` at the ends of the part that plays, and lowered by ``duck_db`` over its
    ``duck_spans_s`` (see :func:`duck_envelope`); the footage's own sound (``timeline.voices``) is added at full
    level; silence elsewhere (every draft gets an audio stream, so players and platforms treat them alike).

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
        if track.duck_spans_s and track.duck_db < 0:
            mix *= 10.0 ** (duck_envelope(track.duck_spans_s, duck_db=track.duck_db, total=total) / 20.0)[:, None]
    for voice in timeline.voices:
        check_cancelled(cancel)
        mix = _add_voice(np.zeros((total, 2)) if mix is None else mix, voice)
    if mix is not None:
        np.clip(mix, -1.0, 1.0, out=mix)
    step = round(AUDIO_CHUNK_S * AUDIO_RATE_HZ)

    def chunks() -> Iterator[np.ndarray]:
        for start in range(0, total, step):
            check_cancelled(cancel)
            n = min(step, total - start)
            yield np.zeros((n, 2)) if mix is None else mix[start:start + n]
            progress.stage("audio", (start + n) / max(total, 1))

    write_wav(path, chunks(), rate_hz=AUDIO_RATE_HZ)


def duck_envelope(spans_s, *, duck_db: float, total: int) -> np.ndarray:
    """The music's gain under speech, dB per sample: 0 outside the spans, ``duck_db`` inside, with linear ramps of
    ``DUCK_RAMP_S`` that finish as a span starts and begin as it ends (the voice never starts over full music).

    Args:
        spans_s: ``(start_s, end_s)`` on the draft's clock.
        duck_db: the gain inside, dB (<= 0).
        total: samples at ``AUDIO_RATE_HZ``.

    Returns:
        np.ndarray [shape=(total,), float, dB in [duck_db, 0]].
    """
    t = np.arange(total) / AUDIO_RATE_HZ
    depth = np.zeros(total)
    for start, end in spans_s:
        inside = np.clip(np.minimum((t - (start - DUCK_RAMP_S)) / DUCK_RAMP_S, ((end + DUCK_RAMP_S) - t) / DUCK_RAMP_S),
                         0.0, 1.0)
        depth = np.maximum(depth, inside)
    return depth * duck_db


def _add_voice(mix: np.ndarray, voice: AudioTrack) -> np.ndarray:
    """``mix`` with a footage sound window added at its place (short edge fades; a source without sound, or
    with less than the window, adds what there is)."""
    offset = round(voice.start_s * AUDIO_RATE_HZ)
    length_s = min(voice.src_end_s - voice.src_start_s, voice.end_s - voice.start_s)
    samples = _decode(voice.source, start_s=voice.src_start_s, duration_s=length_s)
    samples = samples[:max(0, len(mix) - offset)] * 10.0 ** (voice.gain_db / 20.0)
    edge = np.minimum(np.arange(len(samples)), np.arange(len(samples))[::-1]) / (VOICE_EDGE_S * AUDIO_RATE_HZ)
    mix[offset:offset + len(samples)] += samples * np.minimum(edge, 1.0)[:, None]
    return mix


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
        raise RenderError(f"decoding the sound of {source!r} took over {DECODE_TIMEOUT_S} s") from exc
    if out.returncode != 0:
        message = out.stderr.decode("utf-8", errors="replace").strip()[-2000:]
        raise RenderError(f"cannot decode the sound of {source!r}: {message or f'ffmpeg exit {out.returncode}'}")
    pcm = np.frombuffer(out.stdout[:len(out.stdout) // 4 * 4], dtype="<i2").reshape(-1, 2)
    return pcm / 32768.0
