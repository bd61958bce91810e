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
from titlegen.loading import load_generator
from titlegen.request import TitleCandidate, TitleRequest

__all__ = [
    "ConfigError", "Controls", "EngineError", "InputFileError", "InvalidBriefError", "InvalidControlError",
    "ModelLoadError", "OutputLockedError",
    "TitleCandidate", "TitleGenError", "TitleGenerator", "TitleRequest", "get_platform", "get_style",
    "list_platforms", "list_styles", "load_generator",
]


def __getattr__(name: str):
    # TitleGenerator pulls in torch and transformers (about 6 s on 2 cores); loaded on first use, so that code
    # which only plans, validates or drives a batch (the Ray driver, the CLI's checks) never pays for them.
    if name == "TitleGenerator":
        from titlegen.generator import TitleGenerator

        return TitleGenerator
    raise AttributeError(f"module 'titlegen' has no attribute {name!r}")
