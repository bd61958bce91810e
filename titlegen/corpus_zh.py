"""Chinese (brief, title) pairs read from ``../shared/data/zh_titles`` and ``kuairec_captions``.

Training and evaluation only: every set here is research-only or of unknown licence, so nothing of it ships.
Each loader returns the columns of :data:`titlegen.corpus.PAIR_COLUMNS` with a ``group`` naming the source item
(LCSTS text, product title, attribute set, news title, video id), so splits are made by group.

* **LCSTS** (Weibo post -> its headline): ``news`` style; texts repeated across its own splits are deduplicated.
* **AdvertiseGen** (clothing attributes -> ad copy): the brief is the attributes written as a creator would list
  them; the title is the copy's first clause (``简约而不简单的牛仔外套``), ``selling-point`` style with the
  attributes that the clause names as points. Literal ``<UNK>`` tokens are removed.
* **KOBE** (product title -> description, reversed): description -> product title, ``selling-point`` style;
  grouped by product title, since a product has several descriptions.
* **Toutiao** (entity keywords -> news title): only rows with keywords, as points of a ``news`` title.
* **KuaiRec** (video caption -> the creator's cover text): ``lifestyle`` style.

What the curation in :mod:`titlegen.train_default` then keeps is decided there (length, faithfulness).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from titlegen.corpus import PAIR_COLUMNS

_CLAUSE = re.compile(r"[，。！？；,!?;…~～]")
_ATTR_ORDER = ("类型", "颜色", "材质", "风格", "图案", "版型", "衣样式", "衣款式", "裙型", "裙长", "裙款式", "裤型", "裤长",
               "裤款式", "衣长", "袖型", "袖长", "领型", "裙领型", "裙袖型", "裙衣长", "裤腰型", "衣门襟", "裙下摆")


def _frame(dataset: str, groups, sources, titles, styles, points) -> pd.DataFrame:
    df = pd.DataFrame({"dataset": dataset, "group": list(groups), "source": list(sources), "title": list(titles),
                       "style": list(styles), "audience": "", "points": list(points)})
    df["source"] = df["source"].astype(str).str.replace(r"\s+", " ", regex=True).str.strip()
    df["title"] = df["title"].astype(str).str.replace(r"\s+", " ", regex=True).str.strip()
    return df[PAIR_COLUMNS]


def _lcsts(root: Path) -> pd.DataFrame:
    df = pd.read_csv(root / "zh_titles" / "lcsts_clge_subset.tsv", sep="\t", quoting=3, dtype=str).dropna()
    df = df.drop_duplicates("short_text").drop_duplicates("summary")
    return _frame("lcsts", "lcsts:" + df["short_text"].str[:40], df["short_text"], df["summary"], ["news"] * len(df),
                  [""] * len(df))


def _advertisegen(root: Path) -> pd.DataFrame:
    rows = []
    with open(root / "zh_titles" / "advertisegen_dev.jsonl", encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            item = json.loads(line)
            attrs = [kv.split("#", 1) for kv in item["content"].split("*") if "#" in kv]
            attrs.sort(key=lambda kv: _ATTR_ORDER.index(kv[0]) if kv[0] in _ATTR_ORDER else 99)
            values = list(dict.fromkeys(v for _, v in attrs))
            copy = item["summary"].replace("<UNK>", "")
            parts = _CLAUSE.split(copy, maxsplit=1)
            first = parts[0].strip()
            # The brief is the attributes plus the rest of the copy: the title is not in it verbatim.
            brief = "，".join(values) + "。" + (parts[1].strip() if len(parts) > 1 else "")
            points = [v for v in values if v in first and v not in ("上衣", "裙", "裤")][:2]
            rows.append(("adgen:" + item["content"], brief, first, "；".join(points)))
    g, s, t, p = zip(*rows)
    return _frame("advertisegen", g, s, t, ["selling-point"] * len(rows), p)


def _kobe(root: Path) -> pd.DataFrame:
    df = pd.read_csv(root / "zh_titles" / "kobe_taodescribe_test_title_to_description.tsv", sep="\t", quoting=3,
                     dtype=str).dropna(subset=["product_title", "description"])
    df = df.drop_duplicates("product_title")  # one description per product, so a product is never on both sides
    return _frame("kobe", "kobe:" + df["product_title"], df["description"], df["product_title"],
                  ["selling-point"] * len(df), [""] * len(df))


def _toutiao(root: Path) -> pd.DataFrame:
    df = pd.read_json(root / "zh_titles" / "toutiao_titles_keywords.jsonl", lines=True, dtype=False)
    df = df[df["keywords"].fillna("").str.strip() != ""].drop_duplicates("title")
    keywords = df["keywords"].str.split(",").map(lambda ks: [k.strip() for k in ks if k.strip()])
    briefs = keywords.map(lambda ks: "，".join(ks))
    return _frame("toutiao", "tt:" + df["title"], briefs, df["title"], ["news"] * len(df), [""] * len(df))


def _kuairec(root: Path) -> pd.DataFrame:
    df = pd.read_csv(root / "kuairec_captions" / "kuairec_caption_category.csv", dtype=str).fillna("")
    df = df[(df["manual_cover_text"] != "UNKNOWN") & (df["manual_cover_text"].str.strip() != "")
            & (df["caption"].str.strip() != "")]
    return _frame("kuairec", "kr:" + df["video_id"], df["caption"], df["manual_cover_text"],
                  ["lifestyle"] * len(df), [""] * len(df))


LOADERS = {"lcsts": _lcsts, "advertisegen": _advertisegen, "kobe": _kobe, "toutiao": _toutiao, "kuairec": _kuairec}


def load_zh_pairs(data_root: str | Path) -> pd.DataFrame:
    """Every Chinese pair of the five sets (uncurated), with :data:`~titlegen.corpus.PAIR_COLUMNS`."""
    root = Path(data_root)
    return pd.concat([load(root) for load in LOADERS.values()], ignore_index=True)
