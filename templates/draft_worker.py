"""Batch drafts on a batch engine: the worker that builds a matcher and a title generator once and makes drafts.

Like ``python -m templates`` this is a composition root: it builds a ``crossmodal_match`` matcher and a title
generator named ``module:function`` (DESIGN.md: ``templates`` never imports the title package), and it runs inside
each engine worker (a Ray actor, or this process). The engine itself is also reached by name
(:data:`DEFAULT_RUNNER`, ``titlegen.engine:run_groups``), so ``import templates`` pulls in neither torch nor Ray.

Each manifest item is one group; the worker writes the draft folder under ``out_dir`` itself (rendered video is
files, not rows), so on a cluster ``out_dir``, the footage and the music must be on storage every node sees at the
same path. The driver appends each item's status row to ``batch_status.jsonl`` as it arrives, as the local batch does.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from templates.batch import STATUS_FILE, BatchItem, draft_item, new_summary, pending_items, record_row
from templates.errors import TemplateError

#: The batch engine, as ``module:function`` (see ``titlegen.engine.run_groups``).
DEFAULT_RUNNER = "titlegen.engine:run_groups"


def load_factory(spec: str, what: str) -> Callable[..., Any]:
    """The callable named ``module:function``.

    Raises:
        TemplateError: ``spec`` is not ``module:function`` or names nothing importable; the message says ``what``.
    """
    module, _, name = spec.partition(":")
    if not module or not name:
        raise TemplateError(f"the {what} must look like module:function, got {spec!r}")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise TemplateError(f"cannot find the {what} {spec!r}: {exc}") from exc


@dataclass(frozen=True)
class DraftWorkerConfig:
    """What each worker builds its matcher and generator from (plain data: it travels to Ray workers).

    Attributes:
        out_dir: where the draft folders go (absolute; on a cluster, shared by every node).
        generator: title generator factory as ``module:function``, called with ``click_model="default"``.
        music, cache: the matcher's music folder and music-analysis cache (absolute, or None).
    """

    out_dir: str
    generator: str
    music: str | None = None
    cache: str | None = None

    def __post_init__(self) -> None:
        if not Path(self.out_dir).is_absolute():
            raise TemplateError(f"out_dir must be absolute (workers do not share this directory), "
                                f"got {self.out_dir!r}")


class DraftWorker:
    """Makes the draft of every manifest item (a dict of :class:`BatchItem` fields) it is given."""

    def __init__(self, config: DraftWorkerConfig) -> None:
        from crossmodal_match import MatcherConfig, create_matcher
        from templates.registry import template_cards

        self.out = Path(config.out_dir)
        self.matcher = create_matcher(MatcherConfig(music_dir=config.music, cache_dir=config.cache),
                                      templates=template_cards())
        self.generator = load_factory(config.generator, "title generator factory")(click_model="default")

    def __call__(self, rows: list[dict]) -> list[dict]:
        return [draft_item(BatchItem(r["id"], tuple(r["footage"]), r["brief"], r["options"]),
                           generator=self.generator, matcher=self.matcher, out=self.out) for r in rows]


def build_draft_worker(config: DraftWorkerConfig, threads: int | None) -> DraftWorker:
    """``make_worker`` of the draft job (bind ``config`` with :func:`functools.partial`)."""
    if threads:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))  # before the worker's first torch import
    return DraftWorker(config)


def run_batch_on_engine(manifest: str | os.PathLike, config: DraftWorkerConfig, *, runner: str = DEFAULT_RUNNER,
                        engine: dict[str, Any] | None = None,
                        on_item: Callable[[int, int, dict], None] | None = None) -> dict[str, Any]:
    """Every pending draft of ``manifest`` on a batch engine; the same summary as :func:`templates.batch.run_batch`.

    Args:
        manifest: the JSONL file.
        config: what each worker builds (its ``out_dir`` receives the drafts and ``batch_status.jsonl``).
        runner: the engine as ``module:function(groups, make_worker, *, sink, on_progress, **engine)``.
        engine: the engine's settings (``engine="ray"``, ``address``, ``workers`` ...).
        on_item: called after each item as ``on_item(done, total, status_row)``.

    Raises:
        TemplateError: the manifest cannot be read, or ``runner`` names nothing.
    """
    from functools import partial

    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    items, bad, skipped = pending_items(manifest, out)
    summary = new_summary(bad, skipped)
    groups = [[{"id": i.item_id, "footage": list(i.footage), "brief": i.brief, "options": i.options}]
              for i in items]
    started = time.time()
    with open(out / STATUS_FILE, "a", encoding="utf-8") as status:
        def sink(rows: list[dict]) -> None:
            for row in rows:
                record_row(summary, row, status)
                if on_item is not None:
                    on_item(summary["ok"] + summary["failed"] + skipped, len(items) + skipped, row)

        stats = load_factory(runner, "batch engine")(groups, partial(build_draft_worker, config), sink=sink,
                                                     **(engine or {})) if groups else {"rows": 0}
    summary["engine"] = {**stats, "wall_s": round(time.time() - started, 2)}
    return summary
