"""Where a batch run keeps its rows: a lock, atomically written shards keyed by row id, and the merged output.

Layout for an output ``titles.csv``::

    titles.csv.lock             who is writing (pid, host, start); refuses a second run
    titles.csv.shards/part-*.jsonl   finished rows, one JSON object per line, each shard written whole
    titles.csv                  the merged output, in input order, replaced atomically at the end

Every shard is written to a temporary file, fsynced and ``os.replace``d, so a shard on disk is complete or absent:
a driver killed at any instant leaves only whole shards, and a rerun skips exactly the rows in them. A row id seen
in two shards (a task Ray retried after its first answer arrived) is kept once, the first. The merged file's format
follows its extension: ``.csv`` (the format of ``python -m titlegen generate`` before shards), ``.jsonl`` or
``.parquet``.
"""

from __future__ import annotations

import csv
import json
import math
import os
import socket
import time
from pathlib import Path

from titlegen.errors import InputFileError, OutputLockedError

OUTPUT_FORMATS = (".csv", ".jsonl", ".parquet")


def check_output_path(path: Path) -> None:
    """Raise :class:`InputFileError` unless ``path`` ends in one of :data:`OUTPUT_FORMATS`."""
    if path.suffix.lower() not in OUTPUT_FORMATS:
        raise InputFileError(f"output {path} must end in {', '.join(OUTPUT_FORMATS)}, got "
                             f"{path.suffix or 'no extension'!r}")


class RunLock:
    """``<output>.lock``: created exclusively, so two runs on one output cannot both write it.

    A lock left by a run on this host whose process is gone (a driver killed with ``kill -9``) is stale and is
    taken over; a lock from another host cannot be checked from here and always refuses.
    """

    def __init__(self, output: Path) -> None:
        self.path = output.with_name(output.name + ".lock")
        self._held = False

    def acquire(self) -> str | None:
        """Take the lock; return a note when a stale lock was taken over, else None.

        Raises:
            OutputLockedError: another live run holds it; the message names its pid and host and how to clear it.
        """
        mine = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
        note = None
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                other = self._read()
                if not self._is_stale(other):
                    raise OutputLockedError(
                        f"{self.path.with_suffix('')} is being written by another run (pid {other.get('pid')} on "
                        f"host {other.get('host')}, started {other.get('started')}); wait for it, or if that run "
                        f"is gone, delete {self.path} and rerun") from None
                note = f"took over a stale lock of pid {other.get('pid')} (no longer running on this host)"
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(mine, f)
            self._held = True
            return note
        raise OutputLockedError(f"could not take {self.path}: another run took it at the same moment")

    def release(self) -> None:
        """Remove the lock if this run holds it."""
        if self._held:
            self.path.unlink(missing_ok=True)
            self._held = False

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # a lock cut mid-write by a kill: nobody can be holding it meaningfully

    @staticmethod
    def _is_stale(other: dict) -> bool:
        if not other:
            return True
        if other.get("host") != socket.gethostname():
            return False
        try:
            os.kill(int(other["pid"]), 0)
        except ProcessLookupError:
            return True
        except (PermissionError, KeyError, ValueError, TypeError):
            return False  # alive under another user, or unreadable: do not steal it
        return False


class ShardStore:
    """Finished rows of one output, on disk as shards (see the module docstring).

    Args:
        output: the merged output's path; shards go in ``<output>.shards/``.
    """

    def __init__(self, output: Path) -> None:
        self.output = output
        self.folder = output.with_name(output.name + ".shards")
        self._seq = 0
        self._tag = f"{int(time.time())}-{os.getpid()}"

    def load(self) -> dict[str, dict]:
        """Rows already written, by id (first occurrence wins); removes temporary files a kill left behind."""
        done: dict[str, dict] = {}
        if not self.folder.is_dir():
            return done
        for tmp in self.folder.glob(".part-*.tmp"):
            tmp.unlink(missing_ok=True)
        for shard in sorted(self.folder.glob("part-*.jsonl")):
            with open(shard, encoding="utf-8") as f:
                for line in f:
                    rec = json.loads(line)
                    done.setdefault(str(rec["id"]), rec)
        return done

    def write(self, records: list[dict]) -> Path | None:
        """Write ``records`` as one new shard, atomically; return its path (None when there is nothing to write)."""
        if not records:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        self._seq += 1
        name = f"part-{self._tag}-{self._seq:06d}.jsonl"
        tmp = self.folder / f".{name}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(rec, ensure_ascii=False) + "\n" for rec in records)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.folder / name)
        return self.folder / name

    def clear(self) -> None:
        """Remove the shards (after the merged output is in place)."""
        if self.folder.is_dir():
            for shard in self.folder.iterdir():
                shard.unlink()
            self.folder.rmdir()


def write_rows_atomically(path: Path, rows: list[dict], fields: list[str]) -> None:
    """Write ``rows`` (columns ``fields``, missing values empty) to ``path`` in the format of its extension, via a
    temporary file that replaces ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pandas as pd

        frame = pd.DataFrame([{k: _cell(r.get(k, "")) for k in fields} for r in rows], columns=fields)
        frame.to_parquet(tmp, index=False)
    else:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            if suffix == ".jsonl":
                f.writelines(json.dumps({k: _json_cell(r.get(k, "")) for k in fields}, ensure_ascii=False,
                                        allow_nan=False) + "\n" for r in rows)
            else:
                writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
                writer.writeheader()
                writer.writerows(rows)
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)


def _json_cell(value: object) -> object:
    # Strict JSON has no -Infinity (the score of a lead fallback): write it as the CSV does, "-inf".
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _cell(value: object) -> str:
    # Parquet wants one type per column; scores are text here as they are in the CSV, so no row's empty score
    # turns a float column into an object column that pyarrow refuses.
    return "" if value is None else str(value)

