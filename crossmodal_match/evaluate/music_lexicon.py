"""Build the shipped mood lexicon (``crossmodal_match/data/mood_lexicon.json``) from real Chinese music tags.

``python -m crossmodal_match.evaluate music-lexicon --data ../shared/data`` reads two tag sets:
- NetEase Cloud Music playlists (``zh_music/netease_playlists_title_tags_playcount.csv``): each playlist's tags,
  e.g. "华语-流行-伤感", are one *document* of Chinese tag words (mood, scene, genre, language);
- Douyin hot-chart tracks (``zh_music/douyin_hot_music_2025-05_tagged.csv``): Douyin's own English mood, genre and
  theme tags, turned into the same Chinese tag words by ``DOUYIN_TO_ZH`` (written for this project), plus the
  version hints their titles carry (DJ, 加速, 剪辑 ...; ``TITLE_HINTS``).

Only a handful of mood words get a feel by hand (``SEED_FEEL``: valence and arousal placed on Russell's
circumplex of affect, energy = arousal; ``SEED_ENERGY``: a few activities). Every other word's feel is *derived*
from the data: the mean feel of the seed words it shares documents with, shrunk toward the neutral 0.5 by
``SHRINK`` pseudo-documents (a word seen in 3 documents moves less than one seen in 200). The same rule, applied to
each seed with that seed left out, measures whether co-occurrence carries feel at all (``leave_one_out``: the
correlation between each seed's hand-given value and the value the others imply); the report states it.

What is shipped is tag *vocabulary* (single words such as 伤感, 电子, 夜晚), numbers and counts: no text of
either data set. ``ALIASES`` (written for this project) map everyday words of briefs and track metadata, in
Chinese and English, onto the lexicon's words (露营 -> 旅行 + 清新, "workout" -> 运动).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crossmodal_match.errors import ConfigError

AXES = ("valence", "arousal", "energy")
# (valence, arousal) in [0, 1], placed on Russell's (1980) circumplex: pleasant right, activated up.
SEED_FEEL: dict[str, tuple[float, float]] = {
    "快乐": (0.90, 0.70), "兴奋": (0.80, 0.90), "动感": (0.70, 0.85), "励志": (0.80, 0.75), "搞笑": (0.85, 0.70),
    "可爱": (0.85, 0.60), "甜蜜": (0.85, 0.50), "浪漫": (0.80, 0.40), "清新": (0.75, 0.45), "治愈": (0.75, 0.30),
    "放松": (0.70, 0.20), "安静": (0.60, 0.10), "感动": (0.60, 0.50), "怀旧": (0.45, 0.30), "思念": (0.30, 0.30),
    "孤独": (0.20, 0.20), "伤感": (0.15, 0.30)}
# Energy of a few activities (how much drive the music for them needs); mood seeds use their arousal as energy.
SEED_ENERGY: dict[str, float] = {"运动": 0.90, "散步": 0.35, "学习": 0.20, "午休": 0.10}
# Douyin's English tags -> the Chinese tag words NetEase uses for the same thing (mood, genre, theme).
DOUYIN_TO_ZH: dict[str, str] = {
    "Dynamic": "动感", "Chill": "放松", "Miss": "思念", "Happy": "快乐", "Romantic": "浪漫", "Sorrow": "伤感",
    "Memory": "怀旧", "Cute": "可爱", "Sweet": "甜蜜", "Calm": "安静", "Healing": "治愈", "Funny": "搞笑",
    "Inspirational": "励志", "Pop": "流行", "Chinese Pop": "华语", "Hip Hop/Rap": "说唱", "Trap Rap": "说唱",
    "Alternative Hip Hop": "说唱", "DJ": "DJ", "Electronic": "电子", "EDM": "电子", "Techno": "电子",
    "Easy Listening": "轻音乐", "BGM": "BGM", "R&B/Soul": "R&B/Soul", "Chinese Style": "古风", "Folk": "民谣",
    "Chinese Folk": "民谣", "Jazz": "爵士", "Classical": "古典", "Latin": "拉丁", "Love": "爱情", "Low": "低落",
    "Dance": "舞曲", "Danceable": "舞曲", "Party": "派对", "Summer": "夏天", "Autumn": "秋天", "Spring": "春天",
    "Sunny": "阳光", "Rainy": "下雨", "Relaxing": "放松", "Bedtime": "睡前", "Travel": "旅行", "Food": "美食",
    "Game": "游戏", "Vlog": "vlog"}
# Version hints in track titles (MGSV-EC and Douyin titles carry them: "（DJ版）", "（加速版）", "纯音乐").
TITLE_HINTS: tuple[str, ...] = ("DJ", "remix", "加速", "慢速", "降调", "氛围", "架子鼓", "钢琴", "吉他", "纯音乐",
                                "伴奏", "剪辑", "片段", "副歌", "前奏", "女版", "男版", "古风", "民谣", "摇滚", "电子",
                                "说唱", "抖音", "卡点", "慢摇", "轻音乐")
# Everyday words -> lexicon words (written for this project): synonyms, scenes a brief names, English words.
ALIASES: dict[str, tuple[str, ...]] = {
    "开心": ("快乐",), "欢快": ("快乐",), "愉快": ("快乐",), "热血": ("兴奋",), "燃": ("兴奋",), "嗨": ("兴奋",),
    "悲伤": ("伤感",), "难过": ("伤感",), "emo": ("伤感",), "温柔": ("治愈",), "温馨": ("治愈",),
    "舒缓": ("放松",), "惬意": ("放松",), "宁静": ("安静",), "甜": ("甜蜜",), "回忆": ("怀旧",), "复古": ("怀旧",),
    "健身": ("运动",), "跑步": ("运动",), "锻炼": ("运动",), "蹦迪": ("舞曲", "派对"), "跳舞": ("舞曲",),
    "露营": ("旅行", "清新"), "出游": ("旅行",), "旅游": ("旅行",), "自驾": ("驾车",), "开车": ("驾车",),
    "咖啡": ("下午茶",), "婚礼": ("浪漫", "甜蜜"), "约会": ("浪漫",), "雨天": ("下雨",), "深夜": ("夜晚",),
    "晚上": ("夜晚",), "早晨": ("清晨",), "睡觉": ("睡前",), "读书": ("学习",), "办公": ("工作",),
    "萌宠": ("可爱",), "宝宝": ("可爱",), "rap": ("说唱",), "嘻哈": ("说唱",), "电音": ("电子",),
    "happy": ("快乐",), "joyful": ("快乐",), "fun": ("快乐",), "excited": ("兴奋",), "energetic": ("兴奋", "动感"),
    "upbeat": ("动感",), "hype": ("兴奋",), "dynamic": ("动感",), "inspiring": ("励志",), "funny": ("搞笑",),
    "cute": ("可爱",), "sweet": ("甜蜜",), "romantic": ("浪漫",), "love": ("爱情",), "fresh": ("清新",),
    "healing": ("治愈",), "cozy": ("治愈",), "warm": ("治愈",), "chill": ("放松",), "relax": ("放松",),
    "relaxing": ("放松",), "calm": ("安静",), "quiet": ("安静",), "peaceful": ("安静",), "touching": ("感动",),
    "nostalgic": ("怀旧",), "retro": ("怀旧",), "lonely": ("孤独",), "sad": ("伤感",), "melancholy": ("伤感",),
    "workout": ("运动",), "fitness": ("运动",), "sport": ("运动",), "sports": ("运动",), "gym": ("运动",),
    "party": ("派对",), "dance": ("舞曲",), "camping": ("旅行", "清新"), "travel": ("旅行",), "trip": ("旅行",),
    "drive": ("驾车",), "driving": ("驾车",), "study": ("学习",), "work": ("工作",), "night": ("夜晚",),
    "morning": ("清晨",), "walk": ("散步",), "coffee": ("下午茶",), "summer": ("夏天",), "rain": ("下雨",),
    "rainy": ("下雨",), "sunny": ("阳光",), "bedtime": ("睡前",), "sleep": ("睡前",), "wedding": ("浪漫", "甜蜜"),
    "electronic": ("电子",), "edm": ("电子",), "rock": ("摇滚",), "folk": ("民谣",), "jazz": ("爵士",),
    "classical": ("古典",), "piano": ("钢琴",), "guitar": ("吉他",), "instrumental": ("纯音乐",),
    "lofi": ("放松", "夜晚"), "hiphop": ("说唱",), "hip hop": ("说唱",), "r&b": ("R&B/Soul",),
}
SHRINK = 3.0  # pseudo-documents at 0.5 that a derived word's mean is pulled toward
MIN_DOCUMENTS = 3  # a word seen in fewer documents is not shipped
NETEASE = Path("zh_music") / "netease_playlists_title_tags_playcount.csv"
DOUYIN = Path("zh_music") / "douyin_hot_music_2025-05_tagged.csv"
LEXICON_PATH = Path(__file__).resolve().parents[1] / "data" / "mood_lexicon.json"
LEXICON_VERSION = 1


def seed_values() -> dict[str, dict[str, float]]:
    """The hand-given feel of the seed words: word -> {axis: value in [0, 1]} (some axes may be missing)."""
    out: dict[str, dict[str, float]] = {w: {"valence": v, "arousal": a, "energy": a}
                                        for w, (v, a) in SEED_FEEL.items()}
    for word, energy in SEED_ENERGY.items():
        out.setdefault(word, {})["energy"] = energy
    return out


def _title_hints(title: str) -> list[str]:
    low = unicodedata.normalize("NFKC", str(title)).casefold()
    return [h for h in TITLE_HINTS if h.casefold() in low]


def load_documents(data_dir: str | Path) -> tuple[list[frozenset[str]], dict[str, int]]:
    """The tag documents of both sets: one frozenset of Chinese tag words per playlist / track.

    Returns:
        ``(documents, {"netease": n, "douyin": n})``.

    Raises:
        ConfigError: a file is missing.
    """
    import pandas as pd

    data = Path(data_dir)
    for rel in (NETEASE, DOUYIN):
        if not (data / rel).is_file():
            raise ConfigError(f"no tag file at {str(data / rel)!r}; pass --data pointing at the shared data folder")
    netease = pd.read_csv(data / NETEASE, usecols=["title", "tags"]).drop_duplicates()
    docs = [frozenset(t.strip() for t in str(tags).split("-") if t.strip()) for tags in netease["tags"].dropna()]
    douyin = pd.read_csv(data / DOUYIN)
    n_douyin = 0
    for _, row in douyin.iterrows():
        words = {DOUYIN_TO_ZH[t.strip()] for col in ("moods", "genres", "themes")
                 for t in str(row[col]).split("|") if t.strip() in DOUYIN_TO_ZH}
        words |= set(_title_hints(row["title"]))
        if words:
            docs.append(frozenset(words))
            n_douyin += 1
    return [d for d in docs if d], {"netease": len(docs) - n_douyin, "douyin": n_douyin}


def derive(documents: list[frozenset[str]], seeds: dict[str, dict[str, float]], *,
           shrink: float = SHRINK) -> dict[str, dict[str, Any]]:
    """Each word's feel from the seed words it co-occurs with.

    For a word w and an axis, value = (sum over documents holding w of the sum of the other seed words' values on
    that axis + shrink * 0.5) / (number of those seed values + shrink). A seed word keeps its hand-given value on
    the axes it has; the derived value is reported beside it.

    Returns:
        word -> {"documents": int, "valence"/"arousal"/"energy": float, "derived": {axis: float}, "seed": bool}.
    """
    counts: dict[str, int] = {}
    sums: dict[str, np.ndarray] = {}
    weights: dict[str, np.ndarray] = {}
    for doc in documents:
        for word in doc:
            counts[word] = counts.get(word, 0) + 1
            s, w = sums.setdefault(word, np.zeros(3)), weights.setdefault(word, np.zeros(3))
            for other in doc - {word}:
                for i, axis in enumerate(AXES):
                    if axis in seeds.get(other, {}):
                        s[i] += seeds[other][axis]
                        w[i] += 1
    out = {}
    for word, n in counts.items():
        derived = (sums[word] + shrink * 0.5) / (weights[word] + shrink)
        values = {a: seeds.get(word, {}).get(a, float(derived[i])) for i, a in enumerate(AXES)}
        out[word] = {"documents": n, **{a: round(v, 3) for a, v in values.items()},
                     "derived": {a: round(float(derived[i]), 3) for i, a in enumerate(AXES)},
                     "support": {a: int(weights[word][i]) for i, a in enumerate(AXES)}, "seed": word in seeds}
    return out


def leave_one_out(documents: list[frozenset[str]], seeds: dict[str, dict[str, float]]) -> dict[str, Any]:
    """How well co-occurrence recovers each seed's hand-given value when that seed is left out of the seeds.

    Returns:
        per axis: ``{"seeds": n, "pearson": r, "mean_abs_error": e, "rows": [(word, given, implied), ...]}`` for
        the seeds seen in at least ``MIN_DOCUMENTS`` documents.
    """
    out: dict[str, Any] = {}
    for axis in AXES:
        rows = []
        for word, values in seeds.items():
            if axis not in values:
                continue
            others = {w: v for w, v in seeds.items() if w != word}
            got = derive([d for d in documents if word in d], others).get(word)
            if got is not None and got["documents"] >= MIN_DOCUMENTS:
                rows.append((word, values[axis], got["derived"][axis]))
        given, implied = np.array([r[1] for r in rows]), np.array([r[2] for r in rows])
        out[axis] = {"seeds": len(rows), "rows": rows,
                     "pearson": float(np.corrcoef(given, implied)[0, 1]) if len(rows) > 2 else float("nan"),
                     "mean_abs_error": float(np.abs(given - implied).mean()) if rows else float("nan")}
    return out


@dataclass(frozen=True)
class LexiconBuild:
    """What a lexicon build read and produced (for the report)."""

    documents: dict[str, int]
    words: int
    seeds: int
    shrink: float
    min_documents: int


def build(data_dir: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Derive the lexicon from the tag sets.

    Returns:
        ``(lexicon, report)``: the JSON-ready lexicon (``version``, ``words``: word -> {valence, arousal, energy,
        documents, seed}, ``aliases``) and the build facts with the leave-one-out check.
    """
    documents, sources = load_documents(data_dir)
    seeds = seed_values()
    derived = derive(documents, seeds)
    # a seed is shipped however rare; a derived word needs documents and at least one seed beside it (else it
    # would be a bare 0.5 that explains nothing); "90后"-style generation tags say who listens, not how it feels
    words = {w: {a: d[a] for a in AXES} | {"documents": d["documents"], "seed": d["seed"]}
             for w, d in sorted(derived.items())
             if d["seed"] or (d["documents"] >= MIN_DOCUMENTS and sum(d["support"].values()) > 0
                              and not re.fullmatch(r"\d+后", w))}
    missing = sorted({t for targets in ALIASES.values() for t in targets} - set(words))
    aliases = {a: [t for t in targets if t in words] for a, targets in ALIASES.items()}
    lexicon = {"version": LEXICON_VERSION, "axes": list(AXES),
               "made_by": "python -m crossmodal_match.evaluate music-lexicon",
               "sources": "tag vocabulary of NetEase Cloud Music playlists and Douyin hot-chart tracks "
                          "(zh_music); seeds and aliases written for this project",
               "words": words, "aliases": {a: t for a, t in sorted(aliases.items()) if t}}
    report = {"build": asdict(LexiconBuild(documents=sources, words=len(words), seeds=len(seeds), shrink=SHRINK,
                                           min_documents=MIN_DOCUMENTS)),
              "leave_one_out": leave_one_out(documents, seeds), "alias_targets_missing": missing,
              "derived": {w: derived[w] for w in words}}
    return lexicon, report


