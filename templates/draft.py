"""``make_draft``: the one composition root. Footage + brief in, a rendered, explained draft folder out.

probe -> match -> titles -> timeline -> render, each stage reported through ``on_progress(fraction, stage)``.
The generator and the matcher are passed in (this package never imports ``titlegen`` or the analysis code), so
the studio and batch jobs share one path. A draft folder holds ``draft.json`` (choices, ranked candidates with
their reasons, the analyses, the timeline), ``draft.mp4``, ``captions.srt`` and ``cover.jpg``; it is assembled
under a temporary name and renamed into place, so a failed or cancelled draft leaves nothing half-written.
``rerender`` rebuilds a draft after an edit (title, caption, template or music) from its stored analyses, without
analysing the footage again. With a transcriber, each video's speech is transcribed (``draft.json`` keeps the
transcripts, so a re-render never transcribes again), templates that caption speech burn in the spoken words, the
captions are also written as ``captions.vtt``, and an empty brief is replaced by the gist of what was said.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from templates.errors import TemplateError
from templates.speech_brief import brief_from_speech, titles_brief

DRAFT_VERSION = 1
DRAFT_FILE, VIDEO_FILE, CAPTIONS_FILE, COVER_FILE = "draft.json", "draft.mp4", "captions.srt", "cover.jpg"
VTT_FILE = "captions.vtt"
SOUNDTRACK_FILE = "soundtrack.wav"  # a composed soundtrack's copy in its draft
# Share of the progress bar each stage gets (rendering dominates wall time).
_STAGES = (("analyse footage", 0.0, 0.12), ("transcribe", 0.12, 0.2), ("match", 0.2, 0.3), ("titles", 0.3, 0.4),
           ("timeline", 0.4, 0.45), ("render", 0.45, 0.97), ("captions and cover", 0.97, 1.0))

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Draft:
    """A finished draft folder and what was chosen for it.

    Attributes:
        draft_id: folder name under ``out_dir``.
        folder: the draft's folder.
        video, captions, cover, manifest: paths of ``draft.mp4``, ``captions.srt``, ``cover.jpg``, ``draft.json``.
        template, music_id, title, copy: the picks.
        notes: what the draft maker wants the creator to know (e.g. visual semantics off).
        subtitles: path of ``captions.vtt`` (WebVTT, the same cues as ``captions``).
    """

    draft_id: str
    folder: Path
    video: Path
    captions: Path
    cover: Path
    manifest: Path
    template: str
    music_id: str | None
    title: str
    copy: str
    notes: tuple[str, ...] = ()
    subtitles: Path | None = None


class _Reporter:
    """Maps each stage's own 0..1 onto its slice of the whole bar; fractions never go back, the last is 1.0."""

    def __init__(self, on_progress: Progress | None) -> None:
        self.on_progress, self.last = on_progress, 0.0

    def stage(self, name: str, fraction: float = 0.0) -> None:
        lo, hi = next((lo, hi) for n, lo, hi in _STAGES if n == name)
        value = max(self.last, min(hi, lo + (hi - lo) * min(max(fraction, 0.0), 1.0)))
        self.last = value
        if self.on_progress is not None:
            self.on_progress(value, name)

    def done(self) -> None:
        self.last = 1.0
        if self.on_progress is not None:
            self.on_progress(1.0, "done")


def _pick_template(result, template, *, footage, analysis, music_path) -> tuple[Any, list[str]]:
    """The given template, or the matcher's best one that this footage and track can fill; plus notes."""
    from templates.errors import TimelineError
    from templates.placement import build_timeline
    from templates.registry import get_template

    if template is not None:
        return (get_template(template) if isinstance(template, str) else template), []
    if not result.templates:
        raise TemplateError("no template given and the matcher ranked none; pass template= or give the matcher "
                            "the template cards (matcher.set_templates(templates.template_cards()))")
    notes, reasons = [], []
    # A trial build is pure data and cheap: a short track or little footage can rule the best-ranked one out.
    for cand in result.templates:
        spec = get_template(cand.id)
        try:
            build_timeline(spec, footage, analysis, "", "", music_path=music_path)
        except TimelineError as exc:
            reasons.append(f"{spec.name}: {exc}")
            continue
        if reasons:
            notes.append(f"template {spec.name} chosen; better-ranked ones could not be filled ({'; '.join(reasons)})")
        return spec, notes
    raise TemplateError("no ranked template fits this footage and track: " + "; ".join(reasons))


