"""Title quality per language on the curated validation pairs: ``python -m titlegen.evaluate titles --help``.

Each system writes titles for the grouped validation pairs of ``--val-dir`` (``val_zh.jsonl``, ``val_en.jsonl``
from ``python -m titlegen.train_default prepare``) with each row's controls (style, audience, selling points, its
``max_chars`` limit and its language), and its top-ranked title is kept. Systems (``--systems``):

* ``lead``: :func:`titlegen.generator.lead_fallback`, the brief's opening cut at a boundary to the limit;
* ``zero-shot``: the base model ``qwen2.5-0.5b`` with the same prompt, no adapter (the adapter must beat it);
* ``default``: the embedded default (that base and the shipped LoRA adapter);
* ``old-default``: ``minilm-title-decoder``, the former English-only seq2seq default;
* ``NAME=BASE`` or ``NAME=BASE+ADAPTER``: any base (a folder, a hub id) with an optional LoRA adapter folder.

Metrics of each language and system (:class:`TitleQualityEvaluator`): ROUGE-1/2/L F1 against the human title
(:func:`titlegen.rouge_eval.rouge_f1`: characters for Chinese, words for English), and over the kept titles the
unsupported-number rate (a number the brief, audience and selling points do not state), the language-match rate,
the within-limit rate (display characters), the mean display length and the share of lead fallbacks; plus the
seconds spent generating. A row whose generation failed scores ROUGE 0 and is counted in ``failed``; the rates
are over the titles produced. A system that cannot be loaded is an error row of the report, not a crash.

Generations are checkpointed per language and system in ``OUT/generations/*.csv``, appended batch by batch and
keyed by the validation row, so a rerun skips what is done (also after a larger ``--limit-per-language``).
"""

from __future__ import annotations

import csv
import gc
import hashlib
import json
import math
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from titlegen.controls import Controls
from titlegen.errors import ConfigError, InputFileError
from titlegen.faithfulness import unsupported_numbers
from titlegen.generator import TitleRequest, lead_fallback
from titlegen.language import detect_language, display_length
from titlegen.rouge_eval import rouge_f1

LANGUAGES = ("zh", "en")
#: The named systems: ``(base, adapter)``; ``lead`` needs no model.
NAMED_SYSTEMS: dict[str, tuple[str, str | None] | None] = {
    "lead": None, "zero-shot": ("qwen2.5-0.5b", None), "default": ("default", None),
    "old-default": ("minilm-title-decoder", None)}
DEFAULT_SYSTEMS = "lead,zero-shot,default,old-default"
COLUMNS = ("row", "key", "title", "source", "logprob", "dropped", "seconds", "error")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class SystemSpec:
    """One system: its report name and what :func:`titlegen.load_generator` loads (``base`` None: the lead)."""

    name: str
    base: str | None
    adapter: str | None = None


def parse_systems(text: str) -> list[SystemSpec]:
    """Systems from a comma-separated list of names of :data:`NAMED_SYSTEMS` and ``NAME=BASE[+ADAPTER]`` items.

    Raises:
        ConfigError: an unknown name, a name that cannot be a file name, or a name given twice.
    """
    specs: list[SystemSpec] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, _, model = item.partition("=")
        if not _NAME.fullmatch(name):
            raise ConfigError(f"system name {name!r} must be letters, digits, '.', '_' or '-'")
        if model:
            base, _, adapter = model.partition("+")
            specs.append(SystemSpec(name, base, adapter or None))
        elif name in NAMED_SYSTEMS:
            named = NAMED_SYSTEMS[name]
            specs.append(SystemSpec(name, *(named or (None, None))))
        else:
            raise ConfigError(f"unknown system {name!r}; use one of {', '.join(NAMED_SYSTEMS)} or NAME=BASE[+ADAPTER]")
    names = [s.name for s in specs]
    if len(set(names)) != len(names) or not specs:
        raise ConfigError(f"systems must be distinct and at least one, got {text!r}")
    return specs


