"""``python -m templates demo --out DIR``: synthesise demo media and make one draft from it, end to end;
``python -m templates draft --manifest drafts.jsonl --out-dir DIR [--engine ray]``: batch drafts (``templates.batch``;
on a batch engine, ``templates.draft_worker``).

The command is a composition root like the studio: it builds a matcher (``crossmodal_match``) and a title generator
and hands both to ``make_draft``. ``templates`` never imports the title package itself (DESIGN.md), so the
generator is named as ``module:function`` (``--generator``, default ``titlegen:load_generator``, called with
``click_model="default"`` only, so it loads the embedded default title model, Chinese and English) and resolved when
the command runs, the way ASGI servers take ``module:app``.
Errors of the libraries become ``error: ...`` on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from templates.demo import DEMO_BRIEF
from templates.draft_worker import DEFAULT_RUNNER, load_factory
from templates.errors import TemplateError

DEFAULT_GENERATOR = "titlegen:load_generator"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m templates", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="make demo media and one draft from it; prints the draft folder")
    demo.add_argument("--out", type=Path, required=True, help="folder for the demo media, caches and the draft")
    demo.add_argument("--brief", default=DEMO_BRIEF, help="the one-line description of the post, in Chinese or "
                      "English (the title follows its language)")
    demo.add_argument("--template", default=None, help="a template name (default: the matcher's best); one of "
                      "python -c 'import templates; print(templates.list_templates())'")
    demo.add_argument("--preview", action="store_true", help="a fast low-resolution render")
    demo.add_argument("--generator", default=DEFAULT_GENERATOR,
                      help=f"title generator factory as module:function (default {DEFAULT_GENERATOR})")
    batch = sub.add_parser("draft", help="batch drafts from a JSONL manifest (one draft a line); resumable")
    batch.add_argument("--manifest", type=Path, required=True,
                       help='JSONL: {"id", "footage": [paths], "brief", "template"?, "title"?, "copy"?, "preview"?}')
    batch.add_argument("--out-dir", type=Path, required=True, help="draft folders and batch_status.jsonl go here")
    batch.add_argument("--music", default=None, help="folder of audio files to match from")
    batch.add_argument("--cache", default=None, help="music-analysis cache folder")
    batch.add_argument("--generator", default=DEFAULT_GENERATOR,
                       help=f"title generator factory as module:function (default {DEFAULT_GENERATOR})")
    batch.add_argument("--engine", default="local", choices=("local", "ray"),
                       help="local: drafts one after another in this process (default); ray: Ray Data workers, "
                            "each with its own matcher and generator (docs/batch/README.md)")
    batch.add_argument("--address", default=None, help="Ray cluster to join (head host:port); default: a local "
                                                         "instance on 127.0.0.1 for the run")
    batch.add_argument("--workers", type=int, default=None, help="Ray workers (default: one per core)")
    batch.add_argument("--threads-per-worker", type=int, default=None, help="CPU threads per worker")
    batch.add_argument("--engine-runner", default=DEFAULT_RUNNER,
                       help=f"the batch engine as module:function (default {DEFAULT_RUNNER})")
    return parser


def run_draft_batch(args: argparse.Namespace) -> str:
    """Run a manifest through ``templates.batch.run_batch`` with a progress bar; return the summary line."""
    from tqdm import tqdm

    from crossmodal_match import MatcherConfig, create_matcher
    from templates.batch import STATUS_FILE, run_batch
    from templates.draft_worker import run_batch_on_engine
    from templates.registry import template_cards

    with tqdm(desc="drafts", unit="draft") as bar:
        def on_item(done: int, total: int, row: dict) -> None:
            bar.total = total
            bar.set_postfix_str(f"{row['id']}: {row['status']}")
            bar.update(1)

        if args.engine == "local":
            matcher = create_matcher(MatcherConfig(music_dir=args.music, cache_dir=args.cache),
                                     templates=template_cards())
            summary = run_batch(args.manifest, args.out_dir, generator=_load_generator(args.generator),
                                matcher=matcher, on_item=on_item)
        else:
            summary = run_batch_on_engine(args.manifest, _worker_config(args), runner=args.engine_runner,
                                          engine={"engine": args.engine, "address": args.address,
                                                  "workers": args.workers,
                                                  "threads_per_worker": args.threads_per_worker},
                                          on_item=on_item)
    lines = [f"drafts: {summary['ok']} ok, {summary['failed']} failed, {summary['skipped']} already done, "
             f"{len(summary['bad_lines'])} bad manifest lines; status per item in {args.out_dir / STATUS_FILE}"]
    lines += [f"  failed {f['id']}: {f['error']}" for f in summary["failures"]]
    lines += [f"  bad line {n}: {why}" for n, why in summary["bad_lines"]]
    return "\n".join(lines)


def _load_generator(spec: str):
    """Call the ``module:function`` factory with ``click_model="default"``."""
    try:
        factory = load_factory(spec, "generator factory")
    except TemplateError as exc:
        raise SystemExit(f"error: {exc}") from exc
    return factory(click_model="default")


def _worker_config(args: argparse.Namespace):
    """What each engine worker builds from: the command's paths made absolute (workers do not share its cwd)."""
    from templates.draft_worker import DraftWorkerConfig

    def where(path):
        return None if path is None else str(Path(path).expanduser().resolve())

    return DraftWorkerConfig(out_dir=where(args.out_dir), generator=args.generator, music=where(args.music),
                             cache=where(args.cache))


