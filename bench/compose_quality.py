"""Composed soundtracks, measured: ``python bench/compose_quality.py [--seeds 3] [--length-s 60] [--examples]``.

For each style preset and seed, a track is composed the way the draft maker asks for one (whole bars at the tempo
nearest ``--length-s``; the style's middle tempo) and measured with the project's own tools:
- ``tempo``: requested vs detected by ``crossmodal_match.audio.analyze_music`` (librosa tracker + metrical check),
  error in percent of the tempo played;
- ``beat_f``: mir_eval beat F-measure (70 ms window, first 5 s trimmed as mir_eval does) of the tracker's beats
  against the composed grid (the grid's final downbeat, at the last sample, excluded: nothing can be heard there);
- ``length_error_samples`` / ``length_error_frames_30fps``: the file's length against ``length_s``;
- ``lufs`` (the composer's BS.1770-4 meter, and pyloudnorm's when installed), ``true_peak_dbtp`` (4x oversampled),
  ``max_abs_sample`` of the 16-bit file;
- ``realtime_factor``: track seconds / wall seconds of ``compose_track`` (composition, synthesis, mix, mastering)
  in this process on this machine (2 cores shared with other jobs on the development machine: a lower bound), and
  ``cpu_realtime_factor``: the same over the process's CPU seconds (what it costs when it has a core to itself);
- ``feel``: the matcher's feel vector (``feel.music_feel``) of the rendered file's analysis, and the feel the
  matcher ranked it by before rendering (``compose.catalogue.expected_analysis``);
- distances: mean L1 (and the matcher's ``1 - feel_similarity``) of the feel between seeds of one style and between
  styles; between seeds also the keys and the L1 distance of the notes' pitch-class histograms (0 same, 2 disjoint).
``--examples`` also writes a 20-second example per style to ``docs/compose/<style>.ogg`` with a PNG of its beat
grid and short-term loudness. JSON goes to ``bench/results/compose_<date>.json``.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _whole_bars(length_s: float, bpm: float) -> float:
    bar_s = 240.0 / bpm
    return max(1, round(length_s / bar_s)) * bar_s


def measure(style: str, *, seed: int, bpm: float, length_s: float, folder: Path) -> dict:
    import mir_eval
    import soundfile as sf

    from crossmodal_match.audio import analyze_music
    from crossmodal_match.compose import compose_track
    from crossmodal_match.compose.catalogue import candidate, expected_analysis, make_id
    from crossmodal_match.compose.master import integrated_loudness, true_peak_db
    from crossmodal_match.feel import music_feel

    start, cpu = time.perf_counter(), time.process_time()
    track = compose_track(length_s=length_s, bpm=bpm, style=style, valence=0.6, arousal=0.5, seed=seed)
    compose_s, compose_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    path = track.write_wav(folder / f"{style}-{seed}.wav")
    pcm, sr = sf.read(path, dtype="int16")
    x = pcm / 32768.0
    analysis = analyze_music(path)
    reference = np.array([b for b in track.beats_s if b < track.length_s - 1e-6])
    f = mir_eval.beat.f_measure(mir_eval.beat.trim_beats(reference),
                                mir_eval.beat.trim_beats(np.array(analysis.beats_s)), f_measure_threshold=0.07)
    row = {"style": style, "seed": seed, "requested_bpm": bpm, "played_bpm": round(track.bpm, 4),
           "detected_bpm": analysis.tempo_bpm, "length_s": round(length_s, 4), "bars": len(track.downbeats_s) - 1,
           "tempo_error_pct": round(100 * abs(analysis.tempo_bpm - track.bpm) / track.bpm, 3)
           if analysis.tempo_bpm else None,
           "beat_f": round(float(f), 4), "length_error_samples": len(pcm) - round(length_s * sr),
           "length_error_frames_30fps": round(abs(len(pcm) / sr - length_s) * 30, 6),
           "lufs": round(integrated_loudness(x, sr=sr), 3), "true_peak_dbtp": round(true_peak_db(x), 3),
           "max_abs_sample": int(np.abs(pcm.astype(np.int32)).max()), "key": track.key,
           "compose_s": round(compose_s, 3), "realtime_factor": round(length_s / compose_s, 2),
           "compose_cpu_s": round(compose_cpu_s, 3), "cpu_realtime_factor": round(length_s / compose_cpu_s, 2),
           "feel": [round(float(v), 4) for v in music_feel(analysis)],
           "feel_expected": [round(float(v), 4) for v in music_feel(expected_analysis(candidate(make_id(
               style=style, bpm=bpm, length_s=length_s, valence=0.6, arousal=0.5, seed=seed))))],
           "sections": [list(s) for s in track.sections],
           "pitch_classes": [round(v, 4) for v in track.pitch_classes]}
    try:
        import pyloudnorm

        row["lufs_pyloudnorm"] = round(float(pyloudnorm.Meter(sr).integrated_loudness(x)), 3)
    except ImportError:
        pass
    return row


def distances(rows: list[dict]) -> dict:
    from crossmodal_match.feel import feel_similarity

    def pairs(vectors):
        l1 = [float(np.abs(np.subtract(a, b)).mean()) for a, b in itertools.combinations(vectors, 2)]
        matcher = [float(1 - feel_similarity(np.asarray(a), np.asarray(b))[0])
                   for a, b in itertools.combinations(vectors, 2)]
        return {"mean_l1": round(float(np.mean(l1)), 4), "mean_matcher_distance": round(float(np.mean(matcher)), 4)}

    styles = sorted({r["style"] for r in rows})
    by_style = {s: [r["feel"] for r in rows if r["style"] == s] for s in styles}
    # what a seed changes that the feel does not see: the key and the notes (duration-weighted pitch classes)
    harmony = {s: round(float(np.mean([np.abs(np.subtract(a["pitch_classes"], b["pitch_classes"])).sum() for a, b in
                                       itertools.combinations([r for r in rows if r["style"] == s], 2)])), 4)
               for s in styles}
    return {"between_seeds": {s: {**pairs(v), "pitch_class_l1": harmony[s],
                                  "keys": [r["key"] for r in rows if r["style"] == s]} for s, v in by_style.items()},
            "between_styles": pairs([np.mean(v, axis=0) for v in by_style.values()]),
            "style_mean_feel": {s: [round(float(x), 3) for x in np.mean(v, axis=0)] for s, v in by_style.items()}}


def example(style: str, out_dir: Path) -> dict:
    """A 20-second example of a style as OGG Vorbis, and a PNG of its beat grid and short-term loudness."""
    import imageio_ffmpeg
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crossmodal_match.compose import compose_track, get_style
    from crossmodal_match.compose.master import short_term_loudness

    bpm = round(get_style(style).mid_bpm)
    track = compose_track(length_s=_whole_bars(20.0, bpm), bpm=bpm, style=style, valence=0.65, arousal=0.5, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        wav = track.write_wav(Path(tmp) / "x.wav")
        ogg = out_dir / f"{style}.ogg"
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(wav), "-c:a",
                        "libvorbis", "-q:a", "3", str(ogg)], check=True)
    times, lufs = short_term_loudness(track.samples, sr=track.sr)
    t = np.arange(len(track.samples)) / track.sr
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 4.2), sharex=True)
    step = max(1, len(t) // 4000)
    top.plot(t[::step], track.samples[::step, 0], lw=0.4, color="0.35")
    for b in track.beats_s:
        top.axvline(b, color="tab:red" if b in track.downbeats_s else "tab:orange",
                    lw=1.2 if b in track.downbeats_s else 0.5, alpha=0.8)
    for label, first, bars in track.sections:
        top.text(track.downbeats_s[first] + 0.05, 0.92, label, fontsize=8, va="top")
    top.set_ylim(-1, 1)
    top.set_title(f"{style}: {track.bpm:.0f} bpm, {track.key}, {len(track.downbeats_s) - 1} bars, "
                  f"{track.loudness_lufs:.1f} LUFS, true peak {track.true_peak_db:.1f} dBTP (beats; bars in red)",
                  fontsize=9)
    bottom.plot(times, lufs, color="tab:blue")
    bottom.axhline(-14, color="k", lw=0.8, ls="--")
    bottom.set_ylabel("short-term LUFS")
    bottom.set_xlabel("seconds")
    fig.tight_layout()
    png = out_dir / f"{style}.png"
    fig.savefig(png, dpi=90)
    plt.close(fig)
    return {"style": style, "ogg": str(ogg.relative_to(ROOT)), "ogg_kb": round(ogg.stat().st_size / 1024, 1),
            "png": str(png.relative_to(ROOT)), "bpm": track.bpm, "key": track.key, "length_s": track.length_s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per style (default 3)")
    parser.add_argument("--length-s", type=float, default=60.0, help="about how long each track is (default 60)")
    parser.add_argument("--examples", action="store_true", help="also write docs/compose/<style>.ogg and .png")
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default bench/results/compose_<date>.json)")
    args = parser.parse_args(argv)

    from crossmodal_match.audio import warm_up
    from crossmodal_match.compose import get_style, list_styles

    warm_up()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for style in list_styles():
            bpm = float(round(get_style(style).mid_bpm))
            for seed in range(1, args.seeds + 1):
                rows.append(measure(style, seed=seed, bpm=bpm, length_s=_whole_bars(args.length_s, bpm),
                                    folder=Path(tmp)))
                print(json.dumps(rows[-1]), file=sys.stderr)
    summary = {
        "tracks": len(rows),
        "max_tempo_error_pct": max(r["tempo_error_pct"] if r["tempo_error_pct"] is not None else 100.0 for r in rows),
        "min_beat_f": min(r["beat_f"] for r in rows),
        "mean_beat_f": round(float(np.mean([r["beat_f"] for r in rows])), 4),
        "max_length_error_samples": max(abs(r["length_error_samples"]) for r in rows),
        "max_lufs_deviation": round(max(abs(r["lufs"] + 14.0) for r in rows), 3),
        "max_true_peak_dbtp": max(r["true_peak_dbtp"] for r in rows),
        "max_abs_sample": max(r["max_abs_sample"] for r in rows),
        "min_realtime_factor": min(r["realtime_factor"] for r in rows),
        "median_realtime_factor": float(np.median([r["realtime_factor"] for r in rows])),
        "min_cpu_realtime_factor": min(r["cpu_realtime_factor"] for r in rows),
        "median_cpu_realtime_factor": float(np.median([r["cpu_realtime_factor"] for r in rows])),
        "load_average_1min_at_end": round(__import__("os").getloadavg()[0], 2),
    }
    result = {"date": datetime.date.today().isoformat(), "command": "python bench/compose_quality.py "
              + " ".join(argv if argv is not None else sys.argv[1:]), "cpu_count": __import__("os").cpu_count(),
              "summary": summary, "distances": distances(rows), "rows": rows}
    if args.examples:
        docs = ROOT / "docs" / "compose"
        docs.mkdir(parents=True, exist_ok=True)
        result["examples"] = [example(style, docs) for style in list_styles()]
    out = args.out or ROOT / "bench" / "results" / f"compose_{result['date']}.json"
    out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps({"summary": summary, "distances": result["distances"]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
