"""Batch engines, measured in one run: ``python bench/batch_engines.py [--rows 64] [--model default]``.

Writes ``bench/results/batch_engines_<date>.json`` (and prints it). All figures come from one process on one
machine, so the ratios compare like with like. Greedy titles (one beam, no samples, 3 titles, the shipped click
model) for the bundled example briefs repeated to ``--rows`` rows (ids made unique), ``--batch-size`` rows a group:

* ``local``: the local engine (this process, torch's threads = the cores);
* ``ray_1_worker``: a local Ray instance, 1 worker x 2 threads; ``ray_2_workers``: 2 workers x 1 thread;
* ``two_nodes``: a simulated two-node cluster on 127.0.0.1 (``ray start --head --num-cpus 1`` and ``ray start
  --address`` with other ports, token authentication on, then stopped), 2 workers, its output compared with local;
* ``local_one_row_per_call``: the local engine with ``--batch-size 1`` on the first ``--exact-rows`` rows: the
  cost of making every row independent of its neighbours (bf16 padding numerics; docs/batch/README.md);
* per run: rows/s, seconds, peak resident memory per worker (MB), ratio against local, and whether the merged
  output is byte-identical to local's.

Run it detached, under nice, on a quiet machine: it takes tens of minutes on 2 cores.
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

from titlegen.batch import run_batch  # noqa: E402
from titlegen.engine import EngineConfig, local_cores  # noqa: E402
from titlegen.workers import GeneratorSpec  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "titlegen" / "examples" / "briefs.csv"
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


def measure(name: str, spec: GeneratorSpec, src: Path, out: Path, engine: EngineConfig, args) -> dict:
    start = time.perf_counter()
    s = run_batch(spec, src, out, num_titles=3, batch_size=args.batch_size, num_beams=1, num_samples=0, seed=0,
                  engine=engine)
    wall = time.perf_counter() - start
    print(f"{name}: {s.generated} rows in {wall:.1f} s", file=sys.stderr, flush=True)
    return {"rows": s.generated, "failed": s.failed, "wall_s": round(wall, 2),
            "rows_per_s_wall": round(s.generated / wall, 3), "rows_per_s_engine": s.rows_per_s,
            "workers": [{k: w[k] for k in ("rows", "peak_rss_mb", "startup_s")} for w in s.workers],
            "plan": None if engine.engine == "local" else {"workers": engine.workers,
                                                           "threads_per_worker": engine.threads_per_worker}}


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
    """The CLI, in a fresh interpreter (Ray reads its authentication settings once per process), joining the
    simulated two-node cluster."""
    temp = Path(tempfile.mkdtemp(prefix="rb2n-", dir="/tmp"))
    # Token authentication, as on a real cluster: every node and the driver share the token.
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    cmd = [sys.executable, "-m", "titlegen", "generate", "--input", str(src), "--output", str(out), "--engine",
           "ray", "--address", f"127.0.0.1:{HEAD_PORT}", "--workers", "2", "--threads-per-worker", "1",
           "--num-titles", "3", "--num-beams", "1", "--num-samples", "0", "--batch-size", str(args.batch_size),
           "--model", args.model, "--quiet"]
    cmd += ["--precision", "bf16"] if args.model == "default" else []
    cmd += ["--no-click-model"] if args.click_model == "none" else ["--click-model", args.click_model]
    try:
        _start_nodes(temp, env)
        start = time.perf_counter()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600,
                              cwd=Path(__file__).resolve().parents[1])
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"two-node run failed: {done.stderr[-2000:]}")
        s = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        _stop_nodes(temp)
        shutil.rmtree(temp, ignore_errors=True)
    print(f"two_nodes: {s['generated']} rows in {wall:.1f} s", file=sys.stderr, flush=True)
    return {"rows": s["generated"], "failed": s["failed"], "wall_s": round(wall, 2),
            "rows_per_s_wall": round(s["generated"] / wall, 3), "rows_per_s_engine": s["rows_per_s"],
            "workers": [{k: w[k] for k in ("rows", "peak_rss_mb", "startup_s")} for w in s["workers"]],
            "plan": {"workers": 2, "threads_per_worker": 1, "nodes": 2, "cpus_per_node": 1},
            "note": "wall_s includes a fresh interpreter and joining the cluster"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=64)
    parser.add_argument("--exact-rows", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--model", default="default")
    parser.add_argument("--click-model", default="default")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="batch-engines-"))
    spec = GeneratorSpec(model=args.model, click_model=None if args.click_model == "none" else args.click_model,
                         precision="bf16" if args.model == "default" else None)
    src = make_input(args.rows, work)
    runs = {"local": measure("local", spec, src, work / "local.csv", EngineConfig(), args)}
    for name, (workers, threads) in {"ray_1_worker": (1, 2), "ray_2_workers": (2, 1)}.items():
        runs[name] = measure(name, spec, src, work / f"{name}.csv",
                             EngineConfig(engine="ray", workers=workers, threads_per_worker=threads), args)
    runs["two_nodes"] = two_nodes(src, work / "two_nodes.csv", args)
    exact_src = make_input(args.exact_rows, work)
    exact_args = argparse.Namespace(**{**vars(args), "batch_size": 1})
    runs["local_one_row_per_call"] = measure("local_one_row_per_call", spec, exact_src, work / "exact.csv",
                                             EngineConfig(), exact_args)
    reference = (work / "local.csv").read_bytes()
    base = runs["local"]["rows_per_s_engine"]
    for name, run in runs.items():
        # Engine rates: from the first model load to the last row, on every engine (no interpreter start-up).
        run["vs_local"] = round(run["rows_per_s_engine"] / base, 3) if base else None
        if name != "local_one_row_per_call":
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
