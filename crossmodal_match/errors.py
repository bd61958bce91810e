"""Typed errors of ``crossmodal_match``: one root, one subclass per kind of failure.

Each message names the offending file or value and says what to do, so the CLI and the studio can show it as is.
"""

from __future__ import annotations


class MatchError(Exception):
    """Root of every error raised by ``crossmodal_match``."""


class InvalidMediaError(MatchError, ValueError):
    """A footage, photo or audio file cannot be used: missing, empty, truncated, not media, or unsupported.

    Attributes:
        path: the file, as given.
        reason: what is wrong with it, in words.
    """

    def __init__(self, path: object, reason: str) -> None:
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")


class ConfigError(MatchError, ValueError):
    """A matcher, encoder or catalogue setting has an invalid value."""


class ModelLoadError(MatchError, OSError):
    """Encoder weights (e.g. CLIP) could not be loaded from where they were looked for."""


class CatalogueError(MatchError, ValueError):
    """A music folder, copy library or template card cannot be read."""


class FeedbackStoreError(MatchError, OSError):
    """The feedback store cannot be opened or written."""


class WhisperWeightsError(ModelLoadError):
    """The speech model's files are missing, partial or corrupt.

    Attributes:
        files: the files at fault (paths as found, or as expected inside their packages).
        remedy: what to run to get good files again.
    """

    def __init__(self, message: str, *, files: tuple[str, ...], remedy: str) -> None:
        self.files, self.remedy = tuple(files), remedy
        super().__init__(f"{message}: {', '.join(self.files)}; {remedy}")


class NoAudioError(InvalidMediaError):
    """A footage or voice file has no audio track to transcribe (a silent export, a screen capture)."""


class ComposeError(ConfigError):
    """A soundtrack cannot be composed with these settings: a length, tempo, mood or style outside what the
    composer accepts (``crossmodal_match.compose``).

    Attributes:
        field: the setting at fault (``"length_s"``, ``"bpm"``, ``"style"`` ...).
        value: the value given.
        accepted: the accepted range or names, in words.
    """

    def __init__(self, field: str, value: object, accepted: str) -> None:
        self.field, self.value, self.accepted = field, value, accepted
        super().__init__(f"{field}={value!r}: {accepted}")
