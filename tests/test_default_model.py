"""The shipped default model: it loads offline from the repository and the MiniLM package and writes titles."""

import re

import pytest

import titlegen
from titlegen.batch import _controls_of, read_briefs
from titlegen.generator import TitleRequest
from titlegen.loading import load_generator
from titlegen.model import DEFAULT_MODEL_DIR


@pytest.fixture(scope="module")
def default_generator():
    return load_generator()


def test_weights_ship_small():
    size = (DEFAULT_MODEL_DIR / "decoder.safetensors").stat().st_size
    assert size < 25 * 2**20


def test_default_writes_readable_titles_within_limits(default_generator):
    df = read_briefs(DEFAULT_MODEL_DIR.parent / "examples" / "briefs.csv")
    requests = [TitleRequest(str(r["brief"]), _controls_of(r, titlegen.Controls())) for _, r in df.iterrows()]
    for req, cands in zip(requests, default_generator(requests, num_titles=4)):
        assert cands
        for c in cands:
            assert 0 < len(c.text) <= req.controls.limit
            assert "[UNK]" not in c.text and "##" not in c.text
            assert not re.search(r"\w ' \w|\s[,.!?]", c.text), c.text  # detokenized
        assert any(c.source != "lead" for c in cands)


def test_lora_tuning_the_default_end_to_end(tmp_path):
    import json

    from titlegen.model import load_adapter, load_default_model
    from titlegen.train import TrainConfig, train

    rows = [{"brief": f"Our linen tote number {i} fits a laptop", "title": f"Linen Tote {i} For Laptops",
             "style": "selling-point"} for i in range(12)]
    data = tmp_path / "pairs.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    cfg = TrainConfig(train_file=str(data), output_dir=str(tmp_path / "lora"), lora={"r": 4, "alpha": 8},
                      max_steps=2, batch_size=4, log_every=1, val_fraction=0.2)
    assert train(cfg)["steps"] == 2
    assert json.loads((tmp_path / "lora" / "adapter_config.json").read_text())["target_modules"]
    model, tok = load_default_model()
    merged = load_adapter(model, tmp_path / "lora", merge=True)
    gen = titlegen.TitleGenerator(merged, tok, max_title_tokens=12)
    assert gen(["A linen tote for a 15-inch laptop"], num_beams=2, num_samples=0)[0]


def test_default_ships_a_merged_encoder_lora():
    """The shipped encoder LoRA is merged at load: the encoder differs from the packaged MiniLM, no LoRA layers."""
    import torch

    from titlegen.model import build_minilm_encoder_decoder, load_default_model

    total = sum(p.stat().st_size for p in DEFAULT_MODEL_DIR.glob("*.safetensors"))
    assert total < 25 * 2**20
    model, _ = load_default_model()
    bare, _ = build_minilm_encoder_decoder()
    assert not any("lora" in name for name, _ in model.named_modules())
    query = "encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(model.encoder.state_dict()[query], bare.encoder.state_dict()[query])


def test_missing_encoder_lora_is_a_typed_error(tmp_path):
    import shutil

    from titlegen.errors import ModelLoadError
    from titlegen.model import load_default_model

    for name in ("decoder.safetensors", "decoder_config.json"):
        shutil.copy(DEFAULT_MODEL_DIR / name, tmp_path / name)
    with pytest.raises(ModelLoadError, match="encoder LoRA"):
        load_default_model(tmp_path)
    (tmp_path / "encoder_lora.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ModelLoadError, match="encoder LoRA"):
        load_default_model(tmp_path)
