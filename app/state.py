"""Session helpers of the studio: the session id, its workspace folder, settings, cached models, saved uploads.

No scoring, rendering or file-format logic lives here: the libraries do that. Models are loaded once per process
(``st.cache_resource``, keyed by the settings); each browser session works in its own folder
``$CREATOR_STUDIO_HOME/workspaces/<session id>/<draft id>/`` (default home ``~/.local/share/creator-studio``, the
folder the feedback store and ``python -m crossmodal_match retrain`` use too).

Test seam: ``CREATOR_STUDIO_FAKE_MODELS=1`` makes the loaders take the generator, the matcher's text encoder and a
fast stand-in renderer from the module named by ``CREATOR_STUDIO_FAKES`` (default ``tests.studio_fakes``), so the
app can be driven without loading the title model or MiniLM, or rendering full videos.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import streamlit as st

import templates
from crossmodal_match.errors import InvalidMediaError, MatchError
from crossmodal_match.footage import PHOTO_EXTENSIONS
from templates.demo import DEMO_BRIEF
from templates.errors import TemplateError
from titlegen.errors import TitleGenError
from titlegen.loading import DEFAULT as DEFAULT_TITLE_BASE  # the embedded, offline default

HOME_ENV, FAKE_ENV, FAKES_MODULE_ENV = "CREATOR_STUDIO_HOME", "CREATOR_STUDIO_FAKE_MODELS", "CREATOR_STUDIO_FAKES"
#: With fake models, also listen with the real offline transcriber (a test of a talking clip in the studio).
REAL_SPEECH_ENV = "CREATOR_STUDIO_REAL_SPEECH"
DEMO_ENV = "CREATOR_STUDIO_DEMO_MEDIA"  # set by app/launch.py: the demo media it made, as JSON
VIDEO_TYPES = ("mp4", "mov", "m4v", "webm", "mkv")
PHOTO_TYPES = tuple(sorted(ext.lstrip(".") for ext in PHOTO_EXTENSIONS))
UPLOAD_TYPES = VIDEO_TYPES + PHOTO_TYPES
#: What a page catches and shows with st.error: the libraries' root errors (their messages are written for users).
USER_ERRORS = (MatchError, TemplateError, TitleGenError)
_SID = re.compile(r"[0-9a-f]{32}")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Settings:
    """Where the models and catalogues come from (the Settings page edits these; empty = the default)."""

    title_base: str = DEFAULT_TITLE_BASE
    title_adapter: str = ""
    click_model: str = "default"
    clip_checkpoint: str = ""
    music_dir: str = ""
    copy_file: str = ""

    @classmethod
    def from_env(cls) -> Settings:
        env = {f: os.environ.get(f"CREATOR_STUDIO_{f.upper()}") for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in env.items() if v})


#: The demo briefs by language: the English one of ``templates.demo`` and the same post in Chinese (titles follow
#: the brief's language), so the demo shows both the model's languages.
DEMO_BRIEFS = {"en": DEMO_BRIEF, "zh": "周末好天气：傍晚去海边散步看日落，街头的缤纷色彩，再来一场海边野餐"}

#: The Create page's brief field limit, checked again on the server: a request can carry more than the field allows.
BRIEF_MAX_CHARS = 200


def check_brief(brief: str) -> str:
    """The brief, stripped; :class:`titlegen.InvalidBriefError` when it is over :data:`BRIEF_MAX_CHARS`."""
    from titlegen.errors import InvalidBriefError

    text = (brief or "").strip()
    if len(text) > BRIEF_MAX_CHARS:
        raise InvalidBriefError(f"The brief has {len(text):,} characters; the limit is {BRIEF_MAX_CHARS}. Say in one "
                                "line what the post is about, and put details into the selling points.")
    return text


def check_model_paths(s: Settings) -> None:
    """Local folders named in the settings exist, before anything is loaded.

    Raises:
        titlegen.ModelLoadError: naming the field and the path, and what to put there instead.
    """
    from titlegen.errors import ModelLoadError

    base = s.title_base if s.title_base != DEFAULT_TITLE_BASE else ""
    folders = {"Title LoRA adapter folder": s.title_adapter,
               "Click model": "" if s.click_model in ("", "default") else s.click_model}
    if base and (base.startswith(("/", ".", "~")) or os.sep in base and Path(base).parent.is_dir()):
        folders["Title model"] = base  # a path, not a hub name (hub names are tried, offline, by the loader)
    for label, value in folders.items():
        if value and not Path(value).expanduser().is_dir():
            raise ModelLoadError(f"{label}: {value} is not a folder. Give a folder that exists on this machine, or "
                                 "clear the field to use the default.")


def fake_models() -> bool:
    return os.environ.get(FAKE_ENV, "") not in ("", "0")


def _fakes():
    return importlib.import_module(os.environ.get(FAKES_MODULE_ENV, "tests.studio_fakes"))


def home() -> Path:
    from crossmodal_match.feedback import default_data_dir

    return Path(os.environ.get(HOME_ENV) or default_data_dir()).expanduser()


def session_id() -> str:
    """This browser session's id; kept in the URL (``?workspace=``) so a reload finds its drafts again."""
    if "sid" not in st.session_state:
        asked = st.query_params.get("workspace", "")
        st.session_state.sid = asked if _SID.fullmatch(asked) else uuid.uuid4().hex
    if st.query_params.get("workspace") != st.session_state.sid:
        st.query_params["workspace"] = st.session_state.sid
    return st.session_state.sid


