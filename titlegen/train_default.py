"""Train the embedded default title model: ``python -m titlegen.train_default --data ../shared/data``.

Recipe (why: MiniLM was trained for sentence embeddings, so its decoder must first learn to *write*, and on two
CPU cores every step counts):

1. The MiniLM encoder stays frozen, so each training source is encoded once and its token states are cached
   (fp16, in memory); a step then costs only the decoder's forward and backward.
2. The decoder (MiniLM's first layers, new cross-attention, new LM-head transform; word embeddings frozen and
   tied) is trained in full on every (brief, title) pair in ``../shared/data``, each batch mixed with title-only
   examples (ABC, clickbait, Flipkart) against an empty brief, so it learns to write headlines and to listen.
3. Checkpoints every ``--checkpoint-every`` steps; ``--resume`` continues from the last one.

The result is written with :func:`titlegen.model.save_default_decoder` plus ``metrics.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from titlegen.controls import Controls, encode_source
from titlegen.corpus import load_pairs, source_text, split_pairs, training_titles
from titlegen.errors import ConfigError
from titlegen.model import build_minilm_encoder_decoder, save_default_decoder


@dataclass(frozen=True)
class DefaultRecipe:
    """Hyper-parameters of the default model's training run (saved beside the weights)."""

    decoder_layers: int = 4
    max_source_tokens: int = 112
    max_title_tokens: int = 32
    pair_batch: int = 48
    title_batch: int = 16
    lr: float = 5e-4
    warmup_steps: int = 200
    max_steps: int = 6000
    label_smoothing: float = 0.1
    val_fraction: float = 0.05
    seed: int = 0

    def __post_init__(self) -> None:
        check_recipe(self, ("decoder_layers", "max_source_tokens", "max_title_tokens", "pair_batch", "max_steps"))


def check_recipe(recipe, positive: tuple[str, ...]) -> None:
    """Validate a training recipe: the named fields must be positive and ``lr`` in (0, 1).

    Raises:
        ConfigError: naming the field and its value.
    """
    for name in positive:
        if getattr(recipe, name) <= 0:
            raise ConfigError(f"{name} must be positive, got {getattr(recipe, name)}")
    if not 0 < recipe.lr < 1:
        raise ConfigError(f"lr must be in (0, 1), got {recipe.lr}")


