import csv
import json

import pytest

from titlegen import InputFileError, TitleGenerator
from titlegen.batch import read_briefs, run_batch
from titlegen.model import load_base


@pytest.fixture(scope="module")
def generator(tiny_t5_dir):
    model, tok = load_base(tiny_t5_dir)
    return TitleGenerator(model, tok, max_title_tokens=6)


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_one_bad_row_does_not_stop_the_others(generator, tmp_path):
    src = tmp_path / "briefs.csv"
    src.write_text("id,brief,style,platform\n"
                   "a,A linen tote for laptops,selling-point,xiaohongshu\n"
                   "b,   ,news,generic\n"
                   "c,Morning coffee routine,poetry,generic\n"
                   "d,\"Chinese 新款运动鞋 and emoji 🔥\",question,douyin\n", encoding="utf-8")
    out = tmp_path / "titles.csv"
    summary = run_batch(generator, src, out, num_titles=2, batch_size=2)
    rows = {r["id"]: r for r in _rows(out)}
    assert [r["id"] for r in _rows(out)] == ["a", "b", "c", "d"]
    assert rows["a"]["status"] == "ok" and 0 < len(rows["a"]["title_1"]) <= 20
    assert rows["b"]["status"] == "error" and "empty" in rows["b"]["error"]
    assert rows["c"]["status"] == "error" and "unknown style" in rows["c"]["error"]
    assert rows["d"]["status"] == "ok"
    assert summary.failed == 2 and summary.total == 4
    assert not (tmp_path / "titles.csv.partial").exists()


def test_resume_skips_rows_already_done(generator, tmp_path):
    src = tmp_path / "briefs.jsonl"
    src.write_text("\n".join(json.dumps({"id": str(i), "brief": f"brief number {i} about bikes"})
                             for i in range(4)) + "\n", encoding="utf-8")
    out = tmp_path / "titles.csv"
    done = {"id": "1", "status": "ok", "error": "", "title_1": "KEPT FROM BEFORE", "source_1": "beam",
            "logprob_1": -1.0, "predicted_ctr_1": ""}
    (tmp_path / "titles.csv.partial").write_text(json.dumps(done) + "\n" + '{"id": "2", "trunc', encoding="utf-8")
    summary = run_batch(generator, src, out, num_titles=1)
    rows = _rows(out)
    assert summary.resumed == 1 and summary.generated == 3
    assert [r["id"] for r in rows] == ["0", "1", "2", "3"]
    assert rows[1]["title_1"] == "KEPT FROM BEFORE"
    assert all(r["status"] == "ok" for r in rows)
    # The resumed row came from an older partial file without the report columns: kept, with them empty.
    assert (rows[1]["language"], rows[1]["dropped"], rows[1]["ranking"]) == ("", "", "")
    assert all(r["language"] == "en" and r["dropped"] and r["ranking"] for r in rows if r["id"] != "1")


def test_undecodable_bytes_are_a_typed_error(tmp_path):
    bad = tmp_path / "latin.csv"
    bad.write_bytes("brief\ncaf\xe9 au lait\n".encode("latin-1"))
    with pytest.raises(InputFileError, match="UTF-8"):
        read_briefs(bad)


