"""Decoder-only (causal) bases end to end, on tiny random Qwen2 and Llama models built offline (see conftest):
loading, the checks and their report, ranking with and without a click model that reads the language, precision,
LoRA attach/merge, training with the loss on title tokens, and one prompt format for training and inference.

Tiny random models write gibberish, so tests of what happens to candidates feed fixed raw candidates through
``titlegen.generator.generate_candidates``; tests on the real generation check only what holds for any output.
"""

from __future__ import annotations

import json
import math

import pytest
import torch

import titlegen
from titlegen import ConfigError, Controls, TitleCandidate, TitleGenerator, TitleRequest
from titlegen.candidates import TitleList
from titlegen.causal import generate_candidates
from titlegen.language import display_length
from titlegen.loading import load_generator
from titlegen.model import LoraSettings, attach_lora, is_causal, load_adapter, load_base
from titlegen.prompt import chat_prompt, control_line, cut_prompt_ids
from titlegen.prompt_cache import PromptCache
from titlegen.train import TrainConfig, _pairs, causal_batch, train

ZH = "这款降噪耳机续航四十小时，通勤路上安静又舒服。"
EN = "Handmade linen tote bag that holds a 15-inch laptop. Washable and sold in five colours."
SOURCES = {"beam", "sample", "lead"}


@pytest.fixture(scope="module")
def qwen_generator(tiny_causal_dir):
    return load_generator(tiny_causal_dir)


def _fake_raw(per_brief):
    """A stand-in for ``generate_candidates`` that returns ``per_brief(brief)`` for each prompt's brief."""
    calls = []

    def fake(model, tokenizer, lines, **kwargs):
        calls.append(lines)
        return [list(per_brief(line.split(" | brief: ", 1)[1])) for line in lines]

    fake.calls = calls
    return fake


# --- real generation: invariants that hold for any output -----------------------------------------------------


def test_causal_results_are_explained_title_lists(any_causal_dir):
    gen = load_generator(any_causal_dir)
    assert gen.causal
    requests = [TitleRequest(ZH, Controls(platform="xiaohongshu")), TitleRequest(EN, Controls(max_chars=40)),
                TitleRequest("Sunset walk by the river", Controls())]
    out = gen(requests, num_titles=3, num_beams=2, num_samples=2)
    assert isinstance(out, list) and len(out) == 3
    for req, titles, language in zip(requests, out, ["zh", "en", "en"]):
        assert isinstance(titles, TitleList) and 1 <= len(titles) <= 3
        assert titles.language == language
        assert titles.ranking and titles.ranking in titles.summary()
        assert all(isinstance(n, int) and n > 0 for n in titles.dropped.values())
        assert set(titles.examples) == set(titles.dropped)
        for c in titles:
            assert isinstance(c, TitleCandidate) and c.source in SOURCES
            assert 0 < display_length(c.text) <= req.controls.limit
            assert c.predicted_ctr is None


def test_seq2seq_and_causal_bases_both_give_title_lists(seq2seq_or_causal_dir):
    gen = load_generator(seq2seq_or_causal_dir)
    (titles,) = gen([EN], num_titles=2, num_beams=2, num_samples=1)
    assert isinstance(titles, TitleList) and titles and titles.language == "en" and titles.ranking
    assert gen.causal == is_causal(gen.model)


def test_never_empty_even_when_every_candidate_is_dropped(qwen_generator):
    (titles,) = qwen_generator(["Supercalifragilisticexpialidocious" * 3], controls=Controls(max_chars=10),
                               num_beams=2, num_samples=1)
    assert titles and all(0 < display_length(c.text) <= 10 for c in titles)
    (titles,) = qwen_generator([ZH], num_beams=0, num_samples=0)
    assert [c.source for c in titles] == ["lead"] and titles[0].text in ZH


