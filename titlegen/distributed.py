"""The Ray engine: groups of rows through a pool of Ray Data actors, one model per actor.

The one module of the project that imports ``ray`` (DESIGN.md). :class:`RayEngine` connects first (a local
instance on 127.0.0.1, or the cluster at ``address``), so a dead address fails before anything is written. Then each
group of rows is one item of a Ray Dataset, in its own block, mapped by a class-based ``map_batches`` actor
(:class:`_GroupActor`) that builds its worker once (``make_worker(threads)``: loads the model) and turns every group
it is given into records. Results stream back to the driver as groups finish; the driver writes them (workers need
neither the input nor the output path, only the project and its model weights).

Fault tolerance is Ray's: an actor that dies (``kill -9``, out of memory, a lost node) is restarted and its
unfinished group retried, up to ``max_retries`` times each; a group that finished before its worker died is not
redone. A worker whose ``make_worker`` raises is not retried: Ray Data fails the job on the first actor that dies
while starting (``DataContext.max_consecutive_actor_init_deaths`` is 0), and the error names the worker and what it
tried to load.
"""

from __future__ import annotations

import json
import logging
import socket
import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import ray

from titlegen.engine import (EngineConfig, EngineStats, Progress, Sink, Worker, local_cores, peak_rss_mb,
                             plan_workers, worker_identity)
from titlegen.errors import EngineError

_MB = 1024 * 1024


