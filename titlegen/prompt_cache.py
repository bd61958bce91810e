"""Prompt caches for a batch of title prompts, built for a CPU: the shared prompt head runs once, each prompt once.

``model.generate`` pays more than once for what a batch of title prompts has in common:

* every prompt opens with the same chat template, system line and control names (57 of ~92 tokens for the
  default), and ``generate`` runs them for every row;
* with ``num_beams=k`` or ``num_return_sequences=k`` it copies each prompt ``k`` times *before* running it, so
  4 beams + 4 samples run every prompt 8 times;
* greedy decoding runs until the batch's *longest* title ends, so one title that runs on keeps every finished row
  in every step.

:class:`PromptCache` runs the longest token prefix shared by every prompt once (at batch size 1, kept in a small
memo: the same head comes back batch after batch), then each prompt's own tail once, left-padded *after* the shared
head (the attention mask hides the pads, the position ids skip them, so each row sees exactly its own prompt).
``prefill`` hands that cache, copied ``k`` times, to ``model.generate`` (beams, samples), which then runs only the
prompts' last token; ``greedy`` decodes in its own loop and drops a row as soon as it writes an end token.

Both give the same tokens as plain ``model.generate`` up to float rounding in the attention sums (tests compare
token for token in fp32). Greedy scores are the mean log-softmax of the raw logits at the chosen tokens, end token
included: the scale :mod:`titlegen.causal` uses for every candidate.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import torch
from transformers import DynamicCache, LogitsProcessorList

#: Prompt heads whose cache is kept (one per system line / template variant in use; each is ~57 tokens x layers).
_MEMO_SIZE = 4


def shared_prefix_len(rows: list[list[int]]) -> int:
    """Length of the longest token prefix common to every row, leaving each row at least one token of its own
    (the last prompt token must go through the model with the batch, to give the first title token's logits)."""
    if not rows:
        return 0
    first, n = rows[0], min(len(r) for r in rows) - 1
    k = 0
    while k < n and all(r[k] == first[k] for r in rows):
        k += 1
    return max(k, 0)


@dataclass(frozen=True)
class Layout:
    """A batch of prompts laid out as ``[shared head][left pads][own tail]``.

    Attributes:
        input_ids: ``(rows, head + width)`` token ids (pads hold ``pad``).
        attention_mask: ``(rows, head + width)``, 0 on pads.
        head: length of the shared head (tokens).
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    head: int

    @property
    def width(self) -> int:
        """Columns of the layout: where generated tokens start."""
        return self.input_ids.shape[1]


def layout(rows: list[list[int]], pad: int) -> Layout:
    """``rows`` (prompt token ids, unpadded) as a :class:`Layout` around their shared head."""
    p = shared_prefix_len(rows)
    tails = [r[p:] for r in rows]
    width = max(len(t) for t in tails)
    ids = torch.tensor([rows[0][:p] + [pad] * (width - len(t)) + t for t in tails])
    mask = torch.tensor([[1] * p + [0] * (width - len(t)) + [1] * len(t) for t in tails])
    return Layout(ids, mask, p)


def _positions(mask: torch.Tensor) -> torch.Tensor:
    """Position ids that count real tokens only (a tail continues right after the head, whatever its pads)."""
    return (mask.cumsum(1) - 1).clamp(min=0)


class PromptCache:
    """Runs prompts once and hands out their key/value caches; one per generator (its memo belongs to one model).

    Args:
        memo_size: prompt heads kept.
    """

    def __init__(self, memo_size: int = _MEMO_SIZE) -> None:
        self._memo: OrderedDict[tuple[int, ...], DynamicCache] = OrderedDict()
        self.memo_size = memo_size

    def _head_cache(self, model, head: list[int], rows: int) -> DynamicCache:
        """The head's cache, copied for ``rows`` rows (an empty cache when there is no head)."""
        if not head:
            return DynamicCache(config=model.config)
        key = tuple(head)
        if key not in self._memo:
            cache = DynamicCache(config=model.config)
            model(input_ids=torch.tensor([head]), past_key_values=cache, use_cache=True, logits_to_keep=1)
            self._memo[key] = cache
            while len(self._memo) > self.memo_size:
                self._memo.popitem(last=False)
        self._memo.move_to_end(key)
        cache = copy.deepcopy(self._memo[key])  # the copy grows with the batch; the memo stays one row
        if rows > 1:
            cache.batch_repeat_interleave(rows)
        return cache

    def _run(self, model, lay: Layout, stop: int):
        """Model output for the layout's columns ``head .. stop`` on top of the head's cache (logits of the last)."""
        n = lay.input_ids.shape[0]
        cache = self._head_cache(model, lay.input_ids[0, :lay.head].tolist(), n)
        positions = _positions(lay.attention_mask[:, :stop])[:, lay.head:]
        return model(input_ids=lay.input_ids[:, lay.head:stop], attention_mask=lay.attention_mask[:, :stop],
                     position_ids=positions, past_key_values=cache, use_cache=True, logits_to_keep=1)

    @torch.inference_mode()
    def prefill(self, model, lay: Layout) -> DynamicCache | None:
        """The cache of every layout column but the last, for ``model.generate(input_ids=lay.input_ids,
        attention_mask=lay.attention_mask, past_key_values=...)``, which then runs the last column only.

        ``generate`` copies its inputs ``k`` times for ``num_beams=k`` or ``num_return_sequences=k`` but not a
        given cache: hand it ``expand(cache, k)``. None when the layout has no head (a row whose columns before
        the last would all be pads cannot be run alone); plain ``generate`` then runs the prompts.
        """
        if lay.head == 0:
            return None
        if lay.width - 1 == lay.head:  # only the last column is the rows' own: the head's cache is all there is
            return self._head_cache(model, lay.input_ids[0, :lay.head].tolist(), lay.input_ids.shape[0])
        return self._run(model, lay, lay.width - 1).past_key_values

    @torch.inference_mode()
    def greedy(self, model, rows: list[list[int]], *, ends: list[int], max_new_tokens: int,
               processors: LogitsProcessorList | None = None,
               give_up: Callable[[int, list[int]], bool] | None = None,
               ) -> tuple[list[list[int]], list[float], list[bool]]:
        """Greedy titles for prompt token rows, finished rows leaving the batch.

        Args:
            model: a causal LM (``AutoModelForCausalLM``) in eval mode.
            rows: prompt token ids, one list per prompt (no padding).
            ends: token ids that end a title.
            max_new_tokens: most title tokens per row.
            processors: applied to the logits before the argmax; they see ``input_ids`` holding the *title
                tokens only* (shape ``(active rows, tokens so far)``), so build them with a prompt length of 0.
            give_up: ``give_up(row, tokens so far)`` true drops an unfinished row from the batch early (a title
                already too long to keep): it ends unfinished, as at ``max_new_tokens``.

        Returns:
            ``(tokens, scores, finished)`` per row, in input order: the title's token ids (up to and including the
            end token), the mean log-probability per token (nats), and whether an end token was written.
        """
        n = len(rows)
        if n == 0:
            return [], [], []
        lay = layout(rows, ends[0])
        out = self._run(model, lay, lay.width)
        cache, mask = out.past_key_values, lay.attention_mask
        last_pos = _positions(mask)[:, -1]

        active = torch.arange(n)  # original row index of each row still in the batch
        written = torch.zeros(n, 0, dtype=torch.long)  # title tokens of the active rows
        tokens: list[list[int]] = [[] for _ in range(n)]
        logp_sum = [0.0] * n
        finished = [False] * n
        end_set = torch.tensor(ends)
        logits = out.logits[:, -1, :].float()
        for step in range(max_new_tokens):
            logp = torch.log_softmax(logits, dim=-1)
            scores = processors(written, logits.clone()) if processors else logits
            nxt = scores.argmax(dim=-1)
            chosen = logp.gather(1, nxt[:, None])[:, 0]
            for row, tok, lp in zip(active.tolist(), nxt.tolist(), chosen.tolist()):
                tokens[row].append(tok)
                logp_sum[row] += lp
            done = torch.isin(nxt, end_set)
            for row in active[done].tolist():
                finished[row] = True
            if give_up is not None:
                done = done | torch.tensor([give_up(row, tokens[row]) for row in active.tolist()])
            keep = (~done).nonzero()[:, 0]
            if keep.numel() == 0 or step == max_new_tokens - 1:
                break
            if keep.numel() < active.numel():
                cache.batch_select_indices(keep)
                mask, last_pos, active, written, nxt = mask[keep], last_pos[keep], active[keep], written[keep], nxt[keep]
            written = torch.cat([written, nxt[:, None]], dim=1)
            mask = torch.cat([mask, torch.ones(mask.shape[0], 1, dtype=torch.long)], dim=1)
            last_pos = last_pos + 1
            out = model(input_ids=nxt[:, None], attention_mask=mask, position_ids=last_pos[:, None],
                        past_key_values=cache, use_cache=True)
            cache = out.past_key_values
            logits = out.logits[:, -1, :].float()
        scores_out = [s / max(len(t), 1) for s, t in zip(logp_sum, tokens)]
        return tokens, scores_out, finished


def expand(cache: DynamicCache | None, k: int) -> DynamicCache | None:
    """A copy of ``cache`` with each row repeated ``k`` times in place (as ``generate`` repeats its inputs)."""
    if cache is None:
        return None
    out = copy.deepcopy(cache)
    if k > 1:
        out.batch_repeat_interleave(k)
    return out
