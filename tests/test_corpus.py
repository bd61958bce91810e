import pandas as pd
import pytest

from titlegen.corpus import clean_text, in_validation, load_pairs, source_text, split_pairs
from titlegen.rouge_eval import RougeEvaluator, creator_request

from .conftest import SHARED_DATA


def _frame(n=400):
    return pd.DataFrame({"dataset": "huffpost", "group": [f"g{i // 2}" for i in range(n)],
                         "source": [f"source text number {i} with words" for i in range(n)],
                         "title": [f"Title {i % 150}" for i in range(n)], "style": "news", "audience": "",
                         "points": ""})


def test_split_is_by_group_and_drops_leaked_titles():
    train, val = split_pairs(_frame(), val_fraction=0.2)
    assert len(val) > 0 and len(train) > 0
    assert not set(train["group"]) & set(val["group"])
    assert not set(train["title"].str.lower()) & set(val["title"].str.lower())


def test_split_is_deterministic():
    assert in_validation("abc", val_fraction=0.3) == in_validation("abc", val_fraction=0.3)
    a, _ = split_pairs(_frame())
    b, _ = split_pairs(_frame())
    assert a.equals(b)


def test_clean_text_strips_html_urls_and_escapes():
    assert clean_text("<p>Hi &amp; bye https://x.y/z\\nnext</p>") == "Hi & bye next"
    assert clean_text(float("nan")) == ""


def test_source_text_carries_the_labels():
    row = pd.Series({"source": "A red dress", "title": "Red Dress", "style": "selling-point", "audience": "women",
                     "points": "Acme; red"})
    assert source_text(row) == ("style: selling-point | audience: women | points: Acme; red | length: short | "
                                "lang: en | brief: A red dress")


def test_creator_request_does_not_leak_title_words_as_points():
    row = pd.Series({"source": "story", "title": "secret words", "dataset": "huffpost", "audience": "parents",
                     "points": "secret; words"})
    assert creator_request(row).controls.selling_points == ()


def test_rouge_evaluator_on_known_answers():
    pairs = pd.DataFrame({"dataset": ["a", "b"], "title": ["the cat sat", "dogs run fast"], "source": ["x", "y"]})
    ev = RougeEvaluator(pairs)
    perfect = ev.score(["the cat sat", "dogs run fast"])
    assert perfect["rouge1"] == 1.0 and perfect["rougeL"] == 1.0
    half = ev.score(["the cat sat", "nothing alike here"])
    assert half["rouge1"] == 0.5 and half["by_dataset"]["b"]["rouge1"] == 0.0


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="needs ../shared/data")
def test_real_pairs_split_without_leaks():
    train, val = split_pairs(load_pairs(SHARED_DATA))
    assert len(train) > 30_000 and len(val) > 1_000
    assert not set(train["group"]) & set(val["group"])
    assert not set(train["title"].str.lower()) & set(val["title"].str.lower())
    assert set(val["dataset"]) == {"upworthy", "huffpost", "mind", "youtube", "myntra"}