def test_seeded_sampling_is_reproducible(tiny_causal_dir):
    model, tok = load_base(tiny_causal_dir)
    line = control_line(EN, Controls(), language="en")
    kwargs = dict(num_beams=0, num_samples=3, max_new_tokens=8, max_prompt_tokens=160)
    with torch.inference_mode():
        a = generate_candidates(model, tok, [line], seed=7, **kwargs)
        b = generate_candidates(model, tok, [line], seed=7, **kwargs)
        c = generate_candidates(model, tok, [line], seed=8, **kwargs)
    assert a == b and len(a[0]) == 3
    assert [t for t, _, _ in a[0]] != [t for t, _, _ in c[0]]
    # A random tiny model rarely ends within 8 tokens: such samples are "unfinished" (-inf), never NaN.
    assert all(src == "sample" and not math.isnan(score) and score <= 0 for _, src, score in a[0])


def test_unfinished_candidates_are_dropped_as_unfinished(tiny_causal_dir):
    model, tok = load_base(tiny_causal_dir)
    line = control_line(EN, Controls(), language="en")
    with torch.inference_mode():
        raw = generate_candidates(model, tok, [line], seed=0, num_beams=0, num_samples=4, max_new_tokens=1,
                                  max_prompt_tokens=160)[0]
    unfinished = [c for c in raw if c[2] == float("-inf")]
    assert unfinished
    from titlegen.candidates import filter_candidates

    kept, dropped, examples = filter_candidates(raw, limit=100, language="en", support=[EN])
    assert dropped["unfinished"] == len(unfinished) and "unfinished" in examples


def test_beam_and_greedy_candidates_are_labelled_and_scored(tiny_causal_dir):
    model, tok = load_base(tiny_causal_dir)
    lines = [control_line(ZH, Controls(), language="zh"), control_line(EN, Controls(), language="en")]
    for beams in (1, 3):
        with torch.inference_mode():
            out = generate_candidates(model, tok, lines, num_beams=beams, num_samples=0, seed=0, max_new_tokens=6,
                                      max_prompt_tokens=160)
        assert [len(row) for row in out] == [beams, beams]
        assert all(src == "beam" and not math.isnan(score) and score <= 0 for row in out for _, src, score in row)


# --- what happens to candidates: fixed raw candidates through the real pipeline ----------------------------------


def test_checks_drop_and_say_why(qwen_generator, monkeypatch):
    raw = [("标题：“西湖边的小咖啡馆”", "beam", -0.5),       # cleaned: prefix and quotes go
           ("续航五十小时的降噪耳机", "beam", -0.4),           # 50 is not in the brief (四十 is 40)
           ("Quiet headphones", "sample", -0.3),  # wrong language
           ("降噪耳机续航四十小时，通勤路上安静又舒服的好物分享", "sample", -0.2),  # over 20
           ("续航四十小时的降噪耳机", "sample", -0.6)]
    fake = _fake_raw(lambda brief: raw)
    monkeypatch.setattr("titlegen.generator.generate_candidates", fake)
    (titles,) = qwen_generator([ZH], controls=Controls(platform="xiaohongshu"), num_titles=5)
    assert sorted(c.text for c in titles) == ["续航四十小时的降噪耳机", "西湖边的小咖啡馆"]
    assert {c.source for c in titles} == {"beam", "sample"}
    assert titles.dropped == {"unsupported number": 1, "wrong language": 1, "over the limit": 1}
    assert "50" in titles.examples["unsupported number"]
    assert "dropped 3" in titles.summary() and "model's score" in titles.ranking
    assert "max: 20 | lang: zh" in fake.calls[0][0]


def test_batch_order_is_restored(qwen_generator, monkeypatch):
    briefs = ["A slow morning routine in a small flat with coffee and plants and a long walk by the river",
              "Sunset walk", "小户型客厅改造，温馨角落。", "Homemade sourdough for beginners at the weekend"]
    fake = _fake_raw(lambda brief: [(brief.rstrip("。"), "beam", -0.1)])
    monkeypatch.setattr("titlegen.generator.generate_candidates", fake)
    out = qwen_generator(briefs, batch_size=2, num_titles=1)
    assert [titles[0].text for titles in out] == [b.rstrip("。") for b in briefs]
    assert [titles.language for titles in out] == ["en", "en", "zh", "en"]
    assert [len(lines) for lines in fake.calls] == [2, 2]
    assert "brief: Sunset walk" in fake.calls[0][0]  # the shortest brief went first