def workspace() -> Path:
    folder = home() / "workspaces" / session_id()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def settings() -> Settings:
    if "studio_settings" not in st.session_state:
        st.session_state.studio_settings = Settings.from_env()
    return st.session_state.studio_settings


def put_settings(new: Settings) -> None:
    st.session_state.studio_settings = new


def set_settings(**changes: str) -> Settings:
    st.session_state.studio_settings = replace(settings(), **{k: v.strip() for k, v in changes.items()})
    return st.session_state.studio_settings


def upload_limit_mb() -> int:
    """``server.maxUploadSize`` of ``.streamlit/config.toml``: the browser's limit, checked again on the server."""
    return int(st.get_option("server.maxUploadSize"))


# ---- models: once per process, per distinct setting ------------------------------------------------------------

@st.cache_resource(show_spinner="Loading the title model ...", max_entries=2)
def _generator(base: str, adapter: str, click_model: str, fake: bool):
    if fake:
        return _fakes().FakeGenerator()
    import titlegen

    return titlegen.load_generator(base, adapter=adapter or None, click_model=click_model or None)


@st.cache_resource(show_spinner="Preparing the demo media ...")
def _make_demo_media(folder: str) -> dict[str, Any]:
    from templates.demo import make_demo_media

    return make_demo_media(folder)


def demo_launch() -> dict[str, Any] | None:
    """The demo media ``app/launch.py`` made (its ``make_demo_media`` result), when it started the studio."""
    given = os.environ.get(DEMO_ENV, "")
    if not given:
        return None
    media = json.loads(given)
    files = [*media["clips"], *media["photos"]]
    return media if files and all(Path(p).is_file() for p in files) else None


def demo_media() -> dict[str, Any]:
    """The demo clips, photo and music folder: the launcher's, or made once per process under the studio home."""
    return demo_launch() or _make_demo_media(str(home() / "demo"))


@st.cache_resource(show_spinner="Loading the catalogues and analysing the music ...", max_entries=2)
def _matcher(music_dir: str, copy_file: str, clip_checkpoint: str, root: str, fake: bool):
    from crossmodal_match import MatcherConfig, create_matcher

    base = Path(root)
    # without a music folder the soundtracks are composed for each draft (crossmodal_match.compose)
    config = MatcherConfig(music_dir=music_dir or None,
                           copy_file=copy_file or None, cache_dir=str(base / "cache"),
                           feedback_path=str(base / "feedback.sqlite"), models_dir=str(base / "fusion"),
                           clip_checkpoint=clip_checkpoint or None)
    encoder = _fakes().text_encoder() if fake else None
    return create_matcher(config, text_encoder=encoder, templates=templates.template_cards())


