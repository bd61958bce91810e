"""The batch interface without Ray: inputs (Parquet folders, zero rows, duplicate ids), the output lock, shards and
resume, worker planning and per-row seeds."""

import csv
import json
import os
import socket
import time
import warnings

import pandas as pd
import pytest

from tests.ray_fakes import SlowSpec, calls
from titlegen import ConfigError, EngineError, InputFileError, OutputLockedError
from titlegen.batch import read_briefs, run_batch
from titlegen.engine import EngineConfig, EngineStats, plan_workers
from titlegen.shards import RunLock, write_rows_atomically
from titlegen.workers import row_seed


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _briefs(path, n, extra=""):
    path.write_text("id,brief\n" + "".join(f"r{i},brief number {i}{extra}\n" for i in range(n)), encoding="utf-8")
    return path


def test_parquet_folder_is_read_whole_and_a_file_without_the_column_is_named(tmp_path):
    folder = tmp_path / "catalogue"
    folder.mkdir()
    pd.DataFrame({"id": ["a", "b"], "brief": ["linen tote", "river walk"]}).to_parquet(folder / "part-0.parquet")
    pd.DataFrame({"id": ["c"], "brief": ["sourdough"], "max_chars": [20]}).to_parquet(folder / "part-1.parquet")
    df = read_briefs(folder)
    assert list(df["id"]) == ["a", "b", "c"] and df["max_chars"].tolist() == ["", "", 20]
    pd.DataFrame({"id": ["d"], "text": ["no brief here"]}).to_parquet(folder / "part-2.parquet")
    with pytest.raises(InputFileError, match=r"part-2.parquet has no 'brief' column; columns found: id, text"):
        read_briefs(folder)


def test_parquet_in_and_out(tmp_path):
    src = tmp_path / "in.parquet"
    pd.DataFrame({"id": [1, 2], "brief": ["linen tote", "river walk"]}).to_parquet(src)
    out = tmp_path / "out.parquet"
    summary = run_batch(SlowSpec(marker_dir=str(tmp_path)), src, out, num_titles=1, batch_size=1)
    got = pd.read_parquet(out)
    assert summary.total == 2 and got["id"].tolist() == ["1", "2"] and got["title_1"].str.startswith("linen").iloc[0]


