"""Encoders: the protocol, the embedded MiniLM, a tiny random open_clip model, missing CLIP weights, the feel space."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from crossmodal_match.audio import MusicAnalysis
from crossmodal_match.embedding_cache import EmbeddingCache, LruMemo, image_key
from crossmodal_match.encoders import (
    DescriptorEncoder,
    Encoder,
    TextEncoder,
    available_visual_semantics,
    create_encoder,
)
from crossmodal_match.errors import ConfigError, ModelLoadError
from crossmodal_match.feel import FEEL_DIMS, feel_similarity, feel_weights, footage_feel, music_feel
from crossmodal_match.footage import Footage, Shot, ShotDescriptors

ROOT = Path(__file__).resolve().parents[1]
TINY_CLIP = {"embed_dim": 32,
             "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "head_width": 32, "patch_size": 8},
             "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2}}


def _unit_rows(x: np.ndarray, *, n: int, dim: int) -> None:
    assert x.shape == (n, dim) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)


# ---- import weight and the factory ---------------------------------------------------------------------------

def test_import_pulls_in_no_torch_or_open_clip():
    code = ("import sys, crossmodal_match.encoders, crossmodal_match.catalog; "
            "print(sorted({'torch', 'open_clip', 'sentence_transformers', 'librosa'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         timeout=60)
    assert out.stdout.strip() == "[]"


def test_create_encoder_rejects_unknown_kind_and_option():
    with pytest.raises(ConfigError, match="choose one of"):
        create_encoder("audio")
    with pytest.raises(ConfigError, match=r"no option\(s\) \['colour'\]"):
        create_encoder("descriptors", colour=True)
    assert isinstance(create_encoder("descriptors"), DescriptorEncoder)


# ---- MiniLM text encoder ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def text_encoder() -> TextEncoder:
    return create_encoder("text", batch_size=8)


def test_text_encoder_follows_the_protocol(text_encoder):
    assert isinstance(text_encoder, Encoder)
    assert text_encoder.name == "all-MiniLM-L6-v2" and text_encoder.dim == 384
    vecs = text_encoder.encode_texts(["a dog", "", "a dog", "ein Hund"])
    _unit_rows(vecs, n=4, dim=384)
    np.testing.assert_array_equal(vecs[0], vecs[2])
    _unit_rows(text_encoder.encode_texts([]), n=0, dim=384)


def test_minilm_similarity_is_sensible(text_encoder):
    dog, puppy, tax = text_encoder.encode_texts(["a dog on the beach", "puppy playing by the sea",
                                                 "quarterly tax report"])
    assert dog @ puppy > dog @ tax + 0.2


def test_text_encoder_memo_matches_fresh_encoding(text_encoder):
    first = text_encoder.encode_texts(["golden hour at the harbour"])
    batch = text_encoder.encode_texts(["something else", "golden hour at the harbour"])
    np.testing.assert_allclose(batch[1], first[0], atol=1e-6)


def test_text_encoder_input_errors(text_encoder, tmp_path):
    with pytest.raises(ConfigError, match="text-only encoder"):
        text_encoder.encode_images([np.zeros((8, 8, 3), np.uint8)])
    with pytest.raises(ConfigError, match="single str"):
        text_encoder.encode_texts("a dog")
    with pytest.raises(ConfigError, match="not str"):
        text_encoder.encode_texts(["ok", 3])
    with pytest.raises(ModelLoadError, match=re.escape(str(tmp_path / "nope"))):
        TextEncoder(model_path=tmp_path / "nope")


def test_lru_memo_evicts_least_recent_and_survives_large_batches():
    calls = []

    def compute(keys):
        calls.append(list(keys))
        return np.array([[float(len(k)), 1.0] for k in keys], np.float32)

    memo = LruMemo(max_entries=2)
    out = memo.lookup(["a", "bb", "ccc", "a"], compute, dim=2)  # more new keys than the memo holds
    assert out[:, 0].tolist() == [1, 2, 3, 1] and calls == [["a", "bb", "ccc"]] and len(memo) == 2
    memo.lookup(["a"], compute, dim=2)
    assert calls[-1] == ["a"]  # "a" had been evicted; "bb" and "ccc" were more recent when trimming


# ---- open_clip: tiny random model, checkpoints, missing weights ------------------------------------------------

@pytest.fixture(scope="module")
def tiny_clip_config(tmp_path_factory) -> Path:
    pytest.importorskip("open_clip")
    path = tmp_path_factory.mktemp("clip_cfg") / "tiny-test-clip.json"
    path.write_text(json.dumps(TINY_CLIP), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny_clip(tiny_clip_config, tmp_path_factory):
    import torch

    torch.manual_seed(0)
    return create_encoder("clip", model_name="tiny-test-clip", model_config=tiny_clip_config, random_init=True,
                          cache_dir=tmp_path_factory.mktemp("clip_cache"))


def test_tiny_clip_encodes_images_and_texts(tiny_clip):
    assert isinstance(tiny_clip, Encoder) and tiny_clip.dim == 32
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), rng.integers(0, 256, (48, 20, 3), dtype=np.uint8)]
    _unit_rows(tiny_clip.encode_images(images), n=2, dim=32)
    _unit_rows(tiny_clip.encode_texts(["a dog on the beach"]), n=1, dim=32)
    _unit_rows(tiny_clip.encode_images([]), n=0, dim=32)
    with pytest.raises(ConfigError, match="image 0 must be a uint8 RGB"):
        tiny_clip.encode_images([np.zeros((32, 32), np.uint8)])


def test_clip_image_cache_returns_the_same_vectors(tiny_clip):
    img = np.full((32, 32, 3), 90, np.uint8)
    first = tiny_clip.encode_images([img])
    assert list(tiny_clip._disk.folder.glob("*.npy")) != []
    np.testing.assert_allclose(tiny_clip.encode_images([img.copy(), img])[1], first[0], atol=1e-6)


def test_clip_loads_a_local_checkpoint_file(tiny_clip, tiny_clip_config, tmp_path):
    import torch

    ckpt = tmp_path / "tiny clip é.pt"
    torch.save(tiny_clip._model.state_dict(), ckpt)
    loaded = create_encoder("clip", model_name="tiny-test-clip", pretrained=str(ckpt),
                            model_config=tiny_clip_config)
    img = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    np.testing.assert_allclose(loaded.encode_images([img]), tiny_clip.encode_images([img]), atol=1e-5)
    assert "tiny clip é.pt" in loaded.name


def test_missing_clip_checkpoint_names_the_path(tiny_clip_config, tmp_path):
    missing = tmp_path / "weights" / "ViT-B-32.safetensors"
    with pytest.raises(ModelLoadError) as info:
        create_encoder("clip", model_name="ViT-B-32", pretrained=str(missing))
    assert str(missing) in str(info.value) and "Nothing is downloaded" in str(info.value)


def test_missing_clip_tag_weights_say_where_to_get_them(tiny_clip_config, tmp_path):
    with pytest.raises(ModelLoadError) as info:
        create_encoder("clip", model_name="ViT-B-32", pretrained="laion2b_s34b_b79k",
                       weights_cache_dir=tmp_path)
    message = str(info.value)
    assert "laion2b_s34b_b79k" in message and "huggingface.co/laion/CLIP-ViT-B-32-laion2B-s34B-b79K" in message
    with pytest.raises(ModelLoadError, match="its tags: .*openai"):
        create_encoder("clip", model_name="ViT-B-32", pretrained="no-such-tag")
    with pytest.raises(ModelLoadError, match="no-such-org/no-such-repo"):
        create_encoder("clip", model_name="hf-hub:no-such-org/no-such-repo", weights_cache_dir=tmp_path)


def test_clip_configuration_errors(tiny_clip_config):
    with pytest.raises(ConfigError, match="needs pretrained="):
        create_encoder("clip", model_name="tiny-test-clip", model_config=tiny_clip_config)
    with pytest.raises(ConfigError, match="unknown open_clip model 'ViT-Q-99'"):
        create_encoder("clip", model_name="ViT-Q-99", pretrained="x.pt")
    with pytest.raises(ConfigError, match="random_init=True needs pretrained=None"):
        create_encoder("clip", model_name="tiny-test-clip", pretrained="x.pt", random_init=True)


def test_available_visual_semantics_says_plainly(tmp_path):
    ok, message = available_visual_semantics(None)
    assert not ok and message.startswith("visual semantics off")
    ok, message = available_visual_semantics(tmp_path / "clip.pt")
    assert not ok and f"no CLIP weights found at {tmp_path / 'clip.pt'}" in message
    if importlib.util.find_spec("open_clip") is not None:
        (tmp_path / "clip.pt").write_bytes(b"weights")
        ok, message = available_visual_semantics(tmp_path / "clip.pt")
        assert ok and message.startswith("visual semantics on")


def test_embedding_cache_round_trip_and_damaged_entry(tmp_path):
    cache = EmbeddingCache(tmp_path, encoder_name="open_clip:m:tag/x")
    key = image_key(np.zeros((4, 4, 3), np.uint8))
    assert key != image_key(np.zeros((2, 8, 3), np.uint8))  # same bytes, other shape
    assert cache.get(key) is None
    cache.put(key, np.ones(3))
    np.testing.assert_array_equal(cache.get(key), np.ones(3, np.float32))
    (cache.folder / f"{key}.npy").write_bytes(b"garbage")
    assert cache.get(key) is None


# ---- descriptor (feel) encoder -------------------------------------------------------------------------------

def _footage(*, shot_s: float, n_shots: int, motion: float, contrast: float, colourfulness: float,
             brightness: float, warmth: float, saturation: float) -> Footage:
    desc = ShotDescriptors(motion_energy=motion, brightness=brightness, saturation=saturation, warmth=warmth,
                           contrast=contrast, colourfulness=colourfulness, face_count=0, length_s=shot_s)
    shots = tuple(Shot(index=i, start_s=i * shot_s, end_s=(i + 1) * shot_s, keyframe_times_s=(i * shot_s,),
                       descriptors=desc) for i in range(n_shots))
    return Footage(path="stub.mp4", kind="video", duration_s=n_shots * shot_s, fps=30.0, width=1080, height=1920,
                   rotation=0, has_audio=False, shots=shots)


def _music(*, bpm: float | None, loudness_db: float, onsets_per_s: float, arousal: float, valence: float,
           brightness: float) -> MusicAnalysis:
    beats = tuple(np.arange(0.0, 30.0, 60.0 / bpm).round(4)) if bpm else ()
    return MusicAnalysis(sha256="0" * 64, duration_s=30.0, tempo_bpm=bpm, beats_s=beats, downbeats_s=beats[::4],
                         beats_per_bar=4, onset_density_per_s=onsets_per_s, energy=(0.1,) * 10, energy_hop_s=3.0,
                         loudness_db=loudness_db, centroid_hz=2000.0, brightness=brightness, key="C",
                         mode="major", key_confidence=0.5, arousal=arousal, valence=valence)


FAST_CUTS = dict(shot_s=0.5, n_shots=12, motion=0.1, contrast=0.25, colourfulness=80.0, brightness=0.6,
                 warmth=0.1, saturation=0.6)
SLOW_TAKE = dict(shot_s=8.0, n_shots=2, motion=0.004, contrast=0.08, colourfulness=15.0, brightness=0.35,
                 warmth=-0.05, saturation=0.2)
HYPE_170 = dict(bpm=170.0, loudness_db=-8.0, onsets_per_s=6.0, arousal=0.85, valence=0.7, brightness=0.6)
CALM_70 = dict(bpm=70.0, loudness_db=-25.0, onsets_per_s=1.0, arousal=0.2, valence=0.4, brightness=0.3)


def test_feel_vectors_are_in_range_and_named():
    enc = DescriptorEncoder()
    assert enc.dim == len(FEEL_DIMS) == 5 and isinstance(enc, Encoder)
    for vec in (enc.encode_footage(_footage(**FAST_CUTS)), enc.encode_music(_music(**CALM_70)),
                music_feel(_music(**{**CALM_70, "bpm": None}))):
        assert vec.shape == (5,) and vec.dtype == np.float32 and np.all((vec >= 0) & (vec <= 1))


def test_fast_cut_footage_prefers_fast_energetic_music():
    hype, calm = music_feel(_music(**HYPE_170)), music_feel(_music(**CALM_70))
    fast = footage_feel(_footage(**FAST_CUTS))
    to_hype, to_calm = feel_similarity(fast, np.stack([hype, calm]))
    assert to_hype > to_calm + 0.3
    slow_to_hype, slow_to_calm = feel_similarity(footage_feel(_footage(**SLOW_TAKE)), np.stack([hype, calm]))
    assert slow_to_calm > slow_to_hype + 0.3


def test_a_single_short_shot_is_not_a_fast_edit():
    still = footage_feel(_footage(**{**SLOW_TAKE, "shot_s": 1.0, "n_shots": 1, "motion": 0.0}))
    assert still[FEEL_DIMS.index("pace")] == 0.0


def test_feel_weights_and_shape_errors():
    assert feel_weights({"pace": 1.0}).tolist() == [1.0, 0, 0, 0, 0]
    with pytest.raises(ConfigError, match="unknown axes"):
        feel_weights({"tempo": 1.0})
    with pytest.raises(ConfigError, match="not all 0"):
        feel_weights({"pace": 0.0})
    with pytest.raises(ConfigError, match="5 values"):
        feel_similarity(np.zeros(4), np.zeros((2, 5)))
    with pytest.raises(ConfigError, match="does not encode text"):
        DescriptorEncoder().encode_texts(["calm"])
    with pytest.raises(ConfigError, match="analyze_footage"):
        DescriptorEncoder().encode_images([np.zeros((8, 8, 3), np.uint8)])