def generator():
    s = settings()
    return _generator(s.title_base, s.title_adapter, s.click_model, fake_models())


def matcher():
    s = settings()
    return _matcher(s.music_dir, s.copy_file, s.clip_checkpoint, str(home()), fake_models())


@st.cache_resource(show_spinner=False, max_entries=1)
def _transcriber(root: str):
    from crossmodal_match.speech import Transcriber

    # The model loads on the first clip, not here; transcripts are cached by file hash beside the other analyses.
    return Transcriber(cache_dir=str(Path(root) / "cache" / "transcripts"))


def transcriber():
    """What drafts listen with: the offline Whisper transcriber; None with fake models (the fakes do not speak)
    unless :data:`REAL_SPEECH_ENV` asks for the real one beside them."""
    if fake_models() and os.environ.get(REAL_SPEECH_ENV, "") in ("", "0"):
        return None
    return _transcriber(str(home()))


def draft_api():
    """``(make_draft, rerender)``: the library's, or in fake mode the same functions with a fast renderer."""
    if fake_models():
        return _fakes().make_draft, _fakes().rerender
    from templates import make_draft, rerender

    return make_draft, rerender


# ---- drafts of this session -------------------------------------------------------------------------------------

def pending_id() -> str:
    """The id of the draft being set up on the Create page (its uploads go to ``<id>/footage``)."""
    if "pending" not in st.session_state:
        st.session_state.pending = uuid.uuid4().hex[:12]
    return st.session_state.pending


def next_pending() -> None:
    st.session_state.pending = uuid.uuid4().hex[:12]


