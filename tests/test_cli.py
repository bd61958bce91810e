import csv
import subprocess
import sys

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