def test_jsonl_output_is_strict_json(tmp_path):
    src = _briefs(tmp_path / "in.csv", 2)
    out = tmp_path / "out.jsonl"
    run_batch(SlowSpec(marker_dir=str(tmp_path)), src, out, num_titles=2, batch_size=1)
    rows = [json.loads(line, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
            for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["r0", "r1"] and rows[0]["title_1"].startswith("brief number 0")
    write_rows_atomically(out, [{"id": "lead", "logprob_1": float("-inf")}], ["id", "logprob_1"])
    assert json.loads(out.read_text(encoding="utf-8")) == {"id": "lead", "logprob_1": "-inf"}  # as the CSV says


def test_zero_rows_write_an_empty_output_and_start_nothing(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,brief\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="has no rows"):
        summary = run_batch(SlowSpec(marker_dir=str(tmp_path)), src, tmp_path / "out.csv",
                            engine=EngineConfig(engine="ray", address="127.0.0.1:1"))
    assert summary.total == 0 and _rows(tmp_path / "out.csv") == [] and not list(tmp_path.glob("pid-*"))


def test_duplicate_ids_are_refused(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,brief\na,one\na,two\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="'a' is used by more than one row"):
        run_batch(SlowSpec(marker_dir=str(tmp_path)), src, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_a_second_run_on_the_same_output_refuses_and_a_stale_lock_is_taken_over(tmp_path):
    src = _briefs(tmp_path / "in.csv", 3)
    out = tmp_path / "out.csv"
    lock = RunLock(out)
    lock.acquire()  # a live run: this very process
    with pytest.raises(OutputLockedError, match=rf"pid {os.getpid()} on host {socket.gethostname()}.*delete"):
        run_batch(SlowSpec(marker_dir=str(tmp_path)), src, out)
    lock.release()
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    lock.path.write_text(json.dumps({"pid": dead, "host": socket.gethostname(), "started": "then"}))
    with pytest.warns(UserWarning, match=f"stale lock of pid {dead}"):
        summary = run_batch(SlowSpec(marker_dir=str(tmp_path)), src, out)
    assert summary.generated == 3 and not lock.path.exists()
    lock.path.write_text(json.dumps({"pid": 1, "host": "another-host", "started": "then"}))
    with pytest.raises(OutputLockedError, match="another-host"):
        run_batch(SlowSpec(marker_dir=str(tmp_path)), src, out)


def test_resume_skips_rows_in_shards_and_a_bad_row_stops_nothing(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,brief\n" + "".join(f"r{i},brief {i}\n" for i in range(5)) + "bad,CRASH me\nempty,\n",
                   encoding="utf-8")
    out = tmp_path / "out.csv"
    first = SlowSpec(marker_dir=str(tmp_path), run="1")

    class Stop(Exception):
        pass

    def stop_after_three(done, total):
        if done >= 3:
            raise Stop

    with pytest.raises(Stop):
        run_batch(first, src, out, batch_size=1, engine=EngineConfig(shard_rows=1), on_progress=stop_after_three)
    assert not out.exists() and len(list((tmp_path / "out.csv.shards").glob("part-*.jsonl"))) == 3
    summary = run_batch(SlowSpec(marker_dir=str(tmp_path), run="2"), src, out, batch_size=1)
    rows = {r["id"]: r for r in _rows(out)}
    assert list(rows) == ["r0", "r1", "r2", "r3", "r4", "bad", "empty"]
    assert (summary.resumed, summary.generated, summary.failed) == (3, 4, 2)
    assert sorted(calls(tmp_path, "2")) == ["brief 3", "brief 4"]  # nothing written before was redone
    assert rows["bad"]["status"] == "error" and "RuntimeError: cannot title" in rows["bad"]["error"]
    assert rows["empty"]["status"] == "error" and rows["r4"]["status"] == "ok"
    assert not (tmp_path / "out.csv.shards").exists() and not (tmp_path / "out.csv.lock").exists()


def test_groups_and_seeds_do_not_depend_on_resume(tmp_path):
    """A row's seed comes from the run seed and its group's first row id, and groups are cut from the whole input,
    so a resumed run gives every row what an uninterrupted run gives it."""
    src = _briefs(tmp_path / "in.csv", 7)
    whole = run_batch(SlowSpec(marker_dir=str(tmp_path)), src, tmp_path / "a.csv", batch_size=3, seed=5)
    assert whole.generated == 7
    shards = tmp_path / "b.csv.shards"
    shards.mkdir()
    (shards / "part-0-0-000001.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in _rows(tmp_path / "a.csv")[3:6]), encoding="utf-8")
    resumed = run_batch(SlowSpec(marker_dir=str(tmp_path)), src, tmp_path / "b.csv", batch_size=3, seed=5)
    assert resumed.resumed == 3 and _rows(tmp_path / "a.csv") == _rows(tmp_path / "b.csv")
    titles = [r["title_1"] for r in _rows(tmp_path / "a.csv")]
    assert titles[0].endswith(f"#{row_seed(5, 'r0') % 1000}") and titles[3].endswith(f"#{row_seed(5, 'r3') % 1000}")


def test_by_default_a_sampled_row_is_seeded_by_its_own_id_whatever_its_neighbours(tmp_path):
    """With sampling and no batch size given, every row is its own group: its seed, hence its titles, come from the
    run seed and its id only (the issue's contract), so it gets the same titles among other rows or alone."""
    src = _briefs(tmp_path / "in.csv", 5)
    run_batch(SlowSpec(marker_dir=str(tmp_path)), src, tmp_path / "all.csv", seed=5, num_samples=2)
    (tmp_path / "one.csv").write_text("id,brief\nr3,brief number 3\n", encoding="utf-8")
    run_batch(SlowSpec(marker_dir=str(tmp_path)), tmp_path / "one.csv", tmp_path / "alone.csv", seed=5, num_samples=2)
    rows = {r["id"]: r for r in _rows(tmp_path / "all.csv")}
    assert all(rows[f"r{i}"]["title_1"].endswith(f"#{row_seed(5, f'r{i}') % 1000}") for i in range(5))
    assert _rows(tmp_path / "alone.csv")[0]["title_1"] == rows["r3"]["title_1"]


def test_stats_split_start_up_from_the_steady_rate():
    stats = EngineStats()
    start = time.perf_counter() - 4.0  # the first group reaches the driver 4 s after the start ...
    stats.count(8, start)
    stats.seconds = stats.first_s + 2.0  # ... and 16 more rows take 2 s
    stats.count(16, start)
    assert stats.first_rows == 8 and 4.0 <= stats.first_s < 5.0
    assert stats.steady_rows_per_s == 8.0 and stats.rows_per_s == round(24 / stats.seconds, 3)
    assert EngineStats(rows=8, seconds=3.0, first_s=3.0, first_rows=8).steady_rows_per_s == 0.0  # one group


def test_row_seed_is_stable_and_spreads():
    assert row_seed(0, "a") == row_seed(0, "a") != row_seed(1, "a") != row_seed(0, "b")
    assert row_seed(0, "a") == 8617095791668180470 and 0 <= row_seed(2**40, "商品-1") < 2**63


def test_workers_are_planned_within_the_cores():
    assert plan_workers(workers=None, threads=None, cores=2) == plan_workers(workers=2, threads=1, cores=2)
    one = plan_workers(workers=1, threads=None, cores=2)
    assert (one.workers, one.threads, one.warning) == (1, 2, None)
    capped = plan_workers(workers=5, threads=None, cores=2)
    assert (capped.workers, capped.threads) == (2, 1) and "5 workers asked for but only 2 cores" in capped.warning
    crowded = plan_workers(workers=2, threads=4, cores=2)
    assert crowded.threads == 1 and "more than the 2 cores" in crowded.warning


@pytest.mark.parametrize("kwargs,match", [({"engine": "spark"}, "engine must be one of local, ray"),
                                          ({"workers": 0, "engine": "ray"}, "workers must be an integer >= 1"),
                                          ({"workers": 2}, "local engine runs one worker"),
                                          ({"object_store_mb": 10, "engine": "ray"}, "object_store_mb")])
def test_engine_config_is_checked(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        EngineConfig(**kwargs)


def test_a_dead_ray_address_is_a_typed_error_and_nothing_is_written(tmp_path):
    pytest.importorskip("ray")
    with socket.socket() as s:  # a port nobody listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        with pytest.raises(EngineError, match=f"no Ray cluster answers at 127.0.0.1:{port}.*Nothing was written"):
            run_batch(SlowSpec(marker_dir=str(tmp_path)), _briefs(tmp_path / "in.csv", 2), tmp_path / "out.csv",
                      engine=EngineConfig(engine="ray", address=f"127.0.0.1:{port}"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_a_loaded_generator_cannot_travel_to_ray_workers(tmp_path):
    with warnings.catch_warnings(), pytest.raises(ConfigError, match="GeneratorSpec"):
        run_batch(object(), _briefs(tmp_path / "in.csv", 1), tmp_path / "o.csv", engine=EngineConfig(engine="ray"))
