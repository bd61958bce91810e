"""The title worker of a batch job: a group of input rows in, one output record per row out (see
:mod:`titlegen.engine`). The same worker runs in this process (``engine="local"``) and in every Ray actor, so both
engines write the same records.

Same answers on any engine, worker or rerun: each group is generated in one call seeded by :func:`row_seed` of the
run seed and the group's first row id, and groups are fixed by the input's order (:func:`titlegen.batch.run_batch`
cuts them before skipping rows already done), never by which worker is free. With ``batch_size=1`` every row is its
own group, with its own seed: its titles depend on nothing but the row, the settings and the run seed. With larger
groups, bf16 padding numerics can change a row's greedy title with its neighbours (measured in docs/batch/README.md),
so identity holds for the same input order, not across reorderings.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from titlegen.controls import Controls
from titlegen.errors import ConfigError, TitleGenError
from titlegen.loading import DEFAULT, PRECISIONS, load_generator
from titlegen.request import TitleCandidate, TitleRequest, validate_request

if TYPE_CHECKING:  # the generator (torch) loads in the worker, not on the driver that plans the job
    from titlegen.generator import TitleGenerator


def row_seed(run_seed: int, row_id: str) -> int:
    """The sampling seed of a row (or of the group it opens): a hash of the run seed and the row id, in
    ``[0, 2**63)``; the same on every machine and Python (``hash()`` is salted per process, sha256 is not)."""
    digest = hashlib.sha256(f"{run_seed}\x1f{row_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


@dataclass(frozen=True)
class TitleSettings:
    """How every row of a batch is generated (see :meth:`titlegen.TitleGenerator.__call__`).

    Attributes:
        num_titles: titles per row (>= 1).
        batch_size: rows generated together in one call (>= 1); 1 makes each row independent of the others.
        num_beams, num_samples: candidates from beam search (1: greedy) and from sampling (>= 0 each).
        seed: the run seed every row's sampling seed derives from.
        defaults: controls for columns a row leaves empty.
    """

    num_titles: int = 5
    batch_size: int = 16
    num_beams: int = 4
    num_samples: int = 4
    seed: int = 0
    defaults: Controls = field(default_factory=Controls)

    def __post_init__(self) -> None:
        for name, low in (("num_titles", 1), ("batch_size", 1), ("num_beams", 0), ("num_samples", 0), ("seed", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
        if self.num_beams == 0 and self.num_samples == 0:
            raise ConfigError("num_beams and num_samples are both 0: no titles would be generated")


@dataclass(frozen=True)
class GeneratorSpec:
    """How a worker builds its title generator: plain data that travels to Ray workers (a loaded model does not).

    Attributes:
        model, adapter, click_model, precision: as for :func:`titlegen.load_generator`; paths must exist where
            the worker runs (absolute, or the same on every node).
        restraint, relevance_weight: the generator's ranking weights (>= 0).
    """

    model: str = DEFAULT
    adapter: str | None = None
    click_model: str | None = "default"
    precision: str | None = None
    restraint: float = 0.0
    relevance_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.precision is not None and self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        for name in ("restraint", "relevance_weight"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(f"{name} must be a number >= 0, got {value!r}")

    def load(self, threads: int | None = None) -> TitleGenerator:
        """The generator, its model on ``threads`` CPU threads (None: torch's default).

        Raises:
            ModelLoadError: the model or adapter cannot be loaded (the message names the path).
        """
        generator = load_generator(self.model, adapter=self.adapter, click_model=self.click_model,
                                   precision=self.precision, num_threads=threads)
        generator.restraint = self.restraint
        generator.relevance_weight = self.relevance_weight
        return generator


def controls_of(row: dict, default: Controls) -> Controls:
    """A row's controls: its own columns where filled, ``default`` elsewhere (``selling_points`` split on ``;``)."""
    def get(name: str):
        value = row.get(name, "")
        return value if value not in ("", None) and not (isinstance(value, float) and value != value) else None

    points = get("selling_points")
    if isinstance(points, str):
        points = tuple(p.strip() for p in points.split(";") if p.strip())
    return Controls(
        style=get("style") or default.style,
        audience=str(get("audience") or default.audience),
        selling_points=tuple(points) if points else default.selling_points,
        platform=get("platform") or default.platform,
        max_chars=int(float(get("max_chars"))) if get("max_chars") else default.max_chars,
        language=get("language") or default.language,
    )


def dropped_text(cands: list[TitleCandidate]) -> str:
    """``"2 over the limit; 1 unsupported number"`` from a :class:`~titlegen.candidates.TitleList`'s ``dropped``
    counts; ``"none"`` when nothing was dropped."""
    dropped = getattr(cands, "dropped", None) or {}
    return "; ".join(f"{n} {reason}" for reason, n in sorted(dropped.items()) if n) or "none"


def row_out(row_id: str, cands: list[TitleCandidate] | None, error: str, k: int) -> dict:
    """One output record: id, status, error, language, dropped, ranking, then ``k`` titles with their scores."""
    out: dict = {"id": row_id, "status": "error" if error else "ok", "error": error,
                 "language": getattr(cands, "language", "") if cands else "",
                 "dropped": dropped_text(cands) if cands else "",
                 "ranking": getattr(cands, "ranking", "") if cands else ""}
    for j in range(k):
        c = cands[j] if cands and j < len(cands) else None
        out[f"title_{j + 1}"] = c.text if c else ""
        out[f"source_{j + 1}"] = c.source if c else ""
        out[f"logprob_{j + 1}"] = c.logprob if c else ""
        out[f"predicted_ctr_{j + 1}"] = "" if not c or c.predicted_ctr is None else round(c.predicted_ctr, 5)
    return out


class TitleWorker:
    """Titles for a group of rows (dicts with ``id`` and ``brief``), one record per row, in the group's order.

    A row whose brief or controls are invalid is an ``error`` record; the group's valid rows are generated in one
    call. If that call fails, each row is tried alone, so only the row that fails is reported and the rest succeed.
    """

    def __init__(self, generator: TitleGenerator, settings: TitleSettings) -> None:
        self.generator = generator
        self.settings = settings

    def __call__(self, rows: list[dict]) -> list[dict]:
        k = self.settings.num_titles
        records: dict[str, dict] = {}
        valid: list[tuple[str, TitleRequest]] = []
        for row in rows:
            row_id = str(row["id"])
            try:
                request = TitleRequest(str(row.get("brief", "")), controls_of(row, self.settings.defaults))
                valid.append((row_id, validate_request(request)))
            except TitleGenError as exc:
                records[row_id] = row_out(row_id, None, str(exc), k)
        if valid:
            records.update(self._generate(valid, row_seed(self.settings.seed, str(rows[0]["id"]))))
        return [records[str(row["id"])] for row in rows]

    def _generate(self, valid: list[tuple[str, TitleRequest]], seed: int) -> dict[str, dict]:
        s, k = self.settings, self.settings.num_titles
        try:
            results = self.generator([req for _, req in valid], num_titles=k, batch_size=len(valid),
                                     num_beams=s.num_beams, num_samples=s.num_samples, seed=seed)
        except Exception as exc:  # a bad row must not take its group down, whatever it raised
            if len(valid) > 1:
                out: dict[str, dict] = {}
                for row_id, req in valid:
                    out.update(self._generate([(row_id, req)], row_seed(s.seed, row_id)))
                return out
            message = str(exc) if isinstance(exc, TitleGenError) else f"{type(exc).__name__}: {exc}"
            return {valid[0][0]: row_out(valid[0][0], None, message, k)}
        return {row_id: row_out(row_id, cands, "", k) for (row_id, _), cands in zip(valid, results)}


def build_title_worker(spec: GeneratorSpec, settings: TitleSettings, threads: int | None) -> TitleWorker:
    """``make_worker`` of the title job (bind ``spec`` and ``settings`` with :func:`functools.partial`): loads
    the generator once per worker."""
    return TitleWorker(spec.load(threads), settings)
