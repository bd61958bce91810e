"""What was said in a clip: the plain data of a transcript (words and segments with times), JSON round-trip.

Pure standard library, so ``templates`` may import these types (to caption a draft) without the speech engine;
``crossmodal_match.speech`` is what makes them. Times are seconds on the source file's own clock (VAD only skips
what it removed, it does not shift the words).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

from crossmodal_match.errors import ConfigError

#: Bumped when a field changes meaning; a stored transcript of another version is re-made, never misread.
TRANSCRIPT_VERSION = 1
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])")
# A unit of edited text: one Han/kana character (with the punctuation that follows it) or one Latin word with its
# leading space, the way Whisper writes them, so captions break an edited line as they break a transcribed one.
_EDIT_UNIT = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff][\u3000-\u303f\uff00-\uffef]*|\s*[^\s\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]+")
EDITED = "captions edited by the creator"
_CJK = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _joined(left: str, right: str) -> str:
    """Two stretches of text as a reader expects them: no space where either side is Chinese or Japanese (so a
    transcript that changes language reads right at each change), one space between Latin ones."""
    if not left:
        return right
    return left + ("" if _CJK.match(left[-1]) or _CJK.match(right[:1]) else " ") + right
NO_SPEECH = "no speech was heard in this clip (music, silence or noise only), so it has no transcript or captions"


def _check_span(where: str, start_s: float, end_s: float) -> None:
    if not (math.isfinite(start_s) and math.isfinite(end_s)) or start_s < 0 or end_s < start_s:
        raise ConfigError(f"{where}: start_s={start_s!r}, end_s={end_s!r} must be finite with 0 <= start <= end")


@dataclass(frozen=True)
class Word:
    """One spoken word (or, in Chinese, the characters Whisper emitted as one token group).

    Attributes:
        start_s, end_s: when it is spoken, seconds.
        text: as Whisper wrote it, with its leading space for Latin scripts (so ``"".join`` rebuilds the line).
        probability: the model's confidence in it, 0..1.
    """

    start_s: float
    end_s: float
    text: str
    probability: float = 1.0

    def __post_init__(self) -> None:
        _check_span(f"word {self.text!r}", self.start_s, self.end_s)


@dataclass(frozen=True)
class Segment:
    """A stretch of speech Whisper decoded in one piece (roughly a sentence).

    Attributes:
        start_s, end_s: seconds.
        text: the segment's words, stripped.
        words: its words in order (empty when word timing was not asked for).
    """

    start_s: float
    end_s: float
    text: str
    words: tuple[Word, ...] = ()

    def __post_init__(self) -> None:
        _check_span(f"segment {self.text[:30]!r}", self.start_s, self.end_s)


@dataclass(frozen=True)
class Transcript:
    """What a clip says.

    Attributes:
        language: ISO 639-1 code of the speech (``"en"``, ``"zh"`` ...), detected or given.
        language_probability: the detector's confidence (1.0 when the language was given).
        language_given: True when the caller named the language instead of letting Whisper detect it.
        duration_s: length of the audio, seconds.
        speech_s: seconds the voice-activity detector kept as speech.
        segments: in time order; empty when nothing was said (see :attr:`has_speech`).
        model: the speech model's name (its weights' identity, so caches of another model are not reused).
        source_sha256: sha256 of the transcribed file's bytes ("" for raw samples).
        notes: what the creator should know about this transcript, in words (e.g. no speech heard).
        version: :data:`TRANSCRIPT_VERSION` of the code that made it.
    """

    language: str
    language_probability: float
    duration_s: float
    speech_s: float
    segments: tuple[Segment, ...]
    model: str
    source_sha256: str = ""
    language_given: bool = False
    notes: tuple[str, ...] = ()
    version: int = field(default=TRANSCRIPT_VERSION)

    @property
    def has_speech(self) -> bool:
        """True when at least one word was heard."""
        return any(s.text for s in self.segments)

    @property
    def text(self) -> str:
        """The whole transcript, segments joined (a space between Latin ones, nothing between Chinese ones)."""
        out = ""
        for text in (s.text for s in self.segments if s.text):
            out = _joined(out, text)
        return out.strip()

    @property
    def words(self) -> tuple[Word, ...]:
        """Every word of every segment, in time order."""
        return tuple(w for s in self.segments for w in s.words)

    def gist(self, *, max_chars: int = 120) -> str:
        """What the clip is about, extractively: its first whole sentences within ``max_chars`` characters (a
        first sentence longer than that is cut at a word boundary, or anywhere in Chinese). "" without speech."""
        text = self.text
        if len(text) <= max_chars:
            return text
        out = ""
        for sentence in (s.strip() for s in _SENTENCE_END.split(text) if s.strip()):
            joined = _joined(out, sentence).strip()
            if len(joined) > max_chars:
                break
            out = joined
        if not out:
            cut = text[:max_chars]
            out = cut.rsplit(" ", 1)[0] if " " in cut else cut
        return out

    def with_segment_text(self, index: int, text: str) -> Transcript:
        """This transcript with one segment's words replaced by the creator's text (a fix to what was heard).

        The new words share out the segment's spoken span (its first word's start to its last word's end, else
        the segment's own) in proportion to their length in characters, so captions keep following the voice;
        nothing is transcribed again. Empty text removes the segment (a line that was never said).

        Args:
            index: the segment, 0-based, in :attr:`segments`.
            text: the corrected line, any script; surrounding space is ignored.

        Returns:
            A new ``Transcript`` whose :attr:`notes` include :data:`EDITED`.

        Raises:
            ConfigError: ``index`` is not a segment of this transcript, or ``text`` is not a string.
        """
        if not isinstance(index, int) or not 0 <= index < len(self.segments):
            raise ConfigError(f"segment {index!r} does not exist: this transcript has {len(self.segments)} "
                              f"(0 to {len(self.segments) - 1})")
        if not isinstance(text, str):
            raise ConfigError(f"a segment's text must be a string, got {type(text).__name__}")
        old = self.segments[index]
        units = _EDIT_UNIT.findall(" " + " ".join(text.split()))
        segments = list(self.segments)
        if not units:
            del segments[index]
        else:
            start = old.words[0].start_s if old.words else old.start_s
            end = max(old.words[-1].end_s if old.words else old.end_s, start)
            sizes = [len(u.strip()) for u in units]
            done = [sum(sizes[:k]) / sum(sizes) for k in range(len(units) + 1)]
            times = [start + f * (end - start) for f in done]
            words = tuple(Word(a, b, u) for a, b, u in zip(times[:-1], times[1:], units))
            segments[index] = Segment(old.start_s, old.end_s, "".join(units).strip(), words)
        notes = self.notes if EDITED in self.notes else (*self.notes, EDITED)
        return replace(self, segments=tuple(segments), notes=notes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the layout of ``transcript.json`` and of ``draft.json``'s ``transcript``)."""
        return {"version": self.version, "language": self.language,
                "language_probability": round(self.language_probability, 4), "language_given": self.language_given,
                "duration_s": round(self.duration_s, 3), "speech_s": round(self.speech_s, 3), "model": self.model,
                "source_sha256": self.source_sha256, "notes": list(self.notes), "text": self.text,
                "segments": [{"start_s": round(s.start_s, 3), "end_s": round(s.end_s, 3), "text": s.text,
                              "words": [{"start_s": round(w.start_s, 3), "end_s": round(w.end_s, 3), "text": w.text,
                                         "probability": round(w.probability, 3)} for w in s.words]}
                             for s in self.segments]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        """Rebuild a transcript written by :meth:`to_dict`.

        Raises:
            ConfigError: written by another :data:`TRANSCRIPT_VERSION`, or a field is missing or out of range.
        """
        if data.get("version") != TRANSCRIPT_VERSION:
            raise ConfigError(f"transcript version {data.get('version')!r} is not {TRANSCRIPT_VERSION}; "
                              "transcribe the clip again")
        try:
            segments = tuple(Segment(float(s["start_s"]), float(s["end_s"]), str(s["text"]),
                                     tuple(Word(float(w["start_s"]), float(w["end_s"]), str(w["text"]),
                                                float(w.get("probability", 1.0))) for w in s.get("words", ())))
                             for s in data["segments"])
            return cls(language=str(data["language"]), language_probability=float(data["language_probability"]),
                       duration_s=float(data["duration_s"]), speech_s=float(data["speech_s"]), segments=segments,
                       model=str(data["model"]), source_sha256=str(data.get("source_sha256", "")),
                       language_given=bool(data.get("language_given", False)),
                       notes=tuple(str(n) for n in data.get("notes", ())))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"not a transcript: {type(exc).__name__}: {exc}") from exc
