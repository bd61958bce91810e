"""Click model: predicted click-through of a title, trained pairwise on real A/B tests.

A title's *utility* is linear in its features: the MiniLM embedding of the title (384-d) and light text
features (length, digits, "you", "?", "!", quotes, capitals, question words, and the cosine similarity of the
title to its context when one is given). Utilities are fitted with logistic regression on *differences* of arms
of the same A/B test (same image), so only what distinguishes headlines of one story is learned, plus pairs of
clicked vs skipped titles of one MIND impression. A second pairwise model on binary word unigrams and bigrams of
the title (fitted on the same Upworthy pairs) adds its utility with a weight chosen on inner folds of the training
tests; pairs may enter with soft targets (how sure the test is of its winner, see
:func:`titlegen.abtests.arm_pairs`). ``P(a beats b) = sigmoid(u_a - u_b)``; the absolute predicted
click-through is ``sigmoid(alpha + beta * u)``, fitted to the training arms' clicks and impressions.

Saved as one small JSON (weights, feature names, calibration, format version) next to its data card.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from titlegen.errors import ConfigError, ModelLoadError
from titlegen.model import FORMAT_VERSION

DEFAULT_CTR_DIR = Path(__file__).parent / "default_ctr"
_FILE = "click_model.json"
LIGHT_FEATURES = ("chars", "words", "has_digit", "starts_digit", "question", "exclaim", "you", "quote",
                  "caps_ratio", "demonstrative", "wh_word", "context_sim")


@dataclass(frozen=True)
class ClickModelConfig:
    """Training settings.

    Attributes:
        c: inverse L2 strength of the pairwise logistic regression (> 0).
        use_embedding: include the 384-d title embedding (off gives the light-feature baseline).
        use_light: include the light text features.
        mind_weight: weight of a MIND pair relative to an Upworthy pair (0 leaves MIND out).
        ngram_weight: weight of the word n-gram part's utility (a separate pairwise model on binary unigrams and
            bigrams) added to the dense part's; 0 leaves it out.
        soft_labels: fit on soft targets (the probability that arm a is truly better, from the two-proportion
            z statistic) instead of the observed winner; recorded here, applied by the training code.
    """

    c: float = 0.5
    use_embedding: bool = True
    use_light: bool = True
    mind_weight: float = 0.3
    ngram_weight: float = 0.0
    soft_labels: bool = False

    def __post_init__(self) -> None:
        if not self.c > 0:
            raise ConfigError(f"c must be positive, got {self.c!r}")
        if not (self.use_embedding or self.use_light):
            raise ConfigError("at least one of use_embedding and use_light must be true")
        if self.mind_weight < 0:
            raise ConfigError(f"mind_weight must be >= 0, got {self.mind_weight!r}")
        if self.ngram_weight < 0:
            raise ConfigError(f"ngram_weight must be >= 0, got {self.ngram_weight!r}")


def light_features(titles: list[str], context_sim: np.ndarray) -> np.ndarray:
    """Hand-made features ``[shape=(n, 12)]`` in the order of :data:`LIGHT_FEATURES`, roughly unit scale."""
    rows = []
    for t, sim in zip(titles, context_sim):
        words = t.split()
        letters = [ch for ch in t if ch.isalpha()]
        low = t.lower()
        rows.append([
            len(t) / 100, len(words) / 20, float(bool(re.search(r"\d", t))), float(bool(re.match(r"\d", t))),
            float("?" in t), float("!" in t), float(bool(re.search(r"\byou(r|'re)?\b", low))),
            float(bool(re.search(r"[\"“”']", t))), sum(ch.isupper() for ch in letters) / max(1, len(letters)),
            float(bool(re.search(r"\b(this|these|here's|here is)\b", low))),
            float(bool(re.match(r"(why|how|what|who|when|where)\b", low))), float(sim),
        ])
    return np.asarray(rows, dtype=np.float32).reshape(len(titles), len(LIGHT_FEATURES))


class ClickModel:
    """Predicts click-through of titles.

    Use :meth:`fit` or :func:`load_click_model`; call it as ``model(titles, contexts) -> list[float]`` (the
    protocol :class:`~titlegen.generator.TitleGenerator` takes as ``click_model``).
    """

    def __init__(self, coef: np.ndarray, calibration: tuple[float, float], config: ClickModelConfig,
                 embedder=None, ngrams: dict[str, float] | None = None) -> None:
        self.coef = np.asarray(coef, dtype=np.float64)
        # Its features (MiniLM embeddings, English n-grams) read English only: the generator ranks titles in
        # other languages without it rather than show a click-through it cannot know.
        self.languages = ("en",)
        self.alpha, self.beta = calibration
        self.config = config
        self._embedder = embedder
        self.ngrams = dict(ngrams or {})
        if config.ngram_weight > 0 and not self.ngrams:
            raise ConfigError("ngram_weight > 0 needs the n-gram weights (ngrams={term: weight})")
        self._vectorizer = None

    @property
    def embedder(self):
        if self._embedder is None:
            from titlegen.embedding import TextEmbedder

            self._embedder = TextEmbedder()
        return self._embedder

    def features(self, titles: list[str], contexts: list[str] | None = None) -> np.ndarray:
        """Feature matrix ``[shape=(n, d)]`` for titles (and optional contexts, one per title)."""
        parts = []
        emb = self.embedder.encode(titles)
        if self.config.use_embedding:
            parts.append(emb)
        if self.config.use_light:
            if contexts is not None and any(contexts):
                ctx = self.embedder.encode([c or "" for c in contexts])
                sim = np.where([bool(c) for c in contexts], np.sum(emb * ctx, axis=1), 0.0)
            else:
                sim = np.zeros(len(titles))
            parts.append(light_features(titles, sim))
        return np.hstack(parts).astype(np.float64)

    def utility(self, titles: list[str], contexts: list[str] | None = None) -> np.ndarray:
        """Latent attractiveness ``[shape=(n,)]``; differences are log-odds of winning a head-to-head."""
        dense = self.features(titles, contexts) @ self.coef
        if self.config.ngram_weight > 0:
            dense = dense + self.config.ngram_weight * self.ngram_utility(titles)
        return dense

    def ngram_utility(self, titles: list[str]) -> np.ndarray:
        """Utility ``[shape=(n,)]`` of the word n-gram part alone (binary unigrams and bigrams, lower-cased)."""
        if self._vectorizer is None:
            from sklearn.feature_extraction.text import CountVectorizer

            terms = sorted(self.ngrams)
            self._vectorizer = (CountVectorizer(vocabulary=terms, binary=True, ngram_range=(1, 2)),
                                np.array([self.ngrams[t] for t in terms]))
        vectorizer, weights = self._vectorizer
        return np.asarray(vectorizer.transform(list(titles)) @ weights, dtype=np.float64).reshape(-1)

    def predict_ctr(self, titles: list[str], contexts: list[str] | None = None) -> np.ndarray:
        """Predicted click-through ``[shape=(n,)]`` in (0, 1)."""
        return 1 / (1 + np.exp(-(self.alpha + self.beta * self.utility(titles, contexts))))

    def __call__(self, titles: list[str], contexts: list[str] | None = None) -> list[float]:
        return self.predict_ctr(list(titles), list(contexts) if contexts is not None else None).tolist()

    def embed(self, titles: list[str]) -> np.ndarray:
        """Unit-length title embeddings ``[shape=(n, 384)]`` (used for diversity-aware ranking)."""
        return self.embedder.encode(list(titles))

    @classmethod
    def fit(cls, diffs: np.ndarray, wins: np.ndarray, weights: np.ndarray, *, config: ClickModelConfig,
            arm_utility_inputs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
            embedder=None, ngrams: dict[str, float] | None = None,
            arm_ngram_utility: np.ndarray | None = None) -> ClickModel:
        """Fit the dense part from feature differences of pairs; attach an already fitted n-gram part.

        Args:
            diffs: ``f(a) - f(b)`` per pair ``[shape=(n, d)]``.
            wins: 1 where a won ``[shape=(n,)]``.
            weights: sample weight per pair.
            arm_utility_inputs: ``(features, clicks, impressions)`` of training arms for the CTR calibration.
            ngrams: ``{term: weight}`` of the n-gram part (used with ``config.ngram_weight > 0``).
            arm_ngram_utility: the n-gram part's utility of the same training arms ``[shape=(n_arms,)]``, so the
                calibration sees the utility the model will predict with.
        """
        coef = fit_pairwise_logistic(diffs, wins, weights, c=config.c)
        calibration = (-4.0, 1.0)
        if arm_utility_inputs is not None:
            feats, clicks, imps = arm_utility_inputs
            utility = feats @ coef
            if config.ngram_weight > 0 and arm_ngram_utility is not None:
                utility = utility + config.ngram_weight * arm_ngram_utility
            calibration = _calibrate(utility, clicks, imps)
        return cls(coef, calibration, config, embedder, ngrams=ngrams)

    def save(self, folder: str | Path, *, meta: dict | None = None) -> None:
        """Write ``click_model.json`` (atomically) into ``folder``."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        body = {"format_version": FORMAT_VERSION, "config": asdict(self.config), "coef": self.coef.round(6).tolist(),
                "light_features": list(LIGHT_FEATURES), "calibration": [self.alpha, self.beta],
                "ngrams": {t: round(float(w), 5) for t, w in sorted(self.ngrams.items())}, "meta": meta or {}}
        tmp = out / (_FILE + ".tmp")
        tmp.write_text(json.dumps(body) + "\n", encoding="utf-8")
        os.replace(tmp, out / _FILE)


