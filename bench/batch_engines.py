"""Batch engines, measured in one command: ``python bench/batch_engines.py [--rows 384] [--batch-size 8]``.

Writes ``bench/results/batch_engines_<date>.json`` (and prints it). Every run is ``python -m titlegen generate`` in
a fresh interpreter, as a user runs it, one after another on one machine, so the ratios compare like with like.
Greedy titles (one beam, no samples, 3 titles, the shipped click model) for the bundled example briefs repeated to
``--rows`` rows (ids made unique), ``--batch-size`` rows a group:

* ``local`` and, last, ``local_again``: the local engine (one process, torch's threads = the cores); Ray's rows
  are compared with the mean of the two, so drift over the command does not favour either side;
* ``ray_1_worker``: a local Ray instance, 1 worker x 2 threads; ``ray_2_workers``: 2 workers x 1 thread;
* ``two_nodes``: a simulated two-node cluster on 127.0.0.1 (``ray start --head --num-cpus 1`` and ``ray start
  --address`` with other ports, token authentication on, then stopped), 2 workers;
* ``local_one_row_per_call`` (with ``--exact-rows N``): the local engine with ``--batch-size 1`` on N rows, the
  cost of making every row independent of its neighbours (bf16 padding numerics; docs/batch/README.md);
* per run: the whole command's seconds (``wall_s``: interpreter, imports, Ray's start and stop, model load), the
  engine's rows/s from the first worker's start and after the first group (start-up excluded), peak resident
  memory and start-up seconds per worker, ratios against local (``vs_local_wall``: local's seconds / this run's),
  and whether the merged output is byte-identical to local's.

Run it detached on a quiet machine (nothing else running: Linux autogroup gives each session, and so each Ray
worker, its own CPU share): about 15 minutes at 384 rows on 2 cores.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

from titlegen.engine import local_cores  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "titlegen" / "examples" / "briefs.csv"
RAY = str(Path(sys.executable).with_name("ray"))
HEAD_PORT = 16390


def make_input(rows: int, folder: Path) -> Path:
    """The example briefs repeated to ``rows`` rows, ids ``<id>-<k>``."""
    with open(EXAMPLES, newline="", encoding="utf-8") as f:
        base = list(csv.DictReader(f))
    out = folder / f"briefs_{rows}.csv"
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(base[0]))
        writer.writeheader()
        for k in range(rows):
            row = dict(base[k % len(base)])
            row["id"] = f"{row['id']}-{k}"
            writer.writerow(row)
    return out


def cli_run(name: str, src: Path, out: Path, engine_args: list[str], args, env: dict | None = None,
            batch_size: int | None = None) -> dict:
    """``python -m titlegen generate`` in a fresh interpreter, as a user runs it: ``wall_s`` is the whole command
    (interpreter, imports, Ray's start and stop, model load, every row); the engine's own rates come from its
    summary line (``rows_per_s``: from the first worker's start; ``steady_rows_per_s``: after the first group)."""
    cmd = [sys.executable, "-m", "titlegen", "generate", "--input", str(src), "--output", str(out), *engine_args,
           "--num-titles", "3", "--num-beams", "1", "--num-samples", "0",
           "--batch-size", str(batch_size or args.batch_size), "--model", args.model, "--quiet"]
    cmd += ["--precision", "bf16"] if args.model == "default" else []
    cmd += ["--no-click-model"] if args.click_model == "none" else ["--click-model", args.click_model]
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600, cwd=ROOT)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed: {done.stderr[-2000:]}")
    s = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{name}: {s['generated']} rows in {wall:.1f} s", file=sys.stderr, flush=True)
    return {"rows": s["generated"], "failed": s["failed"], "wall_s": round(wall, 2),
            "rows_per_s_wall": round(s["generated"] / wall, 3), "rows_per_s_engine": s["rows_per_s"],
            "steady_rows_per_s": s["steady_rows_per_s"],
            "workers": [{k: w[k] for k in ("rows", "peak_rss_mb", "startup_s")} for w in s["workers"]],
            "engine_args": engine_args}


def _start_nodes(temp: Path, env: dict) -> None:
    """Head (1 CPU) and a second node (1 CPU) on 127.0.0.1, each with its own ports."""
    common = ["--num-cpus", "1", "--node-ip-address", "127.0.0.1", "--temp-dir", str(temp),
              "--object-store-memory", str(300 * 1024 * 1024), "--disable-usage-stats"]
    head = [RAY, "start", "--head", "--port", str(HEAD_PORT), "--include-dashboard", "false",
            "--node-manager-port", "16391", "--object-manager-port", "16392", "--min-worker-port", "16400",
            "--max-worker-port", "16449", "--dashboard-agent-listen-port", "16394", "--dashboard-agent-grpc-port",
            "16395", "--metrics-export-port", "16396", "--runtime-env-agent-port", "16397", *common]
    second = [RAY, "start", "--address", f"127.0.0.1:{HEAD_PORT}", "--node-manager-port", "16451",
              "--object-manager-port", "16452", "--min-worker-port", "16460", "--max-worker-port", "16499",
              "--dashboard-agent-listen-port", "16454", "--dashboard-agent-grpc-port", "16455",
              "--metrics-export-port", "16456", "--runtime-env-agent-port", "16457", *common]
    for cmd in (head, second):
        subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, timeout=180)


