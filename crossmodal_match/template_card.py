"""``TemplateCard``: what the matcher knows about a template, as validated plain data.

``templates`` builds these from its specs and hands them to the matcher, so ``crossmodal_match`` never imports
``templates``. Standard library only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from crossmodal_match.errors import ConfigError

ASPECT_RE = re.compile(r"^([1-9]\d{0,3}):([1-9]\d{0,3})$")


def _check_unit(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"TemplateCard.{name} must be a number in [0, 1], got {value!r}")


@dataclass(frozen=True)
class TemplateCard:
    """What the matcher needs to know about a template (``templates`` supplies these; plain data).

    Attributes:
        name: the template's registry name, e.g. "travel-vlog".
        description: one or two sentences of what it is for (encoded as text for matching the brief).
        tags: lower-case topic/feel tags ("travel", "calm" ...).
        aspect: frame aspect "W:H", e.g. "9:16", "1:1", "16:9".
        tempo_min_bpm, tempo_max_bpm: music tempo range the template's cuts are designed for, beats per minute;
            None for no limit.
        energy, pace: the template's feel on the axes of ``crossmodal_match.feel`` (0 calm/slow .. 1 intense/fast).
    """

    name: str
    description: str
    tags: tuple[str, ...] = ()
    aspect: str = "9:16"
    tempo_min_bpm: float | None = None
    tempo_max_bpm: float | None = None
    energy: float = 0.5
    pace: float = 0.5

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip() or self.name != self.name.strip():
            raise ConfigError(f"TemplateCard.name must be a non-empty string without surrounding spaces, "
                              f"got {self.name!r}")
        if not isinstance(self.description, str):
            raise ConfigError(f"TemplateCard.description must be a string, got {self.description!r}")
        if isinstance(self.tags, str) or not all(isinstance(t, str) and t.strip() for t in self.tags):
            raise ConfigError(f"TemplateCard.tags must be a list of non-empty strings, got {self.tags!r}")
        object.__setattr__(self, "tags", tuple(dict.fromkeys(t.strip().lower() for t in self.tags)))
        if not isinstance(self.aspect, str) or not ASPECT_RE.match(self.aspect):
            raise ConfigError(f"TemplateCard.aspect must look like '9:16' (W:H), got {self.aspect!r}")
        for name in ("tempo_min_bpm", "tempo_max_bpm"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not (math.isfinite(value) and 20 <= value <= 300)):
                raise ConfigError(f"TemplateCard.{name} must be None or a tempo in [20, 300] bpm, got {value!r}")
        if (self.tempo_min_bpm is not None and self.tempo_max_bpm is not None
                and self.tempo_min_bpm > self.tempo_max_bpm):
            raise ConfigError(f"TemplateCard.tempo_min_bpm ({self.tempo_min_bpm}) is above tempo_max_bpm "
                              f"({self.tempo_max_bpm})")
        _check_unit("energy", self.energy)
        _check_unit("pace", self.pace)

    @property
    def aspect_ratio(self) -> float:
        """Width / height, e.g. 0.5625 for "9:16"."""
        width, height = ASPECT_RE.match(self.aspect).groups()
        return int(width) / int(height)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tags as a list); inverse of ``from_dict``."""
        return {**asdict(self), "tags": list(self.tags)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TemplateCard:
        """Build and validate a card from a dict (e.g. a template spec's matching section).

        Raises:
            ConfigError: not a mapping, missing ``name``/``description``, unknown keys (listed), or an invalid
                value (the field and value are named).
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"TemplateCard.from_dict needs a mapping, got {type(data).__name__}")
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ConfigError(f"TemplateCard: unknown field(s) {unknown}; the fields are {names}")
        missing = [n for n in ("name", "description") if n not in data]
        if missing:
            raise ConfigError(f"TemplateCard: missing field(s) {missing}")
        tags = data.get("tags", ())
        return cls(**{**data, "tags": tuple(tags) if isinstance(tags, (list, tuple)) else tags})