class _Progress:
    """Prints a line when the stage changes and every 10% within a stage (render reports many times a second)."""

    def __init__(self) -> None:
        self.stage, self.step = "", -1

    def __call__(self, fraction: float, stage: str) -> None:
        step = int(fraction * 10)
        if stage != self.stage or step != self.step:
            self.stage, self.step = stage, step
            print(f"  {fraction:4.0%}  {stage}", file=sys.stderr, flush=True)


def run_demo(args: argparse.Namespace) -> Path:
    """Make the demo media under ``args.out/media`` and one draft under ``args.out/drafts``; return its folder."""
    from crossmodal_match import MatcherConfig, create_matcher
    from templates.demo import make_demo_media
    from templates.draft import make_draft
    from templates.registry import template_cards

    out = args.out.expanduser().resolve()
    print(f"demo media -> {out / 'media'}", file=sys.stderr)
    media = make_demo_media(out / "media")
    print("loading the matcher and the title generator ...", file=sys.stderr, flush=True)
    # no music folder, as on a fresh install: the soundtrack is composed for the draft (crossmodal_match.compose)
    matcher = create_matcher(MatcherConfig(cache_dir=str(out / "cache")), templates=template_cards())
    generator = _load_generator(args.generator)
    draft = make_draft([*media["clips"], *media["photos"]], args.brief, template=args.template,
                       generator=generator, matcher=matcher, out_dir=out / "drafts", on_progress=_Progress(),
                       preview=args.preview)
    for line in (f"template: {draft.template}", f"music:    {draft.music_id}", f"title:    {draft.title}",
                 f"caption:  {draft.copy}", *(f"note:     {n}" for n in draft.notes)):
        print(line, file=sys.stderr)
    return draft.folder


def main(argv: list[str] | None = None) -> int:
    from crossmodal_match.errors import MatchError
    from templates.errors import TemplateError

    args = _parser().parse_args(argv)
    try:
        folder = run_demo(args) if args.command == "demo" else run_draft_batch(args)
    except (TemplateError, MatchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        # The generator's and the engine's own typed errors (a model that cannot be loaded, a Ray address that
        # does not answer) are messages for the user too.
        specs = (args.generator, getattr(args, "engine_runner", ""))
        named = {spec.partition(":")[0].split(".")[0] for spec in specs}
        if type(exc).__module__.split(".")[0] not in named:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
