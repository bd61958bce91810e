import csv
import subprocess
import sys

import pytest

from titlegen.cli import main


def test_generate_cli_writes_titles(tiny_t5_dir, tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("brief,style\nA bike ride at dawn,question\n,news\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    code = main(["generate", "--input", str(src), "--output", str(out), "--model", tiny_t5_dir,
                 "--num-titles", "2", "--quiet", "--platform", "xiaohongshu"])
    assert code == 0
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    assert [r["status"] for r in rows] == ["ok", "error"]
    assert 0 < len(rows[0]["title_1"]) <= 20
    assert '"failed": 1' in capsys.readouterr().out


def test_generate_cli_restraint_is_checked(tiny_t5_dir, tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("brief\nA bike ride at dawn\n", encoding="utf-8")
    args = ["generate", "--input", str(src), "--model", tiny_t5_dir, "--num-titles", "2", "--quiet"]
    assert main(args + ["--output", str(tmp_path / "ok.csv"), "--restraint", "0.5"]) == 0
    code = main(args + ["--output", str(tmp_path / "bad.csv"), "--restraint", "-1"])
    err = capsys.readouterr().err
    assert code == 2 and "restraint must be a number >= 0" in err and not (tmp_path / "bad.csv").exists()
    assert main(args + ["--output", str(tmp_path / "ok2.csv"), "--relevance-weight", "1"]) == 0
    code = main(args + ["--output", str(tmp_path / "bad2.csv"), "--relevance-weight", "-1"])
    err = capsys.readouterr().err
    assert code == 2 and "relevance_weight must be a number >= 0" in err and not (tmp_path / "bad2.csv").exists()


def test_cli_errors_are_one_line_not_a_traceback(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("text\nhello\n", encoding="utf-8")
    code = main(["generate", "--input", str(src), "--output", str(tmp_path / "o.csv"), "--model",
                 str(tmp_path / "missing-model"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "Traceback" not in err


def test_styles_and_help_run_as_modules():
    out = subprocess.run([sys.executable, "-m", "titlegen", "styles"], capture_output=True, text=True, check=True)
    assert "selling-point" in out.stdout and "xiaohongshu" in out.stdout
    for module in ("titlegen", "titlegen.train_default", "titlegen.rouge_eval"):
        helped = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True)
        assert helped.returncode == 0 and "usage" in helped.stdout


class _RecordingGenerator:
    """Stands in for ``load_generator``'s result: Chinese titles for Chinese briefs (no click-through, one dropped
    over the limit), English ones with a predicted click-through; records what it was asked."""

    restraint = relevance_weight = 0.0

    def __init__(self) -> None:
        self.requests = []

    def __call__(self, requests, *, num_titles=5, **_):
        from titlegen.candidates import TitleList
        from titlegen.generator import TitleCandidate
        from titlegen.language import resolve_language

        self.requests += list(requests)
        out = []
        for req in requests:
            language = resolve_language(req.controls.language, req.brief)
            if language == "zh":
                cands = [TitleCandidate("通勤党的四十小时降噪耳机", "beam", -0.8),
                         TitleCandidate("地铁里终于安静了", "sample", -1.1)]
                out.append(TitleList(cands[:num_titles], dropped={"over the limit": 2, "unsupported number": 1},
                                     language="zh", ranking="ranked by the model's score and grounding in the brief: "
                                     "the click model reads en only, so no click-through is predicted"))
            else:
                cands = [TitleCandidate("A Linen Tote That Fits Your Laptop", "beam", -0.9, 0.0412)]
                out.append(TitleList(cands, language="en", ranking="ranked by predicted click-through"))
        return out


@pytest.fixture
def fake_loader(monkeypatch):
    import titlegen.loading

    calls = []
    generator = _RecordingGenerator()

    def load(base="default", **kwargs):
        calls.append({"base": base, **kwargs})
        return generator

    monkeypatch.setattr(titlegen.loading, "load_generator", load)
    return calls, generator


def test_demo_prints_language_titles_and_what_was_dropped(fake_loader, capsys):
    calls, generator = fake_loader
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert calls == [{"base": "default", "adapter": None, "click_model": "default", "precision": None}]
    briefs = [r.brief for r in generator.requests]
    assert any("降噪耳机" in b for b in briefs) and any("tote" in b for b in briefs)  # bundled: Chinese and English
    assert sum(r.controls.platform == "xiaohongshu" for r in generator.requests if "，" in r.brief) >= 2
    block = out[out.index("这款降噪耳机"):]
    block = block[:block.index("\n\n")] if "\n\n" in block else block
    assert "Chinese (from the brief)" in block and "xiaohongshu <= 20 chars" in block
    assert "1. beam    logp  -0.80  通勤党的四十小时降噪耳机" in block and "ctr" not in block
    assert "dropped 3 (2 over the limit, 1 unsupported number)" in block and "no click-through" in block
    english = out[out.index("Handmade linen tote"):]
    english = english[:english.index("\n\n")]
    assert "English (from the brief)" in english and "ctr  4.12%" in english and "nothing dropped" in english


def test_demo_and_generate_pass_language_and_precision(fake_loader, tmp_path, capsys):
    calls, generator = fake_loader
    assert main(["demo", "--language", "en", "--precision", "bf16", "--model", "qwen2.5-0.5b",
                 "--no-click-model"]) == 0
    assert calls[-1] == {"base": "qwen2.5-0.5b", "adapter": None, "click_model": None, "precision": "bf16"}
    assert {r.controls.language for r in generator.requests} == {"en"}
    assert "English (asked)" in capsys.readouterr().out
    src = tmp_path / "in.csv"
    src.write_text("id,brief,language\nzh,这款降噪耳机续航四十小时,\nen,这款降噪耳机续航四十小时,en\n"
                   "tote,A linen tote bag,\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    assert main(["generate", "--input", str(src), "--output", str(out), "--quiet", "--precision", "int8",
                 "--language", "zh"]) == 0
    assert calls[-1]["base"] == "default" and calls[-1]["precision"] == "int8"
    rows = {r["id"]: r for r in csv.DictReader(open(out, encoding="utf-8"))}
    assert rows["zh"]["language"] == "zh" and rows["tote"]["language"] == "zh"  # --language is the default
    assert rows["en"]["language"] == "en"  # a row's own language wins
    assert rows["zh"]["dropped"] == "2 over the limit; 1 unsupported number"
    assert "no click-through is predicted" in rows["zh"]["ranking"] and rows["zh"]["predicted_ctr_1"] == ""
    assert rows["en"]["dropped"] == "none" and rows["en"]["predicted_ctr_1"] == "0.0412"


@pytest.mark.parametrize("command", ["generate", "demo"])
@pytest.mark.parametrize("flag,value", [("--language", "fr"), ("--language", "中文"), ("--precision", "fp16"),
                                        ("--precision", "INT8")])
def test_unknown_language_or_precision_is_a_usage_error(fake_loader, tmp_path, capsys, command, flag, value):
    calls, _ = fake_loader
    src = tmp_path / "in.csv"
    src.write_text("brief\nA bike ride at dawn\n", encoding="utf-8")
    args = [command, "--input", str(src), flag, value]
    args += ["--output", str(tmp_path / "o.csv")] if command == "generate" else []
    with pytest.raises(SystemExit) as exc:
        main(args)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and f"invalid choice: '{value}'" in err and flag in err
    assert not calls and not (tmp_path / "o.csv").exists()


def test_a_row_with_an_unknown_language_is_a_row_error(fake_loader, tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("id,brief,language\nfr,Une balade à vélo,fr\nok,A bike ride at dawn,\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    assert main(["generate", "--input", str(src), "--output", str(out), "--quiet"]) == 0
    rows = {r["id"]: r for r in csv.DictReader(open(out, encoding="utf-8"))}
    assert rows["fr"]["status"] == "error" and "language 'fr'" in rows["fr"]["error"]
    assert rows["fr"]["language"] == rows["fr"]["dropped"] == "" and rows["ok"]["status"] == "ok"


def test_demo_runs_a_real_seq2seq_generator_on_the_bundled_briefs(tiny_t5_dir, capsys):
    """The demo path end to end with a tiny random model: every bundled brief, English and Chinese, gets titles,
    its language and the summary line."""
    assert main(["demo", "--model", tiny_t5_dir, "--no-click-model", "--num-titles", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("(from the brief)") == 10 and out.count("Chinese (from the brief)") == 4
    assert out.count("ranked by the model's score") == 10 and " 1. " in out and "ctr" not in out


def test_demo_and_generate_with_a_tiny_causal_model(tiny_causal_dir, tmp_path, capsys):
    """The decoder-only path end to end: the checks' report reaches the demo's summary line and the batch columns
    (a tiny random model writes gibberish, so most candidates are dropped and the lead is the fallback)."""
    assert main(["demo", "--model", tiny_causal_dir, "--num-titles", "2", "--precision", "fp32",
                 "--no-click-model"]) == 0
    out = capsys.readouterr().out
    assert out.count("Chinese (from the brief)") == 4 and out.count("English (from the brief)") == 6
    assert out.count("ranked by the model's score") == 10 and "ctr" not in out
    src = tmp_path / "in.csv"
    src.write_text("id,brief,platform\nzh,这款降噪耳机续航四十小时，通勤路上安静又舒服。,xiaohongshu\n", encoding="utf-8")
    out_csv = tmp_path / "out.csv"
    assert main(["generate", "--input", str(src), "--output", str(out_csv), "--model", tiny_causal_dir,
                 "--num-titles", "2", "--quiet", "--precision", "bf16"]) == 0
    (row,) = csv.DictReader(open(out_csv, encoding="utf-8"))
    assert row["status"] == "ok" and row["language"] == "zh" and row["dropped"] and row["ranking"]
    # the shipped click model scores Chinese but does not rank it (its head is close to a length rule)
    assert not row["predicted_ctr_1"] and row["title_1"]
    assert row["ranking"].startswith("ranked by the model's score")
