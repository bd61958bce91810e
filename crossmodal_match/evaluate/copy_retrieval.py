"""Copy retrieval on real data: a YouTube video's description (as the brief) must find its own title.

Data: ``youtube_trending/*videos_dev.csv`` (US and FR files). Rows are grouped by ``video_id`` (a video trending on
several days is one video; one trending in both countries is kept once, in the first file), malformed rows
(a ``video_id`` that is not 11 characters of YouTube's alphabet) are dropped, descriptions are cleaned (literal
``\\n``, HTML entities and tags, URLs) and those shorter than ``min_description_chars`` are dropped, and videos
whose title or cleaned description repeats another's are dropped so every query has exactly one right answer.
The brief is the first ``brief_chars`` characters of the description (cut at a word): a creator's brief is a
line, not a 900-character channel blurb, and MiniLM reads at most 256 word pieces anyway.

Every remaining video is a query; its candidates are all the kept titles (one per video). Systems:
- ``matcher``: the product path: the titles as ``CopyLine``\\s in a copy ``CandidateIndex``, ranked by
  ``Matcher`` (zero-shot fusion of the features; without footage or feedback only the semantic feature varies);
  full ranks come from ``Matcher.features("copy", query)`` and the fusion weights, and ``Matcher.match`` with
  ``top_k=10`` is run on every query to check that its top 10 is the same;
- ``minilm``: plain cosine of MiniLM brief and title embeddings;
- ``tfidf``: word 1-2-gram TF-IDF cosine (sublinear tf, accents stripped), fitted on the pool's titles and
  briefs (unsupervised);
- ``hybrid``: a diagnostic, not in the product: per query, MiniLM and TF-IDF scores z-normalised over the
  candidates and summed (does a lexical feature add to the semantic one?);
- ``random``: seeded random scores.
"""

from __future__ import annotations

import html
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crossmodal_match.errors import ConfigError
from crossmodal_match.evaluate.retrieval import metrics_table, summarise, target_ranks, write_report

