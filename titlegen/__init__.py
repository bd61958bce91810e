"""Controllable, click-ranked title generation.

Entry points::

    import titlegen
    gen = titlegen.load_generator()                       # the embedded default, offline
    gen(["Handmade linen tote, holds a laptop"], controls=titlegen.Controls(style="selling-point"))

See :func:`load_generator`, :class:`Controls`, :func:`list_styles`, :func:`list_platforms`.
"""

from titlegen.controls import Controls, get_platform, get_style, list_platforms, list_styles
from titlegen.errors import (
    ConfigError,
    EngineError,
    InputFileError,
    InvalidBriefError,
    InvalidControlError,
    ModelLoadError,
    OutputLockedError,
    TitleGenError,
)
from titlegen.generator import TitleCandidate, TitleGenerator, TitleRequest
from titlegen.loading import load_generator

__all__ = [
    "ConfigError", "Controls", "EngineError", "InputFileError", "InvalidBriefError", "InvalidControlError",
    "ModelLoadError", "OutputLockedError",
    "TitleCandidate", "TitleGenError", "TitleGenerator", "TitleRequest", "get_platform", "get_style",
    "list_platforms", "list_styles", "load_generator",
]
