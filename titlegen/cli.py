"""Command line: ``python -m titlegen {generate,demo,train,score,styles} ...`` (``--help`` on each).

``generate`` and ``demo`` load the embedded default (``--model default``: Qwen2.5-Coder-0.5B-Instruct,
with the project's LoRA adapter; Chinese and English) unless told otherwise; ``--language`` and ``--precision`` reach
:class:`titlegen.Controls` and :func:`titlegen.load_generator`.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from titlegen.controls import Controls, list_platforms, list_styles
from titlegen.engine import ENGINES
from titlegen.errors import ConfigError, TitleGenError
from titlegen.language import AUTO, LANGUAGES
from titlegen.loading import DEFAULT, DEFAULT_PRECISION, PRECISIONS


def _generate(args: argparse.Namespace) -> int:
    from titlegen.batch import run_batch
    from titlegen.engine import EngineConfig

    defaults = Controls(style=args.style, audience=args.audience, platform=args.platform,
                        selling_points=tuple(p.strip() for p in args.selling_points.split(";") if p.strip()),
                        max_chars=args.max_chars, language=args.language)
    engine = EngineConfig(engine=args.engine, address=args.address, workers=args.workers,
                          threads_per_worker=args.threads_per_worker, gpus_per_worker=args.gpus_per_worker,
                          runtime_env=_runtime_env(args.runtime_env), shard_rows=args.shard_rows)
    with _RowProgress(quiet=args.quiet) as progress:
        summary = run_batch(_generator_for(args), args.input, args.output, defaults=defaults,
                            num_titles=args.num_titles, batch_size=args.batch_size, num_beams=args.num_beams,
                            num_samples=args.num_samples, seed=args.seed, engine=engine, on_progress=progress)
    print(json.dumps({"output": str(args.output), **summary.__dict__}))
    return 0


def _generator_for(args: argparse.Namespace):
    """The local engine's loaded generator, or the spec each Ray worker loads its own from (paths made absolute,
    since workers do not share this directory)."""
    from titlegen.workers import GeneratorSpec

    def where(value):
        return str(Path(value).resolve()) if value not in (None, DEFAULT) and Path(value).exists() else value

    if args.engine == "ray":
        return GeneratorSpec(model=where(args.model), adapter=where(args.adapter), click_model=where(args.click_model),
                             precision=args.precision, restraint=args.restraint,
                             relevance_weight=args.relevance_weight)
    from titlegen.loading import load_generator

    extra = {"num_threads": args.threads_per_worker} if args.threads_per_worker else {}
    generator = load_generator(args.model, adapter=args.adapter, click_model=args.click_model,
                               precision=args.precision, **extra)
    generator.restraint = args.restraint
    generator.relevance_weight = args.relevance_weight
    return generator


def _runtime_env(text: str | None) -> dict | None:
    """``--runtime-env``: JSON text or the path of a JSON file."""
    if not text:
        return None
    try:
        value = json.loads(Path(text).read_text(encoding="utf-8") if Path(text).is_file() else text)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--runtime-env must be JSON or a JSON file, got {text!r}: {exc}") from exc
    if not isinstance(value, dict):
        raise ConfigError(f"--runtime-env must be a JSON object, got {text!r}")
    return value


class _RowProgress:
    """A progress bar of rows done / total and rows per second; its first report is the rows resumed, which do not
    count towards the rate."""

    def __init__(self, *, quiet: bool) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=None, unit="row", desc="titles", disable=quiet)

    def __call__(self, done: int, total: int) -> None:
        if self._bar.total is None:
            self._bar.reset(total=total)
            self._bar.initial = self._bar.n = done
            self._bar.refresh()
        else:
            self._bar.update(done - self._bar.n)

    def __enter__(self) -> _RowProgress:
        return self

    def __exit__(self, *exc) -> None:
        self._bar.close()


def _train(args: argparse.Namespace) -> int:
    from titlegen.train import TrainConfig, train

    config = TrainConfig.from_json(args.config)
    metrics = train(config, resume=not args.no_resume)
    print(json.dumps(metrics))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from titlegen.batch import _controls_of, read_briefs
    from titlegen.generator import TitleRequest
    from titlegen.language import resolve_language
    from titlegen.loading import load_generator

    df = read_briefs(args.input)
    defaults = Controls(language=args.language)
    requests = [TitleRequest(str(r["brief"]), _controls_of(r, defaults)) for _, r in df.iterrows()]
    generator = load_generator(args.model, adapter=args.adapter, click_model=args.click_model,
                               precision=args.precision)
    for req, cands in zip(requests, generator(requests, num_titles=args.num_titles)):
        c = req.controls
        language = getattr(cands, "language", None) or resolve_language(c.language, req.brief)
        how = "from the brief" if c.language == AUTO else "asked"
        brief = req.brief if len(req.brief) <= 90 else req.brief[:89].rstrip() + "…"
        print(f"\n{brief}\n  [{LANGUAGES.get(language, language)} ({how}), {c.style}, {c.platform} <= "
              f"{c.limit} chars{', for ' + c.audience if c.audience else ''}"
              f"{', points: ' + '; '.join(c.selling_points) if c.selling_points else ''}]")
        for rank, cand in enumerate(cands, 1):
            # A Chinese title's score is a relative engagement (titlegen.ctr.SCORE_MEANING), not a click-through.
            ctr = ("" if cand.predicted_ctr is None else f"  engagement {cand.predicted_ctr:4.2f}" if language == "zh"
                   else f"  ctr {cand.predicted_ctr:6.2%}")
            logp = f"{cand.logprob:6.2f}" if math.isfinite(cand.logprob) else "     -"  # the lead fallback
            print(f"  {rank}. {cand.source:6s}  logp {logp}{ctr}  {cand.text}")
        if hasattr(cands, "summary"):
            print(f"  {cands.summary()}")
    return 0


def _score(args: argparse.Namespace) -> int:
    from titlegen.batch import score_file
    from titlegen.ctr import DEFAULT_CTR_DIR, load_click_model

    n = score_file(load_click_model(args.model or DEFAULT_CTR_DIR), args.input, args.output)
    print(json.dumps({"output": str(args.output), "scored": n}))
    return 0


def _click_model_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--click-model", default="default",
                   help="click model folder used to rank titles ('default': the shipped one: English titles by "
                        "predicted click-through, Chinese titles by predicted relative engagement)")
    p.add_argument("--no-click-model", dest="click_model", action="store_const", const=None,
                   help="rank by model log-probability only")


def _model_args(p: argparse.ArgumentParser) -> None:
    """``--model``, ``--adapter``, ``--precision`` and ``--language``, the same for ``generate`` and ``demo``."""
    p.add_argument("--model", default=DEFAULT,
                   help=f"title model: {DEFAULT!r} (the embedded default: Qwen2.5-Coder-0.5B-Instruct, "
                        "with the shipped LoRA adapter; Chinese and English), 'qwen2.5-0.5b' (the same "
                        "base without the adapter), 'minilm-title-decoder' (the former English-only default), a "
                        "local model directory or a hub id")
    p.add_argument("--adapter", default=None, help="LoRA adapter folder from `titlegen train`")
    p.add_argument("--precision", default=None, choices=PRECISIONS,
                   help=f"inference precision of a decoder-only model (default: {DEFAULT_PRECISION} for the "
                        "embedded default, fp32 otherwise; seq2seq models always run in fp32)")
    p.add_argument("--language", default=AUTO, choices=[AUTO, *LANGUAGES],
                   help="language of the titles: 'auto' follows each brief (Chinese for a mostly Chinese brief), "
                        "'zh' Chinese, 'en' English; default for rows without a 'language' column")


def _engine_args(p: argparse.ArgumentParser) -> None:
    """``--engine``, ``--address``, ``--workers`` and the resources of each worker (see docs/batch/README.md)."""
    p.add_argument("--engine", default="local", choices=ENGINES,
                   help="local: one worker in this process (default, needs no Ray); ray: Ray Data workers, "
                        "one model each, on a local Ray instance or the cluster at --address")
    p.add_argument("--address", default=None, help="Ray cluster to join (head host:port, or 'auto'); "
                                                     "default: start a local instance on 127.0.0.1 for the run")
    p.add_argument("--workers", type=int, default=None,
                   help="Ray workers, one model each (default: one per core; more than the cores is capped)")
    p.add_argument("--threads-per-worker", type=int, default=None,
                   help="CPU threads of each worker's model (default: cores // workers)")
    p.add_argument("--gpus-per-worker", type=float, default=0.0, help="GPUs Ray reserves per worker")
    p.add_argument("--shard-rows", type=int, default=256,
                   help="finished rows written per shard (a shard is also written every 10 s); a killed run "
                        "loses at most the rows not yet in a shard")
    p.add_argument("--runtime-env", default=None,
                   help="Ray runtime environment for the workers, as JSON or a .json file (e.g. "
                        '\'{"working_dir": "."}\' or \'{"pip": ["creator-studio"]}\')')


def _styles(args: argparse.Namespace) -> int:
    from titlegen.controls import get_platform, get_style

    for name in list_styles():
        print(f"style     {name:14s} {get_style(name).description}")
    for name in list_platforms():
        print(f"platform  {name:14s} up to {get_platform(name).max_chars} characters")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m titlegen", description="Controllable, click-ranked titles.")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="titles for every brief in a CSV/JSONL file")
    gen.add_argument("--input", type=Path, required=True,
                     help=".csv, .jsonl or .parquet (or a folder of .parquet files) with a 'brief' column")
    gen.add_argument("--output", type=Path, required=True,
                     help="output .csv, .jsonl or .parquet; a rerun resumes from the rows already written")
    _model_args(gen)
    gen.add_argument("--num-titles", type=int, default=5)
    gen.add_argument("--batch-size", type=int, default=None,
                     help="rows generated together, in input order; default: 1 when sampling (each row seeded by "
                          "its own id, independent of its neighbours), 16 without (--num-samples 0); a larger size "
                          "with sampling seeds each group by its first row (docs/batch/README.md measures the cost)")
    gen.add_argument("--style", default="lifestyle", choices=list_styles(), help="default when the row has none")
    gen.add_argument("--audience", default="")
    gen.add_argument("--selling-points", default="", help="phrases separated by ';'")
    gen.add_argument("--platform", default="generic", choices=list_platforms())
    gen.add_argument("--max-chars", type=int, default=None,
                     help="overrides the platform's limit (characters as a reader counts them: a Han character "
                          "is one)")
    gen.add_argument("--restraint", type=float, default=0.0,
                     help="log-odds of predicted click-through given up per clickbait pattern a title matches when "
                          "ranking (0: by predicted click-through alone; docs/titlegen/uplift/report.md measures "
                          "the trade-off on Upworthy tests)")
    gen.add_argument("--relevance-weight", type=float, default=0.0,
                     help="log-odds of predicted click-through added per unit of cosine similarity between a title "
                          "and its brief when ranking (0: ignore it); docs/titlegen/uplift/report.md measures it")
    gen.add_argument("--num-beams", type=int, default=4, help="beam candidates per row (1: greedy)")
    gen.add_argument("--num-samples", type=int, default=4, help="sampled candidates per row (0: none)")
    gen.add_argument("--seed", type=int, default=0,
                     help="run seed: each row's sampling seed is a hash of it and the row id (the group's first "
                          "row with --batch-size > 1), so titles do not depend on the engine, the worker or, by "
                          "default, the other rows")
    _engine_args(gen)
    gen.add_argument("--quiet", action="store_true", help="no progress bar")
    _click_model_arg(gen)
    gen.set_defaults(func=_generate)

    tr = sub.add_parser("train", help="LoRA-tune a seq2seq or decoder-only base on (brief, title) pairs")
    tr.add_argument("--config", type=Path, required=True, help="JSON of titlegen.train.TrainConfig")
    tr.add_argument("--no-resume", action="store_true", help="ignore checkpoints in the output folder")
    tr.set_defaults(func=_train)

    demo = sub.add_parser("demo", help="print ranked titles for the bundled English and Chinese example "
                                        "briefs (or --input)")
    demo.add_argument("--input", type=Path, default=Path(__file__).parent / "examples" / "briefs.csv",
                      help=".csv or .jsonl with a 'brief' column (default: the bundled examples)")
    _model_args(demo)
    demo.add_argument("--num-titles", type=int, default=4)
    _click_model_arg(demo)
    demo.set_defaults(func=_demo)

    sc = sub.add_parser("score", help="predicted click-through for titles in a CSV/JSONL (title, context)")
    sc.add_argument("--input", type=Path, required=True, help=".csv or .jsonl with a 'title' column")
    sc.add_argument("--output", type=Path, required=True, help="output .csv with predicted_ctr added")
    sc.add_argument("--model", type=Path, default=None, help="click model folder (default: the shipped one)")
    sc.set_defaults(func=_score)

    st = sub.add_parser("styles", help="list style presets and platforms")
    st.set_defaults(func=_styles)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except TitleGenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
