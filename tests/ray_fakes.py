"""Fakes for the batch-engine tests that Ray workers import (they run from the repository root, as the driver does):
a generator spec whose generator is fast, leaves a marker per worker (its pid) and logs every row it generates."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from titlegen.workers import GeneratorSpec


class SlowGenerator:
    """Titles ``"<brief> #<seed mod 1000>"`` after ``delay_s`` per row; appends each row's brief to
    ``<marker_dir>/calls-<run>.log``; raises for a brief containing ``"CRASH"``."""

    def __init__(self, marker_dir: str, delay_s: float, run: str) -> None:
        self.marker_dir, self.delay_s, self.run = Path(marker_dir), delay_s, run

    def __call__(self, requests, *, num_titles=5, seed=0, **_):
        from titlegen.candidates import TitleList
        from titlegen.generator import TitleCandidate

        out = []
        for req in requests:
            if "CRASH" in req.brief:
                raise RuntimeError(f"cannot title {req.brief!r}")
            time.sleep(self.delay_s)
            with open(self.marker_dir / f"calls-{self.run}.log", "a", encoding="utf-8") as f:
                f.write(req.brief + "\n")
            out.append(TitleList([TitleCandidate(f"{req.brief} #{seed % 1000}", "beam", -1.0)], language="en",
                                 ranking="fake"))
        return out


@dataclass(frozen=True)
class SlowSpec(GeneratorSpec):
    """A :class:`GeneratorSpec` whose workers build a :class:`SlowGenerator` and leave ``pid-<pid>`` markers."""

    marker_dir: str = ""
    delay_s: float = 0.0
    run: str = "1"

    def load(self, threads=None):
        Path(self.marker_dir, f"pid-{os.getpid()}").write_text(str(threads), encoding="utf-8")
        return SlowGenerator(self.marker_dir, self.delay_s, self.run)


def worker_pids(marker_dir: Path) -> list[int]:
    """Pids of the workers that started, from their markers."""
    return sorted(int(p.name.split("-")[1]) for p in marker_dir.glob("pid-*"))


def calls(marker_dir: Path, run: str) -> list[str]:
    """Briefs generated in ``run``, one per generation."""
    log = marker_dir / f"calls-{run}.log"
    return log.read_text(encoding="utf-8").splitlines() if log.is_file() else []
