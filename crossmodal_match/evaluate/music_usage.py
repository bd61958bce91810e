"""Music co-usage on MGSV-EC: from a video's category, find the track its creator used among all the split's tracks.

Data: ``mgsv_ec/val_data.csv``, one row per (video, track) pair of real Kuaishou e-commerce videos. The only
content of a track is its title (``music_path`` ends in ``<id>+<title>.mp3``; titles are Chinese) and its
length. Videos are split 50/50 by a hash of ``video_id`` (``split_half``): counts and learned statistics come
from the first half only; each video of the second half is a query whose candidates are all second-half tracks.

Every track id occurs once in this file, so exact-track co-usage cannot transfer between halves; the same song
does recur in other versions ("孤城" and "孤城（剪辑版）"), so counts are kept per ``song_key`` (title without
bracketed version notes). Systems:
- ``random``: seeded random scores;
- ``popularity``: first-half uses of the song key;
- ``co_usage_song``: category -> song-key counts of the first half, smoothed toward popularity
  (``(n(cat, key) + a * n(key) / N) / (n(cat) + a)``, ``a = smoothing``);
- ``co_usage_attributes``: the same co-usage signal through what a title says (DJ, edit, piano, instrumental,
  ... , Latin script) and the track length (bins): naive Bayes log-likelihood ratio
  ``log P(attributes | category) / P(attributes)``, each category's rates smoothed toward the whole half;
- ``minilm_en`` / ``minilm_zh``: MiniLM cosine between "background music for a <category> short video" (or its
  Chinese rendering) and the title;
- ``matcher``: the product's ranking (zero-shot fusion) with the titles as the music index's text, the
  first-half song-key counts as its use counts, and the English category text as the brief.

``probe`` measures what the English-only encoder does with Chinese titles (see ``encoder_probe``).
"""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crossmodal_match.errors import ConfigError
from crossmodal_match.evaluate.retrieval import metrics_table, summarise, target_ranks, write_report

_PATH = re.compile(r"(?P<id>\d+\+[0-9a-z]+)\+(?P<title>.+)\.mp3$", re.IGNORECASE)
_BRACKETS = re.compile(r"[(\[【《<].*?[)\]】》>]")
# Title hints -> attribute (the data notes name DJ版, 钢琴, 纯音乐, 伴奏; the others were counted in the file).
ATTRIBUTES: dict[str, str] = {"dj": r"dj", "edit": r"剪辑", "remix": r"remix|mashup|混音", "piano": r"钢琴",
                              "instrumental": r"纯音乐|伴奏|轻音乐", "acoustic": r"古筝|二胡|小提琴|吉他",
                              "chorus": r"副歌|高潮|片段", "female": r"女", "version": r"版|mix",
                              "beat_sync": r"卡点|节奏"}
LENGTH_EDGES_S: tuple[float, ...] = (45.0, 90.0, 150.0, 200.0)
# Hint -> an English phrase for it, for the cross-language probe; DJ is written the same in both (a control).
PROBE_HINTS: dict[str, str] = {"DJ": "DJ remix", "剪辑": "edited short version", "钢琴": "piano",
                               "纯音乐": "instrumental music", "伴奏": "accompaniment backing track",
                               "副歌": "chorus", "女": "female singer version"}
CATEGORY_ZH: dict[str, str] = {
    "Fashion": "时尚穿搭", "Games": "游戏", "Home Furnishings": "家居", "Food": "美食", "Beauty": "美妆",
    "High-tech Gadgets": "数码科技", "Agriculture": "三农", "Cars": "汽车", "Lifestyle": "生活", "Health": "健康",
    "Public News": "新闻", "Parenting": "育儿", "Pets": "宠物", "Relationships": "情感", "Fitness": "健身",
    "Art": "艺术", "Anime": "动漫", "Education": "教育", "Selfies": "自拍", "Sports": "体育", "Music": "音乐",
    "Travel": "旅行", "Photography": "摄影", "Movies TV Shows": "影视", "Comedy": "搞笑", "Dance": "舞蹈",
    "Horoscope Astrology": "星座", "Humanities": "人文", "Celebrity Entertainment": "明星娱乐",
    "Appearance": "颜值", "Finance": "财经", "Military": "军事", "Short Dramas": "短剧", "Books": "读书"}
