"""Shared fixtures: tiny randomly initialised seq2seq models built offline, and an error-log guard."""

from __future__ import annotations

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