def fit_pairwise_logistic(diffs, wins: np.ndarray, weights: np.ndarray, *, c: float) -> np.ndarray:
    """Weights ``w`` of ``P(a beats b) = sigmoid(w . (f(a) - f(b)))`` by L2 logistic regression.

    ``diffs`` may be dense ``[shape=(n, d)]`` or scipy-sparse. Pairs are mirrored (``-diff``, ``1 - win``) so the
    model has no side preference and needs no intercept.
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


def load_click_model(folder: str | Path = DEFAULT_CTR_DIR, *, embedder=None) -> ClickModel:
    """Load a click model saved by :meth:`ClickModel.save` (default: the shipped one).

    Raises:
        ModelLoadError: missing, unreadable, or of a format version this code does not know.
    """
    path = Path(folder) / _FILE
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        if body.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"format_version {body.get('format_version')!r}, expected {FORMAT_VERSION}")
        config = ClickModelConfig(**body["config"])
        model = ClickModel(np.asarray(body["coef"]), tuple(body["calibration"]), config, embedder,
                           ngrams=body.get("ngrams"))
    except (OSError, ValueError, KeyError, TypeError, ConfigError) as exc:
        raise ModelLoadError(f"cannot load a click model from {path} ({exc}); train one with "
                             "`python -m titlegen.evaluate click-model --data ../shared/data --save DIR`") from exc
    return model
