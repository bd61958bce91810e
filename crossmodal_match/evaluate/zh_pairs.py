"""Chinese brief -> line pairs from ``zh_titles`` (research-only data: read here, never shipped or quoted).

Three sets, each a pool in which every query has exactly one right line:
- ``toutiao``: Toutiao's own entity keywords ("俄罗斯,叙利亚,...", rows that have any) -> the news title;
- ``lcsts``: a Weibo post -> its headline (LCSTS repeats texts across its splits: deduplicated);
- ``xiaohongshu``: a note's body (literal ``\\n`` cleaned, first ``brief_chars`` characters) -> its title.

Every loader returns a :class:`Pairs` whose ``groups`` key the development / test split: a pair's group is its
right line, so no line is a target in both halves (the sets are deduplicated on both sides).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from crossmodal_match.errors import ConfigError
from crossmodal_match.evaluate.copy_retrieval import clean_text, cut_at_word


@dataclass(frozen=True)
class Pairs:
    """One retrieval pool: query i's right line is ``lines[i]``.

    Attributes:
        name: the set's name.
        queries, lines: texts, same length n.
        groups: the split key of each pair.
        subsets: a label per query for per-subset figures (the set's name, or the YouTube file).
    """

    name: str
    queries: list[str]
    lines: list[str]
    groups: list[str]
    subsets: list[str]

    def __len__(self) -> int:
        return len(self.queries)


def _dedupe_sample(name: str, pairs: list[tuple[str, str]], *, max_pairs: int, seed: int) -> Pairs:
    """Drop pairs whose query or line is empty or repeats an earlier one; a seeded sample of ``max_pairs``."""
    seen_q, seen_l, kept = set(), set(), []
    for query, line in pairs:
        q, l = query.casefold(), line.casefold()
        if len(q) < 2 or len(l) < 2 or q in seen_q or l in seen_l:
            continue
        seen_q.add(q)
        seen_l.add(l)
        kept.append((query, line))
    if len(kept) > max_pairs:
        idx = np.sort(np.random.default_rng(seed).choice(len(kept), size=max_pairs, replace=False))
        kept = [kept[i] for i in idx]
    if not kept:
        raise ConfigError(f"{name}: no usable pairs")
    return Pairs(name, [q for q, _ in kept], [l for _, l in kept], [l for _, l in kept], [name] * len(kept))


def _require(path: Path) -> Path:
    if not path.is_file():
        raise ConfigError(f"missing {path}; point --data at the shared data folder")
    return path


def load_toutiao(data_dir: str | Path, *, max_pairs: int = 2000, seed: int = 0) -> Pairs:
    """Toutiao keywords (comma-separated entities, joined with "，") -> title, rows with keywords only."""
    path = _require(Path(data_dir) / "zh_titles" / "toutiao_titles_keywords.jsonl")
    pairs = []
    with open(path, encoding="utf-8") as f:
        for raw in f:
            row = json.loads(raw)
            words = [w.strip() for w in (row.get("keywords") or "").split(",") if w.strip()]
            if words:
                pairs.append(("，".join(words), clean_text(row.get("title"))))
    return _dedupe_sample("toutiao", pairs, max_pairs=max_pairs, seed=seed)


def load_lcsts(data_dir: str | Path, *, max_pairs: int = 2000, seed: int = 0) -> Pairs:
    """LCSTS Weibo post -> headline (all of its splits, deduplicated)."""
    path = _require(Path(data_dir) / "zh_titles" / "lcsts_clge_subset.tsv")
    with open(path, encoding="utf-8", newline="") as f:
        pairs = [(clean_text(r["short_text"]), clean_text(r["summary"]))
                 for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]
    return _dedupe_sample("lcsts", pairs, max_pairs=max_pairs, seed=seed)


def load_xiaohongshu(data_dir: str | Path, *, brief_chars: int = 200, seed: int = 0) -> Pairs:
    """Xiaohongshu note body (first ``brief_chars`` characters) -> title, notes that have both."""
    path = _require(Path(data_dir) / "zh_titles" / "xiaohongshu_notes.csv")
    with open(path, encoding="utf-8", newline="") as f:
        pairs = [(cut_at_word(clean_text(r["desc"]), max_chars=brief_chars), clean_text(r["title"]))
                 for r in csv.DictReader(f)]
    return _dedupe_sample("xiaohongshu", pairs, max_pairs=10_000, seed=seed)
