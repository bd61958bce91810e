"""The matcher's plain data: its config (:class:`MatcherConfig`), one ranked candidate (:class:`RankedCandidate`)
and one match's result (:class:`MatchResult`). Kept apart from ``matcher.py`` (the ranking) so each stays small;
``crossmodal_match.matcher`` re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crossmodal_match.errors import ConfigError

KINDS = ("music", "copy", "template")
#: Text encoders ``MatcherConfig.text_encoder`` can name; the default is the one that measured best on copy
#: retrieval in Chinese and English (docs/crossmodal_match/copy_multilingual.md).
TEXT_ENCODERS = ("e5", "minilm")
DEFAULT_TEXT_ENCODER = "e5"
@dataclass(frozen=True)
class MatcherConfig:
    """Where the matcher's catalogues, caches, feedback and models live.

    Attributes:
        music_dir: folder of audio files (with optional sidecars, see ``catalog.MusicLibrary``); None: no music.
        copy_file: CSV/JSONL copy library; None: the bundled example lines.
        cache_dir: music-analysis cache (keyed by file hash) and, under ``text_embeddings/``, the multilingual
            encoder's text embeddings (keyed by text); None: no cache.
        feedback_path: SQLite feedback store; None: nothing is recorded and popularity is neutral.
        models_dir: fusion models, one sub-folder per kind (``retrain`` writes them); None: zero-shot weights.
        clip_model, clip_checkpoint: an open_clip model name and local weights for visual semantics; without a
            checkpoint the visual side is descriptors only (said in ``MatchResult.notes``).
        top_k: candidates returned per kind (> 0).
        draft_max_s: longest draft the music must cover, seconds (> 0).
        text_encoder: ``"e5"`` (multilingual-e5-small) or ``"minilm"``
            (all-MiniLM-L6-v2, English only), used when ``create_matcher`` is given no encoder.
        lexical_weight: weight of lexical overlap against the embedding cosine for copy and templates, in
            [0, 1]; None: the weight measured for the loaded encoder (``lexical.LEXICAL_WEIGHTS``).
        compose: also rank soundtracks composed for the draft (``crossmodal_match.compose``), one per style,
            beside the library's tracks; without a music folder they are the only music.
        compose_seed: the seed of the composed candidates (another seed, another take of each style).
        style_words: rank the composed styles against each other by the brief's words as templates are (dense
            cosine fused with lexical overlap over their bilingual descriptions and tags, z-scored among them),
            re-centred on their cosines' mean so they stay comparable with library tracks; False: the cosine
            alone, as for library tracks (measured in ``bench/compose_ranking.py``).
    """

    music_dir: str | None = None
    copy_file: str | None = None
    cache_dir: str | None = None
    feedback_path: str | None = None
    models_dir: str | None = None
    clip_model: str = "ViT-B-32"
    clip_checkpoint: str | None = None
    top_k: int = 10
    draft_max_s: float = 60.0
    text_encoder: str = DEFAULT_TEXT_ENCODER
    lexical_weight: float | None = None
    compose: bool = True
    compose_seed: int = 0
    style_words: bool = True

    def __post_init__(self) -> None:
        if self.text_encoder not in TEXT_ENCODERS:
            raise ConfigError(f"text_encoder must be one of {list(TEXT_ENCODERS)}, got {self.text_encoder!r}")
        if self.lexical_weight is not None and not (isinstance(self.lexical_weight, (int, float))
                                                    and 0.0 <= self.lexical_weight <= 1.0):
            raise ConfigError(f"lexical_weight must be None or in [0, 1], got {self.lexical_weight!r}")
        if not isinstance(self.compose_seed, int) or self.compose_seed < 0:
            raise ConfigError(f"compose_seed must be an integer >= 0, got {self.compose_seed!r}")
        if not isinstance(self.top_k, int) or self.top_k <= 0:
            raise ConfigError(f"top_k must be a positive integer, got {self.top_k!r}")
        if not (isinstance(self.draft_max_s, (int, float)) and self.draft_max_s > 0):
            raise ConfigError(f"draft_max_s must be positive seconds, got {self.draft_max_s!r}")
        if self.music_dir is not None and not Path(self.music_dir).is_dir():
            raise ConfigError(f"music_dir {self.music_dir!r} is not a folder; point it at a folder of audio files")


@dataclass(frozen=True)
class RankedCandidate:
    """One ranked candidate with why it ranks there.

    Attributes:
        kind: ``"music"``, ``"copy"`` or ``"template"``.
        id: its catalogue id (track path relative to the music folder, copy id, template name).
        title: display text.
        rank: 1 = best.
        score: fused score (weights . features).
        breakdown: the features, weights and facts behind the score (``scoring.ScoreBreakdown``).
        reason: one line a creator can read ("fits the pace (120 bpm for a cut every 2 beats), ...").
        item: the catalogue object (MusicTrack, CopyLine or TemplateCard).
        moment_s: for music, the (start, end) seconds of the track's strongest part for the draft's length.
        origin: ``"library"``, or ``"composed"`` for a soundtrack composed for this draft.
    """

    kind: str
    id: str
    title: str
    rank: int
    score: float
    breakdown: Any
    reason: str
    item: Any
    moment_s: tuple[float, float] | None = None
    origin: str = "library"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no catalogue object)."""
        return {"kind": self.kind, "id": self.id, "title": self.title, "rank": self.rank, "origin": self.origin,
                "score": round(self.score, 4), "features": {k: round(v, 4) for k, v in self.breakdown.features.items()},
                "reason": self.reason, "moment_s": list(self.moment_s) if self.moment_s else None}


@dataclass(frozen=True)
class MatchResult:
    """Ranked candidates of each kind for one footage + brief, notes on what was (not) used, and the text
    encoder that read the brief (``encoder``: its ``name``, e.g. "multilingual-e5-small-q4")."""

    brief: str
    music: tuple[RankedCandidate, ...]
    copy: tuple[RankedCandidate, ...]
    templates: tuple[RankedCandidate, ...]
    notes: tuple[str, ...] = ()
    query: dict[str, Any] = field(default_factory=dict)
    encoder: str = ""

    def ranked(self, kind: str) -> tuple[RankedCandidate, ...]:
        """The candidates of one kind, best first."""
        return {"music": self.music, "copy": self.copy, "template": self.templates}[check_kind(kind)]

    def to_dict(self) -> dict[str, Any]:
        return {"brief": self.brief, "notes": list(self.notes), "query": self.query, "encoder": self.encoder,
                **{k: [c.to_dict() for c in self.ranked(k)] for k in KINDS}}


def check_kind(kind: str) -> str:
    """``kind`` when it is one of :data:`KINDS`; ConfigError naming them otherwise."""
    if kind not in KINDS:
        raise ConfigError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    return kind