class _ReadsAll:
    """A click model without a ``languages`` attribute: assumed to read every language."""

    def __init__(self):
        self.seen: list[str] = []

    def __call__(self, titles, contexts):
        self.seen += titles
        return [0.01 * len(t) for t in titles]


class _EnglishOnly(_ReadsAll):
    languages = ("en",)


ZH_RAW = [("降噪耳机通勤好物", "beam", -0.3), ("续航四十小时的降噪耳机", "beam", -0.5)]
EN_RAW = [("Linen tote for laptops", "beam", -0.3), ("A washable linen tote bag for the laptop", "beam", -0.4)]


def test_click_model_without_languages_ranks_every_language(tiny_causal_dir, monkeypatch):
    click = _ReadsAll()
    gen = load_generator(tiny_causal_dir, click_model=click)
    monkeypatch.setattr("titlegen.generator.generate_candidates",
                        _fake_raw(lambda brief: ZH_RAW if brief.startswith("这") else EN_RAW))
    zh, en = gen([ZH, EN], num_titles=2)
    for titles in (zh, en):
        assert titles.ranking.startswith("ranked by predicted click-through")
        assert all(c.predicted_ctr is not None for c in titles)
        ctrs = [c.predicted_ctr for c in titles]
        assert ctrs == sorted(ctrs, reverse=True)
    assert zh[0].text == "续航四十小时的降噪耳机"  # the longer one: the fake click model prefers length
    assert set(click.seen) >= {t for t, _, _ in ZH_RAW}


def test_click_model_that_reads_english_only_leaves_chinese_unpredicted(tiny_causal_dir, monkeypatch):
    click = _EnglishOnly()
    gen = load_generator(tiny_causal_dir, click_model=click)
    monkeypatch.setattr("titlegen.generator.generate_candidates",
                        _fake_raw(lambda brief: ZH_RAW if brief.startswith("这") else EN_RAW))
    zh, en = gen([ZH, EN], num_titles=2)
    assert zh and all(c.predicted_ctr is None for c in zh)
    assert "model's score" in zh.ranking and "reads en only" in zh.ranking
    assert "no click-through is predicted" in zh.summary()
    assert not set(click.seen) & {t for t, _, _ in ZH_RAW}  # never asked about a language it cannot read
    assert en.ranking.startswith("ranked by predicted click-through")
    assert en and all(c.predicted_ctr is not None for c in en)


# --- precision ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("precision", ["int8", "bf16", "fp32"])
def test_precisions_load_and_generate(tiny_causal_dir, precision):
    gen = load_generator(tiny_causal_dir, precision=precision)
    linears = [type(m) for m in gen.model.modules() if "Linear" in type(m).__name__]
    if precision == "int8":
        assert linears and all(t.__module__.startswith("torch.ao.nn.quantized") for t in linears)
    else:
        want = torch.bfloat16 if precision == "bf16" else torch.float32
        assert {p.dtype for p in gen.model.parameters()} == {want}
    for titles in gen([EN, ZH], num_beams=2, num_samples=2):
        assert isinstance(titles, TitleList) and titles


@pytest.mark.parametrize("bad", ["fp16", "INT8", ""])
def test_bad_precision_is_a_config_error(tiny_causal_dir, bad):
    with pytest.raises(ConfigError, match="precision"):
        load_generator(tiny_causal_dir, precision=bad)


# --- LoRA --------------------------------------------------------------------------------------------------------


def _nudge_lora(peft_model) -> None:
    """Give the adapter non-zero B matrices, so merging it changes the outputs (peft starts B at zero)."""
    torch.manual_seed(1)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)