SYSTEMS = ("random", "popularity", "co_usage_song", "co_usage_attributes", "minilm_en", "minilm_zh", "matcher")
LABELS = {"random": "random", "popularity": "popularity (first-half song uses)",
          "co_usage_song": "co-usage: category -> song counts", "co_usage_attributes":
          "co-usage: category -> title hints + length", "minilm_en": "MiniLM cosine, English category text",
          "minilm_zh": "MiniLM cosine, Chinese category text", "matcher": "matcher (zero-shot, uses = song counts)"}


def parse_music_path(path: str) -> tuple[str, str]:
    """The track id and title of an MGSV-EC ``music_path``.

    Args:
        path: e.g. ``"/Data/music/source_music/1/4+5xxavfkz9qscs44+旋律（DJ版）.mp3"``.

    Returns:
        ``(track_id, title)``, e.g. ``("4+5xxavfkz9qscs44", "旋律（DJ版）")``; the id equals the ``music_id``
        column; a title may itself contain "+".

    Raises:
        ConfigError: the file name is not ``<digits>+<id>+<title>.mp3``.
    """
    name = str(path).replace("\\", "/").rsplit("/", 1)[-1]
    match = _PATH.fullmatch(name)
    if match is None or not match["title"].strip():
        raise ConfigError(f"music_path {path!r} does not end in '<digits>+<id>+<title>.mp3'")
    return match["id"], match["title"].strip()


def song_key(title: str) -> str:
    """The song a title names, without version notes: NFKC (full-width brackets become ASCII), case-folded,
    bracketed parts and spaces removed; ``"孤城（剪辑版）"`` -> ``"孤城"``. A title that is all brackets keeps them."""
    text = unicodedata.normalize("NFKC", title).casefold()
    stripped = re.sub(r"\s+", "", _BRACKETS.sub("", text))
    return stripped or re.sub(r"\s+", "", text)


def split_half(video_id: Any) -> int:
    """0 (train) or 1 (evaluation): the lowest bit of the sha256 of the id's text, stable across runs."""
    return hashlib.sha256(str(video_id).encode("utf-8")).digest()[-1] & 1


def title_attributes(titles: list[str]) -> np.ndarray:
    """Which ``ATTRIBUTES`` each title shows, plus "Latin script" as the last column.

    Returns:
        np.ndarray [shape=(len(titles), len(ATTRIBUTES) + 1), bool].
    """
    out = np.zeros((len(titles), len(ATTRIBUTES) + 1), dtype=bool)
    for i, title in enumerate(titles):
        low = unicodedata.normalize("NFKC", title).casefold()
        out[i, :-1] = [re.search(p, low) is not None for p in ATTRIBUTES.values()]
        out[i, -1] = low.isascii()
    return out


def length_bins(length_s: np.ndarray) -> np.ndarray:
    """Track length bin (0 .. len(LENGTH_EDGES_S)) of each length in seconds: np.ndarray [shape=(n,), int]."""
    return np.digitize(np.asarray(length_s, dtype=np.float64), LENGTH_EDGES_S)


def load_pairs(data_dir: str) -> Any:
    """The MGSV-EC pairs with ``track_id``, ``title``, ``song_key`` and ``half`` columns added.

    Raises:
        ConfigError: the file is missing, or a ``music_path`` does not parse or disagrees with ``music_id``.
    """
    import pandas as pd

    path = Path(data_dir) / "mgsv_ec" / "val_data.csv"
    if not path.is_file():
        raise ConfigError(f"no MGSV-EC file at {str(path)!r}")
    pairs = pd.read_csv(path, dtype={"video_id": str, "music_id": str})
    parsed = [parse_music_path(p) for p in pairs["music_path"]]
    pairs["track_id"] = [p[0] for p in parsed]
    pairs["title"] = [p[1] for p in parsed]
    if (pairs["track_id"] != pairs["music_id"]).any():
        raise ConfigError("music_path ids disagree with the music_id column; the file layout changed")
    pairs["video_category"] = pairs["video_category"].fillna("Unknown")  # a handful of rows have none
    pairs["song_key"] = pairs["title"].map(song_key)
    pairs["half"] = pairs["video_id"].map(split_half)
    return pairs