def _stop_nodes(temp: Path) -> None:
    """Stop the processes of this cluster only: those whose command line names its temp dir, by pid (``ray stop``
    would stop every Ray process of the user on the machine)."""
    mine = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if str(temp) in (proc / "cmdline").read_bytes().decode(errors="replace"):
                    mine.append(int(proc.name))
            except OSError:
                continue
    for sig in (15, 9):
        for pid in mine:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        time.sleep(3)


def two_nodes(src: Path, out: Path, args) -> dict:
    """The CLI joining the simulated two-node cluster (its start and stop are not in ``wall_s``)."""
    temp = Path(tempfile.mkdtemp(prefix="rb2n-", dir="/tmp"))
    # Token authentication, as on a real cluster: every node and the driver share the token.
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    try:
        _start_nodes(temp, env)
        run = cli_run("two_nodes", src, out, ["--engine", "ray", "--address", f"127.0.0.1:{HEAD_PORT}",
                                               "--workers", "2", "--threads-per-worker", "1"], args, env=env)
    finally:
        _stop_nodes(temp)
        shutil.rmtree(temp, ignore_errors=True)
    run["plan"] = {"workers": 2, "threads_per_worker": 1, "nodes": 2, "cpus_per_node": 1}
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=384)
    parser.add_argument("--exact-rows", type=int, default=0, help="also time --batch-size 1 on this many rows")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--model", default="default")
    parser.add_argument("--click-model", default="default")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="batch-engines-"))
    src = make_input(args.rows, work)
    ray_engine = ["--engine", "ray"]
    runs = {"local": cli_run("local", src, work / "local.csv", [], args)}
    runs["ray_1_worker"] = cli_run("ray_1_worker", src, work / "ray_1_worker.csv",
                                   ray_engine + ["--workers", "1", "--threads-per-worker", "2"], args)
    runs["ray_2_workers"] = cli_run("ray_2_workers", src, work / "ray_2_workers.csv",
                                    ray_engine + ["--workers", "2", "--threads-per-worker", "1"], args)
    runs["two_nodes"] = two_nodes(src, work / "two_nodes.csv", args)
    # Local again, last: the machine drifts over a long run, so Ray's rows are compared with the mean of a local
    # run before and after them.
    runs["local_again"] = cli_run("local_again", src, work / "local_again.csv", [], args)
    if args.exact_rows:
        runs["local_one_row_per_call"] = cli_run("local_one_row_per_call", make_input(args.exact_rows, work),
                                                 work / "exact.csv", [], args, batch_size=1)
    reference = (work / "local.csv").read_bytes()
    base = {key: (runs["local"][key] + runs["local_again"][key]) / 2
            for key in ("wall_s", "rows_per_s_engine", "steady_rows_per_s")}
    for name, run in runs.items():
        if name == "local_one_row_per_call":
            continue
        # Whole commands: Ray's start-up (ray.init, the worker's process, imports and model load) is inside wall_s.
        run["vs_local_wall"] = round(base["wall_s"] / run["wall_s"], 3)
        run["vs_local_engine"] = round(run["rows_per_s_engine"] / base["rows_per_s_engine"], 3)
        run["vs_local_steady"] = round(run["steady_rows_per_s"] / base["steady_rows_per_s"], 3)
        run["output_identical_to_local"] = (work / f"{name}.csv").read_bytes() == reference
    result = {"date": time.strftime("%Y-%m-%d"), "cores": local_cores(), "model": args.model,
              "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
              "rows": args.rows, "batch_size": args.batch_size, "decoding": "greedy, 3 titles, click-ranked",
              "runs": runs, "command": "python " + " ".join(sys.argv)}
    text = json.dumps(result, indent=2)
    print(text)
    out = args.out or Path(__file__).parent / "results" / f"batch_engines_{time.strftime('%Y-%m-%d')}.json"
    out.write_text(text + "\n", encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
