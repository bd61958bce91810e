"""Click model: how much attention a title draws, one fitted *head* per language, over one multilingual encoder.

Each head gives a title a *utility*, linear in its features: the sentence embedding of the title (the project's
text encoder) and light surface features (:mod:`titlegen.title_features`; the cosine similarity of title and
context among them when a context is given). Utilities are fitted with logistic regression on *differences* of
titles compared fairly, so only what distinguishes two titles of one comparison is learned:

* ``en``: arms of one real Upworthy A/B test that showed the same image (plus, optionally, clicked vs skipped
  titles of one MIND impression); optionally a second pairwise model on binary word unigrams and bigrams, its
  utility added with a weight chosen on inner folds. ``P(a beats b) = sigmoid(u_a - u_b)``; the head's score is a
  predicted click-through ``sigmoid(alpha + beta * u)`` fitted to the training arms' clicks and impressions.
* ``zh``: two Bilibili videos of one category and publication week by different uploaders, the one with the higher
  engagement relative to its uploader's follower count winning (:mod:`titlegen.engagement`). There are no
  impressions, so the score is *not* a click-through: it is ``sigmoid(u - u_typical)``, the probability that the
  title out-engages a typical training title of the popular feed at equal follower count.

The n-gram part exists for English only: the Chinese training sets are research-only, and a vocabulary learned from
them would ship their text. Saved as one small JSON (one entry per head, the encoder it was fitted with, format
version) next to its data card.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from titlegen.errors import ConfigError, ModelLoadError
from titlegen.language import detect_language
from titlegen.title_features import LIGHT_FEATURES, LIGHT_FEATURES_ZH, light_features, light_features_zh

__all__ = ["ClickHead", "ClickModel", "ClickModelConfig", "DEFAULT_CTR_DIR", "LIGHT_FEATURES", "LIGHT_FEATURES_ZH",
           "SCORE_MEANING", "fit_pairwise_logistic", "light_features", "load_click_model"]

DEFAULT_CTR_DIR = Path(__file__).parent / "default_ctr"
_FILE = "click_model.json"
CLICK_FORMAT_VERSION = 2
#: What a head's score means, per language (shown by the CLI, batch files and the studio).
SCORE_MEANING = {
    "en": "predicted click-through (calibrated to Upworthy's placement, about 1.5 % on average)",
    "zh": "relative engagement: the probability that the title out-engages a typical popular Bilibili title of its "
          "category at equal follower count (not a click-through; there are no impressions)",
}
_FEATURES = {"en": (LIGHT_FEATURES, light_features), "zh": (LIGHT_FEATURES_ZH, light_features_zh)}


@dataclass(frozen=True)
class ClickModelConfig:
    """Training settings of one head.

    Attributes:
        c: inverse L2 strength of the pairwise logistic regression (> 0).
        use_embedding: include the title embedding (off gives the light-feature baseline).
        use_light: include the light text features.
        mind_weight: weight of a MIND pair relative to an Upworthy pair (0 leaves MIND out; English only).
        ngram_weight: weight of the word n-gram part's utility added to the dense part's (0 leaves it out;
            English only, see the module docstring).
        soft_labels: fit on soft targets (the probability that arm a is truly better) instead of the observed
            winner; recorded here, applied by the training code.
        language: ``"en"`` or ``"zh"``: which light features, and what the score means (:data:`SCORE_MEANING`).
    """

    c: float = 0.5
    use_embedding: bool = True
    use_light: bool = True
    mind_weight: float = 0.3
    ngram_weight: float = 0.0
    soft_labels: bool = False
    language: str = "en"

    def __post_init__(self) -> None:
        if not self.c > 0:
            raise ConfigError(f"c must be positive, got {self.c!r}")
        if not (self.use_embedding or self.use_light):
            raise ConfigError("at least one of use_embedding and use_light must be true")
        if self.mind_weight < 0:
            raise ConfigError(f"mind_weight must be >= 0, got {self.mind_weight!r}")
        if self.ngram_weight < 0:
            raise ConfigError(f"ngram_weight must be >= 0, got {self.ngram_weight!r}")
        if self.language not in _FEATURES:
            raise ConfigError(f"language must be one of {', '.join(_FEATURES)}, got {self.language!r}")
        if self.language != "en" and (self.ngram_weight > 0 or self.mind_weight > 0):
            raise ConfigError(f"ngram_weight and mind_weight are English-only (language={self.language!r}): the "
                              "Chinese training sets are research-only, so no vocabulary of theirs may ship")


class ClickHead:
    """One language's part of the click model (see the module docstring).

    Args:
        coef: weights over ``[embedding, light features]`` (those the config uses) ``[shape=(d,)]``.
        calibration: ``(alpha, beta)``: the score is ``sigmoid(alpha + beta * utility)``.
        config: the head's settings (its ``language`` among them).
        ngrams: ``{term: weight}`` of the English n-gram part.
    """

    def __init__(self, coef: np.ndarray, calibration: tuple[float, float], config: ClickModelConfig, *,
                 ngrams: dict[str, float] | None = None) -> None:
        self.coef = np.asarray(coef, dtype=np.float64)
        self.alpha, self.beta = (float(v) for v in calibration)
        self.config = config
        self.language = config.language
        self.ngrams = dict(ngrams or {})
        if config.ngram_weight > 0 and not self.ngrams:
            raise ConfigError("ngram_weight > 0 needs the n-gram weights (ngrams={term: weight})")
        self._vectorizer = None

    @property
    def light_names(self) -> tuple[str, ...]:
        return _FEATURES[self.language][0]

    def features(self, emb: np.ndarray, titles: list[str], context_sim: np.ndarray) -> np.ndarray:
        """Feature matrix ``[shape=(n, d)]`` from title embeddings ``(n, dim)`` and title-context cosines."""
        parts = [np.asarray(emb, np.float64)] if self.config.use_embedding else []
        if self.config.use_light:
            parts.append(_FEATURES[self.language][1](titles, context_sim))
        feats = np.hstack(parts).astype(np.float64)
        if feats.shape[1] != len(self.coef):
            raise ModelLoadError(f"the {self.language} click head has {len(self.coef)} weights but its features "
                                 f"have {feats.shape[1]} columns: it was fitted with another text encoder; "
                                 "load it with the encoder named in its file, or retrain it")
        return feats

    def utility(self, emb: np.ndarray, titles: list[str], context_sim: np.ndarray) -> np.ndarray:
        """Latent attractiveness ``[shape=(n,)]``; differences are log-odds of winning a head-to-head."""
        u = self.features(emb, titles, context_sim) @ self.coef
        if self.config.ngram_weight > 0:
            u = u + self.config.ngram_weight * self.ngram_utility(titles)
        return u

    def ngram_utility(self, titles: list[str]) -> np.ndarray:
        """Utility ``[shape=(n,)]`` of the word n-gram part alone (binary unigrams and bigrams, lower-cased)."""
        if not self.ngrams:
            return np.zeros(len(titles))
        if self._vectorizer is None:
            from sklearn.feature_extraction.text import CountVectorizer

            terms = sorted(self.ngrams)
            self._vectorizer = (CountVectorizer(vocabulary=terms, binary=True, ngram_range=(1, 2)),
                                np.array([self.ngrams[t] for t in terms]))
        vectorizer, weights = self._vectorizer
        return np.asarray(vectorizer.transform(list(titles)) @ weights, dtype=np.float64).reshape(-1)

    def score(self, utility: np.ndarray) -> np.ndarray:
        """The head's score in (0, 1) from utilities (see :data:`SCORE_MEANING`)."""
        return 1 / (1 + np.exp(-(self.alpha + self.beta * np.asarray(utility, np.float64))))

    @classmethod
    def fit(cls, diffs, wins: np.ndarray, weights: np.ndarray, *, config: ClickModelConfig,
            arm_utility_inputs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
            typical_utility_of: np.ndarray | None = None, ngrams: dict[str, float] | None = None,
            arm_ngram_utility: np.ndarray | None = None) -> ClickHead:
        """Fit the dense part from feature differences of pairs; attach an already fitted n-gram part.

        Args:
            diffs: ``f(a) - f(b)`` per pair ``[shape=(n, d)]``.
            wins: 1 where a won (or the soft target) ``[shape=(n,)]``.
            weights: sample weight per pair.
            arm_utility_inputs: ``(features, clicks, impressions)`` of training arms: the English CTR calibration.
            typical_utility_of: features of the training titles ``[shape=(m, d)]``: the score becomes
                ``sigmoid(u - median u)`` (the relative-engagement calibration).
            ngrams: ``{term: weight}`` of the n-gram part (used with ``config.ngram_weight > 0``).
            arm_ngram_utility: the n-gram part's utility of the training arms, so the calibration sees the
                utility the head will predict with.
        """
        coef = fit_pairwise_logistic(diffs, wins, weights, c=config.c)
        calibration = (-4.0, 1.0)
        if arm_utility_inputs is not None:
            feats, clicks, imps = arm_utility_inputs
            utility = feats @ coef
            if config.ngram_weight > 0 and arm_ngram_utility is not None:
                utility = utility + config.ngram_weight * arm_ngram_utility
            calibration = _calibrate(utility, clicks, imps)
        elif typical_utility_of is not None:
            calibration = (-float(np.median(typical_utility_of @ coef)), 1.0)
        return cls(coef, calibration, config, ngrams=ngrams)

    def to_json(self, meta: dict | None = None) -> dict:
        return {"config": asdict(self.config), "coef": self.coef.round(6).tolist(),
                "light_features": list(self.light_names), "calibration": [self.alpha, self.beta],
                "ngrams": {t: round(float(w), 5) for t, w in sorted(self.ngrams.items())}, "meta": meta or {}}

    @classmethod
    def from_json(cls, body: dict) -> ClickHead:
        config = ClickModelConfig(**body["config"])
        if config.use_light and list(body["light_features"]) != list(_FEATURES[config.language][0]):
            raise ValueError(f"the file's {config.language} light features {body['light_features']} are not "
                             "this code's")
        return cls(np.asarray(body["coef"]), tuple(body["calibration"]), config, ngrams=body.get("ngrams"))


