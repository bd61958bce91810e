"""Controls of a title request and the one text format that carries them to the model.

A trained adapter learns the controls only if they always reach the encoder in the same shape, so the format is
fixed here and nowhere else::

    style: news | audience: parents | points: organic cotton; free shipping | length: short | lang: en | brief: ...

``style`` is a preset tag from :func:`list_styles`, ``audience`` free text (``anyone`` when not given),
``points`` the selling points joined by ``"; "`` (``none`` when not given), ``length`` a bucket derived from the
platform's character limit (``short`` <= 40, ``medium`` <= 70, ``long``), ``lang`` an ISO 639-1 code.
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass, field

from titlegen.errors import InvalidControlError
from titlegen.language import AUTO, LANGUAGES, resolve_language

#: Upper bounds (characters, inclusive) of the length buckets the model is trained with; ``long`` is open.
LENGTH_BUCKETS: tuple[tuple[str, int], ...] = (("short", 40), ("medium", 70))

_FIELD_SEPARATOR = " | "


@dataclass(frozen=True)
class Style:
    """A style preset.

    Attributes:
        name: registry key, e.g. ``"news"``.
        tag: the word written into the source text (what the adapter was trained on).
        description: one line for UIs.
        casing: ``"title"`` (Each Word Capitalised) or ``"sentence"`` (first word only).
    """

    name: str
    tag: str
    description: str
    casing: str = "title"


_STYLES: dict[str, Style] = {
    s.name: s
    for s in (
        Style("selling-point", "selling-point", "Merchant style: leads with the product's selling points.", "title"),
        Style("audience", "audience", "Speaks to a named audience (parents, runners, students...).", "title"),
        Style("lifestyle", "lifestyle", "House style for lifestyle posts: personal, warm, curiosity.", "sentence"),
        Style("news", "news", "Plain news headline: who did what.", "title"),
        Style("question", "question", "Asks the reader a question.", "sentence"),
        Style("listicle", "listicle", "Numbered list: '7 ways to ...'.", "title"),
    )
}


@dataclass(frozen=True)
class Platform:
    """Where the title is published and how long it may be.

    Attributes:
        name: registry key.
        max_chars: hard limit of one title in characters as a reader counts them
            (:func:`titlegen.language.display_length`: each Han character or emoji is one).
    """

    name: str
    max_chars: int


_PLATFORMS: dict[str, Platform] = {
    p.name: p
    for p in (
        Platform("xiaohongshu", 20),
        Platform("douyin", 55),
        Platform("youtube", 100),
        Platform("generic", 100),
    )
}


#: Accepted ``max_chars`` (display characters, inclusive): no sensible title is shorter than the lower bound, and
#: no platform takes one longer than the upper.
MAX_CHARS_RANGE = (8, 500)


def _language_hint(value: object) -> str:
    """The known code a mistyped ``language`` most likely means ("english", "EN", "zh-CN" -> "en"/"zh"), or ""."""
    if not isinstance(value, str):
        return ""
    text = value.strip().lower().replace("_", "-")
    aliases = {"chinese": "zh", "中文": "zh", "汉语": "zh", "mandarin": "zh", "cn": "zh", "english": "en",
               "英文": "en", "英语": "en"}
    code = aliases.get(text) or text.split("-")[0]
    return code if code in LANGUAGES or code == AUTO else ""


def list_styles() -> list[str]:
    """Names of the registered style presets, in registry order."""
    return list(_STYLES)


def get_style(name: str) -> Style:
    """Return the style preset called ``name``.

    Raises:
        InvalidControlError: no such preset; the message lists the ones that exist.
    """
    if not isinstance(name, str):
        raise InvalidControlError(f"style must be a name, got {name!r}; choose one of {', '.join(_STYLES)}")
    try:
        return _STYLES[name]
    except KeyError:
        raise InvalidControlError(f"unknown style {name!r}; choose one of {', '.join(_STYLES)}") from None


def list_platforms() -> list[str]:
    """Names of the registered platforms."""
    return list(_PLATFORMS)


def get_platform(name: str) -> Platform:
    """Return the platform called ``name``.

    Raises:
        InvalidControlError: no such platform; the message lists the ones that exist.
    """
    if not isinstance(name, str):
        raise InvalidControlError(f"platform must be a name, got {name!r}; choose one of {', '.join(_PLATFORMS)}")
    try:
        return _PLATFORMS[name]
    except KeyError:
        raise InvalidControlError(f"unknown platform {name!r}; choose one of {', '.join(_PLATFORMS)}") from None


def length_bucket(max_chars: int) -> str:
    """The largest length bucket whose upper bound fits in ``max_chars`` (``short`` when none does)."""
    fitting = [name for name, upper in LENGTH_BUCKETS if upper <= max_chars]
    if max_chars >= 150:
        return "long"
    return fitting[-1] if fitting else "short"


def bucket_of_title(title: str) -> str:
    """The length bucket a finished title falls in (used to label training pairs)."""
    for name, upper in LENGTH_BUCKETS:
        if len(title) <= upper:
            return name
    return "long"


def clean_field(text: str) -> str:
    """``text`` on one line, without the ``|`` that separates the fields of the model's input."""
    # The separator and line breaks would corrupt the one-line format; collapse them.
    return re.sub(r"\s+", " ", text.replace("|", "/")).strip()


