"""Catalogues the matcher ranks from: a music folder, a copy-line library, and template cards.

    music = MusicLibrary.from_folder("music/")              # wav/mp3/ogg/flac/m4a + optional sidecars
    analyses, skipped = music.analyses(cache_dir="cache/music")
    copy = CopyLibrary.from_file("copy_lines.csv")           # a `text` column, optional `tags` and `id`
    card = TemplateCard.from_dict({"name": "travel-vlog", "description": "...", "pace": 0.7})

All three are plain frozen dataclasses, so ``templates`` and the app can hold them without importing anything
heavy; ``TemplateCard`` is what ``templates`` hands the matcher (``crossmodal_match`` never imports
``templates``; it is defined in ``crossmodal_match.template_card``). Table reading (CSV/JSONL, encodings, bad
rows) is in ``crossmodal_match.tables``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crossmodal_match.errors import CatalogueError, InvalidMediaError
from crossmodal_match.mood_lexicon import has_words
from crossmodal_match.tables import Table, decode_text, is_missing, read_table
from crossmodal_match.template_card import TemplateCard

if TYPE_CHECKING:
    from crossmodal_match.audio import MusicAnalysis

logger = logging.getLogger(__name__)

__all__ = ["CopyLibrary", "CopyLine", "MusicLibrary", "MusicTrack", "TemplateCard", "parse_tags"]

AUDIO_EXTENSIONS = frozenset({".wav", ".mp3", ".ogg", ".flac", ".m4a"})
TRACK_TABLES = ("tracks.csv", "tracks.jsonl")
TRACK_FIELDS = ("title", "genre", "mood", "tags", "licence", "duration_s")
COLUMN_ALIASES = {"license": "licence", "filename": "file", "path": "file"}
EXAMPLE_COPY_LINES = Path(__file__).resolve().parent / "examples" / "copy_lines.jsonl"
#: Chinese copy lines written for this project (food, travel, beauty, home, pets, tech, fashion, fitness,
#: parenting, vlog), shipped beside the English ones.
EXAMPLE_COPY_LINES_ZH = EXAMPLE_COPY_LINES.with_name("copy_lines_zh.jsonl")


@dataclass(frozen=True)
class MusicTrack:
    """One music file of a library.

    Attributes:
        id: the file's path relative to the library folder, with "/" separators (stable across machines).
        path: the file's absolute path.
        title: from the sidecar, else the file name without extension ("_" and "-" read as spaces).
        genre, mood, licence: from the sidecar, None when not given (an unknown licence is not a licence).
        duration_s: seconds, from the sidecar; None when not given (``analyses`` measures it).
        tags: from the sidecar (``tags`` column or JSON list: "治愈;露营", "chill, lofi"), lower-case, () if none.
    """

    id: str
    path: str
    title: str
    genre: str | None = None
    mood: str | None = None
    licence: str | None = None
    duration_s: float | None = None
    tags: tuple[str, ...] = ()  # last, so positional construction of the older fields keeps working

    @property
    def text(self) -> str:
        """What the track says about itself in words, for the text encoder and for reasons: title, genre, mood and
        tags, in Chinese or English.

        A title without letters ("520.mp3", "1234567", an emoji-only "🎵🎶", or empty) says nothing about the
        music and is left out; a track with nothing else gives "" and the matcher scores its text as neutral
        (``semantic`` 0.5, no brief words claimed) and ranks it by its audio (tempo, energy, mood, length).
        """
        parts = [self.title if has_words(self.title) else "", self.genre or "", self.mood or "", " ".join(self.tags)]
        return " ".join(p.strip() for p in parts if p and p.strip())


def _title_from_name(path: Path) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[_\-]+", " ", path.stem)).strip() or path.stem


def _track_metadata(record: Mapping[str, Any], *, where: str, problems: list[tuple[str, str]]) -> dict[str, Any]:
    """The known track fields of a sidecar record; a bad duration is reported in ``problems`` and dropped."""
    meta = {}
    for key, value in record.items():
        key = COLUMN_ALIASES.get(key, key)
        if key not in TRACK_FIELDS or is_missing(value):
            continue
        if key == "tags":
            value = parse_tags(value)
            if not value:
                continue
        elif key == "duration_s":
            try:
                value = float(value)
            except (TypeError, ValueError):
                value = math.nan
            if not (math.isfinite(value) and value > 0):
                problems.append((where, f"duration_s must be a positive number of seconds, got {record[key]!r}"))
                continue
        else:
            value = str(value).strip()
        meta[key] = value
    return meta


def _folder_tables(folder: Path, problems: list[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """A folder's ``tracks.csv`` / ``tracks.jsonl`` rows keyed by file path relative to the folder ("/")."""
    found = [folder / name for name in TRACK_TABLES if (folder / name).is_file()]
    if len(found) > 1:
        raise CatalogueError(f"{folder}: both {TRACK_TABLES[0]} and {TRACK_TABLES[1]} describe the tracks; "
                             "keep one")
    if not found:
        return {}
    table: Table = read_table(found[0])
    file_col = next((c for c in table.columns if COLUMN_ALIASES.get(c, c) == "file"), None)
    if file_col is None:
        raise CatalogueError(f"{found[0]}: needs a 'file' column naming each audio file; found columns "
                             f"{table.columns}")
    problems.extend((f"{found[0]}:{line}", reason) for line, reason in table.bad_rows)
    rows = {}
    for line, record in table.rows:
        if is_missing(record.get(file_col)):
            problems.append((f"{found[0]}:{line}", "no file name"))
            continue
        name = str(record[file_col]).strip().replace("\\", "/")  # tables written on Windows use backslashes
        rows[Path(name).as_posix()] = {"_where": f"{found[0]}:{line}", **record}
    return rows