_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_URL = re.compile(r"(https?://|www\.)\S+", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
SYSTEMS = ("matcher", "minilm", "tfidf", "hybrid", "random")
LABELS = {"matcher": "matcher (product path, zero-shot fusion)", "minilm": "MiniLM cosine",
          "tfidf": "TF-IDF word 1-2-gram cosine", "hybrid": "MiniLM + TF-IDF, z-scores summed (diagnostic)",
          "random": "random"}


def clean_text(text: Any) -> str:
    """A description or title as plain text: literal ``\\n`` to spaces, HTML unescaped, tags and URLs removed,
    whitespace collapsed; a missing value (NaN/None) is ``""``."""
    if not isinstance(text, str):
        return ""
    text = html.unescape(text.replace("\\n", " "))
    return _SPACE.sub(" ", _URL.sub(" ", _TAG.sub(" ", text))).strip()


def cut_at_word(text: str, *, max_chars: int) -> str:
    """The first ``max_chars`` characters of ``text``, ending at a word boundary when one is in the last third."""
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    space = head.rfind(" ")
    return head[:space] if space >= max_chars * 2 // 3 else head


@dataclass(frozen=True)
class CopyRetrievalConfig:
    """What the copy retrieval runs on.

    Attributes:
        data_dir: the shared data folder (holding ``youtube_trending/``).
        max_videos: at most this many videos (a seeded sample if more are kept); each is a query and a candidate.
        min_videos: fewer kept videos than this is an error (the task is "among >= 1,000 titles").
        min_description_chars: shorter cleaned descriptions are dropped, characters.
        brief_chars: the brief is the description's first this many characters.
        n_boot: bootstrap resamples for the 95% intervals.
        seed: seeds the sample, the random baseline and the bootstrap.
    """

    data_dir: str
    max_videos: int = 2000
    min_videos: int = 1000
    min_description_chars: int = 30
    brief_chars: int = 200
    n_boot: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.min_videos <= self.max_videos:
            raise ConfigError(f"need 1 <= min_videos <= max_videos, got {self.min_videos}, {self.max_videos}")
        if self.brief_chars < 20 or self.min_description_chars < 1:
            raise ConfigError(f"brief_chars must be >= 20 and min_description_chars >= 1, got "
                              f"{self.brief_chars}, {self.min_description_chars}")


def load_videos(config: CopyRetrievalConfig) -> tuple[Any, dict[str, int]]:
    """The kept videos and what was dropped on the way.

    Returns:
        ``(videos, counts)``: a pandas DataFrame with columns video_id, lang (file prefix: US, FR),
        title, description (cleaned), brief; and counts of rows/videos read and dropped per reason.

    Raises:
        ConfigError: no ``*videos_dev.csv`` file, or fewer than ``min_videos`` videos left.
    """
    import pandas as pd

    files = sorted((Path(config.data_dir) / "youtube_trending").glob("*videos_dev.csv"))
    if not files:
        raise ConfigError(f"no youtube_trending/*videos_dev.csv under {config.data_dir!r}")
    frames = [pd.read_csv(f, usecols=["video_id", "title", "description"], dtype=str).assign(
        lang=f.name.removesuffix("videos_dev.csv")) for f in files]
    rows = pd.concat(frames, ignore_index=True)
    counts = {"rows": len(rows)}
    rows = rows[rows["video_id"].fillna("").str.match(_VIDEO_ID)]
    counts["malformed_rows"] = counts["rows"] - len(rows)
    videos = rows.drop_duplicates("video_id").copy()  # same video on several days (and in both files): one
    counts["videos"] = len(videos)
    counts["videos_in_both_files"] = int((rows.groupby("video_id")["lang"].nunique() > 1).sum())
    videos["title"] = videos["title"].map(clean_text)
    videos["description"] = videos["description"].map(clean_text)
    short = (videos["description"].str.len() < config.min_description_chars) | (videos["title"].str.len() < 3)
    counts["short_or_empty_description"] = int(short.sum())
    videos = videos[~short]
    for column in ("title", "description"):  # one right answer per query: no repeated title or description
        dup = videos[column].str.casefold().duplicated()
        counts[f"repeated_{column}"] = int(dup.sum())
        videos = videos[~dup]
    if len(videos) > config.max_videos:
        videos = videos.sample(n=config.max_videos, random_state=config.seed)
    if len(videos) < config.min_videos:
        raise ConfigError(f"only {len(videos)} usable videos under {config.data_dir!r}; need {config.min_videos}")
    videos = videos.sort_values(["lang", "video_id"]).reset_index(drop=True)
    videos["brief"] = videos["description"].map(lambda d: cut_at_word(d, max_chars=config.brief_chars))
    counts["kept"] = len(videos)
    return videos, counts


def _tfidf_scores(briefs: list[str], titles: list[str]) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode")
    vectorizer.fit(titles + briefs)
    return (vectorizer.transform(briefs) @ vectorizer.transform(titles).T).toarray()


def _zscore(scores: np.ndarray) -> np.ndarray:
    """Each row of np.ndarray [shape=(q, n)] to zero mean and unit variance (a constant row stays 0)."""
    sd = scores.std(axis=1, keepdims=True)
    return (scores - scores.mean(axis=1, keepdims=True)) / np.where(sd > 0, sd, 1.0)


def _matcher_scores(videos, encoder) -> tuple[np.ndarray, dict[str, Any]]:
    """Scores of the product path, and the check that ``Matcher.match`` returns the same top 10."""
    from crossmodal_match.catalog import CopyLine
    from crossmodal_match.index import copy_index
    from crossmodal_match.matcher import Matcher, MatcherConfig

    lines = [CopyLine(id=v, text=t) for v, t in zip(videos["video_id"], videos["title"])]
    matcher = Matcher(MatcherConfig(), text_encoder=encoder, copy=copy_index(lines, encoder))
    weights = matcher.fusion["copy"].vector()
    scores, same_top10, hits10 = [], 0, 0
    for vid, brief in zip(videos["video_id"], videos["brief"]):
        query, _ = matcher._query(None, brief, None)  # the query match() builds; private, but the same object
        s = matcher.features("copy", query) @ weights
        shown = [c.id for c in matcher.match(None, brief, top_k=10).copy]
        same_top10 += shown == [lines[i].id for i in np.argsort(-s, kind="stable")[:10]]
        hits10 += vid in shown
        scores.append(s)
    n = len(lines)
    return np.stack(scores), {"queries": n, "match_top10_equal_to_feature_ranking": same_top10 / n,
                              "match_r_at_10": hits10 / n, "weights": matcher.fusion["copy"].weights}


class CopyRetrievalEvaluator:
    """Callable: load and clean the YouTube videos, score every system, return the metrics dict.

    Args:
        config: the data folder and settings.
        text_encoder: an encoder with ``encode_texts`` (L2-normalised rows); None loads the embedded MiniLM.
    """

    def __init__(self, config: CopyRetrievalConfig, *, text_encoder=None) -> None:
        self.config = config
        self.text_encoder = text_encoder

    def __call__(self) -> dict[str, Any]:
        """Returns:
            ``{"config", "data", "systems": {name: metrics}, "by_language": {lang: {name: metrics}},
            "product_check", "title_in_brief_share", "timings_s"}`` (metrics from ``retrieval.summarise``).
        """
        c, timings = self.config, {}
        start = time.perf_counter()
        videos, counts = load_videos(c)
        encoder = self.text_encoder
        if encoder is None:
            from crossmodal_match.encoders import TextEncoder

            encoder = TextEncoder()
        timings["load_s"] = time.perf_counter() - start
        titles, briefs = videos["title"].tolist(), videos["brief"].tolist()
        start = time.perf_counter()
        title_emb = np.asarray(encoder.encode_texts(titles), dtype=np.float32)
        brief_emb = np.asarray(encoder.encode_texts(briefs), dtype=np.float32)  # also fills the encoder's memo
        timings["encode_s"] = time.perf_counter() - start
        start = time.perf_counter()
        scores = {"minilm": brief_emb @ title_emb.T, "tfidf": _tfidf_scores(briefs, titles),
                  "random": np.random.default_rng(c.seed).random((len(videos), len(videos)))}
        scores["hybrid"] = _zscore(scores["minilm"]) + _zscore(scores["tfidf"])
        scores["matcher"], product_check = _matcher_scores(videos, encoder)
        timings["score_s"] = time.perf_counter() - start
        targets = np.arange(len(videos))  # query i's own title is candidate i
        ranks = {name: target_ranks(scores[name], targets) for name in SYSTEMS}
        langs = videos["lang"].to_numpy()
        summary = {name: summarise(b, tied=t, n_candidates=len(videos), n_boot=c.n_boot, seed=c.seed)
                   for name, (b, t) in ranks.items()}
        by_lang = {lang: {name: summarise(b[langs == lang], tied=t[langs == lang], n_candidates=len(videos),
                                          n_boot=c.n_boot, seed=c.seed) for name, (b, t) in ranks.items()}
                   for lang in sorted(set(langs))}
        in_brief = [t.casefold() in b.casefold() for t, b in zip(titles, briefs)]
        return {"config": asdict(c), "data": {**counts, "by_language": {k: int((langs == k).sum())
                                                                        for k in sorted(set(langs))}},
                "systems": summary, "by_language": by_lang, "product_check": product_check,
                "title_in_brief_share": {"all": float(np.mean(in_brief)), **{
                    k: float(np.mean(np.asarray(in_brief)[langs == k])) for k in sorted(set(langs))}},
                "encoder": getattr(encoder, "name", type(encoder).__name__), "timings_s": timings}


def report(metrics: dict[str, Any], *, out_dir: Path, command: str) -> None:
    """Write ``copy.json``, ``copy.md`` and ``copy.png`` (recall@k per system: all queries and per file)."""
    d, check, c = metrics["data"], metrics["product_check"], metrics["config"]
    n = d["kept"]
    lines = ["# Copy retrieval: YouTube description -> its own title", "", f"Made by `{command}`.", "",
             f"{n} videos ({', '.join(f'{k}: {v}' for k, v in d['by_language'].items())}); each video's brief "
             f"(the first {c['brief_chars']} characters of its cleaned description) ranks all {n} titles; the "
             f"target is its own title. Encoder: {metrics['encoder']}. Ties count as a uniform random tie-break.",
             "", "## All queries", "", *metrics_table(metrics["systems"], labels=LABELS)]
    for lang, systems in metrics["by_language"].items():
        lines += ["", f"## Queries from the {lang} file ({d['by_language'][lang]}; candidates: all {n} titles)",
                  "", *metrics_table(systems, labels=LABELS)]
    share = metrics["title_in_brief_share"]
    lines += ["", "## Generated notes", "",
              f"- Data: {d['rows']} rows read, {d['malformed_rows']} malformed (broken CSV lines), {d['videos']} "
              f"videos ({d['videos_in_both_files']} trending in both files, kept once), "
              f"{d['short_or_empty_description']} with a description under {c['min_description_chars']} characters "
              f"after cleaning, {d['repeated_title']} repeated titles and {d['repeated_description']} repeated "
              f"descriptions dropped.",
              f"- The title appears verbatim in the brief for {share['all']:.0%} of the queries "
              f"({', '.join(f'{k} {v:.0%}' for k, v in share.items() if k != 'all')}); many more share rare "
              f"words with it (names of people, channels, shows), which is what TF-IDF rewards.",
              f"- Product-path check: `Matcher.match(None, brief, top_k=10)` returned the same top 10 as the "
              f"feature ranking for {check['match_top10_equal_to_feature_ranking']:.1%} of the queries; its R@10 "
              f"is {check['match_r_at_10']:.3f}. Fusion weights: {check['weights']}.",
              f"- Timings: {', '.join(f'{k} {v:.1f}' for k, v in metrics['timings_s'].items())}."]
    groups = {f"all queries (n={n})": {LABELS[k]: v for k, v in metrics["systems"].items()}}
    groups.update({f"{lang} queries (n={d['by_language'][lang]})": {LABELS[k]: v for k, v in s.items()}
                   for lang, s in metrics["by_language"].items()})
    write_report(metrics, out_dir=out_dir, name="copy", lines=lines, command=command, plot_groups=groups)
