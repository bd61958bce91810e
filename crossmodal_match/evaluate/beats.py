"""Beat-tracking evaluation on synthetic click tracks and drum loops whose beats are known exactly.

Each track is synthesised with numpy, written as a 16-bit WAV and analysed through ``analyze_music`` (decoding
included). Beats are scored with ``mir_eval.beat.f_measure`` (+-70 ms window, beats before 5 s ignored as
mir_eval does by default), bars with the same F-measure on downbeats, and tempo as the share of tracks within 4%
of the truth, and separately within 4% of half, the same or double the truth (octave-tolerant).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from crossmodal_match.errors import ConfigError

# Everything below this line of an existing beats.md (hand-written notes) survives a regeneration.
NOTES_MARKER = "<!-- notes below are hand-written and kept when the report is regenerated -->"
KINDS = ("clicks", "drums", "drums-swing", "drums-noise", "drums-humanized")


def _decay(n: int, *, tau_s: float, sr: int) -> np.ndarray:
    return np.exp(-np.arange(n) / (tau_s * sr))


def _kick(*, sr: int, amp: float) -> np.ndarray:
    t = np.arange(int(0.25 * sr)) / sr
    freq_hz = 50 + 70 * np.exp(-t / 0.03)  # the pitch drop that makes a sine sound like a kick drum
    return amp * np.sin(2 * np.pi * np.cumsum(freq_hz) / sr) * _decay(t.size, tau_s=0.08, sr=sr)


def _snare(rng: np.random.Generator, *, sr: int, amp: float = 0.6) -> np.ndarray:
    n = int(0.18 * sr)
    tone = np.sin(2 * np.pi * 190 * np.arange(n) / sr) * _decay(n, tau_s=0.04, sr=sr)
    return amp * (0.6 * rng.standard_normal(n) * _decay(n, tau_s=0.05, sr=sr) + 0.4 * tone)


def _hat(rng: np.random.Generator, *, sr: int, amp: float) -> np.ndarray:
    import scipy.signal

    n = int(0.05 * sr)
    sos = scipy.signal.butter(4, min(7000, 0.45 * sr), "highpass", fs=sr, output="sos")
    return amp * scipy.signal.sosfilt(sos, rng.standard_normal(n)) * _decay(n, tau_s=0.012, sr=sr)


def _click(*, sr: int, freq_hz: float, amp: float) -> np.ndarray:
    n = int(0.03 * sr)
    return amp * np.sin(2 * np.pi * freq_hz * np.arange(n) / sr) * _decay(n, tau_s=0.005, sr=sr)


def _place(y: np.ndarray, *, at_s: float, sound: np.ndarray, sr: int) -> None:
    i = int(round(at_s * sr))
    j = min(y.size, i + sound.size)
    if 0 <= i < y.size:
        y[i:j] += sound[: j - i]


def _finish(y: np.ndarray, rng: np.random.Generator, *, noise_db: float) -> np.ndarray:
    """Normalise to a 0.8 peak and add white noise ``noise_db`` below full scale (no real track is digital zero)."""
    y = y / max(float(np.abs(y).max()), 1e-9) * 0.8
    return (y + 10 ** (noise_db / 20) * rng.standard_normal(y.size)).astype(np.float32)


def click_track(*, bpm: float, duration_s: float, sr: int = 22050, start_s: float = 0.5,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A metronome: a 30 ms click on every beat, the first of each 4/4 bar higher (1.5 kHz) and louder.

    Returns:
        ``(y, beats_s)``: mono float32 audio [shape=(round(duration_s * sr),)] and the true beat times, seconds.
    """
    rng = np.random.default_rng(seed)
    y = np.zeros(int(round(duration_s * sr)))
    beats_s = np.arange(start_s, duration_s - 0.1, 60.0 / bpm)
    for k, t in enumerate(beats_s):
        accent = k % 4 == 0
        _place(y, at_s=t, sound=_click(sr=sr, freq_hz=1500 if accent else 1000, amp=1.0 if accent else 0.6), sr=sr)
    return _finish(y, rng, noise_db=-60.0), beats_s


