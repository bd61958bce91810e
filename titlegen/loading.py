"""``load_generator``: the one way to get a ready :class:`~titlegen.generator.TitleGenerator`."""

from __future__ import annotations

from pathlib import Path

from titlegen.casing import load_lexicon
from titlegen.generator import TitleGenerator
from titlegen.model import DEFAULT_BASE, DEFAULT_MODEL_DIR, ModelSpec, load_model

LEXICON_FILE = "truecase.json"


def load_generator(base: str = DEFAULT_BASE, *, adapter: str | Path | None = None, merge: bool = True,
                   click_model=None, num_threads: int | None = None) -> TitleGenerator:
    """Load a title generator.

    Args:
        base: :data:`~titlegen.model.DEFAULT_BASE` (the embedded, offline default), a local model directory, or
            a hub id (only where the hub is reachable).
        adapter: a LoRA adapter folder written by ``python -m titlegen train``.
        merge: merge the adapter into the base weights (faster inference, same outputs).
        click_model: a click model to rank candidates by predicted click-through: ``"default"`` (the shipped
            one), a folder saved by ``ClickModel.save``, or an object with the ``TitleGenerator`` protocol.
        num_threads: torch CPU threads; ``None`` keeps torch's default.

    Raises:
        ModelLoadError: the base or the adapter cannot be loaded; the message says what was tried.
    """
    if num_threads:
        import torch

        torch.set_num_threads(num_threads)
    model, tokenizer = load_model(ModelSpec(base=base, adapter=str(adapter) if adapter else None, merge=merge))
    if isinstance(click_model, (str, Path)):
        from titlegen.ctr import DEFAULT_CTR_DIR, load_click_model

        click_model = load_click_model(DEFAULT_CTR_DIR if str(click_model) == "default" else click_model)
    lexicon = load_lexicon(DEFAULT_MODEL_DIR / LEXICON_FILE) if base == DEFAULT_BASE else {}
    return TitleGenerator(model, tokenizer, lexicon=lexicon, click_model=click_model)