def test_lora_on_a_causal_base_saves_loads_and_merges(any_causal_dir, tmp_path):
    model, tok = load_base(any_causal_dir)
    peft_model = attach_lora(model, LoraSettings(r=2, alpha=4))
    assert peft_model.peft_config["default"].task_type == "CAUSAL_LM"
    assert any("q_proj.lora_A" in n for n, _ in peft_model.named_parameters())
    _nudge_lora(peft_model)
    peft_model.save_pretrained(tmp_path / "lora")
    ids = tok(chat_prompt(tok, control_line(EN, Controls(), language="en")), return_tensors="pt")["input_ids"]
    with torch.no_grad():
        want = peft_model.eval()(input_ids=ids).logits
        bare = load_base(any_causal_dir)[0](input_ids=ids).logits
        merged = load_adapter(load_base(any_causal_dir)[0], tmp_path / "lora", merge=True)
        got = merged(input_ids=ids).logits
    assert not any("lora" in n for n, _ in merged.named_modules())
    assert torch.allclose(got, want, atol=1e-4) and not torch.allclose(got, bare, atol=1e-4)
    for merge in (True, False):
        gen = load_generator(any_causal_dir, adapter=tmp_path / "lora", merge=merge)
        assert gen.causal and gen([ZH], num_beams=2, num_samples=0)[0]


# --- training: loss on title tokens, one prompt format -----------------------------------------------------------

PAIRS = [
    {"brief": ZH, "title": "续航四十小时的降噪耳机", "language": "zh", "max_chars": 20},
    {"brief": "小户型客厅改造，一千元搞定温馨角落。", "title": "一千元改造小客厅", "language": "zh", "max_chars": 20},
    {"brief": "西湖边的小咖啡馆手冲桂花拿铁。", "title": "西湖边的桂花拿铁", "language": "zh", "max_chars": 20},
    {"brief": EN, "title": "A linen tote for your laptop", "language": "en", "max_chars": 40},
    {"brief": "Homemade sourdough for beginners at the weekend.", "title": "Sourdough for beginners",
     "language": "en", "max_chars": 40},
    {"brief": "Sunset walk by the river after work.", "title": "Sunset by the river", "language": "en",
     "max_chars": 40},
]


@pytest.fixture
def pairs_file(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in PAIRS), encoding="utf-8")
    return path


def test_causal_batch_masks_the_prompt(tiny_chat_tokenizer):
    tok = tiny_chat_tokenizer
    lines = [control_line(r["brief"], Controls(max_chars=r["max_chars"]), language=r["language"]) for r in PAIRS]
    titles = [r["title"] for r in PAIRS]
    ids, mask, labels = causal_batch(tok, lines, titles, max_source_tokens=160, max_title_tokens=32)
    assert ids.shape == mask.shape == labels.shape and ids.dtype == labels.dtype == torch.int64
    for row, (line, title) in enumerate(zip(lines, titles)):
        prompt = cut_prompt_ids(tok(chat_prompt(tok, line), add_special_tokens=False)["input_ids"], 160)
        n = int(mask[row].sum())
        assert ids[row, :len(prompt)].tolist() == prompt
        assert (labels[row, :len(prompt)] == -100).all() and (labels[row, n:] == -100).all()
        assert (mask[row, n:] == 0).all() and (ids[row, n:] == tok.pad_token_id).all()
        target = labels[row, len(prompt):n]
        assert (target == ids[row, len(prompt):n]).all()
        assert tok.decode(target) == title + "<|im_end|>"


