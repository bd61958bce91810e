"""What happens to a decoder-only model's raw titles before ranking: cleaning, the checks, and the report.

A raw title is cleaned (quotes, ``Title:`` / ``标题：`` prefixes, line breaks), then dropped when it

* is over the platform's limit in display characters (:func:`titlegen.language.display_length`): titles are
  written to fit, never cut;
* is not in the requested language;
* states a number or a name that the brief and controls do not support (:mod:`titlegen.faithfulness`);
* repeats a content word (a decoding stutter), or duplicates a title already kept.

:class:`TitleList` is the list of kept, ranked candidates of one brief, and says how many were dropped and why,
and how they were ranked.
"""

from __future__ import annotations

import re
from collections import Counter

from titlegen.faithfulness import check_title
from titlegen.language import detect_language, display_length

_PREFIX = re.compile(r"^\s*(title|标题|題目|题目)\s*[:：]\s*", re.IGNORECASE)
_QUOTES = "\"'“”‘’「」『』"


class TitleList(list):
    """The ranked candidates of one brief (a plain ``list`` of :class:`~titlegen.TitleCandidate`), plus:

    Attributes:
        dropped: how many raw candidates were dropped, by reason (``"over the limit"``, ``"wrong language"``,
            ``"unsupported number"``, ``"unsupported name"``, ``"repeated word"``).
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


def clean_title(text: str) -> str:
    """``text`` on one line, without a ``Title:`` prefix or the quotes a chat model wraps around answers."""
    text = text.strip().splitlines()[0] if text.strip() else ""
    text = _PREFIX.sub("", text).strip()
    while len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    text = text.strip(_QUOTES + " ")
    if text.endswith(".") and not text.endswith("..."):
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
