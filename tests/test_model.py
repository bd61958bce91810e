import json

import pytest
import torch

from titlegen import ConfigError, ModelLoadError, TitleGenerator
from titlegen.model import LoraSettings, attach_lora, load_adapter, load_base, load_default_model


def test_missing_base_names_what_was_tried(tmp_path):
    with pytest.raises(ModelLoadError, match="no-such-model"):
        load_base(str(tmp_path / "no-such-model"))


def test_lora_r_zero_is_a_config_error():
    with pytest.raises(ConfigError, match="lora.r"):
        LoraSettings(r=0)
    with pytest.raises(ConfigError, match="dropout"):
        LoraSettings(dropout=1.5)


def test_adapter_round_trip_and_merge_costs_nothing(tiny_t5_dir, tmp_path, tokenizer):
    model, tok = load_base(tiny_t5_dir)
    peft_model = attach_lora(model, LoraSettings(r=4, alpha=8, target_modules=("q", "v")))
    with torch.no_grad():  # make the adapter non-trivial so merging has something to merge
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    peft_model.save_pretrained(tmp_path / "adapter")
    enc = tok(["a brief about bikes"], return_tensors="pt")
    dec = torch.tensor([[tok.pad_token_id, 2000, 2001]])
    fresh, _ = load_base(tiny_t5_dir)
    unmerged = load_adapter(fresh, tmp_path / "adapter", merge=False)
    fresh2, _ = load_base(tiny_t5_dir)
    merged = load_adapter(fresh2, tmp_path / "adapter", merge=True)
    with torch.no_grad():
        a = unmerged(**enc, decoder_input_ids=dec).logits
        b = merged(**enc, decoder_input_ids=dec).logits
        base_out = load_base(tiny_t5_dir)[0](**enc, decoder_input_ids=dec).logits
    assert torch.allclose(a, b, atol=1e-4)
    assert not torch.allclose(a, base_out, atol=1e-4)
    assert not any("lora" in n for n, _ in merged.named_parameters())
    out = TitleGenerator(merged, tok, max_title_tokens=6)(["a brief"], num_beams=2, num_samples=0)
    assert out[0]


def test_missing_adapter_dir(tiny_t5_dir, tmp_path):
    model, _ = load_base(tiny_t5_dir)
    with pytest.raises(ModelLoadError, match="adapter_config.json"):
        load_adapter(model, tmp_path / "nothing-here")


def test_corrupt_adapter_is_a_typed_error(tiny_t5_dir, tmp_path):
    model, _ = load_base(tiny_t5_dir)
    attach_lora(model, LoraSettings(r=2, target_modules=("q",))).save_pretrained(tmp_path / "ad")
    (tmp_path / "ad" / "adapter_model.safetensors").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(ModelLoadError, match="cannot load the LoRA adapter"):
        load_adapter(load_base(tiny_t5_dir)[0], tmp_path / "ad")


def test_default_model_missing_files_is_a_typed_error(tmp_path):
    with pytest.raises(ModelLoadError, match="retrain"):
        load_default_model(tmp_path)


def test_default_model_wrong_weights_is_a_typed_error(tmp_path):
    (tmp_path / "decoder_config.json").write_text(json.dumps({"decoder_layers": 2}))
    (tmp_path / "decoder.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ModelLoadError, match="cannot read"):
        load_default_model(tmp_path)