def test_train_prompt_is_the_inference_prompt(tiny_causal_dir, pairs_file, monkeypatch):
    """The ids a training row's prompt has are the ids generation is given for the same brief and controls,
    including a brief cut to the token budget."""
    model, tok = load_base(tiny_causal_dir)
    sources = [s for s, _, _ in _pairs(str(pairs_file), causal=True)]
    full = [len(tok(chat_prompt(tok, s), add_special_tokens=False)["input_ids"]) for s in sources]
    budget = max(full) - 10  # the longest prompt is cut inside its brief, the shortest are not
    train_ids, mask, labels = causal_batch(tok, sources, [r["title"] for r in PAIRS], max_source_tokens=budget,
                                           max_title_tokens=32)
    gen = TitleGenerator(model, tok, max_source_tokens=budget, max_title_tokens=4)
    seen = []
    real = model.generate

    def spy(**kwargs):
        seen.append((kwargs["input_ids"], kwargs["attention_mask"]))
        return real(**kwargs)

    monkeypatch.setattr(model, "generate", spy)
    greedy_rows = []
    real_greedy = PromptCache.greedy

    def greedy_spy(self, model, rows, **kwargs):
        greedy_rows.append(rows[0])
        return real_greedy(self, model, rows, **kwargs)

    monkeypatch.setattr(PromptCache, "greedy", greedy_spy)
    requests = [TitleRequest(r["brief"], Controls(max_chars=r["max_chars"], language=r["language"])) for r in PAIRS]
    gen(requests, num_beams=2, num_samples=0, batch_size=1)  # beams: model.generate
    gen(requests, num_beams=1, num_samples=0, batch_size=1)  # greedy: titlegen.prompt_cache's own loop
    assert len(seen) == len(greedy_rows) == len(PAIRS)
    order = sorted(range(len(PAIRS)), key=lambda i: len(PAIRS[i]["brief"]))
    for (input_ids, attention), rows, i in zip(seen, greedy_rows, order):
        prompt_len = min(full[i], budget)
        assert (labels[i, :prompt_len] == -100).all() and labels[i, prompt_len] != -100
        assert input_ids[0][attention[0].bool()].tolist() == train_ids[i, :prompt_len].tolist()
        assert rows == train_ids[i, :prompt_len].tolist()
    assert any(n > budget for n in full) and any(n < budget for n in full)


def test_training_a_causal_base_lowers_the_loss_and_saves_a_loadable_adapter(tiny_causal_dir, pairs_file, tmp_path):
    out = tmp_path / "lora"
    cfg = TrainConfig(train_file=str(pairs_file), output_dir=str(out), base=tiny_causal_dir,
                      lora={"r": 4, "alpha": 8, "dropout": 0.0}, lr=3e-2, max_steps=12, warmup_steps=1,
                      batch_size=len(PAIRS), log_every=1, checkpoint_every=6, val_fraction=0.0,
                      max_source_tokens=400)
    metrics = train(cfg)
    losses = [row["loss"] for row in metrics["losses"]]
    assert metrics["steps"] == 12 and len(losses) == 12 and all(math.isfinite(x) for x in losses)
    assert losses[-1] < losses[0]
    adapter = json.loads((out / "adapter_config.json").read_text())
    assert adapter["task_type"] == "CAUSAL_LM" and adapter["r"] == 4
    saved = json.loads((out / "titlegen_train_config.json").read_text())
    assert saved["base"] == tiny_causal_dir and saved["format_version"] >= 1
    gen = load_generator(tiny_causal_dir, adapter=out)
    assert not any("lora" in n for n, _ in gen.model.named_modules())
    for titles in gen([ZH, EN], num_beams=2, num_samples=1):
        assert isinstance(titles, TitleList) and titles


def test_training_resumes_from_its_checkpoint(tiny_causal_dir, pairs_file, tmp_path):
    out = tmp_path / "lora"
    common = dict(train_file=str(pairs_file), output_dir=str(out), base=tiny_causal_dir, lora={"r": 2, "alpha": 4},
                  warmup_steps=1, batch_size=3, log_every=1, checkpoint_every=2, val_fraction=0.0)
    train(TrainConfig(**common, max_steps=3))
    assert (out / "checkpoint" / "adapter_model.safetensors").is_file()
    metrics = train(TrainConfig(**common, max_steps=4))
    assert metrics["steps"] == 4 and [row["step"] for row in metrics["losses"]] == [1, 2, 3, 4]


def test_package_exports_still_load_a_causal_base(tiny_causal_dir):
    assert titlegen.load_generator is load_generator
    assert isinstance(titlegen.load_generator(tiny_causal_dir), TitleGenerator)
