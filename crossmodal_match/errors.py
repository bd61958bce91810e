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
