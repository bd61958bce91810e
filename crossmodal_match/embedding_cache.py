"""Memoised embeddings: an in-memory LRU by text, and an on-disk cache by content hash (sha256).

Encoders use them so that a brief, a copy line or a keyframe seen again is not re-encoded. Pure numpy and the
standard library.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path

import numpy as np

from crossmodal_match.errors import ConfigError

logger = logging.getLogger(__name__)


class LruMemo:
    """Embeddings of recently seen keys, least recently used evicted first.

    Args:
        max_entries: how many keys are kept (0 keeps none).

    Raises:
        ConfigError: ``max_entries`` < 0.
    """

    def __init__(self, *, max_entries: int) -> None:
        if max_entries < 0:
            raise ConfigError(f"max_entries must be >= 0, got {max_entries!r}")
        self.max_entries = max_entries
        self._store: OrderedDict[Hashable, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self._store)

    def lookup(self, keys: list[Hashable], compute: Callable[[list], np.ndarray], *, dim: int) -> np.ndarray:
        """Rows for ``keys``, calling ``compute`` once on the distinct keys not memoised.

        Args:
            keys: hashable keys (texts), duplicates allowed.
            compute: maps a list of keys to np.ndarray [shape=(len(list), dim)].
            dim: row size, for the empty result.

        Returns:
            np.ndarray [shape=(len(keys), dim)], row i for ``keys[i]``.
        """
        found = {k: self._store[k] for k in keys if k in self._store}
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        if missing:
            found.update(zip(missing, compute(missing)))
        for k in dict.fromkeys(keys):  # refresh recency, then evict beyond the limit
            self._store[k] = found[k]
            self._store.move_to_end(k)
        while len(self._store) > self.max_entries:
            self._store.popitem(last=False)
        return np.stack([found[k] for k in keys]).astype(np.float32) if keys else np.zeros((0, dim), np.float32)


def check_texts(texts: list[str]) -> list[str]:
    """``texts`` as a list, checked before it reaches an encoder's memo.

    Raises:
        ConfigError: a bare string (it would be encoded character by character) or an item that is not a str.
    """
    if isinstance(texts, str):
        raise ConfigError("encode_texts takes a list of strings, got a single str; wrap it in a list")
    texts = list(texts)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise ConfigError(f"encode_texts: items {bad[:5]} are not str (first is {type(texts[bad[0]]).__name__})")
    return texts


def text_key(text: str) -> str:
    """sha256 (hex) of a text's UTF-8 bytes: the disk-cache key of its embedding."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def image_key(image: np.ndarray) -> str:
    """sha256 (hex) of an image's shape, dtype and pixels: equal pictures share a key wherever they came from."""
    digest = hashlib.sha256(f"{image.shape}|{image.dtype}".encode())
    digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()


class EmbeddingCache:
    """Embeddings on disk, one ``<sha256>.npy`` per content hash, in a folder per encoder name.

    Args:
        directory: cache root; created on first write.
        encoder_name: the encoder's ``name``, so that different models or weights never share entries.
    """

    def __init__(self, directory: str | os.PathLike, *, encoder_name: str) -> None:
        slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in encoder_name)
        self.folder = Path(directory) / slug

    def get(self, key: str) -> np.ndarray | None:
        """The cached vector [shape=(d,), float32], or None when absent or unreadable."""
        path = self.folder / f"{key}.npy"
        if not path.is_file():
            return None
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:  # a damaged entry is recomputed, not fatal
            logger.warning("ignoring unreadable cached embedding %s: %s", path, exc)
            return None

    def put(self, key: str, vector: np.ndarray) -> None:
        """Store a vector atomically; a cache that cannot be written only costs time, so errors are logged."""
        tmp = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{key}.", suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                np.save(f, np.asarray(vector, dtype=np.float32))
            os.replace(tmp, self.folder / f"{key}.npy")  # readers see no entry or a whole one
        except OSError as exc:
            logger.warning("cannot write the embedding cache %s: %s", self.folder, exc)
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)

    def lookup(self, keys: list[str], compute: Callable[[list[int]], np.ndarray], *, dim: int) -> np.ndarray:
        """Rows for ``keys`` from disk, calling ``compute`` on the positions of the keys not cached.

        Args:
            keys: content hashes, one per item.
            compute: maps positions into ``keys`` to np.ndarray [shape=(len(positions), dim)].
            dim: row size.

        Returns:
            np.ndarray [shape=(len(keys), dim), float32].
        """
        out = np.zeros((len(keys), dim), np.float32)
        todo = []
        for i, key in enumerate(keys):
            hit = self.get(key)
            if hit is not None and hit.shape == (dim,):
                out[i] = hit
            else:
                todo.append(i)
        if todo:
            vecs = compute(todo)
            for i, vec in zip(todo, vecs):
                out[i] = vec
                self.put(keys[i], vec)
        return out
