"""Copy retrieval in Chinese and English: which text encoder, and how much lexical evidence, the matcher should use.

Pools (every query has one right line among all the pool's lines):
- ``youtube``: the ``copy`` evaluation's pool (``copy_retrieval.load_videos``: 2,000 US and FR videos, brief = the
  description's first 200 characters, line = the title), figures per file (US, FR);
- ``toutiao``, ``lcsts``, ``xiaohongshu``: ``zh_pairs``.

Queries are split into a development and a test half by a hash of their group (YouTube: ``video_id``; Chinese
sets: the right line), candidates stay the whole pool. On the development half only, for each encoder, the
lexical weight of :func:`crossmodal_match.lexical.fuse` is chosen from a grid by the mean R@10 over the five
subsets (US, FR, toutiao, lcsts, xiaohongshu); then the encoder with the best fused development mean is the
choice. The test half is scored once, after the choices, for every system:

- ``tfidf``: the ``copy`` evaluation's baseline (word 1-2-gram TF-IDF fitted on the pool's lines and queries;
  scikit-learn's default tokens, so a Han run is one "word");
- ``lexical``: ``lexical.LexicalIndex`` alone (Han character 1-2-grams, word 1-2-grams, fitted on the lines);
- ``<encoder>``: cosine of the encoder's query and line embeddings (``minilm``, ``use``, ``e5``);
- ``<encoder>+lexical``: the fusion at the weight chosen for that encoder;
- ``random``.
Embeddings are cached on disk by encoder and text (``cache_dir``), so a rerun only rescores.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crossmodal_match.errors import ConfigError
from crossmodal_match.evaluate.retrieval import metrics_table, recall_at_k, summarise, target_ranks, write_report
from crossmodal_match.evaluate.zh_pairs import Pairs, load_lcsts, load_toutiao, load_xiaohongshu
from crossmodal_match.lexical import LexicalIndex, fuse

ENCODERS = ("minilm", "use", "e5")
SUBSETS = ("US", "FR", "toutiao", "lcsts", "xiaohongshu")
YOUTUBE_ALL = "YouTube (US + FR)"
WEIGHT_GRID = tuple(round(w, 2) for w in np.arange(0.0, 1.0001, 0.1))


@dataclass(frozen=True)
class MultilingualCopyConfig:
    """Attributes:
        data_dir: the shared data folder.
        max_pairs: pairs per Chinese pool (a seeded sample).
        youtube_videos: videos in the YouTube pool (2,000: the ``copy`` evaluation's pool).
        encoders: which of :data:`ENCODERS` to compare.
        cache_dir: embedding cache folder (None: no cache).
        n_boot: bootstrap resamples for the 95% intervals.
        seed: seeds samples, the random baseline and the bootstrap.
    """

    data_dir: str
    max_pairs: int = 1000
    youtube_videos: int = 2000
    encoders: tuple[str, ...] = ("minilm", "e5")
    cache_dir: str | None = None
    n_boot: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.encoders) - set(ENCODERS)
        if unknown or not self.encoders:
            raise ConfigError(f"encoders must be some of {list(ENCODERS)}, got {list(self.encoders)}")
        if self.max_pairs < 100:
            raise ConfigError(f"max_pairs must be >= 100, got {self.max_pairs}")


def in_dev(group: str) -> bool:
    """The development half: the low bit of the group's sha256 (stable across runs and machines)."""
    return hashlib.sha256(group.encode("utf-8")).digest()[-1] & 1 == 0


def load_pools(config: MultilingualCopyConfig) -> list[Pairs]:
    """The YouTube pool (subsets US/FR) and the three Chinese pools."""
    from crossmodal_match.evaluate.copy_retrieval import CopyRetrievalConfig, load_videos

    videos, _ = load_videos(CopyRetrievalConfig(data_dir=config.data_dir, max_videos=config.youtube_videos,
                                                min_videos=min(1000, config.youtube_videos), seed=config.seed))
    youtube = Pairs("youtube", videos["brief"].tolist(), videos["title"].tolist(), videos["video_id"].tolist(),
                    videos["lang"].tolist())
    return [youtube, load_toutiao(config.data_dir, max_pairs=config.max_pairs, seed=config.seed),
            load_lcsts(config.data_dir, max_pairs=config.max_pairs, seed=config.seed),
            load_xiaohongshu(config.data_dir, seed=config.seed)]


#: Encoders this package does not load itself (their library's one home is in titlegen); a script outside the
#: packages injects them (``bench/matcher_evals_with_use.py``).
INJECTED_ONLY = {"use": "USE multilingual v3 lives in titlegen.embedding; run bench/matcher_evals_with_use.py, "
                        "which injects it"}


def build_encoder(name: str):
    """An encoder of :data:`ENCODERS` by short name (``minilm`` or ``e5``; see :data:`INJECTED_ONLY`).

    Raises:
        ConfigError: ``name`` is one this package cannot load itself.
    """
    from crossmodal_match.encoders import create_encoder

    if name in INJECTED_ONLY:
        raise ConfigError(f"encoder {name!r} must be injected: {INJECTED_ONLY[name]}")
    return create_encoder("minilm") if name == "minilm" else create_encoder("multilingual", kind=name)


def cached_embeddings(encoder, texts: list[str], *, queries: bool, cache_dir: str | None) -> np.ndarray:
    """Embeddings np.ndarray [shape=(len(texts), dim), float32] of queries (``encode_queries`` where the encoder
    has it) or lines, read from / written to ``cache_dir`` by encoder name, role and text."""
    from crossmodal_match.embedding_cache import EmbeddingCache, text_key

    encode = getattr(encoder, "encode_queries", encoder.encode_texts) if queries else encoder.encode_texts
    if cache_dir is None:
        return np.asarray(encode(texts), dtype=np.float32)
    role = "query" if queries else "line"
    cache = EmbeddingCache(cache_dir, encoder_name=encoder.name)
    return cache.lookup([text_key(f"{role}:{t}") for t in texts],
                        lambda idx: np.asarray(encode([texts[i] for i in idx]), dtype=np.float32), dim=encoder.dim)


def _tfidf_baseline(queries: list[str], lines: list[str]) -> np.ndarray:
    from crossmodal_match.evaluate.copy_retrieval import _tfidf_scores

    return _tfidf_scores(queries, lines)


def _r10(scores: np.ndarray, rows: np.ndarray) -> float:
    better, tied = target_ranks(scores[rows], rows)
    return recall_at_k(better, k=10, tied=tied)


class MultilingualCopyEvaluator:
    """Callable: load the pools, embed, choose weights and encoder on the development half, score the test half.

    Args:
        config: data folder and settings.
        encoders: name -> encoder, to inject (tests); None builds each of ``config.encoders``.
    """

    def __init__(self, config: MultilingualCopyConfig, *, encoders: dict[str, Any] | None = None) -> None:
        self.config = config
        self.encoders = encoders

    def _scores(self, pools: list[Pairs], timings: dict[str, float]) -> list[dict[str, np.ndarray]]:
        c = self.config
        out = []
        for pool in pools:
            lex = LexicalIndex(pool.lines).scores(pool.queries)
            rng = np.random.default_rng(c.seed)
            out.append({"tfidf": _tfidf_baseline(pool.queries, pool.lines), "lexical": lex,
                        "random": rng.random((len(pool), len(pool)))})
        for name in c.encoders:
            start = time.perf_counter()
            encoder = (self.encoders or {}).get(name) or build_encoder(name)
            for pool, scores in zip(pools, out):
                q = cached_embeddings(encoder, pool.queries, queries=True, cache_dir=c.cache_dir)
                l = cached_embeddings(encoder, pool.lines, queries=False, cache_dir=c.cache_dir)
                scores[name] = q @ l.T
            timings[f"encode_{name}_s"] = time.perf_counter() - start
        return out

    def __call__(self) -> dict[str, Any]:
        """Returns:
            ``{"config", "data", "dev": {encoder: {weight: {subset: R@10, "mean": ...}}}, "chosen": {"weights",
            "encoder", "dev_mean_r_at_10"}, "test": {subset: {system: metrics}}, "all_queries": {subset: {system:
            metrics}}, "timings_s"}``.
        """
        c, timings = self.config, {}
        start = time.perf_counter()
        pools = load_pools(c)
        timings["load_s"] = time.perf_counter() - start
        scores = self._scores(pools, timings)
        rows = {}  # subset -> (pool index, dev rows, test rows)
        for p, pool in enumerate(pools):
            dev = np.array([in_dev(g) for g in pool.groups])
            labels = np.array(pool.subsets)
            for subset in dict.fromkeys(pool.subsets):
                mask = labels == subset
                rows[subset] = (p, np.flatnonzero(mask & dev), np.flatnonzero(mask & ~dev))
        dev_table: dict[str, dict[str, dict[str, float]]] = {}
        for name in c.encoders:
            dev_table[name] = {}
            for w in WEIGHT_GRID:
                per = {s: _r10(fuse(scores[p][name], scores[p]["lexical"], lexical_weight=w), d)
                       for s, (p, d, _) in rows.items()}
                dev_table[name][str(w)] = {**per, "mean": float(np.mean(list(per.values())))}
        weights = {n: float(max(dev_table[n], key=lambda w: dev_table[n][w]["mean"])) for n in c.encoders}
        best = max(c.encoders, key=lambda n: dev_table[n][str(weights[n])]["mean"])
        for (pool_scores, pool) in zip(scores, pools):  # fused systems at the chosen weights
            for n in c.encoders:
                pool_scores[f"{n}+lexical"] = fuse(pool_scores[n], pool_scores["lexical"], lexical_weight=weights[n])
        systems = ["tfidf", "lexical", *c.encoders, *(f"{n}+lexical" for n in c.encoders), "random"]
        # reported, not used for any choice: the YouTube pool as one query set, the figure the copy evaluation gives
        yt = [rows[s] for s in dict.fromkeys(pools[0].subsets)]
        rows[YOUTUBE_ALL] = (0, np.sort(np.concatenate([d for _, d, _ in yt])),
                             np.sort(np.concatenate([t for _, _, t in yt])))

        def table(which: int) -> dict[str, dict[str, Any]]:
            out = {}
            for subset, (p, d, t) in rows.items():
                sel = {0: t, 1: np.concatenate([d, t])}[which]
                out[subset] = {}
                for s in systems:
                    better, tied = target_ranks(scores[p][s][sel], sel)
                    out[subset][s] = summarise(better, tied=tied, n_candidates=len(pools[p]), n_boot=c.n_boot,
                                               seed=c.seed)
            return out

        return {"config": asdict(c),
                "data": {s: {"pool": pools[p].name, "candidates": len(pools[p]), "dev_queries": int(len(d)),
                             "test_queries": int(len(t))} for s, (p, d, t) in rows.items()},
                "dev": dev_table, "chosen": {"weights": weights, "encoder": best,
                                             "dev_mean_r_at_10": dev_table[best][str(weights[best])]["mean"]},
                "test": table(0), "all_queries": table(1), "timings_s": timings}


LABELS = {"tfidf": "TF-IDF word 1-2-gram (the `copy` baseline)", "lexical": "lexical (Han char + word 1-2-grams)",
          "minilm": "MiniLM cosine (old default)", "use": "USE multilingual v3 cosine",
          "e5": "multilingual-e5-small cosine", "minilm+lexical": "MiniLM + lexical",
          "use+lexical": "USE multilingual + lexical", "e5+lexical": "e5 + lexical", "random": "random"}


def report(metrics: dict[str, Any], *, out_dir: Path, command: str) -> None:
    """Write ``copy_multilingual.json``, ``.md`` and ``.png`` (recall@k per system on each subset's test half)."""
    chosen, data = metrics["chosen"], metrics["data"]
    lines = ["# Copy retrieval in Chinese and English: encoders and dense + lexical fusion", "",
             f"Made by `{command}`.", "",
             "Each query ranks every line of its pool; the target is its own line. Queries are split in half by a "
             "hash of their group (YouTube video_id; the right line for the Chinese sets). Lexical weights and the "
             "encoder were chosen on the development half (mean R@10 over the five subsets); the tables below are "
             "the test half, scored once after those choices.", "",
             f"**Chosen:** encoder `{chosen['encoder']}`, lexical weights {chosen['weights']} (development mean "
             f"R@10 {chosen['dev_mean_r_at_10']:.3f}).", "",
             "| subset | pool | candidates | development queries | test queries |", "|---|---|---|---|---|"]
    lines += [f"| {s} | {d['pool']} | {d['candidates']} | {d['dev_queries']} | {d['test_queries']} |"
              for s, d in data.items()]
    for subset, systems in metrics["test"].items():
        lines += ["", f"## {subset}: test queries", "", *metrics_table(systems, labels=LABELS)]
    lines += ["", "## Development R@10 by lexical weight (mean over the five subsets)", "",
              "| weight | " + " | ".join(metrics["dev"]) + " |", "|---|" + "---|" * len(metrics["dev"])]
    for w in WEIGHT_GRID:
        lines.append(f"| {w} | " + " | ".join(f"{metrics['dev'][n][str(w)]['mean']:.3f}" for n in metrics["dev"])
                     + " |")
    lines += ["", f"Timings: {', '.join(f'{k} {v:.0f}' for k, v in metrics['timings_s'].items())}."]
    groups = {f"{s} test (n={data[s]['test_queries']})": {LABELS.get(k, k): v for k, v in systems.items()}
              for s, systems in metrics["test"].items()}
    write_report(metrics, out_dir=out_dir, name="copy_multilingual", lines=lines, command=command,
                 plot_groups=groups)
