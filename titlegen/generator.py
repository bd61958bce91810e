"""``TitleGenerator``: briefs + controls in, ranked title candidates out.

Batch inference is one object: :meth:`TitleGenerator._preprocess` validates and writes the source lines,
:meth:`TitleGenerator._forward` is the only place that touches the model (under ``torch.inference_mode``), and
:meth:`TitleGenerator._postprocess` detokenizes, recases, deduplicates, length-filters and ranks. Inputs are sorted
by length for batching and their order restored; the result is always a list of lists.

Candidates come from three sources, each labelled: ``beam`` (beam search), ``sample`` (nucleus sampling) and
``lead`` (the brief's first sentence, cut at a word boundary to the limit). All are scored on one scale, the
model's mean per-token log-probability of the title given the brief, so they rank together; a click model, when
given, adds its predicted click-through and ranks by it.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import torch
from transformers import LogitsProcessor, LogitsProcessorList

from titlegen.candidates import TitleList, filter_candidates, repeats_a_word
from titlegen.casing import detokenize, restore_case
from titlegen.causal import generate_candidates
from titlegen.clickbait import ranking_score
from titlegen.controls import Controls, encode_source, get_style
from titlegen.diversity import dpp_select
from titlegen.errors import ConfigError
from titlegen.language import resolve_language
from titlegen.model import is_causal
from titlegen.prompt import control_line
from titlegen.prompt_cache import PromptCache
from titlegen.request import (MAX_BRIEF_CHARS, TitleCandidate, TitleRequest, contradiction_notes, cut_to_limit,
                              lead_fallback, lead_title, points_titles, validate_request)
from titlegen.relevance import rank_by_score

log = logging.getLogger(__name__)

# The request types and brief helpers live in titlegen.request; they stay importable from here.
__all__ = ["MAX_BRIEF_CHARS", "RELEVANCE_FLOOR", "TitleCandidate", "TitleGenerator", "TitleRequest",
           "contradiction_notes", "cut_to_limit", "lead_fallback", "lead_title", "points_titles", "repeats_a_word",
           "validate_request"]

#: Default :attr:`TitleGenerator.relevance_floor`: the 20th percentile of the cosine similarity between human
#: Upworthy headlines and their ledes (5,821 training-test arms, MiniLM embeddings; median 0.34), so a kept title
#: is at least as much about its brief as four in five human headlines are about theirs.
RELEVANCE_FLOOR = 0.19

class _GreedyLogProb(LogitsProcessor):
    """Records the log-probability of the greedy choice at each step (``[shape=(batch,)]`` per step).

    It runs last among the processors, so it sees the scores greedy search picks from: the chosen token is their
    arg-max and its log-probability is ``max - logsumexp``. Why not ``output_scores`` + ``compute_transition_scores``:
    those keep every step's full ``(batch, vocab)`` scores and log-softmax them all again at the end, about a tenth
    of a step's cost on a 30k vocabulary.
    """

    def __init__(self) -> None:
        self.steps: list[torch.Tensor] = []

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        self.steps.append(scores.max(dim=-1).values - torch.logsumexp(scores, dim=-1))
        return scores


#: How candidates were ranked when the click model reads the language: its score means different things per language
#: (see :data:`titlegen.ctr.SCORE_MEANING`).
_CLICK_RANKING = {"en": "ranked by predicted click-through",
                  "zh": "ranked by predicted relative engagement (Bilibili-trained; not a click-through)"}


def _non_negative(name: str, value: object) -> float:
    """``value`` as a float, or :class:`ConfigError` naming ``name`` when it is not a number >= 0."""
    if isinstance(value, bool) or not (isinstance(value, (int, float)) and value >= 0):
        raise ConfigError(f"{name} must be a number >= 0, got {value!r}")
    return float(value)


class TitleGenerator:
    """Generate, score and rank titles with a seq2seq model.

    Args:
        model: a loaded seq2seq model (see :func:`titlegen.model.load_model`), in eval mode.
        tokenizer: its tokenizer.
        lexicon: usual spellings for recasing uncased output (see :mod:`titlegen.casing`).
        click_model: optional callable ``(titles: list[str], contexts: list[str]) -> list[float]`` giving a
            predicted click-through per title; when given, candidates are ranked by it.
        max_source_tokens: encoder input length limit (tokens).
        max_title_tokens: generation length limit (tokens).
        fluency_margin: generated candidates whose mean log-probability is more than this (nats per token) below
            the best beam candidate's are dropped before click-model ranking: the click model judges appeal, not
            fluency, and would otherwise promote broken samples.
        diversity: quality/diversity trade-off ``theta`` of the DPP re-ranking in (0, 1), or ``None`` for plain
            top-k; used when the click model can ``embed`` titles (see :mod:`titlegen.diversity`).
        relevance_floor: generated candidates whose embedding cosine similarity to the brief is below this are
            dropped before click-model ranking (when the click model can ``embed``): a click model rewards appeal
            and would otherwise keep catchy titles about something else. ``None`` turns the guardrail off.
        restraint: log-odds of predicted click-through given up per clickbait pattern group a candidate matches
            when ranking (see :mod:`titlegen.clickbait`); 0 ranks by predicted click-through alone.
        relevance_weight: log-odds of predicted click-through added per unit of the candidate's
            :attr:`TitleCandidate.similarity` to the brief when ranking; 0 ignores it.
    """

    def __init__(self, model, tokenizer, *, lexicon: dict[str, str] | None = None,
                 click_model: Callable[[list[str], list[str]], Sequence[float]] | None = None,
                 max_source_tokens: int = 128, max_title_tokens: int = 32, fluency_margin: float = 1.0,
                 diversity: float | None = 0.7, relevance_floor: float | None = RELEVANCE_FLOOR,
                 restraint: float = 0.0, relevance_weight: float = 0.0) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.lexicon = lexicon or {}
        self.click_model = click_model
        self.max_source_tokens = max_source_tokens
        self.max_title_tokens = max_title_tokens
        self._prompts = PromptCache()  # its memo holds the prompt head's cache for *this* model
        self.diversity = diversity
        self.fluency_margin = fluency_margin
        self.relevance_floor = relevance_floor
        self.restraint = restraint
        self.relevance_weight = relevance_weight
        self.uncased = bool(getattr(tokenizer, "do_lower_case", False))
        self.causal = is_causal(model)

    @property
    def restraint(self) -> float:
        """Log-odds of predicted click-through given up per clickbait pattern group when ranking (>= 0)."""
        return self._restraint

    @restraint.setter
    def restraint(self, value: float) -> None:
        self._restraint = _non_negative("restraint", value)

    @property
    def relevance_weight(self) -> float:
        """Log-odds of predicted click-through added per unit of similarity to the brief when ranking (>= 0)."""
        return self._relevance_weight

    @relevance_weight.setter
    def relevance_weight(self, value: float) -> None:
        self._relevance_weight = _non_negative("relevance_weight", value)

    def __call__(self, briefs: str | TitleRequest | Sequence[str | TitleRequest], *,
                 controls: Controls | None = None, num_titles: int = 5, batch_size: int = 16,
                 num_beams: int = 4, num_samples: int = 4, seed: int = 0,
                 extractive: bool = True, restraint: float | None = None,
                 relevance_weight: float | None = None) -> list[list[TitleCandidate]]:
        """Titles for each brief, best first.

        Args:
            briefs: one brief or a list; each a string (written with ``controls``) or a :class:`TitleRequest`.
            controls: controls for plain-string briefs (default :class:`Controls()`).
            num_titles: how many candidates to return per brief (at most; fewer if fewer distinct ones fit).
            batch_size: briefs per forward pass.
            num_beams: beam width; also the number of beam candidates (0 disables beam search).
            num_samples: sampled candidates per brief (0 disables sampling).
            seed: seed of the sampling, for reproducible candidates.
            extractive: also offer the lead and selling-point candidates (off: model candidates only).
            restraint: this call's :attr:`restraint` (``None``: the generator's), so sessions sharing one
                generator can rank differently.
            relevance_weight: this call's :attr:`relevance_weight` (``None``: the generator's).

        Returns:
            One list of :class:`TitleCandidate` per brief, in input order; never an empty list.

        Raises:
            InvalidBriefError: a brief is empty or not text (nothing is generated for any brief).
            ConfigError: ``restraint`` or ``relevance_weight`` is negative or not a number.
        """
        weights = {"restraint": self.restraint if restraint is None else _non_negative("restraint", restraint),
                   "relevance_weight": self.relevance_weight if relevance_weight is None
                   else _non_negative("relevance_weight", relevance_weight)}
        if isinstance(briefs, (str, TitleRequest)):
            briefs = [briefs]
        requests = self._preprocess(briefs, controls or Controls())
        order = sorted(range(len(requests)), key=lambda i: len(requests[i].brief))
        results: list[list[TitleCandidate]] = [[] for _ in requests]
        for start in range(0, len(order), max(1, batch_size)):
            idx = order[start:start + batch_size]
            batch = [requests[i] for i in idx]
            raw = self._forward(batch, num_beams=num_beams, num_samples=num_samples, seed=seed + start,
                                extractive=extractive)
            for i, req, cands in zip(idx, batch, raw):
                results[i] = self._postprocess(req, cands, num_titles=num_titles, **weights)
        return results

    def _preprocess(self, briefs: Sequence[str | TitleRequest], controls: Controls) -> list[TitleRequest]:
        requests = []
        for i, item in enumerate(briefs):
            req = item if isinstance(item, TitleRequest) else TitleRequest(item, controls)  # type: ignore[arg-type]
            requests.append(validate_request(req, index=i))
        return requests

    @torch.inference_mode()
    def _forward(self, batch: list[TitleRequest], *, num_beams: int, num_samples: int, seed: int,
                 extractive: bool = True) -> list[list[tuple[str, str, float]]]:
        """Raw candidates ``(text, source, mean logprob)`` per request; the only code that runs the model."""
        if self.causal:
            lines = [control_line(r.brief, r.controls, language=resolve_language(r.controls.language, r.brief))
                     for r in batch]
            return generate_candidates(self.model, self.tokenizer, lines, num_beams=num_beams,
                                       num_samples=num_samples, seed=seed, max_new_tokens=self.max_title_tokens,
                                       max_prompt_tokens=self.max_source_tokens, prompt_cache=self._prompts,
                                       limits=[r.controls.limit for r in batch])
        sources = [encode_source(r.brief, r.controls) for r in batch]
        tokens = self.tokenizer(sources, truncation=True, max_length=self.max_source_tokens, padding=True,
                                return_tensors="pt")
        enc = {"input_ids": tokens["input_ids"], "attention_mask": tokens["attention_mask"]}
        out: list[list[tuple[str, str, float]]] = [[] for _ in batch]
        # Encode once; generation and rescoring both reuse the encoder states.
        memory = self.model.get_encoder()(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
        common = dict(attention_mask=enc["attention_mask"], max_new_tokens=self.max_title_tokens,
                      no_repeat_ngram_size=3, repetition_penalty=1.2)

        def fresh():  # generate() expands encoder_outputs for beams *in place*; give it its own wrapper
            return type(memory)(last_hidden_state=memory.last_hidden_state)

        if num_beams == 1:
            recorder = _GreedyLogProb()
            sequences = self.model.generate(encoder_outputs=fresh(), do_sample=False, num_beams=1,
                                            logits_processor=LogitsProcessorList([recorder]), **common)
            steps = torch.stack(recorder.steps, dim=1)
            real = (sequences[:, -steps.shape[1]:] != self.tokenizer.pad_token_id).float()
            means = ((steps * real).sum(1) / real.sum(1).clamp(min=1)).tolist()
            self._add(out, sequences, "beam", 1, means)
        elif num_beams > 1:
            gen = self.model.generate(encoder_outputs=fresh(), num_beams=num_beams, num_return_sequences=num_beams,
                                      early_stopping=True, length_penalty=1.0, return_dict_in_generate=True,
                                      output_scores=True, **common)
            # With length_penalty 1 the beam score is the summed token log-probability over the length: the
            # same per-token mean as teacher forcing gives, without a second pass through the model.
            self._add(out, gen.sequences, "beam", num_beams, gen.sequences_scores.tolist())
        # Samples, the lead and the selling-point patterns are scored by teacher forcing in one pass: sampling
        # scores are of the warped distribution and the others were never generated.
        extra: list[tuple[int, str, str]] = []
        if num_samples > 0:
            torch.manual_seed(seed)
            gen = self.model.generate(encoder_outputs=fresh(), do_sample=True, top_p=0.9, temperature=0.8,
                                      num_return_sequences=num_samples, **common)
            texts = self.tokenizer.batch_decode(gen, skip_special_tokens=True)
            extra += [(j // num_samples, t, "sample") for j, t in enumerate(texts)]
        if extractive:
            extra += [(i, text, source) for i, r in enumerate(batch)
                      for text, source in [(lead_title(r.brief, r.controls.limit), "lead")]
                      + [(t, "points") for t in points_titles(r.controls)]]
        if extra:
            rows = torch.tensor([i for i, _, _ in extra])
            hidden = type(memory)(last_hidden_state=memory.last_hidden_state[rows])
            for (i, text, source), score in zip(extra, self._score(hidden, enc["attention_mask"][rows],
                                                                   [t for _, t, _ in extra])):
                out[i].append((text, source, score))
        return out

    def _on_topic(self, kept: list[TitleCandidate], brief: str) -> list[TitleCandidate]:
        """``kept`` with their :attr:`~TitleCandidate.similarity` to the brief, less the generated ones under
        :attr:`relevance_floor` (all of them if none is); unchanged when the click model cannot ``embed``."""
        if not hasattr(self.click_model, "embed"):
            return kept
        emb = self.click_model.embed([c.text for c in kept] + [brief])
        kept = [replace(c, similarity=round(float(s), 4)) for c, s in zip(kept, emb[:-1] @ emb[-1])]
        if self.relevance_floor is None:
            return kept
        on_topic = [c for c in kept if c.source in ("lead", "points") or c.similarity >= self.relevance_floor]
        return on_topic or kept

    def _add(self, out, sequences: torch.Tensor, source: str, per_input: int, scores: list[float]) -> None:
        texts = self.tokenizer.batch_decode(sequences, skip_special_tokens=True)
        for j, (text, score) in enumerate(zip(texts, scores)):
            out[j // per_input].append((text, source, score))

    def _score(self, memory, mask: torch.Tensor, titles: list[str]) -> list[float]:
        """Mean per-token log-probability of each title given its encoder states ``memory``."""
        labels = self.tokenizer(titles, truncation=True, max_length=self.max_title_tokens, padding=True,
                                return_tensors="pt")["input_ids"]
        pad = self.tokenizer.pad_token_id
        if self.model.config.model_type == "encoder-decoder":
            # BERT-style: [CLS] title [SEP]; predict everything after [CLS].
            dec_in, target = labels[:, :-1].clone(), labels[:, 1:].clone()
            dec_in[dec_in == self.tokenizer.sep_token_id] = pad
        else:
            target = labels.clone()
            start = torch.full((labels.shape[0], 1), self.model.config.decoder_start_token_id)
            dec_in = torch.cat([start, labels[:, :-1]], dim=1)
        logits = self.model(encoder_outputs=memory, attention_mask=mask, decoder_input_ids=dec_in).logits
        logp = torch.log_softmax(logits.float(), dim=-1).gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        valid = (target != pad).float()
        return ((logp * valid).sum(1) / valid.sum(1).clamp(min=1)).tolist()

    def _postprocess(self, req: TitleRequest, raw: list[tuple[str, str, float]], *,
                     num_titles: int, restraint: float | None = None,
                     relevance_weight: float | None = None) -> TitleList:
        if self.causal:
            return self._postprocess_causal(req, raw, num_titles=num_titles, restraint=restraint,
                                            relevance_weight=relevance_weight)
        return TitleList(self._postprocess_seq2seq(req, raw, num_titles=num_titles, restraint=restraint,
                                                   relevance_weight=relevance_weight),
                         language=resolve_language(req.controls.language, req.brief),
                         ranking="ranked by predicted click-through" if self.click_model is not None
                         else "ranked by the model's score")

    def reads(self, language: str) -> bool:
        """Whether the attached click model ranks titles in ``language``: it reads it (its ``languages``
        attribute; a click model without one is assumed to read every language) and its head for it is meant for
        ranking (its ``ranks(language)``, when it has one)."""
        languages = getattr(self.click_model, "languages", None)
        ranks = getattr(self.click_model, "ranks", None)  # a head can score a language without ranking it
        return (self.click_model is not None and (languages is None or language in languages)
                and (ranks is None or ranks(language)))

    def _postprocess_causal(self, req: TitleRequest, raw: list[tuple[str, str, float]], *, num_titles: int,
                            restraint: float | None, relevance_weight: float | None) -> TitleList:
        """Check, rank and explain a causal model's candidates (see :mod:`titlegen.candidates`)."""
        language = resolve_language(req.controls.language, req.brief)
        support = [req.brief, req.controls.audience, *req.controls.selling_points]
        passed, dropped, examples = filter_candidates(raw, limit=req.controls.limit, language=language,
                                                      support=support)
        kept = [TitleCandidate(t, src, round(score, 4)) for t, src, score in passed if math.isfinite(score)]
        if not kept:
            # Nothing generated passed: the lead is the labelled fallback (it fits and copies only the brief).
            kept = [TitleCandidate(lead_fallback(req.brief, req.controls.limit) or req.brief, "lead",
                                   float("-inf"))]
        notes = contradiction_notes(req)
        if self.reads(language):
            ranked = self._rank_by_clicks(req, kept, num_titles=num_titles, restraint=restraint,
                                          relevance_weight=relevance_weight)
            # A model that says what its score means per language (titlegen.ctr.ClickModel) is named for it.
            how = (_CLICK_RANKING.get(language, "ranked by the click model")
                   if hasattr(self.click_model, "score_meaning") else "ranked by predicted click-through")
            shows = getattr(self.click_model, "shows_score", None)
            if shows is not None and not shows(language):
                # Ranked by it, but its score is not calibrated for this language: show none rather than a number
                # that does not mean what it says.
                ranked = [replace(c, predicted_ctr=None) for c in ranked]
        else:
            text = " ".join(support)
            # As on the click-model path: a sample far less fluent than the best beam is a derailed one
            # ("养生养生养多肉..."), whatever its grounding.
            best_beam = max((c.logprob for c in kept if c.source == "beam"), default=None)
            if best_beam is not None:
                kept = [c for c in kept if c.source != "sample" or c.logprob >= best_beam - self.fluency_margin]
            order = rank_by_score([c.text for c in kept], [c.logprob for c in kept], text, num_titles)
            ranked = [kept[i] for i in order]
            languages = getattr(self.click_model, "languages", ())
            if self.click_model is None:
                why = ""
            elif language in languages:  # it reads the language, but its head there is not meant for ranking
                why = (f": the click model's {language} head is not used for ranking (it is close to a length rule; "
                       "see the click model card)")
            else:
                why = f": the click model reads {', '.join(languages)} only, so no click-through is predicted"
            how = "ranked by the model's score and grounding in the brief" + why
        return TitleList(ranked, dropped=dropped, examples=examples, language=language,
                         ranking="; ".join([how, *notes]))

    def _postprocess_seq2seq(self, req: TitleRequest, raw: list[tuple[str, str, float]], *,
                             num_titles: int, restraint: float | None = None,
                             relevance_weight: float | None = None) -> list[TitleCandidate]:
        casing = get_style(req.controls.style).casing
        limit = req.controls.limit
        seen: set[str] = set()
        kept: list[TitleCandidate] = []
        for text, source, score in raw:
            title = detokenize(text)
            if self.uncased and source in ("beam", "sample"):
                title = restore_case(title, brief=req.brief, lexicon=self.lexicon, casing=casing)
            key = re.sub(r"\W+", " ", title.lower()).strip()
            if not key or key in seen or len(title) > limit or not math.isfinite(score):
                continue
            if source in ("beam", "sample") and repeats_a_word(title):
                continue
            seen.add(key)
            kept.append(TitleCandidate(title, source, round(float(score), 4)))
        if not kept:
            # Nothing generated fits: fall back to the lead, which is cut to the limit and so never empty.
            kept.append(TitleCandidate(lead_title(req.brief, limit) or req.brief[:limit], "lead", float("-inf")))
        if self.click_model is not None:
            return self._rank_by_clicks(req, kept, num_titles=num_titles, restraint=restraint,
                                        relevance_weight=relevance_weight)
        kept.sort(key=lambda c: -c.logprob)
        return kept[:num_titles]

    def _rank_by_clicks(self, req: TitleRequest, kept: list[TitleCandidate], *, num_titles: int,
                        restraint: float | None, relevance_weight: float | None) -> list[TitleCandidate]:
        """Fluency and relevance guardrails, then predicted click-through (with restraint and relevance
        weights) and the diversity re-ranking."""
        best_beam = max((c.logprob for c in kept if c.source == "beam"), default=None)
        if best_beam is not None:
            kept = [c for c in kept if c.source in ("lead", "points")
                    or c.logprob >= best_beam - self.fluency_margin]
        kept = self._on_topic(kept, req.brief)
        ctrs = self.click_model([c.text for c in kept], [req.brief] * len(kept))
        kept = [replace(c, predicted_ctr=float(p)) for c, p in zip(kept, ctrs)]
        restraint = self.restraint if restraint is None else restraint
        weight = self.relevance_weight if relevance_weight is None else relevance_weight
        scores = {c.text: ranking_score(c.predicted_ctr, c.text, restraint, relevance_weight=weight,
                                        similarity=c.similarity) for c in kept}
        kept.sort(key=lambda c: -scores[c.text])
        if self.diversity is not None and hasattr(self.click_model, "embed") and len(kept) > num_titles:
            emb = self.click_model.embed([c.text for c in kept])
            quality = 1 / (1 + np.exp(-np.array([scores[c.text] for c in kept])))  # back on the CTR scale
            chosen = dpp_select(quality, emb, num_titles, theta=self.diversity)
            return [kept[i] for i in chosen]
        return kept[:num_titles]
