"""Batch title generation over a CSV or JSONL file, with per-row status and resume.

Input: one row per brief. Columns: ``brief`` (required), and optionally ``id``, ``style``, ``audience``,
``selling_points`` (phrases separated by ``;``), ``platform``, ``max_chars``, ``language``.

Output (CSV): the input's ``id`` (or the row number), ``status`` (``ok`` or ``error``), ``error`` (what went wrong
and what to do), ``language`` (the titles' language, ``zh`` or ``en``), ``dropped`` (how many candidates the checks
dropped and why, e.g. ``2 over the limit; 1 unsupported number``, or ``none``), ``ranking`` (how the titles were
ranked, e.g. that no click-through is predicted for Chinese titles), then ``title_1..title_k`` with ``source_k``,
``logprob_k`` and ``predicted_ctr_k`` (empty where no click-through is predicted).

Rows are appended to ``<output>.partial`` as each batch finishes (flushed), so an interrupted run loses nothing;
a new run with the same output resumes by skipping the rows already there. At the end the rows are written in
input order to a temporary file that atomically replaces ``<output>``. Rows resumed from a partial file written
before the ``language``, ``dropped`` and ``ranking`` columns existed keep their titles and have those columns empty.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from titlegen.controls import Controls
from titlegen.errors import InputFileError, TitleGenError
from titlegen.generator import TitleCandidate, TitleGenerator, TitleRequest, validate_request
from titlegen.language import LANGUAGES, detect_language

CONTROL_COLUMNS = ("style", "audience", "selling_points", "platform", "max_chars", "language")


@dataclass(frozen=True)
class BatchSummary:
    """What a batch run did: rows in the input, done now, skipped as already done, and failed."""

    total: int
    generated: int
    resumed: int
    failed: int


def read_briefs(path: str | Path, *, required: str = "brief") -> pd.DataFrame:
    """Read a CSV or JSONL input as strings; it must have a ``required`` column (``brief`` by default).

    Raises:
        InputFileError: missing file, unknown extension, undecodable or malformed content, no ``required`` column.
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"input file {p} does not exist")
    suffix = p.suffix.lower()
    try:
        if suffix == ".csv":
            df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8", encoding_errors="strict")
        elif suffix in (".jsonl", ".ndjson"):
            df = pd.read_json(p, lines=True, dtype=False, encoding="utf-8")
        else:
            raise InputFileError(f"input {p} must be .csv or .jsonl, got {suffix or 'no extension'!r}")
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


def _controls_of(row: pd.Series, default: Controls) -> Controls:
    def get(name: str):
        value = row.get(name, "")
        return value if value not in ("", None) and not (isinstance(value, float) and value != value) else None

    points = get("selling_points")
    if isinstance(points, str):
        points = tuple(p.strip() for p in points.split(";") if p.strip())
    return Controls(
        style=get("style") or default.style,
        audience=str(get("audience") or default.audience),
        selling_points=tuple(points) if points else default.selling_points,
        platform=get("platform") or default.platform,
        max_chars=int(float(get("max_chars"))) if get("max_chars") else default.max_chars,
        language=get("language") or default.language,
    )


def dropped_text(cands: list[TitleCandidate]) -> str:
    """``"2 over the limit; 1 unsupported number"`` from a :class:`~titlegen.candidates.TitleList`'s ``dropped``
    counts; ``"none"`` when nothing was dropped."""
    dropped = getattr(cands, "dropped", None) or {}
    return "; ".join(f"{n} {reason}" for reason, n in sorted(dropped.items()) if n) or "none"


def _row_out(row_id: str, cands: list[TitleCandidate] | None, error: str, k: int) -> dict:
    out: dict = {"id": row_id, "status": "error" if error else "ok", "error": error,
                 "language": getattr(cands, "language", "") if cands else "",
                 "dropped": dropped_text(cands) if cands else "",
                 "ranking": getattr(cands, "ranking", "") if cands else ""}
    for j in range(k):
        c = cands[j] if cands and j < len(cands) else None
        out[f"title_{j + 1}"] = c.text if c else ""
        out[f"source_{j + 1}"] = c.source if c else ""
        out[f"logprob_{j + 1}"] = c.logprob if c else ""
        out[f"predicted_ctr_{j + 1}"] = "" if not c or c.predicted_ctr is None else round(c.predicted_ctr, 5)
    return out


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def run_batch(generator: TitleGenerator, input_path: str | Path, output_path: str | Path, *,
              defaults: Controls = Controls(), num_titles: int = 5, batch_size: int = 16,
              on_progress: Callable[[int, int], None] | None = None) -> BatchSummary:
    """Generate titles for every row of ``input_path`` into ``output_path`` (see the module docstring).

    A row whose brief or controls are invalid, or whose generation fails with a :class:`TitleGenError`, is
    written with ``status=error`` and the reason; the other rows still succeed.

    Args:
        on_progress: called with ``(rows_done, rows_total)`` after each batch.

    Raises:
        InputFileError: the input cannot be read (nothing is written).
    """
    df = read_briefs(input_path)
    out = Path(output_path)
    partial = out.with_name(out.name + ".partial")
    done: dict[str, dict] = {}
    if partial.is_file():
        with open(partial, encoding="utf-8") as f:
            done = {rec["id"]: rec for rec in (json.loads(line) for line in f if line.endswith("\n"))}
    todo = [(str(r["id"]), r) for _, r in df.iterrows() if str(r["id"]) not in done]
    resumed, generated, failed = len(df) - len(todo), 0, 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(partial, "a", encoding="utf-8") as sink:
        for chunk in _chunks(todo, batch_size):
            valid, records = [], {}
            for row_id, row in chunk:
                try:
                    valid.append((row_id, validate_request(TitleRequest(str(row["brief"]),
                                                                        _controls_of(row, defaults)))))
                except TitleGenError as exc:
                    records[row_id] = _row_out(row_id, None, str(exc), num_titles)
            if valid:
                try:
                    results = generator([req for _, req in valid], num_titles=num_titles, batch_size=batch_size)
                    records.update({rid: _row_out(rid, c, "", num_titles) for (rid, _), c in zip(valid, results)})
                except TitleGenError as exc:
                    records.update({rid: _row_out(rid, None, str(exc), num_titles) for rid, _ in valid})
            for row_id, _ in chunk:
                rec = records[row_id]
                failed += rec["status"] == "error"
                generated += 1
                sink.write(json.dumps(rec, ensure_ascii=False) + "\n")
                done[row_id] = rec
            sink.flush()
            os.fsync(sink.fileno())
            if on_progress:
                on_progress(resumed + generated, len(df))
    _write_csv_atomically(out, [done[str(i)] for i in df["id"]], num_titles)
    partial.unlink()
    return BatchSummary(total=len(df), generated=generated, resumed=resumed, failed=failed)


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
    _write_csv_atomically(Path(output_path), df.to_dict(orient="records"), fields=list(df.columns))
    return len(ok)


def _write_csv_atomically(path: Path, rows: list[dict], k: int = 0, *, fields: list[str] | None = None) -> None:
    fields = fields or list(_row_out("", None, "", k))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
