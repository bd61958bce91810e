"""``python -m titlegen.evaluate {click-model,engagement-zh,clickbait-zh,uplift,titles,briefs} ...``: the
evaluations, each with ``--help``."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m titlegen.evaluate",
                                     description="Click-through evaluation on real A/B tests (click-model, uplift: "
                                                 "metrics.json, report.md and PNG plots), title quality per "
                                                 "language (titles) and creator briefs to read (briefs).")
    sub = parser.add_subparsers(dest="command", required=True)
    cm = sub.add_parser("click-model", help="T1: pairwise accuracy, top-1, log-loss, calibration, MIND AUC")
    cm.add_argument("--data", type=Path, required=True, help="the shared/data folder")
    cm.add_argument("--out", type=Path, default=Path("docs/titlegen/click_model"))
    cm.add_argument("--save", type=Path, default=None,
                    help="also put the fitted English head into the click model in this folder")
    cm.add_argument("--encoder", default="multilingual", help="text encoder kind the features come from")
    cm.add_argument("--floor-encoder", default="minilm",
                    help="a second encoder kind whose plain embedding + logistic floor is reported ('' for none)")
    zh = sub.add_parser("engagement-zh", help="Z1: the Chinese head on held-out Bilibili uploaders (relative "
                                              "engagement) beside length, follower and embedding baselines")
    zh.add_argument("--data", type=Path, required=True, help="the shared/data folder")
    zh.add_argument("--out", type=Path, default=Path("docs/titlegen/click_model/zh"))
    zh.add_argument("--save", type=Path, default=None,
                    help="also put the fitted Chinese head into the click model in this folder")
    zh.add_argument("--encoder", default="multilingual", help="text encoder kind the features come from")
    cb = sub.add_parser("clickbait-zh", help="the Chinese clickbait guardrail and restraint patterns on held-out "
                                             "HanCD titles")
    cb.add_argument("--data", type=Path, required=True, help="the shared/data folder")
    cb.add_argument("--out", type=Path, default=Path("docs/titlegen/click_model/clickbait_zh"))
    cb.add_argument("--encoder", default="multilingual", help="text encoder kind the guardrail reads")
    up = sub.add_parser("uplift", help="T2 replay uplift and T3 generator uplift on held-out tests")
    up.add_argument("--data", type=Path, required=True, help="the shared/data folder")
    up.add_argument("--out", type=Path, default=Path("docs/titlegen/uplift"))
    up.add_argument("--model", type=Path, default=None, help="click model folder (default: the shipped one)")
    up.add_argument("--tests", type=int, default=150, help="held-out tests used for T3 (generation is slow)")
    up.add_argument("--candidates", type=int, default=32, help="titles generated per test for T3")
    up.add_argument("--tuning-tests", type=int, default=200,
                    help="held-out tests outside the T3 sample on which T3 chooses its ranking weights")
    up.add_argument("--seed", type=int, default=0)
    _add_titles(sub)
    _add_briefs(sub)
    args = parser.parse_args(argv)
    command = "python -m titlegen.evaluate " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    if args.command in ("titles", "briefs"):
        from titlegen.errors import TitleGenError

        try:
            return _titles(args, command) if args.command == "titles" else _briefs(args, command)
        except TitleGenError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2

    if args.command in ("engagement-zh", "clickbait-zh"):
        return _chinese(args, command)
    from titlegen.evaluate.prepare import prepare

    if args.command == "click-model":
        from titlegen.evaluate.click_eval import run_click_model_eval

        embedder = _encoder(args.encoder)
        run_click_model_eval(prepare(args.data, embedder=embedder), args.out, save_dir=args.save, command=command,
                             encoder=embedder.name, encoder_kind=embedder.kind_resolved,
                             floor_embedder=_encoder(args.floor_encoder) if args.floor_encoder else None)
    else:
        prep = prepare(args.data)
        from titlegen.evaluate.uplift_eval import run_uplift_eval

        run_uplift_eval(prep, args.out, data_root=args.data, model_dir=args.model, n_tests=args.tests,
                        n_candidates=args.candidates, seed=args.seed, command=command,
                        tuning_tests=args.tuning_tests)
    print(f"wrote {args.out}/metrics.json and report.md")
    return 0


def _encoder(kind: str):
    """The project's text encoder of ``kind``, behind the evaluations' disk memo of embeddings; ``kind_resolved``
    names the concrete encoder (``"multilingual"`` is whichever one measured best today, so a saved model records
    the concrete one)."""
    from titlegen.embedding import MULTILINGUAL, TextEmbedder
    from titlegen.evaluate.embed_cache import CachedEmbedder

    embedder = CachedEmbedder(TextEmbedder(kind=kind))
    embedder.kind_resolved = MULTILINGUAL if kind == "multilingual" else kind
    return embedder


def _chinese(args: argparse.Namespace, command: str) -> int:
    embedder = _encoder(args.encoder)
    if args.command == "engagement-zh":
        from titlegen.evaluate.engagement_eval import prepare_zh, run_engagement_eval

        result = run_engagement_eval(prepare_zh(args.data, embedder), args.out, save_dir=args.save,
                                     command=command, encoder=embedder.name, encoder_kind=embedder.kind_resolved)
        print(f"ships {result['ships']}: {result['systems'][result['ships']]['pairwise_accuracy']}")
    else:
        from titlegen.evaluate.clickbait_eval import run_clickbait_zh_eval

        result = run_clickbait_zh_eval(args.data, args.out, embedder=embedder, encoder=embedder.name,
                                       command=command)
        print(result["systems"])
    print(f"wrote {args.out}/metrics.json and report.md")
    return 0


def _add_titles(sub) -> None:
    from titlegen.evaluate.title_quality import DEFAULT_SYSTEMS, NAMED_SYSTEMS

    t = sub.add_parser("titles", help="ROUGE, faithfulness, language and length of each system's titles on the "
                                      "curated validation pairs of each language",
                       description="Per language and system: ROUGE-1/2/L against the human title (characters for "
                                   "Chinese, words for English), unsupported-number, language-match and "
                                   "within-limit rates, mean display length and generation seconds, with 20 "
                                   "samples. Generations are checkpointed in OUT/generations, so a rerun skips "
                                   "what is done.")
    t.add_argument("--val-dir", type=Path, default=Path(".train/default"),
                   help="folder with val_zh.jsonl and val_en.jsonl (python -m titlegen.train_default prepare)")
    t.add_argument("--out", type=Path, default=Path("docs/titlegen/quality"))
    t.add_argument("--systems", default=DEFAULT_SYSTEMS,
                   help=f"comma-separated: {', '.join(NAMED_SYSTEMS)}, or NAME=BASE[+ADAPTER] for any base "
                        "(folder or hub id) and LoRA adapter folder")
    t.add_argument("--limit-per-language", type=int, default=None, help="a seeded sample of N pairs per language")
    t.add_argument("--precision", choices=("fp32", "bf16", "int8"), default=None,
                   help="causal bases' inference precision (default: the loader's, int8 for Qwen)")
    t.add_argument("--batch-size", type=int, default=8, help="briefs per generation call")
    t.add_argument("--num-beams", type=int, default=4, help="beam candidates per brief (the generator's default)")
    t.add_argument("--num-samples", type=int, default=4, help="sampled candidates per brief (the generator's "
                                                                "default)")
    t.add_argument("--click-model", default=None,
                   help="rank with a click model ('default' or a folder); default: none (model score and grounding)")
    t.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    t.add_argument("--seed", type=int, default=0)


def _add_briefs(sub) -> None:
    b = sub.add_parser("briefs", help="top titles of the default for a CSV of creator briefs, into a markdown file",
                       description="For each brief (columns id, language, brief, style, audience, selling_points "
                                   "(';'-separated), platform) write the top titles with source, log-probability, "
                                   "what was dropped and how they were ranked.")
    b.add_argument("--briefs", type=Path, default=Path("docs/titlegen/creator_briefs.csv"))
    b.add_argument("--out", type=Path, default=Path("docs/titlegen/creator_briefs.md"))
    b.add_argument("--base", default="default", help="generator base (default: the embedded default)")
    b.add_argument("--adapter", default=None, help="LoRA adapter folder")
    b.add_argument("--precision", choices=("fp32", "bf16", "int8"), default=None)
    b.add_argument("--click-model", default="default",
                   help="click model ('default': the shipped one, as `python -m titlegen generate` uses)")
    b.add_argument("--no-click-model", dest="click_model", action="store_const", const=None)
    b.add_argument("--num-titles", type=int, default=3)
    b.add_argument("--threads", type=int, default=None, help="torch CPU threads")


def _titles(args: argparse.Namespace, command: str) -> int:
    from titlegen.evaluate.title_quality import parse_systems, run_title_quality

    results = run_title_quality(args.val_dir, args.out, systems=parse_systems(args.systems),
                                limit_per_language=args.limit_per_language, precision=args.precision,
                                batch_size=args.batch_size, num_beams=args.num_beams,
                                num_samples=args.num_samples, click_model=args.click_model, threads=args.threads,
                                seed=args.seed, command=command)
    for lang, section in results["languages"].items():
        for name, m in section["systems"].items():
            print(f"{lang} {name}: " + (f"error: {m['error']}" if "error" in m else
                                        f"ROUGE-L {m['rougeL']:.3f}, within limit {m['within_limit_rate']}, "
                                        f"{m['generation_seconds']} s"))
    print(f"wrote {args.out}/metrics.json, report.md and samples.csv")
    return 0


def _briefs(args: argparse.Namespace, command: str) -> int:
    from titlegen.evaluate.creator_briefs import run_creator_briefs

    stats = run_creator_briefs(args.briefs, args.out, base=args.base, adapter=args.adapter,
                               precision=args.precision, click_model=args.click_model, num_titles=args.num_titles,
                               threads=args.threads, command=command)
    print(f"wrote {args.out}: {stats}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
