"""Shared fixtures: tiny randomly initialised seq2seq and causal (Qwen2, Llama) models built offline, and an
error-log guard."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def fail_on_logged_error(caplog):
    """A test that logged an ERROR fails, even if its assertions passed."""
    yield
    errors = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    if errors:
        pytest.fail(f"test logged {len(errors)} error(s): {errors[0].getMessage()}")


@pytest.fixture(scope="session")
def tokenizer():
    from transformers import AutoTokenizer

    from titlegen.model import minilm_path

    return AutoTokenizer.from_pretrained(minilm_path())


def _save(model, tokenizer, folder: Path) -> str:
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_t5_dir(tmp_path_factory, tokenizer) -> str:
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(0)
    cfg = T5Config(vocab_size=tokenizer.vocab_size, d_model=32, d_ff=64, d_kv=16, num_layers=2, num_heads=2,
                   pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.sep_token_id,
                   decoder_start_token_id=tokenizer.pad_token_id)
    model = T5ForConditionalGeneration(cfg)
    model.generation_config.eos_token_id = tokenizer.sep_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.decoder_start_token_id = tokenizer.pad_token_id
    return _save(model, tokenizer, tmp_path_factory.mktemp("tiny_t5"))


@pytest.fixture(scope="session")
def tiny_bart_dir(tmp_path_factory, tokenizer) -> str:
    import torch
    from transformers import BartConfig, BartForConditionalGeneration

    torch.manual_seed(0)
    cfg = BartConfig(vocab_size=tokenizer.vocab_size, d_model=32, encoder_layers=1, decoder_layers=1,
                     encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                     max_position_embeddings=256, pad_token_id=tokenizer.pad_token_id,
                     bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id,
                     decoder_start_token_id=tokenizer.sep_token_id, forced_eos_token_id=None)
    return _save(BartForConditionalGeneration(cfg), tokenizer, tmp_path_factory.mktemp("tiny_bart"))


@pytest.fixture(scope="session")
def tiny_encdec_dir(tmp_path_factory, tokenizer) -> str:
    import torch
    from transformers import BertConfig, EncoderDecoderConfig, EncoderDecoderModel

    torch.manual_seed(0)
    small = dict(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                 intermediate_size=64, max_position_embeddings=256)
    cfg = EncoderDecoderConfig.from_encoder_decoder_configs(
        BertConfig(**small), BertConfig(**small, is_decoder=True, add_cross_attention=True))
    cfg.decoder_start_token_id = tokenizer.cls_token_id
    cfg.eos_token_id = tokenizer.sep_token_id
    cfg.pad_token_id = tokenizer.pad_token_id
    return _save(EncoderDecoderModel(config=cfg), tokenizer, tmp_path_factory.mktemp("tiny_encdec"))


@pytest.fixture(params=["tiny_t5_dir", "tiny_bart_dir", "tiny_encdec_dir"])
def any_tiny_dir(request) -> str:
    return request.getfixturevalue(request.param)


#: What the tiny causal tokenizer's merges are learned from: the prompt's fixed text and Chinese and English
#: briefs like the tests', so prompts come out tens of tokens long, not hundreds of bytes.
TINY_CORPUS = (
    "Write one title for a social media post from the brief. Obey style, audience, points, max (characters) and "
    "lang. Use only facts from the brief. system user assistant\n"
    "style: lifestyle | audience: anyone | points: none | max: 20 | lang: zh | brief: \n"
    "Handmade linen tote bag that holds a 15-inch laptop. Washable and sold in five colours. Sunset walk by the river. "
    "Homemade sourdough for beginners at the weekend. A slow morning routine with coffee and plants.\n"
    "这款降噪耳机续航四十小时，通勤路上安静又舒服。小户型客厅改造，一千元搞定温馨角落。西湖边的小咖啡馆手冲桂花拿铁。"
    "复古胶片相机拍出电影感第一卷。新手也能做的酸面包，周末在家烘焙。防晒霜清爽不油腻。好物分享，真实测评，值得入手。")
TINY_SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
#: Qwen's chat template, reduced to what the title prompt uses.
TINY_CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
                      "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def build_tiny_chat_tokenizer(vocab_size: int = 600):
    """A tiny Qwen2 tokenizer built offline: byte-level BPE (any text, Chinese included, round-trips) with
    ``vocab_size`` entries learned from :data:`TINY_CORPUS`, Qwen's pre-tokenizer, the special tokens
    ``<|endoftext|>`` (padding), ``<|im_start|>``, ``<|im_end|>`` (EOS) and a Qwen-style chat template.

    It is a ``Qwen2Tokenizer`` because ``AutoTokenizer`` rebuilds any tokenizer saved beside a Qwen2 config as one.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    bpe = Tokenizer(models.BPE())
    bpe.normalizer = normalizers.NFC()
    bpe.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(TINY_SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator(TINY_CORPUS.splitlines(), trainer)
    merges = [tuple(m) for m in json.loads(bpe.to_str())["model"]["merges"]]
    tok = Qwen2Tokenizer(vocab=bpe.get_vocab(), merges=merges, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                         unk_token=None)
    tok.add_tokens([AddedToken(t, special=True) for t in TINY_SPECIAL_TOKENS])
    tok.chat_template = TINY_CHAT_TEMPLATE
    return tok


def _tiny_causal(config_cls, model_cls, tok, folder: Path, **extra) -> str:
    import torch

    torch.manual_seed(0)
    ids = dict(pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
               bos_token_id=tok.convert_tokens_to_ids("<|im_start|>"))
    cfg = config_cls(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                     num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=512, **ids, **extra)
    model = model_cls(cfg)
    for name, value in ids.items():
        setattr(model.generation_config, name, value)
    return _save(model, tok, folder)


@pytest.fixture(scope="session")
def tiny_chat_tokenizer():
    return build_tiny_chat_tokenizer()


@pytest.fixture(scope="session")
def tiny_causal_dir(tmp_path_factory, tiny_chat_tokenizer) -> str:
    """A tiny random Qwen2 causal LM (hidden 32, 2 layers, 2 heads, 1 KV head) with the tiny chat tokenizer."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    return _tiny_causal(Qwen2Config, Qwen2ForCausalLM, tiny_chat_tokenizer, tmp_path_factory.mktemp("tiny_qwen2"))


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory, tiny_chat_tokenizer) -> str:
    """A tiny random Llama causal LM, the second decoder-only architecture, with the same tokenizer."""
    from transformers import LlamaConfig, LlamaForCausalLM

    return _tiny_causal(LlamaConfig, LlamaForCausalLM, tiny_chat_tokenizer, tmp_path_factory.mktemp("tiny_llama"))


@pytest.fixture(params=["tiny_causal_dir", "tiny_llama_dir"])
def any_causal_dir(request) -> str:
    return request.getfixturevalue(request.param)


@pytest.fixture(params=["tiny_t5_dir", "tiny_causal_dir"])
def seq2seq_or_causal_dir(request) -> str:
    """One tiny model of each kind: seq2seq (T5) and decoder-only (Qwen2)."""
    return request.getfixturevalue(request.param)
