"""``create_matcher(config)`` and ``Matcher.match(footage, brief)``: ranked, explained music, copy and templates.

Every candidate gets the same six features (``scoring.FEATURES``): semantic closeness of the brief (and, with
CLIP weights, of the keyframes) to its text, tempo fit of the footage's pace to its beat grid, energy and mood fit
in the shared feel space, duration fit, and popularity from what creators kept. A fusion model per kind weighs
them: zero-shot defaults until ``python -m crossmodal_match retrain`` has learned from the feedback store.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crossmodal_match.errors import ConfigError
from crossmodal_match.feel import FEEL_DIMS, footage_feel
from crossmodal_match.fusion import FusionModel, load_current
from crossmodal_match.index import CandidateIndex, copy_index, music_index, template_index
from crossmodal_match.mood_lexicon import load_lexicon, shared_terms
from crossmodal_match.match_types import (DEFAULT_TEXT_ENCODER, KINDS, TEXT_ENCODERS, MatcherConfig,  # noqa: F401
                                          MatchResult, RankedCandidate, check_kind)
from crossmodal_match.lexical import DEFAULT_LEXICAL_WEIGHT, LEXICAL_WEIGHTS, LexicalIndex, fuse, fused_fit, is_chinese
from crossmodal_match.scoring import (FEATURES, NEUTRAL, breakdowns, duration_fit, energy_fit, mood_fit,
                                      nearest_beats_per_cut, popularity_fit, semantic_fit, tempo_fit)

#: Kinds whose ``semantic`` feature fuses the dense cosine with lexical overlap (``lexical.fuse``); music titles
#: are too short and too often in another language than the brief for words to help.
_LEXICAL_KINDS = ("copy", "template")
_PACE, _ENERGY, _MOOD = (FEEL_DIMS.index(n) for n in ("pace", "energy", "mood"))


@dataclass(frozen=True)
class _Query:
    """What the footage and brief say, in the units the features need."""

    brief: str
    brief_emb: np.ndarray  # (d,)
    chinese: bool | None  # the brief's language (lexical.is_chinese); None: no letters
    feel: np.ndarray  # (5,)
    footage_s: float
    cuts_per_min: float
    visual_emb: np.ndarray | None = None  # (d_clip,) mean keyframe embedding
    has_footage: bool = True  # without footage its feel is unknown: feel features are neutral, not fits to 0.5
    feel_words: tuple[str, ...] = ()  # the brief's mood words (mood_lexicon) that set the feel when no footage


def _footage_query(footage, *, draft_max_s: float) -> tuple[np.ndarray, float, float]:
    """(feel, draft seconds, cuts per minute) of one Footage, a list of them, or None (brief only)."""
    clips = [] if footage is None else (list(footage) if isinstance(footage, (list, tuple)) else [footage])
    if not clips:
        return np.full(len(FEEL_DIMS), NEUTRAL, dtype=np.float32), min(15.0, draft_max_s), math.nan
    lengths = np.array([max(float(f.duration_s), 1e-3) for f in clips])
    feel = (np.stack([footage_feel(f) for f in clips]) * (lengths / lengths.sum())[:, None]).sum(axis=0)
    # The editing pace the footage asks for: the inverse of feel's cut-pace scale (8 s shots at 0, 0.5 s at 1).
    mean_shot_s = 8.0 / 2 ** (4 * float(feel[_PACE]))
    return feel.astype(np.float32), float(min(lengths.sum(), draft_max_s)), 60.0 / mean_shot_s


class Matcher:
    """Ranks music, copy lines and templates for footage and a brief; see :func:`create_matcher`."""

    def __init__(self, config: MatcherConfig, *, text_encoder, music: CandidateIndex | None = None,
                 copy: CandidateIndex | None = None, templates: CandidateIndex | None = None,
                 clip_encoder=None, store=None, skipped: Sequence[tuple[str, str]] = (), composer=None) -> None:
        self.config = config
        #: a ``compose.catalogue.ComposedCatalogue`` proposing composed soundtracks, or None
        self.composer = composer
        self.text_encoder = text_encoder
        #: which text encoder reads briefs and catalogues (shown in results and the studio's Settings)
        self.encoder_name = str(getattr(text_encoder, "name", type(text_encoder).__name__))
        self.lexical_weight = (config.lexical_weight if config.lexical_weight is not None
                               else LEXICAL_WEIGHTS.get(self.encoder_name, DEFAULT_LEXICAL_WEIGHT))
        self._lexical: dict[str, tuple[int, LexicalIndex]] = {}
        self.clip_encoder = clip_encoder
        self.store = store
        self.skipped = list(skipped)
        empty = {k: music_index([], {}, text_encoder) if k == "music" else None for k in KINDS}
        self.indexes: dict[str, CandidateIndex] = {
            "music": music or empty["music"], "copy": copy or copy_index([], text_encoder),
            "template": templates or template_index([], text_encoder)}
        self.fusion = {k: self._load_fusion(k) for k in KINDS}
        self.refresh_popularity()

    def _load_fusion(self, kind: str) -> FusionModel:
        if self.config.models_dir is None:
            return FusionModel.zero_shot()
        return load_current(Path(self.config.models_dir) / kind)

    def reload_models(self) -> None:
        """Pick up fusion models that ``retrain`` (or a rollback) wrote since the matcher was created."""
        self.fusion = {k: self._load_fusion(k) for k in KINDS}

    def refresh_popularity(self) -> None:
        """Use counts per candidate from the feedback store (kept/exported/swapped in) plus co-usage."""
        if self.store is None:
            return
        from crossmodal_match.feedback import POSITIVE_ACTIONS

        events = self.store.events()
        counts: dict[str, int] = {}
        for cid, actions in zip(events.get("candidate_id", []), events.get("actions", [])):
            if any(a in POSITIVE_ACTIONS for a in actions):
                counts[cid] = counts.get(cid, 0) + 1
        for (_, cid), n in self.store.co_usage().items():
            counts[cid] = counts.get(cid, 0) + int(n)
        for index in self.indexes.values():
            index.set_uses(counts)

    def set_templates(self, cards: Sequence[Any]) -> None:
        """Template cards (plain data supplied by ``templates``) to rank from now on."""
        self.indexes["template"] = template_index(list(cards), self.text_encoder)
        self.refresh_popularity()

    def match(self, footage, brief: str, *, keyframes: Sequence[np.ndarray] | None = None,
              top_k: int | None = None) -> MatchResult:
        """Rank every catalogue for this footage and brief.

        Args:
            footage: a ``footage.Footage``, a list of them (one draft from several clips), or None (brief only).
            brief: the creator's one-line description (may be empty when footage is given).
            keyframes: optional frames np.ndarray [shape=(H, W, 3), uint8 RGB] for CLIP visual semantics.
            top_k: candidates per kind (default ``config.top_k``).

        Returns:
            a ``MatchResult``; empty tuples for catalogues that have nothing.

        Raises:
            ConfigError: no footage and an empty brief (nothing to match), or a bad ``top_k``.
        """
        brief = (brief or "").strip()
        if footage is None and not brief:
            raise ConfigError("nothing to match: give footage, a brief, or both")
        k = self.config.top_k if top_k is None else top_k
        if not isinstance(k, int) or k <= 0:
            raise ConfigError(f"top_k must be a positive integer, got {k!r}")
        query, notes = self._query(footage, brief, keyframes)
        music = self._music_for(query)
        ranked = {kind: self._rank(kind, query, k, notes, music if kind == "music" else None) for kind in KINDS}
        if not len(music):
            notes.append("no music ranked: point music_dir at a folder of audio files")
        return MatchResult(brief=brief, music=ranked["music"], copy=ranked["copy"], templates=ranked["template"],
                           notes=tuple(notes), query={"feel": dict(zip(FEEL_DIMS, map(float, query.feel))),
                                                      "footage_s": query.footage_s,
                                                      "cuts_per_min": query.cuts_per_min},
                           encoder=self.encoder_name)

    def _query(self, footage, brief: str, keyframes) -> tuple[_Query, list[str]]:
        feel, footage_s, cuts = _footage_query(footage, draft_max_s=self.config.draft_max_s)
        # an asymmetric encoder (e5) embeds a brief as a query and catalogue lines as passages
        encode = getattr(self.text_encoder, "encode_queries", self.text_encoder.encode_texts)
        brief_emb = (np.asarray(encode([brief]), dtype=np.float32)[0] if brief
                     else np.zeros(self.indexes["copy"].text_emb.shape[1] or 384, dtype=np.float32))
        notes, visual = [], None
        if self.clip_encoder is None:
            notes.append("visual semantics off: no CLIP weights given; footage is matched by its descriptors "
                         "(pace, motion, brightness, colour) and the brief")
        elif keyframes:
            emb = np.asarray(self.clip_encoder.encode_images(list(keyframes)), dtype=np.float32).mean(axis=0)
            visual = emb / max(float(np.linalg.norm(emb)), 1e-9)
        # without footage the brief's mood words (治愈, 伤感, "chill") are the only feel there is
        words = load_lexicon().feel(brief) if footage is None else None
        if words is not None:
            feel = feel.copy()
            feel[_MOOD], feel[_ENERGY] = words.valence, words.energy
        return _Query(brief, brief_emb, is_chinese(brief), feel, footage_s, cuts, visual,
                      has_footage=footage is not None, feel_words=words.words if words else ()), notes

    def _music_for(self, query: _Query) -> CandidateIndex:
        """The library's music index, followed by the soundtracks composed for this query (when composing)."""
        if self.composer is None:
            return self.indexes["music"]
        from crossmodal_match.compose.catalogue import composed_index

        return self.indexes["music"].concat(composed_index(self.composer, query, self.text_encoder))

    def features(self, kind: str, query: _Query, idx: CandidateIndex | None = None) -> np.ndarray:
        """The feature matrix np.ndarray [shape=(n, len(FEATURES))] of every candidate of one kind (of ``idx``
        instead of the catalogue's index when given)."""
        idx = self.indexes[check_kind(kind)] if idx is None else idx
        n = len(idx)
        sem = self._semantic(kind, idx, query) if query.brief else np.full(n, NEUTRAL)
        if query.visual_emb is not None and n:
            sem = 0.5 * sem + 0.5 * semantic_fit(self._clip_text(idx) @ query.visual_emb)
        columns = {
            "semantic": sem,
            "tempo": tempo_fit(cuts_per_min=np.full(n, query.cuts_per_min), bpm=idx.bpm),
            "energy": energy_fit(footage_energy=float(query.feel[_ENERGY]), music_energy=idx.feel[:, _ENERGY]),
            "mood": mood_fit(footage_valence=float(query.feel[_MOOD]), footage_arousal=float(query.feel[_ENERGY]),
                             music_valence=idx.feel[:, _MOOD], music_arousal=idx.arousal),
            "duration": (duration_fit(footage_s=query.footage_s, track_s=idx.length_s) if kind == "music"
                         else np.full(n, NEUTRAL)),
            "popularity": popularity_fit(use_count=idx.uses),
        }
        # Without footage, the brief's mood words set the feel of *music* only: for copy lines and templates the
        # brief's meaning (semantic) already says more, and a mood word must not outvote it (海岛旅行混剪 is a
        # travel montage even though 风景 reads calm).
        if not query.has_footage and (kind != "music" or not query.feel_words):
            columns.update(energy=np.full(n, NEUTRAL), mood=np.full(n, NEUTRAL))
        return np.stack([np.broadcast_to(np.asarray(columns[f], dtype=np.float64), (n,)) for f in FEATURES],
                        axis=1) if n else np.zeros((0, len(FEATURES)))

    def _semantic(self, kind: str, idx: CandidateIndex, query: _Query) -> np.ndarray:
        """The ``semantic`` feature [shape=(n,)] in [0, 1]: for copy and templates the dense cosine fused with
        lexical overlap (z-scored over the candidates, logistic), for music the cosine alone."""
        dense = idx.text_emb @ query.brief_emb
        if kind == "music":
            return self._music_semantic(idx, dense, query)
        if kind not in _LEXICAL_KINDS or len(idx) < 2 or self.lexical_weight == 0:
            return semantic_fit(dense)  # weight 0: the cosine alone, exactly as before lexical fusion
        lexical = self._lexical_index(kind, idx).scores([query.brief])[0]
        return fused_fit(fuse(dense, lexical, lexical_weight=self.lexical_weight))

    def _music_semantic(self, idx: CandidateIndex, dense: np.ndarray, query: _Query) -> np.ndarray:
        """Library tracks: the cosine alone (their titles are too short for words to help). Composed candidates,
        one per style with a curated bilingual description, are chosen between like templates: e5's cosines of a
        brief with the five descriptions differed by about 0.01, so the styles' predicted energy decided alone
        (a slow Sunday morning or a rainy study session got cinematic, its calmest style). Their fused dense and
        lexical score (z-scored among them, logistic) spreads them around the mean of their own cosine fits, which
        keeps the group level with the library's tracks."""
        fit = semantic_fit(dense)
        composed = np.array([bool(getattr(item, "composed", False)) for item in idx.items], dtype=bool)
        if not self.config.style_words or composed.sum() < 2 or self.lexical_weight == 0:
            return fit
        rows = np.flatnonzero(composed)
        lexical = LexicalIndex([idx.extra[i].get("text", idx.titles[i]) for i in rows]).scores([query.brief])[0]
        spread = 2.0 * fused_fit(fuse(dense[rows], lexical, lexical_weight=self.lexical_weight)) - 1.0  # (-1, 1)
        centre = float(fit[rows].mean())
        fit = fit.copy()
        # Above the centre toward 1, below it toward 0, in proportion: the order is kept and nothing clips.
        fit[rows] = centre + np.where(spread > 0, spread * (1.0 - centre), spread * centre)
        return fit

    def _lexical_index(self, kind: str, idx: CandidateIndex) -> LexicalIndex:
        built = self._lexical.get(kind)
        if built is None or built[0] != id(idx):  # rebuilt when the index is replaced (set_templates)
            built = (id(idx), LexicalIndex([_lexical_text(item, title) for item, title in zip(idx.items, idx.titles)]))
            self._lexical[kind] = built
        return built[1]

    def _clip_text(self, idx: CandidateIndex) -> np.ndarray:
        cached = getattr(idx, "clip_text_emb", None)
        if cached is None or len(cached) != len(idx):
            cached = np.asarray(self.clip_encoder.encode_texts(idx.titles), dtype=np.float32)
            idx.clip_text_emb = cached  # type: ignore[attr-defined]
        return cached

    def _same_language(self, idx: CandidateIndex, query: _Query, notes: list[str]) -> np.ndarray | None:
        """Copy lines in the brief's language (Chinese or not), or None for all: the brief has no letters, or the
        library has no line in its language (said in ``notes``)."""
        if query.chinese is None:
            return None
        langs = getattr(idx, "chinese", None)
        if langs is None or len(langs) != len(idx):
            langs = np.array([{True: 1, False: 0, None: -1}[is_chinese(t)] for t in idx.titles])
            idx.chinese = langs  # type: ignore[attr-defined]
        keep = (langs == int(query.chinese)) | (langs == -1)
        if not (langs == int(query.chinese)).any():
            notes.append(f"no copy line in the brief's language ({'Chinese' if query.chinese else 'not Chinese'}); "
                         "ranked lines in every language")
            return None
        return keep

    def _rank(self, kind: str, query: _Query, k: int, notes: list[str],
              idx: CandidateIndex | None = None) -> tuple[RankedCandidate, ...]:
        idx = self.indexes[kind] if idx is None else idx
        if not len(idx):
            return ()
        x = self.features(kind, query, idx)
        scores = x @ self.fusion[kind].vector()
        keep = self._same_language(idx, query, notes) if kind == "copy" else None
        if keep is not None:  # a Chinese brief gets Chinese lines, an English one English lines
            scores = np.where(keep, scores, -np.inf)
            k = min(k, int(keep.sum()))
        # argpartition first: sorting 100k scores costs ~10 ms, picking the top k ~0.3 ms
        part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = part[np.argsort(-scores[part], kind="stable")]
        facts = [self._facts(idx, int(i), query) for i in top]
        rows = breakdowns(x[top], self.fusion[kind].weights, facts=facts)
        out = []
        for rank, (i, b) in enumerate(zip(top, rows), start=1):
            moment = None
            if kind == "music":
                from crossmodal_match.audio import best_moment

                moment = best_moment(idx.extra[int(i)]["analysis"], duration_s=min(query.footage_s,
                                                                                   idx.length_s[int(i)]))
            item, reason, origin = idx.items[int(i)], b.explain(), "library"
            if getattr(item, "composed", False):
                from crossmodal_match.compose.catalogue import reason as composed_reason

                reason, origin = f"{composed_reason(item, cuts_per_min=query.cuts_per_min)}; {reason}", "composed"
            out.append(RankedCandidate(kind, idx.ids[int(i)], idx.titles[int(i)], rank, float(scores[int(i)]), b,
                                       reason, item, moment, origin))
        return tuple(out)

    @staticmethod
    def _facts(idx: CandidateIndex, i: int, query: _Query) -> dict[str, Any]:
        # shared words in either language: a music track's title, genre, mood and tags (MusicTrack.text)
        terms = shared_terms(query.brief, idx.extra[i].get("text", idx.titles[i]))
        facts: dict[str, Any] = {"brief_terms": terms, "footage_s": query.footage_s,
                                 "mood_words": list(idx.extra[i].get("mood_words", ()))[:2],
                                 "mood": "upbeat" if idx.arousal[i] > 0.6 else "calm" if idx.arousal[i] < 0.4
                                 else "easy-going"}
        if math.isfinite(idx.bpm[i]) and math.isfinite(query.cuts_per_min):
            facts["bpm"] = float(idx.bpm[i])
            facts["beats_per_cut"] = int(nearest_beats_per_cut(cuts_per_min=query.cuts_per_min, bpm=idx.bpm[i]))
        if math.isfinite(idx.length_s[i]):
            facts["track_s"] = float(idx.length_s[i])
        return facts

    def analyze_footage(self, paths: Sequence[str]) -> list[Any]:
        """Analyse clips and photos (``footage.analyze_footage``), so callers that hold only the matcher (the
        draft maker) need not import the analysis code. Raises ``InvalidMediaError`` naming the first bad file."""
        from crossmodal_match.footage import analyze_footage

        return [analyze_footage(p) for p in paths]

    def track(self, track_id: str) -> tuple[str, Any]:
        """``(file path, MusicAnalysis)`` of a ranked track; a composed one is composed (or read from the cache)
        at the length and tempo its id carries.

        Raises:
            ConfigError: no track with that id in the music catalogue (``ComposeError`` for a bad composed id).
        """
        if self.is_composed(track_id):
            return self.compose(track_id)[:2]
        idx = self.indexes["music"]
        if track_id not in idx.ids:
            raise ConfigError(f"no track {track_id!r} in the music catalogue ({len(idx)} tracks)")
        i = idx.ids.index(track_id)
        return idx.items[i].path, idx.extra[i]["analysis"]

    @staticmethod
    def is_composed(track_id: str | None) -> bool:
        """Whether a music id names a soundtrack composed for a draft (``compose.catalogue``)."""
        from crossmodal_match.compose.catalogue import is_composed

        return is_composed(track_id)

    def compose(self, track_id: str, *, length_s: float | None = None, bpm: float | None = None,
                sections: Sequence[tuple[str, int]] | None = None) -> tuple[str, Any, dict[str, Any]]:
        """Compose the soundtrack a composed id names, cached by its parameters, to a draft's exact length and
        tempo when given (``compose.catalogue.ComposedCatalogue.render``).

        Returns:
            ``(wav path, MusicAnalysis carrying the exact beat grid, the composition's facts)``.

        Raises:
            ComposeError: a bad id, length, tempo or sections.
        """
        from crossmodal_match.compose.catalogue import ComposedCatalogue

        if self.composer is None:  # a matcher made without composing can still play a draft's composed track
            self.composer = ComposedCatalogue(cache_dir=Path(self.config.cache_dir) / "composed"
                                              if self.config.cache_dir else None, seed=self.config.compose_seed)
        return self.composer.render(track_id, length_s=length_s, bpm=bpm,
                                    sections=list(sections) if sections else None)

    @staticmethod
    def composed_params(track_id: str) -> dict[str, Any]:
        """The parameters a composed id carries: style, bpm, length_s, valence, arousal, seed."""
        from crossmodal_match.compose.catalogue import parse_id

        return parse_id(track_id)

    @staticmethod
    def recompose_id(track_id: str, *, style: str | None = None, seed: int | None = None) -> str:
        """The id of the same composed soundtrack in another style and/or with another seed."""
        from crossmodal_match.compose.catalogue import with_changes

        return with_changes(track_id, style=style, seed=seed)

    def record_shown(self, result: MatchResult, *, session_id: str) -> dict[str, int]:
        """Log what was shown (each kind's ranked list with its features) to the feedback store.

        Returns:
            kind -> shown id (empty without a store).
        """
        if self.store is None:
            return {}
        ids = {}
        for kind in KINDS:
            ranked = result.ranked(kind)
            if ranked:
                ids[kind] = self.store.record_shown(
                    session_id=session_id, kind=kind, context={"brief": result.brief},
                    candidates=[(c.id, dict(c.breakdown.features)) for c in ranked])
        return ids

    def record_action(self, *, session_id: str, kind: str, candidate_id: str, action: str) -> None:
        """Log a creator's action on a shown candidate (kept, exported, skipped, swapped_in, swapped_out)."""
        if self.store is not None:
            self.store.record_action(session_id=session_id, kind=check_kind(kind), candidate_id=candidate_id,
                                     action=action)


