"""Ranked titles for a set of creator briefs, to read: ``python -m titlegen.evaluate briefs --help``.

Numbers on validation pairs say little about whether a creator would post a title. This writes, for each brief of
a CSV (columns ``id, language, brief, style, audience, selling_points, platform``; selling points separated by
``;``), the generator's top titles with their source and log-probability, what was dropped and how the list was
ranked, into one markdown file to be read. The title language follows the brief (``auto``), as in the studio; a
title list whose language is not the row's ``language`` is flagged.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import pandas as pd

from titlegen.controls import Controls
from titlegen.errors import InputFileError
from titlegen.generator import TitleRequest
from titlegen.language import display_length

COLUMNS = ("id", "language", "brief", "style", "audience", "selling_points", "platform")
LANGUAGE_NAMES = {"zh": "Chinese", "en": "English"}


def read_briefs(path: Path) -> pd.DataFrame:
    """The briefs of a CSV, all columns as text (empty when blank).

    Raises:
        InputFileError: missing file, or a column of :data:`COLUMNS` is missing.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"no briefs file at {path}")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputFileError(f"{path} lacks the columns {', '.join(missing)}; it needs {', '.join(COLUMNS)}")
    return frame


def brief_request(row) -> TitleRequest:
    """The request of a brief row: its style, audience, selling points and platform; the language follows the
    brief.

    Raises:
        InvalidControlError: the style, platform or selling points cannot be used (the message names them).
    """
    points = tuple(p.strip() for p in row["selling_points"].split(";") if p.strip())
    return TitleRequest(row["brief"], Controls(style=row["style"] or "lifestyle", audience=row["audience"],
                                               selling_points=points, platform=row["platform"] or "generic"))


def _generate_one(generator, row, num_titles: int):
    """``(request, result, error)`` for one row; a bad row is an error string, not a crash."""
    try:
        request = brief_request(row)
        return request, generator([request], num_titles=num_titles)[0], ""
    except Exception as err:  # noqa: BLE001 - shown in the file beside the brief
        return None, None, f"{type(err).__name__}: {err}"


def _section(row, request, result, error: str, seconds: float) -> list[str]:
    head = f"### {row['id']} · {row['platform'] or 'generic'}"
    if request is not None:
        head += f" (limit {request.controls.limit}) · {request.controls.style}"
    lines = [head, "", f"> {row['brief']}", ""]
    extras = [f"audience: {row['audience']}" if row["audience"] else "",
              f"selling points: {row['selling_points']}" if row["selling_points"] else ""]
    if any(extras):
        lines += ["; ".join(e for e in extras if e), ""]
    if error:
        return lines + [f"**error**: {error}", ""]
    lines += ["| # | title | source | logprob | chars |", "|---|---|---|---|---|"]
    for i, cand in enumerate(result, 1):
        logprob = f"{cand.logprob:.3f}" if cand.logprob is not None and math.isfinite(cand.logprob) else "–"
        ctr = f" (predicted CTR {cand.predicted_ctr:.4f})" if cand.predicted_ctr is not None else ""
        text = " ".join(cand.text.split()).replace("|", "\\|")
        lines.append(f"| {i} | {text} | {cand.source}{ctr} | {logprob} | {display_length(cand.text)} |")
    language = getattr(result, "language", row["language"])
    flag = "" if language == row["language"] else f" **written in {language}, expected {row['language']}**"
    summary = result.summary() if hasattr(result, "summary") else ""
    lines += ["", f"{summary}; {seconds:.1f} s.{flag}"]
    examples = getattr(result, "examples", {}) or {}
    lines += [f"- dropped ({reason}): {' '.join(example.split())}" for reason, example in sorted(examples.items())]
    return lines + [""]


def run_creator_briefs(briefs: Path, out: Path, *, base: str = "default", adapter: str | None = None,
                       precision: str | None = None, click_model: str | None = "default", num_titles: int = 3,
                       threads: int | None = None, command: str = "") -> dict:
    """Generate for every brief of ``briefs`` and write the markdown file ``out``.

    Args:
        base, adapter, precision, click_model, threads: passed to :func:`titlegen.load_generator`.
        num_titles: titles shown per brief.

    Returns:
        ``{"briefs": n, "errors": n, "wrong_language": n, "seconds": s}``.

    Raises:
        InputFileError: the briefs file cannot be read.
        ModelLoadError: the generator cannot be loaded (there is nothing to show without it).
    """
    from titlegen.loading import load_generator

    frame = read_briefs(briefs)
    t0 = time.time()
    generator = load_generator(base, adapter=adapter, precision=precision, click_model=click_model,
                               num_threads=threads)
    load_s = time.time() - t0
    sections: dict[str, list[str]] = {}
    stats = {"briefs": len(frame), "errors": 0, "wrong_language": 0}
    for _, row in frame.iterrows():
        t1 = time.time()
        request, result, error = _generate_one(generator, row, num_titles)
        stats["errors"] += bool(error)
        stats["wrong_language"] += bool(result is not None and getattr(result, "language", row["language"])
                                        != row["language"])
        sections.setdefault(row["language"], []).extend(_section(row, request, result, error, time.time() - t1))
    stats["seconds"] = round(time.time() - t0, 1)
    lines = ["# Creator briefs and their top titles", "", f"Command: `{command}`", "",
             f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Generator: `{base}`"
             + (f" + adapter `{adapter}`" if adapter else "")
             + f", precision {precision or 'the loader default'}, click model {click_model or 'none'}; loaded in "
             f"{load_s:.1f} s, {stats['briefs']} briefs in {stats['seconds'] - load_s:.1f} s. "
             f"Briefs: `{briefs}` (written for this check, not taken from any data set). Each list shows the top "
             f"{num_titles} titles with their source (beam, sample, lead), the model's mean log-probability per "
             "token, the display length, what the checks dropped and how the list was ranked.", ""]
    for language, body in sections.items():
        lines += [f"## {LANGUAGE_NAMES.get(language, language)}", "", *body]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return stats
