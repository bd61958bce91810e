"""Reading the small CSV and JSONL tables that catalogues are kept in (music sidecars, copy libraries).

Creators edit these in spreadsheets, so the reader is forgiving where it is safe (a UTF-8 or UTF-16 byte-order
mark, column names in any case or with spaces, one malformed JSON line) and strict where guessing would corrupt
text (bytes that are not UTF-8 are an error naming the file, the position and what to do). Standard library only.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crossmodal_match.errors import CatalogueError

TABLE_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
# Spreadsheet exports write a missing cell as one of these; none of them is real copy or metadata.
MISSING_MARKERS = frozenset({"", "nan", "null", "none", "n/a", "#n/a"})


@dataclass
class Table:
    """Records of one table file.

    Attributes:
        path: the file.
        columns: column names (lower-case, stripped) in first-seen order.
        rows: ``(line number, record)`` per readable row; keys are the normalised column names.
        bad_rows: ``(line number, reason)`` per row that could not be read (e.g. malformed JSON).
    """

    path: Path
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    bad_rows: list[tuple[int, str]] = field(default_factory=list)


def normalise_column(name: object) -> str:
    """``" Licence "`` -> ``"licence"``: column names are matched without case or surrounding spaces."""
    return str(name).strip().lower()


def is_missing(value: Any) -> bool:
    """Whether a cell holds no value: None, NaN, or an empty / "nan" / "null" / "N/A" string."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and value.strip().lower() in MISSING_MARKERS


def decode_text(path: Path) -> str:
    """The file's text: UTF-8 (BOM allowed) or UTF-16 with a BOM (Excel's "Unicode text").

    Raises:
        CatalogueError: unreadable file, or bytes that are not valid UTF-8 (position and fix in the message).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise CatalogueError(
            f"{path}: not {encoding.upper().replace('-SIG', '')} text (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}, line {line}); re-save the file as UTF-8 (in Excel: Save As > 'CSV UTF-8'; in "
            "LibreOffice: Character set 'Unicode (UTF-8)')") from exc


def read_table(path: str | Path) -> Table:
    """Read a CSV (header row first) or JSONL (one JSON object per line) table.

    Args:
        path: a ``.csv``, ``.jsonl`` or ``.ndjson`` file.

    Returns:
        The ``Table``; blank lines are ignored, malformed JSON lines land in ``bad_rows``.

    Raises:
        CatalogueError: missing file, unknown extension, undecodable bytes, empty file, or a CSV without header.
    """
    path = Path(path)
    kind = TABLE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise CatalogueError(f"{path}: unsupported table format {path.suffix!r}; use "
                             f"{', '.join(sorted(TABLE_SUFFIXES))}")
    if not path.is_file():
        raise CatalogueError(f"{path}: file does not exist")
    text = decode_text(path)
    if not text.strip():
        raise CatalogueError(f"{path}: the file is empty")
    return _read_csv(path, text) if kind == "csv" else _read_jsonl(path, text)


def _read_csv(path: Path, text: str) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""))
    table = Table(path=path)
    try:
        header = next(reader)
        table.columns = [normalise_column(c) for c in header]
        if not any(table.columns):
            raise CatalogueError(f"{path}: the first line must be a header row (e.g. text,tags), got {header!r}")
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(header):
                table.bad_rows.append((reader.line_num, f"{len(cells)} cells but {len(header)} columns "
                                                        "(an unquoted comma?)"))
                continue
            table.rows.append((reader.line_num, dict(zip(table.columns, cells))))
    except csv.Error as exc:
        raise CatalogueError(f"{path}: malformed CSV near line {reader.line_num}: {exc}") from exc
    return table


def _read_jsonl(path: Path, text: str) -> Table:
    table = Table(path=path)
    seen: dict[str, None] = {}
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            table.bad_rows.append((line_no, f"not valid JSON ({exc.msg})"))
            continue
        if not isinstance(record, dict):
            table.bad_rows.append((line_no, f"a JSON {type(record).__name__}, not an object"))
            continue
        record = {normalise_column(k): v for k, v in record.items()}
        seen.update(dict.fromkeys(record))
        table.rows.append((line_no, record))
    table.columns = list(seen)
    return table
