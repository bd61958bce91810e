"""Title generation speed of the embedded default: ``python bench/titlegen_speed.py [--quick] [--val-dir DIR]``.

Prints JSON (and writes it with ``--out``). All figures come from one process, so ratios compare like with like:

* ``latency``: one brief, five candidates, median seconds over ``--repeats`` calls of ``TitleGenerator``, for
  three ways to get five candidates (5 beams; 5 samples; 3 beams + 2 samples), each in int8, bf16 and fp32;
* ``throughput``: 32 briefs in one batch, greedy (one title each) and 4 beams + 4 samples; titles/s counts the
  raw candidates the model wrote;
* ``ours_vs_raw``: ``TitleGenerator`` (prompting, generation with scores, cleaning, checks, ranking) against
  raw ``model.generate`` + ``batch_decode`` on the same prompts, same settings: ratio of throughputs;
* ``quality`` (with ``--val-dir``): ROUGE-L of the top title per precision on the first ``--val-rows`` rows of
  each language's validation set, so int8 and bf16 are judged against fp32 on quality as well as speed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import titlegen  # noqa: E402
from titlegen.causal import end_token_ids  # noqa: E402
from titlegen.language import resolve_language  # noqa: E402
from titlegen.prompt import chat_prompt, control_line  # noqa: E402
from titlegen.rouge_eval import rouge_f1  # noqa: E402

BRIEFS = [
    ("这款降噪耳机续航四十小时，通勤地铁上终于安静了，音质也很不错", "xiaohongshu"),
    ("Handmade linen tote bag that holds a 15-inch laptop. Washable, with an inner zip pocket.", "douyin"),
    ("西湖边新开的小咖啡馆，手冲桂花拿铁很香，窗边能看到断桥", "xiaohongshu"),
    ("A ten-minute ramen recipe for students: instant noodles, a soft egg, spring onions and chilli oil.", "generic"),
    ("小户型客厅改造，花了三千块，换了沙发和灯，整个家亮堂多了", "xiaohongshu"),
    ("Our new trail running shoe is waterproof, weighs 240 grams and grips on wet rock.", "douyin"),
    ("第一次带猫咪去海边，它居然不怕水，还追着浪花跑", "douyin"),
    ("Five houseplants that survive low light and forgetful owners, from the snake plant to the ZZ plant.", "generic"),
]
MODES = {"5 beams": (5, 0), "5 samples": (0, 5), "3 beams + 2 samples": (3, 2)}


def _requests(n: int) -> list[titlegen.TitleRequest]:
    return [titlegen.TitleRequest(BRIEFS[i % len(BRIEFS)][0], titlegen.Controls(platform=BRIEFS[i % len(BRIEFS)][1]))
            for i in range(n)]


def _median_latency(gen, repeats: int, beams: int, samples: int) -> float:
    times = []
    for i in range(repeats):
        req = _requests(len(BRIEFS))[i % len(BRIEFS)]
        t = time.perf_counter()
        gen([req], num_titles=5, num_beams=beams, num_samples=samples, seed=i)
        times.append(time.perf_counter() - t)
    return round(statistics.median(times), 3)


def _throughput(gen, n: int, beams: int, samples: int) -> dict:
    reqs = _requests(n)
    t = time.perf_counter()
    gen(reqs, num_titles=8, batch_size=n, num_beams=beams, num_samples=samples, seed=0)
    seconds = time.perf_counter() - t
    titles = n * (max(beams, 0) + samples)
    return {"briefs": n, "titles": titles, "seconds": round(seconds, 2), "titles_per_s": round(titles / seconds, 2)}


@torch.inference_mode()
def _raw(gen, n: int) -> float:
    """Seconds for raw greedy ``generate`` + ``batch_decode`` on the same prompts the generator writes."""
    tok = gen.tokenizer
    reqs = _requests(n)
    lines = [control_line(r.brief, r.controls, language=resolve_language(r.controls.language, r.brief)) for r in reqs]
    tok.padding_side = "left"
    enc = tok([chat_prompt(tok, line) for line in lines], return_tensors="pt", padding=True, add_special_tokens=False)
    t = time.perf_counter()
    out = gen.model.generate(**enc, max_new_tokens=gen.max_title_tokens, do_sample=False,
                             eos_token_id=end_token_ids(tok), pad_token_id=tok.pad_token_id)
    tok.batch_decode(out[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    return time.perf_counter() - t


def _quality(gen, val_dir: Path, rows: int) -> dict:
    import pandas as pd

    out = {}
    for language in ("zh", "en"):
        df = pd.read_json(val_dir / f"val_{language}.jsonl", lines=True).head(rows)
        reqs = [titlegen.TitleRequest(r.brief, titlegen.Controls(style=r.style, max_chars=int(r.max_chars),
                                                                  language=language)) for r in df.itertuples()]
        res = gen(reqs, num_titles=1, batch_size=16, num_beams=1, num_samples=0)
        scores = [rouge_f1(t, r[0].text, language=language)["rougeL"] for r, t in zip(res, df["title"])]
        out[language] = round(sum(scores) / len(scores), 4)
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, int8 only")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--val-dir", type=Path, default=None, help="folder with val_zh.jsonl / val_en.jsonl")
    parser.add_argument("--val-rows", type=int, default=40)
    parser.add_argument("--precisions", default="int8,bf16,fp32")
    parser.add_argument("--quality-only", action="store_true", help="only ROUGE-L per precision (needs --val-dir)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)
    precisions = ["int8"] if args.quick else args.precisions.split(",")
    report: dict = {"threads": torch.get_num_threads(), "by_precision": {}}
    for precision in precisions:
        t = time.perf_counter()
        gen = titlegen.load_generator(precision=precision)
        entry: dict = {"load_s": round(time.perf_counter() - t, 2), "latency_s": {}}
        if args.quality_only:
            entry["rouge_l_greedy"] = _quality(gen, args.val_dir, args.val_rows)
            report["by_precision"][precision] = entry
            del gen
            continue
        gen(_requests(1), num_beams=1, num_samples=0)  # warm-up
        for name, (beams, samples) in MODES.items():
            entry["latency_s"][name] = _median_latency(gen, 3 if args.quick else args.repeats, beams, samples)
        entry["throughput_greedy_32"] = _throughput(gen, 32, 1, 0)
        raw = _raw(gen, 32)
        entry["raw_greedy_32_titles_per_s"] = round(32 / raw, 2)
        entry["ours_vs_raw"] = round(entry["throughput_greedy_32"]["titles_per_s"] / (32 / raw), 3)
        if not args.quick and precision == precisions[0]:  # the shipped precision; the others only for ratios
            entry["throughput_beam4_sample4_32"] = _throughput(gen, 32, 4, 4)
        if args.val_dir:
            entry["rouge_l_greedy"] = _quality(gen, args.val_dir, args.val_rows)
        report["by_precision"][precision] = entry
        del gen
    if "fp32" in report["by_precision"]:
        ref = report["by_precision"]["fp32"]
        for precision, entry in report["by_precision"].items():
            if "throughput_greedy_32" in entry:
                entry["throughput_vs_fp32"] = round(entry["throughput_greedy_32"]["titles_per_s"]
                                                    / ref["throughput_greedy_32"]["titles_per_s"], 3)
            if "rouge_l_greedy" in entry:
                entry["rouge_l_points_vs_fp32"] = {k: round(100 * (v - ref["rouge_l_greedy"][k]), 2)
                                                   for k, v in entry["rouge_l_greedy"].items()}
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
