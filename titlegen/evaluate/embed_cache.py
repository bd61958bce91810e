"""A disk memo of sentence embeddings for the evaluations, so reruns and the three click evaluations (Upworthy,
Bilibili, HanCD) encode each text once per encoder.

The memo lives outside the repository (it holds text of research-only data sets): ``~/.cache/titlegen/embeddings``
or ``$TITLEGEN_EMBED_CACHE``, one ``<encoder name>.npz`` per encoder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np


def cache_dir() -> Path:
    return Path(os.environ.get("TITLEGEN_EMBED_CACHE", Path.home() / ".cache" / "titlegen" / "embeddings"))


def encoder_name(embedder) -> str:
    """The encoder's ``name`` (a class name where it has none), safe as a file name."""
    return re.sub(r"[^\w.-]+", "_", str(getattr(embedder, "name", type(embedder).__name__)))


class CachedEmbedder:
    """Wraps an embedder (``encode(texts) -> (n, d)`` unit rows) with a memo persisted by :meth:`save`.

    Args:
        embedder: the encoder to wrap; its ``name`` keys the cache file.
        folder: where the cache file lives (default :func:`cache_dir`).
        chunk: texts encoded between two saves.
    """

    def __init__(self, embedder, *, folder: Path | None = None, chunk: int = 2000) -> None:
        self.inner = embedder
        self.chunk = chunk
        self.name = getattr(embedder, "name", type(embedder).__name__)
        self.path = (folder or cache_dir()) / f"{encoder_name(embedder)}.npz"
        self._memo: dict[str, np.ndarray] = {}
        self._dirty = False
        if self.path.is_file():
            with np.load(self.path, allow_pickle=False) as z:
                texts = z["texts"]
                # Texts are stored as one NUL-separated UTF-8 blob (a fixed-width string array would take the
                # longest lede's width for every title).
                keys = texts.tolist() if texts.dtype.kind == "U" else bytes(texts).decode("utf-8").split("\0")
                self._memo = dict(zip(keys, z["vectors"]))

    @property
    def dim(self) -> int:
        return int(getattr(self.inner, "dim", 0) or next(iter(self._memo.values())).shape[0])

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embeddings ``[shape=(len(texts), dim), float32]`` from the memo, encoding only unseen texts."""
        texts = [str(t) for t in texts]
        new = [t for t in dict.fromkeys(texts) if t not in self._memo]
        for start in range(0, len(new), self.chunk):  # saved chunk by chunk, so a stopped run keeps its work
            part = new[start:start + self.chunk]
            self._memo.update(zip(part, np.asarray(self.inner.encode(part), np.float32)))
            self._dirty = True
            self.save()
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._memo[t] for t in texts])

    def save(self) -> None:
        """Write the memo (atomically) when it has grown."""
        if not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        texts = list(self._memo)
        tmp = self.path.with_suffix(".tmp.npz")
        blob = np.frombuffer("\0".join(t.replace("\0", " ") for t in texts).encode("utf-8"), dtype=np.uint8)
        np.savez(tmp, texts=blob, vectors=np.stack([self._memo[t] for t in texts]))
        os.replace(tmp, self.path)
        self._dirty = False