def draft_folder(draft_id: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{12}", draft_id):
        raise TemplateError(f"not a draft id of this studio: {draft_id!r}")
    return workspace() / draft_id


def footage_dir(draft_id: str) -> Path:
    folder = draft_folder(draft_id) / "footage"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def current() -> Path | None:
    """The draft the Match, Titles and Draft pages work on, if it (still) exists."""
    folder = st.session_state.get("current")
    return folder if folder is not None and (folder / "draft.json").is_file() else None


def set_current(folder: Path) -> None:
    st.session_state.current = folder


def list_drafts() -> list[tuple[Path, dict | None, str]]:
    """``(folder, draft.json or None, problem)`` of every draft folder of this session, newest first."""
    from templates import load_draft

    rows = []
    drafts = (p for p in workspace().iterdir() if p.is_dir() and not p.name.startswith(".")  # not a temp folder
              and (p / "draft.json").exists())
    for folder in sorted(drafts):
        try:
            rows.append((folder, load_draft(folder), ""))
        except TemplateError as exc:
            rows.append((folder, None, str(exc)))
    return sorted(rows, key=lambda r: -(r[1] or {}).get("updated_at", 0.0))


def delete_draft(folder: Path) -> None:
    if folder.parent != workspace():  # only this session's own drafts
        raise TemplateError(f"{folder} is not a draft of this session")
    shutil.rmtree(folder)
    if st.session_state.get("current") == folder:
        st.session_state.current = None


# ---- abandoned uploads -------------------------------------------------------------------------------------------

ABANDONED_ENV, ABANDONED_HOURS = "CREATOR_STUDIO_ABANDONED_HOURS", 24.0


def sweep_abandoned(root: Path, *, older_than_h: float) -> list[Path]:
    """Remove what earlier sessions left under ``root/workspaces``: draft folders that never got a ``draft.json``
    (uploads of a draft that was never made) and temp folders of interrupted renders, untouched for
    ``older_than_h`` hours. Finished drafts and anything recent are kept.

    Returns:
        the folders removed.
    """
    import time

    cutoff, removed = time.time() - older_than_h * 3600.0, []
    for folder in (root / "workspaces").glob("*/*"):
        if not folder.is_dir() or (folder / "draft.json").exists():
            continue
        newest = max((p.stat().st_mtime for p in folder.rglob("*")), default=folder.stat().st_mtime)
        if max(newest, folder.stat().st_mtime) < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


@st.cache_resource(show_spinner=False)
def _swept(root: str, older_than_h: float) -> tuple[str, ...]:
    return tuple(map(str, sweep_abandoned(Path(root), older_than_h=older_than_h)))


def sweep_once() -> tuple[str, ...]:
    """``sweep_abandoned`` on the studio home, once per server process (``$CREATOR_STUDIO_ABANDONED_HOURS``,
    default 24)."""
    return _swept(str(home()), float(os.environ.get(ABANDONED_ENV) or ABANDONED_HOURS))


# ---- uploads -----------------------------------------------------------------------------------------------------

def _names() -> dict[str, str]:
    return st.session_state.setdefault("upload_names", {})


def save_upload(upload, draft_id: str) -> Path:
    """Save one ``UploadedFile`` under a uuid name in the draft's footage folder (never the browser's name).

    Raises:
        InvalidMediaError: a type not on the allow-list, an empty file, or one over the upload limit.
    """
    saved = st.session_state.setdefault("saved_uploads", {})
    if upload.file_id in saved and Path(saved[upload.file_id]).is_file():
        return Path(saved[upload.file_id])
    ext = Path(upload.name).suffix.lower().lstrip(".")
    if ext not in UPLOAD_TYPES:
        raise InvalidMediaError(upload.name, f"files of type '.{ext}' are not accepted; upload a clip "
                                f"({', '.join(VIDEO_TYPES)}) or a photo ({', '.join(PHOTO_TYPES)})")
    if upload.size == 0:
        raise InvalidMediaError(upload.name, "the file is empty (0 bytes); upload it again")
    limit = upload_limit_mb()
    if upload.size > limit * 1024 * 1024:
        raise InvalidMediaError(upload.name, f"the file is {upload.size / 2**20:.1f} MB; the limit is {limit} MB")
    path = footage_dir(draft_id) / f"{uuid.uuid4().hex}.{ext}"
    upload.seek(0)
    with open(path, "xb") as out:
        shutil.copyfileobj(upload, out, _CHUNK)
    saved[upload.file_id] = str(path)
    remember_name(path, upload.name)
    return path


def add_demo_footage(draft_id: str) -> list[Path]:
    """Copy the demo clips and photo into the draft's footage folder (uuid names), like uploads; once a draft."""
    if demo_files(draft_id):
        return [Path(p) for p in demo_files(draft_id)]
    media = demo_media()
    copies = []
    for src in [*media["clips"], *media["photos"]]:
        dst = footage_dir(draft_id) / f"{uuid.uuid4().hex}{Path(src).suffix}"
        shutil.copyfile(src, dst)
        remember_name(dst, f"{Path(src).name} (demo)")
        copies.append(dst)
    st.session_state.setdefault("demo_files", {})[draft_id] = [str(p) for p in copies]
    return copies


def remove_demo_footage(draft_id: str) -> None:
    """Take the demo footage out of the draft being set up (its copies are deleted)."""
    for path in st.session_state.get("demo_files", {}).pop(draft_id, []):
        Path(path).unlink(missing_ok=True)


def demo_files(draft_id: str) -> list[str]:
    return st.session_state.get("demo_files", {}).get(draft_id, [])


def remember_name(path: str | os.PathLike, name: str) -> None:
    _names()[str(path)] = name


def display_name(path: str | os.PathLike) -> str:
    """The name the creator knows a saved file by (the browser's name is shown, never used as a path)."""
    return _names().get(str(path), Path(path).name)


def message(exc: BaseException) -> str:
    """The text to show for a library error; a bad file is named as the creator uploaded it."""
    if isinstance(exc, InvalidMediaError):
        return f"{display_name(exc.path)}: {exc.reason}"
    return str(exc)