@torch.inference_mode()
def encode_sources(model, tokenizer, texts: list[str], *, max_tokens: int, batch: int = 128) -> list[torch.Tensor]:
    """Frozen-encoder token states for each text: a list of fp16 tensors ``[shape=(len_i, hidden)]``."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out: list[torch.Tensor | None] = [None] * len(texts)
    for start in range(0, len(order), batch):
        idx = order[start:start + batch]
        enc = tokenizer([texts[i] for i in idx], truncation=True, max_length=max_tokens, padding=True,
                        return_tensors="pt")
        states = model.encoder(**enc).last_hidden_state
        for row, i in enumerate(idx):
            out[i] = states[row, : int(enc["attention_mask"][row].sum())].to(torch.float16).clone()
        if start // batch % 40 == 0:
            print(f"encoded {start + len(idx)}/{len(texts)}", flush=True)
    return out  # type: ignore[return-value]


def _pad_states(states: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    length = max(s.shape[0] for s in states)
    hidden = torch.zeros(len(states), length, states[0].shape[1])
    mask = torch.zeros(len(states), length, dtype=torch.long)
    for i, s in enumerate(states):
        hidden[i, : s.shape[0]] = s.float()
        mask[i, : s.shape[0]] = 1
    return hidden, mask


def _loss(model, tokenizer, states, titles, *, max_title_tokens: int, label_smoothing: float) -> torch.Tensor:
    hidden, mask = _pad_states(states)
    labels = tokenizer(titles, truncation=True, max_length=max_title_tokens, padding=True,
                       return_tensors="pt")["input_ids"]
    # [CLS] title [SEP] -> decoder input [CLS] title, targets title [SEP]
    dec_in, target = labels[:, :-1].clone(), labels[:, 1:]
    dec_in[dec_in == tokenizer.sep_token_id] = tokenizer.pad_token_id
    states_out = model.decoder.bert(input_ids=dec_in, attention_mask=(dec_in != tokenizer.pad_token_id).long(),
                                    encoder_hidden_states=hidden, encoder_attention_mask=mask).last_hidden_state
    # The 30k-word LM head dominates a step: apply it to real target positions only, not to padding.
    real = target != tokenizer.pad_token_id
    logits = model.decoder.cls(states_out[real])
    return torch.nn.functional.cross_entropy(logits, target[real], label_smoothing=label_smoothing)


def _trainable(model) -> list[torch.nn.Parameter]:
    for p in model.parameters():
        p.requires_grad_(False)
    params = []
    for name, p in model.decoder.named_parameters():
        if "word_embeddings" not in name and name != "cls.predictions.decoder.weight":
            p.requires_grad_(True)
            params.append(p)
    return params


def train(recipe: DefaultRecipe, *, data_root: Path, out_dir: Path, work_dir: Path, resume: bool,
          checkpoint_every: int, time_budget_min: float | None) -> dict:
    """Run the recipe; returns the final metrics (also written to ``out_dir/metrics.json``)."""
    torch.manual_seed(recipe.seed)
    rng = random.Random(recipe.seed)
    model, tokenizer = build_minilm_encoder_decoder(decoder_layers=recipe.decoder_layers)
    train_df, val_df = split_pairs(load_pairs(data_root, seed=recipe.seed), val_fraction=recipe.val_fraction)
    lm_titles = training_titles(data_root, val_df)
    print(f"pairs: train {len(train_df)}, val {len(val_df)}; title-only: {len(lm_titles)}", flush=True)

    work_dir.mkdir(parents=True, exist_ok=True)
    cache = work_dir / "encoder_cache.pt"
    if cache.is_file():
        train_states = torch.load(cache)
    else:
        train_states = encode_sources(model, tokenizer, [source_text(r) for _, r in train_df.iterrows()],
                                      max_tokens=recipe.max_source_tokens)
        torch.save(train_states, cache)
    null_source = encode_source("", Controls(style="news"))
    null_states = encode_sources(model, tokenizer, [null_source], max_tokens=recipe.max_source_tokens)[0]
    val_sample = val_df.sample(n=min(256, len(val_df)), random_state=recipe.seed)
    val_states = encode_sources(model, tokenizer, [source_text(r) for _, r in val_sample.iterrows()],
                                max_tokens=recipe.max_source_tokens)

    params = _trainable(model)
    opt = torch.optim.AdamW(params, lr=recipe.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / recipe.warmup_steps) * 0.5 * (
        1 + math.cos(math.pi * min(1.0, s / recipe.max_steps))))
    step, log = 0, []
    ckpt = work_dir / "checkpoint.pt"
    if resume and ckpt.is_file():
        state = torch.load(ckpt, weights_only=False)
        model.decoder.load_state_dict(state["decoder"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        step, log = state["step"], state["log"]
        rng.setstate(state["rng"])
        print(f"resumed at step {step}", flush=True)

    titles = train_df["title"].tolist()
    started = time.time()
    model.train()
    while step < recipe.max_steps:
        idx = rng.sample(range(len(titles)), recipe.pair_batch)
        lm = rng.sample(lm_titles, recipe.title_batch)
        states = [train_states[i] for i in idx] + [null_states] * len(lm)
        loss = _loss(model, tokenizer, states, [titles[i] for i in idx] + lm,
                     max_title_tokens=recipe.max_title_tokens, label_smoothing=recipe.label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        step += 1
        if step % 50 == 0:
            rate = (time.time() - started) / 50
            started = time.time()
            print(f"step {step} loss {loss.item():.3f} lr {sched.get_last_lr()[0]:.2e} {rate:.2f}s/step", flush=True)
        if step % checkpoint_every == 0 or step == recipe.max_steps:
            val_loss = _val_loss(model, tokenizer, val_states, val_sample["title"].tolist(), recipe)
            log.append({"step": step, "train_loss": round(loss.item(), 4), "val_loss": round(val_loss, 4)})
            print(f"step {step} val_loss {val_loss:.3f}", flush=True)
            torch.save({"decoder": model.decoder.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                        "step": step, "log": log, "rng": rng.getstate()}, str(ckpt) + ".tmp")
            Path(str(ckpt) + ".tmp").replace(ckpt)
            save_default_decoder(model, out_dir, meta={"recipe": asdict(recipe), "steps": step, "log": log})
        if time_budget_min is not None and (time.time() - _T0) / 60 > time_budget_min:
            print(f"time budget of {time_budget_min} min reached at step {step}", flush=True)
            break
    model.eval()
    save_default_decoder(model, out_dir, meta={"recipe": asdict(recipe), "steps": step, "log": log})
    return {"steps": step, "log": log}


@torch.no_grad()
def _val_loss(model, tokenizer, states, titles, recipe: DefaultRecipe) -> float:
    model.eval()
    losses = [_loss(model, tokenizer, states[i:i + 64], titles[i:i + 64], max_title_tokens=recipe.max_title_tokens,
                    label_smoothing=0.0).item() for i in range(0, len(titles), 64)]
    model.train()
    return float(np.mean(losses))


_T0 = time.time()


def write_lexicon(data_root: Path, out_dir: Path) -> int:
    """Build and save the truecasing lexicon from the permissively licensed title sets only.

    Upworthy (CC BY 4.0), HuffPost (CC BY 4.0), YouTube (CC0) and clickbait (MIT) titles; the non-commercial and
    unverified sets are left out because the lexicon ships as data. Returns the number of entries.
    """
    from titlegen.casing import build_lexicon, save_lexicon
    from titlegen.loading import LEXICON_FILE

    pairs = load_pairs(data_root)
    titles = pairs.loc[pairs["dataset"].isin(["upworthy", "huffpost", "youtube"]), "title"].tolist()
    for name in ("clickbait_data.txt", "non_clickbait_data.txt"):
        text = (data_root / "clickbait" / name).read_text(encoding="utf-8", errors="replace")
        titles.extend(line.strip() for line in text.splitlines() if line.strip())
    lexicon = build_lexicon(titles)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_lexicon(lexicon, out_dir / LEXICON_FILE)
    return len(lexicon)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m titlegen.train_default", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the shared/data folder")
    parser.add_argument("--out", type=Path, default=Path("titlegen/default_model"), help="where the weights go")
    parser.add_argument("--work", type=Path, default=Path(".train/default"), help="checkpoints and caches")
    parser.add_argument("--max-steps", type=int, default=DefaultRecipe.max_steps)
    parser.add_argument("--decoder-layers", type=int, default=DefaultRecipe.decoder_layers)
    parser.add_argument("--lr", type=float, default=DefaultRecipe.lr)
    parser.add_argument("--seed", type=int, default=DefaultRecipe.seed)
    parser.add_argument("--checkpoint-every", type=int, default=250)
    parser.add_argument("--time-budget-min", type=float, default=None, help="stop (and save) after this long")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --work")
    parser.add_argument("--lexicon-only", action="store_true", help="only rebuild the truecasing lexicon")
    args = parser.parse_args(argv)
    print(f"truecasing lexicon: {write_lexicon(args.data, args.out)} entries", flush=True)
    if args.lexicon_only:
        return
    recipe = DefaultRecipe(max_steps=args.max_steps, decoder_layers=args.decoder_layers, lr=args.lr, seed=args.seed)
    result = train(recipe, data_root=args.data, out_dir=args.out, work_dir=args.work, resume=args.resume,
                   checkpoint_every=args.checkpoint_every, time_budget_min=args.time_budget_min)
    print(json.dumps({"steps": result["steps"], "last": result["log"][-1] if result["log"] else None}))


if __name__ == "__main__":
    main()
