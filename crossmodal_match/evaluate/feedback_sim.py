"""Does learning from kept candidates help, and does noise leave it unharmed? A simulation with a known answer.

A synthetic catalogue of ``catalogue_size`` tracks (tempo, length, valence/arousal, use counts) meets synthetic
requests (footage pace, length, mood, energy, and a brief similarity per track); the breakdown features come
from the real ``crossmodal_match.scoring`` functions. Simulated creators have a hidden preference, a weight
vector over ``FEATURES`` (the population's, plus a per-creator spread), that differs from the zero-shot
weights. Each event is one shown list: the zero-shot top 4 plus 4 random tracks; the creator keeps the one with
the highest hidden utility plus Gumbel noise (``choice_noise``), sometimes exports it, and skips one other. In
the noise condition the kept track is drawn uniformly. Events go through a real ``FeedbackStore`` and
``fusion.train_fusion`` (gate included), starting from the zero-shot model each time.

Metric: R@10, the share of fresh test requests whose hidden-best track (by that creator's own weights, without
noise) is in the model's top 10 of the catalogue; averaged over ``seeds`` independent worlds.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from crossmodal_match import scoring
from crossmodal_match.errors import ConfigError
from crossmodal_match.feedback import FeedbackStore
from crossmodal_match.fusion import DEFAULT_L2, FusionModel, train_fusion
from crossmodal_match.scoring import FEATURES

NOTES_MARKER = "<!-- notes below are hand-written and kept when the report is regenerated -->"
# The population's hidden taste, unlike the zero-shot weights: pace, energy and trending tracks matter, the mood
# proxy not at all, the brief little.
HIDDEN_WEIGHTS = {"semantic": 0.10, "tempo": 0.30, "energy": 0.30, "mood": 0.00, "duration": 0.10,
                  "popularity": 0.20}


@dataclass(frozen=True)
class FeedbackSimConfig:
    """Settings of the simulation (all counts are numbers of items; ``choice_noise`` is in score units)."""

    catalogue_size: int = 200
    shown_per_list: int = 8
    zero_shot_shown: int = 4  # of the shown list, how many are the zero-shot top picks (the rest random)
    top_k: int = 10
    event_counts: tuple[int, ...] = (0, 25, 50, 100, 200, 500, 1000)
    seeds: int = 5
    test_requests: int = 300
    lists_per_session: int = 2
    choice_noise: float = 0.03  # Gumbel scale; utilities of shown tracks typically differ by 0.02-0.1
    creator_spread: float = 0.05  # per-creator deviation of each hidden weight (normal sd), clipped at 0
    hidden_weights: dict[str, float] = field(default_factory=lambda: dict(HIDDEN_WEIGHTS))
    l2: float = DEFAULT_L2  # the fusion's pull toward the zero-shot weights

    def __post_init__(self) -> None:
        if set(self.hidden_weights) != set(FEATURES):
            raise ConfigError(f"hidden_weights must name {list(FEATURES)}, got {sorted(self.hidden_weights)}")
        if not 0 < self.zero_shot_shown <= self.shown_per_list < self.catalogue_size:
            raise ConfigError(f"need 0 < zero_shot_shown <= shown_per_list < catalogue_size, got "
                              f"{self.zero_shot_shown}, {self.shown_per_list}, {self.catalogue_size}")
        if not self.event_counts or min(self.event_counts) < 0 or self.seeds < 1 or self.test_requests < 1:
            raise ConfigError("event_counts must be >= 0 and non-empty; seeds and test_requests >= 1")


class World:
    """One seeded catalogue; ``requests(n)`` draws requests and returns their feature tensors."""

    def __init__(self, config: FeedbackSimConfig, rng: np.random.Generator) -> None:
        n = config.catalogue_size
        self.config, self.rng = config, rng
        self.bpm = rng.uniform(70, 170, n)
        self.track_s = rng.uniform(15, 240, n)
        self.valence, self.arousal = rng.beta(2, 2, n), rng.beta(2, 2, n)
        self.popularity = scoring.popularity_fit(use_count=np.floor(rng.lognormal(2.0, 1.5, n)))

    def requests(self, count: int) -> np.ndarray:
        """Features of every track for ``count`` new requests: np.ndarray [shape=(count, catalogue, k)]."""
        r, n = self.rng, self.config.catalogue_size
        out = np.empty((count, n, len(FEATURES)))
        for i in range(count):
            valence, arousal = r.beta(2, 2), r.beta(2, 2)
            columns = {
                "semantic": scoring.semantic_fit(np.clip(r.normal(0.2, 0.15, n), -1, 1)),
                "tempo": scoring.tempo_fit(cuts_per_min=r.uniform(6, 60), bpm=self.bpm),
                "energy": scoring.energy_fit(footage_energy=arousal, music_energy=self.arousal),
                "mood": scoring.mood_fit(footage_valence=valence, footage_arousal=arousal,
                                         music_valence=self.valence, music_arousal=self.arousal),
                "duration": scoring.duration_fit(footage_s=r.uniform(10, 90), track_s=self.track_s),
                "popularity": self.popularity}
            out[i] = np.stack([columns[f] for f in FEATURES], axis=1)
        return out

    def creators(self, count: int) -> np.ndarray:
        """Hidden weights of ``count`` creators: np.ndarray [shape=(count, k)], >= 0."""
        w = np.array([self.config.hidden_weights[f] for f in FEATURES])
        return np.clip(w + self.rng.normal(0, self.config.creator_spread, (count, w.size)), 0, None)


def recall_at_k(weights: np.ndarray, features: np.ndarray, creators: np.ndarray, *, k: int) -> float:
    """Share of requests whose creator's hidden-best track is in the top ``k`` under ``weights``.

    Args:
        weights: np.ndarray [shape=(n_features,)] (or [shape=(requests, n_features)] per request).
        features: np.ndarray [shape=(requests, catalogue, n_features)].
        creators: np.ndarray [shape=(requests, n_features)], the hidden weights.
    """
    scores = np.einsum("rcf,rf->rc", features, np.broadcast_to(weights, creators.shape))
    best = np.einsum("rcf,rf->rc", features, creators).argmax(axis=1)
    rank = (scores > scores[np.arange(len(best)), best][:, None]).sum(axis=1)
    return float(np.mean(rank < k))


def _simulate_events(world: World, store: FeedbackStore, *, lists: int, noise_condition: bool) -> None:
    """Write ``lists`` shown lists with the creators' choices into ``store``."""
    c, r = world.config, world.rng
    zero = FusionModel.zero_shot().vector()
    features = world.requests(lists)
    creators = np.repeat(world.creators(-(-lists // c.lists_per_session)), c.lists_per_session, axis=0)
    for i in range(lists):
        top = np.argsort(-(features[i] @ zero))[: c.zero_shot_shown]
        rest = r.choice(np.setdiff1d(np.arange(c.catalogue_size), top), c.shown_per_list - len(top), replace=False)
        shown = np.concatenate([top, rest])
        if noise_condition:
            kept = int(r.integers(len(shown)))
        else:
            utility = features[i, shown] @ creators[i] + r.gumbel(0, c.choice_noise, len(shown))
            kept = int(utility.argmax())
        session, kind = f"creator-{i // c.lists_per_session}", "music"
        store.record_shown(session_id=session, kind=kind, context={"request": i},
                           candidates=[(f"track-{t}", dict(zip(FEATURES, map(float, features[i, t]))))
                                       for t in shown])
        store.record_action(session_id=session, kind=kind, candidate_id=f"track-{shown[kept]}", action="kept")
        if r.random() < 0.5:
            store.record_action(session_id=session, kind=kind, candidate_id=f"track-{shown[kept]}",
                                action="exported")
        other = int(r.choice(np.setdiff1d(np.arange(len(shown)), [kept])))
        store.record_action(session_id=session, kind=kind, candidate_id=f"track-{shown[other]}", action="skipped")


class FeedbackSimulator:
    """Callable evaluator: ``FeedbackSimulator(config)()`` -> dict of metrics (JSON-ready)."""

    def __init__(self, config: FeedbackSimConfig | None = None) -> None:
        self.config = config or FeedbackSimConfig()

    def __call__(self) -> dict:
        c = self.config
        runs, baselines = [], {"zero_shot": [], "popularity": [], "hidden_population": []}
        for seed in range(c.seeds):
            world = World(c, np.random.default_rng(seed))
            test_x, test_w = world.requests(c.test_requests), world.creators(c.test_requests)
            baselines["zero_shot"].append(recall_at_k(FusionModel.zero_shot().vector(), test_x, test_w, k=c.top_k))
            baselines["popularity"].append(recall_at_k(np.eye(len(FEATURES))[FEATURES.index("popularity")],
                                                       test_x, test_w, k=c.top_k))
            baselines["hidden_population"].append(recall_at_k(
                np.array([c.hidden_weights[f] for f in FEATURES]), test_x, test_w, k=c.top_k))
            for condition in ("preference", "noise"):
                runs += self._learning_curve(world, test_x, test_w, seed=seed, condition=condition)
        return {"config": {**asdict(self.config), "features": list(FEATURES),
                           "zero_shot_weights": FusionModel.zero_shot().weights},
                "baselines": {k: _mean_sd(v) for k, v in baselines.items()} | {
                    "random": {"mean": c.top_k / c.catalogue_size, "sd": 0.0}},
                "curves": _summarise(runs), "runs": runs}

    def _learning_curve(self, world: World, test_x: np.ndarray, test_w: np.ndarray, *, seed: int,
                        condition: str) -> list[dict]:
        c = self.config
        with tempfile.TemporaryDirectory() as tmp:
            store = FeedbackStore(Path(tmp) / "feedback.sqlite")
            _simulate_events(world, store, lists=max(c.event_counts), noise_condition=condition == "noise")
            events = store.events()
        first_ids = events["shown_id"].drop_duplicates().to_numpy()
        rows = []
        for n in c.event_counts:
            fit = train_fusion(events[events["shown_id"].isin(first_ids[:n])], prior=FusionModel.zero_shot(),
                               l2=c.l2, seed=seed)
            rows.append({"seed": seed, "condition": condition, "events": n, "accepted": fit.accepted,
                         "r_at_k": recall_at_k(fit.model.vector(), test_x, test_w, k=c.top_k),
                         "heldout_accuracy_prior": fit.heldout_accuracy_prior,
                         "heldout_accuracy_new": fit.heldout_accuracy_new, "weights": fit.model.weights})
        return rows


def _mean_sd(values: list[float]) -> dict[str, float]:
    v = np.asarray(values, dtype=float)
    return {"mean": float(np.nanmean(v)) if np.isfinite(v).any() else None,
            "sd": float(np.nanstd(v)) if np.isfinite(v).any() else None}


def _summarise(runs: list[dict]) -> dict[str, list[dict]]:
    curves: dict[str, list[dict]] = {}
    for condition in dict.fromkeys(r["condition"] for r in runs):
        for n in dict.fromkeys(r["events"] for r in runs):
            group = [r for r in runs if r["condition"] == condition and r["events"] == n]
            curves.setdefault(condition, []).append({
                "events": n, "r_at_k": _mean_sd([r["r_at_k"] for r in group]),
                "accepted_share": float(np.mean([r["accepted"] for r in group])),
                "heldout_accuracy_prior": _mean_sd([r["heldout_accuracy_prior"] for r in group]),
                "heldout_accuracy_new": _mean_sd([r["heldout_accuracy_new"] for r in group]),
                "weights": {f: float(np.mean([r["weights"][f] for r in group])) for f in FEATURES}})
    return curves


def _fmt(stat: dict, digits: int = 3) -> str:
    return "-" if stat["mean"] is None else f"{stat['mean']:.{digits}f} ± {stat['sd']:.{digits}f}"


def write_report(metrics: dict, *, out_dir: Path, command: str) -> None:
    """Write ``feedback.json``, ``feedback.md`` (tables and the command; notes after ``NOTES_MARKER`` in an
    existing file are kept) and ``feedback.png`` to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "feedback.json").write_text(json.dumps({**metrics, "command": command}, indent=1) + "\n",
                                           encoding="utf-8")
    c, k = metrics["config"], metrics["config"]["top_k"]
    lines = ["# Learning from kept candidates: simulated creators", "", f"Made by `{command}`.", "",
             f"R@{k}: share of {c['test_requests']} fresh requests whose hidden-best of {c['catalogue_size']} "
             f"tracks is in the top {k}; mean ± sd over {c['seeds']} seeds. Events are shown lists of "
             f"{c['shown_per_list']} with one kept track.", "",
             f"| events | R@{k}, preference events | accepted | held-out pair acc. prior -> new | R@{k}, noise events "
             "| accepted | held-out pair acc. prior -> new |", "|---|---|---|---|---|---|---|"]
    for pref, noise in zip(metrics["curves"]["preference"], metrics["curves"]["noise"]):
        lines.append(f"| {pref['events']} | {_fmt(pref['r_at_k'])} | {pref['accepted_share']:.0%} | "
                     f"{_fmt(pref['heldout_accuracy_prior'])} -> {_fmt(pref['heldout_accuracy_new'])} | "
                     f"{_fmt(noise['r_at_k'])} | {noise['accepted_share']:.0%} | "
                     f"{_fmt(noise['heldout_accuracy_prior'])} -> {_fmt(noise['heldout_accuracy_new'])} |")
    lines += ["", f"| baseline | R@{k} |", "|---|---|"]
    lines += [f"| {name} | {_fmt(stat)} |" for name, stat in metrics["baselines"].items()]
    lines += ["", "| weights | " + " | ".join(FEATURES) + " |", "|---|" + "---|" * len(FEATURES)]
    for name, w in (("zero-shot", c["zero_shot_weights"]), ("hidden (population)", c["hidden_weights"]),
                    *((f"learned, {cond}, {curve[-1]['events']} events", curve[-1]["weights"])
                      for cond, curve in metrics["curves"].items())):
        lines.append(f"| {name} | " + " | ".join(f"{w[f]:.3f}" for f in FEATURES) + " |")
    target = out_dir / "feedback.md"
    old = target.read_text(encoding="utf-8") if target.is_file() else ""
    notes = old[old.index(NOTES_MARKER):] if NOTES_MARKER in old else NOTES_MARKER + "\n"
    target.write_text("\n".join(lines) + "\n\n" + notes, encoding="utf-8")
    _plot(metrics, out_dir / "feedback.png")


def _plot(metrics: dict, target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    counts = [p["events"] for p in metrics["curves"]["preference"]]
    x = np.arange(len(counts))  # evenly spaced: the counts grow roughly geometrically and start at 0
    for condition, style in (("preference", "o-"), ("noise", "s--")):
        curve = metrics["curves"][condition]
        y, sd = np.array([p["r_at_k"]["mean"] for p in curve]), np.array([p["r_at_k"]["sd"] for p in curve])
        ax.plot(x, y, style, label=f"learned from {condition} events")
        ax.fill_between(x, y - sd, y + sd, alpha=0.15)
    for (name, stat), colour in zip(metrics["baselines"].items(), ("grey", "tab:brown", "tab:green", "black")):
        ax.axhline(stat["mean"], color=colour, ls=":", lw=1, label=name.replace("_", " "))
    ax.set_xticks(x, [str(n) for n in counts])
    ax.set(xlabel="events (shown lists with a kept track)", ylabel=f"R@{metrics['config']['top_k']}",
           ylim=(0, 1.02), title="Fusion trained on simulated creators")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
