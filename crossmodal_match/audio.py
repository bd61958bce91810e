"""Music analysis: tempo, beats, bars, energy, brightness, key/mode and a mood proxy of one track.

``analyze_music(path)`` decodes a file (wav, flac, ogg, mp3 through libsndfile; m4a, aac, mp4, mov, webm through
the ffmpeg binary of ``imageio-ffmpeg``; file checks, hashing, ffmpeg decoding and the cache file live in
``crossmodal_match.audio_decode``), analyses it at 22.05 kHz mono and returns a ``MusicAnalysis``: plain,
frozen, JSON-serialisable data that ``templates`` may import without pulling in librosa. ``best_moment`` picks the
strongest bar-aligned window of a track for a clip of a given length.

This is the only module of the project that imports librosa, and it does so lazily: ``import
crossmodal_match.audio`` stays light. librosa compiles numba kernels on first use (tens of seconds on a cold
machine), so ``NUMBA_CACHE_DIR`` defaults to ``~/.cache/creator-studio/numba`` and ``warm_up()`` lets an app pay
that cost off the interactive path.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# INSTALL_HINT, SR and the *_EXTS sets stay importable from here; _file_sha256 is the cache key's old name.
from crossmodal_match.audio_decode import (FFMPEG_EXTS, INSTALL_HINT, SOUNDFILE_EXTS, SR, check_audio_file,
                                           check_decoded, check_soundfile_length, decode_ffmpeg, write_json_atomic)
from crossmodal_match.audio_decode import file_sha256 as _file_sha256
from crossmodal_match.errors import ConfigError, InvalidMediaError, MatchError

logger = logging.getLogger(__name__)

ANALYSIS_VERSION = 1
HOP = 512  # onset/beat frames: 23.2 ms at 22.05 kHz
ENERGY_HOP = 1024  # energy curve: 46.4 ms at 22.05 kHz
BEATS_PER_BAR = 4
SILENCE_DB = -60.0  # a track whose loudest 46 ms frame is quieter than this has no pulse to find
# Krumhansl-Kessler key profiles, index 0 = tonic.
_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
_PITCHES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


@dataclass(frozen=True)
class MusicAnalysis:
    """What one track sounds like, as plain data (see ``analyze_music`` for how each field is measured).

    Attributes:
        sha256: hex digest of the file's bytes (the cache key).
        duration_s: length of the decoded audio, seconds.
        tempo_bpm: beats per minute, or None when no beat was found (silence, or a clip too short to track).
        beats_s: beat times, seconds, increasing.
        downbeats_s: times of the first beat of each bar (a subset of ``beats_s``), seconds.
        beats_per_bar: bar length assumed for ``downbeats_s`` (4: 4/4 time).
        onset_density_per_s: detected note/drum onsets per second of audio.
        energy: RMS amplitude per frame (full scale = 1.0), one value every ``energy_hop_s`` seconds.
        energy_hop_s: time between two ``energy`` values, seconds.
        loudness_db: mean RMS in dBFS (-120.0 for digital silence).
        centroid_hz: energy-weighted mean spectral centroid, Hz.
        brightness: the centroid on a log scale, 250 Hz -> 0.0, 8 kHz -> 1.0, clipped to [0, 1].
        key: tonic pitch class ("C", "F#", ...), or None for silence.
        mode: "major" or "minor", or None for silence.
        key_confidence: correlation of the chroma with the chosen key profile, in [-1, 1].
        arousal: energetic vs calm proxy in [0, 1] (formula in ``mood_proxies``).
        valence: bright/happy vs dark/sad proxy in [0, 1] (formula in ``mood_proxies``).
        version: analysis version; a cached result of another version is recomputed.
    """

    sha256: str
    duration_s: float
    tempo_bpm: float | None
    beats_s: tuple[float, ...]
    downbeats_s: tuple[float, ...]
    beats_per_bar: int
    onset_density_per_s: float
    energy: tuple[float, ...]
    energy_hop_s: float
    loudness_db: float
    centroid_hz: float
    brightness: float
    key: str | None
    mode: str | None
    key_confidence: float
    arousal: float
    valence: float
    version: int = ANALYSIS_VERSION

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (tuples become lists) carrying ``version``."""
        return {f.name: list(v) if isinstance(v, tuple) else v
                for f in dataclasses.fields(self) for v in [getattr(self, f.name)]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MusicAnalysis:
        """Rebuild an analysis from ``to_dict`` output.

        Raises:
            ConfigError: the version differs from ``ANALYSIS_VERSION`` or fields are missing or unknown.
        """
        if data.get("version") != ANALYSIS_VERSION:
            raise ConfigError(f"MusicAnalysis.version: got {data.get('version')!r}, expected {ANALYSIS_VERSION}")
        names = {f.name for f in dataclasses.fields(cls)}
        if set(data) != names:
            raise ConfigError(f"MusicAnalysis fields: missing {sorted(names - set(data))}, "
                              f"unknown {sorted(set(data) - names)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def default_numba_cache_dir() -> Path:
    """Where librosa's compiled numba kernels are cached unless ``NUMBA_CACHE_DIR`` is set."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "creator-studio" / "numba"


def _librosa():
    """Import librosa after pointing numba's cache at a user-writable folder (site-packages may be read-only)."""
    if "librosa" not in sys.modules and "NUMBA_CACHE_DIR" not in os.environ:
        folder = default_numba_cache_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:  # an unwritable cache folder would make numba refuse to cache; keep its own default
            logger.warning("cannot create numba cache folder %s; numba keeps its own default", folder)
        else:
            os.environ["NUMBA_CACHE_DIR"] = str(folder)
            if "numba" in sys.modules:  # numba reads its config once at import; make it see the new folder
                sys.modules["numba"].core.config.reload_config()
    try:
        import librosa
    except ImportError as exc:
        raise MatchError(f"music analysis needs librosa, which is not installed: {INSTALL_HINT}") from exc
    return librosa


def warm_up() -> float:
    """Compile (or load from the numba cache) every librosa kernel ``analyze_music`` uses, on 2 s of clicks.

    Call it from a background thread or at start-up so that the first real analysis is fast.

    Returns:
        Seconds it took: up to a minute with an empty numba cache, a few seconds in a fresh process with a filled
        one (librosa compiles one uncacheable kernel at import), milliseconds once warm.
    """
    start = time.perf_counter()
    t = np.arange(2 * SR) / SR
    y = (np.sin(2 * np.pi * 1000 * t) * (np.mod(t, 0.5) < 0.02)).astype(np.float32)
    _analyze_signal(y, sha256="warm-up")
    return time.perf_counter() - start


def analyze_music(path: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None,
                  decode_timeout_s: float = 120.0) -> MusicAnalysis:
    """Analyse a music file: tempo, beats, bars, onset density, energy curve, brightness, key/mode, mood.

    Beats come from librosa's dynamic-programming tracker on a mean log-mel spectral-flux envelope, with a
    metrical-level check (double the tempo when the mid-points between beats carry low/mid-frequency onsets,
    halve it when every other beat carries none) and the tempo re-measured from the tracked beat intervals.
    Bars assume 4/4; their phase is the one whose beats carry the most low-frequency and overall energy.

    Silence (or any track whose loudest frame is below -60 dBFS) is not an error: it gives ``tempo_bpm=None``,
    no beats, no downbeats, zero onset density, ``key=None`` and ``mode=None``. A clip of a second or two is
    analysed too and yields few or no beats.

    Args:
        path: the audio (or video-with-audio) file.
        cache_dir: folder of cached analyses keyed by the sha256 of the file's bytes; None disables the cache.
        decode_timeout_s: longest time the ffmpeg decoder may run before it is killed.

    Returns:
        The ``MusicAnalysis``; from the cache when ``cache_dir`` already holds this content's analysis.

    Raises:
        InvalidMediaError: missing, empty, unsupported, truncated or undecodable file, or a video with no audio.
        ConfigError: ``decode_timeout_s`` is not positive.
        MatchError: librosa (or, for m4a/aac/mp4, imageio-ffmpeg) is not installed; the message says what to run.
    """
    if not decode_timeout_s > 0:
        raise ConfigError(f"decode_timeout_s must be > 0, got {decode_timeout_s!r}")
    path = Path(path)
    check_audio_file(path)
    sha = _file_sha256(path)
    cache_file = Path(cache_dir) / f"{sha}.v{ANALYSIS_VERSION}.json" if cache_dir is not None else None
    if cache_file is not None and cache_file.is_file():
        try:
            return MusicAnalysis.from_dict(json.loads(cache_file.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:  # a damaged or foreign cache entry is recomputed
            logger.warning("ignoring unreadable cached analysis %s: %s", cache_file, exc)
    analysis = _analyze_signal(_decode(path, timeout_s=decode_timeout_s), sha256=sha)
    if cache_file is not None:
        try:
            write_json_atomic(cache_file, analysis.to_dict())
        except OSError as exc:  # the analysis is still good; a cache that cannot be written only costs time
            logger.warning("cannot write the analysis cache %s: %s", cache_file, exc)
    return analysis


def best_moment(analysis: MusicAnalysis, *, duration_s: float) -> tuple[float, float]:
    """The loudest window of ``duration_s`` seconds that starts on a downbeat (creators use the drop, not the intro).

    Candidates start on downbeats (else beats, else every energy frame) and must fit in the track; the one with the
    highest mean RMS energy wins, the earliest on ties.

    Args:
        analysis: the track's analysis.
        duration_s: wanted window length, seconds.

    Returns:
        ``(start_s, end_s)``; ``(0.0, analysis.duration_s)`` when the track is not longer than ``duration_s``.

    Raises:
        ConfigError: ``duration_s`` is not a positive finite number.
    """
    if not (np.isfinite(duration_s) and duration_s > 0):
        raise ConfigError(f"duration_s must be a positive number of seconds, got {duration_s!r}")
    if duration_s >= analysis.duration_s:
        return 0.0, float(analysis.duration_s)
    hop_s, n = analysis.energy_hop_s, len(analysis.energy)
    for starts in (analysis.downbeats_s, analysis.beats_s, tuple(np.arange(n) * hop_s), (0.0,)):
        if fits := [s for s in starts if s + duration_s <= analysis.duration_s + 1e-9]:
            break
    cumsum = np.concatenate([[0.0], np.cumsum(analysis.energy)])
    first = np.minimum(np.round(np.asarray(fits) / hop_s).astype(int), max(n - 1, 0))
    last = np.minimum(first + max(1, round(duration_s / hop_s)), n)
    start = float(fits[int(np.argmax((cumsum[last] - cumsum[first]) / np.maximum(last - first, 1)))])
    return start, start + float(duration_s)


def _decode(path: Path, *, timeout_s: float) -> np.ndarray:
    """Decode to mono float32 at ``SR``; every failure becomes an ``InvalidMediaError`` naming the file."""
    if path.suffix.lower() in FFMPEG_EXTS:
        y = decode_ffmpeg(path, timeout_s=timeout_s)
    else:
        y = _decode_soundfile(path)
    check_decoded(path, y)
    return y


def _decode_soundfile(path: Path) -> np.ndarray:
    librosa = _librosa()
    import soundfile as sf  # a dependency of librosa
    try:
        # An open SoundFile (not a path) keeps librosa from silently falling back to audioread.
        with sf.SoundFile(path) as f:
            declared, log, file_sr, fmt = f.frames, f.extra_info, f.samplerate, f.format
            y, _ = librosa.load(f, sr=SR, mono=True, dtype=np.float32)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise InvalidMediaError(path, f"not a readable {path.suffix.lower()} audio file ({exc})") from exc
    check_soundfile_length(path, y, declared_frames=declared, file_sr=file_sr, fmt=fmt, log=log)
    return y


def _analyze_signal(y: np.ndarray, *, sha256: str) -> MusicAnalysis:
    librosa = _librosa()
    duration_s = y.size / SR
    rms = librosa.feature.rms(y=y, frame_length=2 * ENERGY_HOP, hop_length=ENERGY_HOP)[0]
    power = np.abs(librosa.stft(y, n_fft=2048, hop_length=HOP)) ** 2
    frame_weight = power.sum(axis=0)
    centroid = librosa.feature.spectral_centroid(S=np.sqrt(power), sr=SR)[0]
    centroid_hz = float(np.average(centroid, weights=frame_weight)) if frame_weight.sum() > 0 else 0.0
    brightness = float(np.clip(np.log2(max(centroid_hz, 1.0) / 250.0) / 5.0, 0.0, 1.0))  # 5 octaves: 250 Hz-8 kHz
    loudness_db = float(20 * np.log10(max(float(np.mean(rms)), 1e-6)))
    silent = rms.size == 0 or 20 * np.log10(max(float(rms.max()), 1e-12)) < SILENCE_DB
    tempo, beats, downbeats, density, key, mode, key_conf = None, (), (), 0.0, None, None, 0.0
    if not silent:
        tempo, beats, downbeats, density = _rhythm(librosa, power, duration_s=duration_s)
        key, mode, key_conf = _key(librosa, power, frame_weight)
    arousal, valence = mood_proxies(tempo_bpm=tempo, loudness_db=loudness_db, onset_density_per_s=density,
                             mode=mode, key_confidence=key_conf, brightness=brightness)
    return MusicAnalysis(
        sha256=sha256, duration_s=round(duration_s, 4), tempo_bpm=None if tempo is None else round(tempo, 2),
        beats_s=beats, downbeats_s=downbeats, beats_per_bar=BEATS_PER_BAR,
        onset_density_per_s=round(density, 3), energy=tuple(round(float(v), 6) for v in rms),
        energy_hop_s=ENERGY_HOP / SR, loudness_db=round(loudness_db, 2), centroid_hz=round(centroid_hz, 1),
        brightness=round(brightness, 4), key=key, mode=mode, key_confidence=round(key_conf, 4),
        arousal=round(arousal, 4), valence=round(valence, 4))


def _rhythm(librosa, power: np.ndarray, *, duration_s: float):
    """Tempo (bpm or None), beat and downbeat times (s) and onset density (1/s) from a power spectrogram."""
    mel = librosa.feature.melspectrogram(S=power, sr=SR, n_mels=96)
    mel_db = librosa.power_to_db(mel, ref=np.max, top_db=80.0)
    freqs = librosa.mel_frequencies(n_mels=96, fmax=SR / 2)
    flux = librosa.onset.onset_strength(S=mel_db, sr=SR, hop_length=HOP)
    # Hi-hats and noise live above 4 kHz; the beat level is carried by kick, snare, bass and chords below it.
    low_mid = librosa.onset.onset_strength(S=mel_db[freqs < 4000], sr=SR, hop_length=HOP)
    onsets = librosa.onset.onset_detect(onset_envelope=flux, sr=SR, hop_length=HOP)
    density = len(onsets) / duration_s if duration_s > 0 else 0.0
    tempo, frames = _track_beats(librosa, flux, low_mid)
    if frames.size == 0:
        return None, (), (), density
    # librosa centres the flux two frames after the window that first sees a hit; a dB flux already jumps as
    # the hit enters the window, so its beats land one frame (23 ms) late on the evaluation's known beats.
    beat_s = np.maximum(librosa.frames_to_time(frames, sr=SR, hop_length=HOP) - HOP / SR, 0.0)
    phase = _downbeat_phase(frames, low=mel[freqs < 200].sum(axis=0), full=mel.sum(axis=0))
    return (_refine_tempo(beat_s, fallback_bpm=tempo), tuple(round(float(t), 4) for t in beat_s),
            tuple(round(float(t), 4) for t in beat_s[phase::BEATS_PER_BAR]), density)


def _peak_near(envelope: np.ndarray, frames: np.ndarray, *, radius: int = 2) -> np.ndarray:
    """Largest envelope value within ``radius`` frames of each frame (beats land a frame or two off the peak)."""
    padded = np.pad(envelope, radius)
    return np.array([padded[f: f + 2 * radius + 1].max() for f in frames]) if len(frames) else np.zeros(0)


def _track_beats(librosa, flux: np.ndarray, low_mid: np.ndarray, *, min_bpm: float = 55.0,
                 max_bpm: float = 190.0, ratio: float = 0.3) -> tuple[float, np.ndarray]:
    """Beat frames from librosa's DP tracker, moved to the metrical level the low/mid onsets support.

    librosa's tempo prior (log-normal around 120 bpm) often locks to half of a fast kick/snare groove or to the
    8th-note hi-hats of a slow one. If the mid-points between tracked beats carry at least ``ratio`` of the beats'
    low/mid onset strength, they are beats too (double); if every other beat carries less than ``ratio`` of the
    rest, those are off-beats (halve). Each move re-runs the tracker at the new tempo, within [min_bpm, max_bpm].
    """
    tempo, frames = librosa.beat.beat_track(onset_envelope=flux, sr=SR, hop_length=HOP)
    tempo = float(np.atleast_1d(tempo)[0])
    for _ in range(2):
        if len(frames) < 4:
            break
        on = _peak_near(low_mid, frames)
        mid = _peak_near(low_mid, (frames[:-1] + frames[1:]) // 2)
        even, odd = on[0::2].mean(), on[1::2].mean()
        if on.mean() <= 0:
            break
        if mid.mean() >= ratio * on.mean() and 2 * tempo <= max_bpm:
            tempo *= 2
        elif min(even, odd) < ratio * max(even, odd) and tempo / 2 >= min_bpm:
            tempo /= 2
        else:
            break
        _, frames = librosa.beat.beat_track(onset_envelope=flux, sr=SR, hop_length=HOP, bpm=tempo)
    return tempo, frames


def _refine_tempo(beat_s: np.ndarray, *, fallback_bpm: float) -> float:
    """Tempo from the mean of the regular inter-beat intervals: finer than the tempogram's lag grid (~3% at 180)."""
    ibi = np.diff(beat_s)
    if ibi.size < 3:
        return float(fallback_bpm)
    regular = ibi[np.abs(ibi - np.median(ibi)) < 0.15 * np.median(ibi)]  # drop gaps and double-steps
    return float(60.0 / regular.mean()) if regular.size else float(fallback_bpm)


def _downbeat_phase(frames: np.ndarray, *, low: np.ndarray, full: np.ndarray) -> int:
    """Which of the first ``BEATS_PER_BAR`` beats starts a bar: the phase whose beats carry the most bass and
    overall energy (each normalised by its mean over all beats), taking the loudest frame within ~50 ms of the beat
    because a short hit sits between frame centres."""
    if len(frames) < 2:
        return 0
    after = np.clip(frames[:, None] + np.arange(-2, 3)[None, :], 0, len(full) - 1)
    score = low[after].max(axis=1) / (low[after].max(axis=1).mean() + 1e-12)
    score = score + full[after].max(axis=1) / (full[after].max(axis=1).mean() + 1e-12)
    phases = [score[p::BEATS_PER_BAR].mean() for p in range(min(BEATS_PER_BAR, len(frames)))]
    return int(np.argmax(phases))


def _key(librosa, power: np.ndarray, frame_weight: np.ndarray) -> tuple[str | None, str | None, float]:
    """Key and mode by correlating the energy-weighted mean chroma with the 24 rotated Krumhansl-Kessler profiles."""
    chroma = librosa.feature.chroma_stft(S=power, sr=SR, tuning=0.0)
    if frame_weight.sum() <= 0:
        return None, None, 0.0
    profile = chroma @ frame_weight / frame_weight.sum()
    if np.ptp(profile) <= 0:
        return None, None, 0.0
    templates = [np.roll(t, tonic) for t in (_MAJOR, _MINOR) for tonic in range(12)]
    r = np.array([np.corrcoef(t, profile)[0, 1] for t in templates])
    best = int(np.argmax(r))
    return _PITCHES[best % 12], ("major", "minor")[best // 12], float(r[best])


def mood_proxies(*, tempo_bpm: float | None, loudness_db: float, onset_density_per_s: float, mode: str | None,
                 key_confidence: float, brightness: float) -> tuple[float, float]:
    """Arousal and valence proxies in [0, 1] from cues that music-emotion studies tie to each axis.

    tempo = clip((bpm - 60) / 120), 0 without a pulse; loud = clip((loudness_db + 40) / 30);
    busy = clip(onsets_per_s / 8); modal = 0.5 + 0.3 * clip(key_confidence) for major, 0.5 - that for minor.
    arousal = 0.4 tempo + 0.35 loud + 0.25 busy; valence = 0.5 modal + 0.3 brightness + 0.2 tempo.
    These are heuristics for ranking, not a trained emotion model. Composed tracks
    (``crossmodal_match.compose``) get theirs from the same formulas.
    """
    tempo = float(np.clip((tempo_bpm - 60.0) / 120.0, 0, 1)) if tempo_bpm else 0.0
    loud = float(np.clip((loudness_db + 40.0) / 30.0, 0, 1))
    busy = float(np.clip(onset_density_per_s / 8.0, 0, 1))
    sign = {"major": 1.0, "minor": -1.0}.get(mode or "", 0.0)
    modal = 0.5 + 0.3 * sign * float(np.clip(key_confidence, 0, 1))
    return 0.4 * tempo + 0.35 * loud + 0.25 * busy, 0.5 * modal + 0.3 * brightness + 0.2 * tempo