def write(lexicon: dict[str, Any], report: dict[str, Any], *, lexicon_path: Path, out_dir: Path,
          command: str) -> None:
    """Write the lexicon JSON and ``mood_lexicon.md`` / ``.json`` (the build report) in ``out_dir``."""
    lexicon_path.parent.mkdir(parents=True, exist_ok=True)
    lexicon_path.write_text(json.dumps(lexicon, ensure_ascii=False, indent=1, sort_keys=False) + "\n",
                            encoding="utf-8")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "mood_lexicon.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n",
                                               encoding="utf-8")
    b, loo = report["build"], report["leave_one_out"]
    lines = ["# Mood lexicon: Chinese mood, scene and genre words -> valence, arousal, energy", "",
             f"Made by `{command}`.", "",
             f"{b['documents']['netease']} NetEase playlists and {b['documents']['douyin']} Douyin tracks with tags; "
             f"{b['seeds']} seed words given a feel by hand, every other word derived from the seeds it shares "
             f"documents with (shrunk toward 0.5 by {b['shrink']:g} pseudo-documents); {b['words']} words seen in "
             f">= {b['min_documents']} documents shipped in `crossmodal_match/data/mood_lexicon.json`.", "",
             "Does co-occurrence carry feel? Each seed left out in turn, its value implied by the other seeds:", "",
             "| axis | seeds | Pearson r (given vs implied) | mean absolute error |", "|---|---|---|---|"]
    lines += [f"| {a} | {m['seeds']} | {m['pearson']:.2f} | {m['mean_abs_error']:.3f} |" for a, m in loo.items()]
    lines += ["", "Derived words (not seeds) with the most support:", "",
              "| word | documents | valence | arousal | energy |", "|---|---|---|---|---|"]
    top = sorted(((w, d) for w, d in report["derived"].items() if not d["seed"]), key=lambda x: -x[1]["documents"])
    lines += [f"| {w} | {d['documents']} | {d['valence']:.2f} | {d['arousal']:.2f} | {d['energy']:.2f} |"
              for w, d in top[:30]]
    if report["alias_targets_missing"]:
        lines += ["", "Alias targets too rare to ship (their aliases point only at the others): "
                  + ", ".join(report["alias_targets_missing"])]
    (out_dir / "mood_lexicon.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