def _titles(generator, brief: str, controls) -> tuple[list[dict[str, Any]], str]:
    """The ranked title candidates as plain data, and the generator's line on what it dropped and how it ranked
    (empty for a generator whose results do not say)."""
    kwargs = {"controls": controls} if controls is not None else {}
    candidates = generator([brief], num_titles=5, **kwargs)[0]
    summary = candidates.summary() if hasattr(candidates, "summary") else ""
    return [{"text": c.text, "source": c.source, "logprob": c.logprob, "predicted_ctr": c.predicted_ctr,
             "similarity": getattr(c, "similarity", None)}
            for c in candidates], summary


def make_draft(footage_paths: Sequence[str | os.PathLike], brief: str, *, template=None, generator, matcher,
               out_dir: str | os.PathLike, on_progress: Progress | None = None, controls=None,
               title: str | None = None, copy: str | None = None, music_id: str | None = None,
               preview: bool = False, cancel=None, draft_id: str | None = None, transcriber=None) -> Draft:
    """Make one draft: analyse the footage, match music/copy/template, write titles, cut on the beat, render.

    Args:
        footage_paths: the creator's clips and/or photos, in order.
        brief: the one-line description; may be empty when a transcriber hears speech in the footage (the gist
            of what was said becomes the brief, and the notes say so).
        template: a template name or ``TemplateSpec``; None takes the matcher's best.
        generator: a ``titlegen.TitleGenerator`` (anything called as ``generator([brief], num_titles=, controls=)``
            returning candidates with ``text``, ``source``, ``logprob``, ``predicted_ctr``,
            optionally ``similarity``).
        matcher: a ``crossmodal_match.Matcher`` (ranks music, copy, templates; analyses footage).
        out_dir: where the draft folder is created.
        on_progress: ``(fraction, stage)``; fractions never go back and end at exactly 1.0.
        controls: title controls (``titlegen.Controls``); None: the generator's default.
        title, copy, music_id: the creator's own picks instead of the top-ranked ones.
        preview: a fast low-resolution render.
        cancel: a ``threading.Event`` or callable; when set, the render stops and nothing is kept.
        draft_id: folder name; None: a new uuid.
        transcriber: a ``crossmodal_match.speech.Transcriber`` (anything with ``transcribe(path)`` returning a
            ``crossmodal_match.transcript.Transcript``); None: the footage's speech is not read.

    Returns:
        the ``Draft``.

    Raises:
        TemplateError: an empty brief (and no speech heard to stand in for it), no usable footage, nothing to
            pick; RenderError / RenderCancelled from the renderer; the matcher's ``InvalidMediaError`` for a bad
            file; the transcriber's ``ModelLoadError`` when its model cannot be loaded. The draft folder exists
            only on success.
    """
    if not isinstance(brief, str) or (not brief.strip() and transcriber is None):
        raise TemplateError("the brief is empty: describe the post in one line (it drives titles and matching)")
    if not footage_paths:
        raise TemplateError("no footage: upload at least one clip or photo")
    report = _Reporter(on_progress)
    report.stage("analyse footage")
    footage = matcher.analyze_footage([str(p) for p in footage_paths])
    if transcriber is not None:  # a draft that does not listen has no such stage to show
        report.stage("transcribe")
    transcripts, speech_notes = _transcribe(transcriber, footage_paths, footage, report)
    if not brief.strip():
        brief = brief_from_speech(transcripts)
        speech_notes.append(f"the brief was empty, so titles, copy and music follow what was said: {brief!r}")
        title_brief = brief
    else:
        title_brief, note = titles_brief(brief, transcripts)
        speech_notes.extend([note] if note else [])
    report.stage("match")
    result = matcher.match(footage, brief)
    if not result.templates and template is None:
        # A matcher built without template cards: give it the registry's, so "the matcher's best" exists.
        from templates.registry import template_cards

        matcher.set_templates(template_cards())
        result = matcher.match(footage, brief)
    music = music_id or (result.music[0].id if result.music else None)
    composed = _is_composed(matcher, music)
    # A composed soundtrack is made for the template, so the template is picked first (on a fixed grid).
    music_path, analysis = matcher.track(music) if music and not composed else (None, None)
    spec, template_notes = _pick_template(result, template, footage=footage, analysis=analysis,
                                          music_path=music_path)
    composition = None
    if composed:
        music_path, analysis, composition = _compose(matcher, music, spec, footage)
    report.stage("titles")
    titles, titles_summary = _titles(generator, title_brief, controls)
    state = {"brief": brief, "footage_paths": [str(p) for p in footage_paths],
             "footage": [f.to_dict() for f in footage], "match": result.to_dict(), "titles": titles,
             "titles_summary": titles_summary, "transcripts": transcripts,
             "notes": list(result.notes) + template_notes + speech_notes}
    state["music"] = {"id": music, "path": music_path, "analysis": analysis.to_dict() if analysis else None,
                      "composed": composition}
    picks = {"template": spec.name, "title": title if title is not None else (titles[0]["text"] if titles else ""),
             "copy": copy if copy is not None else (result.copy[0].title if result.copy else "")}
    return _build(state, picks, out_dir=Path(out_dir), draft_id=draft_id or uuid.uuid4().hex[:12], preview=preview,
                  report=report, cancel=cancel)


