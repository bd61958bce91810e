"""Fast stand-ins for the studio's tests (``CREATOR_STUDIO_FAKE_MODELS=1``, see app/state.py).

Only the slow parts are replaced: the title model (a generator that writes titles from the brief's words, in
Chinese for a Chinese brief), the matcher's MiniLM text encoder (a bag of hashed words) and the renderer (a tiny
MP4 and cover instead of a full render). Footage analysis, matching, the feedback store, ``make_draft``'s stages
and its draft folder are the real ones, so bad files fail the way they do in production.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

import titlegen
from titlegen.candidates import TitleList
from titlegen.errors import InvalidBriefError

FAKE_SIZE = (64, 112)  # width, height of the stand-in render


class WordEncoder:
    """Bag of hashed words, L2-normalised: texts sharing words are close; no model is loaded."""

    name, dim = "words", 64

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().replace(",", " ").split():
                out[i, int(hashlib.md5(word.encode()).hexdigest()[:6], 16) % self.dim] += 1
            out[i] /= max(float(np.linalg.norm(out[i])), 1e-9)
        return out


def text_encoder() -> WordEncoder:
    return WordEncoder()


#: The fake's ranking notes, worded as the real generator's (``TitleGenerator._postprocess_causal``).
RANKED_BY_CLICKS = "ranked by predicted click-through"
RANKED_BY_SCORE = ("ranked by the model's score and grounding in the brief: the click model reads en only, so no "
                   "click-through is predicted")


def _fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters as readers count them (the fake needs no word boundaries)."""
    from titlegen.language import display_length

    out = ""
    for ch in text:
        if display_length(out + ch) > limit:
            break
        out += ch
    return out.strip()


class FakeGenerator:
    """Called like ``titlegen.TitleGenerator``; titles are made of the brief's words (its clauses, for a Chinese
    brief) and the controls. Returns :class:`~titlegen.candidates.TitleList` results as the real one does: English
    titles with a predicted click-through, Chinese ones without (the click model reads English only), and each list
    says what was dropped and how it was ranked."""

    def __call__(self, briefs, *, controls=None, num_titles: int = 5, restraint=None, relevance_weight=None, **_):
        from titlegen.language import resolve_language

        controls = controls or titlegen.Controls()
        out = []
        for brief in [briefs] if isinstance(briefs, str) else briefs:
            if not isinstance(brief, str) or not brief.strip():
                raise InvalidBriefError("brief #0 is empty: write a line about the post")
            if resolve_language(controls.language, brief) == "zh":
                out.append(self._chinese(brief, controls, num_titles))
            else:
                out.append(self._english(brief, controls, num_titles, restraint, relevance_weight))
        return out

    @staticmethod
    def _chinese(brief: str, controls, num_titles: int) -> TitleList:
        clauses = [c for c in re.split(r"[，。：:、；！？,.!?\s]+", brief) if c]
        points = list(controls.selling_points) or clauses[1:2] or ["好好生活"]
        texts = [clauses[0], f"{clauses[0]}｜{points[0]}", f"{points[0]}的{clauses[0]}", f"{clauses[-1]}✨",
                 f"{controls.audience or '大家'}都爱的{clauses[0]}", f"{clauses[0]}，{clauses[-1]}"]
        texts = [t for t in dict.fromkeys(_fit(t, controls.limit) for t in texts) if t]
        cands = [titlegen.TitleCandidate(t, "beam" if i % 2 == 0 else "sample", -0.8 - 0.1 * i)
                 for i, t in enumerate(texts[:num_titles])]
        return TitleList(cands, dropped={"over the limit": 2, "unsupported number": 1}, language="zh",
                         examples={"unsupported number": "'续航50小时': number 50 not in the brief"},
                         ranking=RANKED_BY_SCORE)

    @staticmethod
    def _english(brief: str, controls, num_titles: int, restraint, relevance_weight) -> TitleList:
        words = brief.split()
        lead = " ".join(words[:6]).rstrip(",.:")
        points = list(controls.selling_points) or ["a day to remember"]
        texts = [f"{controls.style.title()}: {lead}", f"{lead}: {points[0]}", f"Why {lead.lower()}?", lead,
                 f"{len(words)} reasons for {lead.lower()}", f"{lead} for {controls.audience or 'everyone'}"]
        texts = [t[: controls.limit] for t in texts]
        if restraint:  # as the real ranking does, in effect: fewer clickbait patterns first
            from titlegen.clickbait import clickbait_patterns

            texts.sort(key=lambda t: len(clickbait_patterns(t)))
        brief_words = {w.lower().strip(",.:?") for w in words}
        similarity = {t: round(sum(w.lower().strip(",.:?") in brief_words for w in t.split()) / len(t.split()), 2)
                      for t in texts}  # the share of the title's words found in the brief
        if relevance_weight:  # as the real ranking does, in effect: titles closer to the brief first
            texts.sort(key=lambda t: -similarity[t])
        cands = [titlegen.TitleCandidate(t, "beam" if i % 2 == 0 else "sample", -1.0 - 0.1 * i,
                                         round(0.05 - 0.004 * i, 4), similarity[t])
                 for i, t in enumerate(texts[:num_titles])]
        return TitleList(cands, dropped={"repeated word": 1}, language="en", ranking=RANKED_BY_CLICKS)