@dataclass(frozen=True)
class MusicUsageConfig:
    """What the music co-usage evaluation runs on.

    Attributes:
        data_dir: the shared data folder (holding ``mgsv_ec/``).
        smoothing: pseudo-videos pulling a category's counts and rates toward the whole first half, > 0.
        n_boot: bootstrap resamples for the 95% intervals.
        seed: seeds the random baseline and the bootstrap.
    """

    data_dir: str
    smoothing: float = 20.0
    n_boot: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.smoothing > 0 or self.n_boot < 1:
            raise ConfigError(f"smoothing must be > 0 and n_boot >= 1, got {self.smoothing!r}, {self.n_boot!r}")


def co_usage_song_scores(train, *, categories: list[str], keys: list[str], smoothing: float) -> np.ndarray:
    """``(n(cat, key) + a * n(key) / N) / (n(cat) + a)`` for every (query category, candidate song key).

    Returns:
        np.ndarray [shape=(len(categories), len(keys)), float64].
    """
    pop = train["song_key"].value_counts()
    prior = pop.reindex(keys, fill_value=0).to_numpy(dtype=np.float64) / len(train)
    distinct, inverse = np.unique(np.asarray(categories, dtype=object), return_inverse=True)
    rows = np.empty((len(distinct), len(keys)))
    for i, cat in enumerate(distinct):  # one row per category, not per query: ~30 instead of ~1,000
        mine = train.loc[train["video_category"] == cat, "song_key"].value_counts()
        counts = mine.reindex(keys, fill_value=0).to_numpy(dtype=np.float64)
        rows[i] = (counts + smoothing * prior) / (mine.sum() + smoothing)
    return rows[inverse]


def co_usage_attribute_scores(train, *, categories: list[str], attrs: np.ndarray, bins: np.ndarray,
                              smoothing: float) -> np.ndarray:
    """Naive Bayes ``log P(attributes, length bin | category) - log P(attributes, length bin)`` per pair.

    Args:
        train: the first-half pairs (``title``, ``music_total_duration``, ``video_category``).
        categories: the query categories.
        attrs: np.ndarray [shape=(n, a), bool], ``title_attributes`` of the candidates.
        bins: np.ndarray [shape=(n,), int], ``length_bins`` of the candidates.
        smoothing: pseudo-videos pulling each category's rates toward the half's.

    Returns:
        np.ndarray [shape=(len(categories), n), float64].
    """
    t_attrs = title_attributes(train["title"].tolist()).astype(np.float64)
    t_bins = np.eye(len(LENGTH_EDGES_S) + 1)[length_bins(train["music_total_duration"].to_numpy())]
    cand_bins = np.eye(len(LENGTH_EDGES_S) + 1)[bins]
    base_a = (t_attrs.sum(axis=0) + 1.0) / (len(train) + 2.0)  # Laplace: no rate is exactly 0 or 1
    base_b = (t_bins.sum(axis=0) + 1.0) / (len(train) + t_bins.shape[1])
    cats = train["video_category"].to_numpy()
    x = attrs.astype(np.float64)
    distinct, inverse = np.unique(np.asarray(categories, dtype=object), return_inverse=True)
    out = np.empty((len(distinct), len(bins)))
    for i, cat in enumerate(distinct):
        mine = cats == cat
        p_a = (t_attrs[mine].sum(axis=0) + smoothing * base_a) / (mine.sum() + smoothing)
        p_b = (t_bins[mine].sum(axis=0) + smoothing * base_b) / (mine.sum() + smoothing)
        llr_a = x @ np.log(p_a / base_a) + (1 - x) @ np.log((1 - p_a) / (1 - base_a))
        out[i] = llr_a + cand_bins @ np.log(p_b / base_b)
    return out[inverse]


