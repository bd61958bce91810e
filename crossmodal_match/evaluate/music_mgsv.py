"""Music for a video on MGSV-EC, in both languages: rank the whole catalogue from the video's category and length.

Data: ``mgsv_ec/val_data.csv``, 2,000 real Kuaishou (video, track) pairs; a track's only content is its Chinese
title. The catalogue is every track of the file, deduplicated by title (``music_priors.catalogue_key``); each video
ranks all of it and its target is the track its creator used.

Split: rows are grouped by video and by track id (connected components; the counts are reported), and the groups
are cut by a hash of ``video_id`` (``music_usage.split_half``): the first half is the **development** part, the
second the **held-out test** part. Every setting (the smoothing, each encoder's brief language, the fusion weights,
which encoder the fused system uses) is chosen by ``folds``-fold cross-validation inside the development part
(folds by video hash); the priors are then learned on the whole development part and the test figures computed
once. A track title can recur (the same song used by a dev and a test video): learning that is co-usage, which the
product's feedback store learns too; the report gives the figures for test videos whose track was and was not used
in dev separately.

Systems: ``random`` (seeded), ``popularity`` (dev uses), ``text_<encoder>`` (category brief <-> title, zero-shot,
brief in Chinese or English as chosen on dev), ``priors`` (the learned signals without text), ``text_prior`` (the
category's learned direction in the chosen encoder's space), ``fused`` (priors + text + text prior). Signals are
in ``music_priors``; fusion is a weighted sum of per-query z-scores (``zscore``).
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from crossmodal_match.errors import ConfigError
from crossmodal_match.evaluate import music_priors as mp
from crossmodal_match.evaluate.music_usage import CATEGORY_ZH, load_pairs, split_half
from crossmodal_match.evaluate.retrieval import recall_at_k, summarise, target_ranks

PRIOR_SIGNALS = ("popularity", "category_usage", "attributes", "covers", "word_feel")
TEXT_SIGNALS = ("text", "text_prior")
WEIGHT_GRID = (0.0, 0.25, 0.5, 1.0, 2.0)
SMOOTHING_GRID = (5.0, 20.0, 80.0)
TEMPERATURE_GRID = (0.05, 0.2)


@dataclass(frozen=True)
class MusicMgsvConfig:
    """Settings of the MGSV-EC music evaluation.

    Attributes:
        data_dir: the shared data folder (holding ``mgsv_ec/``).
        folds: cross-validation folds inside the development half (>= 2).
        n_boot: bootstrap resamples for the 95% intervals.
        seed: seeds the random baseline and the bootstrap.
    """

    data_dir: str
    folds: int = 5
    n_boot: int = 1000
    seed: int = 0
    smoothing_grid: tuple[float, ...] = field(default=SMOOTHING_GRID)
    temperature_grid: tuple[float, ...] = field(default=TEMPERATURE_GRID)

    def __post_init__(self) -> None:
        if not isinstance(self.folds, int) or self.folds < 2:
            raise ConfigError(f"folds must be an integer >= 2, got {self.folds!r}")
        if (self.n_boot < 1 or not self.smoothing_grid or min(self.smoothing_grid) <= 0
                or not self.temperature_grid or min(self.temperature_grid) <= 0):
            raise ConfigError(f"n_boot must be >= 1 and smoothing and temperature values > 0, got {self.n_boot!r}, "
                              f"{self.smoothing_grid!r}, {self.temperature_grid!r}")


def zscore(scores: np.ndarray) -> np.ndarray:
    """Each row of np.ndarray [shape=(q, n)] to zero mean and unit variance over the candidates (constant -> 0)."""
    s = np.asarray(scores, dtype=np.float64)
    sd = s.std(axis=1, keepdims=True)
    return (s - s.mean(axis=1, keepdims=True)) / np.where(sd > 1e-12, sd, 1.0)


def brief(category: str, *, chinese: bool) -> str:
    """The text a category is embedded as: "美妆短视频背景音乐" or "background music for a beauty short video"."""
    if chinese:
        return f"{CATEGORY_ZH.get(category, category)}短视频背景音乐"
    return f"background music for a {category.lower()} short video"


def _group_count(pairs) -> dict[str, int]:
    """Connected components of rows linked by a shared video id or track id (union-find)."""
    parent = list(range(len(pairs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for column in ("video_id", "track_id"):
        first: dict[str, int] = {}
        for i, key in enumerate(pairs[column]):
            parent[root(i)] = root(first.setdefault(key, i))
    sizes = np.bincount([root(i) for i in range(len(pairs))])
    return {"groups": int((sizes > 0).sum()), "multi_row_groups": int((sizes > 1).sum())}


def build_catalogue(pairs) -> tuple[mp.Catalogue, np.ndarray]:
    """The deduplicated catalogue and each row's catalogue index (np.ndarray [shape=(rows,), int])."""
    keys = pairs["title"].map(mp.catalogue_key)
    order = list(dict.fromkeys(keys))
    index = {k: i for i, k in enumerate(order)}
    cand = keys.map(index).to_numpy()
    first_title = pairs.groupby(keys, sort=False)["title"].first()
    length = pairs.groupby(keys, sort=False)["music_total_duration"].median()
    return mp.Catalogue(titles=tuple(first_title[k] for k in order),
                        length_s=length.reindex(order).to_numpy(dtype=np.float64)), cand


