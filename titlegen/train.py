"""LoRA fine-tuning of any seq2seq or causal base on (brief, title) pairs: ``python -m titlegen train --config cfg.json``.

The data file is CSV or JSONL with ``brief`` and ``title`` columns, optionally the control columns of
:mod:`titlegen.batch` and a ``group`` column (pairs of one group never straddle the train/validation split; without
it the brief is the group). The briefs are written in the control format of :mod:`titlegen.controls`, with the
length bucket of the human title, so the adapter learns the controls. A decoder-only (causal) base gets the chat
prompt of :mod:`titlegen.prompt` instead (with the row's ``max_chars``, or the display length of the human title,
as its ``max``), and the loss and the output head's logits are computed on the title tokens only: the head of a
150k-word vocabulary is a quarter of a step's cost, and the prompt is not what is learned.

Writes to ``output_dir``: the peft adapter (``adapter_config.json``, ``adapter_model.safetensors``),
``titlegen_train_config.json`` (this config + format version) and ``metrics.json`` (loss log, validation loss).
Checkpoints go to ``output_dir/checkpoint`` every ``checkpoint_every`` steps; a rerun resumes from there.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch

from titlegen.batch import _controls_of, read_briefs
from titlegen.controls import Controls, bucket_of_title, encode_source
from titlegen.corpus import in_validation
from titlegen.errors import ConfigError, InputFileError
from titlegen.language import display_length, resolve_language
from titlegen.model import FORMAT_VERSION, LoraSettings, attach_lora, is_causal, load_base, restore_adapter_weights
from titlegen.prompt import chat_prompt, control_line, cut_prompt_ids, end_of_title

_STATE = "trainer_state.pt"


@dataclass(frozen=True)
class TrainConfig:
    """A LoRA training run. Paths are resolved relative to the working directory."""

    train_file: str
    output_dir: str
    base: str = "qwen2.5-0.5b"
    val_file: str | None = None
    lora: LoraSettings = field(default_factory=LoraSettings)
    lr: float = 5e-4
    batch_size: int = 16
    max_steps: int = 1000
    warmup_steps: int = 50
    seed: int = 0
    max_source_tokens: int = 128
    max_title_tokens: int = 32
    checkpoint_every: int = 200
    log_every: int = 20
    val_fraction: float = 0.05
    #: ``"bfloat16"`` trains a causal base with bf16 weights (LoRA weights stay fp32): about 2.5x faster on CPUs
    #: with avx512_bf16; ``"float32"`` everywhere else.
    dtype: str = "float32"

    def __post_init__(self) -> None:
        if isinstance(self.lora, dict):
            object.__setattr__(self, "lora", LoraSettings(**self.lora))
        for name in ("batch_size", "max_steps", "max_source_tokens", "max_title_tokens", "checkpoint_every",
                     "log_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if not 0 < self.lr < 1:
            raise ConfigError(f"lr must be in (0, 1), got {self.lr!r}")
        if self.dtype not in ("float32", "bfloat16"):
            raise ConfigError(f"dtype must be 'float32' or 'bfloat16', got {self.dtype!r}")
        if not 0 <= self.val_fraction < 0.5:
            raise ConfigError(f"val_fraction must be in [0, 0.5), got {self.val_fraction!r}")

    @classmethod
    def from_json(cls, path: str | Path) -> TrainConfig:
        """Read a config file; unknown or missing fields are a :class:`ConfigError` naming them."""
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read training config {path}: {exc}") from exc
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known - {"format_version"})
        if unknown:
            raise ConfigError(f"unknown field(s) in {path}: {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        raw.pop("format_version", None)
        try:
            return cls(**raw)
        except TypeError as exc:
            raise ConfigError(f"{path}: {exc}") from exc

    def to_json(self) -> str:
        return json.dumps({"format_version": FORMAT_VERSION, **asdict(self)}, indent=2)


def _pairs(path: str, *, causal: bool = False) -> list[tuple[str, str, str]]:
    """(source line, title, group) for each usable row of a data file; the source is the control line of
    :mod:`titlegen.prompt` for a causal base, else the seq2seq source format."""
    df = read_briefs(path)
    if "title" not in df.columns:
        raise InputFileError(f"{path} has no 'title' column; columns found: {', '.join(map(str, df.columns))}")
    pairs = []
    for _, row in df.iterrows():
        brief, title = str(row["brief"]).strip(), str(row["title"]).strip()
        if brief and title:
            controls = _controls_of(row, Controls())
            if causal:
                limit = controls.limit if str(row.get("max_chars") or "") else display_length(title)
                source = control_line(brief, controls, language=resolve_language(controls.language, title),
                                      limit=limit)
            else:
                source = encode_source(brief, controls, length=bucket_of_title(title))
            pairs.append((source, title, str(row.get("group") or brief)))
    if not pairs:
        raise InputFileError(f"{path} has no row with both a brief and a title")
    return pairs


def _labels(tokenizer, model, titles: list[str], max_tokens: int) -> torch.Tensor:
    ids = tokenizer(titles, truncation=True, max_length=max_tokens, padding=True, return_tensors="pt")["input_ids"]
    if model.config.model_type == "encoder-decoder" and tokenizer.cls_token_id is not None:
        ids = ids[:, 1:]  # EncoderDecoderModel prepends the decoder start ([CLS]) itself
    return ids.masked_fill(ids == tokenizer.pad_token_id, -100)


def causal_batch(tokenizer, lines: list[str], titles: list[str], *, max_source_tokens: int,
                 max_title_tokens: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Token ids, attention mask and labels (-100 outside the title and its end token) of prompt + title rows.

    Returns:
        ``(input_ids, attention_mask, labels)``, each ``[shape=(batch, length), int64]``, right-padded.
    """
    end = end_of_title(tokenizer)
    rows, labels = [], []
    for line, title in zip(lines, titles):
        prompt = cut_prompt_ids(tokenizer(chat_prompt(tokenizer, line), add_special_tokens=False)["input_ids"],
                                max_source_tokens)
        target = tokenizer(title + end, add_special_tokens=False)["input_ids"][:max_title_tokens]
        rows.append(prompt + target)
        labels.append([-100] * len(prompt) + target)
    width = max(len(r) for r in rows)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    lab = torch.tensor([r + [-100] * (width - len(r)) for r in labels])
    return ids, mask, lab