def test_missing_column_lists_the_columns_found(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("text,lang\nhello,en\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="columns found: text, lang"):
        read_briefs(f)


@pytest.mark.parametrize("name,body,match", [("x.txt", "brief\nhi\n", "must be .csv, .jsonl or .parquet"),
                                            ("x.jsonl", "{not json\n", "cannot parse")])
def test_bad_formats(tmp_path, name, body, match):
    f = tmp_path / name
    f.write_text(body, encoding="utf-8")
    with pytest.raises(InputFileError, match=match):
        read_briefs(f)


def test_missing_input_writes_nothing(generator, tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        run_batch(generator, tmp_path / "nope.csv", tmp_path / "out.csv")
    assert not list(tmp_path.iterdir())


class _CheckedGenerator:
    """Returns :class:`~titlegen.candidates.TitleList` results as the causal path does: Chinese titles without a
    predicted click-through for Chinese briefs, and what the checks dropped."""

    def __call__(self, requests, *, num_titles=5, **_):
        from titlegen.candidates import TitleList
        from titlegen.generator import TitleCandidate
        from titlegen.language import resolve_language

        out = []
        for req in requests:
            if resolve_language(req.controls.language, req.brief) == "zh":
                out.append(TitleList([TitleCandidate("四十小时续航的降噪耳机", "beam", -0.7)],
                                     dropped={"unsupported number": 1, "over the limit": 2}, language="zh",
                                     ranking="ranked by the model's score and grounding in the brief: the click "
                                             "model reads en only, so no click-through is predicted"))
            else:
                out.append(TitleList([TitleCandidate("Quiet Commutes", "beam", -0.9, 0.031)], language="en",
                                     ranking="ranked by predicted click-through"))
        return out


def test_each_row_says_its_language_what_was_dropped_and_how_it_was_ranked(tmp_path):
    src = tmp_path / "briefs.csv"
    src.write_text("id,brief,platform,language\n"
                   "zh,这款降噪耳机续航四十小时，地铁上几乎听不到报站声,xiaohongshu,\n"
                   "en,Noise-cancelling earbuds with 40 hours of battery,generic,\n"
                   "asked,这款降噪耳机续航四十小时,generic,en\n"
                   "bad,这款降噪耳机,generic,jp\n", encoding="utf-8")
    out = tmp_path / "titles.csv"
    summary = run_batch(_CheckedGenerator(), src, out, num_titles=2)
    rows = {r["id"]: r for r in _rows(out)}
    assert list(_rows(out)[0])[:6] == ["id", "status", "error", "language", "dropped", "ranking"]
    assert rows["zh"]["language"] == "zh" and rows["zh"]["title_1"] == "四十小时续航的降噪耳机"
    assert rows["zh"]["dropped"] == "2 over the limit; 1 unsupported number"
    assert "no click-through is predicted" in rows["zh"]["ranking"] and rows["zh"]["predicted_ctr_1"] == ""
    assert (rows["en"]["language"], rows["en"]["dropped"], rows["en"]["predicted_ctr_1"]) == ("en", "none", "0.031")
    assert rows["asked"]["language"] == "en"  # the row's language control wins over the brief's
    assert rows["bad"]["status"] == "error" and "'jp'" in rows["bad"]["error"] and rows["bad"]["dropped"] == ""
    assert summary.failed == 1


def test_chinese_rows_survive_an_interrupted_run_and_resume(tmp_path):
    class Interrupted(_CheckedGenerator):
        calls = 0

        def __call__(self, requests, **kwargs):
            Interrupted.calls += 1
            if Interrupted.calls == 2:
                raise KeyboardInterrupt
            return super().__call__(requests, **kwargs)

    src = tmp_path / "briefs.jsonl"
    src.write_text("\n".join(json.dumps({"id": str(i), "brief": f"第{i}款降噪耳机，通勤路上用"}, ensure_ascii=False)
                             for i in range(4)) + "\n", encoding="utf-8")
    out = tmp_path / "titles.csv"
    with pytest.raises(KeyboardInterrupt):
        run_batch(Interrupted(), src, out, num_titles=1, batch_size=2)
    written = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "titles.csv.shards").glob("part-*.jsonl"))
    assert "四十小时续航的降噪耳机" in written and '"language": "zh"' in written  # UTF-8, not \\u escapes
    assert not (tmp_path / "titles.csv.lock").exists()  # the interrupted run let go of the output
    summary = run_batch(_CheckedGenerator(), src, out, num_titles=1, batch_size=2)
    rows = _rows(out)
    assert (summary.resumed, summary.generated) == (2, 2)
    assert [r["title_1"] for r in rows] == ["四十小时续航的降噪耳机"] * 4
    assert {r["dropped"] for r in rows} == {"2 over the limit; 1 unsupported number"}
