"""Title quality evaluation: ROUGE per language, the rates, checkpoints, and the two CLI commands end to end."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from titlegen.errors import ConfigError, InputFileError
from titlegen.evaluate.__main__ import main
from titlegen.evaluate.creator_briefs import read_briefs
from titlegen.evaluate.title_quality import (
    SystemFailed,
    TitleQualityEvaluator,
    generate_rows,
    lead_titles,
    load_validation,
    parse_systems,
    read_checkpoint,
    request_for,
)
from titlegen.generator import TitleCandidate
from titlegen.language import detect_language
from titlegen.rouge_eval import lcs_length, rouge_f1, rouge_tokens

REPO = Path(__file__).resolve().parents[1]
BRIEFS = REPO / "docs" / "titlegen" / "creator_briefs.csv"


def _row(brief, title, *, language, max_chars=20, dataset="d", points="", style="news", audience=""):
    return {"brief": brief, "title": title, "group": brief[:10], "style": style, "audience": audience,
            "selling_points": points, "max_chars": max_chars, "language": language, "dataset": dataset}


ZH_ROWS = [
    _row("这款降噪耳机续航四十小时，通勤地铁上完全听不到噪音，适合上班族。", "降噪耳机续航四十小时", language="zh",
         dataset="kobe", points="降噪;长续航", style="selling-point"),
    _row("周末去杭州龙井村喝茶，山里的茶园特别安静，人均六十块。", "杭州龙井村喝茶攻略", language="zh",
         dataset="kuairec", style="lifestyle"),
    _row("小户型客厅改造，只换了窗帘和灯，花了八百块，氛围完全不一样了。", "八百块改造小客厅", language="zh",
         dataset="lcsts", max_chars=30),
]
EN_ROWS = [
    _row("Handmade linen tote that fits a 15-inch laptop, with an inner pocket for keys.",
         "Linen Tote That Fits A 15-Inch Laptop", language="en", max_chars=55, dataset="myntra",
         points="linen; fits a laptop", style="selling-point"),
    _row("We baked sourdough every day for a month. Here is what went wrong.", "A Month Of Daily Sourdough",
         language="en", max_chars=100, dataset="upworthy", style="lifestyle", audience="beginner bakers"),
    _row("Unboxing noise-cancelling headphones with 40 hours of battery.", "These Headphones Last 40 Hours",
         language="en", max_chars=55, dataset="youtube"),
]


@pytest.fixture()
def val_dir(tmp_path) -> Path:
    folder = tmp_path / "val"
    folder.mkdir()
    for lang, rows in (("zh", ZH_ROWS), ("en", EN_ROWS)):
        pd.DataFrame(rows).to_json(folder / f"val_{lang}.jsonl", orient="records", lines=True, force_ascii=False)
    return folder


# --- ROUGE ---------------------------------------------------------------------------------------------------


def test_chinese_tokens_are_characters_without_spaces_punctuation_or_emoji():
    assert rouge_tokens("两件套🔥，好看！ ", "zh") == list("两件套好看")
    assert rouge_tokens("iPhone 15 测评", "zh") == list("iphone15测评")
    assert rouge_tokens("２０２４年", "zh") == list("2024年")  # full-width digits are the same digits


def test_english_tokens_are_lowercased_words():
    assert rouge_tokens("Don't Stop—Believing! 40-Hour", "en") == ["don", "t", "stop", "believing", "40", "hour"]


def test_chinese_rouge_on_a_known_answer():
    # reference 10 characters, prediction 8, all 8 in the reference but in another order
    s = rouge_f1("降噪耳机续航四十小时", "四十小时续航耳机", language="zh")
    assert s["rouge1"] == pytest.approx(2 * 1.0 * 0.8 / 1.8)
    assert s["rouge2"] == pytest.approx(0.625)  # 5 of 7 predicted bigrams, 5 of 9 reference ones
    assert s["rougeL"] == pytest.approx(2 * 0.5 * 0.4 / 0.9)  # LCS 四十小时 = 4
    assert rouge_f1("降噪耳机", "降噪耳机", language="zh") == {"rouge1": 1.0, "rouge2": 1.0, "rougeL": 1.0}
    assert rouge_f1("降噪耳机", "Noise cancelling", language="zh")["rouge1"] == 0.0


def test_chinese_rouge_is_not_zero_as_with_an_ascii_tokenizer():
    # rouge_score's default tokenizer drops every Han character; ours must not.
    assert rouge_f1("杭州龙井村喝茶攻略", "杭州喝茶", language="zh")["rouge1"] > 0.5


def test_english_rouge_matches_rouge_score_without_stemmer():
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)
    pairs = [("The cat sat on the mat", "the cat lay on a mat"),
             ("Linen Tote That Fits A 15-Inch Laptop", "Handmade linen tote fits your laptop"),
             ("A A A b", "a a c"), ("Nothing alike", "totally different words"), ("x y z", "")]
    for ref, pred in pairs:
        ours = rouge_f1(ref, pred, language="en")
        theirs = scorer.score(ref, pred)
        for key in ("rouge1", "rouge2", "rougeL"):
            assert ours[key] == pytest.approx(theirs[key].fmeasure), (ref, pred, key)


def test_lcs_length():
    assert lcs_length(list("ABCBDAB"), list("BDCABA")) == 4
    assert lcs_length([], list("abc")) == 0


# --- the rates -----------------------------------------------------------------------------------------------


def test_rates_on_known_answers():
    pairs = pd.DataFrame([{**r, "row": i} for i, r in enumerate(ZH_ROWS)])
    titles = ["降噪耳机续航四十小时",           # perfect
              "龙井村喝茶人均八十块",           # 80 is not in the brief: unsupported number
              "Living room makeover on a budget that is far too long for this"]  # English and over the limit
    m = TitleQualityEvaluator(pairs)(titles, sources=["beam", "sample", "lead"])
    assert m["n"] == 3 and m["failed"] == 0
    assert m["unsupported_number_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["language_match_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["within_limit_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["lead_fallback_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["rougeL_by_dataset"]["kobe"] == 1.0 and m["rougeL_by_dataset"]["lcsts"] == 0.0
    assert m["mean_display_length"] == pytest.approx((10 + 10 + 62) / 3, abs=0.1)


def test_a_failed_row_scores_zero_and_is_left_out_of_the_rates():
    pairs = pd.DataFrame([{**r, "row": i} for i, r in enumerate(EN_ROWS[:2])])
    m = TitleQualityEvaluator(pairs)(["Linen Tote That Fits A 15-Inch Laptop", ""])
    assert m["failed"] == 1 and m["rouge1"] == pytest.approx(0.5)
    assert m["within_limit_rate"] == 1.0 and m["language_match_rate"] == 1.0


def test_human_rates():
    pairs = pd.DataFrame([{**r, "row": i} for i, r in enumerate(EN_ROWS)])
    h = TitleQualityEvaluator(pairs).human()
    assert h["n"] == 3 and h["language_match_rate"] == 1.0 and h["unsupported_number_rate"] == 0.0


# --- inputs, systems, lead -----------------------------------------------------------------------------------


def test_load_validation_and_requests(val_dir, tmp_path):
    zh = load_validation(val_dir, "zh")
    assert list(zh["row"]) == [0, 1, 2]
    req = request_for(zh.iloc[0])
    assert req.controls.selling_points == ("降噪", "长续航") and req.controls.limit == 20
    assert req.controls.language == "zh" and req.controls.style == "selling-point"
    assert len(load_validation(val_dir, "en", limit=2)) == 2
    with pytest.raises(InputFileError, match="train_default prepare"):
        load_validation(tmp_path, "zh")


def test_parse_systems():
    specs = parse_systems("lead,default,mine=some/base+some/adapter")
    assert [(s.name, s.base, s.adapter) for s in specs] == [
        ("lead", None, None), ("default", "default", None), ("mine", "some/base", "some/adapter")]
    for bad in ("lead,lead", "nope", "bad name=x", ""):
        with pytest.raises(ConfigError):
            parse_systems(bad)


def test_lead_titles_fit_the_limit():
    pairs = load_validation_frame(ZH_ROWS + EN_ROWS)
    results = lead_titles([request_for(r) for _, r in pairs.iterrows()])
    for (_, row), res in zip(pairs.iterrows(), results):
        assert res[0].source == "lead" and 0 < len(res[0].text) <= row["max_chars"]
    assert results[0][0].text == "这款降噪耳机续航四十小时"


def load_validation_frame(rows):
    return pd.DataFrame([{**r, "row": i} for i, r in enumerate(rows)])


# --- checkpoints ---------------------------------------------------------------------------------------------


def test_generations_are_checkpointed_and_reused(tmp_path):
    pairs = load_validation_frame(ZH_ROWS)
    path = tmp_path / "gen.csv"
    calls = []

    def generate(requests, seed):
        calls.append(len(requests))
        return [[TitleCandidate(r.brief[:5], "beam", -1.0)] for r in requests]

    first = generate_rows(generate, pairs, path, batch_size=2, progress=False)
    assert calls == [2, 1] and list(first["title"]) == [r["brief"][:5] for r in ZH_ROWS]
    again = generate_rows(generate, pairs, path, batch_size=2, progress=False)
    assert calls == [2, 1] and list(again["title"]) == list(first["title"])
    changed = pairs.copy()
    changed.loc[1, "brief"] = "周末去苏州园林走走，人不多。"
    assert set(read_checkpoint(path, changed)) == {0, 2}  # a changed row is generated again
    generate_rows(generate, changed, path, batch_size=2, progress=False)
    assert calls == [2, 1, 1]


def test_a_failing_row_is_recorded_and_a_failing_system_raises(tmp_path):
    pairs = load_validation_frame(EN_ROWS)

    def picky(requests, seed):
        if any("sourdough" in r.brief for r in requests):
            raise ValueError("cannot write about bread")
        return [[TitleCandidate("A title", "beam", -1.0)] for r in requests]

    out = generate_rows(picky, pairs, tmp_path / "a.csv", batch_size=3, progress=False)
    assert list(out["title"]) == ["A title", "", "A title"]
    assert "cannot write about bread" in out.loc[1, "error"]

    def broken(requests, seed):
        raise RuntimeError("weights are gone")

    with pytest.raises(SystemFailed, match="weights are gone"):
        generate_rows(broken, pairs, tmp_path / "b.csv", batch_size=3, progress=False)


def test_a_line_cut_short_is_skipped(tmp_path):
    pairs = load_validation_frame(EN_ROWS)
    path = tmp_path / "gen.csv"
    generate_rows(lambda reqs, seed: [[TitleCandidate("T", "beam", -1.0)] for _ in reqs], pairs, path,
                  batch_size=3, progress=False)
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.rfind("\n", 0, len(text) - 1) + 5], encoding="utf-8")  # last line truncated
    assert len(read_checkpoint(path, pairs)) == 2


# --- end to end ----------------------------------------------------------------------------------------------


def _run_titles(val_dir, out, systems, capsys):
    code = main(["titles", "--val-dir", str(val_dir), "--out", str(out), "--systems", systems,
                 "--num-beams", "2", "--num-samples", "1", "--batch-size", "2"])
    assert code == 0
    return capsys.readouterr()


def _check_outputs(out: Path, names: list[str]) -> dict:
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "python -m titlegen.evaluate titles" in metrics["command"] and metrics["command"] in report
    for lang in ("zh", "en"):
        section = metrics["languages"][lang]
        assert section["pairs"] == 3 and list(section["systems"]) == names
    assert "## Chinese (zh): 3 pairs" in report and "## English (en): 3 pairs" in report
    assert "### 3 samples" in report and "ROUGE-L by data set" in report
    samples = pd.read_csv(out / "samples.csv")
    assert len(samples) == 6 and {"brief", "human", "lead"} <= set(samples.columns)
    return metrics


def test_titles_cli_end_to_end_with_a_tiny_seq2seq_model(val_dir, tmp_path, tiny_t5_dir, capsys):
    out = tmp_path / "quality"
    systems = f"lead,tiny={tiny_t5_dir},broken={tmp_path / 'no-such-model'}"
    printed = _run_titles(val_dir, out, systems, capsys)
    metrics = _check_outputs(out, ["lead", "tiny", "broken"])
    for lang in ("zh", "en"):
        lead = metrics["languages"][lang]["systems"]["lead"]
        assert lead["within_limit_rate"] == 1.0 and lead["language_match_rate"] == 1.0 and lead["failed"] == 0
        assert 0 < lead["rougeL"] <= 1
        tiny = metrics["languages"][lang]["systems"]["tiny"]
        assert tiny["n"] == 3 and tiny["generation_seconds"] >= 0 and 0 <= tiny["rougeL"] <= 1
        assert "ModelLoadError" in metrics["languages"][lang]["systems"]["broken"]["error"]
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| broken | error: ModelLoadError" in report
    assert "[tiny zh]" in printed.err
    generated = sorted(p.name for p in (out / "generations").iterdir())
    assert any(n.startswith("zh_tiny_auto_b2s1_noctr_") for n in generated) and "en_lead.csv" in generated
    # A rerun reads every generation back: nothing is generated, nothing changes.
    printed = _run_titles(val_dir, out, systems, capsys)
    assert "[tiny" not in printed.err and "[lead" not in printed.err
    again = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert again["languages"]["en"]["systems"]["tiny"]["rougeL"] == metrics["languages"]["en"]["systems"]["tiny"][
        "rougeL"]


def test_titles_cli_end_to_end_with_a_tiny_causal_model(val_dir, tmp_path, request, capsys):
    tiny_causal_dir = _fixture_or_skip(request, "tiny_causal_dir")
    out = tmp_path / "quality"
    _run_titles(val_dir, out, f"lead,causal={tiny_causal_dir}", capsys)
    metrics = _check_outputs(out, ["lead", "causal"])
    for lang in ("zh", "en"):
        causal = metrics["languages"][lang]["systems"]["causal"]
        # the causal path checks its candidates: whatever it keeps fits and is in the row's language
        assert causal["within_limit_rate"] == 1.0 and causal["language_match_rate"] == 1.0
        assert causal["unsupported_number_rate"] == 0.0


def test_titles_cli_missing_validation_is_one_line_error(tmp_path, capsys):
    assert main(["titles", "--val-dir", str(tmp_path), "--out", str(tmp_path / "o"), "--systems", "lead"]) == 2
    assert capsys.readouterr().err.startswith("error: no validation pairs")


def test_creator_briefs_file_is_the_promised_spread():
    briefs = read_briefs(BRIEFS)
    assert briefs["id"].is_unique
    for lang in ("zh", "en"):
        mine = briefs[briefs["language"] == lang]
        assert len(mine) >= 20
        assert (mine["selling_points"] != "").sum() >= 4 and (mine["selling_points"] == "").sum() >= 4
        assert mine["platform"].nunique() >= 3 and mine["style"].nunique() >= 4
        assert all(detect_language(b) == lang for b in mine["brief"])


def _fixture_or_skip(request, name: str) -> str:
    try:
        return request.getfixturevalue(name)
    except pytest.FixtureLookupError:
        pytest.skip(f"no {name} fixture in tests/conftest.py yet")


@pytest.mark.parametrize("model_fixture", ["tiny_t5_dir", "tiny_causal_dir"])
def test_briefs_cli_end_to_end_with_a_tiny_model(tmp_path, request, model_fixture, capsys):
    model_dir = _fixture_or_skip(request, model_fixture)
    src = tmp_path / "briefs.csv"
    with src.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "language", "brief", "style", "audience", "selling_points", "platform"])
        w.writerow(["zh-1", "zh", "这款烤箱30升容量，上下管独立控温，烤鸡翅20分钟就很脆。", "selling-point", "",
                    "30升大容量;独立控温", "xiaohongshu"])
        w.writerow(["en-1", "en", "Homemade dog treats with peanut butter, oats and pumpkin.", "lifestyle",
                    "dog owners", "", "youtube"])
        w.writerow(["en-2", "en", "A brief with a style that does not exist.", "shouty", "", "", "generic"])
    out = tmp_path / "briefs.md"
    assert main(["briefs", "--briefs", str(src), "--out", str(out), "--base", model_dir,
                 "--no-click-model"]) == 0
    text = out.read_text(encoding="utf-8")
    assert "## Chinese" in text and "## English" in text and "### zh-1 · xiaohongshu (limit 20)" in text
    assert "| # | title | source | logprob | chars |" in text and "ranked by" in text
    assert "**error**: InvalidControlError: unknown style 'shouty'" in text
    assert "python -m titlegen.evaluate briefs" in text


@pytest.mark.slow
def test_titles_on_the_real_validation_pairs_with_the_default(tmp_path, capsys):
    val = REPO / ".train" / "default"
    adapter = REPO / "titlegen" / "default_adapter" / "adapter_model.safetensors"
    if not (val / "val_zh.jsonl").is_file() or not adapter.is_file():
        pytest.skip("needs .train/default (train_default prepare) and the shipped adapter")
    out = tmp_path / "quality"
    assert main(["titles", "--val-dir", str(val), "--out", str(out), "--systems", "lead,default",
                 "--limit-per-language", "4"]) == 0
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    for lang in ("zh", "en"):
        default = metrics["languages"][lang]["systems"]["default"]
        assert default["n"] == 4 and default["failed"] == 0
        assert default["within_limit_rate"] == 1.0 and default["unsupported_number_rate"] == 0.0
