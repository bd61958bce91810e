"""Audio files for music analysis: check, hash, decode through ffmpeg, verify the decoded samples, cache results.

Everything here works without librosa (the project's one librosa module is ``crossmodal_match.audio``, which
decodes wav/flac/ogg/mp3 through libsndfile and resamples with librosa, then checks the result with the functions
below). m4a, aac, mp4, mov, webm ... go through the ffmpeg binary of ``imageio-ffmpeg``, imported when needed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from crossmodal_match.errors import InvalidMediaError, MatchError

INSTALL_HINT = "pip install 'creator-studio[music]' (librosa, soundfile, imageio-ffmpeg)"
SR = 22050  # every track is analysed at this rate, Hz
SOUNDFILE_EXTS = frozenset({".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff"})
FFMPEG_EXTS = frozenset({".m4a", ".aac", ".mp4", ".m4v", ".mov", ".webm", ".mkv", ".opus"})
_WAV_SHORT = re.compile(r"^(?:data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


def check_audio_file(path: Path) -> None:
    """Refuse a path that is not a non-empty regular file with a supported extension.

    Raises:
        InvalidMediaError: missing, not a file, empty, or an extension outside ``SOUNDFILE_EXTS | FFMPEG_EXTS``.
    """
    if not path.is_file():
        raise InvalidMediaError(path, "file does not exist" if not path.exists() else "not a regular file")
    if path.stat().st_size == 0:
        raise InvalidMediaError(path, "file is empty (0 bytes)")
    ext = path.suffix.lower()
    if ext not in SOUNDFILE_EXTS | FFMPEG_EXTS:
        raise InvalidMediaError(path, f"unsupported extension {ext!r}; use one of "
                                      f"{', '.join(sorted(SOUNDFILE_EXTS | FFMPEG_EXTS))}")


def file_sha256(path: Path, *, chunk_bytes: int = 1 << 20) -> str:
    """Hex sha256 of the file's bytes, read in ``chunk_bytes`` chunks (the analysis cache key)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def write_json_atomic(target: Path, data: dict) -> None:
    """Write ``data`` as JSON to ``target`` (creating its folder) via a temporary file and ``os.replace``.

    Raises:
        OSError: the folder or file cannot be written; no partial file is left behind.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, target)  # readers see the old file or the whole new one, never half of it
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_decoded(path: Path, y: np.ndarray) -> None:
    """Refuse decoded audio with no samples or with NaN/infinite ones.

    Raises:
        InvalidMediaError: naming the file.
    """
    if y.size == 0:
        raise InvalidMediaError(path, "no audio samples could be decoded (truncated or empty stream)")
    if not np.all(np.isfinite(y)):
        raise InvalidMediaError(path, "decoded audio contains NaN or infinite samples")


def check_soundfile_length(path: Path, y: np.ndarray, *, declared_frames: int, file_sr: int, fmt: str,
                           log: str) -> None:
    """Refuse a libsndfile decode that came out shorter than its header says.

    Args:
        path: the file, for the message.
        y: the decoded samples at ``SR``, mono.
        declared_frames: frames the header states (``SoundFile.frames``).
        file_sr: the file's own sample rate, Hz.
        fmt: libsndfile's major format name (``"WAV"``, ``"MP3"`` ...).
        log: libsndfile's log for the file (``SoundFile.extra_info``).

    Raises:
        InvalidMediaError: the data chunk is cut off, or (except MP3) under 90% of the stated length decoded.
    """
    short = _WAV_SHORT.search(log)  # libsndfile trims a WAV/AIFF whose data chunk is cut and only logs it
    if short and 0 < int(short.group(2)) < int(short.group(1)) < 0xFFFFFFF0:
        raise InvalidMediaError(path, f"truncated: header declares {short.group(1)} data bytes, "
                                      f"file holds {short.group(2)}")
    # MP3 lengths are estimates (a VBR file without a Xing header is over-counted), so a cut MP3 decodes to its
    # intact part; formats whose header states the length exactly are held to it.
    if fmt != "MP3" and declared_frames > 0 and y.size < 0.9 * declared_frames * SR / file_sr:
        raise InvalidMediaError(path, f"truncated: header declares {declared_frames / file_sr:.2f} s, "
                                      f"only {y.size / SR:.2f} s could be decoded")


def decode_ffmpeg(path: Path, *, timeout_s: float) -> np.ndarray:
    """Decode the first audio stream to mono float32 at ``SR`` with the ffmpeg of ``imageio-ffmpeg``.

    Returns:
        np.ndarray [shape=(n,), float32].

    Raises:
        InvalidMediaError: no audio track, undecodable or truncated data, or decoding over ``timeout_s`` seconds.
        MatchError: imageio-ffmpeg is not installed.
    """
    try:
        import imageio_ffmpeg
    except ImportError as exc:
        raise MatchError(f"decoding {path.suffix} needs the ffmpeg of imageio-ffmpeg: {INSTALL_HINT}") from exc

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error",
           "-xerror",  # stop at the first corrupt packet so a truncated file fails instead of decoding half
           "-i", str(path), "-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(SR), "-f", "f32le", "pipe:1"]
    try:
        # subprocess.run kills the child on timeout and on any exception (even KeyboardInterrupt) before
        # re-raising, so no ffmpeg is ever left running.
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise InvalidMediaError(path, f"decoding took longer than {timeout_s} s; ffmpeg was stopped") from exc
    err = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        if "matches no streams" in err:
            raise InvalidMediaError(path, "has no audio track")
        last = err.splitlines()[-1] if err else f"exit status {proc.returncode}"
        raise InvalidMediaError(path, f"not a decodable media file or truncated (ffmpeg: {last})")
    return np.frombuffer(proc.stdout, dtype="<f4").astype(np.float32)
