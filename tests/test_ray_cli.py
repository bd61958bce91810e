"""``python -m titlegen generate`` killed with SIGKILL mid-run (the driver, and on Ray its local instance with it),
then rerun: every row exactly once, and the rows written before the kill are not generated again."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROWS = 24


def _command(src, out, model, engine):
    cmd = [sys.executable, "-m", "titlegen", "generate", "--input", str(src), "--output", str(out), "--model", model,
           "--no-click-model", "--num-beams", "1", "--num-samples", "0", "--num-titles", "1", "--batch-size", "1",
           "--shard-rows", "1", "--quiet", "--engine", engine]
    return cmd + (["--workers", "1"] if engine == "ray" else [])


def _shard_rows(out: Path) -> int:
    return sum(len(p.read_text(encoding="utf-8").splitlines()) for p in out.parent.glob(out.name + ".shards/part-*"))


@pytest.mark.parametrize("engine", ["local", pytest.param("ray", marks=pytest.mark.slow)])
def test_a_driver_killed_mid_run_resumes_without_redoing_or_duplicating(tiny_causal_dir, tmp_path, engine):
    if engine == "ray":
        pytest.importorskip("ray")
    src = tmp_path / "in.csv"
    src.write_text("id,brief\n" + "".join(f"r{i},Handmade linen tote number {i} holds a laptop\n"
                                          for i in range(ROWS)), encoding="utf-8")
    out = tmp_path / "titles.csv"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAY_USAGE_STATS_ENABLED": "0"}
    # Its own session: the kill takes the driver and any Ray processes it started, and nothing else.
    driver = subprocess.Popen(_command(src, out, tiny_causal_dir, engine), cwd=ROOT, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while _shard_rows(out) < 3 and driver.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait(timeout=30)
    written = _shard_rows(out)
    assert 3 <= written < ROWS, "the run was not killed mid-way"
    assert not out.exists() and (tmp_path / "titles.csv.lock").exists()  # a stale lock from a dead pid
    again = subprocess.run(_command(src, out, tiny_causal_dir, engine), cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=180)
    assert again.returncode == 0, again.stderr[-2000:]
    summary = json.loads(again.stdout.strip().splitlines()[-1])
    assert (summary["resumed"], summary["generated"]) == (written, ROWS - written)
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    assert [r["id"] for r in rows] == [f"r{i}" for i in range(ROWS)] and all(r["status"] == "ok" for r in rows)
    assert "stale lock" in again.stderr and not (tmp_path / "titles.csv.lock").exists()