def drum_loop(*, bpm: float, duration_s: float, sr: int = 22050, start_s: float = 0.5, swing: float = 0.0,
              noise_db: float = -60.0, jitter_ms: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A 4/4 rock groove: kick on beats 1 (accented) and 3, snare on 2 and 4, closed hi-hat on every 8th.

    Args:
        bpm: tempo of the quarter-note beat.
        duration_s: length, seconds.
        sr: sample rate, Hz.
        start_s: time of the first beat, seconds.
        swing: 0 = straight 8ths; 1/3 puts the off-beat hat at 2/3 of the beat (triplet swing).
        noise_db: level of the added white noise, dB below full scale.
        jitter_ms: standard deviation of a human timing error added to every beat (the truth includes it).
        seed: seeds the noise, the drum sounds and the jitter.

    Returns:
        ``(y, beats_s)``: mono float32 audio [shape=(round(duration_s * sr),)] and the true beat times, seconds.
    """
    rng = np.random.default_rng(seed)
    y = np.zeros(int(round(duration_s * sr)))
    period_s = 60.0 / bpm
    beats_s = np.arange(start_s, duration_s - 0.1, period_s)
    beats_s = beats_s + rng.normal(0.0, jitter_ms / 1000.0, beats_s.size) if jitter_ms > 0 else beats_s
    for k, t in enumerate(beats_s):
        if k % 2 == 0:
            _place(y, at_s=t, sound=_kick(sr=sr, amp=1.0 if k % 4 == 0 else 0.7), sr=sr)
        else:
            _place(y, at_s=t, sound=_snare(rng, sr=sr), sr=sr)
        _place(y, at_s=t, sound=_hat(rng, sr=sr, amp=0.25), sr=sr)
        _place(y, at_s=t + period_s * (0.5 + swing / 2), sound=_hat(rng, sr=sr, amp=0.18), sr=sr)
    return _finish(y, rng, noise_db=noise_db), beats_s


def synthesize(kind: str, *, bpm: float, duration_s: float, sr: int = 22050,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One evaluation track of ``kind`` (one of ``KINDS``); returns ``(y, beats_s)`` like ``drum_loop``."""
    if kind == "clicks":
        return click_track(bpm=bpm, duration_s=duration_s, sr=sr, seed=seed)
    variants = {"drums": {}, "drums-swing": {"swing": 1 / 3}, "drums-noise": {"noise_db": -30.0},
                "drums-humanized": {"jitter_ms": 10.0}}
    if kind not in variants:
        raise ConfigError(f"kind must be one of {KINDS}, got {kind!r}")
    return drum_loop(bpm=bpm, duration_s=duration_s, sr=sr, seed=seed, **variants[kind])


@dataclass(frozen=True)
class BeatEvalConfig:
    """What the beat evaluation runs on.

    Attributes:
        bpms: true tempi, beats per minute.
        kinds: track kinds from ``KINDS``.
        duration_s: length of each track, seconds.
        seed: seeds the synthesis.
        music_dir: optional folder of real recordings, analysed and listed without ground truth.
    """

    bpms: tuple[float, ...] = tuple(float(b) for b in range(60, 181, 10))
    kinds: tuple[str, ...] = KINDS
    duration_s: float = 20.0
    seed: int = 0
    music_dir: str | None = None

    def __post_init__(self) -> None:
        if not self.bpms or min(self.bpms) <= 0:
            raise ConfigError(f"bpms must be positive tempi, got {self.bpms!r}")
        if unknown := set(self.kinds) - set(KINDS):
            raise ConfigError(f"kinds: unknown {sorted(unknown)}; choose from {KINDS}")
        if not self.duration_s >= 8.0:
            raise ConfigError(f"duration_s must be >= 8 s (mir_eval ignores the first 5 s), got {self.duration_s!r}")


def _score_track(kind: str, bpm: float, analysis, beats_true: np.ndarray) -> dict:
    import mir_eval

    est = np.asarray(analysis.beats_s, dtype=float)
    ref_t, est_t = mir_eval.beat.trim_beats(beats_true), mir_eval.beat.trim_beats(est)
    down_ref = mir_eval.beat.trim_beats(beats_true[0::4])
    down_est = mir_eval.beat.trim_beats(np.asarray(analysis.downbeats_s, dtype=float))
    tempo = analysis.tempo_bpm or 0.0
    rel = [abs(tempo - bpm * m) / (bpm * m) for m in (0.5, 1.0, 2.0)]
    offsets = [float(e - ref_t[np.argmin(np.abs(ref_t - e))]) for e in est_t] if ref_t.size else []
    offsets = [o for o in offsets if abs(o) <= 0.07]
    return {"kind": kind, "bpm": bpm, "tempo_bpm": analysis.tempo_bpm, "tempo_error_pct": 100 * (tempo - bpm) / bpm,
            "f_measure": float(mir_eval.beat.f_measure(ref_t, est_t, f_measure_threshold=0.07)),
            "downbeat_f_measure": float(mir_eval.beat.f_measure(down_ref, down_est, f_measure_threshold=0.07)),
            "tempo_ok": rel[1] <= 0.04, "tempo_ok_octave": min(rel) <= 0.04,
            "mean_offset_ms": float(np.mean(offsets) * 1000) if offsets else None}


class BeatTrackingEvaluator:
    """Callable: synthesise every (kind, bpm) track, analyse it from a WAV file, return the metrics dict."""

    def __init__(self, config: BeatEvalConfig | None = None) -> None:
        self.config = config or BeatEvalConfig()

    def __call__(self) -> dict:
        """Returns:
            ``{"config", "summary": {kind or "all": means}, "tracks": [per-track rows]}``.
        """
        import soundfile as sf

        from crossmodal_match.audio import SR, analyze_music

        rows = []
        with tempfile.TemporaryDirectory(prefix="beat_eval_") as tmp:
            for kind in self.config.kinds:
                for bpm in self.config.bpms:
                    y, beats_true = synthesize(kind, bpm=bpm, duration_s=self.config.duration_s, sr=SR,
                                               seed=self.config.seed)
                    path = Path(tmp) / f"{kind}_{bpm:g}.wav"
                    sf.write(path, y, SR, subtype="PCM_16")
                    rows.append(_score_track(kind, bpm, analyze_music(path), beats_true))
        real = _real_tracks(Path(self.config.music_dir)) if self.config.music_dir else []
        summary = {k: _summarise([r for r in rows if k in ("all", r["kind"])]) for k in (*self.config.kinds, "all")}
        return {"config": asdict(self.config), "summary": summary, "tracks": rows, "real_tracks": real}


def _real_tracks(folder: Path) -> list[dict]:
    """Tempo, bars, key and mood of each recording in ``folder``, for inspection (there is no ground truth)."""
    from crossmodal_match.audio import FFMPEG_EXTS, SOUNDFILE_EXTS, analyze_music, best_moment

    if not folder.is_dir():
        raise ConfigError(f"music_dir {str(folder)!r} is not a folder")
    rows = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in SOUNDFILE_EXTS | FFMPEG_EXTS):
        a = analyze_music(path)
        rows.append({"file": path.name, "duration_s": a.duration_s, "tempo_bpm": a.tempo_bpm, "beats": len(a.beats_s),
                     "key": f"{a.key} {a.mode}", "key_confidence": a.key_confidence, "arousal": a.arousal,
                     "valence": a.valence, "best_15s": best_moment(a, duration_s=15.0)})
    return rows


