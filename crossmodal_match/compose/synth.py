"""The instruments, in numpy: every sound of a composed track is synthesised here, no sample is read.

Oscillators are band-limited (PolyBLEP saws and squares; additive tones stop below 0.45 of the sample rate; FM
indices are capped so their sidebands stay under Nyquist), every note has an attack and release envelope (no
clicks), and plucked strings are Karplus-Strong loops. Each function returns a mono ``np.ndarray [shape=(n,),
float64]`` peaking near 1 (before velocity) for one note or hit. ``Voices`` caches the notes it renders, because a
track repeats the same pitches and lengths many times.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

NYQUIST_SHARE = 0.45  # partials above this share of the sample rate are left out


def midi_hz(midi: float) -> float:
    """Frequency of a MIDI note, Hz (A4 = 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((midi - 69) / 12.0)


def envelope(n: int, sr: int, *, attack_s: float, release_s: float, decay_per_s: float = 0.0,
             hold_n: int | None = None) -> np.ndarray:
    """Linear attack, exponential decay (``decay_per_s`` nepers per second), linear release over the last
    ``release_s`` of the ``n`` samples (or after ``hold_n`` samples)."""
    t = np.arange(n) / sr
    env = np.minimum(1.0, t / max(attack_s, 1e-4)) * np.exp(-decay_per_s * t)
    rel = max(int(release_s * sr), 1)
    end = n if hold_n is None else min(n, hold_n + rel)
    ramp = np.clip((end - np.arange(n)) / rel, 0.0, 1.0)
    return env * ramp


def _phase(freq: float | np.ndarray, n: int, sr: int, phase0: float = 0.0) -> np.ndarray:
    """Oscillator phase in cycles, [0, 1), for a fixed or per-sample frequency."""
    if np.ndim(freq) == 0:
        return (phase0 + np.arange(n) * (float(freq) / sr)) % 1.0
    inc = np.asarray(freq, dtype=np.float64) / sr
    return (phase0 + np.concatenate([[0.0], np.cumsum(inc[:-1])])) % 1.0


def saw(freq: float | np.ndarray, n: int, sr: int, *, phase0: float = 0.0) -> np.ndarray:
    """A PolyBLEP band-limited sawtooth in [-1, 1]."""
    t = _phase(freq, n, sr, phase0)
    dt = np.broadcast_to(np.asarray(freq, dtype=np.float64) / sr, (n,))
    out = 2.0 * t - 1.0
    lo, hi = t < dt, t > 1.0 - dt
    x = t[lo] / dt[lo]
    out[lo] -= x + x - x * x - 1.0
    x = (t[hi] - 1.0) / dt[hi]
    out[hi] -= x * x + x + x + 1.0
    return out


def sine(freq: float | np.ndarray, n: int, sr: int, *, phase0: float = 0.0) -> np.ndarray:
    return np.sin(2 * np.pi * _phase(freq, n, sr, phase0))


def additive(freq: float, n: int, sr: int, *, amps: list[float], decays: list[float],
             stretch: float = 0.0) -> np.ndarray:
    """Sum of partials k = 1.. with amplitudes ``amps`` and decay rates ``decays`` (nepers/s), slightly
    stretched (``stretch``: piano-string inharmonicity B), band-limited."""
    t = np.arange(n) / sr
    out = np.zeros(n)
    for k, (a, d) in enumerate(zip(amps, decays), start=1):
        f = freq * k * np.sqrt(1.0 + stretch * k * k)
        if f >= NYQUIST_SHARE * sr:
            break
        out += a * np.sin(2 * np.pi * f * t + k) * np.exp(-d * t)
    return out


def fm(freq: float, n: int, sr: int, *, ratio: float, index: float, index_decay: float) -> np.ndarray:
    """Two-operator FM: a carrier at ``freq`` modulated at ``ratio * freq`` with a decaying index, the index
    capped so that the sidebands that matter (index + 2 of them) stay below ``NYQUIST_SHARE`` of ``sr``."""
    t = np.arange(n) / sr
    cap = max(0.0, (NYQUIST_SHARE * sr / freq - 1.0) / ratio - 2.0)
    idx = min(index, cap) * np.exp(-index_decay * t)
    return np.sin(2 * np.pi * freq * t + idx * np.sin(2 * np.pi * ratio * freq * t))


def karplus(freq: float, n: int, sr: int, *, brightness: float, decay: float, rng: np.random.Generator) -> np.ndarray:
    """A plucked string: a noise burst circulating in a delay line of one period, averaged (damped) each pass.

    The loop ``y[i] = x[i] + g (w0 y[i-N] + w1 y[i-N-1])`` is run a period at a time (numpy per block), with the
    tap weights giving the fractional part of the period, so the pitch is exact.

    Args:
        brightness: 0..1, how bright the pluck's noise burst is (a one-pole low-pass on it).
        decay: loop gain per pass, just under 1 (0.99 short, 0.998 long ring).
    """
    period = sr / freq
    big = int(np.floor(period))
    w1 = period - big
    burst = rng.uniform(-1.0, 1.0, big + 1)
    burst = signal.lfilter([brightness], [1.0, -(1.0 - brightness)], burst)
    y = np.zeros(n + big + 1)
    y[: big + 1] = burst[: big + 1]
    pos = big + 1
    while pos < n + big + 1:
        end = min(pos + big, n + big + 1)
        k = end - pos
        y[pos:end] = decay * ((1.0 - w1) * y[pos - big: pos - big + k] + w1 * y[pos - big - 1: pos - big - 1 + k])
        pos = end
    out = y[:n]
    return out - np.mean(out)


class Voices:
    """Note synthesis per instrument, with a cache of rendered notes keyed by (instrument, pitch, length,
    velocity step): a strum repeats the same six strings, a groove the same bass notes.

    Args:
        sr: sample rate, Hz.
        rng: the composition's generator (Karplus-Strong noise bursts, drum noise).
    """

    def __init__(self, sr: int, rng: np.random.Generator) -> None:
        self.sr, self.rng, self._cache = sr, rng, {}

    def note(self, instrument: str, midi: int, duration_s: float, velocity: float) -> np.ndarray:
        """One note of ``instrument``: its sound for ``duration_s`` plus its release tail, scaled by velocity."""
        n_hold = max(int(round(duration_s * self.sr / 32)) * 32, 32)
        vstep = int(round(velocity * 4))
        key = (instrument, midi, n_hold, vstep)
        if key not in self._cache:
            self._cache[key] = getattr(self, "_" + instrument.replace("-", "_"))(midi_hz(midi), n_hold, vstep / 4)
        return self._cache[key] * velocity / max(vstep / 4, 0.25)

    def _tail(self, seconds: float) -> int:
        return int(seconds * self.sr)

    # ---- keys and plucks ---------------------------------------------------------------------------------
    def _epiano(self, f: float, n: int, v: float) -> np.ndarray:
        m = n + self._tail(0.35)
        tone = fm(f, m, self.sr, ratio=1.0, index=0.6 + 1.2 * v, index_decay=3.0)
        # the tine's bell partial, only where it stays under Nyquist
        tine = 0.08 * v * fm(f * 7.0, m, self.sr, ratio=1.0, index=0.5, index_decay=25.0) \
            * (f * 8 < NYQUIST_SHARE * self.sr)
        return (tone + tine) * envelope(m, self.sr, attack_s=0.004, release_s=0.3, decay_per_s=1.2, hold_n=n)

    def _bell(self, f: float, n: int, v: float) -> np.ndarray:
        m = n + self._tail(0.6)
        tone = fm(f, m, self.sr, ratio=3.5, index=1.2 * v + 0.3, index_decay=4.0) + 0.3 * sine(2 * f, m, self.sr)
        return 0.8 * tone * envelope(m, self.sr, attack_s=0.002, release_s=0.5, decay_per_s=2.5, hold_n=n)

    def _piano(self, f: float, n: int, v: float) -> np.ndarray:
        m = n + self._tail(0.4)
        k = np.arange(1, 13)
        amps = list((1.0 / k ** (1.6 - 0.5 * v)) * (1 + 0.3 * (k == 2)))
        decays = list(0.9 + 0.35 * k + f / 900.0)
        tone = additive(f, m, self.sr, amps=amps, decays=decays, stretch=0.0004)
        return 0.7 * tone * envelope(m, self.sr, attack_s=0.003, release_s=0.25, hold_n=n)

    def _pluck(self, f: float, n: int, v: float) -> np.ndarray:
        m = n + self._tail(0.3)
        tone = karplus(f, m, self.sr, brightness=0.35 + 0.5 * v, decay=0.996, rng=self.rng)
        return 1.4 * tone * envelope(m, self.sr, attack_s=0.001, release_s=0.25, hold_n=n)

    def _strum(self, f: float, n: int, v: float) -> np.ndarray:
        m = n + self._tail(0.12)
        tone = karplus(f, m, self.sr, brightness=0.3 + 0.4 * v, decay=0.997, rng=self.rng)
        return 1.2 * tone * envelope(m, self.sr, attack_s=0.001, release_s=0.1, hold_n=n)

    def _lead(self, f: float, n: int, v: float) -> np.ndarray:
        m = n + self._tail(0.15)
        tone = 0.6 * saw(f, m, self.sr) + 0.4 * (saw(f, m, self.sr) - saw(f, m, self.sr, phase0=0.5))
        return 0.5 * tone * envelope(m, self.sr, attack_s=0.005, release_s=0.12, decay_per_s=2.0, hold_n=n)

    # ---- sustained ---------------------------------------------------------------------------------------
    def _detuned(self, f: float, m: int, cents: tuple[float, ...], vibrato: float = 0.0) -> np.ndarray:
        t = np.arange(m) / self.sr
        wobble = 1.0 + vibrato * np.sin(2 * np.pi * 5.2 * t) * np.minimum(1.0, t / 0.6)
        return sum(saw(f * 2 ** (c / 1200) * wobble, m, self.sr, phase0=(0.37 * i) % 1)
                   for i, c in enumerate(cents)) / len(cents)

    def _pad(self, f: float, n: int, v: float) -> np.ndarray:
        m = n + self._tail(0.8)
        return 0.6 * self._detuned(f, m, (-9.0, 0.0, 8.0)) * envelope(m, self.sr, attack_s=0.35, release_s=0.8,
                                                                      hold_n=n)

    def _pad_swell(self, f: float, n: int, v: float) -> np.ndarray:
        m = n + self._tail(0.3)
        return 0.7 * self._detuned(f, m, (-9.0, 0.0, 8.0)) * envelope(m, self.sr, attack_s=n / self.sr * 0.95,
                                                                      release_s=0.3, hold_n=n)

    def _strings(self, f: float, n: int, v: float) -> np.ndarray:
        m = n + self._tail(0.9)
        return 0.6 * self._detuned(f, m, (-6.0, 0.0, 5.0), vibrato=0.0) * envelope(
            m, self.sr, attack_s=0.2, release_s=0.9, hold_n=n)

    def _strings_swell(self, f: float, n: int, v: float) -> np.ndarray:
        m = n + self._tail(0.3)
        return 0.7 * self._detuned(f, m, (-6.0, 0.0, 5.0), vibrato=0.003) * envelope(
            m, self.sr, attack_s=n / self.sr * 0.95, release_s=0.3, hold_n=n)

    def _supersaw(self, f: float, n: int, v: float) -> np.ndarray:
        m = n + self._tail(0.08)
        return 0.7 * self._detuned(f, m, (-14.0, -6.0, 0.0, 6.0, 14.0)) * envelope(
            m, self.sr, attack_s=0.003, release_s=0.07, decay_per_s=3.0, hold_n=n)

    def _ostinato(self, f: float, n: int, v: float) -> np.ndarray:
        m = n + self._tail(0.1)
        return 0.7 * self._detuned(f, m, (-5.0, 4.0)) * envelope(m, self.sr, attack_s=0.006, release_s=0.08,
                                                                 decay_per_s=6.0, hold_n=n)

    # ---- bass ----------------------------------------------------------------------------------------------
    def _sub(self, f: float, n: int, v: float) -> np.ndarray:
        m = n + self._tail(0.06)
        return np.tanh(1.6 * sine(f, m, self.sr)) / np.tanh(1.6) * envelope(m, self.sr, attack_s=0.008,
                                                                            release_s=0.05, decay_per_s=0.8,
                                                                            hold_n=n)

    def _round(self, f: float, n: int, v: float) -> np.ndarray:
        m = n + self._tail(0.08)
        tone = additive(f, m, self.sr, amps=[1.0, 0.45, 0.2, 0.1, 0.05], decays=[1.5, 3.0, 5.0, 7.0, 9.0])
        return tone * envelope(m, self.sr, attack_s=0.004, release_s=0.07, hold_n=n)

    def _saw(self, f: float, n: int, v: float) -> np.ndarray:
        m = n + self._tail(0.04)
        return 0.7 * (0.6 * saw(f, m, self.sr) + 0.5 * sine(f, m, self.sr)) * envelope(
            m, self.sr, attack_s=0.003, release_s=0.03, decay_per_s=2.0, hold_n=n)

    def _cello(self, f: float, n: int, v: float) -> np.ndarray:
        m = n + self._tail(0.4)
        # one saw, no vibrato: beating detuned voices would flutter the low end, which a beat tracker hears as
        # onsets between the beats
        tone = 0.55 * saw(f, m, self.sr) + 0.45 * sine(f, m, self.sr)
        return 0.8 * tone * envelope(m, self.sr, attack_s=0.12, release_s=0.35, hold_n=n)
