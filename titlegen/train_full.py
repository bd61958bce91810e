"""End-to-end recipe for the embedded default on an accelerator: ``python -m titlegen.train_full``.

Why a second recipe: :mod:`titlegen.train_default` freezes the encoder so that two CPU cores can afford a few
thousand decoder steps; the titles it writes are fluent but drift from the brief, because nothing on the encoder
side learns what a title needs. Here the MiniLM encoder gets a LoRA (attention and feed-forward, merged at load
time so inference keeps the plain architecture) and the decoder is trained in full, end to end, on every pair,
mixed with title-only examples against an empty brief so it keeps writing like a headline.

Two steps, so the run fits a machine that cannot see ``../shared``::

    python -m titlegen.train_full prepare --data ../shared/data --out .gpu/data      # grouped split, labels
    python -m titlegen.train_full train --prepared .gpu/data --out titlegen/default_model

or, where the data is at hand, in one: ``python -m titlegen.train_full train --data ../shared/data``.

``train`` keeps the weights of the best validation loss, stops at ``--max-steps`` or ``--time-budget-min`` and
writes the same files as the CPU recipe plus ``encoder_lora.safetensors``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from titlegen.controls import Controls, encode_source
from titlegen.errors import InputFileError
from titlegen.model import (
    attach_encoder_lora,
    build_minilm_encoder_decoder,
    encoder_lora_state,
    save_default_decoder,
)
from titlegen.train_default import check_recipe


@dataclass(frozen=True)
class FullRecipe:
    """Hyper-parameters of an end-to-end run (saved beside the weights)."""

    decoder_layers: int = 4
    encoder_r: int = 32
    max_source_tokens: int = 112
    max_title_tokens: int = 32
    pair_batch: int = 128
    title_batch: int = 32
    lr: float = 5e-4
    warmup_steps: int = 300
    max_steps: int = 3000
    label_smoothing: float = 0.1
    eval_every: int = 250
    seed: int = 0

    def __post_init__(self) -> None:
        check_recipe(self, ("decoder_layers", "encoder_r", "max_source_tokens", "pair_batch", "max_steps",
                            "eval_every"))


def _write_jsonl_gz(rows: list[dict], path: Path) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl_gz(path: Path) -> list[dict]:
    if not path.is_file():
        raise InputFileError(f"{path} is missing; write it with `python -m titlegen.train_full prepare`")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def prepare(data_root: Path, out: Path, *, seed: int = 0, val_fraction: float = 0.05) -> dict:
    """Write ``train.jsonl.gz``, ``val.jsonl.gz`` (``{"src", "title", "dataset"}``) and ``titles.jsonl.gz``.

    The split is the one every titlegen evaluation uses (:func:`titlegen.corpus.split_pairs`); title-only lines
    that occur as validation titles or as headlines of the click-evaluation tests are dropped. Returns the row
    counts.
    """
    from titlegen.corpus import load_pairs, source_text, split_pairs, training_titles

    train_df, val_df = split_pairs(load_pairs(data_root, seed=seed), val_fraction=val_fraction)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, frame in (("train", train_df), ("val", val_df)):
        rows = [{"src": source_text(r), "title": r["title"], "dataset": r["dataset"]} for _, r in frame.iterrows()]
        _write_jsonl_gz(rows, out / f"{name}.jsonl.gz")
        counts[name] = len(rows)
    titles = [{"title": t} for t in training_titles(data_root, val_df)]
    _write_jsonl_gz(titles, out / "titles.jsonl.gz")
    counts["titles"] = len(titles)
    return counts


def _tokenize(tokenizer, texts: list[str], max_tokens: int) -> list[list[int]]:
    return tokenizer(texts, truncation=True, max_length=max_tokens)["input_ids"]


def _pad(seqs: list[list[int]], pad_id: int, device) -> torch.Tensor:
    width = max(len(s) for s in seqs)
    return torch.tensor([s + [pad_id] * (width - len(s)) for s in seqs], device=device)


def _loss(model, tokenizer, src: list[list[int]], tgt: list[list[int]], *, device, label_smoothing: float):
    pad = tokenizer.pad_token_id
    input_ids = _pad(src, pad, device)
    hidden = model.encoder(input_ids=input_ids, attention_mask=(input_ids != pad).long()).last_hidden_state
    labels = _pad(tgt, pad, device)
    # [CLS] title [SEP] -> decoder input [CLS] title, targets title [SEP]
    dec_in, target = labels[:, :-1].clone(), labels[:, 1:]
    dec_in[dec_in == tokenizer.sep_token_id] = pad
    states = model.decoder.bert(input_ids=dec_in, attention_mask=(dec_in != pad).long(),
                                encoder_hidden_states=hidden,
                                encoder_attention_mask=(input_ids != pad).long()).last_hidden_state
    # The 30k-word LM head dominates a step: apply it to real target positions only.
    real = target != pad
    logits = model.decoder.cls(states[real]).float()
    return torch.nn.functional.cross_entropy(logits, target[real], label_smoothing=label_smoothing)


def _decoder_params(model) -> list[torch.nn.Parameter]:
    params = []
    for name, p in model.decoder.named_parameters():
        if "word_embeddings" not in name and name != "cls.predictions.decoder.weight":
            p.requires_grad_(True)
            params.append(p)
    return params


def train(recipe: FullRecipe, *, prepared: Path, out_dir: Path, device: str,
          time_budget_min: float | None = None) -> dict:
    """Run the recipe on ``device``; returns the metrics also written into ``out_dir/decoder_config.json``."""
    t0 = time.time()
    torch.manual_seed(recipe.seed)
    rng = random.Random(recipe.seed)
    train_rows, val_rows = _read_jsonl_gz(prepared / "train.jsonl.gz"), _read_jsonl_gz(prepared / "val.jsonl.gz")
    lm_titles = [r["title"] for r in _read_jsonl_gz(prepared / "titles.jsonl.gz")]
    model, tokenizer = build_minilm_encoder_decoder(decoder_layers=recipe.decoder_layers)
    peft_model = attach_encoder_lora(model, r=recipe.encoder_r, alpha=2 * recipe.encoder_r, dropout=0.05)
    lora_params = [p for p in peft_model.parameters() if p.requires_grad]
    dec_params = _decoder_params(model)
    model.to(device)
    print(f"pairs: train {len(train_rows)}, val {len(val_rows)}; title-only {len(lm_titles)}; "
          f"trainable: encoder LoRA {sum(p.numel() for p in lora_params)}, "
          f"decoder {sum(p.numel() for p in dec_params)}; device {device}", flush=True)

    src = _tokenize(tokenizer, [r["src"] for r in train_rows], recipe.max_source_tokens)
    tgt = _tokenize(tokenizer, [r["title"] for r in train_rows], recipe.max_title_tokens)
    lm_tgt = _tokenize(tokenizer, lm_titles, recipe.max_title_tokens)
    null_src = _tokenize(tokenizer, [encode_source("", Controls(style="news"))], recipe.max_source_tokens)[0]
    val_sample = random.Random(recipe.seed).sample(val_rows, min(1024, len(val_rows)))
    val_src = _tokenize(tokenizer, [r["src"] for r in val_sample], recipe.max_source_tokens)
    val_tgt = _tokenize(tokenizer, [r["title"] for r in val_sample], recipe.max_title_tokens)

    opt = torch.optim.AdamW(lora_params + dec_params, lr=recipe.lr, weight_decay=0.01)
    def progress(s: int) -> float:
        # The cosine follows steps or the time budget, whichever runs out first, so a timed run still anneals.
        done = s / recipe.max_steps
        if time_budget_min is not None:
            done = max(done, (time.time() - t0) / 60 / time_budget_min)
        return min(1.0, done)

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / recipe.warmup_steps) * 0.5 * (
        1 + math.cos(math.pi * progress(s))))
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if device.startswith("cuda")
                else torch.autocast("cpu", enabled=False))
    order: list[int] = []
    step, log, best = 0, [], math.inf
    tick = time.time()
    model.train()
    while step < recipe.max_steps:
        if len(order) < recipe.pair_batch:
            order = list(range(len(src)))
            rng.shuffle(order)
        idx, order = order[: recipe.pair_batch], order[recipe.pair_batch:]
        lm = rng.sample(range(len(lm_tgt)), recipe.title_batch)
        with autocast:
            loss = _loss(model, tokenizer, [src[i] for i in idx] + [null_src] * len(lm),
                         [tgt[i] for i in idx] + [lm_tgt[i] for i in lm], device=device,
                         label_smoothing=recipe.label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(lora_params + dec_params, 1.0)
        opt.step()
        sched.step()
        step += 1
        out_of_time = time_budget_min is not None and (time.time() - t0) / 60 > time_budget_min
        if step % recipe.eval_every == 0 or step == recipe.max_steps or out_of_time:
            val_loss = _val_loss(model, tokenizer, val_src, val_tgt, device=device, autocast=autocast)
            log.append({"step": step, "train_loss": round(loss.item(), 4), "val_loss": round(val_loss, 4),
                        "minutes": round((time.time() - t0) / 60, 2)})
            print(f"step {step} loss {loss.item():.3f} val {val_loss:.3f} "
                  f"{(time.time() - tick) / recipe.eval_every * 1000:.0f} ms/step", flush=True)
            tick = time.time()
            if val_loss < best:
                best = val_loss
                meta = {"recipe": "train_full", "hyper": asdict(recipe), "steps": step, "best_val_loss": val_loss,
                        "encoder_lora": {"r": recipe.encoder_r, "alpha": 2 * recipe.encoder_r}, "log": log}
                save_default_decoder(model, out_dir, meta=meta, encoder_lora=encoder_lora_state(peft_model))
        if out_of_time:
            print(f"time budget of {time_budget_min} min reached at step {step}", flush=True)
            break
    return {"steps": step, "best_val_loss": best, "log": log}


@torch.no_grad()
def _val_loss(model, tokenizer, src, tgt, *, device, autocast) -> float:
    model.eval()
    total, count = 0.0, 0
    with autocast:
        for i in range(0, len(src), 128):
            n = len(src[i:i + 128])
            total += _loss(model, tokenizer, src[i:i + 128], tgt[i:i + 128], device=device,
                           label_smoothing=0.0).item() * n
            count += n
    model.train()
    return total / count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m titlegen.train_full", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="write the grouped split and labels as gzipped JSONL")
    prep.add_argument("--data", type=Path, required=True, help="the shared/data folder")
    prep.add_argument("--out", type=Path, required=True)
    run = sub.add_parser("train", help="train end to end on the prepared files")
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument("--prepared", type=Path, help="folder written by `prepare`")
    source.add_argument("--data", type=Path, help="the shared/data folder (prepared into --work first)")
    run.add_argument("--work", type=Path, default=Path(".train/full"), help="where --data is prepared")
    run.add_argument("--out", type=Path, default=Path("titlegen/default_model"))
    run.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    run.add_argument("--max-steps", type=int, default=FullRecipe.max_steps)
    run.add_argument("--pair-batch", type=int, default=FullRecipe.pair_batch)
    run.add_argument("--title-batch", type=int, default=FullRecipe.title_batch)
    run.add_argument("--encoder-r", type=int, default=FullRecipe.encoder_r)
    run.add_argument("--lr", type=float, default=FullRecipe.lr)
    run.add_argument("--eval-every", type=int, default=FullRecipe.eval_every)
    run.add_argument("--time-budget-min", type=float, default=None, help="stop after this long, keeping the best")
    args = parser.parse_args(argv)
    if args.command == "prepare":
        print(json.dumps(prepare(args.data, args.out)))
        return
    recipe = FullRecipe(max_steps=args.max_steps, pair_batch=args.pair_batch, title_batch=args.title_batch,
                        encoder_r=args.encoder_r, lr=args.lr, eval_every=args.eval_every)
    if args.data is not None:
        print(json.dumps(prepare(args.data, args.work)), flush=True)
    result = train(recipe, prepared=args.prepared or args.work, out_dir=args.out, device=args.device,
                   time_budget_min=args.time_budget_min)
    print(json.dumps({"steps": result["steps"], "best_val_loss": result["best_val_loss"]}))


if __name__ == "__main__":
    main()
