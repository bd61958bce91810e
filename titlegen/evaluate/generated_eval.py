"""T3: generated titles against the human ones, on held-out Upworthy tests.

For each test the generator writes candidates from the lede; one is kept by the ranking score
``logit(predicted CTR) - restraint * patterns + relevance_weight * similarity`` (:func:`titlegen.clickbait.
ranking_score`). The two weights are chosen on *tuning* tests: held-out tests (unseen by the generator and the
click model) outside the evaluation sample, so the evaluation tests decide nothing. Every candidate is scored once
(:func:`score_table`); keeping and judging under any weights is then table arithmetic.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from titlegen.clickbait import clickbait_patterns
from titlegen.controls import Controls
from titlegen.ctr_metrics import bootstrap_mean_ci

LIMIT = 100
#: Restraint (log-odds per clickbait pattern group) and relevance weight (log-odds per unit of cosine similarity to
#: the lede) tried on the tuning tests.
RESTRAINT_GRID = (0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0)
RELEVANCE_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
MIN_LEDE_CHARS = 30


def clickbait_classifier(data_root: Path):
    """TF-IDF logistic classifier of clickbait vs news-wire headlines (evaluation guardrail only)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts, labels = [], []
    for name, label in (("clickbait_data.txt", 1), ("non_clickbait_data.txt", 0)):
        lines = (data_root / "clickbait" / name).read_text(encoding="utf-8", errors="replace").splitlines()
        kept = [t.strip() for t in lines if t.strip()]
        texts += kept
        labels += [label] * len(kept)
    return make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                         LogisticRegression(max_iter=2000)).fit(texts, labels)


def split_t3_tests(frame: pd.DataFrame, *, n_tests: int, n_tuning: int, seed: int) -> tuple[list, list]:
    """``(evaluation tests, tuning tests)``: a seeded sample of ``n_tests`` tests of ``frame`` whose lede has at
    least :data:`MIN_LEDE_CHARS` characters, and up to ``n_tuning`` of the other such tests; disjoint."""
    tests = pd.Series(frame.loc[frame["lede"].str.len() >= MIN_LEDE_CHARS, "test"].unique())
    order = tests.sample(frac=1.0, random_state=seed).tolist()
    evaluation = tests.sample(n=min(n_tests, len(tests)), random_state=seed).tolist()
    chosen = set(evaluation)
    return evaluation, [t for t in order if t not in chosen][:n_tuning]


def generate(generator, frame: pd.DataFrame, tests: list, *, n_candidates: int, seed: int):
    """``(groups, ledes, candidates)`` for ``tests`` of ``frame``: every candidate that passes the generator's own
    filters (half beam search, half sampling, plus the lede's lead), with predicted CTR and similarity."""
    groups = [frame[frame["test"] == t] for t in tests]
    ledes = [g["lede"].iloc[0] for g in groups]
    half = n_candidates // 2
    cands = generator(ledes, controls=Controls(style="lifestyle", max_chars=LIMIT), num_titles=4 * n_candidates,
                      num_beams=half, num_samples=n_candidates - half, seed=seed)
    return groups, ledes, cands


def _rouge_l(scorer, text: str, refs: list[str]) -> float:
    return max((scorer.score(r, text)["rougeL"].fmeasure for r in refs), default=0.0)


def _winner(g: pd.DataFrame) -> str:
    return g["headline"].iloc[int(np.argmax(g["ctr"].to_numpy()))]