class ClickModel:
    """The click model the generator, CLI and batch API use: heads by language over one text encoder.

    Call it as ``model(titles, contexts) -> list[float]`` (the protocol
    :class:`~titlegen.generator.TitleGenerator` takes as ``click_model``): each title goes to the head of its
    language (:func:`titlegen.language.detect_language`), and its score means what :data:`SCORE_MEANING` says for
    that language. :attr:`languages` lists the languages it reads.

    Args:
        heads: ``{language: ClickHead}``.
        encoder: the encoder's name the heads were fitted with (checked against ``embedder.name`` when given).
        embedder: an object with ``encode(texts) -> (n, dim)`` unit rows; default: the project's
            :class:`~titlegen.embedding.TextEmbedder` of ``encoder_kind``, built on first use.
        encoder_kind: the ``kind`` of :class:`~titlegen.embedding.TextEmbedder` that gives ``encoder``.
        meta: what the evaluation recorded with each head (held-out figures, data), by language.
    """

    def __init__(self, heads: dict[str, ClickHead], *, encoder: str = "", encoder_kind: str = "multilingual",
                 embedder=None, meta: dict | None = None) -> None:
        if not heads:
            raise ConfigError("a click model needs at least one head")
        self.heads = dict(heads)
        self.languages = tuple(sorted(self.heads))
        self.encoder, self.encoder_kind = encoder, encoder_kind
        self.meta = dict(meta or {})
        self._embedder = embedder
        if embedder is not None:
            _check_encoder(embedder, encoder)

    @property
    def embedder(self):
        if self._embedder is None:
            from titlegen.embedding import TextEmbedder

            self._embedder = TextEmbedder(kind=self.encoder_kind)
            _check_encoder(self._embedder, self.encoder)
        return self._embedder

    def score_meaning(self, language: str) -> str:
        """What this model's score means for titles in ``language`` (``""`` where it has no head for it)."""
        return SCORE_MEANING.get(language, "") if language in self.heads else ""

    def shows_score(self, language: str) -> bool:
        """Whether the score for ``language`` is calibrated enough to show (the evaluation that fitted the head
        records ``calibrated`` in its meta; ranking uses the head either way)."""
        return language in self.heads and bool(self.meta.get(language, {}).get("calibrated", True))

    def ranks(self, language: str) -> bool:
        """Whether titles in ``language`` should be *ranked* by this model: a head whose meta says ``"ranks":
        false`` scores titles (``score``, reports) but does not order a generator's candidates, because what it
        learned is close to a length rule (see the model card)."""
        return language in self.heads and bool(self.meta.get(language, {}).get("ranks", True))

    def utility(self, titles: list[str], contexts: list[str] | None = None) -> np.ndarray:
        """Utility of each title under its language's head ``[shape=(n,)]`` (NaN where no head reads it)."""
        titles = list(titles)
        emb = self.embedder.encode(titles) if titles else np.zeros((0, 1))
        sim = np.zeros(len(titles))
        if contexts is not None and any(contexts):
            ctx = self.embedder.encode([c or "" for c in contexts])
            sim = np.where([bool(c) for c in contexts], np.sum(emb * ctx, axis=1), 0.0)
        langs = np.array([detect_language(t) for t in titles])
        out = np.full(len(titles), np.nan)
        for lang, head in self.heads.items():
            rows = np.flatnonzero(langs == lang)
            if len(rows):
                out[rows] = head.utility(emb[rows], [titles[i] for i in rows], sim[rows])
        return out

    def predict_ctr(self, titles: list[str], contexts: list[str] | None = None) -> np.ndarray:
        """Each title's score ``[shape=(n,)]`` in (0, 1) under its language's head; NaN where no head reads it.

        For English it is a predicted click-through; for Chinese a relative engagement (:data:`SCORE_MEANING`).
        """
        titles = list(titles)
        u = self.utility(titles, contexts)
        langs = [detect_language(t) for t in titles]
        return np.array([self.heads[lang].score(v) if lang in self.heads else np.nan for v, lang in zip(u, langs)])

    def __call__(self, titles: list[str], contexts: list[str] | None = None) -> list[float]:
        return self.predict_ctr(list(titles), list(contexts) if contexts is not None else None).tolist()

    def embed(self, titles: list[str]) -> np.ndarray:
        """Unit-length title embeddings ``[shape=(n, dim)]`` (used for diversity-aware ranking)."""
        return self.embedder.encode(list(titles))

    def save(self, folder: str | Path) -> None:
        """Write ``click_model.json`` (atomically) into ``folder``."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        body = {"format_version": CLICK_FORMAT_VERSION, "encoder": self.encoder, "encoder_kind": self.encoder_kind,
                "heads": {lang: head.to_json(self.meta.get(lang)) for lang, head in sorted(self.heads.items())}}
        tmp = out / (_FILE + ".tmp")
        tmp.write_text(json.dumps(body, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, out / _FILE)


def save_head(folder: str | Path, head: ClickHead, *, encoder: str, encoder_kind: str,
              meta: dict | None = None) -> None:
    """Put ``head`` into the click model in ``folder`` (replacing that language's head, keeping the others when
    they were fitted with the same encoder; a model of another encoder or format is replaced whole)."""
    heads, metas = {head.language: head}, {head.language: meta or {}}
    path = Path(folder) / _FILE
    if path.is_file():
        try:
            old = load_click_model(folder, check_encoder=False)
        except ModelLoadError:
            old = None
        if old is not None and old.encoder == encoder:
            heads = {**old.heads, **heads}
            metas = {**old.meta, **metas}
    ClickModel(heads, encoder=encoder, encoder_kind=encoder_kind, meta=metas).save(folder)


def _check_encoder(embedder, encoder: str) -> None:
    name = getattr(embedder, "name", None)
    if encoder and name is not None and name != encoder:
        raise ModelLoadError(f"this click model was fitted on {encoder!r} embeddings but the embedder given is "
                             f"{name!r}; pass that encoder or retrain the click model with this one")


def fit_pairwise_logistic(diffs, wins: np.ndarray, weights: np.ndarray, *, c: float) -> np.ndarray:
    """Weights ``w`` of ``P(a beats b) = sigmoid(w . (f(a) - f(b)))`` by L2 logistic regression.

    ``diffs`` may be dense ``[shape=(n, d)]`` or scipy-sparse; ``wins`` may be soft targets in [0, 1] only as 0/1
    rows with weights (see the evaluation's soft targets). Pairs are mirrored (``-diff``, ``1 - win``) so the model
    has no side preference and needs no intercept.
    """
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    x = sparse.vstack([diffs, -diffs]).tocsr() if sparse.issparse(diffs) else np.vstack([diffs, -diffs])
    y = np.concatenate([wins, 1 - wins]).astype(int)
    lr = LogisticRegression(C=c, fit_intercept=False, max_iter=3000)
    lr.fit(x, y, sample_weight=np.concatenate([weights, weights]))
    return lr.coef_[0]


def _calibrate(utility: np.ndarray, clicks: np.ndarray, impressions: np.ndarray) -> tuple[float, float]:
    """Binomial logistic fit of clicks/impressions on utility: ``(alpha, beta)``."""
    from scipy.optimize import minimize

    u = (utility - utility.mean()) / (utility.std() + 1e-9)

    def nll(params):
        z = params[0] + params[1] * u
        return -np.sum(clicks * -np.logaddexp(0, -z) + (impressions - clicks) * -np.logaddexp(0, z))

    a, b = minimize(nll, x0=[-4.0, 0.1], method="L-BFGS-B").x
    # Undo the standardisation so the stored parameters apply to the raw utility.
    scale = utility.std() + 1e-9
    return float(a - b * utility.mean() / scale), float(b / scale)


def _from_format_1(body: dict) -> dict:
    """A format-1 file (one English head on all-MiniLM-L6-v2 features, the model of issue #3) as format 2."""
    head = {k: body[k] for k in ("config", "coef", "light_features", "calibration")}
    head["ngrams"], head["meta"] = body.get("ngrams", {}), body.get("meta", {})
    return {"format_version": CLICK_FORMAT_VERSION, "encoder": "all-MiniLM-L6-v2", "encoder_kind": "minilm",
            "heads": {"en": head}}


def load_click_model(folder: str | Path = DEFAULT_CTR_DIR, *, embedder=None,
                     check_encoder: bool = True) -> ClickModel:
    """Load a click model saved by :meth:`ClickModel.save` (default: the shipped one).

    Args:
        embedder: the text encoder to use (default: the project's encoder named in the file, built on first use).
        check_encoder: refuse an ``embedder`` whose ``name`` is not the encoder the heads were fitted with.

    Raises:
        ModelLoadError: missing, unreadable, of a format version this code does not know, or ``embedder`` is not
            the encoder the model was fitted with.
    """
    path = Path(folder) / _FILE
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        if body.get("format_version") == 1 and "coef" in body:
            body = _from_format_1(body)
        if body.get("format_version") != CLICK_FORMAT_VERSION:
            raise ValueError(f"format_version {body.get('format_version')!r}, expected {CLICK_FORMAT_VERSION}")
        heads = {lang: ClickHead.from_json(h) for lang, h in body["heads"].items()}
        meta = {lang: h.get("meta", {}) for lang, h in body["heads"].items()}
        model = ClickModel(heads, encoder=body["encoder"], encoder_kind=body["encoder_kind"],
                           embedder=embedder if check_encoder else None, meta=meta)
        if not check_encoder:
            model._embedder = embedder
    except (OSError, ValueError, KeyError, TypeError, AttributeError, ConfigError) as exc:
        raise ModelLoadError(f"cannot load a click model from {path} ({exc}); train one with "
                             "`python -m titlegen.evaluate click-model --data ../shared/data --save DIR`") from exc
    return model
