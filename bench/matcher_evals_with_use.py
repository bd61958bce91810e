"""The matcher's text-encoder evaluations with USE multilingual v3 beside MiniLM and multilingual-e5-small.

USE's one home is ``titlegen.embedding`` and e5's is ``crossmodal_match.multilingual``; the two packages never
import each other, so ``python -m crossmodal_match.evaluate multilingual | music-mgsv`` compare MiniLM and e5 only.
This script sits outside the packages (a composition root, like the studio) and injects titlegen's USE embedder
into the same evaluators, which is how the USE rows of ``docs/crossmodal_match/copy_multilingual.md`` and
``music_mgsv.md`` are reproduced:

    .venv/bin/python bench/matcher_evals_with_use.py copy --data ../shared/data --out docs/crossmodal_match
    .venv/bin/python bench/matcher_evals_with_use.py music-mgsv --data ../shared/data --out docs/crossmodal_match
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _encoders(cache_dir: str | None) -> dict:
    from crossmodal_match.evaluate.multilingual_copy import build_encoder
    from crossmodal_match.multilingual import MultilingualEncoder
    from titlegen.embedding import TextEmbedder

    return {"minilm": build_encoder("minilm"), "use": TextEmbedder(kind="use"),
            "e5": MultilingualEncoder("e5", cache_dir=cache_dir)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("evaluation", choices=("copy", "music-mgsv"))
    parser.add_argument("--data", default="../shared/data", help="the shared data folder")
    parser.add_argument("--out", type=Path, default=Path("docs/crossmodal_match"))
    parser.add_argument("--cache-dir", default=str(Path(os.environ.get("CREATOR_STUDIO_CACHE")
                                                       or Path.home() / ".cache" / "creator-studio")
                                                  / "eval_embeddings"),
                        help="embedding cache folder ('none' for no cache)")
    args = parser.parse_args(argv)
    cache_dir = None if args.cache_dir == "none" else args.cache_dir
    command = "python " + shlex.join(["bench/matcher_evals_with_use.py", *(argv if argv is not None else sys.argv[1:])])
    encoders = _encoders(cache_dir)
    if args.evaluation == "copy":
        from crossmodal_match.evaluate.multilingual_copy import (MultilingualCopyConfig, MultilingualCopyEvaluator,
                                                                 report)

        config = MultilingualCopyConfig(data_dir=args.data, encoders=tuple(encoders), cache_dir=cache_dir)
        metrics = MultilingualCopyEvaluator(config, encoders=encoders)()
    else:
        from crossmodal_match.evaluate.music_mgsv import MusicMgsvConfig, MusicMgsvEvaluator, report

        metrics = MusicMgsvEvaluator(MusicMgsvConfig(data_dir=args.data), encoders=encoders)()
    report(metrics, out_dir=args.out, command=command)
    print(f"wrote {args.evaluation} reports under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
