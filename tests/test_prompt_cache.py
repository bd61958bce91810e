"""titlegen.prompt_cache against plain ``model.generate``, token for token, on tiny random Qwen2 and Llama models in
fp32: the greedy loop (shared prompt head run once, rows of different lengths, rows that finish at different
steps, the title-only n-gram ban, the head-cache memo reused across calls) and beams and seeded samples from a
prefilled cache."""

from __future__ import annotations

import pytest
import torch
from transformers import LogitsProcessorList

from titlegen.causal import NoRepeatInTitle, _mean_logprob
from titlegen.prompt_cache import PromptCache, expand, layout, shared_prefix_len
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
    decoder = PromptCache()
    for _ in range(2):  # the second call reuses the memoised head cache; it must not have been grown in place
        got, scores, done = decoder.greedy(model, rows, ends=ends, max_new_tokens=10,
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
            got, _, _ = PromptCache().greedy(model, batch, ends=ends, max_new_tokens=6,
                                        processors=LogitsProcessorList([NoRepeatInTitle(0, n=2)]))
            assert got == want


def test_empty_batch():
    assert PromptCache().greedy(None, [], ends=[0], max_new_tokens=4) == ([], [], [])


@pytest.mark.parametrize("mode", ["beams", "samples"])
def test_generate_from_a_prefilled_cache_gives_the_same_tokens(model_tok, mode):
    model, tok = model_tok
    rows, ends = _prompts(tok), [tok.eos_token_id]
    lay = layout(rows, ends[0])
    assert lay.head > 0
    k = 3
    kwargs = dict(input_ids=lay.input_ids, attention_mask=lay.attention_mask, max_new_tokens=6, eos_token_id=ends,
                  pad_token_id=ends[0], logits_processor=LogitsProcessorList([NoRepeatInTitle(lay.width, n=2)]))
    if mode == "beams":
        kwargs.update(num_beams=k, num_return_sequences=k, do_sample=False)
    else:
        kwargs.update(do_sample=True, top_p=0.9, temperature=0.8, top_k=0, num_return_sequences=k)
    cache = PromptCache()
    with torch.inference_mode():
        torch.manual_seed(0)
        want = model.generate(**kwargs)
        prefilled = cache.prefill(model, lay)
        for _ in range(2):  # the prefilled cache is copied for each call, never grown in place
            torch.manual_seed(0)
            got = model.generate(**kwargs, past_key_values=expand(prefilled, k))
            assert got[:, lay.width:].tolist() == want[:, lay.width:].tolist()


def test_rows_over_their_limit_stop_early_and_end_unfinished(tiny_causal_dir):
    from titlegen.causal import generate_candidates
    from titlegen.controls import Controls
    from titlegen.prompt import control_line

    model, tok = load_base(tiny_causal_dir)
    lines = [control_line("a linen tote bag for a laptop", Controls(), language="en")] * 2
    steps = []
    real = PromptCache.greedy

    def spy(self, *args, **kwargs):
        out = real(self, *args, **kwargs)
        steps.append([len(t) for t in out[0]])
        return out

    with torch.inference_mode():
        free = generate_candidates(model, tok, lines, num_beams=1, num_samples=2, seed=0, max_new_tokens=24,
                                   max_prompt_tokens=160)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(PromptCache, "greedy", spy)
            capped = generate_candidates(model, tok, lines, num_beams=1, num_samples=2, seed=0, max_new_tokens=24,
                                         max_prompt_tokens=160, limits=[1, 1])
    # A random tiny model writes long gibberish: with a limit of 1 character every row is given up early.
    assert all(n < 24 for n in steps[0])
    assert all(score == float("-inf") for row in capped for _, _, score in row)
    assert [len(r) for r in capped] == [len(r) for r in free] == [3, 3]
