"""ROUGE for titles in Chinese and English, and the former English-only evaluation of the seq2seq default.

:func:`rouge_tokens` and :func:`rouge_f1` score a title against a human one in either language: Chinese at the
character level (every letter or digit is a token; spaces, punctuation, symbols and emoji are not), English at the
word level (lower-cased runs of letters and digits, no stemming, which on ASCII text is exactly the tokenization of
``rouge_score`` without its stemmer). ``python -m titlegen.evaluate titles`` uses them to compare the generators
on the curated validation pairs of both languages.

``python -m titlegen.rouge_eval --data ../shared/data`` is the earlier evaluation of the former default
(``minilm-title-decoder``) on the English corpus of :mod:`titlegen.corpus`, kept to reproduce
``docs/titlegen/quality.md``. Systems, all on the same validation pairs (split by test / article / video / product, see
:func:`titlegen.corpus.split_pairs`):

* ``lead``: the brief's first sentence cut at a word boundary to the limit (the classic summarisation baseline);
* ``warm_start``: the untrained MiniLM encoder-decoder (what training starts from): its best beam, cut to the
  limit;
* ``default_beam``: the former default's best beam-search title;
* ``default_ranked``: the former default's top candidate after ranking beam, sampled and lead candidates by
  model log-probability (what ``load_generator("minilm-title-decoder")`` returns first).

Controls are those a creator would know without seeing the human title: the data set's usual style, the audience
from the article's category, and for products the brand as selling point; the limit is 100 characters. (The
training labels also name selling points taken from the human title, which would leak it here.)

Writes ``quality.json`` (ROUGE-1/2/L F1 overall and per data set) and ``quality.md`` (table + 20 samples).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from titlegen.controls import Controls
from titlegen.corpus import load_pairs, split_pairs
from titlegen.generator import TitleGenerator, TitleRequest, cut_to_limit, lead_title

_WORD = re.compile(r"[^\W_]+")


def rouge_tokens(text: str, language: str) -> list[str]:
    """The tokens ROUGE counts in ``text``, lower-cased.

    Args:
        text: a title.
        language: ``"zh"``: one token per character that is a letter or a digit (Unicode categories L and N), so
            Han characters, Latin letters and digits each count one and spaces, punctuation, symbols and emoji
            count nothing; anything else (``"en"``): words, the runs of letters and digits.
    """
    lowered = unicodedata.normalize("NFKC", text).lower()
    if language == "zh":
        return [ch for ch in lowered if unicodedata.category(ch)[0] in "LN"]
    return _WORD.findall(lowered)


def _f1(overlap: int, n_pred: int, n_ref: int) -> float:
    if overlap == 0 or n_pred == 0 or n_ref == 0:
        return 0.0
    precision, recall = overlap / n_pred, overlap / n_ref
    return 2 * precision * recall / (precision + recall)


def _ngrams(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token sequences (O(len(a) * len(b)) time)."""
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_f1(reference: str, prediction: str, *, language: str) -> dict[str, float]:
    """ROUGE-1, ROUGE-2 and ROUGE-L F1 in [0, 1] of ``prediction`` against ``reference``.

    N-gram matches are clipped counts (an n-gram matches at most as often as it occurs in the other text);
    ROUGE-L is the longest common subsequence over the two token sequences. An empty side scores 0.

    Args:
        reference: the human title.
        prediction: the generated title.
        language: the reference's language, which sets the tokens (:func:`rouge_tokens`).

    Returns:
        ``{"rouge1": f, "rouge2": f, "rougeL": f}``.
    """
    ref, pred = rouge_tokens(reference, language), rouge_tokens(prediction, language)
    out = {}
    for n in (1, 2):
        r, p = _ngrams(ref, n), _ngrams(pred, n)
        out[f"rouge{n}"] = _f1(sum((r & p).values()), sum(p.values()), sum(r.values()))
    out["rougeL"] = _f1(lcs_length(ref, pred), len(pred), len(ref))
    return out


_DATASET_STYLE = {"upworthy": "lifestyle", "youtube": "lifestyle", "huffpost": "news", "mind": "news",
                  "myntra": "selling-point"}
LIMIT = 100


def creator_request(row: pd.Series) -> TitleRequest:
    """The request a creator would have written for a validation pair (no knowledge of the human title)."""
    points = tuple(row["points"].split("; ")[:1]) if row["dataset"] == "myntra" and row["points"] else ()
    return TitleRequest(row["source"], Controls(style=_DATASET_STYLE[row["dataset"]], audience=row["audience"],
                                                selling_points=points, max_chars=LIMIT))


class RougeEvaluator:
    """ROUGE-1/2/L F1 of predicted titles against the human ones.

    Args:
        pairs: frame with ``source``, ``title``, ``dataset`` (and the control columns of the corpus).
    """

    def __init__(self, pairs: pd.DataFrame) -> None:
        from rouge_score import rouge_scorer

        self.pairs = pairs.reset_index(drop=True)
        self.scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)

    def score(self, predictions: list[str]) -> dict:
        """Mean F1 per ROUGE type, overall and per data set, for ``predictions`` aligned with the pairs."""
        rows = []
        for (_, pair), pred in zip(self.pairs.iterrows(), predictions):
            s = self.scorer.score(pair["title"], pred)
            rows.append({"dataset": pair["dataset"], **{k: v.fmeasure for k, v in s.items()}})
        df = pd.DataFrame(rows)
        keys = ["rouge1", "rouge2", "rougeL"]
        return {"n": len(df), **{k: round(float(df[k].mean()), 4) for k in keys},
                "by_dataset": {d: {"n": int(len(g)), **{k: round(float(g[k].mean()), 4) for k in keys}}
                               for d, g in df.groupby("dataset")}}

    def __call__(self, predict: Callable[[list[TitleRequest]], list[str]]) -> dict:
        requests = [creator_request(r) for _, r in self.pairs.iterrows()]
        started = time.time()
        predictions = predict(requests)
        return {**self.score(predictions), "seconds": round(time.time() - started, 1), "predictions": predictions}