def _fold_of(video_id: str, folds: int) -> int:
    return int.from_bytes(hashlib.sha256(f"fold:{video_id}".encode()).digest()[:4], "big") % folds


class MusicMgsvEvaluator:
    """Callable: choose settings by cross-validation on the development half, then measure the test half once.

    Args:
        config: data folder and settings.
        encoders: name -> an encoder (``encode_texts``, optionally ``encode_queries``; unit rows), e.g.
            ``{"minilm": ..., "use": ..., "e5": ...}``; the fused system may use any of those but MiniLM, which
            reads no Chinese (its text-only figure is the old baseline).
    """

    def __init__(self, config: MusicMgsvConfig, *, encoders: Mapping[str, Any]) -> None:
        if not encoders:
            raise ConfigError("MusicMgsvEvaluator needs at least one text encoder")
        self.config, self.encoders = config, dict(encoders)

    def _embeddings(self, catalogue: mp.Catalogue, categories: list[str]) -> dict[str, dict[str, Any]]:
        out = {}
        for name, enc in self.encoders.items():
            encode_q = getattr(enc, "encode_queries", enc.encode_texts)
            out[name] = {"titles": np.asarray(enc.encode_texts(list(catalogue.titles)), dtype=np.float32),
                         **{lang: dict(zip(categories, np.asarray(encode_q([brief(c, chinese=lang == "zh")
                                                                            for c in categories]),
                                                                  dtype=np.float32)))
                            for lang in ("zh", "en")}}
        return out

    def _prior_signals(self, dev, queries, catalogue, feel, *, smoothing: float) -> dict[str, np.ndarray]:
        """The learned, text-free signals, z-scored: name -> np.ndarray [shape=(queries, candidates)]."""
        cats, n = queries["category"].to_numpy().astype(str), len(catalogue)
        raw = {"popularity": mp.popularity(dev, n=n, queries=len(queries)),
               "category_usage": mp.category_usage(dev, cats, n=n, smoothing=smoothing),
               "attributes": mp.attributes(dev, cats, catalogue, smoothing=smoothing),
               "covers": mp.covers(dev, queries["video_s"].to_numpy(), catalogue),
               "word_feel": mp.word_feel(dev, cats, feel, smoothing=smoothing)}
        return {k: zscore(v).astype(np.float32) for k, v in raw.items()}

    def _text_signal(self, queries, catalogue, emb, *, encoder: str, lang: str) -> np.ndarray:
        """Zero-shot category brief <-> title cosine, z-scored."""
        cats, e = queries["category"].to_numpy().astype(str), emb[encoder]
        sims = mp.text_similarity(np.stack([e[lang][c] for c in cats]), e["titles"], catalogue.titles)
        return zscore(sims).astype(np.float32)

    def _text_prior_signal(self, dev, queries, catalogue, emb, *, encoder: str, temperature: float) -> np.ndarray:
        """The category's learned density ratio in the encoder's space, z-scored."""
        cats = queries["category"].to_numpy().astype(str)
        return zscore(mp.text_prior(dev, cats, emb[encoder]["titles"], catalogue.titles,
                                    temperature=temperature)).astype(np.float32)

    @staticmethod
    def _mrr(scores: np.ndarray, targets: np.ndarray) -> float:
        better, tied = target_ranks(scores, targets)
        from crossmodal_match.evaluate.retrieval import mean_reciprocal_rank

        return mean_reciprocal_rank(better, tied=tied)

    @staticmethod
    def _fit_weights(signals: dict[str, np.ndarray], names: tuple[str, ...], targets: np.ndarray
                     ) -> tuple[dict[str, float], float]:
        """Coordinate ascent over ``WEIGHT_GRID`` (two passes, from all weights 1) maximising MRR."""
        weights = {n: 1.0 for n in names}

        def score(w: dict[str, float]) -> float:
            if not any(w.values()):
                return -1.0
            fused = sum(w[n] * signals[n] for n in names if w[n])
            return MusicMgsvEvaluator._mrr(fused, targets)

        best = score(weights)
        for _ in range(2):
            for name in names:
                for value in WEIGHT_GRID:
                    trial = {**weights, name: value}
                    got = score(trial)
                    if got > best + 1e-9:
                        best, weights = got, trial
        return weights, best

    def _cross_validate(self, dev, catalogue, emb, feel) -> dict[str, Any]:
        """Signals of every dev fold (learned on the other folds), pooled; every setting chosen on them."""
        c = self.config
        folds = dev["video_id"].map(lambda v: _fold_of(v, c.folds)).to_numpy()
        parts = [(dev[folds != f], dev[folds == f]) for f in range(c.folds)]
        targets = np.concatenate([q["cand"].to_numpy() for _, q in parts])

        def pool(make) -> Any:
            made = [make(learn, queries) for learn, queries in parts]
            if isinstance(made[0], dict):
                return {k: np.concatenate([m[k] for m in made]) for k in made[0]}
            return np.concatenate(made)

        priors = {s: pool(lambda d, q, s=s: self._prior_signals(d, q, catalogue, feel, smoothing=s))
                  for s in c.smoothing_grid}
        chosen: dict[str, Any] = {"text_language": {}, "cv_mrr": {}}
        text = {}
        for encoder in self.encoders:  # zero-shot text: only the brief language is chosen
            by_lang = {lang: pool(lambda d, q, lang=lang, encoder=encoder: self._text_signal(
                q, catalogue, emb, encoder=encoder, lang=lang)) for lang in ("zh", "en")}
            lang_mrr = {lang: self._mrr(m, targets) for lang, m in by_lang.items()}
            chosen["text_language"][encoder] = max(lang_mrr, key=lang_mrr.get)
            chosen["cv_mrr"][f"text_{encoder}"] = lang_mrr
            text[encoder] = by_lang[chosen["text_language"][encoder]]
        fits = {s: self._fit_weights(priors[s], PRIOR_SIGNALS, targets) for s in c.smoothing_grid}
        smoothing = max(fits, key=lambda s: fits[s][1])
        chosen.update(prior_smoothing=smoothing, prior_weights=fits[smoothing][0])
        chosen["cv_mrr"]["priors"] = {f"s{s:g}": f[1] for s, f in fits.items()}
        chosen["cv"] = {"popularity": self._cv_metrics(priors[smoothing]["popularity"], targets),
                        "priors": self._cv_metrics(self._mix(priors[smoothing], chosen["prior_weights"]), targets),
                        **{f"text_{e}": self._cv_metrics(m, targets) for e, m in text.items()}}
        best = None
        for encoder, temp in itertools.product([e for e in self.encoders if e != "minilm"], c.temperature_grid):
            prior_text = pool(lambda d, q, t=temp, encoder=encoder: self._text_prior_signal(
                d, q, catalogue, emb, encoder=encoder, temperature=t))
            signals = {**priors[smoothing], "text": text[encoder], "text_prior": prior_text}
            weights, mrr = self._fit_weights(signals, PRIOR_SIGNALS + TEXT_SIGNALS, targets)
            chosen["cv_mrr"][f"fused_{encoder}_t{temp:g}"] = mrr
            chosen["cv_mrr"][f"text_prior_{encoder}_t{temp:g}"] = self._mrr(prior_text, targets)
            if best is None or mrr > best[0]:
                best = (mrr, encoder, temp, weights, prior_text, signals)
        if best is not None:
            _, encoder, temp, weights, prior_text, signals = best
            chosen.update(fused_encoder=encoder, fused_temperature=temp, fused_weights=weights)
            chosen["cv"].update(text_prior=self._cv_metrics(prior_text, targets),
                                fused=self._cv_metrics(self._mix(signals, weights), targets))
        return chosen

    @staticmethod
    def _mix(signals: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
        """Weighted sum of z-scored signals (weights never all 0: ``_fit_weights`` rejects that)."""
        return sum(w * signals[k] for k, w in weights.items() if w)

    @staticmethod
    def _cv_metrics(scores: np.ndarray, targets: np.ndarray) -> dict[str, float]:
        from crossmodal_match.evaluate.retrieval import mean_reciprocal_rank, median_rank

        better, tied = target_ranks(scores, targets)
        return {"mrr": mean_reciprocal_rank(better, tied=tied), "r_at_10": recall_at_k(better, k=10, tied=tied),
                "r_at_100": recall_at_k(better, k=100, tied=tied), "median_rank": median_rank(better, tied=tied)}

    def __call__(self) -> dict[str, Any]:
        """Returns:
            ``{"config", "data", "chosen", "test": {system: metrics}, "test_warm", "test_cold", "timings_s"}``;
            metrics from ``retrieval.summarise`` plus ``r_at_5``.
        """
        c, start = self.config, time.perf_counter()
        pairs = load_pairs(c.data_dir)
        catalogue, cand = build_catalogue(pairs)
        frame = pairs.assign(cand=cand, category=pairs["video_category"].astype(str),
                             video_s=pairs["video_total_duration"].astype(float))
        dev, test = frame[frame["half"] == 0].reset_index(drop=True), frame[frame["half"] == 1].reset_index(drop=True)
        emb = self._embeddings(catalogue, sorted(frame["category"].unique()))
        feel = mp.title_feel(catalogue.titles)
        t0 = time.perf_counter()
        chosen = self._cross_validate(dev, catalogue, emb, feel)
        cv_s = time.perf_counter() - t0
        scores = self._test_scores(dev, test, catalogue, emb, feel, chosen)
        targets = test["cand"].to_numpy()
        warm = np.isin(targets, dev["cand"].to_numpy())
        test_m, warm_m, cold_m = {}, {}, {}
        for name, s in scores.items():
            better, tied = target_ranks(s, targets)
            for out, mask in ((test_m, slice(None)), (warm_m, warm), (cold_m, ~warm)):
                b, t = better[mask], tied[mask]
                if b.size:
                    out[name] = {**summarise(b, tied=t, n_candidates=len(catalogue), n_boot=c.n_boot, seed=c.seed),
                                 "r_at_5": recall_at_k(b, k=5, tied=t)}
        n = len(catalogue)
        data = {"pairs": len(pairs), "catalogue": n, "dev_videos": len(dev), "test_videos": len(test),
                **_group_count(pairs), "test_targets_used_in_dev": int(warm.sum()),
                "titles_without_letters": [t for t in catalogue.titles if not mp.has_words(t)],
                "titles_with_mood_words": int(np.isfinite(feel[:, 0]).sum()),
                "chance": {"r_at_1": 1 / n, "r_at_5": 5 / n, "r_at_10": 10 / n, "median_rank": (n + 1) / 2}}
        return {"config": asdict(c), "data": data, "chosen": chosen, "test": test_m, "test_warm": warm_m,
                "test_cold": cold_m, "encoders": {k: getattr(e, "name", type(e).__name__)
                                                  for k, e in self.encoders.items()},
                "timings_s": {"cross_validation_s": cv_s, "total_s": time.perf_counter() - start}}

    def _test_scores(self, dev, test, catalogue, emb, feel, chosen) -> dict[str, np.ndarray]:
        """Every system's test score matrix, learned on the whole development half with the chosen settings."""
        c, n = self.config, len(catalogue)
        out = {"random": np.random.default_rng(c.seed).random((len(test), n)),
               "popularity": mp.popularity(dev, n=n, queries=len(test))}
        for encoder in self.encoders:
            out[f"text_{encoder}"] = self._text_signal(test, catalogue, emb, encoder=encoder,
                                                       lang=chosen["text_language"][encoder])
        sig = self._prior_signals(dev, test, catalogue, feel, smoothing=chosen["prior_smoothing"])
        out["priors"] = self._mix(sig, chosen["prior_weights"])
        if "fused_encoder" in chosen:
            enc = chosen["fused_encoder"]
            sig = {**sig, "text": out[f"text_{enc}"],
                   "text_prior": self._text_prior_signal(dev, test, catalogue, emb, encoder=enc,
                                                         temperature=chosen["fused_temperature"])}
            out["text_prior"] = sig["text_prior"]
            out["fused"] = self._mix(sig, chosen["fused_weights"])
        return out


LABELS = {"random": "random (seeded draw of chance)", "popularity": "popularity (dev uses)",
          "text_minilm": "text only: MiniLM (old default)", "text_use": "text only: USE multilingual v3",
          "text_e5": "text only: multilingual-e5-small", "priors": "priors only (learned on dev)",
          "text_prior": "text prior (category's titles in dev, chosen encoder)",
          "fused": "fused: priors + text + text prior"}


def _table(systems: dict[str, dict[str, Any]]) -> list[str]:
    rows = ["| system | queries | R@1 | R@5 | R@10 (95% CI) | MRR | median rank (95% CI) |",
            "|---|---|---|---|---|---|---|"]
    for name, m in systems.items():
        (lo, hi), (mlo, mhi) = m["r_at_10_ci95"], m["median_rank_ci95"]
        rows.append(f"| {LABELS.get(name, name)} | {m['queries']} | {m['r_at_1']:.4f} | {m['r_at_5']:.4f} | "
                    f"{m['r_at_10']:.4f} ({lo:.4f}-{hi:.4f}) | {m['mrr']:.4f} | {m['median_rank']:.0f} "
                    f"({mlo:.0f}-{mhi:.0f}) |")
    return rows


def report(metrics: dict[str, Any], *, out_dir, command: str) -> None:
    """Write ``music_mgsv.json``, ``.md`` and ``.png`` (recall@k of the test systems) in ``out_dir``."""
    from pathlib import Path

    from crossmodal_match.evaluate.retrieval import write_report

    d, ch = metrics["data"], metrics["chosen"]
    chance = d["chance"]
    lines = ["# Music for a video on MGSV-EC, in both languages: the whole catalogue ranked from the category",
             "", f"Made by `{command}`.", "",
             f"{d['pairs']} real Kuaishou (video, track) pairs; catalogue: {d['catalogue']} tracks (deduplicated by "
             f"title). Rows grouped by video and track id: {d['groups']} groups, {d['multi_row_groups']} with more "
             f"than one row. Development half: {d['dev_videos']} videos (every setting chosen by "
             f"{metrics['config']['folds']}-fold cross-validation inside it); held-out test half: "
             f"{d['test_videos']} videos, computed once. Each video ranks all {d['catalogue']} tracks. Encoders: "
             + ", ".join(f"{k} = {v}" for k, v in metrics["encoders"].items()) + ".", "",
             f"Chance: R@1 {chance['r_at_1']:.4f}, R@5 {chance['r_at_5']:.4f}, R@10 {chance['r_at_10']:.4f}, "
             f"median rank {chance['median_rank']:.0f}.", "", "## Held-out test half", "", *_table(metrics["test"]),
             "", f"Test videos whose track title was also used in the development half ({d['test_targets_used_in_dev']}"
             f" of {d['test_videos']}) and the others:", ""]
    for name, subset in (("used in dev", metrics["test_warm"]), ("never used in dev", metrics["test_cold"])):
        lines += [f"- {name}: " + "; ".join(f"{LABELS.get(k, k)} R@10 {m['r_at_10']:.3f}, median rank "
                                             f"{m['median_rank']:.0f}" for k, m in subset.items()
                                             if k in ("popularity", "priors", "fused"))]
    lines += ["", "## Chosen on the development half (cross-validated; the test half was not looked at)", "",
              "| system | dev MRR | dev R@10 | dev R@100 | dev median rank |", "|---|---|---|---|---|"]
    lines += [f"| {LABELS.get(k, k)} | {m['mrr']:.4f} | {m['r_at_10']:.4f} | {m['r_at_100']:.4f} | "
              f"{m['median_rank']:.0f} |" for k, m in ch["cv"].items()]
    lines += ["", f"- brief language per encoder: {ch['text_language']} (\"美妆短视频背景音乐\" vs \"background music "
              "for a beauty short video\")",
              f"- priors: smoothing {ch['prior_smoothing']:g}, weights {ch['prior_weights']}",
              f"- fused: encoder {ch.get('fused_encoder')}, text-prior temperature {ch.get('fused_temperature')}, "
              f"weights {ch.get('fused_weights')}",
              f"- titles without letters (the text signals give them no opinion): {d['titles_without_letters']}; "
              f"titles with mood-lexicon words: {d['titles_with_mood_words']} of {d['catalogue']}"]
    groups = {f"test: {d['test_videos']} videos x {d['catalogue']} tracks":
              {LABELS.get(k, k): v for k, v in metrics["test"].items()}}
    write_report(metrics, out_dir=Path(out_dir), name="music_mgsv", lines=lines, command=command,
                 plot_groups=groups)
