"""The Chinese clickbait guardrail (HanCD) and how well the Chinese restraint patterns agree with human labels.

HanCD (``zh_titles/hancd_clickbait.csv``: Sina / Tencent news titles labelled clickbait or not, balanced by
construction, noisy) is deduplicated by title and split 80/20 by a hash of the title. On the training part, C and
the pattern-count threshold are chosen by 5-fold cross-validation; the held-out part is scored once. Systems:

* majority class; the restraint's own pattern groups (:data:`titlegen.clickbait.PATTERNS_ZH`), flagging a title
  with at least ``k`` groups (``k`` chosen on the training part);
* the guardrail: logistic regression on the encoder's title embedding plus the seven pattern-group indicators
  (numeric weights only: HanCD is research-only, so no vocabulary of it is kept), :func:`clickbait_classifier_zh`;
* a character 1-3-gram TF-IDF logistic regression, as the lexical reference (evaluation only, never shipped).

Beside them, the English side measured the same way on the English clickbait set (``clickbait/``, Chakraborty et
al. 2016, split 80/20 by a hash of the headline): the English restraint patterns and the English guardrail
(``titlegen.evaluate.generated_eval.clickbait_classifier``'s word TF-IDF logistic regression).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from titlegen.abtests import require_columns
from titlegen.clickbait import PATTERNS_ZH, clickbait_patterns
from titlegen.corpus import clean_text, in_validation
from titlegen.errors import InputFileError

C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0)


def load_hancd(data_root: str | Path) -> tuple[pd.DataFrame, int]:
    """HanCD titles and labels, one row per distinct title: ``(frame with title, label, source; duplicates
    dropped)``.

    Raises:
        InputFileError: the file is missing or lacks ``title`` / ``label_clickbait``.
    """
    path = Path(data_root) / "zh_titles" / "hancd_clickbait.csv"
    if not path.is_file():
        raise InputFileError(f"{path} not found; pass the shared/data folder")
    df = pd.read_csv(path)
    require_columns(df, ("title", "label_clickbait"), str(path))
    out = pd.DataFrame({"title": df["title"].map(clean_text), "label": pd.to_numeric(df["label_clickbait"],
                                                                                        errors="coerce"),
                        "source": df.get("source", pd.Series("", index=df.index)).astype(str)})
    out = out[(out["title"] != "") & out["label"].isin([0, 1])]
    dup = out.duplicated("title")
    return out[~dup].reset_index(drop=True), int(dup.sum())


def pattern_matrix(titles: list[str]) -> np.ndarray:
    """One 0/1 column per Chinese pattern group ``[shape=(n, 7)]``."""
    names = list(PATTERNS_ZH)
    return np.array([[float(n in clickbait_patterns(t, language="zh")) for n in names] for t in titles]
                    ).reshape(len(titles), len(names))


def _cv_choose_c(x, y: np.ndarray, folds: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    scores = {}
    for c in C_GRID:
        right = 0
        for k in np.unique(folds):
            lr = LogisticRegression(C=c, max_iter=3000).fit(x[folds != k], y[folds != k])
            right += (lr.predict(x[folds == k]) == y[folds == k]).sum()
        scores[c] = right / len(y)
    best = max(scores, key=scores.get)
    return best, round(float(scores[best]), 4)


def clickbait_classifier_zh(titles: list[str], labels: np.ndarray, embedder, *, c: float):
    """The Chinese guardrail fitted on ``titles``: a callable ``(titles) -> P(clickbait)`` ``[shape=(n,)]``."""
    from sklearn.linear_model import LogisticRegression

    def feats(ts: list[str]) -> np.ndarray:
        return np.hstack([np.asarray(embedder.encode(ts), np.float64), pattern_matrix(ts)])

    lr = LogisticRegression(C=c, max_iter=3000).fit(feats(titles), np.asarray(labels, int))
    return lambda ts: lr.predict_proba(feats(list(ts)))[:, 1]


def english_reference(data_root: Path) -> dict | None:
    """Held-out accuracy of the English restraint patterns and English guardrail on the English clickbait set
    (``None`` when the set is absent)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    folder = Path(data_root) / "clickbait"
    if not folder.is_dir():
        return None
    rows = []
    for name, label in (("clickbait_data.txt", 1), ("non_clickbait_data.txt", 0)):
        lines = (folder / name).read_text(encoding="utf-8", errors="replace").splitlines()
        rows += [(t.strip(), label) for t in lines if t.strip()]
    frame = pd.DataFrame(rows, columns=["title", "label"]).drop_duplicates("title")
    is_val = frame["title"].map(lambda t: in_validation("clickbait-en:" + t, val_fraction=0.2)).to_numpy()
    train, val = frame[~is_val], frame[is_val]
    n_tr = np.array([len(clickbait_patterns(t, language="en")) for t in train["title"]])
    k = max(range(1, 5), key=lambda j: np.mean((n_tr >= j) == train["label"].to_numpy()))
    n_val = np.array([len(clickbait_patterns(t, language="en")) for t in val["title"]])
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    lr = LogisticRegression(max_iter=2000).fit(vec.fit_transform(train["title"]), train["label"])
    y = val["label"].to_numpy()
    return {"train_titles": len(train), "val_titles": len(val), "pattern_threshold": k,
            "patterns_accuracy": round(float(np.mean((n_val >= k) == y)), 4),
            "guardrail_accuracy": round(float(np.mean(lr.predict(vec.transform(val["title"])) == y)), 4)}


