"""Match latency: ``python bench/match_speed.py [--sizes 1000,10000,100000] [--calls 50]`` prints JSON.

For each catalogue size a fresh child process builds a synthetic music ``CandidateIndex`` (random unit text
embeddings of dim 384, random feel, tempo 70-170 bpm, length 30-240 s, arousal, use counts) and a ``Matcher``
with a tiny fake text encoder (a seeded random unit vector per brief, microseconds), so the timing measures the
matcher itself: ``Matcher.match(footage, brief, top_k=10)`` on synthetic footage (6 shots of 2.5 s) with a
different brief each call, over ``--calls`` calls after 3 warm-up calls. Rows share 16 synthetic
``MusicAnalysis`` objects (only the top 10 are read, for their best moment), so peak RSS counts the index arrays,
not 100,000 analyses. Reported per size: median and p95 latency (ms), the same for ``features`` + fusion +
argsort alone (the part that grows with the catalogue), resident memory of the child after imports, after
building the index and after matching (current and peak, MB), and ratios to the smallest size. Separately, in
another child: loading the embedded MiniLM and encoding one new brief (median and p95 over 20 briefs), with 1 and
with 2 torch threads.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DIM = 384
TARGET_MS = 100.0


class FakeTextEncoder:
    """A seeded random unit vector per text: the matcher's encoder protocol at no cost."""

    dim = DIM
    name = "fake"

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        out = np.stack([np.random.default_rng(zlib.crc32(t.encode("utf-8"))).standard_normal(DIM) for t in texts]) \
            if texts else np.zeros((0, DIM))
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def synthetic_analyses(count: int, rng: np.random.Generator) -> list:
    """``count`` MusicAnalysis objects of 3-minute tracks at 70-170 bpm with bars and an energy curve."""
    from crossmodal_match.audio import MusicAnalysis

    out = []
    for i in range(count):
        bpm, duration_s, hop_s = float(rng.uniform(70, 170)), 180.0, 0.5
        beats = tuple(np.arange(0.3, duration_s, 60.0 / bpm).round(3))
        out.append(MusicAnalysis(sha256=f"{i:064x}", duration_s=duration_s, tempo_bpm=bpm, beats_s=beats,
                                 downbeats_s=beats[::4], beats_per_bar=4, onset_density_per_s=3.0,
                                 energy=tuple(rng.uniform(0.05, 0.4, int(duration_s / hop_s))), energy_hop_s=hop_s,
                                 loudness_db=-14.0, centroid_hz=2000.0, brightness=0.5, key="C", mode="major",
                                 key_confidence=0.6, arousal=float(rng.uniform()), valence=float(rng.uniform())))
    return out


def synthetic_index(n: int, *, seed: int = 0):
    """A music CandidateIndex of ``n`` synthetic tracks (see the module docstring)."""
    from crossmodal_match.index import CandidateIndex

    rng = np.random.default_rng(seed)
    emb = rng.standard_normal((n, DIM), dtype=np.float32)  # float32 from the start: no float64 peak
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    analyses = synthetic_analyses(16, rng)
    ids = [f"track-{i:06d}" for i in range(n)]
    return CandidateIndex(kind="music", ids=ids, titles=ids, items=ids, text_emb=emb,
                          feel=rng.uniform(0, 1, (n, 5)).astype(np.float32), bpm=rng.uniform(70, 170, n),
                          length_s=rng.uniform(30, 240, n), arousal=rng.uniform(0, 1, n),
                          uses=np.floor(rng.lognormal(1.0, 1.5, n)),
                          extra=[{"analysis": analyses[i % len(analyses)]} for i in range(n)])


def synthetic_footage():
    """Footage of 6 shots of 2.5 s (15 s) with mid-range descriptors."""
    from crossmodal_match.footage import Footage, Shot, ShotDescriptors

    d = ShotDescriptors(motion_energy=0.03, brightness=0.5, saturation=0.4, warmth=0.05, contrast=0.2,
                        colourfulness=40.0, face_count=1, length_s=2.5)
    shots = tuple(Shot(index=i, start_s=2.5 * i, end_s=2.5 * (i + 1), keyframe_times_s=(2.5 * i,), descriptors=d)
                  for i in range(6))
    return Footage(path="synthetic.mp4", kind="video", duration_s=15.0, fps=30.0, width=1080, height=1920,
                   rotation=0, has_audio=False, shots=shots)


