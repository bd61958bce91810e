"""Title training and validation data read from the shared data sets (``../shared/data``).

Used by the training and evaluation entry points only; the generator never reads these files. Every pair carries
a ``group`` (test id, article link, news id, video id, product id) and splits are made by group, then titles and
sources that occur in validation are removed from training, so no headline leaks across the split.

Pairs are labelled with the controls a creator would have given (style, audience, selling points, length bucket)
so the model learns to follow them; see :mod:`titlegen.controls` for the format.
"""

from __future__ import annotations

import hashlib
import html
import json
import random
import re
from pathlib import Path

import pandas as pd

from titlegen.controls import Controls, bucket_of_title, encode_source

PAIR_COLUMNS = ["dataset", "group", "source", "title", "style", "audience", "points"]

# Categories of HuffPost and MIND that name a readership, mapped to the audience text a creator would type.
_AUDIENCES = {
    "parenting": "parents", "parents": "parents", "women": "women", "black voices": "black readers",
    "queer voices": "lgbtq readers", "latino voices": "latino readers", "college": "students",
    "travel": "travellers", "food & drink": "food lovers", "taste": "food lovers", "foodanddrink": "food lovers",
    "style & beauty": "fashion fans", "style": "fashion fans", "home & living": "homeowners",
    "weddings": "couples", "sports": "sports fans", "wellness": "health-conscious readers",
    "healthy living": "health-conscious readers", "health": "health-conscious readers", "autos": "car fans",
    "money": "investors", "finance": "investors", "business": "business readers", "tech": "tech fans",
    "entertainment": "movie and tv fans", "movies": "movie fans", "music": "music fans", "tv": "tv fans",
}
_STOPWORDS = set(
    "this that with from have your what when will they their there about into than then them these those were "
    "been being just more most over some such only also after before here which while would could should".split()
)
_URL = re.compile(r"https?://\S+|www\.\S+")
_TAG = re.compile(r"<[^>]+>")


def clean_text(text: object) -> str:
    """Strip HTML tags and entities, URLs and repeated whitespace; non-strings become ``""``."""
    if not isinstance(text, str):
        return ""
    text = html.unescape(_TAG.sub(" ", text)).replace("\\n", " ")
    return re.sub(r"\s+", " ", _URL.sub(" ", text)).strip()


def _upworthy(root: Path) -> pd.DataFrame:
    df = pd.read_parquet(root / "upworthy" / "upworthy_exploratory_dev.parquet")
    df["source"] = df["lede"].map(clean_text)
    short = df["source"].str.len() < 30
    df.loc[short, "source"] = (df.loc[short, "source"] + " " + df.loc[short, "excerpt"].map(clean_text)).str.strip()
    # Every arm is a human headline for the story, but the arms that won (winners, first places, or the best
    # arm of a test with neither marked) are the ones to imitate: they are kept twice.
    best = df.groupby("clickability_test_id")["ctr"].transform("max") == df["ctr"]
    won = df["winner"].fillna(False).astype(bool) | df["first_place"].fillna(False).astype(bool) | best
    out = pd.DataFrame({"dataset": "upworthy", "group": "up:" + df["clickability_test_id"].astype(str),
                        "source": df["source"], "title": df["headline"].map(clean_text), "category": "",
                        "won": won})
    return out


def _huffpost(root: Path) -> pd.DataFrame:
    rows = []
    for name in ("news_category_subset.jsonl", "news_category_v2_subset.jsonl"):
        with open(root / "huffpost_news" / name, encoding="utf-8") as f:
            rows.extend(json.loads(line) for line in f if line.strip())
    df = pd.DataFrame(rows).drop_duplicates("link")
    return pd.DataFrame({"dataset": "huffpost", "group": "hp:" + df["link"].astype(str),
                         "source": df["short_description"].map(clean_text), "title": df["headline"].map(clean_text),
                         "category": df["category"].str.lower()})


def _mind(root: Path) -> pd.DataFrame:
    df = pd.read_csv(root / "mind_small" / "news.tsv", sep="\t", header=None, quoting=3,
                     names=["id", "category", "sub", "title", "abstract", "url", "te", "ae"])
    return pd.DataFrame({"dataset": "mind", "group": "mind:" + df["id"].astype(str),
                         "source": df["abstract"].map(clean_text), "title": df["title"].map(clean_text),
                         "category": df["category"].astype(str).str.lower()})