def _summarise(rows: list[dict]) -> dict:
    offsets = [r["mean_offset_ms"] for r in rows if r["mean_offset_ms"] is not None]
    return {"tracks": len(rows),
            "f_measure_mean": float(np.mean([r["f_measure"] for r in rows])),
            "f_measure_min": float(np.min([r["f_measure"] for r in rows])),
            "share_f_at_least_0.95": float(np.mean([r["f_measure"] >= 0.95 for r in rows])),
            "tempo_accuracy_4pct": float(np.mean([r["tempo_ok"] for r in rows])),
            "tempo_accuracy_octave_4pct": float(np.mean([r["tempo_ok_octave"] for r in rows])),
            "tempo_abs_error_pct_max": float(np.max([abs(r["tempo_error_pct"]) for r in rows])),
            "downbeat_f_measure_mean": float(np.mean([r["downbeat_f_measure"] for r in rows])),
            "mean_offset_ms": float(np.mean(offsets)) if offsets else None}


def write_report(metrics: dict, *, out_dir: Path, command: str) -> None:
    """Write ``beats.json``, ``beats.md`` (summary table, misses, the command; notes after ``NOTES_MARKER`` in an
    existing file are kept) and ``beats.png`` to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "beats.json").write_text(json.dumps({**metrics, "command": command}, indent=1) + "\n",
                                        encoding="utf-8")
    lines = ["# Beat tracking on synthetic tracks", "", f"Made by `{command}`.", "",
             "| kind | tracks | mean F (+-70 ms) | min F | F >= 0.95 | tempo within 4% | within 4%, octave-tolerant "
             "| max tempo error | downbeat F | mean beat offset (ms) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for kind, s in metrics["summary"].items():
        offset = "-" if s["mean_offset_ms"] is None else f"{s['mean_offset_ms']:+.1f}"
        lines.append(f"| {kind} | {s['tracks']} | {s['f_measure_mean']:.3f} | {s['f_measure_min']:.3f} | "
                     f"{s['share_f_at_least_0.95']:.0%} | {s['tempo_accuracy_4pct']:.0%} | "
                     f"{s['tempo_accuracy_octave_4pct']:.0%} | {s['tempo_abs_error_pct_max']:.2f}% | "
                     f"{s['downbeat_f_measure_mean']:.3f} | {offset} |")
    misses = [r for r in metrics["tracks"] if r["f_measure"] < 0.95 or not r["tempo_ok"]]
    lines += ["", "Tracks with F < 0.95 or tempo off by more than 4%:", ""]
    lines += [f"- {r['kind']} at {r['bpm']:g} bpm: estimated {r['tempo_bpm']} bpm, F = {r['f_measure']:.3f}"
              for r in misses] or ["- none"]
    if metrics.get("real_tracks"):
        lines += ["", "Real excerpts from `--music-dir` (no ground truth; for inspection):", "",
                  "| file | length (s) | tempo (bpm) | beats | key | arousal | valence | best 15 s |",
                  "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['file']} | {r['duration_s']:.1f} | {r['tempo_bpm']} | {r['beats']} | {r['key']} "
                  f"({r['key_confidence']:.2f}) | {r['arousal']:.2f} | {r['valence']:.2f} | "
                  f"{r['best_15s'][0]:.1f}-{r['best_15s'][1]:.1f} |" for r in metrics["real_tracks"]]
    target = out_dir / "beats.md"
    old = target.read_text(encoding="utf-8") if target.is_file() else ""
    notes = old[old.index(NOTES_MARKER):] if NOTES_MARKER in old else NOTES_MARKER + "\n"
    target.write_text("\n".join(lines) + "\n\n" + notes, encoding="utf-8")
    _plot(metrics, out_dir / "beats.png")


def _plot(metrics: dict, target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_f, ax_t) = plt.subplots(1, 2, figsize=(11, 4))
    for kind in metrics["config"]["kinds"]:
        rows = [r for r in metrics["tracks"] if r["kind"] == kind]
        ax_f.plot([r["bpm"] for r in rows], [r["f_measure"] for r in rows], marker="o", label=kind)
        error = [100 * ((r["tempo_bpm"] or 0) - r["bpm"]) / r["bpm"] for r in rows]
        ax_t.plot([r["bpm"] for r in rows], error, marker="o", label=kind)
    lowest = min(r["f_measure"] for r in metrics["tracks"])
    ax_f.axhline(0.95, color="grey", ls="--", lw=0.8)
    ax_t.axhspan(-4, 4, color="grey", alpha=0.15)
    ax_f.set(xlabel="true tempo (bpm)", ylabel="beat F-measure (+-70 ms)", ylim=(min(0.8, lowest - 0.05), 1.01),
             title="Beats (dashed: target 0.95)")
    ax_t.set(xlabel="true tempo (bpm)", ylabel="tempo error (%)", title="Tempo (band: +-4%; octave error = +100/-50)")
    ax_f.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