def _candidates(generator: TitleGenerator, requests: list[TitleRequest], *, samples: int):
    return generator(requests, num_titles=10, batch_size=16, num_beams=4, num_samples=samples)


def best_beam(cands) -> str:
    """The best beam-search title among ranked candidates (the top candidate when no beam one survived)."""
    beams = [c for c in cands if c.source == "beam"]
    return max(beams, key=lambda c: c.logprob).text if beams else cands[0].text


def main(argv: list[str] | None = None) -> None:
    from titlegen.casing import load_lexicon
    from titlegen.loading import LEXICON_FILE, load_generator
    from titlegen.model import DEFAULT_MODEL_DIR, build_minilm_encoder_decoder

    parser = argparse.ArgumentParser(prog="python -m titlegen.rouge_eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the shared/data folder")
    parser.add_argument("--out", type=Path, default=Path("docs/titlegen"))
    parser.add_argument("--limit", type=int, default=600, help="validation pairs to use (random, seeded)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-warm-start", action="store_true")
    args = parser.parse_args(argv)

    _, val = split_pairs(load_pairs(args.data, seed=args.seed))
    val = val.drop_duplicates("source")  # Upworthy winners appear twice; score each brief once
    pairs = val.sample(n=min(args.limit, len(val)), random_state=args.seed) if args.limit else val
    evaluator = RougeEvaluator(pairs)
    results: dict = {"validation_pairs": len(pairs), "split": "grouped by test/article/video/product, 5 %",
                     "limit_chars": LIMIT, "systems": {}}
    results["systems"]["lead"] = evaluator(lambda reqs: [lead_title(r.brief, LIMIT) for r in reqs])
    if not args.skip_warm_start:
        model, tok = build_minilm_encoder_decoder()
        warm = TitleGenerator(model, tok, lexicon=load_lexicon(DEFAULT_MODEL_DIR / LEXICON_FILE))
        # The untrained model's beams often run past the limit and would be filtered, leaving only the lead
        # candidate: judge its own best beam instead, generated without the limit and cut to it afterwards.
        def warm_beams(reqs):
            free = [TitleRequest(r.brief, replace(r.controls, max_chars=500)) for r in reqs]
            return [cut_to_limit(best_beam(c), LIMIT) for c in _candidates(warm, free, samples=0)]

        results["systems"]["warm_start"] = evaluator(warm_beams)
    # One generation pass gives both views of the default: its best beam title and its top-ranked candidate.
    default = load_generator(DEFAULT_BASE)
    cache: dict = {}

    def ranked(reqs):
        cache["cands"] = _candidates(default, reqs, samples=4)
        return [c[0].text for c in cache["cands"]]

    results["systems"]["default_ranked"] = evaluator(ranked)
    results["systems"]["default_beam"] = evaluator(lambda reqs: [best_beam(c) for c in cache["cands"]])
    args.out.mkdir(parents=True, exist_ok=True)
    _write_report(results, pairs, args)


def _write_report(results: dict, pairs: pd.DataFrame, args: argparse.Namespace) -> None:
    systems = results["systems"]
    preds = {name: s.pop("predictions") for name, s in systems.items()}
    (args.out / "quality.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    lines = ["# Title quality on the grouped validation split", "",
             f"Command: `python -m titlegen.rouge_eval --data ../shared/data --limit {args.limit}`; "
             f"{results['validation_pairs']} validation pairs, titles limited to {LIMIT} characters.", "",
             "| system | ROUGE-1 | ROUGE-2 | ROUGE-L | seconds |", "|---|---|---|---|---|"]
    for name, s in systems.items():
        lines.append(f"| {name} | {s['rouge1']:.3f} | {s['rouge2']:.3f} | {s['rougeL']:.3f} | {s['seconds']} |")
    lines += ["", "ROUGE-L by data set:", "", "| data set | n | " + " | ".join(systems) + " |",
              "|---|---|" + "---|" * len(systems)]
    for ds in sorted(next(iter(systems.values()))["by_dataset"]):
        cells = [f"{systems[s]['by_dataset'][ds]['rougeL']:.3f}" for s in systems]
        lines.append(f"| {ds} | {systems['lead']['by_dataset'][ds]['n']} | " + " | ".join(cells) + " |")
    lines += ["", "## 20 random validation samples", ""]
    rng = random.Random(args.seed)
    for i in sorted(rng.sample(range(len(pairs)), min(20, len(pairs)))):
        row = pairs.iloc[i]
        lines += [f"**{row['dataset']}** brief: {row['source'][:220]}{'...' if len(row['source']) > 220 else ''}",
                  f"- human: {row['title']}"]
        lines += [f"- {name}: {preds[name][i]}" for name in preds if name != "lead"]
        lines.append("")
    (args.out / "quality.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(json.dumps({k: {m: v[m] for m in ("rouge1", "rouge2", "rougeL")} for k, v in systems.items()}))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