def _table_rows(file: Path, root: Path, tables: dict[Path, dict[str, dict[str, Any]]],
                used: set[tuple[Path, str]], problems: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The rows describing ``file`` in the tracks tables of its folder and of each folder above it up to
    ``root``, outermost first; ``tables`` caches each folder's table and ``used`` records the rows matched."""
    rows = []
    for folder in [file.parent, *file.parent.parents]:
        if folder not in tables:
            tables[folder] = _folder_tables(folder, problems)
        key = file.relative_to(folder).as_posix()
        if key in tables[folder]:
            used.add((folder, key))
            rows.append(tables[folder][key])
        if folder == root:
            break
    return rows[::-1]


def _file_sidecar(audio: Path, problems: list[tuple[str, str]]) -> dict[str, Any]:
    """``song.mp3.json`` (or ``song.json``) next to ``song.mp3``: one JSON object of track fields."""
    for candidate in (audio.with_name(audio.name + ".json"), audio.with_suffix(".json")):
        if candidate.is_file():
            try:
                record = json.loads(decode_text(candidate))
            except json.JSONDecodeError as exc:
                problems.append((str(candidate), f"not valid JSON ({exc.msg}, line {exc.lineno}); ignored"))
                return {}
            if not isinstance(record, dict):
                problems.append((str(candidate), "not a JSON object; ignored"))
                return {}
            return {"_where": str(candidate), **{str(k).strip().lower(): v for k, v in record.items()}}
    return {}


@dataclass(frozen=True)
class MusicLibrary:
    """The music a creator may use: audio files of one folder, with optional metadata sidecars.

    Attributes:
        root: the library folder (absolute).
        tracks: the tracks, sorted by id.
        problems: ``(where, what)`` for sidecar rows that were ignored or named no existing file.
    """

    root: str
    tracks: tuple[MusicTrack, ...]
    problems: tuple[tuple[str, str], ...] = ()

    def __len__(self) -> int:
        return len(self.tracks)

    def __iter__(self) -> Iterator[MusicTrack]:
        return iter(self.tracks)

    def get(self, track_id: str) -> MusicTrack:
        """The track with this id.

        Raises:
            CatalogueError: no such track (the message lists a few ids).
        """
        for track in self.tracks:
            if track.id == track_id:
                return track
        raise CatalogueError(f"no track {track_id!r} in {self.root}; tracks include "
                             f"{[t.id for t in self.tracks[:5]]}")

    @classmethod
    def from_folder(cls, path: str | os.PathLike, *, recursive: bool = True) -> MusicLibrary:
        """Catalogue the audio files (``AUDIO_EXTENSIONS``) of a folder, with their metadata.

        Metadata comes from, most specific first: ``<file>.json`` (or ``<stem>.json``) next to the file; a
        ``tracks.csv`` or ``tracks.jsonl`` in the file's folder or a folder above it up to the library root, the
        nearest winning (columns ``file`` (the path relative to the table's folder), ``title``, ``genre``,
        ``mood``, ``licence`` (or ``license``), ``duration_s``); the file name as title.
        Hidden files (".name", e.g. macOS "._song.mp3") are skipped.

        Args:
            path: the library folder.
            recursive: also catalogue subfolders.

        Returns:
            The library; sidecar rows that could not be used are in ``problems`` (and logged as a warning).

        Raises:
            CatalogueError: not a folder, no audio files, both sidecar tables in one folder, a table without a
                ``file`` column, or a sidecar that is not UTF-8.
        """
        root = Path(path).expanduser().resolve()
        if not root.is_dir():
            raise CatalogueError(f"{path}: music folder does not exist" if not root.exists()
                                 else f"{path}: not a folder")
        pattern = root.rglob("*") if recursive else root.glob("*")
        files = sorted(p for p in pattern if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file()
                       and not any(part.startswith(".") for part in p.relative_to(root).parts))
        if not files:
            raise CatalogueError(f"{path}: no audio files ({', '.join(sorted(AUDIO_EXTENSIONS))})"
                                 + ("" if recursive else " directly in the folder (recursive=False)"))
        problems: list[tuple[str, str]] = []
        tables: dict[Path, dict[str, dict[str, Any]]] = {}
        used: set[tuple[Path, str]] = set()
        tracks = []
        for file in files:
            meta: dict[str, Any] = {}
            for record in (*_table_rows(file, root, tables, used, problems), _file_sidecar(file, problems)):
                if record:  # outermost table first, the per-file sidecar last: the most specific wins
                    meta.update(_track_metadata(record, where=record["_where"], problems=problems))
            meta.setdefault("title", _title_from_name(file))
            tracks.append(MusicTrack(id=file.relative_to(root).as_posix(), path=str(file), **meta))
        for folder, rows in tables.items():
            problems.extend((row["_where"], f"names {name!r}, which is not an audio file under {folder}")
                            for name, row in rows.items() if (folder, name) not in used)
        if problems:
            logger.warning("music library %s: %d sidecar problem(s), first: %s: %s", root, len(problems),
                           *problems[0])
        return cls(root=str(root), tracks=tuple(tracks), problems=tuple(problems))

    def analyses(self, *, cache_dir: str | os.PathLike | None = None
                 ) -> tuple[dict[str, MusicAnalysis], list[tuple[str, str]]]:
        """Analyse every track (``crossmodal_match.audio.analyze_music``), one file at a time.

        A file that cannot be decoded is skipped and reported, so one broken download does not take the whole
        library down.

        Args:
            cache_dir: analysis cache folder keyed by the sha256 of each file's bytes; None for no cache.

        Returns:
            ``(analyses by track id, [(path, reason), ...] for the skipped files)``.

        Raises:
            MatchError: librosa is not installed (the message says what to install).
        """
        from crossmodal_match.audio import analyze_music  # librosa loads only when music is analysed

        done: dict[str, MusicAnalysis] = {}
        skipped: list[tuple[str, str]] = []
        for track in self.tracks:
            try:
                done[track.id] = analyze_music(track.path, cache_dir=cache_dir)
            except InvalidMediaError as exc:
                skipped.append((track.path, exc.reason))
        if skipped:
            logger.warning("music library %s: %d of %d file(s) skipped, first: %s: %s", self.root, len(skipped),
                           len(self.tracks), *skipped[0])
        return done, skipped


@dataclass(frozen=True)
class CopyLine:
    """One caption / copy line.

    Attributes:
        id: the ``id`` column, else ``"copy-"`` + 10 hex digits of the text's sha1 (stable across edits
            elsewhere in the file, so feedback stays attached).
        text: the line, stripped.
        tags: lower-case tags, in order, without duplicates.
        source: where it came from, ``"<file>:<line>"``.
    """

    id: str
    text: str
    tags: tuple[str, ...] = ()
    source: str = ""


def parse_tags(value: Any) -> tuple[str, ...]:
    """Tags from a cell: a list, a JSON list string, or a string separated by ";" (else ",").

    Returns:
        Lower-case, stripped, non-empty tags in first-seen order; () for a missing value.
    """
    if is_missing(value):
        return ()
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            value = value.strip().strip("[]")
    if isinstance(value, str):
        value = value.split(";") if ";" in value else value.split(",")
    items = value if isinstance(value, (list, tuple)) else [value]
    tags = (str(t).strip().strip("\"'").strip().lower() for t in items if not is_missing(t))
    return tuple(dict.fromkeys(t for t in tags if t))


def _copy_line(line: int, record: Mapping[str, Any], *, source: str) -> CopyLine | str:
    """A CopyLine, or the reason the row is skipped."""
    text = record.get("text")
    if is_missing(text):
        return "empty text" if text is None or isinstance(text, str) else "text is NaN"
    if not isinstance(text, str):
        return f"text is a {type(text).__name__}, not a string"
    text = " ".join(text.split())  # spreadsheet cells carry stray newlines and double spaces
    explicit = record.get("id")
    line_id = (str(explicit).strip() if not is_missing(explicit)
               else "copy-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:10])
    return CopyLine(id=line_id, text=text, tags=parse_tags(record.get("tags")), source=f"{source}:{line}")


@dataclass(frozen=True)
class CopyLibrary:
    """Copy lines (captions) to rank for a post.

    Attributes:
        lines: the usable lines, in file order.
        source: the file they were read from.
        skipped: ``(line number, reason)`` for each row left out (empty or NaN text, duplicate, bad JSON ...).
    """

    lines: tuple[CopyLine, ...]
    source: str
    skipped: tuple[tuple[int, str], ...] = ()

    def __len__(self) -> int:
        return len(self.lines)

    def __iter__(self) -> Iterator[CopyLine]:
        return iter(self.lines)

    def summary(self) -> str:
        """One line: how many lines were read and why rows were skipped, e.g. "40 copy lines from x.csv; 2
        rows skipped (empty text: lines 3, 7)"."""
        text = f"{len(self.lines)} copy lines from {self.source}"
        if not self.skipped:
            return text
        by_reason: dict[str, list[int]] = {}
        for line, reason in self.skipped:
            by_reason.setdefault(reason, []).append(line)
        parts = [f"{r}: line{'s' if len(ls) > 1 else ''} {', '.join(map(str, ls[:10]))}{' ...' * (len(ls) > 10)}"
                 for r, ls in by_reason.items()]
        return f"{text}; {len(self.skipped)} row(s) skipped ({'; '.join(parts)})"

    def tagged(self, tag: str) -> tuple[CopyLine, ...]:
        """The lines carrying ``tag`` (case-insensitive)."""
        tag = tag.strip().lower()
        return tuple(line for line in self.lines if tag in line.tags)

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> CopyLibrary:
        """Read copy lines from CSV or JSONL.

        Columns: ``text`` (required), ``tags`` (optional: "a;b", "a, b" or a JSON list), ``id`` (optional; else
        derived from the text). Rows with empty or NaN text, duplicate ids and malformed JSON lines are skipped
        and counted (``skipped``, ``summary()``, a logged warning).

        Args:
            path: a ``.csv``, ``.jsonl`` or ``.ndjson`` file, UTF-8 (a BOM is fine) or UTF-16 with a BOM.

        Returns:
            The library.

        Raises:
            CatalogueError: missing or unsupported file, bytes that are not UTF-8, no ``text`` column (the
                message lists the columns found), or no usable line at all.
        """
        table = read_table(path)
        if "text" not in table.columns:
            raise CatalogueError(f"{path}: copy library needs a 'text' column; found columns {table.columns}")
        skipped = list(table.bad_rows)
        lines: list[CopyLine] = []
        first_line_of: dict[str, int] = {}
        for line, record in table.rows:
            made = _copy_line(line, record, source=str(path))
            if isinstance(made, str):
                skipped.append((line, made))
            elif made.id in first_line_of:
                skipped.append((line, f"duplicate of line {first_line_of[made.id]}"))
            else:
                first_line_of[made.id] = line
                lines.append(made)
        library = cls(lines=tuple(lines), source=str(path), skipped=tuple(sorted(skipped)))
        if not lines:
            raise CatalogueError(f"{path}: no usable copy lines; {library.summary()}")
        if skipped:
            logger.warning("%s", library.summary())
        return library

    @classmethod
    def example(cls, language: str | None = None) -> CopyLibrary:
        """The example lines shipped in ``crossmodal_match/examples/``: ~40 English (``copy_lines.jsonl``) and
        ~120 Chinese (``copy_lines_zh.jsonl``) ones.

        Args:
            language: ``"en"`` or ``"zh"`` for one file; None for both (English first).

        Raises:
            CatalogueError: another language.
        """
        files = {"en": [EXAMPLE_COPY_LINES], "zh": [EXAMPLE_COPY_LINES_ZH],
                 None: [EXAMPLE_COPY_LINES, EXAMPLE_COPY_LINES_ZH]}
        if language not in files:
            raise CatalogueError(f"example copy lines exist in 'en' and 'zh', not {language!r}")
        parts = [cls.from_file(f) for f in files[language]]
        return cls(lines=tuple(line for p in parts for line in p.lines), source=" + ".join(p.source for p in parts),
                   skipped=tuple(s for p in parts for s in p.skipped))
