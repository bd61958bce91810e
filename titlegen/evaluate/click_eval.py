"""T1: validity of the click model's English head on held-out Upworthy tests and MIND impressions.

Every setting (C, n-gram weight, which system ships) is chosen by
pairwise accuracy pooled over grouped folds of the *training* tests; the held-out tests are scored once, after.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from titlegen.ctr import save_head
from titlegen.ctr_metrics import (calibration_bins, group_auc, pairwise_accuracy, pairwise_log_loss,
                                  top1_accuracy)
from titlegen.evaluate.prepare import Prepared
from titlegen.evaluate.systems import (System, bow_system, ensemble_system, length_system, linear_system,
                                      random_system, shipped_head)



def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _bootstrap_accuracy(u: np.ndarray, pairs, *, n_boot: int = 1000, seed: int = 0) -> list[float]:
    """95 % interval of pairwise accuracy, resampling whole tests."""
    ua, ub = u[pairs["a"].to_numpy()], u[pairs["b"].to_numpy()]
    right = np.where(ua == ub, 0.5, np.where(pairs["a_wins"].to_numpy(), ua > ub, ua < ub))  # as pairwise_accuracy
    tests = pairs["test"].to_numpy()
    names, inverse = np.unique(tests, return_inverse=True)
    sums, counts = np.bincount(inverse, right), np.bincount(inverse)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        pick = rng.integers(0, len(names), len(names))
        boots.append(sums[pick].sum() / counts[pick].sum())
    return [round(float(np.percentile(boots, 2.5)), 4), round(float(np.percentile(boots, 97.5)), 4)]


def t1_metrics(system: System, prep: Prepared) -> dict:
    """Pairwise accuracy (all / significant), top-1 vs chance, log-loss, MIND group AUC for one system."""
    u = system.utility["val"]
    pairs = prep.val_pairs
    ua, ub = u[pairs["a"].to_numpy()], u[pairs["b"].to_numpy()]
    sig = (pairs["p"] < 0.05).to_numpy()
    top1, chance = top1_accuracy(prep.val, u)
    out = {"pairwise_accuracy": round(pairwise_accuracy(ua, ub, pairs["a_wins"]), 4),
           "pairwise_accuracy_ci95": _bootstrap_accuracy(u, pairs),
           "pairwise_accuracy_significant": round(pairwise_accuracy(ua[sig], ub[sig], pairs["a_wins"][sig]), 4),
           "top1_winner_accuracy": round(top1, 4), "top1_chance": round(chance, 4), "detail": system.detail}
    if system.probabilistic:
        out["log_loss"] = round(pairwise_log_loss(_sigmoid(ua - ub), pairs["a_wins"]), 4)
    if "mind" in system.utility:
        um = system.utility["mind"]
        out["mind_group_auc"] = round(group_auc([um[rows] for rows, _ in prep.mind_val],
                                                [np.array(y) for _, y in prep.mind_val]), 4)
    return out


def floor_system(prep: Prepared, embedder, name: str) -> System:
    """The plain embedding + logistic-regression floor on another encoder's embeddings of the same arms."""
    emb = {split: np.asarray(embedder.encode(frame["headline"].tolist()), np.float64)
           for split, frame in (("train", prep.train), ("val", prep.val))}
    emb["mind"] = np.asarray(embedder.encode(prep.mind_titles), np.float64)
    return linear_system(dataclasses.replace(prep, emb=emb), name, embedding=True, light=False, mind_weight=0)[0]