def _rss_mb() -> dict[str, float]:
    """Current (VmRSS) and peak (VmHWM) resident memory of this process, MB (Linux /proc)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return {k: int(fields[name].split()[0]) / 1024 for k, name in (("rss_mb", "VmRSS"), ("peak_mb", "VmHWM"))}


def _stats_ms(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {"median_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)), "min_ms": float(ms.min())}


def _child_match(n: int, calls: int) -> dict:
    from crossmodal_match.matcher import Matcher, MatcherConfig

    memory = {"after_imports": _rss_mb()}
    start = time.perf_counter()
    matcher = Matcher(MatcherConfig(), text_encoder=FakeTextEncoder(), music=synthetic_index(n))
    build_s = time.perf_counter() - start
    memory["after_index"] = _rss_mb()
    footage, weights = synthetic_footage(), matcher.fusion["music"].vector()
    for i in range(3):
        matcher.match(footage, f"warm-up brief {i}", top_k=10)
    full, core = [], []
    for i in range(calls):
        brief = f"sunny beach trip with friends, take {i}"
        t0 = time.perf_counter()
        result = matcher.match(footage, brief, top_k=10)
        full.append(time.perf_counter() - t0)
        query, _ = matcher._query(footage, brief, None)  # the same query match() builds
        t0 = time.perf_counter()
        np.argsort(-(matcher.features("music", query) @ weights), kind="stable")[:10]
        core.append(time.perf_counter() - t0)
    if len(result.music) != 10:
        raise RuntimeError(f"expected 10 ranked tracks, got {len(result.music)}")
    return {"items": n, "calls": calls, "index_build_s": build_s, "match": _stats_ms(full),
            "features_fusion_argsort": _stats_ms(core), "memory_mb": {**memory, "after_matching": _rss_mb()},
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _child_minilm() -> dict:
    import torch

    from crossmodal_match.encoders import TextEncoder

    t0 = time.perf_counter()
    encoder = TextEncoder()
    out = {"load_s": time.perf_counter() - t0}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        encoder.encode_texts([f"warm-up {threads}"])
        times = []
        for i in range(20):
            t0 = time.perf_counter()
            encoder.encode_texts([f"a sunny beach day with friends and a dog, part {threads}-{i}"])
            times.append(time.perf_counter() - t0)
        out[f"encode_one_brief_{threads}_threads"] = _stats_ms(times)
    return out


def _run_child(args: list[str]) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    out = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=True,
                         timeout=900)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated catalogue sizes")
    parser.add_argument("--calls", type=int, default=50, help="timed calls per size")
    parser.add_argument("--no-minilm", action="store_true", help="skip the MiniLM brief-encoding timing")
    parser.add_argument("--child-match", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child-minilm", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_match is not None:
        print(json.dumps(_child_match(args.child_match, args.calls)))
        return 0
    if args.child_minilm:
        print(json.dumps(_child_minilm()))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = [_run_child(["--child-match", str(n), "--calls", str(args.calls)]) for n in sizes]
    base = rows[0]
    for row in rows:
        row["ratio_to_smallest"] = {"match_median": row["match"]["median_ms"] / base["match"]["median_ms"],
                                    "core_median": row["features_fusion_argsort"]["median_ms"]
                                    / base["features_fusion_argsort"]["median_ms"], "items": row["items"]
                                    / base["items"]}
    out = {"cpu_count": os.cpu_count(), "load_avg_1min_at_start": os.getloadavg()[0], "target_ms": TARGET_MS,
           "sizes": rows, "meets_target_at_10k": next((r["match"]["median_ms"] <= TARGET_MS for r in rows
                                                       if r["items"] == 10_000), None)}
    if not args.no_minilm:
        out["minilm"] = _run_child(["--child-minilm"])
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