def load_validation(val_dir: Path, language: str, *, limit: int | None = None, seed: int = 0) -> pd.DataFrame:
    """The validation pairs of ``language`` with a ``row`` column (line number in the file), a seeded sample of
    ``limit`` rows in file order when ``limit`` is given.

    Raises:
        InputFileError: the file is missing or lacks a column the evaluation needs.
    """
    path = Path(val_dir) / f"val_{language}.jsonl"
    if not path.is_file():
        raise InputFileError(f"no validation pairs at {path}; write them with "
                             "`python -m titlegen.train_default prepare --data ../shared/data`")
    frame = pd.read_json(path, lines=True, dtype=False)
    needed = {"brief", "title", "style", "audience", "selling_points", "max_chars", "language", "dataset"}
    if needed - set(frame.columns):
        raise InputFileError(f"{path} lacks the columns {', '.join(sorted(needed - set(frame.columns)))}")
    frame = frame.reset_index(drop=True)
    frame.insert(0, "row", frame.index)
    for col in ("audience", "selling_points", "style"):
        frame[col] = frame[col].fillna("").astype(str)
    if limit is not None and limit < len(frame):
        frame = frame.sample(n=limit, random_state=seed).sort_values("row")
    return frame.reset_index(drop=True)


def request_for(row) -> TitleRequest:
    """The request of a validation row: its brief with its style, audience, selling points, limit and language."""
    points = tuple(p.strip() for p in re.split(r"[;；]", row["selling_points"]) if p.strip())[:5]
    return TitleRequest(row["brief"], Controls(style=row["style"] or "lifestyle", audience=row["audience"],
                                               selling_points=points, max_chars=int(row["max_chars"]),
                                               language=row["language"]))


def support_text(row) -> str:
    """What a title may state: the brief, the audience and the selling points of the row."""
    return " ".join([row["brief"], row["audience"], row["selling_points"]])


def row_key(row) -> str:
    """A short hash of what a row's generation depends on, so a changed validation file is not reused."""
    text = "\x1f".join(str(row[c]) for c in ("brief", "style", "audience", "selling_points", "max_chars",
                                              "language"))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def _rate(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


class TitleQualityEvaluator:
    """Metrics of one system's titles on the validation pairs of one language.

    Args:
        pairs: frame from :func:`load_validation` (``title``, ``brief``, ``audience``, ``selling_points``,
            ``max_chars``, ``language``, ``dataset``).
    """

    def __init__(self, pairs: pd.DataFrame) -> None:
        self.pairs = pairs.reset_index(drop=True)

    def __call__(self, titles: list[str], *, sources: list[str] | None = None) -> dict:
        """Metrics of ``titles`` aligned with the pairs (``""``: generation failed for that row).

        Returns:
            ``n``, ``failed``, ``rouge1``, ``rouge2``, ``rougeL`` (mean F1 over all rows), ``unsupported_number_rate``,
            ``language_match_rate``, ``within_limit_rate``, ``mean_display_length`` and ``lead_fallback_rate``
            (share of titles from ``source == "lead"``, when ``sources`` are given) over the titles produced, and
            ``rougeL_by_dataset``.
        """
        if len(titles) != len(self.pairs):
            raise ValueError(f"{len(titles)} titles for {len(self.pairs)} pairs")
        rows = []
        for (_, pair), title in zip(self.pairs.iterrows(), titles):
            made = bool(title)
            rows.append({"dataset": pair["dataset"], "made": made,
                         **rouge_f1(pair["title"], title, language=pair["language"]),
                         "unsupported": made and bool(unsupported_numbers(title, support_text(pair))),
                         "match": made and detect_language(title) == pair["language"],
                         "within": made and display_length(title) <= int(pair["max_chars"]),
                         "length": display_length(title)})
        df = pd.DataFrame(rows)
        made = df[df["made"]] if len(df) else df
        out = {"n": len(df), "failed": int((~df["made"]).sum()) if len(df) else 0}
        out.update({k: round(float(df[k].mean()), 4) if len(df) else None for k in ("rouge1", "rouge2", "rougeL")})
        out.update({"unsupported_number_rate": _rate(made["unsupported"].tolist()),
                    "language_match_rate": _rate(made["match"].tolist()),
                    "within_limit_rate": _rate(made["within"].tolist()),
                    "mean_display_length": round(float(made["length"].mean()), 1) if len(made) else None})
        if sources is not None:
            out["lead_fallback_rate"] = _rate([s == "lead" for s, t in zip(sources, titles) if t])
        out["rougeL_by_dataset"] = {d: round(float(g["rougeL"].mean()), 4) for d, g in df.groupby("dataset")}
        return out

    def human(self) -> dict:
        """The same rates for the human titles themselves (how often people state what the brief does not...)."""
        metrics = self(self.pairs["title"].tolist())
        return {k: metrics[k] for k in ("n", "unsupported_number_rate", "language_match_rate", "within_limit_rate",
                                        "mean_display_length")}


class SystemFailed(Exception):
    """Every row of a batch failed: the system cannot generate (the message says why)."""


def read_checkpoint(path: Path, pairs: pd.DataFrame) -> dict[int, dict]:
    """Rows already generated in ``path`` whose key still matches the pairs (incomplete lines are skipped)."""
    if not path.is_file():
        return {}
    keys = {int(r): row_key(p) for r, (_, p) in zip(pairs["row"], pairs.iterrows())}
    done: dict[int, dict] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh):
            if None in rec or any(rec.get(c) is None for c in COLUMNS):
                continue  # a line cut short by an interrupted run
            try:
                row = int(rec["row"])
            except ValueError:
                continue
            if keys.get(row) == rec["key"]:
                done[row] = rec
    return done