def _youtube(root: Path) -> pd.DataFrame:
    frames = [pd.read_csv(p) for p in sorted((root / "youtube_trending").glob("*videos_dev.csv"))]
    df = pd.concat(frames).drop_duplicates("video_id")
    return pd.DataFrame({"dataset": "youtube", "group": "yt:" + df["video_id"].astype(str),
                         "source": df["description"].map(clean_text), "title": df["title"].map(clean_text),
                         "category": ""})


def _myntra(root: Path) -> pd.DataFrame:
    df = pd.read_csv(root / "myntra_products" / "myntra_products_catalog.csv").drop_duplicates("Product_ID")
    out = pd.DataFrame({"dataset": "myntra", "group": "my:" + df["Product_ID"].astype(str),
                        "source": df["Description"].map(clean_text), "title": df["Product_Name"].map(clean_text),
                        "category": ""})
    out["brand"] = df["Product_Brand"].fillna("").astype(str).str.strip()
    out["colour"] = df["Primary_Color"].fillna("").astype(str).str.strip()
    out["gender"] = df["Gender"].fillna("").astype(str).str.lower()
    return out


def _label(row: pd.Series, rng: random.Random) -> tuple[str, str, str]:
    """(style, audience, points joined by '; ') a creator would plausibly have asked for this pair."""
    title = row["title"]
    audience = _AUDIENCES.get(row.get("category") or "", "")
    if row["dataset"] == "myntra":
        audience = row["gender"] if row["gender"] in {"men", "women", "boys", "girls", "unisex"} else ""
        points = [row["brand"]] + ([row["colour"]] if row["colour"] and rng.random() < 0.5 else [])
        style = "selling-point"
    else:
        style = {"upworthy": "lifestyle", "youtube": "lifestyle"}.get(row["dataset"], "news")
        if audience and rng.random() < 0.7:
            style = "audience"
        source_words = set(re.findall(r"[a-z]+", row["source"].lower()))
        shared = [w for w in dict.fromkeys(re.findall(r"[a-z]+", title.lower()))
                  if len(w) >= 4 and w not in _STOPWORDS and w in source_words]
        points = rng.sample(shared, k=min(len(shared), rng.choice((1, 2)))) if shared and rng.random() < 0.5 else []
    if title.endswith("?"):
        style = "question"
    elif re.match(r"^(\d+|top \d+)\b", title.lower()):
        style = "listicle"
    return style, audience, "; ".join(p for p in points if p)


def load_pairs(data_root: str | Path, *, seed: int = 0) -> pd.DataFrame:
    """All (source, title) pairs with their group and control labels.

    Args:
        data_root: the ``shared/data`` folder.
        seed: seed of the random parts of the labels (which selling points are named).

    Returns:
        A frame with :data:`PAIR_COLUMNS`, one row per pair, sources of at least 30 characters.
    """
    root = Path(data_root)
    frames = [loader(root) for loader in (_upworthy, _huffpost, _mind, _youtube, _myntra)]
    df = pd.concat(frames, ignore_index=True)
    df = df[(df["source"].str.len() >= 30) & (df["title"].str.len() >= 8)]
    df = df.drop_duplicates(["source", "title"])
    winners = df[df["won"].fillna(False).astype(bool)]
    df = pd.concat([df, winners], ignore_index=True)
    rng = random.Random(seed)
    labels = [_label(row, rng) for _, row in df.iterrows()]
    df["style"], df["audience"], df["points"] = zip(*labels)
    return df[PAIR_COLUMNS]


def load_title_corpus(data_root: str | Path) -> list[str]:
    """Headline-style titles without a source (for teaching the decoder to write): ABC, clickbait, Flipkart."""
    root = Path(data_root)
    titles = pd.read_csv(root / "abc_headlines" / "abcnews-date-text.csv")["headline_text"].astype(str).tolist()
    for name in ("clickbait_data.txt", "non_clickbait_data.txt"):
        text = (root / "clickbait" / name).read_text(encoding="utf-8", errors="replace")
        titles.extend(line.strip() for line in text.splitlines() if line.strip())
    flip = pd.read_csv(root / "flipkart_titles" / "flipkart_com-ecommerce_sample.csv", header=None)
    titles.extend(flip[1].astype(str).tolist())
    return [t for t in dict.fromkeys(clean_text(t) for t in titles) if len(t) >= 8]


