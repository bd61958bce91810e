"""Which composed style the matcher puts first for everyday briefs: ``python bench/compose_ranking.py [--out F]``.

Two sets of sixteen briefs (eight Chinese, eight English each: breakfast at home, a milk tea with a friend, an
unboxing, a workout, a road trip, a birthday, a farewell ...), each labelled by hand with the styles a creator would
accept first; no footage and no music folder, so every music candidate is a composed one and the ranking says which
style the brief's words and mood pick. The default matcher (its default text encoder); per brief the top 5 with
scores, per set how many briefs get an accepted style first. ``--split dev`` (default) is the set to look at while
changing things; ``--split test`` is read once, after. JSON to ``bench/results/compose_ranking_<date>.json``.
The labels are one engineer's: a sanity check of fit, not a benchmark.
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

# brief -> the styles a creator would accept first (labelled by hand before any ranking was read). "dev" was
# looked at while changing the ranking; "test" was written and labelled beforehand and read once, after.
BRIEFS = {
    "dev": {
        "周末在家做早餐，慢慢享受一杯咖啡": ("chill",),
        "下班后的小日常：买菜做饭收拾房间": ("chill", "lo-fi"),
        "秋天的第一杯奶茶，和闺蜜逛街": ("acoustic-pop",),
        "新款降噪耳机开箱，续航40小时": ("upbeat-electronic",),
        "健身房30分钟燃脂训练跟练": ("upbeat-electronic",),
        "川西自驾旅行，雪山草原航拍": ("cinematic",),
        "宝宝的第一次生日派对": ("acoustic-pop",),
        "毕业季，和室友说再见": ("cinematic", "acoustic-pop"),
        "A slow Sunday morning: coffee, plants and a good book": ("chill",),
        "What I eat in a day as a busy student": ("acoustic-pop", "lo-fi"),
        "Unboxing my new mechanical keyboard": ("upbeat-electronic",),
        "Road trip through Iceland: waterfalls and black sand beaches": ("cinematic",),
        "My 20-minute home HIIT workout": ("upbeat-electronic",),
        "Cozy rainy day study session with me": ("lo-fi",),
        "Our little cafe's new autumn menu": ("acoustic-pop", "chill"),
        "Saying goodbye to my grandmother's house": ("cinematic",),
    },
    "test": {
        "雨天窝在家里看书": ("lo-fi", "chill"),
        "深夜自习室，期末复习陪我一起学习": ("lo-fi",),
        "夏日海边野餐，和朋友们一起晒太阳": ("acoustic-pop",),
        "城市夜跑5公里打卡": ("upbeat-electronic",),
        "新品手机发布，性能全面升级": ("upbeat-electronic",),
        "航拍黄山云海日出": ("cinematic",),
        "早起做一碗热汤面，安静的早晨": ("chill",),
        "和爸妈一起去郊游的周末": ("acoustic-pop",),
        "Late night lo-fi coding session": ("lo-fi",),
        "Sunny picnic in the park with my best friends": ("acoustic-pop",),
        "Leg day at the gym: squats and deadlifts": ("upbeat-electronic",),
        "Drone footage of the Scottish Highlands at sunrise": ("cinematic",),
        "A calm evening skincare routine": ("chill",),
        "Launching our new smartwatch: faster, lighter, brighter": ("upbeat-electronic",),
        "Studying for finals in a quiet library": ("lo-fi",),
        "Family trip to the beach with our kids": ("acoustic-pop",),
    },
}


def main() -> None:
    from crossmodal_match.matcher import MatcherConfig, create_matcher

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--split", choices=("dev", "test", "both"), default="dev")
    parser.add_argument("--no-style-words", action="store_true",
                        help="the baseline: composed styles ranked by the cosine alone, as library tracks are")
    args = parser.parse_args()
    matcher = create_matcher(MatcherConfig(cache_dir=tempfile.mkdtemp(prefix="compose-ranking-"),
                                          style_words=not args.no_style_words))
    ranked, agreement = {}, {}
    for split in ("dev", "test") if args.split == "both" else (args.split,):
        hits = 0
        for brief, accepted in BRIEFS[split].items():
            music = matcher.match(None, brief, top_k=5).music
            ranked[brief] = {"split": split, "accepted": accepted,
                             "top": [{"style": c.id.split(":")[1], "score": round(c.score, 4)} for c in music]}
            hit = ranked[brief]["top"][0]["style"] in accepted
            hits += hit
            top = ", ".join(f"{r['style']} {r['score']:.3f}" for r in ranked[brief]["top"][:3])
            print(f"{'+' if hit else '-'} {brief} -> {top}", flush=True)
        agreement[split] = {"top1_accepted": hits, "briefs": len(BRIEFS[split])}
        print(f"{split}: the first style is an accepted one for {hits} of {len(BRIEFS[split])} briefs", flush=True)
    out = args.out or ROOT / "bench" / "results" / f"compose_ranking_{time.strftime('%Y-%m-%d')}.json"
    result = {"date": time.strftime("%Y-%m-%d"), "command": "python " + " ".join(sys.argv),
              "style_words": not args.no_style_words, "agreement": agreement, "ranked": ranked}
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
