"""Share of cuts inside a word, before and after snapping: ``python bench/speech_cuts.py [--out FILE]``.

Synthetic, no model: talking-head drafts (``talking-head-captions``) of three takes of continuous speech each,
cut on click tracks from 80 to 110 bpm, five random speech timings per tempo. A take's words last 0.2-0.45 s with
0.03-0.12 s between them and 0.3-0.8 s between sentences of 5-14 words (about 150 words a minute, a brisk
creator's pace). Reported: seen cuts (the picture and sound jump), how many stop or start a clip inside a word
before snapping (``templates.speech_cuts.cuts_inside_words`` on the draft built without transcripts) and after
(the draft built with them: slots that jump end on a beat in a pause, ``meta["captions"]["cuts"]``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crossmodal_match.transcript import Segment, Transcript, Word  # noqa: E402
from templates.placement import build_timeline  # noqa: E402
from templates.registry import get_template  # noqa: E402
from tests.test_templates import _music, _video  # noqa: E402  (the template tests' synthetic footage and music)

BPMS = (80, 85, 90, 95, 100, 105, 110)
SEEDS = 5
TAKES_S = (22.0, 18.0, 25.0)


def speech(duration_s: float, rng: np.random.Generator) -> Transcript:
    """Continuous synthetic speech timing over ``duration_s`` seconds (see the module docstring)."""
    segments, t = [], 0.3
    while t < duration_s - 1.0:
        words = []
        for _ in range(int(rng.integers(5, 15))):
            length = float(rng.uniform(0.2, 0.45))
            if t + length > duration_s:
                break
            words.append(Word(round(t, 3), round(t + length, 3), " w"))
            t += length + float(rng.uniform(0.03, 0.12))
        if words:
            segments.append(Segment(words[0].start_s, words[-1].end_s, "w" * len(words), tuple(words)))
        t += float(rng.uniform(0.3, 0.8))
    return Transcript("en", 1.0, duration_s, duration_s * 0.8, tuple(segments), "synthetic")


def main(argv: list[str] | None = None) -> int:
    from templates.speech_cuts import cuts_inside_words, seen_cuts

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" /
                        f"speech_cuts_{datetime.date.today().isoformat()}.json")
    args = parser.parse_args(argv)
    spec = get_template("talking-head-captions")
    rows = []
    for bpm in BPMS:
        for seed in range(SEEDS):
            rng = np.random.default_rng(seed * 1000 + bpm)
            footage = [_video(f"take{i}", [length], faces=1) for i, length in enumerate(TAKES_S)]
            transcripts = {f.path: speech(f.duration_s, rng) for f in footage}
            music = _music(bpm=bpm)
            unsnapped = build_timeline(spec, footage, music, "t", "c", music_path="/m.wav", draft_s=45.0)
            snapped = build_timeline(spec, footage, music, "t", "c", music_path="/m.wav", draft_s=45.0,
                                     transcripts=transcripts)
            cuts = snapped.meta["captions"]["cuts"]
            rows.append({"bpm": bpm, "seed": seed, "seen_cuts_before": len(seen_cuts(unsnapped.clips)),
                         "seen_cuts": cuts["seen_cuts"],
                         "inside_before": cuts_inside_words(unsnapped.clips, transcripts),
                         "inside_after": cuts["inside_words_after"], "moved": cuts["moved"]})
    seen, seen_before = sum(r["seen_cuts"] for r in rows), sum(r["seen_cuts_before"] for r in rows)
    result = {"command": "python bench/speech_cuts.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "drafts": len(rows), "seen_cuts_before": seen_before, "seen_cuts": seen,
              "share_inside_before": round(sum(r["inside_before"] for r in rows) / max(seen_before, 1), 4),
              "share_inside_after": round(sum(r["inside_after"] for r in rows) / max(seen, 1), 4), "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