@dataclass(frozen=True)
class Controls:
    """What the creator asks of a title, besides the brief.

    Attributes:
        style: a preset name from :func:`list_styles`.
        audience: who the title speaks to, free text; empty means anyone.
        selling_points: phrases the title should carry, most important first (at most 5).
        platform: a name from :func:`list_platforms`; sets ``max_chars`` unless that is given.
        max_chars: character limit of one title (display characters, an int in :data:`MAX_CHARS_RANGE`);
            overrides the platform's.
        language: the title's language: ``"auto"`` (the brief's: Chinese for a mostly Chinese brief, else
            English) or a code of :data:`titlegen.language.LANGUAGES` (``"zh"``, ``"en"``).
    """

    style: str = "lifestyle"
    audience: str = ""
    selling_points: tuple[str, ...] = field(default_factory=tuple)
    platform: str = "generic"
    max_chars: int | None = None
    language: str = AUTO

    def __post_init__(self) -> None:
        get_style(self.style)
        get_platform(self.platform)
        if isinstance(self.selling_points, str):
            raise InvalidControlError(
                f"selling_points must be a list of phrases, got the string {self.selling_points!r}; "
                "split it, e.g. selling_points=('waterproof', 'free shipping')"
            )
        if self.selling_points is None:
            object.__setattr__(self, "selling_points", ())
        try:
            points = tuple(str(p) for p in self.selling_points)
        except TypeError:
            raise InvalidControlError(f"selling_points must be a list of phrases, got {self.selling_points!r}; "
                                      "e.g. selling_points=('waterproof', 'free shipping')") from None
        object.__setattr__(self, "selling_points", points)
        if len(self.selling_points) > 5:
            raise InvalidControlError(f"selling_points: at most 5 phrases, got {len(self.selling_points)}; keep the "
                                      "five that matter most, most important first")
        if not isinstance(self.audience, str):
            raise InvalidControlError(f"audience must be text, got {self.audience!r}; use '' for anyone")
        self._check_max_chars()
        self._check_language()

    def _check_max_chars(self) -> None:
        if self.max_chars is None:
            return
        low, high = MAX_CHARS_RANGE
        platforms = ", ".join(f"{p.name} {p.max_chars}" for p in _PLATFORMS.values())
        whole = isinstance(self.max_chars, numbers.Integral) or (
            isinstance(self.max_chars, float) and self.max_chars.is_integer())
        if isinstance(self.max_chars, bool) or not whole:
            raise InvalidControlError(f"max_chars must be a whole number of characters from {low} to {high}, got "
                                      f"{self.max_chars!r}; or leave it out to use the platform's limit "
                                      f"({platforms})")
        if not low <= self.max_chars <= high:
            raise InvalidControlError(
                f"max_chars must be between {low} and {high} characters, got {self.max_chars}: "
                + (f"no sensible title fits in fewer than {low}" if self.max_chars < low else
                   f"no platform takes a title over {high}")
                + f"; use a value from {low} to {high}, or leave it out to use the platform's limit ({platforms})")
        object.__setattr__(self, "max_chars", int(self.max_chars))

    def _check_language(self) -> None:
        if isinstance(self.language, str) and (self.language == AUTO or self.language in LANGUAGES):
            return
        known = ", ".join(f"{code!r} ({name})" for code, name in LANGUAGES.items())
        hint = _language_hint(self.language)
        raise InvalidControlError(
            f"language {self.language!r} is not an ISO 639-1 code the title model writes. "
            + (f"Did you mean {hint!r}? " if hint else "")
            + f"Use {known}, or {AUTO!r} to follow the brief's language")

    @property
    def limit(self) -> int:
        """The effective character limit of one title."""
        return int(self.max_chars) if self.max_chars is not None else get_platform(self.platform).max_chars


def encode_source(brief: str, controls: Controls, *, length: str | None = None, language: str | None = None) -> str:
    """Write ``brief`` and ``controls`` in the model's source format (see the module docstring).

    Args:
        brief: the text the title is written from (already validated, non-empty).
        controls: the request's controls.
        length: a length bucket to write instead of the one derived from ``controls.limit`` (training uses the
            bucket of the human title).
        language: the resolved language code to write (default: ``controls.language``, resolved from the brief
            when it is ``"auto"``).

    Returns:
        One line of text.
    """
    points = "; ".join(clean_field(p) for p in controls.selling_points if p.strip()) or "none"
    fields = (
        f"style: {get_style(controls.style).tag}",
        f"audience: {clean_field(controls.audience) or 'anyone'}",
        f"points: {points}",
        f"length: {length or length_bucket(controls.limit)}",
        f"lang: {language or resolve_language(controls.language, brief)}",
        f"brief: {clean_field(brief)}",
    )
    return _FIELD_SEPARATOR.join(fields)