def _matcher_scores(encoder, *, titles, title_emb, length_s, uses, briefs) -> np.ndarray:
    """The product's fused scores (zero-shot weights) of a text-only music index for each brief."""
    from crossmodal_match.index import CandidateIndex
    from crossmodal_match.matcher import Matcher, MatcherConfig

    n = len(titles)
    index = CandidateIndex(kind="music", ids=[str(i) for i in range(n)], titles=list(titles), items=list(titles),
                           text_emb=title_emb, feel=np.full((n, 5), 0.5, dtype=np.float32), bpm=np.full(n, np.nan),
                           length_s=np.asarray(length_s, dtype=np.float64), arousal=np.full(n, 0.5),
                           uses=np.asarray(uses, dtype=np.float64), extra=[{} for _ in range(n)])
    matcher = Matcher(MatcherConfig(), text_encoder=encoder, music=index)
    weights = matcher.fusion["music"].vector()
    # _query is what match() builds; match() itself would also cut each top track's best moment, which needs
    # an audio analysis that MGSV-EC cannot give (no audio)
    return np.stack([matcher.features("music", matcher._query(None, b, None)[0]) @ weights for b in briefs])


def encoder_probe(encoder, titles: list[str]) -> dict[str, Any]:
    """What an encoder makes of the titles: per hint, ROC AUC of cosine(hint phrase, title) for telling titles
    that contain the hint from the others, with the phrase in English and in Chinese (0.5 = blind).

    Returns:
        ``{hint: {"titles": count, "auc_english": float, "auc_chinese": float, "english": phrase}}`` for hints
        in at least 15 titles.
    """
    from sklearn.metrics import roc_auc_score

    emb = np.asarray(encoder.encode_texts(titles), dtype=np.float32)
    out = {}
    for hint, english in PROBE_HINTS.items():
        has = np.array([hint.casefold() in unicodedata.normalize("NFKC", t).casefold() for t in titles])
        if 15 <= has.sum() <= len(titles) - 15:
            q = np.asarray(encoder.encode_texts([english, hint]), dtype=np.float32)
            out[hint] = {"titles": int(has.sum()), "english": english,
                         "auc_english": float(roc_auc_score(has, emb @ q[0])),
                         "auc_chinese": float(roc_auc_score(has, emb @ q[1]))}
    return out


def tokenizer_probe(titles: list[str]) -> dict[str, float]:
    """How the embedded MiniLM's word-piece vocabulary covers the titles: unknown-piece share and pieces per
    character (BERT's vocabulary splits Chinese into single characters, most of them barely trained)."""
    from transformers import AutoTokenizer

    from crossmodal_match.encoders import minilm_dir

    tok = AutoTokenizer.from_pretrained(minilm_dir())
    pieces = [tok.tokenize(t) for t in titles]
    total = sum(len(p) for p in pieces)
    unk = sum(p.count(tok.unk_token) for p in pieces)
    return {"pieces": total, "unknown_share": unk / max(total, 1),
            "titles_with_unknown": float(np.mean([tok.unk_token in p for p in pieces])),
            "pieces_per_char": total / max(sum(len(t) for t in titles), 1),
            "hint_pieces": {h: tok.tokenize(h) for h in PROBE_HINTS}}


def _chance_mrr(n: int) -> float:
    return float(np.mean(1.0 / np.arange(1, n + 1)))


def _brief(category: str, *, chinese: bool) -> str:
    if chinese:
        return f"{CATEGORY_ZH.get(category, category)}短视频背景音乐"
    return f"background music for a {category.lower()} short video"


