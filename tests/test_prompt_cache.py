"""The CPU greedy loop (titlegen.greedy) against ``model.generate(do_sample=False)``, token for token, on tiny
random Qwen2 and Llama models in fp32: shared prompt head run once, rows of different lengths, rows that finish
at different steps, the title-only n-gram ban, and the head-cache memo reused across calls."""

from __future__ import annotations

import pytest
import torch
from transformers import LogitsProcessorList

from titlegen.causal import NoRepeatInTitle, _mean_logprob
from titlegen.greedy import GreedyDecoder, shared_prefix_len
from titlegen.model import load_base


def _prompts(tok) -> list[list[int]]:
    head = tok("system line shared by every prompt | style: lifestyle | brief:", add_special_tokens=False)["input_ids"]
    tails = ["a linen tote bag", "homemade sourdough for beginners who never baked", "cat at the beach",
             "ten minute ramen"]
    return [head + tok(" " + t, add_special_tokens=False)["input_ids"] for t in tails]


def _reference(model, rows, ends, steps):
    """``model.generate`` greedy with left padding and the same processor: (title tokens, scores, finished)."""
    width = max(len(r) for r in rows)
    pad = ends[0]
    ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows])
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
    gen = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=steps, do_sample=False,
                         eos_token_id=ends, pad_token_id=pad, return_dict_in_generate=True, output_logits=True,
                         logits_processor=LogitsProcessorList([NoRepeatInTitle(width, n=2)]))
    new = gen.sequences[:, width:]
    scores = _mean_logprob(gen.logits, new, ends)
    titles, finished = [], []
    for row in new.tolist():
        cut = next((i for i, t in enumerate(row) if t in ends), None)
        titles.append(row if cut is None else row[:cut + 1])
        finished.append(cut is not None)
    return titles, scores, finished


@pytest.fixture(params=["tiny_causal_dir", "tiny_llama_dir"])
def model_tok(request):
    model, tok = load_base(request.getfixturevalue(request.param))
    return model.float().eval(), tok


def test_shared_prefix_leaves_each_row_a_token():
    assert shared_prefix_len([[1, 2, 3], [1, 2, 4, 5]]) == 2
    assert shared_prefix_len([[1, 2, 3], [1, 2, 3]]) == 2  # identical prompts: the last token stays in the batch
    assert shared_prefix_len([[7], [7, 8]]) == 0
    assert shared_prefix_len([[1, 2], [3, 4]]) == 0
    assert shared_prefix_len([]) == 0


def test_same_tokens_and_scores_as_generate(model_tok):
    model, tok = model_tok
    rows = _prompts(tok)
    with torch.inference_mode():
        free, _, _ = _reference(model, rows, [tok.eos_token_id], 10)
    # A random model rarely writes its EOS: end titles on tokens it does write, at different steps per row, so
    # rows leave the batch at different times.
    ends = sorted({free[0][3], free[1][6]})
    with torch.inference_mode():
        want, want_scores, want_done = _reference(model, rows, ends, 10)
    decoder = GreedyDecoder()
    for _ in range(2):  # the second call reuses the memoised head cache; it must not have been grown in place
        got, scores, done = decoder(model, rows, ends=ends, max_new_tokens=10,
                                    processors=LogitsProcessorList([NoRepeatInTitle(0, n=2)]))
        assert got == want
        assert done == want_done and any(done) and len({len(t) for t in got}) > 1
        assert scores == pytest.approx(want_scores, abs=1e-4)
    assert len(decoder._memo) == 1


def test_single_prompt_and_no_shared_head(model_tok):
    model, tok = model_tok
    rows = _prompts(tok)
    ends = [tok.eos_token_id]
    with torch.inference_mode():
        for batch in ([rows[1]], [rows[0][3:], rows[2]]):
            want, _, _ = _reference(model, batch, ends, 6)
            got, _, _ = GreedyDecoder()(model, batch, ends=ends, max_new_tokens=6,
                                        processors=LogitsProcessorList([NoRepeatInTitle(0, n=2)]))
            assert got == want


def test_empty_batch():
    assert GreedyDecoder()(None, [], ends=[0], max_new_tokens=4) == ([], [], [])
