"""Where CLIP weights are on this machine, found without touching the network, and whether CLIP is usable.

No model hub is reachable on the machines this project is built for, so ``ClipEncoder`` (``encoders.py``) never
lets open_clip download: a pretrained tag is looked up here in the Hugging Face cache and open_clip's URL cache
only, an ``hf-hub:`` model in the Hugging Face cache only, and a checkpoint must be an existing file. When nothing
is found the caller raises ``ModelLoadError`` with ``missing_weights_message``: what was tried, and how to get the
file. open_clip itself is not imported here (only ``encoders.py`` may), so its tag table comes in as a dict.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path

CHECKPOINT_SUFFIXES = frozenset({".pt", ".pth", ".bin", ".safetensors", ".npz"})
HF_WEIGHTS_NAME = "open_clip_pytorch_model.bin"  # open_clip's default file names on the Hugging Face hub
HF_SAFE_WEIGHTS_NAME = "open_clip_model.safetensors"
LOCAL_DIR_CONFIG = "open_clip_config.json"
INSTALL_HINT = "pip install 'creator-studio[clip]' (open_clip_torch)"
HOWTO = ("on a machine with internet, download the checkpoint (the model's open_clip_model.safetensors or "
         "open_clip_pytorch_model.bin, e.g. from its Hugging Face page), copy it here and pass its path as "
         "pretrained=...; or copy a filled Hugging Face cache (~/.cache/huggingface/hub) to this machine")


def looks_like_path(value: str) -> bool:
    """Whether a ``pretrained`` value is meant as a file rather than a tag (checkpoint suffix or a separator)."""
    return (Path(value).suffix.lower() in CHECKPOINT_SUFFIXES or "/" in value or os.sep in value
            or value.startswith(("~", ".")))


def _hub_file_candidates(filename: str) -> list[str]:
    """File names open_clip would fetch for a hub entry, safetensors first (as open_clip prefers them)."""
    if not filename or filename == HF_WEIGHTS_NAME:
        return [HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME]
    if filename.endswith((".bin", ".pth")):
        return [filename[:-4] + ".safetensors", filename]
    return [filename]


def find_tag_weights(tag_cfg: Mapping[str, str], *, cache_dir: str | os.PathLike | None = None
                     ) -> tuple[str | None, list[str]]:
    """Find the weights of an open_clip pretrained tag in the local caches, never downloading.

    Args:
        tag_cfg: open_clip's entry for the (model, tag) pair (``open_clip.get_pretrained_cfg``): ``hf_hub``
            ("org/repo/filename" or "org/repo/"), ``url`` and/or ``file``.
        cache_dir: open_clip's ``cache_dir`` (used for both the hub and URL downloads); None for the defaults
            (the Hugging Face cache, and ``~/.cache/clip`` for URL downloads).

    Returns:
        ``(path or None, places tried, in words)``.
    """
    tried: list[str] = []
    if tag_cfg.get("file"):
        if Path(tag_cfg["file"]).is_file():
            return str(tag_cfg["file"]), tried
        tried.append(str(tag_cfg["file"]))
    if tag_cfg.get("hf_hub"):
        from huggingface_hub import try_to_load_from_cache  # reads the cache folder only, no network

        repo_id, filename = os.path.split(tag_cfg["hf_hub"])  # "org/repo/" -> ("org/repo", ""): default name
        for name in _hub_file_candidates(filename):
            hit = try_to_load_from_cache(repo_id, name, cache_dir=cache_dir)
            if isinstance(hit, str) and Path(hit).is_file():
                return hit, tried
            tried.append(f"Hugging Face cache{'' if cache_dir is None else f' {cache_dir}'}: {repo_id}/{name}")
    if tag_cfg.get("url"):
        target = Path(cache_dir or Path.home() / ".cache" / "clip") / os.path.basename(tag_cfg["url"])
        if target.is_file():
            return str(target), tried
        tried.append(f"{target} (from {tag_cfg['url']})")
    return None, tried


def hub_snapshot(repo_id: str, *, cache_dir: str | os.PathLike | None = None) -> str | None:
    """The cached snapshot folder of a Hugging Face repo, or None when it is not in the cache (never downloads)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return snapshot_download(repo_id, cache_dir=cache_dir, local_files_only=True)
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None


def local_dir_problem(folder: str | os.PathLike) -> str | None:
    """What is missing from an open_clip ``local-dir:`` model folder (config and weights), or None if complete."""
    folder = Path(folder)
    if not folder.is_dir():
        return f"no folder at {folder}"
    if not (folder / LOCAL_DIR_CONFIG).is_file():
        return f"{folder} has no {LOCAL_DIR_CONFIG}"
    if not any(p.suffix in {".safetensors", ".bin", ".pth"} for p in folder.iterdir()):
        return f"{folder} has no weights file (.safetensors, .bin or .pth)"
    return None


def download_source(tag_cfg: Mapping[str, str]) -> str | None:
    """Where a tag's weights can be downloaded from on a connected machine (a web address), if open_clip knows."""
    if tag_cfg.get("hf_hub"):
        repo_id, filename = os.path.split(tag_cfg["hf_hub"])
        return f"https://huggingface.co/{repo_id} (file {_hub_file_candidates(filename)[0]})"
    return tag_cfg.get("url") or None


def missing_weights_message(*, model_name: str, pretrained: str | None, tried: list[str],
                            source: str | None = None) -> str:
    """The ``ModelLoadError`` text for weights that are not on this machine: what, where it looked, how to fix.

    Args:
        model_name, pretrained: what was asked for.
        tried: the places looked at, in words.
        source: where the weights can be downloaded from, when known (``download_source``).
    """
    what = f"open_clip model {model_name!r}" + (f" with pretrained={pretrained!r}" if pretrained else "")
    places = "; ".join(tried) if tried else "nowhere (no local file or cache entry applies)"
    where = f" The weights are published at {source}." if source else ""
    return (f"no CLIP weights found for {what}; looked at: {places}. Nothing is downloaded at run time.{where} "
            f"To use them: {HOWTO}")


def available_visual_semantics(clip_checkpoint: str | os.PathLike | None) -> tuple[bool, str]:
    """Say plainly whether CLIP visual semantics can be used, without loading anything.

    Only cheap checks are made (open_clip is installed; the checkpoint file or ``local-dir:`` folder exists);
    a file that exists but holds other weights still fails later, in ``ClipEncoder``, with ``ModelLoadError``.

    Args:
        clip_checkpoint: a CLIP checkpoint file, an open_clip ``local-dir:<folder>``, or None when none is set.

    Returns:
        ``(usable, message)``, e.g. ``(False, "visual semantics off: no CLIP weights found at /m/clip.pt ...")``.
    """
    if clip_checkpoint is None or str(clip_checkpoint).strip() == "":
        return False, ("visual semantics off: no CLIP checkpoint configured; footage is matched by its visual "
                       "descriptors (pace, motion, brightness, colour, faces) and the brief text")
    if importlib.util.find_spec("open_clip") is None:
        return False, f"visual semantics off: open_clip is not installed ({INSTALL_HINT})"
    value = str(clip_checkpoint)
    if value.startswith("local-dir:"):
        problem = local_dir_problem(value[len("local-dir:"):])
        if problem:
            return False, f"visual semantics off: no CLIP weights found: {problem}"
        return True, f"visual semantics on: CLIP model folder {value[len('local-dir:'):]}"
    path = Path(value).expanduser()
    if not path.is_file():
        return False, f"visual semantics off: no CLIP weights found at {path}; {HOWTO}"
    return True, f"visual semantics on: CLIP weights at {path}"
