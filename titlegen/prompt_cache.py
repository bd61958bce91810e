"""Greedy decoding for a batch of prompts, built for a CPU: the shared prompt head is run once, finished rows leave.

``model.generate`` pays twice for what a batch of title prompts has in common. Every prompt opens with the same
chat template, system line and control names (57 of ~92 tokens for the default), and the batch decodes until its
*longest* title ends, so one title that runs on keeps 31 finished rows in every step. This loop:

1. runs the longest token prefix shared by every prompt once, at batch size 1, and keeps its key/value cache in a
   small memo (the same head comes back batch after batch);
2. runs only each prompt's own tail, left-padded *after* the shared head (the attention mask hides the pads, the
   position ids skip them, so each row sees exactly its own prompt);
3. drops a row from the batch (and from the cache) as soon as it writes an end token.

The result is the same as ``model.generate(do_sample=False)`` with the same logits processors, up to float
rounding in the attention sums (tests compare token for token in fp32). Scores are the mean log-softmax of the raw
logits at the chosen tokens, end token included: the scale :mod:`titlegen.causal` uses for every candidate.
"""

from __future__ import annotations

import copy
from collections import OrderedDict

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


class GreedyDecoder:
    """Batched greedy decoding with a memo of prompt-head caches; one per generator (holds no model state).

    Args:
        memo_size: prompt heads kept.
    """

    def __init__(self, memo_size: int = _MEMO_SIZE) -> None:
        self._memo: OrderedDict[tuple[int, ...], DynamicCache] = OrderedDict()
        self.memo_size = memo_size

    def _head_cache(self, model, head: list[int]) -> DynamicCache:
        key = tuple(head)
        if key not in self._memo:
            cache = DynamicCache(config=model.config)
            model(input_ids=torch.tensor([head]), past_key_values=cache, use_cache=True, logits_to_keep=1)
            self._memo[key] = cache
            while len(self._memo) > self.memo_size:
                self._memo.popitem(last=False)
        self._memo.move_to_end(key)
        return copy.deepcopy(self._memo[key])  # the copy grows with the batch; the memo stays one row

    @torch.inference_mode()
    def __call__(self, model, rows: list[list[int]], *, ends: list[int], max_new_tokens: int,
                 processors: LogitsProcessorList | None = None) -> tuple[list[list[int]], list[float], list[bool]]:
        """Greedy titles for prompt token rows.

        Args:
            model: a causal LM (``AutoModelForCausalLM``) in eval mode.
            rows: prompt token ids, one list per prompt (no padding).
            ends: token ids that end a title.
            max_new_tokens: most title tokens per row.
            processors: applied to the logits before the argmax; they see ``input_ids`` holding the *title
                tokens only* (shape ``(active rows, tokens so far)``), so build them with a prompt length of 0.

        Returns:
            ``(tokens, scores, finished)`` per row, in input order: the title's token ids (up to and including the
            end token), the mean log-probability per token (nats), and whether an end token was written.
        """
        n = len(rows)
        if n == 0:
            return [], [], []
        p = shared_prefix_len(rows)
        cache = self._head_cache(model, rows[0][:p]) if p else DynamicCache(config=model.config)
        if p and n > 1:
            cache.batch_repeat_interleave(n)
        tails = [r[p:] for r in rows]
        width = max(len(t) for t in tails)
        pad = ends[0]
        input_ids = torch.tensor([[pad] * (width - len(t)) + t for t in tails])
        tail_mask = torch.tensor([[0] * (width - len(t)) + [1] * len(t) for t in tails])
        mask = torch.cat([torch.ones(n, p, dtype=torch.long), tail_mask], dim=1)
        # Positions count real tokens only: a row's tail continues right after the shared head, whatever its pads.
        positions = (mask.cumsum(1) - 1).clamp(min=0)[:, p:]
        out = model(input_ids=input_ids, attention_mask=mask, position_ids=positions, past_key_values=cache,
                    use_cache=True, logits_to_keep=1)
        cache = out.past_key_values
        last_pos = positions[:, -1]

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
            for j, (row, tok, lp) in enumerate(zip(active.tolist(), nxt.tolist(), chosen.tolist())):
                tokens[row].append(tok)
                logp_sum[row] += lp
            done = torch.isin(nxt, end_set)
            for row in active[done].tolist():
                finished[row] = True
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
