import math
import warnings

import pytest

from titlegen import Controls, InvalidBriefError, TitleCandidate, TitleGenerator, TitleRequest
from titlegen.controls import encode_source
from titlegen.generator import MAX_BRIEF_CHARS, cut_to_limit, lead_title, points_titles, repeats_a_word
from titlegen.model import load_base

BRIEFS = ["Handmade linen tote bag that holds a 15-inch laptop. Washable and sold in five colours.",
          "Short brief.",
          "A slow morning routine in a small Lisbon flat: coffee, plants and a long walk by the river."]


@pytest.fixture
def generator(any_tiny_dir):
    model, tok = load_base(any_tiny_dir)
    return TitleGenerator(model, tok, max_title_tokens=8)


def test_candidates_per_brief_in_input_order(generator):
    out = generator(BRIEFS, num_titles=3, batch_size=2, num_beams=2, num_samples=2)
    assert isinstance(out, list) and len(out) == len(BRIEFS)
    for brief, cands in zip(BRIEFS, out):
        assert 1 <= len(cands) <= 3
        assert all(isinstance(c, TitleCandidate) and c.text.strip() for c in cands)
        assert all(c.source in {"beam", "sample", "lead", "points"} for c in cands)
        assert all(len(c.text) <= 100 for c in cands)
        leads = [c for c in cands if c.source == "lead"]
        assert all(c.text == lead_title(brief, 100) for c in leads)  # order restored after length sort
        keys = [c.text.lower() for c in cands]
        assert len(keys) == len(set(keys))
        scores = [c.logprob for c in cands]
        assert scores == sorted(scores, reverse=True) and all(math.isfinite(s) for s in scores)


def test_single_string_and_request_inputs(generator):
    assert len(generator("One brief only, about a bike ride.", num_beams=2, num_samples=0)) == 1
    req = TitleRequest("A bike ride at dawn", Controls(style="question", platform="xiaohongshu"))
    (cands,) = generator([req], num_beams=2, num_samples=0)
    assert all(len(c.text) <= 20 for c in cands)


def test_length_limit_is_never_exceeded_and_never_empty(generator):
    (cands,) = generator(["Supercalifragilisticexpialidocious" * 3], controls=Controls(max_chars=10),
                         num_beams=2, num_samples=0)
    assert cands and all(0 < len(c.text) <= 10 for c in cands)


@pytest.mark.parametrize("bad", ["", "   \n\t ", None, 42])
def test_empty_or_non_text_brief_is_a_typed_error(generator, bad):
    with pytest.raises(InvalidBriefError, match="#1"):
        generator(["fine brief", bad])


def test_huge_brief_is_truncated_with_a_warning(generator):
    with pytest.warns(UserWarning, match=str(MAX_BRIEF_CHARS)):
        out = generator(["word " * 20_000], num_beams=2, num_samples=0)
    assert out[0]


def test_emoji_and_chinese_do_not_crash(generator):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = generator(["🔥 新款防水运动鞋，轻便透气 🏃‍♀️", "Sunset 🌅 over the bay"], num_beams=2, num_samples=1)
    assert all(out)


def test_sampling_is_reproducible_with_a_seed(generator):
    a = generator(BRIEFS[:1], num_beams=0, num_samples=3, seed=7)
    b = generator(BRIEFS[:1], num_beams=0, num_samples=3, seed=7)
    assert [c.text for c in a[0]] == [c.text for c in b[0]]


def test_click_model_ranks_candidates(generator):
    def by_length(titles, contexts):
        assert len(titles) == len(contexts)
        return [len(t) / 100 for t in titles]

    generator.click_model = by_length
    (cands,) = generator(BRIEFS[:1], num_beams=2, num_samples=2)
    ctrs = [c.predicted_ctr for c in cands]
    assert all(p is not None for p in ctrs) and ctrs == sorted(ctrs, reverse=True)


def test_points_candidates_follow_the_controls(generator):
    controls = Controls(selling_points=("waterproof", "240 grams"), audience="trail runners", max_chars=24)
    assert points_titles(controls) == ["Waterproof, 240 grams", "Waterproof for trail"]
    (cands,) = generator(["A trail shoe"], controls=controls, num_titles=10, num_beams=2, num_samples=0)
    assert {"Waterproof, 240 grams", "Waterproof for trail"} <= {c.text for c in cands if c.source == "points"}
    assert points_titles(Controls()) == []


def test_stuttering_candidates_are_detected():
    assert repeats_a_word("Fablestreet Women Orange & Orange Printed Dress")
    assert repeats_a_word("Russia's Anti-War War")
    assert not repeats_a_word("The cat and the hat")


def test_model_only_candidates_when_extractive_is_off(generator):
    (cands,) = generator(["A bike ride at dawn"], controls=Controls(selling_points=("fast",)), num_beams=2,
                         num_samples=0, extractive=False)
    assert cands and all(c.source in ("beam", "lead") for c in cands)  # lead only as the never-empty fallback


def test_cut_to_limit_cuts_at_word_boundary():
    assert cut_to_limit("one two three", 9) == "one two"
    assert cut_to_limit("abcdefghijk", 5) == "abcde"
    assert lead_title("First sentence here. Second one.", 100) == "First sentence here"


def test_greedy_logprob_matches_transformers_transition_scores(generator):
    """The in-loop greedy score equals transformers' own normalised transition scores over the same steps."""
    import torch

    briefs = BRIEFS[:2]
    raw = generator._forward(generator._preprocess(briefs, Controls()), num_beams=1, num_samples=0, seed=0,
                             extractive=False)
    tok = generator.tokenizer([encode_source(b, Controls()) for b in briefs], truncation=True,
                              max_length=generator.max_source_tokens, padding=True, return_tensors="pt")
    with torch.inference_mode():
        gen = generator.model.generate(input_ids=tok["input_ids"], attention_mask=tok["attention_mask"], do_sample=False, num_beams=1, max_new_tokens=generator.max_title_tokens,
                                       no_repeat_ngram_size=3, repetition_penalty=1.2, return_dict_in_generate=True,
                                       output_scores=True)
        steps = generator.model.compute_transition_scores(gen.sequences, gen.scores, normalize_logits=True)
    real = (gen.sequences[:, -steps.shape[1]:] != generator.tokenizer.pad_token_id).float()
    expected = ((steps * real).sum(1) / real.sum(1).clamp(min=1)).tolist()
    got = [cands[0][2] for cands in raw]
    assert got == pytest.approx(expected, abs=1e-4)
