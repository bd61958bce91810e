"""Drum kits, synthesised: kicks are pitch-swept sines, snares and claps filtered noise over a tone, hats and
shakers high-passed noise, taiko a low swept drum with a skin noise, crashes long bright noise.

``kit(name, sr, rng)`` renders each voice of a kit once (a composition adds the same hit many times) as mono
``np.ndarray [shape=(n,), float64]`` peaking at 1.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

# kit -> voice -> (level, pan): the balance inside the kit, before the style's drum level
KIT_MIX = {
    "soft": {"kick": (0.75, 0.0), "snare": (0.55, 0.05), "hat": (0.2, 0.25), "crash": (0.18, -0.3),
             "open": (0.2, 0.25), "rim": (0.3, -0.1), "shaker": (0.15, 0.3), "taiko": (0.7, 0.0), "clap": (0.5, 0.0)},
    "acoustic": {"kick": (0.7, 0.0), "snare": (0.6, 0.05), "hat": (0.25, 0.3), "shaker": (0.22, -0.35),
                 "crash": (0.25, -0.3), "open": (0.25, 0.3), "rim": (0.3, 0.0), "taiko": (0.7, 0.0),
                 "clap": (0.5, 0.0)},
    "electronic": {"kick": (0.72, 0.0), "clap": (0.6, 0.0), "open": (0.3, 0.25), "hat": (0.22, -0.25),
                   "snare": (0.55, 0.0), "crash": (0.3, 0.3), "rim": (0.3, 0.0), "shaker": (0.2, 0.3),
                   "taiko": (0.7, 0.0)},
    "taiko": {"taiko": (0.6, 0.0), "rim": (0.22, 0.2), "snare": (0.45, -0.1), "kick": (0.8, 0.0),
              "crash": (0.3, 0.0), "hat": (0.2, 0.3), "open": (0.2, 0.3), "shaker": (0.2, 0.3), "clap": (0.4, 0.0)},
    "brush": {"kick": (0.65, 0.0), "rim": (0.35, -0.15), "shaker": (0.2, 0.3), "hat": (0.15, 0.3),
              "crash": (0.15, -0.3), "snare": (0.4, 0.0), "open": (0.18, 0.3), "taiko": (0.6, 0.0),
              "clap": (0.4, 0.0)},
}


def _t(seconds: float, sr: int) -> np.ndarray:
    return np.arange(int(seconds * sr)) / sr


def _band(noise: np.ndarray, sr: int, lo: float, hi: float | None = None) -> np.ndarray:
    hi = min(hi or 0.45 * sr, 0.45 * sr)
    sos = signal.butter(2, [lo, hi], btype="bandpass", fs=sr, output="sos") if lo > 0 else \
        signal.butter(2, hi, btype="lowpass", fs=sr, output="sos")
    return signal.sosfilt(sos, noise)


def _norm(x: np.ndarray) -> np.ndarray:
    x = x * np.minimum(1.0, np.arange(len(x)) / 8.0)  # no step at the very first sample
    return x / max(float(np.abs(x).max()), 1e-9)


def kick(sr: int, *, f_hi: float, f_lo: float, sweep: float, decay: float, length_s: float, click: float) -> np.ndarray:
    """A kick: a sine swept from ``f_hi`` to ``f_lo`` Hz (rate ``sweep`` /s), decaying at ``decay`` /s, plus a
    short click for attack."""
    t = _t(length_s, sr)
    phase = 2 * np.pi * (f_lo * t + (f_hi - f_lo) / sweep * (1 - np.exp(-sweep * t)))
    body = np.sin(phase) * np.exp(-decay * t)
    tail = np.clip((length_s - t) / 0.02, 0, 1)
    return _norm(np.tanh(1.5 * body) * tail + click * np.exp(-t * 300) * np.sin(2 * np.pi * 1800 * t))


def kit(name: str, sr: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Every voice of kit ``name`` (``KIT_MIX`` keys), rendered once."""
    def noise(seconds: float) -> np.ndarray:
        return rng.uniform(-1.0, 1.0, int(seconds * sr))

    t15, t3, t05 = _t(0.15, sr), _t(0.3, sr), _t(0.05, sr)
    hard = name in ("electronic", "acoustic")
    voices = {
        "kick": kick(sr, f_hi=160 if hard else 120, f_lo=48 if name == "electronic" else 55,
                     sweep=35 if hard else 25, decay=7 if name == "electronic" else 12,
                     length_s=0.45 if name == "electronic" else 0.3,
                     click=0.6 if name == "electronic" else 0.3 if hard else 0.1),
        "snare": _norm(_band(noise(0.3), sr, 1200, 9000) * np.exp(-t3 * (18 if hard else 24))
                       + 0.5 * np.sin(2 * np.pi * 185 * t3) * np.exp(-t3 * 30)),
        "clap": _norm(_band(noise(0.3), sr, 900, 5000) * sum(np.exp(-np.maximum(t3 - d, 0) * 60) * (t3 >= d)
                                                              for d in (0.0, 0.011, 0.022))),
        "hat": _norm(_band(noise(0.06), sr, 7000) * np.exp(-_t(0.06, sr) * 70)),
        "open": _norm(_band(noise(0.35), sr, 6500) * np.exp(-_t(0.35, sr) * 9)),
        "shaker": _norm(_band(noise(0.09), sr, 5000, 12000) * np.sin(np.pi * np.minimum(_t(0.09, sr) / 0.09, 1.0))
                        ** 2),
        "rim": _norm(np.sin(2 * np.pi * 820 * t05) * np.exp(-t05 * 90) + 0.4 * _band(noise(0.05), sr, 2000, 6000)
                     * np.exp(-t05 * 150)),
        "crash": _norm(_band(noise(1.8), sr, 4000) * np.exp(-_t(1.8, sr) * 2.2)),
        "taiko": _norm(kick(sr, f_hi=140, f_lo=70, sweep=12, decay=6, length_s=0.7, click=0.0)
                       + 0.25 * np.pad(_band(noise(0.15), sr, 200, 1500) * np.exp(-t15 * 30),
                                       (0, int(0.7 * sr) - len(t15)))),
    }
    if name == "brush":  # a brushed snare is a swish, not a crack
        voices["snare"] = _norm(_band(noise(0.25), sr, 2000, 8000) * np.exp(-_t(0.25, sr) * 14))
    return voices
