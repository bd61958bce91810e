"""The files of ``python -m titlegen.evaluate titles``: ``metrics.json``, ``report.md`` and ``samples.csv``."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pandas as pd

LANGUAGE_NAMES = {"zh": "Chinese", "en": "English"}
SAMPLES_PER_LANGUAGE = 20
BRIEF_CHARS = 80


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _cell(text: object) -> str:
    """``text`` safe inside a markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|") if text is not None else ""


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def _num(x: float | None, fmt: str = ".3f") -> str:
    return "–" if x is None else format(x, fmt)


def sample_rows(pairs: pd.DataFrame, seed: int) -> list[int]:
    """Positions in ``pairs`` of the :data:`SAMPLES_PER_LANGUAGE` shown samples (seeded, in file order)."""
    rng = random.Random(seed)
    return sorted(rng.sample(range(len(pairs)), min(SAMPLES_PER_LANGUAGE, len(pairs))))


def _system_table(section: dict) -> list[str]:
    lines = ["| system | ROUGE-1 | ROUGE-2 | ROUGE-L | unsupported numbers | language match | within limit | "
             "mean length | lead fallback | failed | gen. seconds | s / title |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    h = section["human"]
    lines.append(f"| human titles | – | – | – | {_pct(h['unsupported_number_rate'])} | "
                 f"{_pct(h['language_match_rate'])} | {_pct(h['within_limit_rate'])} | "
                 f"{_num(h['mean_display_length'], '.1f')} | – | – | – | – |")
    for name, m in section["systems"].items():
        if "error" in m:
            lines.append(f"| {name} | error: {_cell(m['error'])[:300]} |" + " |" * 10)
            continue
        lines.append(f"| {name} | {_num(m['rouge1'])} | {_num(m['rouge2'])} | {_num(m['rougeL'])} | "
                     f"{_pct(m['unsupported_number_rate'])} | {_pct(m['language_match_rate'])} | "
                     f"{_pct(m['within_limit_rate'])} | {_num(m['mean_display_length'], '.1f')} | "
                     f"{_pct(m.get('lead_fallback_rate'))} | {m['failed']} | {m['generation_seconds']} | "
                     f"{_num(m['seconds_per_title'], '.2f')} |")
    return lines


def _dataset_table(section: dict) -> list[str]:
    ok = {name: m for name, m in section["systems"].items() if "error" not in m}
    if not ok:
        return []
    lines = ["ROUGE-L by data set:", "", "| data set | pairs | " + " | ".join(ok) + " |",
             "|---|---|" + "---|" * len(ok)]
    for ds, n in sorted(section["datasets"].items()):
        cells = [_num(m["rougeL_by_dataset"].get(ds)) for m in ok.values()]
        lines.append(f"| {ds} | {n} | " + " | ".join(cells) + " |")
    return lines + [""]


def sample_frame(language: str, pairs: pd.DataFrame, generations: dict[str, pd.DataFrame], seed: int
                 ) -> pd.DataFrame:
    """The shown samples of one language: the pair, the human title and each system's top title."""
    rows = []
    for i in sample_rows(pairs, seed):
        pair = pairs.iloc[i]
        row = {"language": language, "row": int(pair["row"]), "dataset": pair["dataset"],
               "max_chars": int(pair["max_chars"]), "brief": pair["brief"], "human": pair["title"]}
        for name, gens in generations.items():
            row[name] = gens.iloc[i]["title"] or f"(failed: {gens.iloc[i]['error']})"
        rows.append(row)
    return pd.DataFrame(rows)


def _samples_table(samples: pd.DataFrame, systems: list[str]) -> list[str]:
    lines = ["| # | data set | limit | brief | human | " + " | ".join(systems) + " |",
             "|---|---|---|---|---|" + "---|" * len(systems)]
    for n, (_, s) in enumerate(samples.iterrows(), 1):
        brief = s["brief"][:BRIEF_CHARS] + ("…" if len(s["brief"]) > BRIEF_CHARS else "")
        cells = [_cell(s.get(name, "(error)")) for name in systems]
        lines.append(f"| {n} | {s['dataset']} | {s['max_chars']} | {_cell(brief)} | {_cell(s['human'])} | "
                     + " | ".join(cells) + " |")
    return lines


_HOW = """## How it is measured

* Each system writes titles for a validation row with that row's controls: its style, audience and selling points,
  its limit (`max_chars`, display characters: a Han character counts one) and its language; the top-ranked title
  is kept. The validation pairs are grouped by source item, so no validation brief or title was trained on.
* ROUGE-1/2/L are F1 against the one human title. Chinese is scored on characters (every letter or digit is a
  token; spaces, punctuation and emoji are not), English on lower-cased words without stemming. A failed row
  scores 0. One human reference per brief makes every system's ROUGE low in absolute terms; compare systems.
* Unsupported numbers: the kept title states a quantity (Arabic, Chinese or English numerals) that the brief,
  the audience and the selling points do not (`titlegen.faithfulness.unsupported_numbers`). Language match:
  `titlegen.language.detect_language(title)` is the row's language. Within limit: display length <= the row's
  limit. The human-titles row shows the same rates for the human titles themselves (human titles state facts
  from outside the brief, and some human titles are over the limits the recipe gave them).
* Lead fallback: the share of kept titles that are the brief's opening (source `lead`), which a causal
  generator falls back to when none of its candidates passes its checks.
* Seconds are wall-clock generation time on this machine, after loading; rows read back from a checkpoint keep
  the time they took when generated.
"""


def render_report(results: dict, samples: dict[str, pd.DataFrame]) -> str:
    """``report.md``: the command, the date, a table per language, ROUGE-L by data set and the samples."""
    st = results["settings"]
    lines = ["# Title quality per language on the curated validation pairs", "",
             f"Command: `{results['command']}`", "",
             f"Date: {results['date']}. Validation pairs from `{results['val_dir']}`: "
             + ", ".join(f"{s['pairs']} {LANGUAGE_NAMES.get(lang, lang)}"
                         for lang, s in results["languages"].items())
             + f". Precision: {st['precision'] or 'the loader default (int8 for Qwen bases)'}; candidates per "
             f"brief: {st['num_beams']} beams + {st['num_samples']} samples; click model: "
             f"{st['click_model'] or 'none (ranked by model score and grounding)'}; top-1 title kept.", ""]
    for lang, section in results["languages"].items():
        lines += [f"## {LANGUAGE_NAMES.get(lang, lang)} ({lang}): {section['pairs']} pairs", "",
                  *_system_table(section), "", *_dataset_table(section)]
        frame = samples.get(lang)
        if frame is not None and len(frame):
            systems = [c for c in frame.columns if c not in ("language", "row", "dataset", "max_chars", "brief",
                                                             "human")]
            lines += [f"### {len(frame)} samples (brief cut to {BRIEF_CHARS} characters)", "",
                      *_samples_table(frame, systems), ""]
    return "\n".join(lines) + "\n" + _HOW


def write_outputs(results: dict, pairs: dict[str, pd.DataFrame], generations: dict[str, dict[str, pd.DataFrame]],
                  out: Path, *, seed: int = 0) -> None:
    """Write ``metrics.json``, ``report.md`` and ``samples.csv`` into ``out`` (each replaced atomically)."""
    out = Path(out)
    samples = {lang: sample_frame(lang, pairs[lang], generations.get(lang, {}), seed) for lang in pairs}
    _atomic_write(out / "metrics.json", json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    _atomic_write(out / "report.md", render_report(results, samples))
    frame = pd.concat(list(samples.values()), ignore_index=True) if samples else pd.DataFrame()
    _atomic_write(out / "samples.csv", frame.to_csv(index=False))
