"""Clickbait patterns of a title, and the *restraint* that ranks titles using them less.

A click model rewards curiosity-gap wording ("You won't believe ...", "This is why ..."), which platforms demote
and readers tire of. ``restraint`` trades predicted click-through for plainer titles: a candidate's ranking score is
``logit(predicted_ctr) - restraint * (number of pattern groups it matches)``, so one restraint unit costs as much
as one unit of log-odds of clicking. The groups follow the hand-made features of the clickbait literature
(Chakraborty et al. 2016; Potthast et al. 2016): leading numbers, forward references, second person, hyperbole,
``!``/``?``, teaser phrases and leading question words. They are regular expressions, not a model fitted on any
data set, so the clickbait *classifiers* used as evaluation guardrails (English: ``titlegen.evaluate.generated_eval``;
Chinese: ``titlegen.evaluate.clickbait_eval``, fitted on HanCD) remain separate judges of them.

Chinese titles get the same seven groups (:data:`PATTERNS_ZH`), written for this project from the usual marks of
Chinese "标题党" headlines (震惊/竟然/万万没想到, 这个/原来, 你, 史上最/绝了, ！/？, 真相/揭秘/千万别, a leading
为什么/如何), not taken from any data set; a title is matched against the patterns of its language
(:func:`titlegen.language.detect_language`). How well they agree with HanCD's human labels is measured by
``python -m titlegen.evaluate clickbait-zh``.

A click model also rewards catchy titles about something else. ``relevance_weight`` adds back log-odds per unit of
cosine similarity between the title and its brief (MiniLM embeddings), so a title that stays on the post can
outrank a slightly "clickier" one that wanders off it.
"""

from __future__ import annotations

import math
import re

from titlegen.language import detect_language

PATTERNS: dict[str, str] = {
    "leading number": r"^\s*\d+\b",
    "forward reference": r"\b(this|these|here'?s|here is|that'?s why|what happens|what happened)\b",
    "second person": r"\b(you|your|you'?re|you'?ll|you'?ve)\b",
    "hyperbole": r"\b(amazing|incredible|unbelievable|shocking|awesome|epic|insane|mind|blow\w*|genius|perfect|"
                 r"ridiculous\w*|adorable|hilarious|heartbreaking|powerful|stunning|brilliant|best|worst|ever|"
                 r"literally|totally|wow|omg|actually|seriously|crazy|jaw|tears?|cry|chills|speechless)\b",
    "! or ?": r"[!?]",
    "teaser phrase": r"\b(won'?t believe|can'?t|need to|reasons?|things|ways|times|will make|wait (until|till)|"
                     r"the reason|find out|what (he|she|they) did|who knew|the truth)\b",
    "leading question word": r"^\s*(why|how|what|who|when)\b",
}
PATTERNS_ZH: dict[str, str] = {
    "leading number": r"^\s*([0-9０-９]+|[一二三四五六七八九十两几]+)\s*(个|种|件|招|条|款|大|步|秒|分钟|天|年)",
    "forward reference": r"这[个些样种位件款]|原来|竟然|居然|结果|背后|后来",
    "second person": r"[你您]",
    "hyperbole": r"震惊|惊呆|吓[坏呆哭]|史上最|最强|最[美牛好贵惨]|绝了|太[^，。！？\s]{1,4}了|逆天|炸裂|疯了|疯狂|神器|"
                 r"封神|天花板|离谱|泪目|哭了|扎心|简直|无敌|万万|惊人|颠覆",
    "! or ?": r"[!?！？]",
    "teaser phrase": r"没想到|想不到|不敢相信|真相|揭秘|曝光|内幕|秘密|看完|千万[别不要]|一定要|必看|速看|赶紧|"
                     r"注意了|重磅|刚刚|突发|终于|后悔|原因|竟是|是什么|怎么回事|你知道|不知道",
    "leading question word": r"^\s*(为什么|为啥|如何|怎么|怎样|什么|谁|哪)",
}
_COMPILED = {name: re.compile(rx, re.IGNORECASE) for name, rx in PATTERNS.items()}
_COMPILED_ZH = {name: re.compile(rx) for name, rx in PATTERNS_ZH.items()}


def clickbait_patterns(title: str, *, language: str | None = None) -> tuple[str, ...]:
    """Names of the pattern groups (keys of :data:`PATTERNS`, the same for :data:`PATTERNS_ZH`) that ``title``
    matches, in that order; ``language`` ``"en"`` or ``"zh"`` (``None``: detected from the title)."""
    lang = language or detect_language(title)
    compiled = _COMPILED_ZH if lang == "zh" else _COMPILED
    return tuple(name for name, rx in compiled.items() if rx.search(title))


def ranking_score(predicted_ctr: float, title: str, restraint: float, *, relevance_weight: float = 0.0,
                  similarity: float | None = None) -> float:
    """Log-odds of ``predicted_ctr`` in (0, 1) minus ``restraint`` per matched pattern group, plus
    ``relevance_weight`` times ``similarity`` (cosine in [-1, 1] of title and brief; ``None``: no term). Higher
    ranks first."""
    p = min(max(predicted_ctr, 1e-9), 1 - 1e-9)
    score = math.log(p / (1 - p)) - restraint * len(clickbait_patterns(title))
    return score + relevance_weight * similarity if similarity is not None else score