def _append(path: Path, records: list[dict]) -> None:
    new = not path.is_file()
    with path.open("a", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        if new:
            writer.writeheader()
        writer.writerows(records)
        fh.flush()


def _record(row, title: str = "", source: str = "", logprob: float | None = None, dropped: dict | None = None,
            seconds: float = 0.0, error: str = "") -> dict:
    finite = logprob is not None and math.isfinite(float(logprob))
    return {"row": int(row["row"]), "key": row_key(row), "title": title, "source": source,
            "logprob": round(float(logprob), 4) if finite else "",
            "dropped": json.dumps(dropped or {}, ensure_ascii=False, sort_keys=True),
            "seconds": round(seconds, 4), "error": error}


def _top1(result) -> tuple[str, str, float | None, dict]:
    top = result[0]
    return top.text, top.source, top.logprob, dict(getattr(result, "dropped", {}) or {})


def generate_rows(generate: Callable[[list[TitleRequest], int], list], pairs: pd.DataFrame, path: Path, *,
                  batch_size: int, label: str = "", progress: bool = True) -> pd.DataFrame:
    """Top-1 titles of ``pairs``, generated in batches (shortest briefs first) and appended to ``path`` as they
    finish; rows already in ``path`` are read back, not generated.

    Args:
        generate: ``(requests, seed) -> results``, one ranked list of candidates per request (its first is kept).
        path: the checkpoint CSV (:data:`COLUMNS`).
        batch_size: requests per call.
        label: names the system and language in the progress lines (printed to stderr when ``progress``).

    Returns:
        One record per pair, in the pairs' order (``title`` ``""`` where generation failed).

    Raises:
        SystemFailed: every row of a batch failed, each on its own too.
    """
    done = read_checkpoint(path, pairs)
    todo = pairs[~pairs["row"].isin(done)]
    todo = todo.assign(_len=todo["brief"].str.len()).sort_values("_len", kind="stable")
    started = time.time()
    for start in range(0, len(todo), max(1, batch_size)):
        chunk = [r for _, r in todo.iloc[start:start + batch_size].iterrows()]
        t0 = time.time()
        try:
            results = generate([request_for(r) for r in chunk], int(chunk[0]["row"]))
            per = (time.time() - t0) / len(chunk)
            records = [_record(r, *_top1(res), seconds=per) for r, res in zip(chunk, results)]
        except Exception as batch_error:  # noqa: BLE001 - retried row by row below, then reported
            records = []
            for r in chunk:
                t1 = time.time()
                try:
                    records.append(_record(r, *_top1(generate([request_for(r)], int(r["row"]))[0]),
                                           seconds=time.time() - t1))
                except Exception as err:  # noqa: BLE001 - one failing row must not stop the evaluation
                    records.append(_record(r, seconds=time.time() - t1, error=f"{type(err).__name__}: {err}"))
            if all(rec["error"] for rec in records):
                raise SystemFailed(f"{type(batch_error).__name__}: {batch_error}") from batch_error
        _append(path, records)
        for rec in records:
            done[rec["row"]] = rec
        if progress:
            n = start + len(chunk)
            print(f"[{label}] {n}/{len(todo)} new rows, {time.time() - started:.1f} s", file=sys.stderr, flush=True)
    return pd.DataFrame([done[int(r)] for r in pairs["row"]], columns=list(COLUMNS))


def summarize(evaluator: TitleQualityEvaluator, generations: pd.DataFrame) -> dict:
    """The evaluator's metrics of a system's generations, with seconds and the drop reasons added."""
    titles = generations["title"].fillna("").astype(str).tolist()
    metrics = evaluator(titles, sources=generations["source"].fillna("").astype(str).tolist())
    seconds = pd.to_numeric(generations["seconds"], errors="coerce").fillna(0.0)
    dropped: Counter = Counter()
    for text in generations["dropped"].fillna("{}"):
        dropped.update(json.loads(text or "{}"))
    errors = generations.loc[generations["error"].fillna("") != "", "error"]
    metrics.update({"generation_seconds": round(float(seconds.sum()), 1),
                    "seconds_per_title": round(float(seconds.mean()), 3) if len(seconds) else None,
                    "dropped_candidates": dict(sorted(dropped.items()))})
    if len(errors):
        metrics["first_error"] = str(errors.iloc[0])
    return metrics


def lead_titles(requests: list[TitleRequest], seed: int = 0) -> list[list]:
    """The lead baseline as a generator: one ``lead`` candidate per request (``seed`` is unused)."""
    from titlegen.generator import TitleCandidate

    return [[TitleCandidate(lead_fallback(" ".join(r.brief.split()), r.controls.limit), "lead", float("-inf"))]
            for r in requests]


def model_fingerprint(spec: SystemSpec) -> str:
    """Eight hex digits that change when the system's adapter weights (or a local base's weight files) change, so
    checkpointed generations of an earlier adapter are not reused."""
    from titlegen.loading import DEFAULT_ADAPTER_DIR

    digest = hashlib.sha1(f"{spec.base}+{spec.adapter}".encode())
    adapter = DEFAULT_ADAPTER_DIR if spec.base == "default" and not spec.adapter else spec.adapter
    if adapter and (Path(adapter) / "adapter_model.safetensors").is_file():
        digest.update((Path(adapter) / "adapter_model.safetensors").read_bytes())
    if spec.base and Path(spec.base).is_dir():
        for f in sorted(Path(spec.base).glob("*.safetensors")) + sorted(Path(spec.base).glob("*.bin")):
            digest.update(f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}".encode())
    return digest.hexdigest()[:8]


def checkpoint_path(out: Path, language: str, spec: SystemSpec, settings: dict) -> Path:
    """``OUT/generations/<language>_<system>[_<settings>].csv``; model systems carry their settings and weights'
    fingerprint in the name."""
    if spec.base is None:
        return out / "generations" / f"{language}_{spec.name}.csv"
    click = settings["click_model"] or "none"
    tag = (f"{settings['precision'] or 'auto'}_b{settings['num_beams']}s{settings['num_samples']}_"
           f"{'ctr' + hashlib.sha1(click.encode()).hexdigest()[:4] if click != 'none' else 'noctr'}_"
           f"{model_fingerprint(spec)}")
    return out / "generations" / f"{language}_{spec.name}_{tag}.csv"


def _load(spec: SystemSpec, settings: dict):
    from titlegen.loading import load_generator

    return load_generator(spec.base, adapter=spec.adapter, precision=settings["precision"],
                          click_model=settings["click_model"], num_threads=settings["threads"])


def run_title_quality(val_dir: Path, out: Path, *, systems: list[SystemSpec], limit_per_language: int | None = None,
                      precision: str | None = None, batch_size: int = 8, num_beams: int = 4, num_samples: int = 4,
                      click_model: str | None = None, threads: int | None = None, seed: int = 0,
                      command: str = "", progress: bool = True) -> dict:
    """Evaluate ``systems`` on both languages' validation pairs; write ``metrics.json``, ``report.md`` and
    ``samples.csv`` into ``out`` after every system (so a long run shows what is done).

    Args:
        val_dir: folder with ``val_zh.jsonl`` and ``val_en.jsonl``.
        limit_per_language: a seeded sample of this many pairs per language (all when None).
        precision: ``int8``, ``bf16`` or ``fp32`` for causal bases (None: :func:`titlegen.load_generator`'s).
        batch_size: briefs per generation call.
        num_beams, num_samples: candidates per brief (the generator's own defaults are 4 and 4).
        click_model: ``"default"``, a folder, or None (rank without one).
        threads: torch CPU threads (None: torch's default).

    Returns:
        The metrics written to ``metrics.json``.

    Raises:
        InputFileError: a validation file is missing or malformed.
    """
    from titlegen.evaluate.title_report import write_outputs

    out = Path(out)
    (out / "generations").mkdir(parents=True, exist_ok=True)
    pairs = {lang: load_validation(val_dir, lang, limit=limit_per_language, seed=seed) for lang in LANGUAGES}
    settings = {"precision": precision, "batch_size": batch_size, "num_beams": num_beams,
                "num_samples": num_samples, "click_model": click_model, "threads": threads, "seed": seed,
                "limit_per_language": limit_per_language}
    results = {"command": command, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "val_dir": str(val_dir), "settings": settings, "languages": {}}
    evaluators = {lang: TitleQualityEvaluator(pairs[lang]) for lang in LANGUAGES}
    for lang in LANGUAGES:
        results["languages"][lang] = {"pairs": len(pairs[lang]),
                                      "datasets": pairs[lang]["dataset"].value_counts().to_dict(),
                                      "human": evaluators[lang].human(), "systems": {}}
    generations: dict[str, dict[str, pd.DataFrame]] = {lang: {} for lang in LANGUAGES}
    for spec in systems:
        paths = {lang: checkpoint_path(out, lang, spec, settings) for lang in LANGUAGES}
        complete = all(len(read_checkpoint(paths[lang], pairs[lang])) == len(pairs[lang]) for lang in LANGUAGES)
        generator, generate, error, load_seconds = None, lead_titles, None, 0.0
        if spec.base is not None and not complete:
            t0 = time.time()
            try:
                generator = _load(spec, settings)
            except Exception as err:  # noqa: BLE001 - reported as the system's error row
                error = f"{type(err).__name__}: {err}"
            else:
                def generate(requests, seed, _gen=generator):
                    return _gen(requests, num_titles=1, batch_size=len(requests), num_beams=num_beams,
                                num_samples=num_samples, seed=seed)
            load_seconds = time.time() - t0
        for lang in LANGUAGES:
            if error is None:
                try:
                    gens = generate_rows(generate, pairs[lang], paths[lang], batch_size=batch_size,
                                         label=f"{spec.name} {lang}", progress=progress)
                except SystemFailed as err:
                    error_here = str(err)
                else:
                    generations[lang][spec.name] = gens
                    metrics = summarize(evaluators[lang], gens)
                    metrics.update({"load_seconds": round(load_seconds, 1), "checkpoint": paths[lang].name})
                    results["languages"][lang]["systems"][spec.name] = metrics
                    continue
            else:
                error_here = error
            results["languages"][lang]["systems"][spec.name] = {"error": error_here}
        generator = generate = None  # free the model before the next one loads
        gc.collect()
        write_outputs(results, pairs, generations, out, seed=seed)
    return results
