"""Music analysis speed: ``python bench/music_speed.py [--repeats 5]`` prints JSON.

One synthetic 30 s stereo 44.1 kHz track (drums, bass, chords) is written as WAV, MP3 and M4A. Reported:
- ``cold_s``: a fresh Python process with an empty numba cache: import + first ``analyze_music`` (librosa imports,
  numba compilation, decoding, analysis), the price of the very first call on a new machine;
- ``fresh_process_s``: the same in a fresh process once the numba cache is filled (librosa still compiles one
  uncacheable kernel, ``beat.__beat_local_score``, at import), i.e. an app that did not call ``warm_up()``;
- ``warm_up_s``: ``warm_up()`` as the first librosa use of this (benchmark) process, numba cache filled;
- ``warm_s``: best of ``--repeats`` calls in a warm process, per format, cache disabled; ``realtime_factor`` =
  track length / ``warm_s``; ``warm_cpu_s``: best CPU seconds of this process (for M4A, without the ffmpeg child);
- ratios: cold / warm, fresh process / warm, and ours / bare ``librosa.beat.beat_track`` on the decoded signal
  (what the extra features and the metrical check cost);
- ``peak_rss_mb`` of each child process (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SR_FILE = 44100


def make_track(folder: Path, *, duration_s: float, bpm: float = 118.0) -> dict[str, Path]:
    """Write a drums + bass + chords track as WAV, MP3 and M4A; return {format: path}."""
    import imageio_ffmpeg
    import soundfile as sf

    from crossmodal_match.evaluate.beats import drum_loop

    drums, beats = drum_loop(bpm=bpm, duration_s=duration_s, sr=SR_FILE, noise_db=-50.0)
    t = np.arange(drums.size) / SR_FILE
    roots_hz = (110.0, 87.31, 130.81, 98.0)  # A, F, C, G: one chord per bar
    bar = (t // (4 * 60.0 / bpm)).astype(int) % 4
    root = np.take(roots_hz, bar)
    bass = 0.3 * np.sin(2 * np.pi * np.cumsum(root) / SR_FILE)
    chords = sum(0.08 * np.sin(2 * np.pi * np.cumsum(root * 2 * r) / SR_FILE) for r in (1.0, 1.26, 1.5))
    mix = drums + bass + chords
    stereo = np.stack([mix, 0.9 * mix], axis=1) / np.abs(mix).max() * 0.8
    paths = {"wav": folder / "track.wav", "mp3": folder / "track.mp3", "m4a": folder / "track.m4a"}
    sf.write(paths["wav"], stereo.astype(np.float32), SR_FILE, subtype="PCM_16")
    sf.write(paths["mp3"], stereo.astype(np.float32), SR_FILE, format="MP3")
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-y", "-loglevel", "error", "-i",
                    str(paths["wav"]), "-c:a", "aac", "-b:a", "160k", str(paths["m4a"])], check=True, timeout=120)
    return paths


def _child(path: str) -> None:
    """Run in a fresh interpreter: time import + first call + second call, print JSON."""
    start = time.perf_counter()
    from crossmodal_match.audio import analyze_music

    imported = time.perf_counter()
    analyze_music(path)
    first = time.perf_counter()
    analyze_music(path)
    second = time.perf_counter()
    print(json.dumps({"import_s": imported - start, "first_call_s": first - imported,
                      "cold_total_s": first - start, "second_call_s": second - first,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def _run_child(path: Path, *, numba_cache: Path) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(numba_cache)}
    out = subprocess.run([sys.executable, __file__, "--child", str(path)], env=env, capture_output=True,
                         text=True, check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _best(fn, repeats: int) -> tuple[float, float]:
    """Best wall-clock and best CPU seconds of ``repeats`` calls (CPU time is less hurt by a busy machine)."""
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return min(wall), min(cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--duration-s", type=float, default=30.0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child)
        return 0
    load_1min = os.getloadavg()[0]  # timings on a shared machine are only as good as its idleness
    with tempfile.TemporaryDirectory(prefix="music_bench_") as tmp:
        paths = make_track(Path(tmp), duration_s=args.duration_s)
        cache = Path(tmp) / "numba"
        cold = _run_child(paths["wav"], numba_cache=cache)  # empty cache: compiles everything
        fresh = _run_child(paths["wav"], numba_cache=cache)  # filled cache
        os.environ["NUMBA_CACHE_DIR"] = str(cache)
        from crossmodal_match.audio import SR, _decode, _librosa, analyze_music, warm_up

        warm_up_s = warm_up()
        timed = {fmt: _best(lambda p=p: analyze_music(p), args.repeats) for fmt, p in paths.items()}
        warm = {fmt: wall for fmt, (wall, _) in timed.items()}
        y = _decode(paths["wav"], timeout_s=60)
        librosa = _librosa()
        decode_s = _best(lambda: _decode(paths["wav"], timeout_s=60), args.repeats)[0]
        bare_s = _best(lambda: librosa.beat.beat_track(y=y, sr=SR), args.repeats)[0]
        ours_no_decode_s = warm["wav"] - decode_s
    result = {
        "track_s": args.duration_s, "repeats": args.repeats, "cpu_count": os.cpu_count(),
        "load_average_1min_at_start": round(load_1min, 2),
        "cold_s": round(cold["cold_total_s"], 3), "cold_detail": {k: round(v, 3) for k, v in cold.items()},
        "fresh_process_s": round(fresh["cold_total_s"], 3),
        "fresh_process_detail": {k: round(v, 3) for k, v in fresh.items()},
        "warm_up_s": round(warm_up_s, 3),
        "warm_s": {k: round(v, 4) for k, v in warm.items()},
        "warm_cpu_s": {k: round(cpu, 4) for k, (_, cpu) in timed.items()},
        "realtime_factor": {k: round(args.duration_s / v, 1) for k, v in warm.items()},
        "ratio_cold_to_warm": round(cold["cold_total_s"] / warm["wav"], 1),
        "ratio_fresh_process_to_warm": round(fresh["cold_total_s"] / warm["wav"], 1),
        "decode_wav_s": round(decode_s, 4), "bare_librosa_beat_track_s": round(bare_s, 4),
        "ratio_ours_to_bare_beat_track": round(ours_no_decode_s / bare_s, 2),
        "peak_rss_mb": {"cold_child": round(cold["peak_rss_mb"], 1), "fresh_child": round(fresh["peak_rss_mb"], 1),
                        "this_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)},
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
