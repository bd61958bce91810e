"""Learned fusion of the score-breakdown features, trained on what creators keep.

Model: a candidate's score is ``weights . features`` (``scoring.combine``; weights in ``scoring.FEATURES``
order, normalised to sum(|w|) = 1 so totals of non-negative weights stay in [0, 1]). Training reads the
feedback log as preference pairs within one shown list (``crossmodal_match.preferences``: a candidate kept,
exported or swapped in beats each one beside it that was skipped, swapped out or ignored; co-usage counts add
weaker pairs). The pair likelihood is Bradley-Terry, ``P(a over b) = sigmoid(sharpness * w . (x_a - x_b))``, and
the loss is

    sum_pairs c * softplus(-sharpness * w . dx) + l2/2 * |w - w_prior|^2 + 1e-3/2 * (log sharpness - log s_prior)^2

with pair weights c making each kept candidate count once. The weights are shrunk toward the prior's, not
toward zero. ``sharpness`` (how consistently creators follow the score) is learned too: on random choices it
falls toward 0, which removes the data's pull on the weights, so noise leaves the prior's weights in place
instead of turning them in a random direction (``l2`` is set so that fitting noise with new weights costs more
than it gains; see ``DEFAULT_L2``).

Validation gate: whole sessions (``holdout`` of them) are held out; the candidate model is accepted only if
its held-out pairwise accuracy is not below the prior's; it is then refit on all pairs. Otherwise the prior
is kept and the reason says so.

Persistence (``save_model``, ``load_current``, ``rollback``): ``<models>/fusion-v0001.json`` ... with a
format stamp, and ``current.json`` naming the version in use, each written to a temp file and ``os.replace``d.
Version 0 is the built-in zero-shot model; a folder without ``current.json`` means nothing was trained yet.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from crossmodal_match.errors import ConfigError, FeedbackStoreError, ModelLoadError
from crossmodal_match.preferences import PairSet, pairs_from_events, pairwise_accuracy
from crossmodal_match.scoring import FEATURES

FORMAT_VERSION = 1
# Zero-shot weights, before any feedback. The brief is the creator's own words, so semantic closeness leads;
# pace and mood are what make a track "feel right" on footage; energy partly repeats mood's arousal axis;
# length only matters when a track is too short (duration_fit is 1 for most tracks); popularity is a weak
# tie-breaker so the catalogue's long tail is not buried before anyone has kept anything.
DEFAULT_WEIGHTS: dict[str, float] = {"semantic": 0.30, "tempo": 0.20, "energy": 0.15, "mood": 0.20,
                                     "duration": 0.10, "popularity": 0.05}
# A score gap of 0.1 -> 73% choice probability: a prior guess of how consistently creators follow the score.
DEFAULT_SHARPNESS = 10.0
# Only pins the scale of an otherwise flat direction: lowering the sharpness must stay cheap, or fitting noise
# with new weights would cost less than admitting that the choices do not follow the score.
SHARPNESS_L2 = 1e-3
# The prior's pull on the weights. Each kept candidate weighs 1, so random choices can buy about k/2 = 3 nats of
# fit (up to ~8 by chance) from free weights; turning the weights by a typical 0.4 (L2) costs 100/2 * 0.16 = 8
# nats, more than noise pays and less than a few dozen consistent choices earn (see the feedback evaluation).
DEFAULT_L2 = 100.0
_FILE_RE = re.compile(r"^fusion-v(\d{4,})\.json$")


@dataclass(frozen=True)
class FusionModel:
    """Feature weights for ranking, with where they came from.

    Attributes:
        weights: feature name -> weight, exactly the names in ``FEATURES``.
        version: 0 for the zero-shot default, then 1, 2, ... as saved in a models folder.
        trained_on: what the weights were fitted on (events, pairs, held-out accuracy, parent version, ...).
        sharpness: fitted choice consistency (see the module docstring); not needed for ranking.
    """

    weights: dict[str, float]
    version: int
    trained_on: dict[str, Any] = field(default_factory=dict)
    sharpness: float = DEFAULT_SHARPNESS

    def __post_init__(self) -> None:
        if set(self.weights) != set(FEATURES):
            raise ConfigError(f"FusionModel.weights must name exactly {list(FEATURES)}; got {sorted(self.weights)}")
        bad = {k: v for k, v in self.weights.items() if not math.isfinite(v)}
        if bad:
            raise ConfigError(f"FusionModel.weights must be finite, got {bad}")
        if not (isinstance(self.version, int) and self.version >= 0):
            raise ConfigError(f"FusionModel.version must be an int >= 0, got {self.version!r}")
        if not (math.isfinite(self.sharpness) and self.sharpness > 0):
            raise ConfigError(f"FusionModel.sharpness must be > 0, got {self.sharpness!r}")

    @classmethod
    def zero_shot(cls) -> FusionModel:
        """The documented default weights (``DEFAULT_WEIGHTS``), version 0."""
        return cls(weights=dict(DEFAULT_WEIGHTS), version=0, trained_on={"source": "zero-shot defaults"})

    def vector(self) -> np.ndarray:
        """Weights as np.ndarray [shape=(len(FEATURES),), float64] in ``FEATURES`` order."""
        return np.array([self.weights[n] for n in FEATURES], dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with a ``format_version`` stamp; inverse of ``from_dict``."""
        return {"format_version": FORMAT_VERSION, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FusionModel:
        """Rebuild a model from ``to_dict`` output.

        Raises:
            ConfigError: another format version, or missing/unknown/invalid fields.
        """
        if data.get("format_version") != FORMAT_VERSION:
            raise ConfigError(f"fusion model format_version {data.get('format_version')!r}; this code reads "
                              f"{FORMAT_VERSION}")
        try:
            return cls(**{k: v for k, v in data.items() if k != "format_version"})
        except TypeError as exc:
            raise ConfigError(f"fusion model fields: {exc}") from exc


def _normalised(w: np.ndarray, sharpness: float) -> tuple[dict[str, float], float]:
    """Scale weights to sum(|w|) = 1 and move the scale into the sharpness (the same pair probabilities)."""
    scale = float(np.abs(w).sum())
    return {n: float(v) / scale for n, v in zip(FEATURES, w)}, sharpness * scale


def _fit(pairs: PairSet, *, prior: FusionModel, l2: float) -> FusionModel:
    """Minimise the regularised pair loss of the module docstring with L-BFGS.

    The loss is not convex (sharpness times weights), so it starts twice from the prior's weights: at the
    prior's sharpness, and at the sharpness that best explains the choices with the prior's weights unchanged
    (near 0 when they are noise); the lower optimum wins. Without the second start, noise pulls the weights
    into a local optimum that fits it, because at a high sharpness their gradient dwarfs the sharpness's.
    """
    from scipy.optimize import minimize, minimize_scalar
    from scipy.special import expit
    from threadpoolctl import threadpool_limits  # installed with scikit-learn, a dependency

    w0, s0, k = prior.vector(), math.log(prior.sharpness), len(FEATURES)
    d, c = pairs.diffs, pairs.weights
    s_low, s_high = math.log(1e-3), math.log(1e3)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, s = theta[:k], theta[k]
        z = math.exp(s) * (d @ w)
        g_z = -c * expit(-z)  # d loss / d z of softplus(-z)
        value = c @ np.logaddexp(0.0, -z) + 0.5 * l2 * (w - w0) @ (w - w0) + 0.5 * SHARPNESS_L2 * (s - s0) ** 2
        grad = np.append(math.exp(s) * (d.T @ g_z) + l2 * (w - w0), g_z @ z + SHARPNESS_L2 * (s - s0))
        return float(value), grad

    # A 7-parameter problem: multi-threaded BLAS inside L-BFGS-B only adds overhead (100x on a busy machine).
    with threadpool_limits(limits=1, user_api="blas"):
        s_prior_fit = minimize_scalar(lambda s: loss(np.append(w0, s))[0], bounds=(s_low, s_high),
                                      method="bounded").x
        bounds = [(None, None)] * k + [(s_low, s_high)]
        result = min((minimize(loss, np.append(w0, s), jac=True, method="L-BFGS-B", bounds=bounds)
                      for s in (s0, s_prior_fit)), key=lambda r: r.fun)
    w, s = result.x[:k], result.x[k]
    if not np.isfinite(result.x).all() or np.abs(w).sum() < 1e-9:
        return prior  # degenerate optimum: nothing learned that ranking could use
    weights, sharpness = _normalised(w, math.exp(s))
    return FusionModel(weights=weights, version=prior.version + 1, sharpness=sharpness)


@dataclass(frozen=True)
class FusionFit:
    """What ``train_fusion`` did.

    Attributes:
        model: the model to use: the refit candidate if accepted, else the prior (unchanged).
        accepted: whether the candidate passed the validation gate.
        reason: one sentence on why it was accepted or rejected.
        lists: shown lists that gave explicit pairs; pairs: all pairs used (explicit + co-usage).
        heldout_pairs: explicit pairs in held-out sessions.
        heldout_accuracy_prior, heldout_accuracy_new: pairwise accuracy on them (NaN if none).
    """

    model: FusionModel
    accepted: bool
    reason: str
    lists: int
    pairs: int
    heldout_pairs: int
    heldout_accuracy_prior: float
    heldout_accuracy_new: float

    def summary(self) -> str:
        verdict = "accepted" if self.accepted else "rejected"
        return (f"{self.lists} shown lists with a choice, {self.pairs} pairs; {verdict}: held-out pairwise "
                f"accuracy {self.heldout_accuracy_prior:.3f} -> {self.heldout_accuracy_new:.3f} on "
                f"{self.heldout_pairs} pairs ({self.reason})")


def _split_sessions(pairs: PairSet, *, holdout: float, seed: int) -> np.ndarray:
    """Mask of pairs whose session is held out: ``holdout`` of the sessions with explicit pairs, at least one."""
    sessions = sorted(set(pairs.sessions[pairs.explicit]), key=str)
    if len(sessions) < 2:
        return np.zeros(len(pairs.diffs), bool)
    n_hold = min(len(sessions) - 1, max(1, round(holdout * len(sessions))))
    held = set(np.random.default_rng(seed).permutation(np.array(sessions, dtype=object))[:n_hold])
    return np.array([s in held for s in pairs.sessions], dtype=bool)


def train_fusion(events, *, prior: FusionModel, co_usage: dict[tuple[str, str], int] | None = None,
                 holdout: float = 0.2, l2: float = DEFAULT_L2, min_heldout_pairs: int = 10,
                 seed: int = 0) -> FusionFit:
    """Fit fusion weights on feedback events, shrunk toward ``prior``, behind a held-out validation gate.

    Args:
        events: ``FeedbackStore.events()`` output (see ``pairs_from_events``).
        prior: the model in use now (``FusionModel.zero_shot()`` before any training).
        co_usage: (context, candidate_id) -> count, adding weaker pairs (``FeedbackStore.co_usage()``).
        holdout: share of sessions held out for the gate, in (0, 1).
        l2: pull toward the prior's weights, > 0 (larger: more events needed to move them).
        min_heldout_pairs: fewer held-out pairs than this cannot validate anything: the prior is kept.
        seed: seeds the session split.

    Returns:
        the fit, whose ``model`` is the one to use (see ``FusionFit``).

    Raises:
        ConfigError: ``holdout`` or ``l2`` out of range.
    """
    if not 0 < holdout < 1:
        raise ConfigError(f"holdout must be in (0, 1), got {holdout!r}")
    if not l2 > 0:
        raise ConfigError(f"l2 must be > 0, got {l2!r}")
    pairs = pairs_from_events(events, co_usage=co_usage)
    held = _split_sessions(pairs, holdout=holdout, seed=seed)
    test = held & pairs.explicit
    acc_prior = pairwise_accuracy(prior.vector(), pairs.diffs[test])
    base = dict(lists=pairs.lists, pairs=len(pairs.diffs), heldout_pairs=int(test.sum()),
                heldout_accuracy_prior=acc_prior)
    if int(test.sum()) < min_heldout_pairs:
        return FusionFit(model=prior, accepted=False, heldout_accuracy_new=float("nan"), **base,
                         reason=f"too few held-out pairs to validate ({int(test.sum())} < {min_heldout_pairs}); "
                                f"kept v{prior.version:04d}")
    candidate = _fit(pairs.subset(~held), prior=prior, l2=l2)
    acc_new = pairwise_accuracy(candidate.vector(), pairs.diffs[test])
    if acc_new < acc_prior:
        return FusionFit(model=prior, accepted=False, heldout_accuracy_new=acc_new, **base,
                         reason=f"worse than the prior on held-out sessions; kept v{prior.version:04d}")
    final = _fit(pairs, prior=prior, l2=l2)
    trained_on = {**base, "heldout_accuracy_new": acc_new, "parent_version": prior.version, "l2": l2,
                  "holdout": holdout, "seed": seed, "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    model = dataclasses.replace(final, version=prior.version + 1, trained_on=trained_on)
    return FusionFit(model=model, accepted=True, heldout_accuracy_new=acc_new, **base,
                     reason="not worse than the prior on held-out sessions; refit on all pairs")


def fit_fusion(events, *, prior: FusionModel, **options: Any) -> FusionModel:
    """The model to use after training on ``events``: ``train_fusion(events, prior=prior, **options).model``
    (the prior itself when the validation gate rejects the new weights)."""
    return train_fusion(events, prior=prior, **options).model


def _write_json_atomic(target: Path, data: dict[str, Any]) -> None:
    """Write to a temp file in the same folder, flush it to disk, then rename over ``target``."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def model_path(models_dir: str | Path, version: int) -> Path:
    """``<models_dir>/fusion-v0001.json`` for version 1."""
    return Path(models_dir) / f"fusion-v{version:04d}.json"


def list_versions(models_dir: str | Path) -> list[int]:
    """Saved versions in a models folder, ascending (empty when the folder does not exist)."""
    folder = Path(models_dir)
    if not folder.is_dir():
        return []
    return sorted(int(m.group(1)) for p in folder.iterdir() if (m := _FILE_RE.match(p.name)))


def _set_current(models_dir: Path, version: int) -> None:
    _write_json_atomic(models_dir / "current.json", {"format_version": FORMAT_VERSION, "version": version,
                                                     "file": model_path(models_dir, version).name if version else None})


def save_model(model: FusionModel, *, models_dir: str | Path, make_current: bool = True) -> FusionModel:
    """Save ``model`` as the next version (``fusion-vNNNN.json``) and, by default, point ``current.json`` at it.

    Args:
        model: the model; its ``version`` is replaced by the next free number in the folder.
        models_dir: the models folder (created if missing).
        make_current: also make it the current version.

    Returns:
        the model as saved, with its version.

    Raises:
        FeedbackStoreError: the folder or files cannot be written (the message names the path).
    """
    folder = Path(models_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        while True:  # a concurrent save may take a number: hard-link creation fails if the name exists
            saved = dataclasses.replace(model, version=max(list_versions(folder), default=0) + 1)
            target = model_path(folder, saved.version)
            tmp = folder / f".{target.name}.{os.getpid()}.tmp"
            _write_json_atomic(tmp, saved.to_dict())
            try:
                os.link(tmp, target)
                break
            except FileExistsError:
                continue
            finally:
                tmp.unlink(missing_ok=True)
        if make_current:
            _set_current(folder, saved.version)
    except OSError as exc:
        raise FeedbackStoreError(f"cannot write fusion model to {folder}: {exc}") from exc
    return saved


def load_model(models_dir: str | Path, *, version: int) -> FusionModel:
    """Load one saved version (0: the zero-shot model).

    Raises:
        ModelLoadError: the file is missing, unreadable or not a fusion model (the message names it).
    """
    if version == 0:
        return FusionModel.zero_shot()
    path = model_path(models_dir, version)
    try:
        return FusionModel.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:  # ConfigError and JSONDecodeError are ValueErrors
        raise ModelLoadError(f"cannot load fusion model {path}: {exc}; saved versions: "
                             f"{list_versions(models_dir) or 'none'}") from exc


def current_version(models_dir: str | Path) -> int:
    """The version ``current.json`` names; 0 (zero-shot) when there is none.

    Raises:
        ModelLoadError: ``current.json`` exists but cannot be read.
    """
    pointer = Path(models_dir) / "current.json"
    if not pointer.is_file():
        return 0
    try:
        version = json.loads(pointer.read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(f"cannot read {pointer}: {exc}") from exc
    if not isinstance(version, int) or version < 0:
        raise ModelLoadError(f"{pointer} names version {version!r}; expected an int >= 0")
    return version


def load_current(models_dir: str | Path) -> FusionModel:
    """The model ``current.json`` names; the zero-shot model (version 0) when nothing was trained yet.

    Raises:
        ModelLoadError: the pointer or the model file cannot be read.
    """
    return load_model(models_dir, version=current_version(models_dir))


def rollback(models_dir: str | Path) -> FusionModel:
    """Point ``current.json`` at the newest saved version older than the current one (0: zero-shot).

    Returns:
        the model now current.

    Raises:
        ConfigError: the current version is already 0 (nothing to roll back to).
        ModelLoadError: the current pointer cannot be read.
        FeedbackStoreError: ``current.json`` cannot be written.
    """
    folder, current = Path(models_dir), current_version(models_dir)
    if current == 0:
        raise ConfigError(f"nothing to roll back to in {folder}: the current model is already the zero-shot v0000")
    previous = max((v for v in list_versions(folder) if v < current), default=0)
    model = load_model(folder, version=previous)
    try:
        _set_current(folder, previous)
    except OSError as exc:
        raise FeedbackStoreError(f"cannot write {folder / 'current.json'}: {exc}") from exc
    return model