def score_table(groups, ledes, cands, *, model, bow, bait, scorer) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score every candidate and every test's human winner once.

    Returns ``(candidates, tests)``: one row per candidate (``test`` index, ``text``, ``source``, ``ctr``,
    ``similarity``, ``patterns``, click-model ``utility``, bag-of-words ``bow``, ``bait`` flag, ``rougeL`` to the
    test's headlines, ``rougeL_other`` to the next test's headlines) and one row per test (the same for its human
    winner, against the *other* arms, plus the utility of the mean arm).
    """
    cand_rows, test_rows = [], []
    for t, (g, lede, cs) in enumerate(zip(groups, ledes, cands)):
        heads, winner = g["headline"].tolist(), _winner(g)
        other_heads = groups[(t + 1) % len(groups)]["headline"].tolist()  # another article: the off-topic floor
        texts = [c.text for c in cs]
        u = model.utility(texts + heads, [lede] * (len(texts) + len(heads)))
        b = bow.score_texts(texts + [winner])
        for j, c in enumerate(cs):
            cand_rows.append({"test": t, "text": c.text, "source": c.source, "ctr": c.predicted_ctr,
                              "similarity": c.similarity if c.similarity is not None else 0.0,
                              "patterns": len(clickbait_patterns(c.text)), "utility": float(u[j]),
                              "bow": float(b[j]), "rougeL": _rouge_l(scorer, c.text, heads),
                              "rougeL_other": _rouge_l(scorer, c.text, other_heads)})
        u_heads = u[len(texts):]
        test_rows.append({"test": t, "winner": winner, "u_winner": float(u_heads[heads.index(winner)]),
                          "u_mean_arm": float(u_heads.mean()), "bow_winner": float(b[-1]), "len_winner": len(winner),
                          "rougeL_winner": _rouge_l(scorer, winner, [h for h in heads if h != winner]),
                          "rougeL_winner_other": _rouge_l(scorer, winner, other_heads)})
    cand_df, test_df = pd.DataFrame(cand_rows), pd.DataFrame(test_rows).set_index("test")
    cand_df["bait"] = bait.predict_proba(cand_df["text"])[:, 1] > 0.5
    test_df["bait_winner"] = bait.predict_proba(test_df["winner"])[:, 1] > 0.5
    return cand_df, test_df


def keep(cand_df: pd.DataFrame, restraint: float, relevance_weight: float) -> pd.DataFrame:
    """The kept candidate of each test (one row per test, indexed by test) under the ranking score; the same
    arithmetic as :func:`titlegen.clickbait.ranking_score`, vectorised. Ties keep the earlier candidate."""
    p = cand_df["ctr"].clip(1e-9, 1 - 1e-9)
    score = np.log(p / (1 - p)) - restraint * cand_df["patterns"] + relevance_weight * cand_df["similarity"]
    return cand_df.loc[score.groupby(cand_df["test"]).idxmax()].set_index("test")


def summarise(kept: pd.DataFrame, test_df: pd.DataFrame, cand_df: pd.DataFrame) -> dict:
    """Win rates of the kept titles and the guardrails beside the human winners' (fractions in [0, 1])."""
    k, h = kept, test_df.loc[kept.index]
    r = lambda x: round(float(x), 4)  # noqa: E731
    return {"win_rate_vs_human_winner": r((k["utility"] > h["u_winner"]).mean()),
            "mean_p_beats_winner": r((1 / (1 + np.exp(-(k["utility"] - h["u_winner"])))).mean()),
            "win_rate_vs_mean_human_arm": r((k["utility"] > h["u_mean_arm"]).mean()),
            "win_rate_vs_winner_bow_judge": r((k["bow"] > h["bow_winner"]).mean()),
            "kept_source_share": k["source"].value_counts(normalize=True).round(3).to_dict(),
            "guardrails": {"rougeL_to_human_headlines_kept": r(k["rougeL"].mean()),
                           "rougeL_to_other_arms_human_winner": r(h["rougeL_winner"].mean()),
                           "rougeL_best_candidate_oracle": r(cand_df.groupby("test")["rougeL"].max().mean()),
                           "rougeL_to_another_test_kept": r(k["rougeL_other"].mean()),
                           "rougeL_to_another_test_human_winner": r(h["rougeL_winner_other"].mean()),
                           "clickbait_rate_kept": r(k["bait"].mean()),
                           "clickbait_rate_human_winner": r(h["bait_winner"].mean()),
                           "within_limit_kept": r((k["text"].str.len() <= LIMIT).mean()),
                           "within_limit_human_winner": r((h["len_winner"] <= LIMIT).mean())}}


def intervals(kept: pd.DataFrame, test_df: pd.DataFrame) -> dict:
    """95 % bootstrap intervals over tests: the win rate against the human winner, and the paired differences
    kept - human winner of the clickbait rate and of ROUGE-L (a difference whose interval holds 0 is not detectably
    different on these tests)."""
    h = test_df.loc[kept.index]
    r = lambda ci: [round(v, 4) for v in ci]  # noqa: E731
    return {"win_rate_vs_human_winner": r(bootstrap_mean_ci((kept["utility"] > h["u_winner"]).to_numpy(float))),
            "clickbait_rate_kept_minus_human_winner": r(bootstrap_mean_ci(
                kept["bait"].to_numpy(float) - h["bait_winner"].to_numpy(float))),
            "rougeL_kept_minus_human_winner": r(bootstrap_mean_ci(
                kept["rougeL"].to_numpy() - h["rougeL_winner"].to_numpy()))}


def per_test(kept: pd.DataFrame, test_df: pd.DataFrame) -> pd.DataFrame:
    """One row per evaluation test: the human winner and the kept title with what judged them."""
    h = test_df.loc[kept.index]
    return pd.DataFrame({"human_winner": h["winner"], "kept": kept["text"], "source": kept["source"],
                         "beats_winner": kept["utility"] > h["u_winner"], "kept_clickbait": kept["bait"],
                         "winner_clickbait": h["bait_winner"], "kept_rougeL": kept["rougeL"].round(4),
                         "winner_rougeL": h["rougeL_winner"].round(4), "kept_similarity": kept["similarity"]})


