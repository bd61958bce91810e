"""One batch interface, two engines: ``local`` (one worker in this process) and ``ray`` (workers on Ray Data).

A batch job hands the engine *groups* of rows (plain dicts, each with an ``id``) and a picklable
``make_worker(threads)`` that builds a worker: a callable ``worker(group) -> records`` holding whatever is expensive
(a model, run on ``threads`` CPU threads; None: the library's default) for its whole life. The engine calls
``make_worker`` once per worker and every group once (Ray retries a group whose worker died), and passes each
finished group's records to ``sink`` on the driver, as they finish, in no particular order. Persistence, resume
and output formats belong to the job (:mod:`titlegen.batch` with :mod:`titlegen.shards`;
``templates.draft_worker``), so the engines stay interchangeable.

``ray`` is imported only by :mod:`titlegen.distributed` (DESIGN.md: one home per heavy library), which this module
reaches only when ``engine="ray"``; ``import titlegen`` never loads Ray.
"""

from __future__ import annotations

import os
import resource
import socket
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from titlegen.errors import ConfigError

ENGINES = ("local", "ray")
Worker = Callable[[list[dict]], list[dict]]
Sink = Callable[[list[dict]], None]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class EngineConfig:
    """How a batch job runs.

    Attributes:
        engine: ``"local"`` (default; needs no Ray) or ``"ray"``.
        address: a Ray cluster to join (``host:port`` of its head, or ``"auto"``); None with ``engine="ray"``
            starts a local Ray instance on 127.0.0.1 for the job and stops it after.
        workers: Ray workers (each holds one model); None: one per core. More than the cluster's cores is
            warned about and capped. The local engine always has one.
        threads_per_worker: CPU threads of each worker's model; None: cores // workers, so workers x threads
            never exceeds the cores (workers that share cores each run slower than one alone).
        gpus_per_worker: GPUs Ray reserves for each worker (0: none).
        object_store_mb: object store of a local Ray instance (MB); rows are short text, so it can be small.
        max_retries: how often Ray restarts a dead worker and retries its group before the job fails.
        runtime_env: Ray runtime environment for the workers (``working_dir``, ``pip``, ``env_vars`` ...), when
            they do not already have the project installed.
        shard_rows, shard_seconds: finished rows are written as a shard when this many are waiting or this many
            seconds have passed since the last shard, whichever comes first.
    """

    engine: str = "local"
    address: str | None = None
    workers: int | None = None
    threads_per_worker: int | None = None
    gpus_per_worker: float = 0.0
    object_store_mb: int = 300
    max_retries: int = 3
    runtime_env: dict[str, Any] | None = field(default=None, hash=False)
    shard_rows: int = 256
    shard_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigError(f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        for name in ("workers", "threads_per_worker"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ConfigError(f"{name} must be an integer >= 1 or None, got {value!r}")
        if self.engine == "local" and (self.address or (self.workers or 1) > 1):
            raise ConfigError(f"the local engine runs one worker in this process (workers={self.workers!r}, "
                              f"address={self.address!r}); use engine='ray' for more workers or a cluster")
        checks = {"gpus_per_worker": self.gpus_per_worker >= 0, "object_store_mb": self.object_store_mb >= 80,
                  "max_retries": self.max_retries >= 0, "shard_rows": self.shard_rows >= 1,
                  "shard_seconds": self.shard_seconds >= 0}
        for name, ok in checks.items():
            if not ok:
                raise ConfigError(f"{name} has an invalid value {getattr(self, name)!r} (object_store_mb >= 80, "
                                  "shard_rows >= 1, the others >= 0)")
        if self.runtime_env is not None and not isinstance(self.runtime_env, dict):
            raise ConfigError(f"runtime_env must be a dict, got {type(self.runtime_env).__name__}")


@dataclass(frozen=True)
class WorkerPlan:
    """Workers and threads per worker for ``cores`` CPUs, and the warning when the request was capped."""

    workers: int
    threads: int
    cores: int
    warning: str | None = None


def plan_workers(*, workers: int | None, threads: int | None, cores: int) -> WorkerPlan:
    """Workers x threads <= cores: more workers than cores are capped (with a warning), and threads per worker
    default to the cores each worker gets.

    Args:
        workers: asked-for workers (None: one per core).
        threads: asked-for CPU threads per worker (None: ``cores // workers``).
        cores: CPUs available (the local machine's, or the cluster's).
    """
    cores = max(1, int(cores))
    notes = []
    n = workers or max(1, cores // (threads or 1))
    if n > cores:
        notes.append(f"{n} workers asked for but only {cores} cores: capped at {cores} (one model per worker, "
                     "and workers sharing a core only slow each other down)")
        n = cores
    t = threads or max(1, cores // n)
    if n * t > cores:
        notes.append(f"{n} workers x {t} threads is more than the {cores} cores: {max(1, cores // n)} threads each")
        t = max(1, cores // n)
    return WorkerPlan(workers=n, threads=t, cores=cores, warning="; ".join(notes) or None)


def local_cores() -> int:
    """CPUs this process may run on (its affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def peak_rss_mb() -> float:
    """Peak resident memory of this process (MB): what one worker's model and state cost."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def worker_identity() -> dict[str, Any]:
    """``{"host", "pid"}`` of this process, for reports and errors that name a worker."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


@dataclass
class EngineStats:
    """What an engine did: rows it finished, seconds from the first worker's start to the last row, and per worker
    ``{host, pid, rows, peak_rss_mb, startup_s}`` (``startup_s``: building the worker, i.e. loading its model).

    ``first_s`` and ``first_rows``: when the first group's records reached the driver (seconds from the start) and
    how many rows it had. Everything before that is start-up, paid once per run (a Ray worker's process, its
    imports, the model load and the first call's warm-up); :attr:`steady_rows_per_s` is the rate after it, the
    one a long catalogue run sees.
    """

    rows: int = 0
    seconds: float = 0.0
    workers: list[dict[str, Any]] = field(default_factory=list)
    plan: WorkerPlan | None = None
    first_s: float = 0.0
    first_rows: int = 0

    @property
    def rows_per_s(self) -> float:
        return round(self.rows / self.seconds, 3) if self.seconds > 0 else 0.0

    @property
    def steady_rows_per_s(self) -> float:
        """Rows per second after the first group (0.0 when the run had a single group)."""
        rows, seconds = self.rows - self.first_rows, self.seconds - self.first_s
        return round(rows / seconds, 3) if rows > 0 and seconds > 0 else 0.0

    def count(self, rows: int, since: float) -> None:
        """Note ``rows`` more records at the driver, ``since`` being the run's start (``time.perf_counter()``)."""
        if not self.first_rows:
            self.first_s, self.first_rows = time.perf_counter() - since, rows
        self.rows += rows


class Engine(Protocol):
    """An opened engine: connected (Ray) before anything is written, so a bad address fails early."""

    def map(self, groups: Sequence[list[dict]], *, sink: Sink, on_progress: Progress | None = None,
            total: int = 0, done: int = 0) -> EngineStats: ...

    def close(self) -> None: ...


class LocalEngine:
    """One worker in this process, built on the first group (an empty job loads no model)."""

    def __init__(self, make_worker: Callable[[int | None], Worker], config: EngineConfig) -> None:
        self._make_worker = make_worker
        self.config = config
        self.plan = WorkerPlan(workers=1, threads=config.threads_per_worker or local_cores(), cores=local_cores())

    def map(self, groups: Sequence[list[dict]], *, sink: Sink, on_progress: Progress | None = None,
            total: int = 0, done: int = 0) -> EngineStats:
        stats = EngineStats(plan=self.plan)
        if not groups:
            return stats
        start = time.perf_counter()
        worker = self._make_worker(self.config.threads_per_worker)
        startup = round(time.perf_counter() - start, 2)
        for group in groups:
            records = worker(group)
            sink(records)
            stats.count(len(records), start)
            if on_progress is not None:
                on_progress(done + stats.rows, total)
        stats.seconds = time.perf_counter() - start
        stats.workers = [{**worker_identity(), "rows": stats.rows, "peak_rss_mb": peak_rss_mb(), "startup_s": startup}]
        return stats

    def close(self) -> None:
        pass


def open_engine(config: EngineConfig, make_worker: Callable[[int | None], Worker]) -> Engine:
    """The engine ``config`` names, connected and ready.

    Raises:
        EngineError: ``engine="ray"`` and Ray is not installed, or no cluster answers at ``config.address``.
    """
    if config.engine == "local":
        return LocalEngine(make_worker, config)
    from titlegen.errors import EngineError

    try:
        from titlegen.distributed import RayEngine
    except ImportError as exc:
        raise EngineError(f"engine='ray' needs Ray: pip install 'creator-studio[ray]' ({exc})") from exc
    engine = RayEngine(make_worker, config)
    if engine.plan.warning:
        warnings.warn(engine.plan.warning, stacklevel=2)
    return engine


def run_groups(groups: Sequence[list[dict]], make_worker: Callable[[int | None], Worker], *, sink: Sink,
               on_progress: Progress | None = None, **config: Any) -> dict[str, Any]:
    """Open the engine ``EngineConfig(**config)`` names, run ``groups`` through it, close it; plain data in and out,
    for callers that reach the engine by name (``templates``: ``titlegen.engine:run_groups``).

    Returns:
        ``{"engine", "rows", "seconds", "rows_per_s", "workers"}``.

    Raises:
        ConfigError: a bad setting. EngineError: as :func:`open_engine` and the engine's ``map``.
    """
    settings = EngineConfig(**config)
    engine = open_engine(settings, make_worker)
    try:
        total = sum(len(g) for g in groups)
        stats = engine.map(groups, sink=sink, on_progress=on_progress, total=total)
    finally:
        engine.close()
    return {"engine": settings.engine, "rows": stats.rows, "seconds": round(stats.seconds, 2),
            "rows_per_s": stats.rows_per_s, "workers": stats.workers}


def chunk(rows: Sequence[dict], size: int) -> list[list[dict]]:
    """``rows`` cut into consecutive groups of ``size`` (the last may be shorter)."""
    size = max(1, size)
    return [list(rows[i:i + size]) for i in range(0, len(rows), size)]
