"""Which composed style the matcher puts first for everyday briefs: ``python bench/compose_ranking.py [--out F]``.

Sixteen briefs (eight Chinese, eight English: breakfast at home, errands, a milk tea with a friend, an unboxing, a
workout, a road trip, a birthday, a farewell ...), no footage and no music folder, so every music candidate is a
composed one and the ranking says which style the brief's words and mood pick. The default matcher (its default
text encoder), top 5 with scores; JSON to ``bench/results/compose_ranking_<date>.json``. There is no ground truth:
read it as a creator would.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BRIEFS = (
    "周末在家做早餐，慢慢享受一杯咖啡", "下班后的小日常：买菜做饭收拾房间", "秋天的第一杯奶茶，和闺蜜逛街",
    "新款降噪耳机开箱，续航40小时", "健身房30分钟燃脂训练跟练", "川西自驾旅行，雪山草原航拍", "宝宝的第一次生日派对",
    "毕业季，和室友说再见", "A slow Sunday morning: coffee, plants and a good book",
    "What I eat in a day as a busy student", "Unboxing my new mechanical keyboard",
    "Road trip through Iceland: waterfalls and black sand beaches", "My 20-minute home HIIT workout",
    "Cozy rainy day study session with me", "Our little cafe's new autumn menu",
    "Saying goodbye to my grandmother's house",
)


def main() -> None:
    from crossmodal_match.matcher import MatcherConfig, create_matcher

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    matcher = create_matcher(MatcherConfig(cache_dir=tempfile.mkdtemp(prefix="compose-ranking-")))
    ranked = {}
    for brief in BRIEFS:
        music = matcher.match(None, brief, top_k=5).music
        ranked[brief] = [{"style": c.id.split(":")[1], "score": round(c.score, 4)} for c in music]
        top = ", ".join(f"{r['style']} {r['score']:.3f}" for r in ranked[brief][:3])
        print(f"{brief} -> {top}", flush=True)
    out = args.out or ROOT / "bench" / "results" / f"compose_ranking_{time.strftime('%Y-%m-%d')}.json"
    out.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "command": "python " + " ".join(sys.argv),
                               "ranked": ranked}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