def weight_curve(cand_df: pd.DataFrame, test_df: pd.DataFrame) -> pd.DataFrame:
    """Win rate, clickbait rate and ROUGE-L of the kept titles for every grid point (one row each)."""
    rows = []
    for restraint in RESTRAINT_GRID:
        for weight in RELEVANCE_GRID:
            s = summarise(keep(cand_df, restraint, weight), test_df, cand_df)
            rows.append({"restraint": restraint, "relevance_weight": weight, "win": s["win_rate_vs_human_winner"],
                         "clickbait": s["guardrails"]["clickbait_rate_kept"],
                         "rougeL": s["guardrails"]["rougeL_to_human_headlines_kept"]})
    return pd.DataFrame(rows)


def choose_weights(curve: pd.DataFrame, human_rate: float, n_tests: int) -> tuple[float, float, float]:
    """``(restraint, relevance_weight, clickbait ceiling)`` from a :func:`weight_curve` of the tuning tests.

    The rule: among grid points whose kept titles are flagged as clickbait at most ``human_rate - SE`` of the time
    (SE = the binomial standard error of ``human_rate`` on ``n_tests`` tests, a margin against the noise between
    tuning and evaluation tests), the highest win rate against the human winners; ties go to smaller weights. With
    no such point, the lowest clickbait rate.
    """
    ceiling = human_rate - float(np.sqrt(human_rate * (1 - human_rate) / max(n_tests, 1)))
    ok = curve[curve["clickbait"] <= ceiling + 1e-12]
    if ok.empty:
        best = curve.sort_values(["clickbait", "restraint", "relevance_weight"]).iloc[0]
    else:
        best = ok.assign(neg=-ok["win"]).sort_values(["neg", "restraint", "relevance_weight"]).iloc[0]
    return float(best["restraint"]), float(best["relevance_weight"]), round(ceiling, 4)


def t3(prep, model, bow, data_root: Path, *, n_tests: int, n_candidates: int, seed: int,
       tuning_tests: int = 200) -> tuple[dict, pd.DataFrame]:
    """Choose the ranking weights on tuning tests, then keep and judge one generated title per evaluation test.

    Returns the metrics and the :func:`per_test` table."""
    from rouge_score import rouge_scorer

    from titlegen.diversity import compare_to_topk
    from titlegen.loading import load_generator

    generator = load_generator(click_model=model)
    generator.diversity = None  # T3 keeps the single best title; keep() ranks all candidates
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    bait = clickbait_classifier(data_root)
    eval_tests, tune_tests = split_t3_tests(prep.val, n_tests=n_tests, n_tuning=tuning_tests, seed=seed)
    tables = {}
    for name, tests, s in (("tuning", tune_tests, seed + 1), ("evaluation", eval_tests, seed)):
        groups, ledes, cands = generate(generator, prep.val, tests, n_candidates=n_candidates, seed=s)
        tables[name] = (*score_table(groups, ledes, cands, model=model, bow=bow, bait=bait, scorer=scorer), cands)
    tune_c, tune_t, _ = tables["tuning"]
    tune_curve = weight_curve(tune_c, tune_t)
    human_tune = float(tune_t["bait_winner"].mean())
    restraint, weight, ceiling = choose_weights(tune_curve, human_tune, len(tune_t))
    cand_df, test_df, cands = tables["evaluation"]
    kept = keep(cand_df, restraint, weight)
    diversity = [compare_to_topk(np.array([c.predicted_ctr for c in cs]), model.embed([c.text for c in cs]), 3)
                 for cs in cands if len(cs) > 3]
    samples = pd.DataFrame({"winner": test_df.loc[kept.index, "winner"], "kept": kept["text"],
                            "source": kept["source"]}).head(12)
    return {
        "tests": len(kept), "candidates_per_test": n_candidates, "limit_chars": LIMIT,
        "restraint": restraint, "relevance_weight": weight,
        "tuning": {"tests": len(tune_t), "human_winner_clickbait_rate": round(human_tune, 4),
                   "clickbait_ceiling": ceiling, "curve": tune_curve.to_dict(orient="records")},
        **summarise(kept, test_df, cand_df), "ci95": intervals(kept, test_df),
        "curve_evaluation": weight_curve(cand_df, test_df).to_dict(orient="records"),
        "diversity_top3": {k: round(float(np.mean([d[k] for d in diversity])), 4) for k in
                           ("quality_kept", "diversity_gain", "diversity_topk")} if diversity else {},
        "samples": samples.to_dict(orient="records"),
    }, per_test(kept, test_df)