class MusicUsageEvaluator:
    """Callable: split MGSV-EC by video, learn on the first half, rank the second half's tracks per video.

    Args:
        config: the data folder and settings.
        text_encoder: an encoder with ``encode_texts`` (L2-normalised rows); None loads the embedded MiniLM.
        probe_tokenizer: also count the MiniLM word pieces of the titles (loads its tokenizer).
    """

    def __init__(self, config: MusicUsageConfig, *, text_encoder=None, probe_tokenizer: bool = True) -> None:
        self.config = config
        self.text_encoder = text_encoder
        self.probe_tokenizer = probe_tokenizer

    def _scores(self, train, test, encoder) -> dict[str, np.ndarray]:
        """Every system's scores np.ndarray [shape=(queries, candidates)]; query i's target is candidate i."""
        c, titles, keys = self.config, test["title"].tolist(), test["song_key"].tolist()
        cats = test["video_category"].tolist()
        uses = train["song_key"].value_counts().reindex(keys, fill_value=0).to_numpy(dtype=np.float64)
        title_emb = np.asarray(encoder.encode_texts(titles), dtype=np.float32)
        scores = {"random": np.random.default_rng(c.seed).random((len(test), len(test))),
                  "popularity": np.tile(uses, (len(test), 1)),
                  "co_usage_song": co_usage_song_scores(train, categories=cats, keys=keys, smoothing=c.smoothing),
                  "co_usage_attributes": co_usage_attribute_scores(
                      train, categories=cats, attrs=title_attributes(titles),
                      bins=length_bins(test["music_total_duration"].to_numpy()), smoothing=c.smoothing)}
        for name, chinese in (("minilm_en", False), ("minilm_zh", True)):
            briefs = np.asarray(encoder.encode_texts([_brief(k, chinese=chinese) for k in cats]), dtype=np.float32)
            scores[name] = briefs @ title_emb.T
        scores["matcher"] = _matcher_scores(encoder, titles=titles, title_emb=title_emb,
                                            length_s=test["music_total_duration"].to_numpy(), uses=uses,
                                            briefs=[_brief(k, chinese=False) for k in cats])
        return scores

    def __call__(self) -> dict[str, Any]:
        """Returns:
            ``{"config", "data", "systems": {name: metrics}, "by_category": {category: {name: R@10}},
            "probe", "timings_s"}`` (metrics from ``retrieval.summarise``).
        """
        c, start = self.config, time.perf_counter()
        pairs = load_pairs(c.data_dir)
        train, test = pairs[pairs["half"] == 0], pairs[pairs["half"] == 1].reset_index(drop=True)
        encoder = self.text_encoder
        if encoder is None:
            from crossmodal_match.encoders import TextEncoder

            encoder = TextEncoder()
        scores = self._scores(train, test, encoder)
        ranks = {name: target_ranks(scores[name], np.arange(len(test))) for name in SYSTEMS}
        summary = {name: summarise(b, tied=t, n_candidates=len(test), n_boot=c.n_boot, seed=c.seed)
                   for name, (b, t) in ranks.items()}
        cats = test["video_category"].to_numpy()
        top = test["video_category"].value_counts().index[:6]
        by_cat = {str(k): {"queries": int((cats == k).sum()), **{
            name: summarise(b[cats == k], tied=t[cats == k], n_candidates=len(test), n_boot=1)["r_at_10"]
            for name, (b, t) in ranks.items()}} for k in top}
        probe = {"hints": encoder_probe(encoder, pairs["title"].tolist())}
        if self.probe_tokenizer:
            probe["tokenizer"] = tokenizer_probe(pairs["title"].tolist())
        seen = test["song_key"].isin(set(train["song_key"]))
        data = {"pairs": len(pairs), "train_videos": len(train), "test_videos": len(test),
                "distinct_track_ids": int(pairs["track_id"].nunique()),
                "test_tracks_with_id_in_train": int(test["track_id"].isin(set(train["track_id"])).sum()),
                "test_tracks_with_song_in_train": int(seen.sum()),
                "test_song_keys_repeated_in_test": int(test["song_key"].duplicated(keep=False).sum()),
                "track_covers_video_share": float((pairs["music_total_duration"]
                                                   >= pairs["video_total_duration"]).mean()),
                "corr_track_vs_video_length": float(np.corrcoef(pairs["music_total_duration"],
                                                                pairs["video_total_duration"])[0, 1]),
                "categories": int(pairs["video_category"].nunique()),
                # a system that sees only the category gives all its videos one ranking, whose top 10 holds at
                # most 10 of their (distinct) tracks
                "category_only_r_at_10_bound": float(np.minimum(test["video_category"].value_counts(), 10).sum()
                                                     / len(test)),
                "largest_category_share": float(pairs["video_category"].value_counts(normalize=True).iloc[0])}
        return {"config": asdict(c), "data": data, "systems": summary, "by_category": by_cat, "probe": probe,
                "encoder": getattr(encoder, "name", type(encoder).__name__),
                "timings_s": {"total_s": time.perf_counter() - start}}


