"""Typed errors of ``titlegen``: one root, one subclass per kind of failure.

Every error carries a message that says what happened and what to do, so callers (the CLI, the studio) can show
it as is instead of a traceback from deep inside transformers.
"""

from __future__ import annotations


class TitleGenError(Exception):
    """Root of every error raised by ``titlegen``."""


class InvalidBriefError(TitleGenError, ValueError):
    """A brief (the source text a title is written from) is empty or not text."""


class InvalidControlError(TitleGenError, ValueError):
    """A control (style, audience, selling points, platform, language) has a value that cannot be used."""


class ConfigError(TitleGenError, ValueError):
    """A training or LoRA configuration field has an invalid value."""


class ModelLoadError(TitleGenError, OSError):
    """A base model or adapter could not be loaded from where it was looked for."""


class InputFileError(TitleGenError, ValueError):
    """A batch input file cannot be read: missing, wrong format, undecodable or without the needed columns."""


class OutputLockedError(TitleGenError, RuntimeError):
    """Another batch run is writing the same output; the message names it (pid, host) and how to clear a stale lock."""


class EngineError(TitleGenError, RuntimeError):
    """The batch engine cannot run: no Ray cluster answers at the address, Ray is not installed, or a worker could
    not start (the message names the worker and what it tried to load)."""
