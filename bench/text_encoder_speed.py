"""Text encoders side by side: ``python bench/text_encoder_speed.py [--texts 400] [--items 10000] [--calls 30]``.

Each encoder (MiniLM, the old default; USE multilingual v3; multilingual-e5-small, the new default) runs in a fresh
child process, so load time and memory are its own. Measured per encoder, in the same run:

- ``load_s`` and resident memory after loading (RSS, MB);
- throughput: ``--texts`` distinct copy-line-like texts (the bundled English and Chinese lines with a numbered
  suffix, half each language) encoded in one call, texts per second;
- brief latency: one new brief encoded per call (median and p95 over 20 briefs);
- match latency at ``--items`` copy lines: ``Matcher.match(None, brief, top_k=10)`` with a new brief each call
  (so it includes encoding the brief), over ``--calls`` calls after 3 warm-ups. The lines are real text (for the
  lexical index) with random unit embeddings of the encoder's size (encoding 10,000 lines would time the
  throughput again). The old path is MiniLM without lexical fusion (``lexical_weight=0``), the new ones fuse.

Ratios are to MiniLM's figures from the same run (target: within 1.5x). Prints JSON; ``--out`` also writes it.
MiniLM runs on ``--torch-threads`` torch threads (1 by default, as the evaluations: on two busy cores torch's
spinning threads were measured many times slower); the numpy and C engines use their defaults (all cores).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ENCODERS = ("minilm", "use", "e5")
TARGET_RATIO = 1.5


def _rss_mb() -> float:
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024


def _stats_ms(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {"median_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95))}


def sample_texts(n: int) -> list[str]:
    """``n`` distinct texts, alternating the bundled English and Chinese copy lines, each with a number."""
    from crossmodal_match.catalog import CopyLibrary

    en = [line.text for line in CopyLibrary.example("en")]
    zh = [line.text for line in CopyLibrary.example("zh")]
    return [(f"{en[i % len(en)]} #{i}" if i % 2 else f"{zh[i % len(zh)]}（第{i}条）") for i in range(n)]


def _copy_lines(n: int, dim: int):
    from crossmodal_match.catalog import CopyLine
    from crossmodal_match.index import copy_index

    texts = sample_texts(n)
    lines = [CopyLine(id=f"line-{i}", text=t, tags=("vlog",)) for i, t in enumerate(texts)]

    class Precomputed:  # random unit rows of the encoder's size: the index without encoding 10k lines
        name = "precomputed"

        def encode_texts(self, batch):
            rng = np.random.default_rng(0)
            out = rng.standard_normal((len(batch), dim)).astype(np.float32)
            return out / np.linalg.norm(out, axis=1, keepdims=True)

    return copy_index(lines, Precomputed())


def _child(kind: str, n_texts: int, items: int, calls: int, torch_threads: int) -> dict:
    from crossmodal_match.matcher import Matcher, MatcherConfig, build_text_encoder

    out = {"encoder": kind, "rss_mb": {"start": _rss_mb()}}
    if kind == "minilm" and torch_threads > 0:
        import torch

        torch.set_num_threads(torch_threads)
        out["torch_threads"] = torch_threads
    t0 = time.perf_counter()
    if kind == "use":  # USE's one home is titlegen.embedding; this script, outside the packages, injects it
        from titlegen.embedding import TextEmbedder

        encoder = TextEmbedder(kind="use")
    else:
        encoder = build_text_encoder(kind)
    encoder.encode_texts(["warm-up"])  # USE loads its weights on first use
    out["load_s"] = time.perf_counter() - t0
    out["name"], out["dim"] = encoder.name, encoder.dim
    out["rss_mb"]["after_load"] = _rss_mb()
    texts = sample_texts(n_texts)
    t0 = time.perf_counter()
    encoder.encode_texts(texts)
    elapsed = time.perf_counter() - t0
    out["throughput"] = {"texts": n_texts, "seconds": elapsed, "texts_per_s": n_texts / elapsed}
    encode = getattr(encoder, "encode_queries", encoder.encode_texts)
    times = []
    for i in range(20):
        t0 = time.perf_counter()
        encode([f"周末和朋友去海边露营 brief {i}" if i % 2 else f"a sunny beach day with friends, part {i}"])
        times.append(time.perf_counter() - t0)
    out["brief"] = _stats_ms(times)
    index = _copy_lines(items, encoder.dim)
    weight = 0.0 if kind == "minilm" else None  # the old path had no lexical fusion
    matcher = Matcher(MatcherConfig(top_k=10, lexical_weight=weight), text_encoder=encoder, copy=index)
    out["rss_mb"]["after_index"] = _rss_mb()
    for i in range(3):
        matcher.match(None, f"warm-up {i}")
    times = []
    for i in range(calls):
        brief = f"周末在家做饭 vlog {i}" if i % 2 else f"cooking at home on a weekend, take {i}"
        t0 = time.perf_counter()
        result = matcher.match(None, brief)
        times.append(time.perf_counter() - t0)
    if len(result.copy) != 10:
        raise RuntimeError(f"expected 10 copy lines, got {len(result.copy)}")
    out["match"] = {"items": items, "calls": calls, "lexical_weight": matcher.lexical_weight, **_stats_ms(times)}
    out["rss_mb"]["after_matching"] = _rss_mb()
    out["rss_mb"]["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=400, help="texts encoded for the throughput")
    parser.add_argument("--items", type=int, default=10_000, help="copy lines in the matched catalogue")
    parser.add_argument("--calls", type=int, default=30, help="timed match calls")
    parser.add_argument("--encoders", default=",".join(ENCODERS))
    parser.add_argument("--torch-threads", type=int, default=1, help="torch threads for MiniLM; 0: torch's default")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, args.texts, args.items, args.calls, args.torch_threads)))
        return 0
    load = os.getloadavg()[0]
    rows = {}
    for kind in args.encoders.split(","):
        done = subprocess.run([sys.executable, __file__, "--child", kind, "--texts", str(args.texts), "--items",
                               str(args.items), "--calls", str(args.calls), "--torch-threads", str(args.torch_threads)],
                              capture_output=True, text=True,
                              check=True, timeout=1800, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        rows[kind] = json.loads(done.stdout.strip().splitlines()[-1])
    base = rows.get("minilm")
    if base:
        for row in rows.values():
            row["ratio_to_minilm"] = {
                "throughput_slowdown": base["throughput"]["texts_per_s"] / row["throughput"]["texts_per_s"],
                "brief_median": row["brief"]["median_ms"] / base["brief"]["median_ms"],
                "match_median": row["match"]["median_ms"] / base["match"]["median_ms"],
                "rss_after_index": row["rss_mb"]["after_index"] / base["rss_mb"]["after_index"]}
            row["within_target"] = all(v <= TARGET_RATIO for k, v in row["ratio_to_minilm"].items()
                                       if k != "rss_after_index")
    out = {"command": "python bench/text_encoder_speed.py " + " ".join(sys.argv[1:] if argv is None else argv),
           "cpu_count": os.cpu_count(), "load_avg_1min_at_start": load, "load_avg_1min_at_end": os.getloadavg()[0],
           "target_ratio": TARGET_RATIO, "encoders": rows}
    text = json.dumps(out, indent=1)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
