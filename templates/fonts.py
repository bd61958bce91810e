"""The font registry: names a template can use, where their files are, and which characters they cover.

    path = font_path("noto-sans-cjk")           # the installed Noto Sans CJK file
    covers("noto-sans-cjk", "一键成片 Travel vlog")  # True: no missing-glyph boxes

Fonts are never downloaded at run time. Each registered name is one typeface with the places its file is
installed by a package: a PyPI package (found through its import name, so ``pip install`` is enough) or a
system package (found in the fontconfig directories such as ``/usr/share/fonts``). A name whose file is nowhere is
a :class:`~templates.errors.TemplateError` that says what to install. Any ``.ttf``/``.otf``/``.ttc`` path works
too, so a template may ship its own font file.

Only the standard library and numpy are imported at import time (fontTools inside :func:`missing_glyphs`).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from templates.errors import TemplateError

DEFAULT_FONT = "noto-sans-cjk"
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
# The directories fontconfig searches on Linux (its default conf), in its order.
SYSTEM_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"),
                    Path.home() / ".local" / "share" / "fonts", Path.home() / ".fonts")


@dataclass(frozen=True)
class FontEntry:
    """One registered typeface.

    Attributes:
        name: registry name used in template specs (``TextStyle.font``).
        package_module: import name of a PyPI package whose folder holds the font file, or ``""``.
        package_files: file names looked for in that folder.
        system_files: file names looked for under ``SYSTEM_FONT_DIRS`` (any depth).
        install: what to install when the file is absent (shown in the error).
        licence: the font's licence.
    """

    name: str
    package_module: str = ""
    package_files: tuple[str, ...] = ()
    system_files: tuple[str, ...] = ()
    install: str = ""
    licence: str = ""


REGISTRY: dict[str, FontEntry] = {e.name: e for e in (
    # Noto Sans CJK covers Chinese (simplified and traditional), Japanese, Korean and Latin in one file, so one
    # font serves mixed titles like "一键成片 Travel vlog". The PyPI package ships the TC-default .otf (1.004); the
    # Debian package ships the pan-CJK .ttc. Either is the same typeface.
    FontEntry(name="noto-sans-cjk", package_module="cvttf_NotoSansCJK_Regular",
              package_files=("NotoSansCJKtc-Regular.otf",),
              system_files=("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf"),
              install='pip install "creator-studio[render]" (PyPI package cvttf-notosanscjk-regular==1.0), '
                      "or apt-get install fonts-noto-cjk",
              licence="SIL Open Font License 1.1"),
    FontEntry(name="dejavu-sans", system_files=("DejaVuSans.ttf",),
              install="apt-get install fonts-dejavu-core", licence="Bitstream Vera / DejaVu free licence"),
    FontEntry(name="dejavu-sans-bold", system_files=("DejaVuSans-Bold.ttf",),
              install="apt-get install fonts-dejavu-core", licence="Bitstream Vera / DejaVu free licence"),
)}

# Characters that draw nothing, so a font need not map them (line breaks, joiners, variation selectors).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def _invisible(char: str) -> bool:
    code = ord(char)
    return (char.isspace() or unicodedata.category(char) in _INVISIBLE_CATEGORIES
            or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF)  # variation selectors


def list_fonts(*, installed_only: bool = False) -> list[str]:
    """Registered font names, sorted.

    Args:
        installed_only: only the names whose file is found on this machine.

    Returns:
        Names usable as ``TextStyle.font``.
    """
    names = sorted(REGISTRY)
    if not installed_only:
        return names
    return [n for n in names if _find(REGISTRY[n]) is not None]


def font_path(name_or_path: str | os.PathLike[str]) -> Path:
    """The font file for a registry name or a path.

    Args:
        name_or_path: a name from :func:`list_fonts` or a path to a .ttf/.otf/.ttc/.otc file.

    Returns:
        Absolute path of an existing font file.

    Raises:
        TemplateError: an unknown name (the message lists the registered ones), a registered font that is not
            installed (the message says what to install), or a path that is not an existing font file.
    """
    text = os.fspath(name_or_path)
    entry = REGISTRY.get(text)
    if entry is not None:
        found = _find(entry)
        if found is None:
            raise TemplateError(f"font {text!r} is not installed; install it with: {entry.install}")
        return found
    path = Path(text).expanduser()
    if path.suffix.lower() not in FONT_SUFFIXES:
        raise TemplateError(f"font {text!r} is neither a registered name {sorted(REGISTRY)} nor a font file "
                            f"({', '.join(FONT_SUFFIXES)})")
    if not path.is_file():
        raise TemplateError(f"font file {str(path)!r} does not exist")
    return path.resolve()


def missing_glyphs(font: str | os.PathLike[str], text: str) -> list[str]:
    """The characters of ``text`` that ``font`` has no glyph for (each once, in order of appearance).

    Whitespace, control characters, joiners and variation selectors are ignored: they draw nothing.

    Args:
        font: a registry name or a font file path.
        text: any text.

    Returns:
        The uncovered characters; empty when the font covers all of ``text``.

    Raises:
        TemplateError: the font cannot be found or read, or fontTools (a dependency of the ``render`` extra) is
            not installed.
    """
    cmap = _cmap(font_path(font))
    missing: list[str] = []
    for char in dict.fromkeys(text):
        if not _invisible(char) and ord(char) not in cmap:
            missing.append(char)
    return missing


def covers(font: str | os.PathLike[str], text: str) -> bool:
    """Whether ``font`` has a glyph for every visible character of ``text`` (no missing-glyph boxes).

    Args:
        font: a registry name or a font file path.
        text: any text.

    Returns:
        True when :func:`missing_glyphs` is empty.

    Raises:
        TemplateError: as :func:`missing_glyphs`.
    """
    return not missing_glyphs(font, text)


def _find(entry: FontEntry) -> Path | None:
    if entry.package_module:
        spec = importlib.util.find_spec(entry.package_module)  # locate without importing the package
        for folder in (spec.submodule_search_locations or []) if spec else []:
            for file_name in entry.package_files:
                if (Path(folder) / file_name).is_file():
                    return (Path(folder) / file_name).resolve()
    for file_name in entry.system_files:
        found = _system_font(file_name)
        if found is not None:
            return found
    return None


@functools.lru_cache(maxsize=64)
def _system_font(file_name: str) -> Path | None:
    for folder in SYSTEM_FONT_DIRS:
        if folder.is_dir():
            for path in sorted(folder.rglob(file_name)):
                if path.is_file():
                    return path.resolve()
    return None


@functools.lru_cache(maxsize=16)
def _cmap(path: Path) -> _Coverage:
    try:
        from fontTools.ttLib import TTFont
    except ImportError as exc:
        raise TemplateError('checking glyph coverage needs fontTools: pip install "creator-studio[render]"') from exc
    try:
        # font 0 of a collection: the registry's .ttc files hold one cmap shared by all their faces
        with TTFont(path, lazy=True, fontNumber=0) as font:
            groups = _format12_groups(font.reader["cmap"])
            if groups is None:  # a BMP-only font: its cmap is small, fontTools decodes it quickly
                codes = np.array(sorted(font.getBestCmap() or {}), dtype=np.int64)
                return _Coverage(starts=codes, ends=codes)
            return _Coverage(starts=groups[:, 0].astype(np.int64), ends=groups[:, 1].astype(np.int64))
    except Exception as exc:  # fontTools raises many types for a damaged file
        raise TemplateError(f"cannot read font file {str(path)!r}: {exc}") from exc


@dataclass(frozen=True)
class _Coverage:
    """Code point ranges ``[starts[i], ends[i]]`` a font maps, sorted by start."""

    starts: np.ndarray
    ends: np.ndarray

    def __contains__(self, code: int) -> bool:
        i = int(np.searchsorted(self.starts, code, side="right")) - 1
        return i >= 0 and code <= int(self.ends[i])


def _format12_groups(raw: bytes) -> np.ndarray | None:
    """The (start, end, first glyph) groups of the Unicode full-repertoire cmap subtable, or None if absent.

    Read straight from the table bytes: fontTools decodes the 44k mappings of a CJK font one by one, which takes
    seconds; the groups are a few thousand rows of three big-endian uint32.
    """
    _, n_tables = struct.unpack_from(">HH", raw, 0)
    for i in range(n_tables):
        platform, encoding, offset = struct.unpack_from(">HHI", raw, 4 + 8 * i)
        if (platform, encoding) in ((3, 10), (0, 4), (0, 6)) and struct.unpack_from(">H", raw, offset)[0] == 12:
            n_groups = struct.unpack_from(">I", raw, offset + 12)[0]
            return np.frombuffer(raw, dtype=">u4", count=3 * n_groups, offset=offset + 16).reshape(-1, 3)
    return None
