"""What happens to a decoder-only model's raw titles before ranking: cleaning, the checks, and the report.

A raw title is cleaned (quotes, ``Title:`` / ``标题：`` prefixes, list markers, line breaks), then dropped when it

* has no words (only emoji, hashtags, numbers or punctuation);
* is over the platform's limit in display characters (:func:`titlegen.language.display_length`): titles are
  written to fit, never cut;
* is not in the requested language;
* states a number or a name that the brief and controls do not support (:mod:`titlegen.faithfulness`);
* repeats a content word (a decoding stutter), or duplicates a title already kept;
* is unfinished: the model did not end it within its token budget (its score is ``-inf``).

:class:`TitleList` is the list of kept, ranked candidates of one brief, and says how many were dropped and why,
and how they were ranked.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from titlegen.faithfulness import check_title
from titlegen.language import detect_language, display_length, has_words

# "Title:" / "标题：", with whatever preamble comes before it on the line ("Sure! Title:", "建议标题：").
_PREFIX = re.compile(r"^(?:.*?(?<![A-Za-z]))?(?:title|标题|題目|题目|標題)\s*[:：]\s*", re.IGNORECASE)
# A list marker or Markdown emphasis a chat model puts around its answer: "1. ", "1、", "- ", "**...**".
_LIST_MARK = re.compile(r"^\s*(?:\d{1,2}[.、)]\s+|\d{1,2}、|[-*•]\s+)")
_PAIRS = {'"': '"', "'": "'", "“": "”", "‘": "’", "「": "」", "『": "』", "《": "》", "**": "**", "__": "__"}
_QUOTES = "\"'“”‘’「」『』"


class TitleList(list):
    """The ranked candidates of one brief (a plain ``list`` of :class:`~titlegen.TitleCandidate`), plus:

    Attributes:
        dropped: how many raw candidates were dropped, by reason (``"no words"``, ``"over the limit"``,
            ``"wrong language"``, ``"unsupported number"``, ``"unsupported name"``, ``"repeated word"``).
        examples: one dropped title per reason, with the detail (``"number 40 not in the brief"``).
        language: the language the titles were written in (``"zh"`` / ``"en"``).
        ranking: one sentence saying how the list was ordered (click model, or model score and relevance).
    """

    def __init__(self, items=(), *, dropped: dict[str, int] | None = None, examples: dict[str, str] | None = None,
                 language: str = "en", ranking: str = "") -> None:
        super().__init__(items)
        self.dropped = dict(dropped or {})
        self.examples = dict(examples or {})
        self.language = language
        self.ranking = ranking

    @property
    def dropped_total(self) -> int:
        """All raw candidates dropped by the checks."""
        return sum(self.dropped.values())

    def summary(self) -> str:
        """One line for UIs and logs: what was dropped and how the list is ranked."""
        parts = [f"{n} {reason}" for reason, n in sorted(self.dropped.items())]
        dropped = f"dropped {self.dropped_total} ({', '.join(parts)})" if parts else "nothing dropped"
        return f"{dropped}; {self.ranking}" if self.ranking else dropped


def _unwrap(text: str) -> str:
    """``text`` without quotes, title marks or Markdown emphasis that wrap all of it (and only it)."""
    changed = True
    while changed:
        changed = False
        for left, right in _PAIRS.items():
            inner = text[len(left):-len(right)] if text.startswith(left) and text.endswith(right) else None
            if inner and left not in inner and right not in inner:
                text, changed = inner.strip(), True
    return text


def _stray_quote(text: str, i: int) -> bool:
    """Whether the quote at ``text[i]`` (first or last character) has no partner in ``text``."""
    ch = text[i]
    if ch in "\"'":
        if ch == "'" and i == 0 and re.match(r"'(tis|twas|em|n)\b", text, re.IGNORECASE):
            return False  # an elision, not a quote
        return text.count(ch) % 2 == 1
    partner = {**_PAIRS, **{v: k for k, v in _PAIRS.items()}}.get(ch, "")
    return partner not in text


def clean_title(text: str) -> str:
    """``text`` on one line, without a ``Title:`` / ``标题：`` prefix (with any preamble before it: "Sure! Title:"),
    a list marker, or the quotes and emphasis a chat model wraps around answers. A first line that only
    introduces the answer ("Here is a title:") is skipped for the next one."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith((":", "：")):
        lines = lines[1:]  # "Here is a title:" or "标题：" alone on its line
    text = lines[0] if lines else ""
    text = _LIST_MARK.sub("", _PREFIX.sub("", text)).strip()
    text = _unwrap(text)
    if text and text[0] in _QUOTES and _stray_quote(text, 0):
        text = text[1:].strip()
    if text and text[-1] in _QUOTES and _stray_quote(text, len(text) - 1):
        text = text[:-1].strip()
    if text.endswith((".", "。")) and not text.endswith(("...", "。。")):
        text = text[:-1]
    return re.sub(r"\s+", " ", text).strip()


_STOP = set("the a an and or of to in on for with at by from is are was be as it its this that your you".split())


def repeats_a_word(title: str) -> bool:
    """True when a content word occurs twice ("Orange & Orange Dress"): a decoding stutter. Chinese text is not
    checked (repeated characters are normal there: 慢慢, 天天)."""
    words = [w for w in re.findall(r"[a-z0-9]+", title.lower()) if len(w) > 2 and w not in _STOP]
    return len(words) != len(set(words))


def why_dropped(title: str, *, limit: int, language: str, support: list[str]) -> tuple[str, str] | None:
    """``(reason, detail)`` when the checks drop ``title`` (module docstring), else None."""
    if not has_words(title):
        return "no words", "only emoji, hashtags, numbers or punctuation"
    if display_length(title) > limit:
        return "over the limit", f"{display_length(title)} characters, limit {limit}"
    if detect_language(title) != language:
        return "wrong language", f"written in {detect_language(title)}, asked for {language}"
    problems = check_title(title, support)
    if problems:
        kind = "unsupported number" if problems[0].startswith("number") else "unsupported name"
        return kind, problems[0]
    if repeats_a_word(title):
        return "repeated word", title
    return None


def filter_candidates(raw: list[tuple[str, str, float]], *, limit: int, language: str, support: list[str]
                      ) -> tuple[list[tuple[str, str, float]], Counter, dict[str, str]]:
    """Clean, check and deduplicate raw ``(text, source, logprob)`` candidates.

    Returns:
        ``(kept, dropped_by_reason, one_example_per_reason)``; ``kept`` keeps the input order.
    """
    kept, dropped, examples, seen = [], Counter(), {}, set()
    for text, source, score in raw:
        if not math.isfinite(score):
            dropped["unfinished"] += 1
            examples.setdefault("unfinished", f"{text[:40]!r}: no end within the token budget")
            continue
        title = clean_title(text)
        key = re.sub(r"\W+", " ", title.lower()).strip()
        if not key or key in seen:
            continue
        seen.add(key)
        verdict = why_dropped(title, limit=limit, language=language, support=support)
        if verdict:
            dropped[verdict[0]] += 1
            examples.setdefault(verdict[0], f"{title!r}: {verdict[1]}")
            continue
        kept.append((title, source, score))
    return kept, dropped, examples