def _is_composed(matcher, music_id: str | None) -> bool:
    """Whether the track is composed for the draft (a matcher that cannot compose has no such tracks)."""
    return bool(music_id) and bool(getattr(matcher, "is_composed", lambda _id: False)(music_id))


def _compose(matcher, music_id: str, spec, footage) -> tuple[str, Any, dict[str, Any]]:
    """Compose the soundtrack ``music_id`` names for this template and footage: whole bars at the footage's tempo
    (moved into the template's range) to the draft's length, in the template's sections (``composed_plan``); its
    analysis carries the exact grid, so no beat is tracked."""
    from templates.beatgrid import composed_plan

    bpm = matcher.composed_params(music_id)["bpm"]
    length_s, bpm, sections = composed_plan(spec, material_s=sum(f.duration_s for f in footage), bpm=bpm)
    return matcher.compose(music_id, length_s=length_s, bpm=bpm, sections=sections)


def _transcribe(transcriber, footage_paths, footage, report: _Reporter) -> tuple[dict[str, dict], list[str]]:
    """Each video's transcript (as ``Transcript.to_dict()``) by path, and notes on clips that gave none."""
    from crossmodal_match.errors import InvalidMediaError, NoAudioError

    transcripts, notes = {}, []
    if transcriber is None:
        return transcripts, notes
    videos = [str(p) for p, f in zip(footage_paths, footage) if f.kind == "video"]
    silent = []
    for k, path in enumerate(videos):
        name = Path(path).name
        try:
            transcript = transcriber.transcribe(path)
        except NoAudioError:
            silent.append(name)
            continue
        except InvalidMediaError as exc:  # the picture may be fine when the sound is not; the draft goes on
            notes.append(f"the sound of {name} cannot be read ({exc.reason}): no captions from it")
            continue
        transcripts[path] = transcript.to_dict()
        notes.extend(f"{name}: {n}" for n in transcript.notes)
        report.stage("transcribe", (k + 1) / len(videos))
    # One note for all silent clips: a clip without sound is common (b-roll, screen captures), not a fault per clip.
    if silent:
        if len(videos) == 1:
            which = "the clip has no audio track"
        elif len(silent) == len(videos):
            which = f"none of the {len(videos)} clips has an audio track"
        else:
            which = f"{len(silent)} of {len(videos)} clips have no audio track"
        notes.insert(0, f"{which} ({', '.join(silent)}): nothing to transcribe or caption from "
                        + ("it" if len(silent) == 1 else "them"))
    return transcripts, notes


