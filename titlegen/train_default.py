"""The embedded default's recipe: curated Chinese and English pairs, then LoRA on Qwen2.5-Coder-0.5B-Instruct (CPU).

``python -m titlegen.train_default prepare --data ../shared/data --out .train/default`` writes the curated
``train.jsonl`` and the grouped validation sets ``val_zh.jsonl`` / ``val_en.jsonl`` with a ``curation.json``
report; ``python -m titlegen.train_default train --work .train/default`` trains the adapter into
``.train/default/adapter`` (checkpointed, resumable); ``install`` copies it into ``titlegen/default_adapter``.

Why curate: an adapter learns what its pairs teach. Pairs whose title states what the source lacks teach
invention (numbers, brands), cover texts teach fragments, and titles longer than the platform's limit teach
overruns. So a pair is kept only when

* its title states no number or name its brief and points do not support (:mod:`titlegen.faithfulness`),
* its title fits the limit written in its prompt (display characters; the limit is the smallest platform limit
  that fits the title, or with probability 0.3 a larger one, so ``max`` reads as a ceiling, not a target),
* its title is in the brief's language, has 4-30 display characters in Chinese or 12-100 in English, and is not
  simply the brief's opening (a model that copies the lead is no better than the lead baseline),
* for Toutiao keywords and KuaiRec cover texts, most of the title is grounded in the brief (share of the title's
  Han characters found in the brief >= 0.6 / 0.5).

Splits are by group (source item) per language: validation groups never reach training.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
from pathlib import Path

import pandas as pd

from titlegen.corpus import clean_text, in_click_heldout, in_validation, load_pairs
from titlegen.corpus_zh import load_zh_pairs
from titlegen.faithfulness import check_title
from titlegen.language import detect_language, display_length, han_count

ADAPTER_DIR = Path(__file__).parent / "default_adapter"
#: Platform limits a training prompt's ``max`` is drawn from (Xiaohongshu, a mid value, Douyin, generic).
LIMITS = (20, 30, 55, 100)
#: Training pairs per source (at most), chosen for what a creator's title should sound like.
MIX = {"zh": {"lcsts": 900, "advertisegen": 350, "kuairec": 250, "kobe": 150, "toutiao": 250},
       "en": {"youtube": 450, "huffpost": 450, "upworthy": 350, "mind": 300, "myntra": 150}}
VAL_PER_LANGUAGE = 300
VAL_FRACTION = 0.08
_LENGTH = {"zh": (4, 30), "en": (12, 100)}
_GROUNDING = {"toutiao": 0.6, "kuairec": 0.5}
# The YouTube set mixes French rows into the Latin-script side; "en" must mean English.
_FRENCH = set("le la les des du et est pour une avec dans sur au aux ce cette qui que pas nous vous".split())


def _grounding(title: str, brief: str) -> float:
    han = [c for c in title if han_count(c)]
    return sum(c in brief for c in han) / len(han) if han else 1.0


def _clean_zh(row: pd.Series) -> tuple[str, str]:
    title = re.sub(r"<[^>]+>", "", row["title"]).strip(" ：:")
    source = re.sub(r"[#@]\S+", " ", re.sub(r"<[^>]+>", "", row["source"]))
    source = re.sub(r"^【[^】]*】", "", source.strip()).strip()  # LCSTS posts often open with their own headline
    return re.sub(r"\s+", " ", title).strip(), re.sub(r"\s+", " ", source).strip()


def why_rejected(dataset: str, language: str, brief: str, title: str, points: str) -> str | None:
    """The first rule (module docstring) the pair breaks, or None when it is kept."""
    lo, hi = _LENGTH[language]
    n = display_length(title)
    if not lo <= n <= hi:
        return "length"
    if detect_language(title) != language or detect_language(brief) != language:
        return "language"
    if language == "en" and len(_FRENCH & set(re.findall(r"[a-zà-ÿ]+", (title + " " + brief).lower()))) >= 2:
        return "language"
    if len(brief) < 2 * len(title) and dataset not in ("toutiao", "advertisegen"):
        return "brief too short"
    if check_title(title, [brief, points.replace("；", " ; ").replace("; ", " ; ")]):
        return "unsupported"
    if brief.lower().startswith(title.lower()[: max(6, len(title) * 2 // 3)]):
        return "copies the lead"
    if dataset in _GROUNDING and _grounding(title, brief) < _GROUNDING[dataset]:
        return "not grounded"
    return None


def curate(data_root: str | Path, *, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Curated training pairs and grouped validation pairs of both languages, and a report of what was dropped.

    Returns:
        ``(train, val, report)``; the frames have ``brief, title, group, style, audience, selling_points,
        max_chars, language, dataset``.
    """
    rng = random.Random(seed)
    zh = load_zh_pairs(data_root)
    cleaned = zh.apply(_clean_zh, axis=1, result_type="expand")
    zh["title"], zh["source"] = cleaned[0], cleaned[1]
    zh["language"] = "zh"
    en = load_pairs(data_root, seed=seed)
    en = en[~en["group"].map(lambda g: g.startswith("up:") and in_click_heldout(g[3:]))]
    en = en.drop_duplicates(["group", "title"])
    en["title"], en["source"] = en["title"].map(clean_text), en["source"].map(clean_text)
    en["language"] = "en"
    pairs = pd.concat([zh, en], ignore_index=True)
    pairs = pairs[(pairs["title"] != "") & (pairs["source"] != "")]
    reasons = [why_rejected(r.dataset, r.language, r.source, r.title, r.points) for r in pairs.itertuples()]
    pairs["rejected"] = reasons
    report = {"considered": pairs.groupby("dataset").size().to_dict(),
              "rejected": pairs[pairs["rejected"].notna()].groupby(["dataset", "rejected"]).size()
              .rename(lambda k: k).to_dict()}
    report["rejected"] = {f"{d}: {r}": int(n) for (d, r), n in report["rejected"].items()}
    kept = pairs[pairs["rejected"].isna()].drop(columns="rejected")
    is_val = kept["group"].map(lambda g: in_validation("title-v2:" + g, val_fraction=VAL_FRACTION))
    val_all, train_all = kept[is_val], kept[~is_val]
    # No validation title or brief may appear in training under another group.
    leak = train_all["title"].isin(set(val_all["title"])) | train_all["source"].isin(set(val_all["source"]))
    train_all = train_all[~leak]
    train_parts, val_parts = [], []
    for language, mix in MIX.items():
        for dataset, n in mix.items():
            part = train_all[train_all["dataset"] == dataset]
            train_parts.append(part.sample(min(n, len(part)), random_state=seed))
        v = val_all[val_all["language"] == language]
        # Validation keeps the sets' natural mix, capped per dataset so no single source dominates.
        v = pd.concat([g.sample(min(len(g), VAL_PER_LANGUAGE // 4), random_state=seed)
                       for _, g in v.groupby("dataset")])
        val_parts.append(v.sample(min(VAL_PER_LANGUAGE, len(v)), random_state=seed))
    train, val = (pd.concat(parts, ignore_index=True) for parts in (train_parts, val_parts))
    train = train.sample(frac=1.0, random_state=seed).reset_index(drop=True)

    def limit_for(title: str) -> int:
        fitting = [lim for lim in LIMITS if lim >= display_length(title)]
        return rng.choice(fitting[1:]) if len(fitting) > 1 and rng.random() < 0.3 else fitting[0]

    for frame in (train, val):
        frame["max_chars"] = [limit_for(t) for t in frame["title"]]
    report.update({"train": train.groupby("dataset").size().to_dict(),
                   "val": val.groupby("dataset").size().to_dict()})
    return _rows(train), _rows(val), report


def _rows(df: pd.DataFrame) -> pd.DataFrame:
    out = df.rename(columns={"source": "brief", "points": "selling_points"})
    out["selling_points"] = out["selling_points"].fillna("").str.replace("；", ";")
    return out[["brief", "title", "group", "style", "audience", "selling_points", "max_chars", "language",
                "dataset"]].reset_index(drop=True)


def prepare(data_root: Path, out: Path, *, seed: int = 0) -> dict:
    """Write ``train.jsonl``, ``val_zh.jsonl``, ``val_en.jsonl`` and ``curation.json`` into ``out``."""
    train, val, report = curate(data_root, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    train.to_json(out / "train.jsonl", orient="records", lines=True, force_ascii=False)
    for language in ("zh", "en"):
        val[val["language"] == language].to_json(out / f"val_{language}.jsonl", orient="records", lines=True,
                                                 force_ascii=False)
    val.to_json(out / "val.jsonl", orient="records", lines=True, force_ascii=False)
    (out / "curation.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


RECIPE = {"base": "qwen2.5-0.5b", "dtype": "bfloat16", "lr": 3e-4, "batch_size": 8, "max_steps": 300,
          "warmup_steps": 20, "seed": 0, "max_source_tokens": 112, "max_title_tokens": 40,
          "checkpoint_every": 25, "log_every": 10,
          "lora": {"r": 16, "alpha": 32, "dropout": 0.05,
                   "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m titlegen.train_default", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="curate the training and validation pairs")
    p.add_argument("--data", type=Path, required=True, help="the shared/data folder")
    p.add_argument("--out", type=Path, default=Path(".train/default"))
    t = sub.add_parser("train", help="train the LoRA adapter on the prepared pairs (resumes from its checkpoint)")
    t.add_argument("--work", type=Path, default=Path(".train/default"))
    t.add_argument("--max-steps", type=int, default=RECIPE["max_steps"])
    i = sub.add_parser("install", help="copy the trained adapter into titlegen/default_adapter")
    i.add_argument("--work", type=Path, default=Path(".train/default"))
    args = parser.parse_args(argv)
    if args.command == "prepare":
        print(json.dumps(prepare(args.data, args.out), indent=2, ensure_ascii=False))
    elif args.command == "train":
        from titlegen.train import TrainConfig, train

        cfg = TrainConfig(**{**RECIPE, "max_steps": args.max_steps}, train_file=str(args.work / "train.jsonl"),
                          val_file=str(args.work / "val.jsonl"), output_dir=str(args.work / "adapter"))
        (args.work / "recipe.json").write_text(cfg.to_json() + "\n", encoding="utf-8")
        metrics = train(cfg)
        print(json.dumps({k: v for k, v in metrics.items() if k != "losses"}))
    else:
        src = args.work / "adapter"
        if not (src / "adapter_model.safetensors").is_file():
            sys.exit(f"no trained adapter in {src}; run `python -m titlegen.train_default train` first")
        ADAPTER_DIR.mkdir(exist_ok=True)
        for name in ("adapter_config.json", "adapter_model.safetensors", "metrics.json",
                     "titlegen_train_config.json"):
            shutil.copy2(src / name, ADAPTER_DIR / name)
        print(f"installed {src} into {ADAPTER_DIR}")


if __name__ == "__main__":
    main()
