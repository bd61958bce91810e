"""Speech to text, offline: Whisper (faster-whisper / CTranslate2) with word timestamps and voice-activity detection.

    transcriber = Transcriber(cache_dir="~/.cache/creator-studio/transcripts")
    transcript = transcriber.transcribe("clip.mp4")            # language detected
    transcript = transcriber.transcribe("voice.m4a", language="zh")

The default model is Whisper base (MIT) in int8 on 2 CPU threads, assembled from its registry packages by
``crossmodal_match.whisper_weights``; any faster-whisper model folder can be named instead. The audio of a footage
file or of a separate voice file is decoded in-process (PyAV, through faster-whisper) to 16 kHz mono; Silero VAD
(shipped inside faster-whisper) drops what is not speech before decoding, so music or silence gives an empty
transcript with a note saying so, never invented words. Results are cached on disk by the sha256 of the file's
bytes and the options, like the footage and music analyses. This is the only module that imports
``faster_whisper``, and only when a model is first needed.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from crossmodal_match.audio_decode import check_audio_file, file_sha256, write_json_atomic
from crossmodal_match.errors import ConfigError, InvalidMediaError, ModelLoadError, NoAudioError
from crossmodal_match.speech_audio import (SAMPLE_RATE, WINDOW_S, audio_duration_s, iter_audio, load_audio,
                                           release_freed_memory, stream_windows, window_bounds)
from crossmodal_match.transcript import NO_SPEECH, TRANSCRIPT_VERSION, Segment, Transcript, Word

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install faster-whisper==1.2.1 (or `pip install -e .` in the repository)"
COMPUTE_TYPES = ("int8", "int8_float32", "float32")
# Whisper writes Mandarin in traditional or simplified characters as its training data happened to; a prompt in
# simplified Chinese (the platforms' script) steers it to simplified (measured on 10 synthetic Mandarin sentences
# in docs/speech/README.md: 5 of 10 came out traditional without it).
PROMPTS = {"zh": "以下是普通话的句子。"}
# Whisper drops a segment when no_speech_prob > 0.6 and avg_logprob < -1; the words it invents in the silence after
# speech ("试试", "字幕..." on the Mandarin test sentences) score no_speech_prob 0.47-0.58, so the bar is lower here.
HALLUCINATION_NO_SPEECH = 0.4
# Silero VAD's default 0.5 kept 21 of 46 s of a whispered voice (espeak-ng en-us+whisper, 130 wpm: WER 0.56); at 0.25
# WER 0.25, with plain speech unchanged and no words heard in three instrumental tracks (docs/speech/README.md).
VAD_THRESHOLD = 0.25
# A later window switches away from the language found so far only when Whisper is this sure of another one; a
# short or noisy window is often mis-detected, and one wrong switch garbles its captions.
SWITCH_PROBABILITY = 0.8
HALLUCINATION_LOGPROB = -1.0


@dataclass(frozen=True)
class SpeechConfig:
    """How speech is transcribed.

    Attributes:
        model_dir: a faster-whisper (CTranslate2) model folder; None for the embedded Whisper base.
        compute_type: CTranslate2 precision on CPU: ``"int8"`` (default, fastest), ``"int8_float32"``, ``"float32"``.
        cpu_threads: threads CTranslate2 may use (>= 1).
        beam_size: decoding beams (1 = greedy, faster; 5 = Whisper's default, a little more accurate).
        vad: drop non-speech with Silero VAD first (off only for already-clean voice tracks).
        vad_threshold: Silero VAD's speech probability above which audio counts as speech (0.05..0.95).
        window_s: longest stretch of audio handed to Whisper at once, seconds (30..600); the peak memory of a
            long clip is that of one window (``speech_audio``).

    Raises:
        ConfigError: a field out of range, naming it and its value.
    """

    model_dir: str | None = None
    compute_type: str = "int8"
    cpu_threads: int = 2
    beam_size: int = 5
    vad: bool = True
    vad_threshold: float = VAD_THRESHOLD
    window_s: float = WINDOW_S

    def __post_init__(self) -> None:
        if self.compute_type not in COMPUTE_TYPES:
            raise ConfigError(f"compute_type must be one of {', '.join(COMPUTE_TYPES)}; got {self.compute_type!r}")
        if not isinstance(self.cpu_threads, int) or self.cpu_threads < 1:
            raise ConfigError(f"cpu_threads must be an int >= 1; got {self.cpu_threads!r}")
        if not isinstance(self.vad_threshold, (int, float)) or not 0.05 <= self.vad_threshold <= 0.95:
            raise ConfigError(f"vad_threshold must be a probability in 0.05..0.95; got {self.vad_threshold!r}")
        if not isinstance(self.window_s, (int, float)) or not 30.0 <= self.window_s <= 600.0:
            raise ConfigError(f"window_s must be a number of seconds in 30..600; got {self.window_s!r}")
        if not isinstance(self.beam_size, int) or not 1 <= self.beam_size <= 10:
            raise ConfigError(f"beam_size must be an int in 1..10; got {self.beam_size!r}")


def supported_languages() -> tuple[str, ...]:
    """ISO 639-1 codes Whisper can transcribe (and ``"yue"``, ``"haw"``), from faster-whisper's tokenizer."""
    try:
        from faster_whisper.tokenizer import _LANGUAGE_CODES
    except ImportError as exc:
        raise ModelLoadError(f"speech needs faster-whisper: {INSTALL_HINT}") from exc
    return tuple(_LANGUAGE_CODES)


def check_language(language: str | None) -> str | None:
    """The language code to force, or None to detect it.

    ``None``, ``""`` and ``"auto"`` mean detect; a region suffix is dropped (``"zh-CN"`` -> ``"zh"``).

    Raises:
        ConfigError: a code Whisper does not know, with the closest ones it does.
    """
    if language is None or language.strip().lower() in ("", "auto"):
        return None
    code = language.strip().lower().replace("_", "-").split("-")[0]
    known = supported_languages()
    if code not in known:
        close = difflib.get_close_matches(code, known, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"unknown speech language {language!r}: use an ISO 639-1 code such as zh or en, or "
                          f"omit it to detect the language{hint}")
    return code


class Transcriber:
    """Transcribes files or samples with one model, loaded on first use and kept.

    Args:
        config: model and decoding settings.
        cache_dir: folder of cached transcripts keyed by file hash and options; None disables the cache.
    """

    def __init__(self, config: SpeechConfig | None = None, *, cache_dir: str | os.PathLike | None = None) -> None:
        self.config = config or SpeechConfig()
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else None
        self._model = None
        self._model_name: str | None = None

    @property
    def model_name(self) -> str:
        """The model's identity: the embedded one's hash prefix, or a user folder's name and model.bin size."""
        if self._model_name is None:
            if self.config.model_dir is None:
                from crossmodal_match.whisper_weights import MODEL_NAME, MODEL_SHA256

                self._model_name = f"{MODEL_NAME}:{MODEL_SHA256[:12]}"
            else:
                folder = Path(self.config.model_dir).expanduser()
                size = (folder / "model.bin").stat().st_size if (folder / "model.bin").is_file() else 0
                self._model_name = f"{folder.name}:{size}"
        return self._model_name

    def _load(self):
        if self._model is not None:
            return self._model
        if self.config.model_dir is None:
            from crossmodal_match.whisper_weights import ensure_whisper

            folder = ensure_whisper(on_progress=logger.info)
        else:
            folder = Path(self.config.model_dir).expanduser()
            missing = [n for n in ("model.bin", "config.json") if not (folder / n).is_file()]
            if missing:
                raise ModelLoadError(f"{folder} is not a faster-whisper model folder: it lacks {', '.join(missing)}; "
                                     "convert a Whisper checkpoint with ct2-transformers-converter, or leave "
                                     "model_dir unset for the embedded Whisper base")
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise ModelLoadError(f"speech needs faster-whisper: {INSTALL_HINT}") from exc
        try:
            self._model = WhisperModel(str(folder), device="cpu", compute_type=self.config.compute_type,
                                       cpu_threads=self.config.cpu_threads, local_files_only=True)
        except (RuntimeError, ValueError, OSError) as exc:  # CTranslate2 reports unreadable weights as RuntimeError
            raise ModelLoadError(f"the speech model in {folder} cannot be loaded ({exc}); reinstall it (for the "
                                 "embedded model: delete that folder and it is rebuilt from its packages)") from exc
        return self._model

    def _cache_file(self, sha: str, language: str | None) -> Path | None:
        if self.cache_dir is None:
            return None
        options = json.dumps({"model": self.model_name, "language": language, **asdict(self.config)}, sort_keys=True)
        tag = hashlib.sha256(options.encode()).hexdigest()[:12]
        return self.cache_dir / f"{sha}.{tag}.v{TRANSCRIPT_VERSION}.json"

    def transcribe(self, path: str | os.PathLike, *, language: str | None = None,
                   on_progress: Callable[[float], None] | None = None) -> Transcript:
        """Transcribe the first audio track of a footage or voice file (from the cache when seen before).

        Args:
            path: video or audio file.
            language: ISO 639-1 code (``"zh"``, ``"en"``); None to detect it from the first 30 s of speech.
            on_progress: called with the fraction of the audio done, 0..1.

        Returns:
            The transcript; ``has_speech`` is False (and a note says so) for music, silence or noise.

        Raises:
            ConfigError: unknown language code.
            NoAudioError: the file has no audio track.
            InvalidMediaError: the file or its audio stream cannot be decoded.
            ModelLoadError: the model's files are missing or corrupt (``WhisperWeightsError`` names them).
        """
        code = check_language(language)
        path = Path(path)
        check_audio_file(path)
        sha = file_sha256(path)
        cache_file = self._cache_file(sha, code)
        if cache_file is not None and cache_file.is_file():
            try:
                return Transcript.from_dict(json.loads(cache_file.read_text(encoding="utf-8")))
            except (OSError, ValueError) as exc:  # a damaged entry (ConfigError is a ValueError) is re-made
                logger.warning("ignoring unreadable cached transcript %s: %s", cache_file, exc)
        try:
            # decoded and cut into windows as it streams: memory does not grow with the clip's length
            windows = stream_windows(iter_audio(path), window_s=self.config.window_s)
            transcript = self._transcribe_windows(windows, language=code, source_sha256=sha,
                                                  expected_s=audio_duration_s(path), on_progress=on_progress)
        except ImportError as exc:  # PyAV comes with faster-whisper
            raise ModelLoadError(f"speech needs faster-whisper: {INSTALL_HINT}") from exc
        if cache_file is not None:
            try:
                write_json_atomic(cache_file, transcript.to_dict())
            except OSError as exc:  # the transcript is good; an unwritable cache only costs time next time
                logger.warning("cannot write the transcript cache %s: %s", cache_file, exc)
        return transcript

    def _decode(self, model, window: np.ndarray, *, language: str | None, offset_s: float):
        """One window's non-empty segments (on the source's clock) and faster-whisper's info about it."""
        # condition_on_previous_text=False: one misheard segment must not seed a repetition loop.
        raw, info = model.transcribe(window, language=language, initial_prompt=PROMPTS.get(language),
                                     beam_size=self.config.beam_size, word_timestamps=True,
                                     vad_filter=self.config.vad, condition_on_previous_text=False,
                                     vad_parameters={"threshold": self.config.vad_threshold} if self.config.vad
                                     else None)
        # decoding happens while iterating
        segments = [_segment(seg, offset_s=offset_s) for seg in raw if not _hallucinated(seg)]
        return [s for s in segments if s.text], info

    def transcribe_samples(self, samples: np.ndarray, *, language: str | None = None, source_sha256: str = "",
                           on_progress: Callable[[float], None] | None = None) -> Transcript:
        """Transcribe raw audio.

        Args:
            samples: np.ndarray [shape=(n,), float32, 16 kHz mono].
            language, on_progress: as in :meth:`transcribe`.
            source_sha256: recorded in the transcript.

        Raises:
            ConfigError: unknown language, or samples that are not a finite 1-D array.
        """
        code = check_language(language)
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim != 1 or not np.all(np.isfinite(samples)):
            raise ConfigError(f"samples must be a finite 1-D float array at {SAMPLE_RATE} Hz; got shape "
                              f"{samples.shape}")
        windows = ((start, samples[start:end]) for start, end in window_bounds(samples, window_s=self.config.window_s))
        return self._transcribe_windows(windows, language=code, source_sha256=source_sha256,
                                        expected_s=samples.size / SAMPLE_RATE, on_progress=on_progress)

    def _transcribe_windows(self, windows, *, language: str | None, source_sha256: str, expected_s: float | None,
                            on_progress: Callable[[float], None] | None) -> Transcript:
        """Transcribe ``(start sample, window samples)`` pairs in order; ``expected_s`` (the audio's length as
        the container states it, None when unknown) only scales the progress."""
        code = language
        # The first window decodes before the model loads, so a file without sound fails fast (NoAudioError)
        windows = iter(windows)
        first = next(windows, None)
        model = self._load()
        segments, speech_s, end = [], 0.0, 0
        current, first_probability, spoken_s = None, {}, {}
        for start, window in itertools.chain([first], windows) if first is not None else ():
            offset_s, end = start / SAMPLE_RATE, start + window.size
            found, info, used = self._decode_window(model, window, offset_s=offset_s, code=code, current=current)
            if found:
                current = used
                first_probability.setdefault(current, float(info.language_probability))
                spoken_s[current] = spoken_s.get(current, 0.0) + sum(s.end_s - s.start_s for s in found)
            segments.extend(found)
            release_freed_memory()
            if on_progress is not None and expected_s:
                on_progress(min(1.0, end / SAMPLE_RATE / expected_s))
            speech_s += float(info.duration_after_vad) if self.config.vad else window.size / SAMPLE_RATE
        if on_progress is not None:
            on_progress(1.0)
        notes = () if segments else (NO_SPEECH,)
        if len(spoken_s) > 1:
            parts = ", ".join(f"{lang} {s:.0f} s" for lang, s in sorted(spoken_s.items(), key=lambda kv: -kv[1]))
            notes = (f"the talk changes language ({parts}); each part was transcribed in its own language",)
        main = max(spoken_s, key=spoken_s.get) if spoken_s else ""
        language, probability = (code, 1.0) if code else (main, first_probability.get(main, 0.0))
        return Transcript(language=language, language_probability=probability, duration_s=end / SAMPLE_RATE,
                          speech_s=speech_s, segments=tuple(segments), model=self.model_name,
                          source_sha256=source_sha256, language_given=code is not None, notes=notes)

    def _decode_window(self, model, window: np.ndarray, *, offset_s: float, code: str | None,
                       current: str | None):
        """One window's segments, faster-whisper's info, and the language it was decoded in.

        A given language is used as is. Otherwise Whisper detects the window's language as it decodes it (one
        more encoder pass a window: a 10-minute talk took 102 s of CPU against 77 s with the language fixed
        after the first window, still 11.7x realtime on two cores); a later window keeps the language heard so
        far unless Whisper is at least ``SWITCH_PROBABILITY`` sure of another (a short or noisy window is often
        mis-detected, and one wrong switch garbles its captions). A language that needs a prompt (Chinese) is
        decoded with it: after Chinese, the next window's language is checked first (``detect_language``), so a
        Chinese talk is not decoded twice a window.
        """
        if code:
            return *self._decode(model, window, language=code, offset_s=offset_s), code
        guess = self._window_language(model, window, carried=current) if current in PROMPTS else None
        found, info = self._decode(model, window, language=guess, offset_s=offset_s)
        if guess:
            return found, info, guess
        if found and current is not None and info.language != current \
                and info.language_probability < SWITCH_PROBABILITY:
            return *self._decode(model, window, language=current, offset_s=offset_s), current
        if found and info.language in PROMPTS:
            # detected without its prompt (Whisper then often writes Chinese in traditional characters): again, with it
            found, _ = self._decode(model, window, language=info.language, offset_s=offset_s)
        return found, info, info.language

    def _window_language(self, model, window: np.ndarray, *, carried: str) -> str:
        """``carried``, or the window's own language when Whisper is at least ``SWITCH_PROBABILITY`` sure of it."""
        vad = {}
        if self.config.vad:  # detect_language takes VadOptions, not the dict transcribe takes
            from faster_whisper.vad import VadOptions

            vad = {"vad_filter": True, "vad_parameters": VadOptions(threshold=self.config.vad_threshold)}
        try:
            found, probability, _ = model.detect_language(window, **vad)
        except ValueError:  # VAD found no speech in the window: nothing to detect
            return carried
        return found if found != carried and probability >= SWITCH_PROBABILITY else carried


def _hallucinated(seg) -> bool:
    """True for a segment Whisper most likely invented: unsure it heard speech and unsure of its words."""
    return seg.no_speech_prob > HALLUCINATION_NO_SPEECH and seg.avg_logprob < HALLUCINATION_LOGPROB


def _segment(seg, *, offset_s: float = 0.0) -> Segment:
    """A faster-whisper segment as plain data, moved by ``offset_s`` (its window's start); word times are
    clamped inside their segment's span."""
    start, end = max(0.0, float(seg.start)) + offset_s, max(0.0, float(seg.end)) + offset_s
    end = max(end, start)
    words = []
    for w in seg.words or ():
        w_start = min(max(float(w.start) + offset_s, start), end)
        words.append(Word(w_start, min(max(float(w.end) + offset_s, w_start), end), str(w.word), float(w.probability)))
    return Segment(start, end, str(seg.text).strip(), tuple(words))


def transcribe(path: str | os.PathLike, *, language: str | None = None,
               cache_dir: str | os.PathLike | None = None, config: SpeechConfig | None = None) -> Transcript:
    """One file's transcript with a fresh :class:`Transcriber` (see :meth:`Transcriber.transcribe`)."""
    return Transcriber(config, cache_dir=cache_dir).transcribe(path, language=language)
