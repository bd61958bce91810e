"""``load_generator``: the one way to get a ready :class:`~titlegen.generator.TitleGenerator`."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from titlegen.casing import load_lexicon
from titlegen.errors import ConfigError, ModelLoadError
from titlegen.weights import QWEN_BASE

if TYPE_CHECKING:
    from titlegen.generator import TitleGenerator

LEXICON_FILE = "truecase.json"
#: The embedded default: Qwen2.5-Coder-0.5B-Instruct from the weight packages plus the shipped LoRA adapter.
DEFAULT = "default"
DEFAULT_ADAPTER_DIR = Path(__file__).parent / "default_adapter"
PRECISIONS = ("fp32", "bf16", "int8")
#: Inference precision of the embedded default (measured in ``bench/title_speed.py``; see docs/titlegen).
DEFAULT_PRECISION = "bf16"


def load_generator(base: str = DEFAULT, *, adapter: str | Path | None = None, merge: bool = True,
                   click_model=None, num_threads: int | None = None, precision: str | None = None
                   ) -> TitleGenerator:
    """Load a title generator.

    Args:
        base: ``"default"`` (the embedded, offline default: Qwen2.5-Coder-0.5B-Instruct with the project's LoRA adapter,
            Chinese and English), ``"qwen2.5-0.5b"`` (the same base without the adapter), a local model directory
            of any seq2seq or causal LM, or a hub id (only where the hub is reachable). ``"minilm-title-decoder"``
            is the former English-only default, kept for comparison.
        adapter: a LoRA adapter folder written by ``python -m titlegen train`` (``"default"``: the shipped one).
        merge: merge the adapter into the base weights (faster inference, same outputs).
        click_model: a click model to rank candidates by predicted click-through: ``"default"`` (the shipped
            one: English click-through and Chinese relative engagement heads), a folder saved by
            ``ClickModel.save``, or an object with the ``TitleGenerator`` protocol.
        num_threads: torch CPU threads; ``None`` keeps torch's default.
        precision: inference precision of a causal model: ``"bf16"`` (the embedded default's), ``"int8"``
            (dynamic int8 linear layers: faster, but loses ROUGE) or ``"fp32"``; default :data:`DEFAULT_PRECISION`
            for the embedded default, ``"fp32"`` otherwise.

    Raises:
        ModelLoadError: the base or the adapter cannot be loaded; the message says what was tried.
        ConfigError: ``precision`` is not one of :data:`PRECISIONS`.
    """
    if precision is not None and precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    # torch and transformers load here, not on import: a Ray driver, the CLI's argument checks and the batch
    # planner read this module's names without paying for them (measured: about 6 s on 2 cores).
    from titlegen.generator import TitleGenerator
    from titlegen.model import DEFAULT_BASE, DEFAULT_MODEL_DIR, ModelSpec, is_causal, load_model
    if num_threads:
        import torch

        torch.set_num_threads(num_threads)
    embedded = base == DEFAULT
    if embedded:
        base = QWEN_BASE
        adapter = adapter or DEFAULT_ADAPTER_DIR
        if not (Path(adapter) / "adapter_model.safetensors").is_file():
            raise ModelLoadError(f"the embedded default's LoRA adapter is missing from {adapter}; reinstall the "
                                 "package, or retrain it with `python -m titlegen.train_default --help`")
    elif adapter == DEFAULT:
        adapter = DEFAULT_ADAPTER_DIR
    precision = precision or (DEFAULT_PRECISION if base == QWEN_BASE else "fp32")
    model, tokenizer = load_model(ModelSpec(base=base, adapter=str(adapter) if adapter else None, merge=merge))
    if is_causal(model):
        model = _with_precision(model, precision)
    if isinstance(click_model, (str, Path)):
        from titlegen.ctr import DEFAULT_CTR_DIR, load_click_model

        click_model = load_click_model(DEFAULT_CTR_DIR if str(click_model) == "default" else click_model)
    lexicon = load_lexicon(DEFAULT_MODEL_DIR / LEXICON_FILE) if base == DEFAULT_BASE else {}
    max_source = _prompt_budget(adapter) if is_causal(model) else 128
    return TitleGenerator(model, tokenizer, lexicon=lexicon, click_model=click_model, max_source_tokens=max_source)


def _with_precision(model, precision: str):
    """``model`` (fp32, adapter merged) in the asked precision; int8 quantizes its linear layers dynamically."""
    import torch

    if precision == "bf16":
        return model.to(torch.bfloat16)
    if precision == "int8":
        from torch.ao.quantization import quantize_dynamic

        with warnings.catch_warnings():  # torch's notice that its quantized tensor types will move, not news here
            warnings.simplefilter("ignore")
            return quantize_dynamic(model.float(), {torch.nn.Linear}, dtype=torch.qint8)
    return model.float()


def _prompt_budget(adapter) -> int:
    """Prompt tokens a causal model is given: what its adapter was trained with (so a long brief is cut the same
    way at training and inference), else 160."""
    config = Path(adapter) / "titlegen_train_config.json" if adapter else None
    if config is not None and config.is_file():
        import json

        return int(json.loads(config.read_text(encoding="utf-8")).get("max_source_tokens", 160))
    return 160
