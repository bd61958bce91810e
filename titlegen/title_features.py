"""Light, hand-made features of a title, one set per language, beside the sentence embedding in the click model.

They are generic surface cues (length, digits, punctuation, second person, quotes), written for this project, not
vocabularies learned from any data set, so the shipped weights over them carry no text of the training data.
"""

from __future__ import annotations

import re

import numpy as np

from titlegen.language import display_length, han_count

LIGHT_FEATURES = ("chars", "words", "has_digit", "starts_digit", "question", "exclaim", "you", "quote",
                  "caps_ratio", "demonstrative", "wh_word", "context_sim")
LIGHT_FEATURES_ZH = ("chars", "han_share", "has_digit", "starts_digit", "question", "exclaim", "brackets",
                     "quote", "latin_share", "emoji", "second_person", "demonstrative", "ellipsis", "separators",
                     "context_sim")
_EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]")


def light_features(titles: list[str], context_sim: np.ndarray) -> np.ndarray:
    """English features ``[shape=(n, 12)]`` in the order of :data:`LIGHT_FEATURES`, roughly unit scale."""
    rows = []
    for t, sim in zip(titles, context_sim):
        words = t.split()
        letters = [ch for ch in t if ch.isalpha()]
        low = t.lower()
        rows.append([
            len(t) / 100, len(words) / 20, float(bool(re.search(r"\d", t))), float(bool(re.match(r"\d", t))),
            float("?" in t), float("!" in t), float(bool(re.search(r"\byou(r|'re)?\b", low))),
            float(bool(re.search(r"[\"“”']", t))), sum(ch.isupper() for ch in letters) / max(1, len(letters)),
            float(bool(re.search(r"\b(this|these|here's|here is)\b", low))),
            float(bool(re.match(r"(why|how|what|who|when|where)\b", low))), float(sim),
        ])
    return np.asarray(rows, dtype=np.float32).reshape(len(titles), len(LIGHT_FEATURES))


def light_features_zh(titles: list[str], context_sim: np.ndarray) -> np.ndarray:
    """Chinese features ``[shape=(n, 15)]`` in the order of :data:`LIGHT_FEATURES_ZH`, roughly unit scale.

    Length is counted as a reader sees it (:func:`titlegen.language.display_length`); the punctuation cues accept
    full- and half-width forms.
    """
    rows = []
    for t, sim in zip(titles, context_sim):
        n = max(1, display_length(t))
        latin = len(re.findall(r"[A-Za-z]", t))
        rows.append([
            n / 30, han_count(t) / n, float(bool(re.search(r"\d", t))), float(bool(re.match(r"\s*\d", t))),
            float(bool(re.search(r"[?？]", t))), float(bool(re.search(r"[!！]", t))),
            float(bool(re.search(r"[【】\[\]《》「」『』]", t))), float(bool(re.search(r"[\"“”'‘’]", t))),
            latin / n, float(bool(_EMOJI.search(t))), float(bool(re.search(r"[你您]", t))),
            float(bool(re.search(r"这[个些样种]|竟然|居然|原来", t))), float(bool(re.search(r"…|\.\.\.|。。", t))),
            len(re.findall(r"[|，,、/｜]", t)) / 3, float(sim),
        ])
    return np.asarray(rows, dtype=np.float32).reshape(len(titles), len(LIGHT_FEATURES_ZH))