def check_address(address: str, *, timeout_s: float = 3.0) -> None:
    """Raise :class:`EngineError` unless something accepts TCP connections at ``address`` (``host:port``, with or
    without ``ray://``); ``"auto"`` is left to Ray. A quick probe: ``ray.init`` itself waits a long time on a dead
    address before it gives up."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise EngineError(f"Ray address must look like host:port (the head node's GCS port, e.g. 10.0.0.5:6379), "
                          f"got {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise EngineError(f"no Ray cluster answers at {address} ({exc}); start one with `ray start --head "
                          f"--port {port}` or check the address. Nothing was written.") from exc


class _GroupActor:
    """A Ray Data actor: builds its worker once, then maps batches of groups (JSON text) to records (JSON text)."""

    def __init__(self, make_worker: Callable[[int | None], Worker], threads: int) -> None:
        self._who = worker_identity()
        started = time.perf_counter()
        try:
            self._work = make_worker(threads)
        except Exception as exc:  # any failure to start is the job's end; say which worker it was
            raise EngineError(f"worker on {self._who['host']} (pid {self._who['pid']}) could not start: "
                              f"{type(exc).__name__}: {exc}") from exc
        self._startup_s = round(time.perf_counter() - started, 2)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = [json.dumps(self._work(json.loads(payload)), ensure_ascii=False) for payload in batch["payload"]]
        n = len(out)
        return {"payload": np.array(out, dtype=object), "host": np.array([self._who["host"]] * n, dtype=object),
                "pid": np.full(n, self._who["pid"]), "peak_rss_mb": np.full(n, peak_rss_mb()),
                "startup_s": np.full(n, self._startup_s)}


class RayEngine:
    """Connects to Ray on construction (see the module docstring); :meth:`map` runs groups; :meth:`close` stops
    the local instance it started, or disconnects from a cluster.

    Raises:
        EngineError: no cluster answers at ``config.address``.
    """

    def __init__(self, make_worker: Callable[[int | None], Worker], config: EngineConfig) -> None:
        self._make_worker = make_worker
        self.config = config
        self._owns = False
        if config.address:
            check_address(config.address)  # even when Ray is up in this process: the job asked for that cluster
        if not ray.is_initialized():
            self._connect(config)
            self._owns = True
        cores = int(ray.cluster_resources().get("CPU", 1))
        self.plan = plan_workers(workers=config.workers, threads=config.threads_per_worker, cores=cores)

    @staticmethod
    def _connect(config: EngineConfig) -> None:
        common = dict(logging_level=logging.WARNING, log_to_driver=False, runtime_env=config.runtime_env)
        if config.address:
            try:
                ray.init(address=config.address, **common)
            except (ConnectionError, RuntimeError, TimeoutError) as exc:
                raise EngineError(f"could not join the Ray cluster at {config.address}: {exc}. Nothing was "
                                  "written.") from exc
            return
        ray.init(num_cpus=local_cores(), object_store_memory=config.object_store_mb * _MB, include_dashboard=False,
                 _node_ip_address="127.0.0.1", **common)

    def map(self, groups: Sequence[list[dict]], *, sink: Sink, on_progress: Progress | None = None,
            total: int = 0, done: int = 0) -> EngineStats:
        """Run every group through the actor pool; ``sink`` gets each group's records on the driver.

        Raises:
            EngineError: a worker could not start, or a group failed more than ``max_retries`` times.
        """
        stats = EngineStats(plan=self.plan)
        if not groups:
            return stats
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the job shows its own: rows done / total and rows per second
        context.print_on_execution_start = False
        items = [{"payload": json.dumps(g, ensure_ascii=False)} for g in groups]
        # One group per block and one block in flight per actor: a retried task redoes one group, a free worker
        # takes the next group (none queue behind a busy one), and results stream back group by group.
        # enable_true_multi_threading: by default Ray Data runs the UDF on a helper thread of its own, not the
        # thread that built the worker and set torch's threads; there one worker x 2 threads used 1.5 of 2 cores
        # (0.80x the local engine's rows/s, measured). With one task in flight per actor nothing runs concurrently.
        pool = ray.data.ActorPoolStrategy(size=min(self.plan.workers, len(groups)), max_tasks_in_flight_per_actor=1,
                                           enable_true_multi_threading=True)
        with warnings.catch_warnings():
            # Ray 2.60 has no named parameter for actor restarts and deprecates passing them as remote args; its
            # default is unlimited, which would retry forever a group that crashes its worker every time.
            warnings.simplefilter("ignore", DeprecationWarning)
            ds = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
                _GroupActor, fn_constructor_kwargs={"make_worker": self._make_worker, "threads": self.plan.threads},
                batch_size=1, compute=pool, num_cpus=self.plan.threads, num_gpus=self.config.gpus_per_worker or None,
                max_restarts=self.config.max_retries, max_task_retries=self.config.max_retries)
        per_worker: dict[tuple[str, int], dict] = {}
        start = time.perf_counter()
        data_log = logging.getLogger("ray.data")
        level = data_log.level
        # Its start/finish lines would break the job's progress bar, and what it logs when a worker fails is raised
        # here as one typed error instead.
        data_log.setLevel(logging.CRITICAL)
        try:
            # No prefetch: with Ray's default of one batch ahead, each finished group was held back until the next
            # had finished too (progress a group behind, and a killed driver redid that group on resume).
            for batch in ds.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=0):
                for payload, host, pid, rss, startup in zip(batch["payload"], batch["host"], batch["pid"],
                                                            batch["peak_rss_mb"], batch["startup_s"]):
                    records = json.loads(payload)
                    sink(records)
                    stats.count(len(records), start)
                    w = per_worker.setdefault((str(host), int(pid)), {"host": str(host), "pid": int(pid), "rows": 0,
                                                                      "peak_rss_mb": 0.0, "startup_s": float(startup)})
                    w["rows"] += len(records)
                    w["peak_rss_mb"] = max(w["peak_rss_mb"], float(rss))
                    if on_progress is not None:
                        on_progress(done + stats.rows, total)
        except EngineError:
            raise
        except Exception as exc:  # Ray wraps worker errors in its own types; the job's error is one typed line
            raise EngineError(_worker_error(exc)) from exc
        finally:
            data_log.setLevel(level)
        stats.seconds = time.perf_counter() - start
        stats.workers = sorted(per_worker.values(), key=lambda w: (w["host"], w["pid"]))
        return stats

    def close(self) -> None:
        if self._owns and ray.is_initialized():
            ray.shutdown()
        self._owns = False


def _worker_error(exc: BaseException) -> str:
    """The innermost message a worker raised (Ray nests them in RayTaskError / ActorDiedError text)."""
    seen, cause = set(), exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, EngineError):
            return str(cause)
        cause = getattr(cause, "cause", None) or cause.__cause__
    text = str(exc)
    marker = "EngineError: "
    if marker in text:
        return text[text.rindex(marker) + len(marker):].strip().splitlines()[0]
    return f"the Ray job failed: {type(exc).__name__}: {text.strip().splitlines()[-1] if text.strip() else ''}"
