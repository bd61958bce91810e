"""The template registry: built-in specs in ``templates/specs/*.json`` plus folders the user adds.

    list_templates()                      # ["beat-cut-showcase", "before-after", ...]
    spec = get_template("calm-vlog")      # TemplateSpec; an unknown name lists the known ones
    add_template_dir("~/my-templates")    # a spec there with a built-in's name replaces it (with a warning)
    cards = template_cards()              # TemplateCard per template, for the matcher

Each file is ``<name>.json`` holding one spec whose ``name`` is the file's stem; every file of a folder is read
and validated when the folder is added (the built-ins on first use, never at import time), so a bad spec fails
at once with the file, the field and the value in the message.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from crossmodal_match.template_card import TemplateCard
from templates.errors import TemplateSpecError
from templates.spec import TemplateSpec

logger = logging.getLogger(__name__)

BUILTIN_DIR = Path(__file__).resolve().parent / "specs"


def load_spec(path: str | os.PathLike[str]) -> TemplateSpec:
    """Read and validate one spec file.

    Args:
        path: a ``<name>.json`` file.

    Returns:
        TemplateSpec.

    Raises:
        TemplateSpecError: unreadable file, invalid JSON, a bad field (named with its value), or a ``name`` that
            differs from the file's stem; the message starts with the file.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TemplateSpecError(f"{p}: cannot read a template spec: {exc}") from exc
    try:
        spec = TemplateSpec.from_dict(data)
    except TemplateSpecError as exc:
        raise TemplateSpecError(f"{p}: {exc}") from None
    if spec.name != p.stem:
        raise TemplateSpecError(f"{p}: name={spec.name!r}: must be the file's stem {p.stem!r}")
    return spec


def load_dir(path: str | os.PathLike[str]) -> dict[str, TemplateSpec]:
    """Read and validate every ``*.json`` spec of a folder, by name.

    Raises:
        TemplateSpecError: the folder does not exist, or a spec in it is bad (see ``load_spec``).
    """
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise TemplateSpecError(f"template folder {str(path)!r} does not exist or is not a folder")
    return {spec.name: spec for spec in (load_spec(p) for p in sorted(folder.glob("*.json")))}


class TemplateRegistry:
    """Templates by name: the built-ins, then each added folder, a later folder overriding an earlier one by name.

    Args:
        builtin_dir: folder of the built-in specs, read on first use; None for none.
    """

    def __init__(self, *, builtin_dir: str | os.PathLike[str] | None = BUILTIN_DIR) -> None:
        self._builtin_dir = builtin_dir
        self._specs: dict[str, TemplateSpec] | None = None
        self._origin: dict[str, str] = {}

    def _loaded(self) -> dict[str, TemplateSpec]:
        if self._specs is None:
            specs = load_dir(self._builtin_dir) if self._builtin_dir is not None else {}
            self._origin = {name: "built-in" for name in specs}
            self._specs = specs
        return self._specs

    def names(self) -> list[str]:
        """Names of the templates, sorted."""
        return sorted(self._loaded())

    def get(self, name: str) -> TemplateSpec:
        """The template called ``name``.

        Raises:
            TemplateSpecError: no such template; the message lists the known names.
        """
        specs = self._loaded()
        if name not in specs:
            raise TemplateSpecError(f"no template named {name!r}; the templates are {sorted(specs)}")
        return specs[name]

    def add_dir(self, path: str | os.PathLike[str]) -> list[str]:
        """Add a folder of specs; a spec with a known name replaces the old one and a warning is logged.

        Args:
            path: folder of ``<name>.json`` files.

        Returns:
            names of the templates read from the folder, sorted.

        Raises:
            TemplateSpecError: the folder is missing or a spec in it is bad; nothing is added then.
        """
        added = load_dir(path)  # all or nothing: a bad file leaves the registry as it was
        specs = self._loaded()
        for name, spec in sorted(added.items()):
            if name in specs:
                logger.warning("template %r from %s overrides the one from %s", name, path, self._origin[name])
            specs[name] = spec
            self._origin[name] = str(path)
        return sorted(added)

    def cards(self) -> list[TemplateCard]:
        """One ``TemplateCard`` per template, sorted by name, for ``Matcher.set_templates``."""
        return [self.get(name).to_card() for name in self.names()]


_DEFAULT = TemplateRegistry()


def list_templates() -> list[str]:
    """Names of the built-in and added templates, sorted."""
    return _DEFAULT.names()


def get_template(name: str) -> TemplateSpec:
    """The template called ``name`` (built-in or from an added folder).

    Raises:
        TemplateSpecError: unknown name (the message lists what exists), or a bad built-in spec.
    """
    return _DEFAULT.get(name)


def add_template_dir(path: str | os.PathLike[str]) -> list[str]:
    """Add a user folder of ``<name>.json`` specs; a later folder overrides by name, with a logged warning.

    Returns:
        names of the templates read from the folder, sorted.

    Raises:
        TemplateSpecError: missing folder or a bad spec (nothing is added then).
    """
    return _DEFAULT.add_dir(path)


def template_cards() -> list[TemplateCard]:
    """A ``TemplateCard`` per template, sorted by name: what the matcher ranks."""
    return _DEFAULT.cards()