def click_heldout_titles(data_root: str | Path) -> set[str]:
    """Lower-cased headlines of every arm of the Upworthy tests held out for the click-through evaluations."""
    df = pd.read_parquet(Path(data_root) / "upworthy" / "upworthy_exploratory_dev.parquet",
                         columns=["clickability_test_id", "headline"])
    held = df["clickability_test_id"].astype(str).map(in_click_heldout)
    return set(df.loc[held, "headline"].map(clean_text).str.lower())


def training_titles(data_root: str | Path, val: pd.DataFrame) -> list[str]:
    """The title-only lines a model may train on: :func:`load_title_corpus` without the validation titles of
    ``val`` and without the headlines of the click-evaluation tests (the clickbait list holds Upworthy
    headlines)."""
    unseen = set(val["title"].str.lower()) | click_heldout_titles(data_root)
    return [t for t in load_title_corpus(data_root) if t.lower() not in unseen]


def in_validation(group: str, *, val_fraction: float) -> bool:
    """Deterministic group split: a group is in validation when its hash falls under ``val_fraction``."""
    digest = hashlib.sha1(group.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < val_fraction


#: Share of Upworthy tests held out for the click-through evaluations (:func:`titlegen.abtests.split_tests`).
CLICK_HELDOUT_FRACTION = 0.2


def in_click_heldout(test_id: str, *, val_fraction: float = CLICK_HELDOUT_FRACTION) -> bool:
    """Whether an Upworthy test id is held out from click-model training (and so from the generator's too)."""
    return in_validation("ctr:" + str(test_id), val_fraction=val_fraction)


def split_pairs(pairs: pd.DataFrame, *, val_fraction: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split by group, then drop training rows whose title or source also occurs in validation.

    Upworthy tests held out for the click-through evaluations (:func:`in_click_heldout`) are dropped from
    training as well, with every training row whose title is one of their headlines: the uplift evaluation
    generates titles for those tests, and a generator trained on them would be judged on stories it has seen.

    Returns:
        ``(train, val)`` frames.
    """
    is_val = pairs["group"].map(lambda g: in_validation(g, val_fraction=val_fraction))
    val, train = pairs[is_val], pairs[~is_val]
    leak = train["title"].str.lower().isin(set(val["title"].str.lower())) | train["source"].isin(set(val["source"]))
    click_held = pairs["group"].map(lambda g: g.startswith("up:") and in_click_heldout(g[3:]))
    held_titles = set(pairs.loc[click_held, "title"].str.lower())
    leak |= click_held[~is_val] | train["title"].str.lower().isin(held_titles)
    return train[~leak].reset_index(drop=True), val.reset_index(drop=True)


def source_text(row: pd.Series) -> str:
    """The model's source line for a labelled pair (length bucket taken from the human title)."""
    points = tuple(p for p in row["points"].split("; ") if p)
    controls = Controls(style=row["style"], audience=row["audience"], selling_points=points)
    return encode_source(row["source"], controls, length=bucket_of_title(row["title"]))


def export_pairs(data_root: str | Path, out: str | Path, *, split: str = "train", seed: int = 0) -> int:
    """Write the train or validation pairs as JSONL for ``python -m titlegen train`` (columns ``brief``, ``title``,
    ``group``, ``style``, ``audience``, ``selling_points``). Returns the number of rows written."""
    train, val = split_pairs(load_pairs(data_root, seed=seed))
    frame = train if split == "train" else val
    rows = frame.rename(columns={"source": "brief", "points": "selling_points"})
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    rows[["brief", "title", "group", "style", "audience", "selling_points"]].to_json(
        out, orient="records", lines=True, force_ascii=False)
    return len(rows)


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m titlegen.corpus",
                                     description="Export the labelled (brief, title) pairs of ../shared/data as "
                                                 "JSONL for `python -m titlegen train`.")
    parser.add_argument("--data", type=Path, required=True, help="the shared/data folder")
    parser.add_argument("--out", type=Path, required=True, help="output .jsonl")
    parser.add_argument("--split", choices=("train", "val"), default="train")
    args = parser.parse_args(argv)
    print(f"{export_pairs(args.data, args.out, split=args.split)} pairs written to {args.out}")


if __name__ == "__main__":
    main()