def _tiny_mp4(path: Path, *, frames: int = 6) -> None:
    import av

    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=6)
        stream.width, stream.height, stream.pix_fmt = *FAKE_SIZE, "yuv420p"
        for i in range(frames):
            frame = np.full((FAKE_SIZE[1], FAKE_SIZE[0], 3), (40 * i) % 255, dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode(None))


SLOW_ENV = "CREATOR_STUDIO_FAKE_RENDER_S"  # seconds the stand-in render takes (default 0), to test Cancel


def _steps() -> list[tuple[float, str]]:
    slow_s = float(os.environ.get(SLOW_ENV) or 0)
    frames = [(0.6 + 0.39 * i / 100, "video") for i in range(100)] if slow_s else [(0.6, "video")]
    return [(0.0, "open"), (0.3, "audio"), *frames, (0.99, "finish")]


def fake_render(timeline, out_path, *, preview=False, on_progress=None, cancel=None) -> Path:
    """Stands in for ``templates.render.render``: same progress contract, a 1-second 64x112 MP4 (slowly, in
    ``$CREATOR_STUDIO_FAKE_RENDER_S`` seconds, when that is set)."""
    import time

    from templates.progress import check_cancelled

    steps = _steps()
    pause_s = float(os.environ.get(SLOW_ENV) or 0) / len(steps)
    for fraction, stage in steps:
        check_cancelled(cancel)
        if on_progress:
            on_progress(fraction, stage)
        time.sleep(pause_s)
    out = Path(out_path)
    tmp = out.with_name(f".{out.name}.part.mp4")
    _tiny_mp4(tmp)
    os.replace(tmp, out)
    if on_progress:
        on_progress(1.0, "done")
    return out


def fake_render_cover(timeline, out_path, *, time_s=None) -> Path:
    from PIL import Image

    Image.new("RGB", FAKE_SIZE, (200, 120, 40)).save(out_path, format="JPEG")
    return Path(out_path)


@contextlib.contextmanager
def fast_renderer() -> Iterator[None]:
    """``templates.render.render`` / ``render_cover`` replaced for the duration (make_draft imports them late)."""
    import templates.render as render

    saved = render.render, render.render_cover
    render.render, render.render_cover = fake_render, fake_render_cover
    try:
        yield
    finally:
        render.render, render.render_cover = saved


def make_draft(*args, **kwargs):
    from templates import draft

    with fast_renderer():
        return draft.make_draft(*args, **kwargs)


def rerender(*args, **kwargs):
    from templates import draft

    with fast_renderer():
        return draft.rerender(*args, **kwargs)
