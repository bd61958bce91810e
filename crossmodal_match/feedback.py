"""Feedback store: what candidates were shown to a creator, what they kept, and co-usage counts, in SQLite.

One file (default ``~/.local/share/creator-studio/feedback.sqlite``, or under ``$XDG_DATA_HOME``) in WAL mode,
so the studio and a retraining job can read while another process writes; writers wait up to
``busy_timeout_s`` for each other and every write is one ``BEGIN IMMEDIATE`` transaction, so two processes
writing at once both succeed and an error part-way leaves nothing behind. Each thread keeps one connection
open (a forked child opens its own), so a store object can be shared by threads and processes.

Tables (``SCHEMA_VERSION`` 1, kept in ``meta``): ``shown`` (one row per list of candidates shown),
``shown_candidates`` (its candidates with their feature breakdowns, as JSON), ``actions`` (kept, exported,
skipped, swapped in/out; linked to the latest list of the same session and kind that showed the candidate)
and ``co_usage`` (context, candidate, count).
"""

from __future__ import annotations

import json
import math
import os
import random
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crossmodal_match.errors import ConfigError, FeedbackStoreError

SCHEMA_VERSION = 1
KINDS: tuple[str, ...] = ("music", "copy", "template")
ACTIONS: tuple[str, ...] = ("kept", "exported", "skipped", "swapped_in", "swapped_out")
POSITIVE_ACTIONS = frozenset({"kept", "exported", "swapped_in"})
_INHERITED: list[sqlite3.Connection] = []  # connections a forked child got from its parent; see _connection

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS shown (
    shown_id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, kind TEXT NOT NULL,
    context TEXT, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS shown_candidates (
    shown_id INTEGER NOT NULL REFERENCES shown(shown_id), position INTEGER NOT NULL,
    candidate_id TEXT NOT NULL, features TEXT NOT NULL, PRIMARY KEY (shown_id, position));
CREATE INDEX IF NOT EXISTS shown_candidates_by_id ON shown_candidates(candidate_id);
CREATE INDEX IF NOT EXISTS shown_by_session ON shown(session_id, kind);
CREATE TABLE IF NOT EXISTS actions (
    action_id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, kind TEXT NOT NULL,
    candidate_id TEXT NOT NULL, action TEXT NOT NULL, shown_id INTEGER REFERENCES shown(shown_id),
    created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS co_usage (
    context TEXT NOT NULL, candidate_id TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (context, candidate_id));
"""


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/creator-studio``, else ``~/.local/share/creator-studio`` (read when called, not at import)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "creator-studio"


def default_store_path() -> Path:
    """Where ``FeedbackStore()`` keeps its file when no path is given."""
    return default_data_dir() / "feedback.sqlite"


def _check_choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return str(value)


def _check_id(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _check_features(candidate_id: str, features: object) -> dict[str, float]:
    if not isinstance(features, dict) or not all(isinstance(k, str) for k in features):
        raise ConfigError(f"features of candidate {candidate_id!r} must be a dict of name -> number, got "
                          f"{type(features).__name__}")
    out = {}
    for name, value in features.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"feature {name!r} of candidate {candidate_id!r} must be a finite number, got {value!r}")
        out[name] = float(value)
    return out


def _candidate_row(shown_id: int, position: int, candidate_id: str, features: dict[str, float]) -> tuple:
    """One ``shown_candidates`` row (a function of its own so tests can make it fail part-way)."""
    return shown_id, position, candidate_id, json.dumps(features, sort_keys=True)


class FeedbackStore:
    """Append-only log of shown candidates and creator actions, plus co-usage counts.

    Args:
        path: the SQLite file; ``None`` -> ``default_store_path()``. Its folder is created.
        busy_timeout_s: how long a write waits for another process's write to finish, seconds.

    Raises:
        FeedbackStoreError: the folder or file cannot be created or opened, is not a SQLite database, or has
            another schema version; the message names the path.
    """

    def __init__(self, path: str | Path | None = None, *, busy_timeout_s: float = 30.0) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        if not busy_timeout_s > 0:
            raise ConfigError(f"busy_timeout_s must be > 0 seconds, got {busy_timeout_s!r}")
        self.busy_timeout_s = float(busy_timeout_s)
        self._local = threading.local()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FeedbackStoreError(f"cannot create the folder of the feedback store {self.path}: {exc}") from exc
        try:
            self._init_schema()
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"FeedbackStore({str(self.path)!r})"

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use (and again in a forked child).

        Connections are kept open because SQLite checkpoints and syncs the WAL whenever the last connection to a
        file closes: one connection per call would cost a disk sync per write.
        """
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        if conn is not None:  # inherited through fork: never use it, and never close it (that could checkpoint
            _INHERITED.append(conn)  # the parent's WAL from this process), so keep it referenced
        try:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            # WAL + NORMAL: no fsync per commit; a crash never corrupts the file, a power cut may lose the last
            # few commits, which is acceptable for a feedback log.
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise FeedbackStoreError(f"cannot open the feedback store {self.path}: {exc}") from exc
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def close(self) -> None:
        """Close this thread's connection (a later call opens a new one)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local.conn = None

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection, with SQLite errors raised as ``FeedbackStoreError`` naming the file."""
        conn = self._connection()
        try:
            yield conn
        except sqlite3.Error as exc:
            raise FeedbackStoreError(f"feedback store {self.path}: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: the write lock is taken up front (no upgrade deadlock), rolled back on error."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _enable_wal(self) -> None:
        """Switch the file to WAL mode (a no-op once it is). SQLite answers "locked" at once, without waiting on
        ``busy_timeout``, when another process holds the file during the switch, so retry until the timeout."""
        deadline = time.monotonic() + self.busy_timeout_s
        with self._connect() as conn:
            while True:
                try:
                    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(random.uniform(0.005, 0.05))  # jitter: two starting processes must not re-collide
        if str(mode).lower() != "wal":
            raise FeedbackStoreError(f"feedback store {self.path}: cannot switch to WAL mode (got {mode!r})")

    def _init_schema(self) -> None:
        self._enable_wal()
        with self._transaction() as conn:
            for statement in filter(str.strip, _SCHEMA.split(";")):  # executescript would commit first
                conn.execute(statement)
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                         (str(SCHEMA_VERSION),))
            found = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        if found != str(SCHEMA_VERSION):
            raise FeedbackStoreError(f"feedback store {self.path} has schema version {found}; this code reads "
                                     f"version {SCHEMA_VERSION}")

    def record_shown(self, *, session_id: str, kind: str, candidates: list[tuple[str, dict[str, float]]],
                     context: dict[str, Any] | None = None) -> int:
        """Log one list of candidates shown to a creator, in display order.

        Args:
            session_id: the creator's editing session (e.g. the draft id); groups lists for validation splits.
            kind: "music", "copy" or "template".
            candidates: (candidate_id, features) pairs; features: name -> value in [0, 1] (``scoring.FEATURES``).
            context: JSON-serialisable facts about the request (e.g. {"category": "travel", "brief": "..."});
                ``context["category"]`` keys co-usage counts.

        Returns:
            the new list's ``shown_id``.

        Raises:
            ConfigError: an invalid kind, an empty or duplicated candidate list, non-finite features, or a context
                that is not a JSON-serialisable dict.
            FeedbackStoreError: the write failed (nothing of it was kept).
        """
        _check_id("session_id", session_id)
        kind = _check_choice("kind", kind, KINDS)
        if not candidates:
            raise ConfigError("record_shown needs at least one candidate")
        rows = []
        for item in candidates:
            if not (isinstance(item, (tuple, list)) and len(item) == 2):
                raise ConfigError(f"each candidate must be (candidate_id, features), got {item!r}")
            cid = _check_id("candidate_id", item[0])
            rows.append((cid, _check_features(cid, item[1])))
        ids = [cid for cid, _ in rows]
        if len(set(ids)) != len(ids):
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            raise ConfigError(f"candidate ids repeat within one shown list: {repeated}")
        if context is not None and not isinstance(context, dict):
            raise ConfigError(f"context must be a dict or None, got {type(context).__name__}")
        try:
            context_json = None if context is None else json.dumps(context, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"context must be JSON-serialisable: {exc}") from exc
        with self._transaction() as conn:
            cur = conn.execute("INSERT INTO shown (session_id, kind, context, created_at) VALUES (?, ?, ?, ?)",
                               (session_id, kind, context_json, time.time()))
            shown_id = int(cur.lastrowid)
            for position, (cid, features) in enumerate(rows):
                conn.execute("INSERT INTO shown_candidates VALUES (?, ?, ?, ?)",
                             _candidate_row(shown_id, position, cid, features))
        return shown_id

    def record_action(self, *, session_id: str, kind: str, candidate_id: str, action: str) -> int:
        """Log what a creator did with one candidate.

        The action is linked to the latest list of the same session and kind that showed the candidate; a
        candidate never shown (e.g. found by search and swapped in) is kept unlinked and trains nothing.

        Args:
            session_id: as in ``record_shown``.
            kind: "music", "copy" or "template".
            candidate_id: the candidate acted on.
            action: "kept", "exported", "skipped", "swapped_in" or "swapped_out".

        Returns:
            the new action's id.

        Raises:
            ConfigError: an invalid kind or action (the message lists the allowed ones) or an empty id.
            FeedbackStoreError: the write failed.
        """
        _check_id("session_id", session_id)
        kind = _check_choice("kind", kind, KINDS)
        action = _check_choice("action", action, ACTIONS)
        _check_id("candidate_id", candidate_id)
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT MAX(s.shown_id) FROM shown s JOIN shown_candidates c ON c.shown_id = s.shown_id "
                "WHERE s.session_id = ? AND s.kind = ? AND c.candidate_id = ?",
                (session_id, kind, candidate_id)).fetchone()
            cur = conn.execute("INSERT INTO actions (session_id, kind, candidate_id, action, shown_id, created_at) "
                               "VALUES (?, ?, ?, ?, ?, ?)",
                               (session_id, kind, candidate_id, action, row[0], time.time()))
            return int(cur.lastrowid)

    def add_co_usage(self, rows: Iterable[tuple[str, str, int]]) -> int:
        """Add co-usage counts: how often a candidate was used in a context (e.g. a category or a brief's topic).

        Counts add up with what is stored, in one transaction.

        Args:
            rows: (context, candidate_id, count) with count >= 0 (an int).

        Returns:
            the number of rows added.

        Raises:
            ConfigError: an empty context or id, or a count that is not a non-negative int (nothing is written).
            FeedbackStoreError: the write failed.
        """
        clean = []
        for row in rows:
            if not (isinstance(row, (tuple, list)) and len(row) == 3):
                raise ConfigError(f"co-usage rows are (context, candidate_id, count), got {row!r}")
            context, cid, count = row
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ConfigError(f"co-usage count must be an int >= 0, got {count!r} for {cid!r}")
            clean.append((_check_id("context", context), _check_id("candidate_id", cid), count))
        with self._transaction() as conn:
            conn.executemany("INSERT INTO co_usage VALUES (?, ?, ?) ON CONFLICT (context, candidate_id) "
                             "DO UPDATE SET count = count + excluded.count", clean)
        return len(clean)

    def co_usage(self) -> dict[tuple[str, str], int]:
        """All co-usage counts: (context, candidate_id) -> count."""
        with self._connect() as conn:
            return {(c, i): n for c, i, n in conn.execute("SELECT context, candidate_id, count FROM co_usage")}

    def count(self, *, kind: str | None = None) -> int:
        """Number of events recorded: shown lists plus actions (of one kind, when given).

        Raises:
            ConfigError: an invalid kind.
        """
        where, args = ("", ()) if kind is None else (" WHERE kind = ?", (_check_choice("kind", kind, KINDS),))
        with self._connect() as conn:
            return sum(conn.execute(f"SELECT COUNT(*) FROM {t}{where}", args).fetchone()[0]
                       for t in ("shown", "actions"))

    def events(self, *, kind: str | None = None):
        """Every shown candidate with the actions taken on it in that list, oldest list first.

        Args:
            kind: only lists of this kind; ``None`` -> all.

        Returns:
            pandas.DataFrame with one row per shown candidate and columns ``shown_id``, ``session_id``,
            ``kind``, ``created_at`` (Unix seconds), ``position`` (0 = shown first), ``candidate_id``,
            ``features`` (dict name -> value), ``context`` (dict or None), ``actions`` (tuple of action names in
            time order).

        Raises:
            ConfigError: an invalid kind.
        """
        import pandas as pd

        where, args = ("", ()) if kind is None else (" WHERE s.kind = ?", (_check_choice("kind", kind, KINDS),))
        with self._connect() as conn:
            conn.execute("BEGIN")  # one snapshot for both reads, even while another process writes
            try:
                rows = conn.execute(
                    "SELECT s.shown_id, s.session_id, s.kind, s.created_at, c.position, c.candidate_id, "
                    f"c.features, s.context FROM shown s JOIN shown_candidates c ON c.shown_id = s.shown_id{where} "
                    "ORDER BY s.shown_id, c.position", args).fetchall()
                acts: dict[tuple[int, str], list[str]] = {}
                for shown_id, cid, action in conn.execute(
                        "SELECT shown_id, candidate_id, action FROM actions WHERE shown_id IS NOT NULL "
                        "ORDER BY action_id"):
                    acts.setdefault((shown_id, cid), []).append(action)
            finally:
                conn.execute("COMMIT")
        columns = ["shown_id", "session_id", "kind", "created_at", "position", "candidate_id", "features",
                   "context", "actions"]
        return pd.DataFrame([(*r[:6], json.loads(r[6]), None if r[7] is None else json.loads(r[7]),
                              tuple(acts.get((r[0], r[5]), ()))) for r in rows], columns=columns)
