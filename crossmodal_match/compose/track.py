"""``ComposedTrack``: a composed, mastered track as plain data, its atomic WAV writer, and the ``MusicAnalysis`` the
matcher and the draft maker use, built from what the composer knows (no beat tracking: the grid is exact).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crossmodal_match.errors import ComposeError

#: Hop of the analysis energy curve, seconds: the same 46.4 ms as ``crossmodal_match.audio`` (1024 at 22.05 kHz).
ENERGY_HOP_S = 1024 / 22050
# Krumhansl-Kessler key profiles, index 0 = tonic (as crossmodal_match.audio uses for key confidence).
_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


@dataclass(frozen=True, eq=False)
class ComposedTrack:
    """A composed track.

    Attributes:
        samples: np.ndarray [shape=(n, 2), float32] in (-1, 1), n = round(length_s * sr).
        sr: sample rate, Hz.
        length_s: n / sr, seconds.
        bpm: the tempo played (the asked one, or nudged by at most 2 % to fit whole bars).
        requested_bpm: the tempo asked for.
        beats_s: every beat from 0 to the last bar's end (the track's end, or the start of the ring-out), seconds.
        downbeats_s: every fourth beat (4/4), seconds.
        style, seed: what it was composed with.
        key: e.g. "A minor"; mode: "major" or "minor".
        valence, arousal: the mood it was composed for, [0, 1].
        sections: ``(label, first bar, bars)`` of the arrangement.
        loudness_lufs: integrated loudness (BS.1770-4); true_peak_db: dBTP (4x oversampled).
        notes_per_s: distinct onsets per second; pitch_classes: duration-weighted pitch-class histogram from C.
    """

    samples: np.ndarray
    sr: int
    length_s: float
    bpm: float
    requested_bpm: float
    beats_s: tuple[float, ...]
    downbeats_s: tuple[float, ...]
    style: str
    seed: int
    key: str
    mode: str
    valence: float
    arousal: float
    sections: tuple[tuple[str, int, int], ...]
    loudness_lufs: float
    true_peak_db: float
    notes_per_s: float
    pitch_classes: tuple[float, ...]

    def meta(self) -> dict[str, Any]:
        """Everything but the samples, JSON-ready."""
        return {"style": self.style, "seed": self.seed, "sr": self.sr, "length_s": self.length_s, "bpm": self.bpm,
                "requested_bpm": self.requested_bpm, "key": self.key, "mode": self.mode, "valence": self.valence,
                "arousal": self.arousal, "sections": [list(s) for s in self.sections],
                "loudness_lufs": round(self.loudness_lufs, 2), "true_peak_db": round(self.true_peak_db, 2),
                "bars": len(self.downbeats_s) - 1, "licence": LICENCE}

    def write_wav(self, path: str | os.PathLike) -> Path:
        """Write the track as 16-bit stereo PCM WAV, atomically (a temp file in the same folder, then
        ``os.replace``): a failure leaves no partial file behind.

        Raises:
            ComposeError: the folder does not exist or cannot be written.
        """
        import soundfile as sf

        path = Path(path)
        if not path.parent.is_dir():
            raise ComposeError("out", str(path), "a .wav path in an existing folder")
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            sf.write(str(tmp), self.samples, self.sr, subtype="PCM_16", format="WAV")
            os.replace(tmp, path)
        except (OSError, RuntimeError) as exc:
            tmp.unlink(missing_ok=True)
            raise ComposeError("out", str(path), f"a writable .wav path ({exc})") from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path

    def analysis(self, *, sha256: str | None = None):
        """The track as a ``crossmodal_match.audio.MusicAnalysis``, from the composition: the exact beats and
        downbeats (the grid's last downbeat included, so every bar can be cut), the tempo played, the key; energy
        curve, loudness and spectral centroid measured on the samples with numpy; onset density from the notes;
        arousal and valence by the same formulas as for any analysed track.

        Args:
            sha256: the WAV file's digest (its identity in caches); None: a digest of the samples.
        """
        from crossmodal_match.audio import BEATS_PER_BAR, MusicAnalysis, mood_proxies

        mono = self.samples.astype(np.float64).mean(axis=1)
        hop = max(1, int(round(ENERGY_HOP_S * self.sr)))
        frames = mono[: len(mono) // hop * hop].reshape(-1, hop)
        rms = np.sqrt((frames ** 2).mean(axis=1)) if len(frames) else np.zeros(0)
        loudness_db = float(20 * np.log10(max(float(rms.mean()) if rms.size else 0.0, 1e-6)))
        centroid_hz = _centroid_hz(mono, sr=self.sr)
        brightness = float(np.clip(np.log2(max(centroid_hz, 1.0) / 250.0) / 5.0, 0.0, 1.0))
        confidence = _key_confidence(self.pitch_classes, key=self.key, mode=self.mode)
        arousal, valence = mood_proxies(tempo_bpm=self.bpm, loudness_db=loudness_db,
                                        onset_density_per_s=self.notes_per_s, mode=self.mode,
                                        key_confidence=confidence, brightness=brightness)
        digest = sha256 or hashlib.sha256(self.samples.tobytes()).hexdigest()
        return MusicAnalysis(
            sha256=digest, duration_s=round(self.length_s, 6), tempo_bpm=round(self.bpm, 4), beats_s=self.beats_s,
            downbeats_s=self.downbeats_s, beats_per_bar=BEATS_PER_BAR, onset_density_per_s=round(self.notes_per_s, 3),
            energy=tuple(round(float(v), 6) for v in rms), energy_hop_s=hop / self.sr,
            loudness_db=round(loudness_db, 2), centroid_hz=round(centroid_hz, 1), brightness=round(brightness, 4),
            key=self.key.split()[0], mode=self.mode, key_confidence=round(confidence, 4), arousal=round(arousal, 4),
            valence=round(valence, 4))


LICENCE = ("CC0-1.0: composed and synthesised by creator-studio's own code (no samples, no third-party "
           "material); free to use, modify and publish, commercially too")


def _centroid_hz(mono: np.ndarray, *, sr: int, n_fft: int = 2048, max_hz: float = 11025.0) -> float:
    """Energy-weighted mean of the per-frame spectral centroid (of the magnitude spectrum up to ``max_hz``: what
    ``crossmodal_match.audio`` sees at its 22.05 kHz), Hz."""
    hop = n_fft
    n = len(mono) // hop
    if n == 0:
        return 0.0
    frames = mono[: n * hop].reshape(n, hop) * np.hanning(hop)
    freqs = np.fft.rfftfreq(hop, 1.0 / sr)
    mag = np.abs(np.fft.rfft(frames, axis=1))[:, freqs <= max_hz]
    freqs = freqs[freqs <= max_hz]
    total = mag.sum(axis=1)
    centroid = (mag @ freqs) / np.maximum(total, 1e-12)
    weight = (mag ** 2).sum(axis=1)
    return float(np.average(centroid, weights=weight)) if weight.sum() > 0 else 0.0


def _key_confidence(profile: tuple[float, ...], *, key: str, mode: str) -> float:
    """Correlation of the notes' pitch-class histogram with the key's Krumhansl-Kessler profile, in [-1, 1]."""
    from crossmodal_match.compose.harmony import tonic_of

    tonic = tonic_of(key)
    template = np.roll(_MAJOR if mode == "major" else _MINOR, tonic)
    p = np.asarray(profile)
    if np.ptp(p) <= 0:
        return 0.0
    return float(np.corrcoef(template, p)[0, 1])