def _build(state: dict, picks: dict, *, out_dir: Path, draft_id: str, preview: bool, report: _Reporter,
           cancel) -> Draft:
    from crossmodal_match.audio import MusicAnalysis
    from crossmodal_match.footage import Footage
    from crossmodal_match.transcript import Transcript
    from templates.captions import write_srt, write_vtt
    from templates.placement import build_timeline
    from templates.registry import get_template
    from templates.render import render, render_cover

    report.stage("timeline")
    music = state["music"]
    analysis = MusicAnalysis.from_dict(music["analysis"]) if music.get("analysis") else None
    timeline = build_timeline(get_template(picks["template"]), [Footage.from_dict(f) for f in state["footage"]],
                              analysis, picks["title"], picks["copy"], music_path=music.get("path"),
                              footage_paths=state["footage_paths"], preview=preview,
                              transcripts={p: Transcript.from_dict(t)
                                           for p, t in state.get("transcripts", {}).items()})
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / draft_id
    work = out_dir / f".{draft_id}.{uuid.uuid4().hex[:6]}.tmp"
    # Outputs are written in a fresh folder; a re-render then moves just them into the draft (the draft's other
    # files, such as uploaded footage, are never copied), the manifest last, so a failure changes nothing.
    work.mkdir()
    try:
        render(timeline, work / VIDEO_FILE, preview=preview, cancel=cancel,
               on_progress=lambda f, _stage: report.stage("render", f))
        report.stage("captions and cover")
        write_srt(timeline, work / CAPTIONS_FILE)
        write_vtt(timeline, work / VTT_FILE)
        render_cover(timeline, work / COVER_FILE)
        state, timeline = _own_soundtrack(state, timeline, work=work, final=final)
        manifest = {"version": DRAFT_VERSION, "draft_id": draft_id, "updated_at": time.time(), "preview": preview,
                    "picks": picks, **state, "timeline": timeline.to_dict()}
        (work / DRAFT_FILE).write_text(json.dumps(manifest, ensure_ascii=False, indent=1, default=str),
                                       encoding="utf-8")
        if final.is_dir():
            for name in (VIDEO_FILE, CAPTIONS_FILE, VTT_FILE, COVER_FILE, SOUNDTRACK_FILE, DRAFT_FILE):
                if (work / name).exists():  # a soundtrack only when a new one was composed
                    os.replace(work / name, final / name)
            work.rmdir()
        else:
            os.replace(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    report.done()
    return Draft(draft_id, final, final / VIDEO_FILE, final / CAPTIONS_FILE, final / COVER_FILE, final / DRAFT_FILE,
                 picks["template"], music.get("id"), picks["title"], picks["copy"], tuple(state.get("notes", ())),
                 final / VTT_FILE)


def _own_soundtrack(state: dict, timeline, *, work: Path, final: Path):
    """A composed soundtrack is copied into the draft (``soundtrack.wav``) and the draft points at its copy: the
    composition cache may be cleared, the draft must still re-render. Library tracks stay where the creator keeps
    them. Returns ``(state, timeline)``, changed only when a new composition was copied."""
    music = state["music"]
    own = final / SOUNDTRACK_FILE
    if not music.get("composed") or not music.get("path") or Path(music["path"]) == own:
        return state, timeline
    shutil.copy2(music["path"], work / SOUNDTRACK_FILE)
    state = {**state, "music": {**music, "path": str(own)}}
    if timeline.audio is not None and timeline.audio.source == music["path"]:
        timeline = replace(timeline, audio=replace(timeline.audio, source=str(own)))
    return state, timeline


def load_draft(folder: str | os.PathLike) -> dict[str, Any]:
    """The ``draft.json`` of a draft folder.

    Raises:
        TemplateError: no draft there, or not one this code can read.
    """
    path = Path(folder) / DRAFT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TemplateError(f"no readable draft at {path}: {exc}") from exc
    if data.get("version") != DRAFT_VERSION:
        raise TemplateError(f"{path} is draft version {data.get('version')!r}; this code reads {DRAFT_VERSION}")
    return data


def rerender(folder: str | os.PathLike, *, title: str | None = None, copy: str | None = None,
             template: str | None = None, music_id: str | None = None, matcher=None,
             transcript_edits: Mapping[str, Mapping[int, str]] | None = None, preview: bool = False,
             on_progress: Progress | None = None, cancel=None) -> Draft:
    """Render a draft again after an edit (title, caption, template, music), from its stored analyses: the
    footage is never analysed again.

    Args:
        folder: the draft folder (holds ``draft.json``).
        title, copy, template: new picks; None keeps the draft's.
        music_id: another track of the matcher's catalogue; the timeline is re-cut on its beats from the stored
            footage analyses (the track's own analysis comes from the matcher, which caches it by file hash). A
            composed track (another style or seed: ``matcher.recompose_id``) is composed for the draft's template
            and length; a new template recomposes a composed soundtrack too.
        matcher: the ``crossmodal_match.Matcher`` that knows ``music_id`` (needed with ``music_id``; with a new
            template it recomposes a composed soundtrack for it).
        transcript_edits: the creator's fixes to what was heard: ``{footage path: {segment index: new text}}``
            (paths and indexes as in ``draft.json``'s ``transcripts``; "" removes a segment). The stored
            transcripts are changed (``Transcript.with_segment_text``), so the fixes outlive later edits of the
            template or music, and the captions follow them; nothing is transcribed again.
        preview, on_progress, cancel: as ``make_draft``.

    Raises:
        TemplateError: the folder holds no readable draft, ``music_id`` without a matcher, or a transcript edit
            for a clip or segment the draft does not have (the message lists what it has); the matcher's
            ``ConfigError`` for a track it does not know; ``TimelineError`` when the track cannot fill the
            template; RenderError / RenderCancelled as ``make_draft`` (the previous files stay as they were).
    """
    folder = Path(folder)
    data = load_draft(folder)
    picks = dict(data["picks"])
    picks.update({k: v for k, v in (("title", title), ("copy", copy), ("template", template)) if v is not None})
    state = {k: data[k] for k in ("brief", "footage_paths", "footage", "match", "titles", "music", "notes")}
    state["titles_summary"] = data.get("titles_summary", "")  # drafts made before it was recorded lack it
    state["transcripts"] = data.get("transcripts", {})  # kept from make_draft: an edit never transcribes again
    if transcript_edits:
        state["transcripts"] = _edit_transcripts(state["transcripts"], transcript_edits)
        note = "the captions use the creator's fixes to what was heard (nothing was transcribed again)"
        state["notes"] = [*state["notes"], note] if note not in state["notes"] else state["notes"]
    new_template = template is not None and template != data["picks"]["template"]
    wanted = music_id if music_id is not None else data["music"]["id"]
    # a composed soundtrack is recomposed for a new template (its length, tempo and sections are the template's);
    # without a matcher the stored one is re-cut as any track would be
    recompose = new_template and bool(data["music"].get("composed")) and matcher is not None
    if (music_id is not None and music_id != data["music"]["id"]) or recompose:
        if matcher is None:
            raise TemplateError(f"cannot swap the music to {wanted!r} without the matcher that knows the track; "
                                "pass matcher=")
        composition = None
        if _is_composed(matcher, wanted):
            from crossmodal_match.footage import Footage
            from templates.registry import get_template

            path, analysis, composition = _compose(matcher, wanted, get_template(picks["template"]),
                                                   [Footage.from_dict(f) for f in state["footage"]])
        else:
            path, analysis = matcher.track(wanted)
        state["music"] = {"id": wanted, "path": path, "analysis": analysis.to_dict() if analysis else None,
                          "composed": composition}
    report = _Reporter(on_progress)
    return _build(state, picks, out_dir=folder.parent, draft_id=folder.name, preview=preview, report=report,
                  cancel=cancel)


def _edit_transcripts(transcripts: dict[str, dict], edits: Mapping[str, Mapping[int, str]]) -> dict[str, dict]:
    """``transcripts`` (path -> ``Transcript.to_dict()``) with the creator's segment texts applied.

    Raises:
        TemplateError: a path the draft has no transcript for, or a segment index it does not have.
    """
    from crossmodal_match.errors import ConfigError
    from crossmodal_match.transcript import Transcript

    out = dict(transcripts)
    for path, changes in edits.items():
        if path not in out:
            raise TemplateError(f"no transcript of {path!r} in this draft to edit; it has transcripts of "
                                f"{sorted(out) or 'no clip'}")
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in changes):
            raise TemplateError(f"transcript edits of {Path(path).name} must be keyed by segment number (0, 1, ...), "
                                f"got {list(changes)}")
        transcript = Transcript.from_dict(out[path])
        # Highest index first, so removing a segment does not shift the ones still to edit.
        for index, text in sorted(changes.items(), key=lambda kv: kv[0], reverse=True):
            try:
                transcript = transcript.with_segment_text(index, text)
            except ConfigError as exc:
                raise TemplateError(f"cannot edit the transcript of {Path(path).name}: {exc}") from exc
        out[path] = transcript.to_dict()
    return out
