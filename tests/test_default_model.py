"""The shipped default model: it loads offline from the repository and the MiniLM package and writes titles."""

import re

import pytest

import titlegen
from titlegen.batch import _controls_of, read_briefs
from titlegen.generator import TitleRequest
from titlegen.loading import load_generator
from titlegen.model import DEFAULT_MODEL_DIR


@pytest.fixture(scope="module")
def default_generator():
    return load_generator()


def test_weights_ship_small():
    size = (DEFAULT_MODEL_DIR / "decoder.safetensors").stat().st_size
    assert size < 25 * 2**20


def test_default_writes_readable_titles_within_limits(default_generator):
    df = read_briefs(DEFAULT_MODEL_DIR.parent / "examples" / "briefs.csv")
    requests = [TitleRequest(str(r["brief"]), _controls_of(r, titlegen.Controls())) for _, r in df.iterrows()]
    for req, cands in zip(requests, default_generator(requests, num_titles=4)):
        assert cands
        for c in cands:
            assert 0 < len(c.text) <= req.controls.limit
            assert "[UNK]" not in c.text and "##" not in c.text
            assert not re.search(r"\w ' \w|\s[,.!?]", c.text), c.text  # detokenized
        assert any(c.source != "lead" for c in cands)
