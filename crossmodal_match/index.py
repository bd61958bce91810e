"""Catalogues as arrays: what the matcher scores in one vectorised pass.

Each index holds, for every candidate of one kind, the measures its features are computed from (text
embedding, feel vector, tempo, length, use count), so a match against 10,000 tracks is a handful of numpy
operations; the catalogue objects themselves stay plain data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from crossmodal_match.feel import FEEL_DIMS, music_feel

# Copy lines and templates carry no measured feel; words in their tags stand in for energy and mood.
_TAG_ENERGY = {"energetic": 0.85, "hype": 0.9, "party": 0.85, "fitness": 0.8, "sport": 0.8, "dance": 0.85,
               "calm": 0.2, "cozy": 0.25, "chill": 0.3, "study": 0.25, "relax": 0.2, "slow": 0.2}
_TAG_MOOD = {"happy": 0.8, "fun": 0.8, "sunny": 0.8, "travel": 0.7, "food": 0.65, "pets": 0.75,
             "sad": 0.2, "moody": 0.3, "dark": 0.2, "calm": 0.55}


def tag_feel(tags: Sequence[str], *, energy: float | None = None, pace: float | None = None) -> np.ndarray:
    """A feel vector ``[shape=(5,), float32]`` from tags (and a card's own energy/pace), 0.5 where unknown."""
    low = [t.lower() for t in tags]
    e = [(_TAG_ENERGY[t]) for t in low if t in _TAG_ENERGY]
    m = [(_TAG_MOOD[t]) for t in low if t in _TAG_MOOD]
    feel = np.full(len(FEEL_DIMS), 0.5, dtype=np.float32)
    feel[FEEL_DIMS.index("energy")] = energy if energy is not None else (float(np.mean(e)) if e else 0.5)
    feel[FEEL_DIMS.index("pace")] = pace if pace is not None else feel[FEEL_DIMS.index("energy")]
    feel[FEEL_DIMS.index("mood")] = float(np.mean(m)) if m else 0.5
    return feel


@dataclass
class CandidateIndex:
    """Everything the features of one kind of candidate need, row-aligned.

    Attributes:
        kind: ``"music"``, ``"copy"`` or ``"template"``.
        ids: candidate ids, length n.
        titles: display text, length n.
        items: the catalogue objects (MusicTrack, CopyLine, TemplateCard), length n.
        text_emb: np.ndarray [shape=(n, d), float32], L2-normalised text embeddings.
        feel: np.ndarray [shape=(n, 5), float32] in [0, 1] (``FEEL_DIMS``).
        bpm: np.ndarray [shape=(n,)]: tempo (music), NaN where none.
        length_s: np.ndarray [shape=(n,)]: track length in seconds, NaN where not a track.
        arousal: np.ndarray [shape=(n,)] in [0, 1].
        uses: np.ndarray [shape=(n,)]: times kept or used (feedback and co-usage), >= 0.
        extra: per-row dicts of facts for explanations (e.g. the analysis of a track).
    """

    kind: str
    ids: list[str]
    titles: list[str]
    items: list[Any]
    text_emb: np.ndarray
    feel: np.ndarray
    bpm: np.ndarray
    length_s: np.ndarray
    arousal: np.ndarray
    uses: np.ndarray
    extra: list[dict[str, Any]]

    def __len__(self) -> int:
        return len(self.ids)

    def concat(self, other: CandidateIndex) -> CandidateIndex:
        """This index followed by ``other`` (same kind and embedding width), as a new index."""
        if not len(self) or not len(other):
            return other if not len(self) else self
        arrays = {name: np.concatenate([getattr(self, name), getattr(other, name)])
                  for name in ("text_emb", "feel", "bpm", "length_s", "arousal", "uses")}
        return CandidateIndex(kind=self.kind, ids=self.ids + other.ids, titles=self.titles + other.titles,
                              items=self.items + other.items, extra=self.extra + other.extra, **arrays)

    def set_uses(self, counts: Mapping[str, int]) -> None:
        """Refresh the use counts from the feedback store (candidate id -> count)."""
        self.uses = np.array([float(counts.get(i, 0)) for i in self.ids])


def _embed(encoder, texts: list[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, getattr(encoder, "dim", 1)), dtype=np.float32)
    return np.asarray(encoder.encode_texts(texts), dtype=np.float32)


def _embed_words(encoder, texts: list[str]) -> np.ndarray:
    """Embeddings of texts; a text without words ("") gets a zero row, whose cosine 0 is a neutral semantic 0.5."""
    dim = getattr(encoder, "dim", None)
    kept = [i for i, t in enumerate(texts) if t]
    emb = _embed(encoder, [texts[i] for i in kept])
    out = np.zeros((len(texts), emb.shape[1] if kept else (dim or 1)), dtype=np.float32)
    out[kept] = emb
    return out


def music_index(tracks: Sequence[Any], analyses: Mapping[str, Any], encoder) -> CandidateIndex:
    """Index of the tracks that have an analysis (``MusicLibrary.analyses``); the others cannot be cut on beats.

    A track's text is ``MusicTrack.text`` (title, genre, mood, tags; "" when none has words). Its mood (valence)
    and arousal are the audio's, averaged half and half with what the mood words of that text imply
    (``mood_lexicon``) when it has any: a creator's "伤感" tag says more about the mood than a spectral estimate.
    """
    from crossmodal_match.mood_lexicon import load_lexicon

    kept = [t for t in tracks if t.id in analyses]
    texts = [t.text if hasattr(t, "text") else " ".join(x for x in (t.title, t.genre, t.mood) if x) for t in kept]
    feel = np.stack([music_feel(analyses[t.id]) for t in kept]) if kept else np.zeros((0, len(FEEL_DIMS)))
    arousal = np.array([analyses[t.id].arousal for t in kept], dtype=np.float64)
    lexicon, words = load_lexicon(), []
    for i, text in enumerate(texts):
        found = lexicon.feel(text)
        words.append(found.words if found else ())
        if found:
            feel[i, FEEL_DIMS.index("mood")] = 0.5 * feel[i, FEEL_DIMS.index("mood")] + 0.5 * found.valence
            arousal[i] = 0.5 * arousal[i] + 0.5 * found.arousal
    return CandidateIndex(
        kind="music", ids=[t.id for t in kept], titles=[t.title for t in kept], items=list(kept),
        text_emb=_embed_words(encoder, texts), feel=feel.astype(np.float32),
        bpm=np.array([analyses[t.id].tempo_bpm or np.nan for t in kept], dtype=np.float64),
        length_s=np.array([analyses[t.id].duration_s for t in kept], dtype=np.float64),
        arousal=arousal, uses=np.zeros(len(kept)),
        extra=[{"analysis": analyses[t.id], "text": text, "mood_words": w} for t, text, w in zip(kept, texts, words)])


def copy_index(lines: Sequence[Any], encoder) -> CandidateIndex:
    """Index of copy lines (``CopyLine``): embedded with their tags, feel from the tags."""
    texts = [line.text + (" (" + ", ".join(line.tags) + ")" if line.tags else "") for line in lines]
    feel = np.stack([tag_feel(line.tags) for line in lines]) if lines else np.zeros((0, len(FEEL_DIMS)))
    n = len(lines)
    return CandidateIndex(kind="copy", ids=[line.id for line in lines], titles=[line.text for line in lines],
                          items=list(lines), text_emb=_embed(encoder, texts), feel=feel.astype(np.float32),
                          bpm=np.full(n, np.nan), length_s=np.full(n, np.nan),
                          arousal=feel[:, FEEL_DIMS.index("energy")].astype(np.float64) if n else np.zeros(0),
                          uses=np.zeros(n), extra=[{} for _ in lines])


def template_index(cards: Sequence[Any], encoder) -> CandidateIndex:
    """Index of template cards (``TemplateCard``): description + tags embedded, feel from energy and pace."""
    texts = [f"{c.name.replace('-', ' ')}: {c.description} " + " ".join(c.tags) for c in cards]
    feel = (np.stack([tag_feel(c.tags, energy=c.energy, pace=c.pace) for c in cards]) if cards
            else np.zeros((0, len(FEEL_DIMS))))
    mid = [((c.tempo_min_bpm or 0) + (c.tempo_max_bpm or 0)) / 2 if c.tempo_min_bpm and c.tempo_max_bpm
           else np.nan for c in cards]
    return CandidateIndex(kind="template", ids=[c.name for c in cards], titles=[c.name for c in cards],
                          items=list(cards), text_emb=_embed(encoder, texts), feel=feel.astype(np.float32),
                          bpm=np.array(mid, dtype=np.float64), length_s=np.full(len(cards), np.nan),
                          arousal=np.array([c.energy for c in cards], dtype=np.float64),
                          uses=np.zeros(len(cards)), extra=[{} for _ in cards])
