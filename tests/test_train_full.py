"""The end-to-end recipe of the default (encoder LoRA + decoder): a two-step run saves weights that load."""

import gzip
import json

import pytest

from titlegen.errors import InputFileError
from titlegen.model import load_default_model
from titlegen.train_full import FullRecipe, train


def _write(path, rows):
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)


def test_two_steps_save_a_loadable_default(tmp_path):
    prepared = tmp_path / "data"
    prepared.mkdir()
    pairs = [{"src": f"style: news | brief: the council opens bike lane {i}", "title": f"Bike lane {i} opens",
              "dataset": "t"} for i in range(8)]
    _write(prepared / "train.jsonl.gz", pairs)
    _write(prepared / "val.jsonl.gz", pairs[:2])
    _write(prepared / "titles.jsonl.gz", [{"title": f"Headline number {i}"} for i in range(4)])
    recipe = FullRecipe(max_steps=2, pair_batch=4, title_batch=2, eval_every=1, encoder_r=2, warmup_steps=1)
    result = train(recipe, prepared=prepared, out_dir=tmp_path / "out", device="cpu")
    assert result["steps"] == 2 and len(result["log"]) == 2
    meta = json.loads((tmp_path / "out" / "decoder_config.json").read_text())
    assert meta["encoder_lora"] == {"r": 2, "alpha": 4}
    model, _ = load_default_model(tmp_path / "out")
    assert not any("lora" in name for name, _ in model.named_modules())


def test_missing_prepared_files_name_the_command(tmp_path):
    with pytest.raises(InputFileError, match="train_full prepare"):
        train(FullRecipe(max_steps=1), prepared=tmp_path, out_dir=tmp_path / "out", device="cpu")
