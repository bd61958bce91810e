"""Batch drafts: one ``make_draft`` per manifest line, with per-item status, resume and a summary.

A manifest is JSONL, one draft per line: ``{"id": "d1", "footage": ["a.mp4", "b.jpg"], "brief": "...",
"template": "calm-vlog", "title": "...", "copy": "...", "music_id": "...", "preview": false}`` (only ``footage``
and ``brief`` are required; ``id`` defaults to the line number). Results are appended to
``<out_dir>/batch_status.jsonl`` as each item finishes, so an interrupted run loses nothing: rerunning skips the
items whose status is ``ok`` and whose draft folder exists. One failing item is recorded with its error and the
others go on.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from templates.errors import TemplateError

STATUS_FILE = "batch_status.jsonl"
_OPTIONAL = ("template", "title", "copy", "music_id", "preview")


@dataclass(frozen=True)
class BatchItem:
    """One manifest line, validated."""

    item_id: str
    footage: tuple[str, ...]
    brief: str
    options: dict[str, Any]


def read_manifest(path: str | os.PathLike) -> tuple[list[BatchItem], list[tuple[int, str]]]:
    """Parse a JSONL manifest; bad lines are returned as ``(line number, reason)`` instead of stopping the batch.

    Raises:
        TemplateError: the file is missing or not UTF-8 text.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"cannot read the manifest {path}: {exc}; give a UTF-8 JSONL file, one draft a line")
    items, bad, seen = [], [], set()
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            footage = row["footage"]
            if isinstance(footage, str):
                footage = [footage]
            if not footage or not isinstance(row.get("brief"), str) or not row["brief"].strip():
                raise ValueError("needs a non-empty 'footage' list and a non-empty 'brief'")
            item_id = str(row.get("id", n))
            if item_id in seen:
                raise ValueError(f"id {item_id!r} is used twice")
            seen.add(item_id)
            items.append(BatchItem(item_id, tuple(map(str, footage)), row["brief"],
                                   {k: row[k] for k in _OPTIONAL if k in row}))
        except (ValueError, KeyError, TypeError) as exc:
            bad.append((n, f"{type(exc).__name__}: {exc}"))
    return items, bad


def _done_ids(out_dir: Path) -> set[str]:
    status = out_dir / STATUS_FILE
    if not status.is_file():
        return set()
    done = set()
    for line in status.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line cut by an interruption
        if row.get("status") == "ok" and (out_dir / row.get("draft_id", "")).joinpath("draft.json").is_file():
            done.add(row["id"])
    return done


def pending_items(manifest: str | os.PathLike, out: Path) -> tuple[list[BatchItem], list[tuple[int, str]], int]:
    """The manifest's items not yet done in ``out``, its bad lines, and how many items were skipped as done.

    Raises:
        TemplateError: the manifest is missing or not UTF-8 text.
    """
    items, bad = read_manifest(manifest)
    done = _done_ids(out)
    return [i for i in items if i.item_id not in done], bad, sum(i.item_id in done for i in items)


def new_summary(bad: list[tuple[int, str]], skipped: int) -> dict[str, Any]:
    """An empty batch summary: counts of ok / failed / skipped, the bad manifest lines and the failures."""
    return {"ok": 0, "failed": 0, "skipped": skipped, "bad_lines": [list(b) for b in bad], "failures": []}


def record_row(summary: dict[str, Any], row: dict[str, Any], status) -> None:
    """Count a finished item's status ``row`` in ``summary`` and append it to the open status file."""
    if row["status"] == "ok":
        summary["ok"] += 1
    else:
        summary["failed"] += 1
        summary["failures"].append({"id": row["id"], "error": row["error"]})
    status.write(json.dumps(row, ensure_ascii=False) + "\n")
    status.flush()


def draft_item(item: BatchItem, *, generator, matcher, out: Path) -> dict[str, Any]:
    """Make one item's draft under ``out``; its status row (``ok`` with the video, or ``failed`` with the error)."""
    from templates.draft import make_draft

    started = time.time()
    row: dict[str, Any] = {"id": item.item_id, "draft_id": f"batch-{item.item_id}"}
    try:
        draft = make_draft(list(item.footage), item.brief, generator=generator, matcher=matcher, out_dir=out,
                           draft_id=row["draft_id"], **item.options)
        row.update(status="ok", video=str(draft.video), template=draft.template, title=draft.title)
    except Exception as exc:  # one bad item (bad file, render failure) must not stop the others
        row.update(status="failed", error=f"{type(exc).__name__}: {exc}")
    row["seconds"] = round(time.time() - started, 2)
    return row


def run_batch(manifest: str | os.PathLike, out_dir: str | os.PathLike, *, generator, matcher,
              on_item: Callable[[int, int, dict], None] | None = None) -> dict[str, Any]:
    """Make every draft of a manifest in this process; see the module docstring (and
    :func:`templates.draft_worker.run_batch_on_engine` for the same on a batch engine).

    Args:
        manifest: the JSONL file.
        out_dir: where the draft folders and ``batch_status.jsonl`` go.
        generator, matcher: as for :func:`templates.draft.make_draft`.
        on_item: called after each item as ``on_item(done, total, status_row)`` (for a progress bar).

    Returns:
        a summary: counts of ok / failed / skipped (already done) / bad manifest lines, and the failures.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    items, bad, skipped = pending_items(manifest, out)
    summary = new_summary(bad, skipped)
    with open(out / STATUS_FILE, "a", encoding="utf-8") as status:
        for k, item in enumerate(items, start=1):
            row = draft_item(item, generator=generator, matcher=matcher, out=out)
            record_row(summary, row, status)
            if on_item is not None:
                on_item(k + skipped, len(items) + skipped, row)
    return summary