def report(metrics: dict[str, Any], *, out_dir: Path, command: str) -> None:
    """Write ``music.json``, ``music.md`` and ``music.png`` (recall@k per system)."""
    d, n = metrics["data"], metrics["data"]["test_videos"]
    lines = ["# Music co-usage: MGSV-EC video category -> the track its creator used", "", f"Made by `{command}`.",
             "", f"{d['pairs']} real (video, track) pairs, split by a hash of `video_id`: {d['train_videos']} "
             f"videos to learn from, {n} queries; each query ranks all {n} tracks of its half (its own track is "
             f"the target). Encoder: {metrics['encoder']}. Ties count as a uniform random tie-break.", "",
             *metrics_table(metrics["systems"], labels=LABELS), "",
             "R@10 in the largest categories (queries of that category only):", "",
             "| category | queries | " + " | ".join(LABELS[s] for s in SYSTEMS) + " |",
             "|---|---|" + "---|" * len(SYSTEMS)]
    for cat, row in metrics["by_category"].items():
        lines.append(f"| {cat} | {row['queries']} | " + " | ".join(f"{row[s]:.3f}" for s in SYSTEMS) + " |")
    lines += ["", "What the English-only MiniLM makes of the Chinese titles: ROC AUC of cosine(phrase, title) for "
              "finding the titles that contain a hint (0.5 = blind; DJ is spelled the same in both languages):", "",
              "| hint | titles | English phrase | AUC, English phrase | AUC, the Chinese hint itself |",
              "|---|---|---|---|---|"]
    lines += [f"| {h} | {p['titles']} | {p['english']} | {p['auc_english']:.3f} | {p['auc_chinese']:.3f} |"
              for h, p in metrics["probe"]["hints"].items()]
    tok = metrics["probe"].get("tokenizer")
    lines += ["", "## Generated notes", "",
              f"- {d['distinct_track_ids']} distinct track ids in {d['pairs']} pairs: "
              f"{d['test_tracks_with_id_in_train']} query tracks occur in the first half by id, so exact-track "
              f"co-usage has nothing to transfer; by song (title without version notes) "
              f"{d['test_tracks_with_song_in_train']} of {n} do, and {d['test_song_keys_repeated_in_test']} query "
              f"tracks share their song with another candidate (they tie on song-level systems).",
              f"- Duration carries no signal here: the track covers the whole video in "
              f"{d['track_covers_video_share']:.1%} of pairs and track vs video length correlate at "
              f"{d['corr_track_vs_video_length']:+.2f}; the matcher's duration feature is flat.",
              f"- {d['categories']} categories; the largest holds {d['largest_category_share']:.0%} of the videos. "
              f"Every query of one category gets the same ranking, whose top 10 can hold at most 10 of that "
              f"category's tracks: no category-only system can exceed R@10 = "
              f"{d['category_only_r_at_10_bound']:.3f} here.",
              f"- Chance level for {n} candidates: R@10 = 10/{n} = {10 / n:.3f}, MRR = {_chance_mrr(n):.3f}, median "
              f"rank = {(n + 1) / 2:g}; the random row is one seeded draw of it."]
    if tok:
        lines.append(f"- MiniLM word pieces of the titles: {tok['pieces_per_char']:.2f} per character, "
                     f"{tok['unknown_share']:.1%} unknown ([UNK]), {tok['titles_with_unknown']:.1%} of titles with "
                     f"one. The hints as MiniLM reads them: " + "; ".join(
                         f"{h} -> {' '.join(p)}" for h, p in tok["hint_pieces"].items()) + ".")
    groups = {f"{n} queries, {n} candidates": {LABELS[k]: v for k, v in metrics["systems"].items()}}
    write_report(metrics, out_dir=out_dir, name="music", lines=lines, command=command, plot_groups=groups)
