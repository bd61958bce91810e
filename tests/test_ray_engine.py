"""The Ray engine on a local Ray instance (2 CPUs, a small object store, 127.0.0.1, stopped after the module):
the same titles as the local engine on a tiny model, a worker killed mid-run, a worker that cannot load its model."""

import csv
import os
import signal

import pytest

from tests.ray_fakes import SlowSpec, calls, worker_pids
from titlegen import EngineError
from titlegen.batch import run_batch
from titlegen.engine import EngineConfig, open_engine
from titlegen.workers import GeneratorSpec

ray = pytest.importorskip("ray")
LIMIT_S = 90  # per test: a hung Ray job fails the test instead of the suite


@pytest.fixture(autouse=True)
def bounded():
    def expire(signum, frame):
        raise TimeoutError(f"a Ray test ran over {LIMIT_S} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(LIMIT_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory):
    """One local Ray instance for the module; the engine joins it (and so leaves it running) instead of starting
    its own for every test."""
    ray.init(num_cpus=2, object_store_memory=200 * 1024 * 1024, include_dashboard=False, log_to_driver=False,
             _node_ip_address="127.0.0.1", logging_level="WARNING")
    try:
        yield
    finally:
        ray.shutdown()


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("batch_size", [1, pytest.param(3, marks=pytest.mark.slow)])
def test_ray_gives_the_local_engines_titles_on_a_tiny_model(local_ray, tiny_causal_dir, tmp_path, batch_size):
    src = tmp_path / "in.csv"
    src.write_text("id,brief,platform\n" + "".join(f"r{i},Handmade linen tote number {i} holds a laptop,douyin\n"
                                                   for i in range(5)) + "zh,这款降噪耳机续航四十小时,xiaohongshu\n"
                   "bad,   ,generic\n", encoding="utf-8")
    spec = GeneratorSpec(model=tiny_causal_dir, click_model=None)
    settings = dict(num_titles=2, num_beams=1, num_samples=2, seed=3)  # greedy and seeded samples
    local = run_batch(spec, src, tmp_path / f"local{batch_size}.csv", batch_size=batch_size, **settings)
    far = run_batch(spec, src, tmp_path / f"ray{batch_size}.csv", batch_size=batch_size,
                    engine=EngineConfig(engine="ray", workers=2, shard_rows=1), **settings)
    assert (local.engine, far.engine, far.total, far.failed) == ("local", "ray", 7, 1)
    assert _rows(tmp_path / f"local{batch_size}.csv") == _rows(tmp_path / f"ray{batch_size}.csv")
    assert sum(w["rows"] for w in far.workers) == 7 and all(w["peak_rss_mb"] > 0 for w in far.workers)
    rows = {r["id"]: r for r in _rows(tmp_path / f"ray{batch_size}.csv")}
    assert rows["bad"]["status"] == "error" and rows["zh"]["language"] == "zh" and rows["r0"]["title_1"]


def test_a_worker_killed_mid_run_loses_no_row(local_ray, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,brief\n" + "".join(f"r{i},brief {i}\n" for i in range(12)), encoding="utf-8")
    spec = SlowSpec(marker_dir=str(tmp_path), delay_s=0.3)
    killed = []

    def kill_one_worker(done, total):
        pids = worker_pids(tmp_path)
        if done >= 2 and not killed and pids:
            os.kill(pids[-1], signal.SIGKILL)
            killed.append(pids[-1])

    summary = run_batch(spec, src, tmp_path / "out.csv", batch_size=1, on_progress=kill_one_worker,
                        engine=EngineConfig(engine="ray", workers=2, shard_rows=1))
    rows = _rows(tmp_path / "out.csv")
    assert killed and [r["id"] for r in rows] == [f"r{i}" for i in range(12)]
    assert all(r["status"] == "ok" for r in rows) and summary.generated == 12
    assert set(calls(tmp_path, "1")) == {f"brief {i}" for i in range(12)}  # some twice: the killed one's group
    assert len(worker_pids(tmp_path)) >= 3  # two workers, and the one Ray started again


def test_each_group_reaches_the_driver_when_it_finishes(local_ray, tmp_path):
    # Ray Data's iterator prefetches a batch by default, which held each finished group back until the next one had
    # finished too: progress lagged a group and a killed driver redid it. One worker, groups of 2 rows at 1.5 s a
    # row: when the first group is reported, the second has had at most a scheduling delay, not 3 s, to run.
    src = tmp_path / "in.csv"
    src.write_text("id,brief\n" + "".join(f"r{i},brief {i}\n" for i in range(6)), encoding="utf-8")
    seen = []

    def note(done, total):
        if done:
            seen.append((done, len(calls(tmp_path, "1"))))

    summary = run_batch(SlowSpec(marker_dir=str(tmp_path), delay_s=1.5), src, tmp_path / "out.csv", batch_size=2,
                        on_progress=note, engine=EngineConfig(engine="ray", workers=1, shard_rows=1))
    assert seen[0][0] == 2 and seen[0][1] < 4, seen  # 4: the second group had finished before the first was seen
    assert summary.generated == 6 and 0 < summary.steady_rows_per_s


def test_a_worker_that_cannot_load_its_model_stops_the_job_and_says_where(local_ray, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,brief\na,linen tote\nb,river walk\n", encoding="utf-8")
    missing = tmp_path / "no-such-model"
    with pytest.raises(EngineError, match=rf"worker on \S+ \(pid \d+\) could not start: .*{missing}"):
        run_batch(GeneratorSpec(model=str(missing), click_model=None), src, tmp_path / "out.csv",
                  engine=EngineConfig(engine="ray", workers=1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_more_workers_than_cores_are_warned_about_and_capped(local_ray):
    with pytest.warns(UserWarning, match="8 workers asked for but only 2 cores: capped at 2"):
        engine = open_engine(EngineConfig(engine="ray", workers=8), make_worker=None)
    try:
        assert (engine.plan.workers, engine.plan.threads, engine.plan.cores) == (2, 1, 2)
    finally:
        engine.close()
    assert ray.is_initialized()  # it joined the module's instance, so it leaves it running
