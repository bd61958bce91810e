"""Catalogues: music folders with and without sidecars, copy libraries in CSV/JSONL, template cards."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from crossmodal_match.catalog import EXAMPLE_COPY_LINES, CopyLibrary, MusicLibrary, TemplateCard, parse_tags
from crossmodal_match.errors import CatalogueError, ConfigError

sf = pytest.importorskip("soundfile")
SR = 22050


def _wav(path: Path, *, duration_s: float = 0.5, freq_hz: float = 440.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(duration_s * SR)) / SR
    sf.write(path, (0.3 * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32), SR)
    return path


def _by_id(library: MusicLibrary) -> dict:
    return {t.id: t for t in library}


# ---- music folders ---------------------------------------------------------------------------------------------

def test_folder_without_sidecars_titles_from_file_names(tmp_path):
    folder = tmp_path / "my music ♪"
    _wav(folder / "sunny_day-intro.wav")
    _wav(folder / "sub dir" / "Nachtfahrt ü.wav")
    (folder / "notes.txt").write_text("not audio", encoding="utf-8")
    (folder / "._sunny_day-intro.wav").write_bytes(b"\x00\x05")  # macOS AppleDouble junk
    lib = MusicLibrary.from_folder(folder)
    tracks = _by_id(lib)
    assert sorted(tracks) == ["sub dir/Nachtfahrt ü.wav", "sunny_day-intro.wav"]
    assert tracks["sunny_day-intro.wav"].title == "sunny day intro"
    assert tracks["sunny_day-intro.wav"].licence is None and tracks["sunny_day-intro.wav"].duration_s is None
    assert Path(tracks["sub dir/Nachtfahrt ü.wav"].path).is_file() and lib.problems == ()
    assert [t.id for t in MusicLibrary.from_folder(folder, recursive=False)] == ["sunny_day-intro.wav"]
    assert lib.get("sunny_day-intro.wav").title == "sunny day intro"
    with pytest.raises(CatalogueError, match="no track 'x.wav'"):
        lib.get("x.wav")


def test_csv_sidecar_and_per_file_json(tmp_path, caplog):
    _wav(tmp_path / "a.wav")
    _wav(tmp_path / "b.wav")
    _wav(tmp_path / "sub" / "c.wav")
    (tmp_path / "tracks.csv").write_text(
        "File,Title,Genre,Mood,License,duration_s\n"
        "a.wav,Morning Run,electronic,energetic,CC-BY 4.0,12.5\n"
        "b.wav,Slow Tide,ambient,calm,,not-a-number\n"
        "sub/c.wav,From The Root,pop,happy,CC0,\n"
        "gone.wav,Missing,,,,\n", encoding="utf-8")
    (tmp_path / "b.wav.json").write_text(json.dumps({"title": "Slow Tide (edit)", "licence": "own work"}),
                                         encoding="utf-8")
    tracks = _by_id(MusicLibrary.from_folder(tmp_path))
    assert tracks["a.wav"].title == "Morning Run" and tracks["a.wav"].licence == "CC-BY 4.0"
    assert tracks["a.wav"].duration_s == 12.5 and tracks["a.wav"].mood == "energetic"
    assert tracks["b.wav"].title == "Slow Tide (edit)" and tracks["b.wav"].licence == "own work"
    assert tracks["b.wav"].genre == "ambient" and tracks["b.wav"].duration_s is None
    assert tracks["sub/c.wav"].title == "From The Root" and tracks["sub/c.wav"].licence == "CC0"
    problems = MusicLibrary.from_folder(tmp_path).problems
    assert any("duration_s" in what for _, what in problems)
    assert any("gone.wav" in what for _, what in problems)
    assert "sidecar problem" in caplog.text


def test_jsonl_sidecar_in_a_subfolder_beats_the_root_table(tmp_path):
    _wav(tmp_path / "set 1" / "song é.wav")
    (tmp_path / "tracks.jsonl").write_text(json.dumps({"file": "set 1/song é.wav", "title": "Root",
                                                       "genre": "folk"}) + "\n", encoding="utf-8")
    (tmp_path / "set 1" / "tracks.jsonl").write_text(
        json.dumps({"file": "song é.wav", "title": "Nearest"}) + "\n{broken\n", encoding="utf-8")
    lib = MusicLibrary.from_folder(tmp_path)
    (track,) = lib.tracks
    assert track.title == "Nearest" and track.genre == "folk"
    assert any("not valid JSON" in what for _, what in lib.problems)


def test_music_folder_errors(tmp_path):
    with pytest.raises(CatalogueError, match="does not exist"):
        MusicLibrary.from_folder(tmp_path / "nope")
    (tmp_path / "readme.txt").write_text("x", encoding="utf-8")
    with pytest.raises(CatalogueError, match="no audio files"):
        MusicLibrary.from_folder(tmp_path)
    _wav(tmp_path / "a.wav")
    (tmp_path / "tracks.csv").write_text("name,title\na.wav,A\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"'file' column.*\['name', 'title'\]"):
        MusicLibrary.from_folder(tmp_path)
    (tmp_path / "tracks.jsonl").write_text("{}\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="keep one"):
        MusicLibrary.from_folder(tmp_path)


def test_analyses_skip_broken_files_and_report_them(tmp_path):
    from crossmodal_match.evaluate.beats import click_track

    y, _ = click_track(bpm=120, duration_s=3.0, sr=SR)
    sf.write(tmp_path / "click 120.wav", y, SR)
    (tmp_path / "broken.mp3").write_bytes(b"ID3 this is not an mp3")
    lib = MusicLibrary.from_folder(tmp_path)
    analyses, skipped = lib.analyses(cache_dir=tmp_path / "cache")
    assert list(analyses) == ["click 120.wav"] and analyses["click 120.wav"].duration_s == pytest.approx(3.0)
    assert [Path(p).name for p, _ in skipped] == ["broken.mp3"] and skipped[0][1]
    assert list((tmp_path / "cache").glob("*.json"))  # the file-hash cache was used


# ---- copy libraries --------------------------------------------------------------------------------------------

def test_copy_csv_with_tag_forms_and_bad_rows(tmp_path, caplog):
    path = tmp_path / "copy lines ü.csv"
    path.write_text(
        "\ufeffText,Tags,id\n"
        "Fifteen minutes, one pan,food;energetic,c1\n"  # an unquoted comma: one cell too many
        "\"Fifteen minutes, one pan\",\"food; Energetic\",c1\n"
        "Golden hour,\"[\"\"calm\"\", \"\"travel\"\"]\",\n"
        ",calm,\n"
        "nan,calm,\n"
        "\"  Breathe   in.\n  Slow down.  \",\"calm, mindful\",\n"
        "\"Fifteen minutes, one pan\",dup,c1\n", encoding="utf-8")
    lib = CopyLibrary.from_file(path)
    assert [line.text for line in lib] == ["Fifteen minutes, one pan", "Golden hour", "Breathe in. Slow down."]
    assert [line.tags for line in lib] == [("food", "energetic"), ("calm", "travel"), ("calm", "mindful")]
    assert lib.lines[0].id == "c1" and lib.lines[1].id.startswith("copy-") and lib.lines[0].source.endswith(":3")
    reasons = [reason for _, reason in lib.skipped]
    assert len(lib.skipped) == 4 and reasons.count("empty text") == 2
    assert any("cells but 3 columns" in r for r in reasons) and any("duplicate of line 3" in r for r in reasons)
    assert "3 copy lines" in lib.summary() and "4 row(s) skipped" in lib.summary()
    assert "row(s) skipped" in caplog.text


def test_copy_jsonl_with_nan_null_and_list_tags(tmp_path):
    path = tmp_path / "copy.jsonl"
    path.write_text("\n".join([
        json.dumps({"text": "Zoomies at 9 pm", "tags": ["Pets", "energetic", "pets"], "id": 7}),
        '{"text": NaN, "tags": "calm"}',
        json.dumps({"text": None}),
        json.dumps({"text": 42}),
        "[1, 2]",
        "",
        json.dumps({"text": "Nap champion", "tags": "pets;calm", "extra": "ignored"}),
    ]) + "\n", encoding="utf-8")
    lib = CopyLibrary.from_file(path)
    assert [(line.id, line.text, line.tags) for line in lib][0] == ("7", "Zoomies at 9 pm", ("pets", "energetic"))
    assert lib.lines[1].tags == ("pets", "calm") and lib.tagged("CALM") == (lib.lines[1],)
    assert dict(lib.skipped) == {2: "text is NaN", 3: "empty text", 4: "text is a int, not a string",
                                 5: "a JSON list, not an object"}


def test_copy_library_errors(tmp_path):
    cols = tmp_path / "cols.csv"
    cols.write_text("caption,hashtags\nhello,#a\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"needs a 'text' column; found columns \['caption', 'hashtags'\]"):
        CopyLibrary.from_file(cols)
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("text\nCafé crème\n".encode("latin-1"))
    with pytest.raises(CatalogueError, match=r"latin1\.csv: not UTF-8 text \(byte 0xe9 .* line 2\).*CSV UTF-8"):
        CopyLibrary.from_file(latin)
    empty_rows = tmp_path / "empty.csv"
    empty_rows.write_text("text,tags\n,calm\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="no usable copy lines.*empty text"):
        CopyLibrary.from_file(empty_rows)
    for name, content in (("x.txt", "text\nhi\n"), ("blank.csv", "\n\n")):
        (tmp_path / name).write_text(content, encoding="utf-8")
        with pytest.raises(CatalogueError, match="unsupported table format|empty"):
            CopyLibrary.from_file(tmp_path / name)
    with pytest.raises(CatalogueError, match="does not exist"):
        CopyLibrary.from_file(tmp_path / "missing.jsonl")


def test_copy_csv_in_utf16_from_excel(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("text,tags\nTschüss Sommer,travel\n".encode("utf-16"))
    assert [line.text for line in CopyLibrary.from_file(path)] == ["Tschüss Sommer"]


def test_parse_tags_forms():
    assert parse_tags("a; B ;a") == ("a", "b")
    assert parse_tags("x, y") == ("x", "y")
    assert parse_tags('["p", "q"]') == ("p", "q")
    assert parse_tags(math.nan) == () and parse_tags(None) == () and parse_tags("") == ()


def test_example_copy_lines_are_varied_and_tagged():
    lib = CopyLibrary.example()
    assert EXAMPLE_COPY_LINES.is_file() and len(lib) >= 40 and lib.skipped == ()
    tags = {t for line in lib for t in line.tags}
    assert {"travel", "food", "fitness", "fashion", "product", "pets", "study", "vlog", "calm",
            "energetic"} <= tags
    assert len({line.id for line in lib}) == len(lib)


# ---- template cards -------------------------------------------------------------------------------------------

def test_template_card_round_trip_and_defaults():
    card = TemplateCard.from_dict({"name": "travel-vlog", "description": "Sunny cuts on the bar.",
                                   "tags": ["Travel", "energetic"], "aspect": "9:16", "tempo_min_bpm": 100,
                                   "tempo_max_bpm": 140, "energy": 0.7, "pace": 0.8})
    assert card.tags == ("travel", "energetic") and card.aspect_ratio == pytest.approx(9 / 16)
    assert TemplateCard.from_dict(json.loads(json.dumps(card.to_dict()))) == card
    plain = TemplateCard(name="plain", description="")
    assert plain.tempo_min_bpm is None and plain.energy == 0.5


@pytest.mark.parametrize("field, value", [
    ("aspect", "9x16"), ("energy", 1.5), ("pace", "fast"), ("energy", True), ("tempo_min_bpm", -5),
    ("tempo_max_bpm", math.inf), ("name", " padded "), ("tags", "calm"),
])
def test_template_card_validation_names_field_and_value(field, value):
    with pytest.raises(ConfigError, match=rf"TemplateCard\.{field} .*{repr(value)[:4]}"):
        TemplateCard.from_dict({"name": "t", "description": "d", field: value})


def test_template_card_structure_errors():
    with pytest.raises(ConfigError, match=r"unknown field\(s\) \['bpm'\]"):
        TemplateCard.from_dict({"name": "t", "description": "d", "bpm": 120})
    with pytest.raises(ConfigError, match=r"missing field\(s\) \['description'\]"):
        TemplateCard.from_dict({"name": "t"})
    with pytest.raises(ConfigError, match="above tempo_max_bpm"):
        TemplateCard(name="t", description="d", tempo_min_bpm=150, tempo_max_bpm=90)


def test_sidecar_tags_join_the_track_text_in_either_language(tmp_path):
    _wav(tmp_path / "a.wav")
    _wav(tmp_path / "b.wav")
    (tmp_path / "tracks.csv").write_text('file,title,mood,tags\na.wav,山野晨光,治愈,"露营;轻音乐"\n'
                                         'b.wav,Night drive,,"chill, synth"\n', encoding="utf-8")
    tracks = {t.id: t for t in MusicLibrary.from_folder(tmp_path)}
    assert tracks["a.wav"].tags == ("露营", "轻音乐")
    assert tracks["a.wav"].text == "山野晨光 治愈 露营 轻音乐"
    assert tracks["b.wav"].text == "Night drive chill synth"


@pytest.mark.parametrize("title", ["520", "1234567", "🎵🎶", "--"])
def test_a_title_without_letters_is_kept_for_display_but_carries_no_text(tmp_path, title):
    """Documented graceful result: the title is shown as is, the track's text drops it (neutral semantic score)."""
    _wav(tmp_path / "x.wav")
    (tmp_path / "tracks.jsonl").write_text(json.dumps({"file": "x.wav", "title": title}, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    track = MusicLibrary.from_folder(tmp_path).tracks[0]
    assert track.title == title and track.text == ""


def test_a_file_named_by_digits_only_keeps_its_number_as_title_and_its_tags_as_text(tmp_path):
    _wav(tmp_path / "2157.wav")
    (tmp_path / "2157.wav.json").write_text(json.dumps({"tags": ["伤感", "夜晚"]}, ensure_ascii=False),
                                            encoding="utf-8")
    track = MusicLibrary.from_folder(tmp_path).tracks[0]
    assert (track.title, track.text) == ("2157", "伤感 夜晚")