def run_click_model_eval(prep: Prepared, out_dir: Path, *, save_dir: Path | None, command: str,
                         encoder: str, encoder_kind: str, floor_embedder=None) -> dict:
    """Fit every system on the training tests, score the held-out ones once, write the report (and the head).

    Args:
        prep: data featurised with the encoder named ``encoder`` (``encoder_kind`` of the project's encoder).
        floor_embedder: a second encoder (the old MiniLM) whose plain embedding + logistic floor is reported too.
    """
    systems = [random_system(prep), length_system(prep), bow_system(prep)]
    if floor_embedder is not None:
        systems.append(floor_system(prep, floor_embedder,
                                    f"embedding logistic ({getattr(floor_embedder, 'name', 'old')}, old floor)"))
    emb, _ = linear_system(prep, f"embedding logistic ({encoder}, floor)", embedding=True, light=False,
                           mind_weight=0)
    light_emb, _ = linear_system(prep, "embedding + light features", embedding=True, light=True, mind_weight=0)
    ngrams = ensemble_system(prep, light_emb, systems[2], mind_weight=0, name="embedding + light + word n-grams")
    # MIND pairs (non-commercial) and soft targets were options of the MiniLM model; they tied on its inner folds
    # and cost a third of the fitting time on two shared cores, so this run compares the two parts that matter.
    candidates = [light_emb, ngrams]
    # The system that ships is the best on the inner folds of the training tests (ties: the earlier, simpler one).
    ships = max(candidates, key=lambda s: s.fitted["inner_best"])
    ships.name += " (ships)"
    systems += [emb, *candidates]
    metrics = {s.name: t1_metrics(s, prep) | {"inner_cv_accuracy": (s.fitted or {}).get("inner_best")}
               for s in systems}
    head = shipped_head(prep, ships)
    pairs = prep.val_pairs
    u = ships.utility["val"]
    prob = _sigmoid(u[pairs["a"].to_numpy()] - u[pairs["b"].to_numpy()])
    ctx = np.asarray(prep.embedder.encode(prep.val["lede"].tolist()))
    sim = np.where(prep.val["lede"].to_numpy() != "", np.sum(prep.emb["val"] * ctx, axis=1), 0.0)
    ctr_pred = head.score(head.utility(prep.emb["val"], prep.val["headline"].tolist(), sim))
    result = {
        "command": command, "encoder": encoder, "skipped": prep.skipped.counts,
        "data": {"train_tests": int(prep.train["test"].nunique()), "val_tests": int(prep.val["test"].nunique()),
                 "train_pairs": len(prep.train_pairs), "val_pairs": len(pairs),
                 "val_significant_pairs": int((pairs["p"] < 0.05).sum()),
                 "mind_train_impressions": len(prep.mind_train), "mind_val_impressions": len(prep.mind_val)},
        "ships": ships.name, "systems": metrics,
        "calibration_pairwise": calibration_bins(prob, pairs["a_wins"].to_numpy(float)),
        "calibration_ctr": _ctr_deciles(ctr_pred, prep.val),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    _plot_calibration(result, out_dir / "calibration.png")
    _write_report(result, out_dir / "report.md")
    if save_dir is not None:
        save_head(save_dir, head, encoder=encoder, encoder_kind=encoder_kind,
                  meta={"trained_on": "Upworthy exploratory (training tests)"
                                      + (" + MIND small (training impressions)" if head.config.mind_weight else ""),
                        "system": ships.name, "val_fraction": 0.2, "train_pairs": len(prep.train_pairs),
                        "inner_cv_accuracy": ships.fitted["inner_best"], "heldout_metrics": metrics[ships.name],
                        "calibrated": True, "command": command})
    return result


def _ctr_deciles(pred: np.ndarray, arms) -> list[dict]:
    order = np.argsort(pred)
    out = []
    for chunk in np.array_split(order, 10):
        sub = arms.iloc[chunk]
        out.append({"predicted": float(pred[chunk].mean()), "observed": float(sub["clicks"].sum() /
                                                                               sub["impressions"].sum()),
                    "n": int(len(chunk))})
    return out


def _plot_calibration(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    pw = result["calibration_pairwise"]
    axes[0].plot([0, 1], [0, 1], "--", color="grey", lw=1)
    axes[0].plot([b["predicted"] for b in pw], [b["observed"] for b in pw], "o-")
    axes[0].set(xlabel="predicted P(arm a wins)", ylabel="observed share a wins", title="Pairwise calibration")
    ctr = result["calibration_ctr"]
    lim = max(max(b["predicted"] for b in ctr), max(b["observed"] for b in ctr)) * 1.1
    axes[1].plot([0, lim], [0, lim], "--", color="grey", lw=1)
    axes[1].plot([b["predicted"] for b in ctr], [b["observed"] for b in ctr], "o-")
    axes[1].set(xlabel="predicted CTR (decile mean)", ylabel="observed CTR", title="CTR calibration (held-out arms)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _write_report(result: dict, path: Path) -> None:
    d = result["data"]
    lines = ["# T1: click model (English head) on held-out Upworthy tests and MIND impressions", "",
             f"Command: `{result['command']}`", "", f"Encoder: {result['encoder']}. Ships: {result['ships']} "
             "(best pooled accuracy on 5 grouped inner folds of the training tests; the held-out tests were scored "
             "once, after every choice).", "",
             f"{d['train_tests']} training / {d['val_tests']} held-out tests (test id + image), {d['val_pairs']} "
             f"held-out pairs ({d['val_significant_pairs']} significant at p < 0.05, two-proportion z-test); "
             f"MIND: {d['mind_train_impressions']} / {d['mind_val_impressions']} impressions.", "",
             f"Skipped: {'; '.join(f'{k}: {v}' for k, v in result['skipped'].items())}.", "",
             "| system | inner CV acc. | held-out pairwise acc. (95 % CI) | significant pairs | top-1 (chance) | "
             "log-loss | MIND AUC |",
             "|---|---|---|---|---|---|---|"]
    for name, m in result["systems"].items():
        ci = m["pairwise_accuracy_ci95"]
        lines.append(f"| {name} | {m.get('inner_cv_accuracy') or '-'} | {m['pairwise_accuracy']:.3f} "
                     f"({ci[0]:.3f}-{ci[1]:.3f}) | "
                     f"{m['pairwise_accuracy_significant']:.3f} | {m['top1_winner_accuracy']:.3f} "
                     f"({m['top1_chance']:.3f}) | {m.get('log_loss', '-')} | {m.get('mind_group_auc', '-')} |")
    lines += ["", "Anchors: a prompted LLM judge reaches about 0.60 pairwise accuracy on this archive; a published "
              "82-84 % claim was withdrawn. Targets: >= 0.62 on all pairs, >= 0.70 on significant pairs.", "",
              "![calibration](calibration.png)"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
