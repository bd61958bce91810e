"""Serve the studio in a child process for a real browser (tests/test_browser.py, docs/app/take_screenshots.py).

The server runs in its own process group, every wait is bounded, and the group is always stopped on the way out.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, server: subprocess.Popen, log: Path, *, limit_s: float) -> None:
    """Return once ``url`` answers its health check. Raises RuntimeError (with the log's end) if the server exits
    or does not answer within ``limit_s``."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the studio exited with {server.returncode}:\n"
                               f"{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the studio did not answer in {limit_s} s:\n{log.read_text(errors='replace')[-3000:]}")


@contextlib.contextmanager
def serving(cmd: Sequence[str], *, port: int, env: dict[str, str], cwd: Path, log: Path,
            limit_s: float = 90) -> Iterator[str]:
    """Run ``cmd`` (which serves the studio on ``port``) and yield its URL once healthy; stop its group after."""
    with open(log, "wb") as out:
        server = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, server, log, limit_s=limit_s)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
