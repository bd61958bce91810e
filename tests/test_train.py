import json

import pytest

from titlegen import ConfigError, TitleGenerator
from titlegen.model import load_adapter, load_base
from titlegen.train import TrainConfig, train


def _data(tmp_path):
    rows = [{"brief": f"story {i} about a {w} in the park", "title": f"The {w} in the park", "group": f"g{i % 7}",
             "style": "news"} for i, w in enumerate(["dog", "cat", "bike", "tree", "kite", "duck"] * 4)]
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_train_checkpoints_resumes_and_saves_a_loadable_adapter(tiny_t5_dir, tmp_path):
    cfg = TrainConfig(train_file=str(_data(tmp_path)), output_dir=str(tmp_path / "out"), base=tiny_t5_dir,
                      lora={"r": 4, "alpha": 8, "target_modules": ["q", "v"]}, max_steps=4, batch_size=4,
                      checkpoint_every=2, log_every=1, val_fraction=0.3)
    metrics = train(cfg)
    assert metrics["steps"] == 4 and len(metrics["losses"]) == 4 and metrics["val_pairs"] > 0
    out = tmp_path / "out"
    assert (out / "adapter_config.json").is_file() and (out / "checkpoint" / "trainer_state.pt").is_file()
    saved = json.loads((out / "titlegen_train_config.json").read_text())
    assert saved["format_version"] == 1 and saved["lora"]["r"] == 4
    # a longer run resumes from the step-2 checkpoint instead of starting again
    resumed = train(TrainConfig(**{**cfg.__dict__, "max_steps": 6}))
    assert [entry["step"] for entry in resumed["losses"]] == [1, 2, 3, 4, 5, 6][:2] + [3, 4, 5, 6]
    model, tok = load_base(tiny_t5_dir)
    gen = TitleGenerator(load_adapter(model, out, merge=True), tok, max_title_tokens=5)
    assert gen(["a dog in the park"], num_beams=2, num_samples=0)[0]


def test_config_errors_name_the_field(tmp_path):
    bad = tmp_path / "cfg.json"
    bad.write_text(json.dumps({"train_file": "x", "output_dir": "y", "lora": {"r": 0}}))
    with pytest.raises(ConfigError, match="lora.r"):
        TrainConfig.from_json(bad)
    bad.write_text(json.dumps({"train_file": "x", "output_dir": "y", "epochz": 3}))
    with pytest.raises(ConfigError, match="epochz"):
        TrainConfig.from_json(bad)
    with pytest.raises(ConfigError, match="batch_size"):
        TrainConfig(train_file="x", output_dir="y", batch_size=0)