def run_clickbait_zh_eval(data_root: Path, out_dir: Path, *, embedder, encoder: str, command: str) -> dict:
    """Fit on the training titles, score the held-out ones once; writes metrics.json and report.md."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    frame, dups = load_hancd(data_root)
    is_val = frame["title"].map(lambda t: in_validation("hancd:" + t, val_fraction=0.2)).to_numpy()
    train, val = frame[~is_val].reset_index(drop=True), frame[is_val].reset_index(drop=True)
    y_tr, y_val = train["label"].to_numpy(int), val["label"].to_numpy(int)
    folds = np.arange(len(train)) % 5
    systems = {"majority class": float(np.mean(y_val == np.bincount(y_tr).argmax()))}
    n_tr = pattern_matrix(train["title"].tolist()).sum(1)
    k = max(range(1, 5), key=lambda j: np.mean((n_tr >= j) == y_tr))
    n_val = pattern_matrix(val["title"].tolist()).sum(1)
    systems[f"restraint patterns (>= {k} groups)"] = float(np.mean((n_val >= k) == y_val))
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True)
    x_tr = vec.fit_transform(train["title"])
    c_tfidf, cv_tfidf = _cv_choose_c(x_tr, y_tr, folds)
    lr = LogisticRegression(C=c_tfidf, max_iter=3000).fit(x_tr, y_tr)
    systems["character n-gram TF-IDF logistic (reference)"] = float(np.mean(lr.predict(vec.transform(val["title"]))
                                                                         == y_val))
    emb_tr = np.hstack([np.asarray(embedder.encode(train["title"].tolist()), np.float64),
                        pattern_matrix(train["title"].tolist())])
    c_emb, cv_emb = _cv_choose_c(emb_tr, y_tr, folds)
    guard = clickbait_classifier_zh(train["title"].tolist(), y_tr, embedder, c=c_emb)
    p_val = guard(val["title"].tolist())
    systems[f"guardrail: embedding ({encoder}) + pattern groups logistic"] = float(np.mean((p_val >= 0.5) == y_val))
    result = {"command": command, "encoder": encoder,
              "data": {"train_titles": len(train), "val_titles": len(val), "duplicate_titles_dropped": dups,
                       "val_clickbait_share": round(float(y_val.mean()), 4)},
              "choices": {"pattern_threshold": k, "tfidf_c": c_tfidf, "tfidf_cv_accuracy": cv_tfidf,
                          "guardrail_c": c_emb, "guardrail_cv_accuracy": cv_emb},
              "systems": {n: round(v, 4) for n, v in systems.items()},
              "val_n_for_ci": len(val), "english_reference": english_reference(data_root)}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    se = float(np.sqrt(0.25 / len(val)))
    lines = ["# Chinese clickbait guardrail on held-out HanCD titles", "", f"Command: `{command}`", "",
             f"{len(train)} training / {len(val)} held-out titles (split by a hash of the title; {dups} duplicate "
             f"titles dropped); {result['data']['val_clickbait_share']:.0%} of the held-out titles are clickbait. "
             f"One standard error of an accuracy near 0.5 on the held-out titles: {se:.3f}.", "",
             "| system | held-out accuracy |", "|---|---|"]
    lines += [f"| {n} | {v:.3f} |" for n, v in result["systems"].items()]
    lines += ["", f"Choices on 5 folds of the training titles: pattern threshold {k}; TF-IDF C={c_tfidf} "
              f"(CV {cv_tfidf}); guardrail C={c_emb} (CV {cv_emb})."]
    en = result["english_reference"]
    if en:
        lines += ["", f"English side, same protocol on the English clickbait set ({en['train_titles']} / "
                  f"{en['val_titles']} headlines): restraint patterns (>= {en['pattern_threshold']} groups) "
                  f"{en['patterns_accuracy']:.3f}, guardrail (word TF-IDF logistic) {en['guardrail_accuracy']:.3f}."]
    (out_dir / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return result
