"""Batch title generation over a CSV, JSONL or Parquet input, on one engine or another, with per-row status and
resume.

Input: one row per brief (a ``.csv``, ``.jsonl`` or ``.parquet`` file, or a folder of ``.parquet`` files: a
catalogue). Columns: ``brief`` (required), and optionally ``id`` (unique; default the row number), ``style``,
``audience``, ``selling_points`` (phrases separated by ``;``), ``platform``, ``max_chars``, ``language``.

Output (``.csv``, ``.jsonl`` or ``.parquet``, by extension): the input's ``id``, ``status`` (``ok`` or ``error``),
``error`` (what went wrong and what to do), ``language`` (the titles' language, ``zh`` or ``en``), ``dropped`` (how
many candidates the checks dropped and why, e.g. ``2 over the limit; 1 unsupported number``, or ``none``),
``ranking`` (how the titles were ranked), then ``title_1..title_k`` with ``source_k``, ``logprob_k`` and
``predicted_ctr_k`` (empty where no click-through is predicted).

The rows are cut into groups of ``batch_size`` in input order (:mod:`titlegen.workers` says why that makes every
engine give the same titles) and run on the engine (:mod:`titlegen.engine`: ``local`` in this process, or ``ray``).
Finished rows are written as shards (:mod:`titlegen.shards`) as they arrive, so an interrupted or killed run loses
only rows not yet written; a rerun with the same output skips the rows already written, and a second run on the same
output while one is going refuses. At the end the rows are merged in input order into a temporary file that
atomically replaces the output. Rows in a ``<output>.partial`` file left by a run of an earlier version are resumed
too (their ``language``, ``dropped`` and ``ranking`` columns empty when that version did not write them).
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from titlegen.controls import Controls
from titlegen.engine import EngineConfig, chunk, open_engine
from titlegen.errors import ConfigError, InputFileError
from titlegen.language import LANGUAGES, detect_language
from titlegen.shards import RunLock, ShardStore, check_output_path, write_rows_atomically
from titlegen.workers import (GeneratorSpec, TitleSettings, TitleWorker, build_title_worker, controls_of,
                              dropped_text, row_out)

if TYPE_CHECKING:  # torch loads in the worker that generates, not in the driver that plans and writes
    from titlegen.generator import TitleGenerator

CONTROL_COLUMNS = ("style", "audience", "selling_points", "platform", "max_chars", "language")
INPUT_FORMATS = (".csv", ".jsonl", ".ndjson", ".parquet")
# Kept under their former names: the CLI, training and tests read rows with them.
_controls_of = controls_of
_row_out = row_out
__all__ = ["BatchSummary", "dropped_text", "read_briefs", "run_batch", "score_file"]


@dataclass(frozen=True)
class BatchSummary:
    """What a batch run did: rows in the input, done now, skipped as already done, and failed (of those done now);
    the engine, its rows per second (from the first worker's start) and after the first group (``steady_rows_per_s``:
    start-up excluded, see :class:`~titlegen.engine.EngineStats`), and per worker ``{host, pid, rows, peak_rss_mb,
    startup_s}``."""

    total: int
    generated: int
    resumed: int
    failed: int
    engine: str = "local"
    rows_per_s: float = 0.0
    steady_rows_per_s: float = 0.0
    workers: tuple[dict, ...] = field(default=())


def read_briefs(path: str | Path, *, required: str = "brief") -> pd.DataFrame:
    """Read a CSV, JSONL or Parquet input (a file, or a folder of ``.parquet`` files); it must have a ``required``
    column (``brief`` by default). Missing cells are ``""``; an ``id`` column (row numbers) is added if absent.

    Raises:
        InputFileError: missing file, unknown extension, undecodable or malformed content, no ``required`` column
            (in a folder: the first file without it is named).
    """
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"input file {p} does not exist")
    suffix = p.suffix.lower()
    if not p.is_dir() and suffix not in INPUT_FORMATS:
        raise InputFileError(f"input {p} must be .csv, .jsonl or .parquet (or a folder of .parquet files), "
                             f"got {suffix or 'no extension'!r}")
    try:
        if p.is_dir() or suffix == ".parquet":
            df = _read_parquet(p, required)
        elif suffix == ".csv":
            df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8", encoding_errors="strict")
        else:
            df = pd.read_json(p, lines=True, dtype=False, encoding="utf-8")
    except InputFileError:
        raise
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{p} is not valid UTF-8 (byte {exc.start}: {exc.reason}); "
                             "re-save it as UTF-8, e.g. `iconv -f latin1 -t utf-8`") from exc
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputFileError(f"cannot parse {p}: {str(exc)[:200]}") from exc
    if required not in df.columns:
        raise InputFileError(f"{p} has no {required!r} column; columns found: "
                             f"{', '.join(map(str, df.columns)) or 'none'}")
    if "id" not in df.columns:
        df.insert(0, "id", [str(i) for i in range(len(df))])
    return df.astype(object).where(df.notna(), "")


def _read_parquet(path: Path, required: str) -> pd.DataFrame:
    """One Parquet file, or every ``*.parquet`` in a folder (sorted by name), each checked for ``required``."""
    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    if not files:
        raise InputFileError(f"{path} is a folder without .parquet files; give a CSV, JSONL or Parquet input")
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise InputFileError(f"reading {path} needs pyarrow: pip install 'creator-studio[ray]'") from exc
    frames = []
    for f in files:
        try:
            table = pq.read_table(f)
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            raise InputFileError(f"cannot read the Parquet file {f}: {str(exc)[:200]}") from exc
        if required not in table.column_names:
            raise InputFileError(f"{f} has no {required!r} column; columns found: "
                                 f"{', '.join(table.column_names) or 'none'}")
        frames.append(table.to_pandas())
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _plain(value: object) -> object:
    """A cell as plain JSON data (Parquet gives numpy scalars and arrays)."""
    if value is None or isinstance(value, (str, bool, int, float, list, dict)):
        return value
    return value.tolist() if hasattr(value, "tolist") else str(value)


def _input_rows(df: pd.DataFrame, source: Path) -> list[dict]:
    """The rows as plain dicts with a string ``id``; ids must be unique (they key the shards and the resume)."""
    rows = [{str(k): _plain(v) for k, v in rec.items()} for rec in df.to_dict(orient="records")]
    seen: set[str] = set()
    for row in rows:
        row["id"] = str(row["id"])
        if row["id"] in seen:
            raise InputFileError(f"{source}: the id {row['id']!r} is used by more than one row; ids key the "
                                 "output and the resume, so each must be unique (or drop the id column)")
        seen.add(row["id"])
    return rows


def _read_partial(partial: Path) -> dict[str, dict]:
    """Rows of a ``.partial`` file from an earlier version (whole lines only: a cut last line is skipped)."""
    if not partial.is_file():
        return {}
    with open(partial, encoding="utf-8") as f:
        return {str(rec["id"]): rec for rec in (json.loads(line) for line in f if line.endswith("\n"))}


class _ShardSink:
    """Buffers finished records and writes them as a shard every ``rows`` rows or ``seconds`` seconds."""

    def __init__(self, store: ShardStore, config: EngineConfig) -> None:
        self.store, self.rows, self.seconds = store, config.shard_rows, config.shard_seconds
        self.buffer: list[dict] = []
        self.last = time.monotonic()
        self.failed = 0

    def __call__(self, records: list[dict]) -> None:
        self.buffer.extend(records)
        self.failed += sum(r.get("status") == "error" for r in records)
        if len(self.buffer) >= self.rows or time.monotonic() - self.last >= self.seconds:
            self.flush()

    def flush(self) -> None:
        self.store.write(self.buffer)
        self.buffer, self.last = [], time.monotonic()


#: Rows generated together when nothing is sampled (with sampling the default is one row at a time: ``run_batch``).
DEFAULT_BATCH_SIZE = 16


def run_batch(generator: TitleGenerator | GeneratorSpec, input_path: str | Path, output_path: str | Path, *,
              defaults: Controls = Controls(), num_titles: int = 5, batch_size: int | None = None, num_beams: int = 4,
              num_samples: int = 4, seed: int = 0, engine: EngineConfig | None = None,
              on_progress: Callable[[int, int], None] | None = None) -> BatchSummary:
    """Generate titles for every row of ``input_path`` into ``output_path`` (see the module docstring).

    A row whose brief or controls are invalid, or whose generation fails, is written with ``status=error`` and
    the reason; the other rows still succeed.

    Args:
        generator: a loaded generator (local engine only), or a :class:`~titlegen.workers.GeneratorSpec` each
            worker builds its own from.
        num_beams, num_samples, seed: as for :class:`~titlegen.workers.TitleSettings` (``num_beams=1,
            num_samples=0``: greedy, one model title per row).
        batch_size: rows generated together; None: one row at a time when sampling (``num_samples > 0``), so each
            row's samples are seeded by its own id and do not depend on its neighbours, else
            :data:`DEFAULT_BATCH_SIZE` (greedy and beams give the same titles on every engine for the same input
            order). A larger size with sampling seeds each group by its first row (2.4x faster, measured in
            docs/batch/README.md).
        engine: where to run (default: ``EngineConfig()``, the local engine).
        on_progress: called with ``(rows_done, rows_total)`` once before the run (the rows resumed) and as rows
            finish.

    Raises:
        InputFileError: the input cannot be read or has duplicate ids (nothing is written).
        EngineError: no Ray cluster answers at the address, or a worker cannot start (nothing more is written).
        OutputLockedError: another run is writing ``output_path``.
    """
    config = engine or EngineConfig()
    if batch_size is None:
        batch_size = 1 if num_samples > 0 else DEFAULT_BATCH_SIZE
    settings = TitleSettings(num_titles=num_titles, batch_size=batch_size, num_beams=num_beams,
                             num_samples=num_samples, seed=seed, defaults=defaults)
    out = Path(output_path)
    check_output_path(out)
    df = read_briefs(input_path)
    rows = _input_rows(df, Path(input_path))
    fields = list(row_out("", None, "", num_titles))
    if not rows:
        warnings.warn(f"{input_path} has no rows: wrote an empty {out}", stacklevel=2)
        write_rows_atomically(out, [], fields)
        return BatchSummary(total=0, generated=0, resumed=0, failed=0, engine=config.engine)
    if isinstance(generator, GeneratorSpec):
        make_worker = partial(build_title_worker, generator, settings)
    elif config.engine == "local":
        make_worker = _Prebuilt(generator, settings)
    else:
        raise ConfigError("the ray engine builds a generator on each worker: pass a titlegen.workers.GeneratorSpec, "
                          f"not a loaded {type(generator).__name__}")
    runner = open_engine(config, make_worker)
    try:
        return _run_locked(runner, rows, out, fields, batch_size=batch_size, config=config,
                           on_progress=on_progress)
    finally:
        runner.close()


class _Prebuilt:
    """``make_worker`` around a generator that is already loaded (the local engine's only worker)."""

    def __init__(self, generator: TitleGenerator, settings: TitleSettings) -> None:
        self.generator, self.settings = generator, settings

    def __call__(self, threads: int | None) -> TitleWorker:
        return TitleWorker(self.generator, self.settings)


def _run_locked(runner, rows: list[dict], out: Path, fields: list[str], *, batch_size: int,
                config: EngineConfig, on_progress: Callable[[int, int], None] | None) -> BatchSummary:
    """Under the output's lock: skip the rows already written, run the rest, merge, clean up."""
    lock = RunLock(out)
    note = lock.acquire()
    if note:
        warnings.warn(f"{out}: {note}", stacklevel=3)
    try:
        store = ShardStore(out)
        partial_file = out.with_name(out.name + ".partial")
        done = {**_read_partial(partial_file), **store.load()}
        resumed = sum(r["id"] in done for r in rows)
        # Groups are cut from the whole input, then thinned: a group's rows are the same on every run and engine.
        groups = [g for g in ([r for r in group if r["id"] not in done] for group in chunk(rows, batch_size)) if g]
        sink = _ShardSink(store, config)
        if on_progress is not None:
            on_progress(resumed, len(rows))
        try:
            stats = runner.map(groups, sink=sink, total=len(rows), done=resumed, on_progress=on_progress)
        finally:
            sink.flush()  # whatever finished is kept, even when the run stops here
        done.update(store.load())
        write_rows_atomically(out, [done[r["id"]] for r in rows], fields)
        store.clear()
        partial_file.unlink(missing_ok=True)
    finally:
        lock.release()
    return BatchSummary(total=len(rows), generated=stats.rows, resumed=resumed, failed=sink.failed,
                        engine=config.engine, rows_per_s=stats.rows_per_s,
                        steady_rows_per_s=stats.steady_rows_per_s, workers=tuple(stats.workers))


def score_file(click_model, input_path: str | Path, output_path: str | Path) -> int:
    """Add ``predicted_ctr``, ``score_kind`` and ``error`` to a CSV/JSONL of titles with an optional ``context``
    column.

    ``score_kind`` says what the score means: ``click-through`` for English titles, ``relative engagement`` for
    Chinese ones (:data:`titlegen.ctr.SCORE_MEANING`). Rows with an empty title, or in a language the model has no
    calibrated score for, get an empty ``predicted_ctr`` and an ``error``; the output CSV is replaced atomically.
    Returns the number of rows scored.
    """
    df = read_briefs(input_path, required="title")
    titles = [str(t).strip() for t in df["title"]]
    contexts = [str(c) for c in df["context"]] if "context" in df.columns else None
    ok = [i for i, t in enumerate(titles) if t]
    preds = click_model([titles[i] for i in ok], [contexts[i] for i in ok] if contexts else None) if ok else []
    scores: list[object] = [""] * len(df)
    errors = ["empty title: nothing to score"] * len(df)
    kinds: list[str] = [""] * len(df)
    shows = getattr(click_model, "shows_score", None)
    for i, p in zip(ok, preds):
        lang = detect_language(titles[i])
        if not math.isfinite(p) or (shows is not None and not shows(lang)):
            errors[i] = f"no calibrated score for {LANGUAGES.get(lang, lang)} titles in this click model"
            continue
        scores[i], errors[i] = round(float(p), 6), ""
        kinds[i] = "relative engagement" if lang == "zh" else "click-through"
    df = df.assign(predicted_ctr=scores, score_kind=kinds, error=errors)
    write_rows_atomically(Path(output_path), df.to_dict(orient="records"), list(df.columns))
    return len(ok)