def _causal_loss(model, tokenizer, batch, cfg: TrainConfig) -> torch.Tensor:
    ids, mask, labels = causal_batch(tokenizer, [s for s, _, _ in batch], [t for _, t, _ in batch],
                                     max_source_tokens=cfg.max_source_tokens, max_title_tokens=cfg.max_title_tokens)
    lm = model.get_base_model() if hasattr(model, "get_base_model") else model
    body = getattr(lm, lm.base_model_prefix)
    hidden = body(input_ids=ids, attention_mask=mask).last_hidden_state[:, :-1]
    target = labels[:, 1:]
    keep = target != -100
    logits = lm.get_output_embeddings()(hidden[keep]).float()  # the head runs on title positions only
    return torch.nn.functional.cross_entropy(logits, target[keep])


def _batch_loss(model, tokenizer, batch, cfg: TrainConfig) -> torch.Tensor:
    lm = model.get_base_model() if hasattr(model, "get_base_model") else model
    if is_causal(lm):
        return _causal_loss(model, tokenizer, batch, cfg)
    enc = tokenizer([s for s, _, _ in batch], truncation=True, max_length=cfg.max_source_tokens, padding=True,
                    return_tensors="pt")
    labels = _labels(tokenizer, model.get_base_model() if hasattr(model, "get_base_model") else model,
                     [t for _, t, _ in batch], cfg.max_title_tokens)
    return model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], labels=labels).loss


def train(cfg: TrainConfig, *, resume: bool = True) -> dict:
    """Run the LoRA training described by ``cfg``; returns the metrics written to ``metrics.json``."""
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    base, tokenizer = load_base(cfg.base, dtype=getattr(torch, cfg.dtype))
    causal = is_causal(base)
    pairs = _pairs(cfg.train_file, causal=causal)
    if cfg.val_file:
        train_pairs, val_pairs = pairs, _pairs(cfg.val_file, causal=causal)
    else:
        is_val = [in_validation(g, val_fraction=cfg.val_fraction) for _, _, g in pairs]
        train_pairs = [p for p, v in zip(pairs, is_val) if not v]
        val_pairs = [p for p, v in zip(pairs, is_val) if v]
    model = attach_lora(base, cfg.lora)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / cfg.warmup_steps) * 0.5 * (
        1 + math.cos(math.pi * min(1.0, s / cfg.max_steps))))
    out = Path(cfg.output_dir)
    ckpt = out / "checkpoint"
    step, losses, rng = 0, [], random.Random(cfg.seed)
    if resume and (ckpt / _STATE).is_file():
        state = torch.load(ckpt / _STATE, weights_only=False)
        restore_adapter_weights(model, ckpt)
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        step, losses = state["step"], state["losses"]
        rng.setstate(state["rng"])
    started = time.time()
    while step < cfg.max_steps:
        batch = rng.sample(train_pairs, min(cfg.batch_size, len(train_pairs)))
        loss = _batch_loss(model, tokenizer, batch, cfg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        step += 1
        if step % cfg.log_every == 0 or step == cfg.max_steps:
            losses.append({"step": step, "loss": round(loss.item(), 4),
                           "elapsed_s": round(time.time() - started, 1)})
            print(json.dumps(losses[-1]), flush=True)
        if step % cfg.checkpoint_every == 0 and step < cfg.max_steps:
            _save_checkpoint(model, ckpt, {"opt": opt.state_dict(), "sched": sched.state_dict(), "step": step,
                                           "losses": losses, "rng": rng.getstate()})
    val_loss = _val_loss(model, tokenizer, val_pairs, cfg)
    metrics = {"format_version": FORMAT_VERSION, "steps": step, "train_pairs": len(train_pairs),
               "val_pairs": len(val_pairs), "val_loss": val_loss, "seconds": round(time.time() - started, 1),
               "losses": losses}
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    (out / "titlegen_train_config.json").write_text(cfg.to_json() + "\n", encoding="utf-8")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return metrics


def _save_checkpoint(model, folder: Path, state: dict) -> None:
    tmp = folder.with_name(folder.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(tmp))
    torch.save(state, tmp / _STATE)
    if folder.exists():
        old = folder.with_name(folder.name + ".old")
        os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old)
    else:
        os.replace(tmp, folder)


@torch.no_grad()
def _val_loss(model, tokenizer, pairs, cfg: TrainConfig) -> float | None:
    if not pairs:
        return None
    model.eval()
    losses = [_batch_loss(model, tokenizer, pairs[i:i + cfg.batch_size], cfg).item()
              for i in range(0, min(len(pairs), 512), cfg.batch_size)]
    model.train()
    return round(sum(losses) / len(losses), 4)
