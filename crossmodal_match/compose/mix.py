"""The mix: note and hit events rendered by the instruments onto stereo buses, side-chain pumping for electronic
styles, a convolution reverb send, the style's tone (low-pass, vinyl crackle), and the ending's fade to silence.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from crossmodal_match.compose.drums import KIT_MIX, kit
from crossmodal_match.compose.patterns import Events
from crossmodal_match.compose.style import StyleSpec
from crossmodal_match.compose.synth import Voices

# part -> (pan, reverb send, bus low-pass Hz or 0)
_BUSES = {"bass": (0.0, 0.0, 0), "chords": (-0.18, 0.5, 0), "melody": (0.15, 0.6, 0), "pad": (0.0, 0.7, 4500),
          "pad_swell": (0.0, 0.8, 4500)}
_BUS_LOWPASS = {"saw": 1100.0, "cello": 1800.0, "supersaw": 5500.0, "lead": 5000.0, "ostinato": 3500.0,
                "strings": 3800.0, "pad": 3000.0}
_PART_GAIN = {"bass": 0.38, "chords": 0.26, "melody": 0.34, "pad": 0.12, "pad_swell": 0.12}
_DRUM_GAIN = 0.6


def _pan(mono: np.ndarray, pan: float, level: float = 1.0) -> np.ndarray:
    """Constant-power pan, ``pan`` in [-1 (left), 1 (right)], times ``level``: np.ndarray [shape=(2, n)].

    Buses are channel-first while they are mixed: every step then reads and writes contiguous rows (an
    interleaved (n, 2) layout cost a minute's mix about 0.3 s in strided writes and filter copies on 2 cores).
    """
    angle = (pan + 1) * np.pi / 4
    gains = (level * np.sqrt(2) * np.array([np.cos(angle), np.sin(angle)])).astype(mono.dtype)
    return np.multiply.outer(gains, mono)


def _place(bus: np.ndarray, start: int, sound: np.ndarray) -> None:
    if start >= len(bus):
        return
    end = min(len(bus), start + len(sound))
    bus[start:end] += sound[: end - start]


def _instrument(spec: StyleSpec, part: str) -> str:
    if part.startswith("pad"):
        return spec.pad.instrument + ("_swell" if part == "pad_swell" else "")
    return getattr(spec, part).instrument


def render_parts(events: Events, spec: StyleSpec, *, n: int, sr: int,
                 rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Each bus of the track, np.ndarray [shape=(2, n)] (mono parts panned), before the reverb.

    Args:
        events: the composition's notes and hits.
        spec: the style (instruments, levels).
        n: track length in samples.
        sr: sample rate, Hz.
        rng: the composition's generator (noise of drums and plucks).
    """
    voices = Voices(sr, rng)
    buses = {}  # float32: a minute of stereo buses is memory-bound work, half the bytes is half the time
    for part, notes in events.notes.items():
        instrument = _instrument(spec, part)
        level = (spec.pad.level if part.startswith("pad") else getattr(spec, part).level) * _PART_GAIN[part]
        mono = np.zeros(n, dtype=np.float32)
        for onset_s, duration_s, midi, velocity in notes:
            _place(mono, int(round(onset_s * sr)), voices.note(instrument, midi, duration_s, velocity))
        cutoff = _BUS_LOWPASS.get(instrument.removesuffix("_swell"), 0.0)
        if cutoff and cutoff < 0.45 * sr:
            mono = signal.sosfilt(signal.butter(2, cutoff, fs=sr, output="sos"), mono).astype(np.float32)
        buses[part] = _pan(mono, _BUSES[part][0], level)
    drums = np.zeros((2, n), dtype=np.float32)
    sounds, mix = kit(spec.drums.instrument, sr, rng), KIT_MIX[spec.drums.instrument]
    for voice, hits in events.hits.items():
        level, pan = mix[voice]
        mono = np.zeros(n, dtype=np.float32)
        for onset_s, velocity in hits:
            _place(mono, int(round(onset_s * sr)), sounds[voice] * velocity)
        drums += _pan(mono, pan, level * spec.drums.level * _DRUM_GAIN)
    buses["drums"] = drums
    return buses


def _pump(n: int, sr: int, kicks: list[tuple[float, float]], *, depth: float = 0.45,
          recover_s: float = 0.18) -> np.ndarray:
    """Side-chain gain [shape=(n,)]: dips by ``depth`` at each kick and recovers over ``recover_s``."""
    impulses = np.zeros(n)
    for onset_s, _ in kicks:
        i = int(round(onset_s * sr))
        if i < n:
            impulses[i] = 1.0
    shape = np.exp(-np.arange(int(4 * recover_s * sr)) / (recover_s * sr / 3))
    duck = np.minimum(signal.oaconvolve(impulses, shape)[:n], 1.0)
    return 1.0 - depth * duck


def _reverb_ir(sr: int, *, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A stereo room: decorrelated noise decaying 60 dB over ``seconds``, darker as it decays, 10 ms pre-delay."""
    t = np.arange(int(seconds * sr)) / sr
    noise = rng.standard_normal((len(t), 2)) * np.exp(-6.9 * t / seconds)[:, None]
    noise = signal.sosfilt(signal.butter(1, min(6000.0, 0.4 * sr), fs=sr, output="sos"), noise, axis=0)
    ir = np.concatenate([np.zeros((int(0.01 * sr), 2)), noise])
    return ir / np.sqrt((ir ** 2).sum(axis=0, keepdims=True))


def mixdown(buses: dict[str, np.ndarray], events: Events, spec: StyleSpec, *, sr: int,
            rng: np.random.Generator) -> np.ndarray:
    """Sum the buses (np.ndarray [shape=(2, n)] each, from :func:`render_parts`) with the style's side-chain,
    reverb send, tone and crackle: np.ndarray [shape=(n, 2)] (a transposed view of channel-first samples)."""
    n = buses["drums"].shape[1]
    if spec.drums.pattern == "four-on-the-floor" and events.hits.get("kick"):
        pump = _pump(n, sr, events.hits["kick"])[None, :].astype(np.float32)
        for part in ("chords", "pad", "pad_swell", "bass"):
            if part in buses:
                buses[part] = buses[part] * (pump if part != "bass" else 0.5 + 0.5 * pump)
    dry = sum(buses.values())
    send = sum(buses[p] * _BUSES[p][1] for p in buses if p in _BUSES) + 0.25 * buses["drums"]
    if spec.reverb > 0:
        ir = _reverb_ir(sr, seconds=1.2 + 2.0 * spec.reverb, rng=rng).astype(np.float32)
        wet = np.stack([signal.oaconvolve(send[c], ir[:, c])[:n] for c in range(2)])
        dry = dry + spec.reverb * wet
    if spec.lowpass_hz and spec.lowpass_hz < 0.45 * sr:
        dry = signal.sosfilt(signal.butter(2, spec.lowpass_hz, fs=sr, output="sos"), dry, axis=-1)
    if spec.crackle > 0:
        pops = (rng.random(n) < 6.0 / sr) * rng.standard_normal(n)  # about six pops a second
        hiss = 0.08 * rng.standard_normal(n)
        crackle = signal.sosfilt(signal.butter(2, [800, min(7000, 0.45 * sr - 1)], btype="bandpass", fs=sr,
                                               output="sos"), pops + hiss)
        dry = dry + spec.crackle * crackle[None, :]
    return dry.T


def fade_edges(x: np.ndarray, *, sr: int, fade_out_s: float) -> np.ndarray:
    """A 5 ms fade-in and a ``fade_out_s`` cosine fade-out to exact silence at the last sample (no click)."""
    n = len(x)
    out = x.copy(order="K")  # keeps channel-first memory (see _pan)
    head = min(n, int(0.005 * sr))
    out[:head] *= (np.arange(head) / max(head, 1))[:, None]
    tail = min(n, max(1, int(fade_out_s * sr)))
    out[n - tail:] *= (0.5 + 0.5 * np.cos(np.pi * np.arange(1, tail + 1) / tail))[:, None]
    return out