def _lexical_text(item: Any, title: str) -> str:
    """What lexical overlap reads of a catalogue item: a copy line's text and tags, a template's name,
    description and tags."""
    parts = [getattr(item, "text", None) or title, getattr(item, "description", "") or ""]
    return " ".join([*parts, *getattr(item, "tags", ())]).strip()


def build_text_encoder(name: str = DEFAULT_TEXT_ENCODER, *, cache_dir: str | Path | None = None):
    """The text encoder ``MatcherConfig.text_encoder`` names (one of :data:`TEXT_ENCODERS`).

    Args:
        name: the encoder.
        cache_dir: for the multilingual encoders, a folder where embeddings are cached on disk by text, so a
            copy library is encoded once, not at every start (e5 encodes about 50 lines a second on 2 cores).

    Raises:
        ConfigError: unknown name; ModelLoadError: its weights cannot be loaded.
    """
    from crossmodal_match.encoders import create_encoder

    if name not in TEXT_ENCODERS:
        raise ConfigError(f"text encoder must be one of {list(TEXT_ENCODERS)}, got {name!r}")
    if name == "minilm":
        return create_encoder("minilm")
    return create_encoder("multilingual", kind=name, cache_dir=cache_dir)


def create_matcher(config: MatcherConfig | None = None, *, text_encoder=None, templates: Sequence[Any] = (),
                   clip_encoder=None) -> Matcher:
    """Build a matcher: load the catalogues, analyse the music (cached by file hash), open the feedback store.

    Args:
        config: where things are (``MatcherConfig()``: no music folder, so the music is composed for each draft;
            the bundled copy lines, zero-shot weights).
        text_encoder: an encoder with ``encode_texts`` (and optionally ``encode_queries`` for briefs); None
            loads ``config.text_encoder`` (default: multilingual-e5-small, Chinese and English).
        templates: template cards (``TemplateCard``) to rank.
        clip_encoder: an ``encoders.ClipEncoder``; None builds one only when ``config.clip_checkpoint`` is set.

    Raises:
        ConfigError: a bad setting; ModelLoadError: an encoder cannot be loaded; CatalogueError: a catalogue
            cannot be read. Music files that cannot be decoded are skipped and listed in ``Matcher.skipped``.
    """
    from crossmodal_match.catalog import CopyLibrary, MusicLibrary

    config = config or MatcherConfig()
    if text_encoder is None:
        text_encoder = build_text_encoder(config.text_encoder, cache_dir=Path(config.cache_dir) / "text_embeddings"
                                          if config.cache_dir else None)
    if clip_encoder is None and config.clip_checkpoint:
        from crossmodal_match.encoders import ClipEncoder

        clip_encoder = ClipEncoder(config.clip_model, pretrained=config.clip_checkpoint)
    music, skipped = None, []
    if config.music_dir:
        library = MusicLibrary.from_folder(config.music_dir)
        analyses, skipped = library.analyses(cache_dir=config.cache_dir)
        music = music_index(list(library), analyses, text_encoder)
    lines = CopyLibrary.from_file(config.copy_file) if config.copy_file else CopyLibrary.example()
    store = None
    if config.feedback_path:
        from crossmodal_match.feedback import FeedbackStore

        store = FeedbackStore(config.feedback_path)
    composer = None
    if config.compose:
        from crossmodal_match.compose.catalogue import ComposedCatalogue

        composer = ComposedCatalogue(cache_dir=Path(config.cache_dir) / "composed" if config.cache_dir else None,
                                     seed=config.compose_seed)
    return Matcher(config, text_encoder=text_encoder, music=music, copy=copy_index(list(lines), text_encoder),
                   templates=template_index(list(templates), text_encoder), clip_encoder=clip_encoder,
                   store=store, skipped=skipped, composer=composer)
