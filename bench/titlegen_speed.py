"""Title generation speed: ``python bench/titlegen_speed.py [--quick]`` prints JSON.

For the embedded default and a t5-small-sized random model, titles/s at batch 1 and 32, greedy and beam 4,
through ``TitleGenerator`` ("ours": validation, control encoding, generation with scores, detokenizing,
recasing, dedup, limit filter, ranking; model candidates only) and through raw ``model.generate`` +
``batch_decode`` on the same source lines ("raw"); ``ratio`` = ours / raw throughput, measured in the same process,
best of ``--repeats``. ``ratio_with_lead_and_points`` adds the extractive candidates, which cost one more
teacher-forced pass (a feature, reported beside the overhead rather than hidden in it). Also: a merged LoRA adapter against the bare base (ratio of throughputs), and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from titlegen import Controls, TitleGenerator  # noqa: E402
from titlegen.controls import encode_source  # noqa: E402
from titlegen.model import LoraSettings, attach_lora, load_default_model, minilm_path  # noqa: E402

BRIEFS = [
    "Handmade linen tote bag that holds a 15-inch laptop. Washable, with an inner zip pocket.",
    "A slow Sunday in Lisbon: coffee at a tiny bakery, a tram ride up the hill and the sunset from the castle.",
    "A ten-minute ramen recipe for students: instant noodles, a soft egg, spring onions and chilli oil.",
    "Our new trail running shoe is waterproof, weighs 240 grams and grips on wet rock.",
    "The city council approved a plan to add 40 km of protected bike lanes by 2027.",
    "Five houseplants that survive low light and forgetful owners, from the snake plant to the ZZ plant.",
    "We tested six budget headphones for a month; the cheapest one surprised us.",
    "How a retired teacher turned her garden into a free library for the whole street.",
]


def _t5_small(tokenizer):
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(0)
    cfg = T5Config(vocab_size=tokenizer.vocab_size, d_model=512, d_ff=2048, d_kv=64, num_layers=6, num_heads=8,
                   pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.sep_token_id,
                   decoder_start_token_id=tokenizer.pad_token_id)
    model = T5ForConditionalGeneration(cfg).eval()
    for c in (model.generation_config,):
        c.eos_token_id, c.pad_token_id, c.decoder_start_token_id = (tokenizer.sep_token_id, tokenizer.pad_token_id,
                                                                    tokenizer.pad_token_id)
    return model


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def _raw(model, tokenizer, sources, *, batch: int, beams: int, max_new: int):
    def run():
        for i in range(0, len(sources), batch):
            enc = tokenizer(sources[i:i + batch], truncation=True, max_length=128, padding=True,
                            return_tensors="pt")
            with torch.inference_mode():
                out = model.generate(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                                     num_beams=beams, num_return_sequences=beams, do_sample=False,
                                     max_new_tokens=max_new, no_repeat_ngram_size=3, repetition_penalty=1.2,
                                     early_stopping=beams > 1)
            tokenizer.batch_decode(out, skip_special_tokens=True)
    return run


def measure(name, model, tokenizer, briefs, *, repeats: int, max_new: int) -> list[dict]:
    gen = TitleGenerator(model, tokenizer, max_title_tokens=max_new)
    sources = [encode_source(b, Controls()) for b in briefs]
    rows = []
    for batch, n in ((1, 8), (32, 32)):
        for mode, beams in (("greedy", 1), ("beam4", 4)):
            items = (briefs * (n // len(briefs) + 1))[:n]
            srcs = (sources * (n // len(sources) + 1))[:n]
            ours = _best(lambda: gen(items, batch_size=batch, num_beams=beams, num_samples=0, num_titles=beams,
                                     extractive=False), repeats)
            full = _best(lambda: gen(items, batch_size=batch, num_beams=beams, num_samples=0, num_titles=beams),
                         repeats)
            raw = _best(_raw(model, tokenizer, srcs, batch=batch, beams=beams, max_new=max_new), repeats)
            rows.append({"model": name, "batch": batch, "mode": mode, "briefs": n,
                         "ours_titles_per_s": round(n * beams / ours, 2), "raw_titles_per_s": round(n * beams / raw, 2),
                         "ratio": round(raw / ours, 3),
                         "with_lead_and_points_titles_per_s": round(n * beams / full, 2),
                         "ratio_with_lead_and_points": round(raw / full, 3)})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def merged_adapter_cost(model, tokenizer, briefs, *, repeats: int, max_new: int) -> dict:
    sources = [encode_source(b, Controls()) for b in briefs]
    base = _best(_raw(model, tokenizer, sources, batch=8, beams=1, max_new=max_new), repeats)
    peft_model = attach_lora(model, LoraSettings(r=16, alpha=32, target_modules=("q", "v")))
    with torch.no_grad():
        for n, p in peft_model.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.01)
    unmerged = _best(_raw(peft_model, tokenizer, sources, batch=8, beams=1, max_new=max_new), repeats)
    merged_model = peft_model.merge_and_unload().eval()
    merged = _best(_raw(merged_model, tokenizer, sources, batch=8, beams=1, max_new=max_new), repeats)
    return {"base_s": round(base, 3), "unmerged_adapter_s": round(unmerged, 3), "merged_adapter_s": round(merged, 3),
            "merged_over_base_throughput": round(base / merged, 3),
            "unmerged_over_base_throughput": round(base / unmerged, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=24)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    rows = []
    default, tok = load_default_model()
    rows += measure("default", default, tok, BRIEFS, repeats=args.repeats, max_new=args.max_new_tokens)
    t5 = _t5_small(tokenizer)
    rows += measure("t5-small-random", t5, tokenizer, BRIEFS, repeats=args.repeats, max_new=args.max_new_tokens)
    adapter = merged_adapter_cost(_t5_small(tokenizer), tokenizer, BRIEFS, repeats=args.repeats,
                                  max_new=args.max_new_tokens)
    result = {"threads": args.threads, "max_new_tokens": args.max_new_tokens, "repeats": args.repeats,
              "throughput": rows, "min_ratio": min(r["ratio"] for r in rows), "lora_merge": adapter,
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
