"""Candidate generation with a decoder-only (causal) model: beam search and nucleus sampling, each scored.

Called only from :meth:`titlegen.TitleGenerator._forward` (the one place that touches the model). Every candidate
is scored on one scale, the model's mean per-token log-probability of the title (nats), read during generation:

* beams: ``sequences_scores`` with ``length_penalty=1`` is the summed log-probability over the length;
* samples: the log-softmax of the *raw* logits (``output_logits``) at the sampled tokens, so temperature and
  top-p do not distort the score.

No second pass over the prompt is needed, which matters on a CPU: the prompt is most of the tokens.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from transformers import LogitsProcessor, LogitsProcessorList, StoppingCriteria, StoppingCriteriaList

from titlegen.language import display_length
from titlegen.prompt_cache import PromptCache, expand, layout
from titlegen.prompt import chat_prompt, cut_prompt_ids


class NoRepeatInTitle(LogitsProcessor):
    """Bans a token that would repeat an ``n``-gram already written *in the title* (not in the prompt).

    transformers' ``no_repeat_ngram_size`` and ``repetition_penalty`` look at the whole sequence, prompt included,
    and so push a decoder-only model away from the brief's own words; without any ban, sampling can loop
    ("通勤通勤通勤..."). This one looks only at the tokens after ``prompt_len``.
    """

    def __init__(self, prompt_len: int, n: int = 2) -> None:
        self.prompt_len, self.n = prompt_len, n

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        title = input_ids[:, self.prompt_len:].tolist()
        for row, tokens in enumerate(title):
            if len(tokens) < self.n:
                continue
            prefix = tuple(tokens[len(tokens) - self.n + 1:])
            banned = {tuple(tokens[i:i + self.n]) for i in range(len(tokens) - self.n + 1)}
            for gram in banned:
                if gram[:-1] == prefix:
                    scores[row, gram[-1]] = -float("inf")
        return scores


#: Display characters over a title's limit before a candidate is given up while it is being written.
_CLEAN_SLACK = 8


class OverLimit(StoppingCriteria):
    """Stops a sampled row whose title is already over its limit (``over(line, title tokens)``), so a batch does not
    keep decoding a title that will be dropped; the row ends unfinished (no end token), as at ``max_new_tokens``."""

    def __init__(self, prompt_len: int, per_input: int, over: Callable[[int, list[int]], bool]) -> None:
        self.prompt_len, self.per_input, self.over = prompt_len, per_input, over

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs) -> torch.BoolTensor:
        rows = input_ids[:, self.prompt_len:].tolist()
        return torch.tensor([self.over(j // self.per_input, row) for j, row in enumerate(rows)], dtype=torch.bool)


def end_token_ids(tokenizer) -> list[int]:
    """Token ids that end a title: the chat template's end-of-turn token and the tokenizer's EOS token."""
    ids = {tokenizer.eos_token_id}
    end = tokenizer.convert_tokens_to_ids("<|im_end|>") if "<|im_end|>" in tokenizer.get_vocab() else None
    ids.add(end)
    return sorted(i for i in ids if isinstance(i, int) and i >= 0)


def _mean_logprob(step_logits: tuple[torch.Tensor, ...], new_tokens: torch.Tensor, ends: list[int]) -> list[float]:
    """Mean log-probability of ``new_tokens [shape=(n, steps)]`` under the raw ``step_logits`` (one
    ``(n, vocab)`` tensor per step), counting tokens up to and including the first end token."""
    logits = torch.stack(step_logits, dim=1).float()  # (n, steps, vocab)
    tokens = new_tokens[:, : logits.shape[1]]
    logp = torch.log_softmax(logits, dim=-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    is_end = torch.isin(tokens, torch.tensor(ends))
    after_end = (is_end.cumsum(1) - is_end.long()) > 0  # strictly after the first end token
    valid = ~after_end
    # where, not a product: a finished row's later steps can hold NaN logits, and NaN * 0 is NaN.
    total = torch.where(valid, logp, torch.zeros_like(logp)).sum(1)
    return (total / valid.sum(1).clamp(min=1)).tolist()


def generate_candidates(model, tokenizer, lines: list[str], *, num_beams: int, num_samples: int, seed: int,
                        max_new_tokens: int, max_prompt_tokens: int,
                        prompt_cache: PromptCache | None = None,
                        limits: list[int] | None = None) -> list[list[tuple[str, str, float]]]:
    """Raw ``(text, source, mean logprob)`` candidates for each control line (see :mod:`titlegen.prompt`).

    Args:
        lines: one control line per request.
        num_beams: beam width and number of beam candidates (0: none; 1: greedy).
        num_samples: sampled candidates per request (0: none).
        seed: torch seed of the sampling.
        max_new_tokens: generation length limit (tokens).
        max_prompt_tokens: prompts are cut to this many tokens (keeping their end, where the cue is).
        prompt_cache: runs the prompts once for every beam and sample, and decodes greedy titles (keep one per
            model so its memo of the prompts' shared head is reused); a fresh one when not given.
        limits: each line's title limit (display characters): greedy rows and samples that are already well over
            it stop early (they would be dropped as over the limit anyway); None: no early stop.

    Returns:
        One list per line, in order. A candidate that did not finish within ``max_new_tokens`` (or does not
        decode) has the score ``-inf``.
    """
    ids = [cut_prompt_ids(tokenizer(chat_prompt(tokenizer, line), add_special_tokens=False)["input_ids"],
                          max_prompt_tokens) for line in lines]
    ends = end_token_ids(tokenizer)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else ends[0]
    prompts = prompt_cache or PromptCache()
    # [shared head][left pads][own tail]: every prompt ends where generation starts, and the head runs once.
    lay = layout(ids, pad)
    width = lay.width
    common = dict(input_ids=lay.input_ids, attention_mask=lay.attention_mask, max_new_tokens=max_new_tokens,
                  eos_token_id=ends, pad_token_id=pad, return_dict_in_generate=True,
                  logits_processor=LogitsProcessorList([NoRepeatInTitle(width, n=2)]))
    # The prompts run once here; generate() would run each once per beam or sample.
    prefilled = prompts.prefill(model, lay) if num_beams > 1 or num_samples > 0 else None

    def over(line: int, tokens: list[int]) -> bool:
        # The slack covers what cleaning strips later (a "标题：" label, quotes), so no keepable title is stopped.
        return display_length(tokenizer.decode(tokens, skip_special_tokens=True)) > limits[line] + _CLEAN_SLACK
    # No repetition penalty or n-gram ban of transformers': in a decoder-only model they count the prompt too, and
    # would push the title away from the brief's own words; NoRepeatInTitle bans repeats within the title only.
    out: list[list[tuple[str, str, float]]] = [[] for _ in lines]

    def add(sequences: torch.Tensor, per_input: int, source: str, scores: list[float]) -> None:
        new = sequences[:, width:]
        finished = torch.isin(new, torch.tensor(ends)).any(dim=1).tolist()
        texts = tokenizer.batch_decode(new, skip_special_tokens=True)
        for j, (text, score, done) in enumerate(zip(texts, scores, finished)):
            # A title cut off by max_new_tokens ends mid-word: it gets a score of -inf, which the checks drop
            # as "unfinished"; so does one whose bytes do not decode (U+FFFD).
            ok = done and "\ufffd" not in text
            out[j // per_input].append((text, source, float(score) if ok else float("-inf")))

    if num_beams > 1:
        gen = model.generate(**common, num_beams=num_beams, num_return_sequences=num_beams, early_stopping=True,
                             length_penalty=1.0, output_scores=True, do_sample=False,
                             past_key_values=expand(prefilled, num_beams))
        add(gen.sequences, num_beams, "beam", gen.sequences_scores.tolist())
    elif num_beams == 1:
        # Our own loop, not generate(): it runs the prompts' shared head once and drops finished rows (see
        # titlegen.prompt_cache); same tokens, about twice the throughput on a CPU.
        tokens, scores, done = prompts.greedy(
            model, ids, ends=ends, max_new_tokens=max_new_tokens,
            processors=LogitsProcessorList([NoRepeatInTitle(0, n=2)]), give_up=over if limits else None)
        for j, (toks, score, fin) in enumerate(zip(tokens, scores, done)):
            text = tokenizer.decode(toks, skip_special_tokens=True)
            ok = fin and "\ufffd" not in text
            out[j].append((text, "beam", float(score) if ok else float("-inf")))
    if num_samples > 0:
        torch.manual_seed(seed)
        gen = model.generate(**common, do_sample=True, top_p=0.9, temperature=0.8, top_k=0,
                             num_return_sequences=num_samples, output_logits=True,
                             past_key_values=expand(prefilled, num_samples),
                             stopping_criteria=StoppingCriteriaList([OverLimit(width, num_samples, over)])
                             if limits else None)
        add(gen.sequences, num_samples, "sample", _mean_logprob(gen.logits, gen.sequences[:, width:], ends))
    return out
