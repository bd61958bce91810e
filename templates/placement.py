"""``build_timeline``: footage, a track, a title and a caption, cut on the beat the way a template says.

    spec = get_template("beat-cut-showcase")
    timeline = build_timeline(spec, [footage_a, footage_b], analysis, "Summer drop", "New colours, same fit.",
                              music_path="workspace/d1/music.mp3")

What it does, in order:

1. the draft's length: the footage's total length (photos count as their still length), or ``draft_s``, clamped
   to the template's range and rounded to whole bars of the music (``templates.beatgrid.plan_grid``): the draft
   ends on a downbeat, and the music under it is the track's best moment;
2. the cuts: the intro's first bars, the body and the outro's last bars each cut every N beats or bars
   (``spec.pacing``); a clip shorter than its slot ends at the last beat it covers and the next shot takes over, so
   every cut is a beat of the track (exactly: cut times are the analysis's beat times, shifted);
3. the shots: each shot once, in upload order, before any is used twice; then again from the longest. A video's
   shot plays from its middle (the steady part) or, when shorter than its slot, runs on into the footage after it;
4. framing: a centre crop to the template's aspect. ``"face"`` and ``"saliency"`` fall back to the centre
   because the footage analysis gives a face count but no face position, and no saliency map; ``meta["reframe"]``
   says so;
5. photos move (Ken Burns) as the template says; every clip gets the template's grade and transition;
6. text (``templates.overlays``): cards, title, caption and labels inside the template's safe areas.

Pure data: no file is opened here; ``templates.render`` turns the timeline into a video.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
import dataclasses
from dataclasses import dataclass

from crossmodal_match.audio import MusicAnalysis
from crossmodal_match.footage import Footage, Shot
from templates.beatgrid import BeatGrid, Sections, plan_grid
from templates.errors import TimelineError
from templates.overlays import build_overlays
from templates.spec import TemplateSpec
from templates.speech_captions import SpokenWord, caption_cues, words_on_timeline
from templates.speech_cuts import pause_beat, snap_cuts
from templates.timeline import AudioTrack, TextOverlay, Timeline, TimelineClip

_TOL_S = 1e-6
# Under speech the music drops by this much more than the template's own gain_db (talking-head: -14 dB, so -24 dB
# under the voice: background, not competition); it ramps over templates.soundtrack.DUCK_RAMP_S.
SPEECH_DUCK_DB = -10.0
DUCK_MERGE_S = 0.6  # gaps between words shorter than this keep the music down (no pumping between words)
_REFRAME_REASONS = {
    "face": "the footage analysis counts faces (ShotDescriptors.face_count) but gives no face positions",
    "saliency": "the footage analysis has no saliency map",
}


@dataclass(frozen=True)
class _Piece:
    """One slot of the draft filled by one shot: beats ``first``..``last`` of the grid."""

    item: int
    shot: Shot
    first: int
    last: int


def build_timeline(spec: TemplateSpec, footage: Sequence[Footage], music: MusicAnalysis | None, title: str,
                   copy: str, *, music_path: str | None, footage_paths: Sequence[str] | None = None,
                   draft_s: float | None = None, preview: bool = False,
                   transcripts: Mapping[str, object] | None = None) -> Timeline:
    """Cut footage on the beat of a track, the way a template says (see the module docstring for the rules).

    Args:
        spec: the template.
        footage: analysed videos and photos (``crossmodal_match.footage.Footage``), in the order the creator gave.
        music: the track's analysis, or None: then the cuts follow a fixed grid at the template's tempo midpoint,
            there is no audio track, and ``meta["notes"]`` says so.
        title: the title; empty means no title overlay (and no card that shows only the title).
        copy: the caption; empty means no caption overlay.
        music_path: the track's file, used as the audio track's source; required with ``music``.
        footage_paths: the files to render from, one per footage item, instead of each ``Footage.path``.
        draft_s: wanted length in seconds, within the template's duration range; None: the footage's length,
            clamped to the range. Either way it is rounded to whole bars.
        preview: the draft is for a preview render; only recorded in ``meta["preview"]``: the timeline is the
            same either way (same size, cuts and text), and ``templates.render`` makes a preview small and fast.
        transcripts: source file -> its ``crossmodal_match.transcript.Transcript``; a template whose caption mode
            is ``"speech"`` then captions the words the clips play instead of the copy (``meta["captions"]``
            says which it did and why).

    Returns:
        Timeline: clips covering ``[0, duration_s]``, the music window with the template's fades, the overlays,
        the beat times on the draft's clock and ``meta`` (grid, tempo, bars, sections, reframe, notes).

    Raises:
        TimelineError: no footage, footage without shots, footage (videos only) shorter than one bar, every
            video shorter than one beat, ``footage_paths`` of another length, ``music`` without ``music_path``,
            ``draft_s`` outside the template's range, or music too short for the template.
    """
    sources = _check_inputs(footage, music, music_path=music_path, footage_paths=footage_paths)
    if not isinstance(title, str) or not isinstance(copy, str):
        raise TimelineError(f"title and copy must be strings ('' for none), got {title!r} and {copy!r}")
    if draft_s is not None and not (isinstance(draft_s, (int, float)) and not isinstance(draft_s, bool)
                                    and spec.duration.min_s <= draft_s <= spec.duration.max_s):
        raise TimelineError(f"draft_s={draft_s!r}: template {spec.name!r} makes drafts of "
                            f"{spec.duration.min_s}-{spec.duration.max_s} s")
    material_s = sum(f.duration_s for f in footage)
    target_s = draft_s if draft_s is not None else min(max(material_s, spec.duration.min_s), spec.duration.max_s)
    grid = plan_grid(spec, music, target_s=target_s)
    usable, skipped = _usable_footage(footage, grid)
    sections = Sections.plan(spec, grid)
    cuts = _planned_cuts(spec, grid, sections)
    pieces = _fill(grid, cuts, footage, _groups(usable, sections), sections)
    overlays = build_overlays(spec, grid, sections, title=title, copy=copy, cuts=cuts)
    clips = tuple(_clips(spec, grid, pieces, footage, sources, transcripts))
    cuts_meta = None
    if spec.caption.mode == "speech" and transcripts:
        snapped, cuts_meta = snap_cuts(clips, transcripts, grid.beats_s,
                                       {s: f.duration_s for s, f in zip(sources, footage)})
        clips = tuple(snapped)
    overlays, captions_meta, words = _spoken_captions(spec, clips, overlays, transcripts or {},
                                                      end_s=grid.duration_s)
    if cuts_meta is not None:
        captions_meta["cuts"] = cuts_meta
    shown = title.strip()
    meta = {"grid": grid.source, "tempo_bpm": grid.tempo_bpm, "bars": len(grid.bars) - 1,
            "sections_bars": sections.bar_counts(), "window_s": list(grid.window_s) if grid.window_s else None,
            "reframe": _reframe_meta(spec), "title_shown": bool(shown) and any(shown in o.text for o in overlays),
            "caption_shown": any(o.kind == "caption" for o in overlays), "shots_reused": _reuses(pieces),
            "skipped_footage": [sources[i] for i in skipped], "preview": preview, "captions": captions_meta,
            "notes": [*grid.notes, *sections.notes, *_group_notes(usable, sections),
                      *([captions_meta["note"]] if captions_meta.get("note") else [])]}
    return Timeline(template=spec.name, width=spec.width, height=spec.height, fps=spec.fps,
                    duration_s=grid.duration_s,
                    clips=clips,
                    audio=_audio(spec, grid, music_path=music_path, words=words) if music is not None else None,
                    voices=_voices(clips, transcripts or {}) if words else (),
                    overlays=tuple(overlays), beats_s=grid.beats_s, meta=meta)


def _spoken_captions(spec: TemplateSpec, clips: Sequence[TimelineClip], overlays: list[TextOverlay],
                     transcripts: Mapping[str, object], *,
                     end_s: float) -> tuple[list[TextOverlay], dict, list[SpokenWord]]:
    """The overlays with the copy's captions replaced by the spoken words' cues, where the template asks for
    speech and the clips play some; what was done, for ``meta["captions"]``; the words played (empty when the
    template does not follow speech)."""
    if spec.caption.mode != "speech":
        return overlays, {"source": "copy"}, []
    words = words_on_timeline(clips, transcripts)
    if not words:
        why = ("no transcript was made" if not transcripts else
               "no speech was heard in the footage" if not any(t.has_speech for t in transcripts.values()) else
               "the cut shows none of the footage's spoken words")
        return overlays, {"source": "copy", "note": f"captions show the copy line: {why}"}, []
    cues = caption_cues(words, style=spec.caption.style, box=spec.caption.placement.box,
                        frame_size=(spec.width, spec.height), end_s=end_s)
    kept = [o for o in overlays if o.kind != "caption"]
    return sorted(kept + cues, key=lambda o: (o.start_s, o.kind)), {"source": "speech", "cues": len(cues),
                                                                     "words": len(words)}, words


def _voices(clips: Sequence[TimelineClip], transcripts: Mapping[str, object]) -> tuple[AudioTrack, ...]:
    """The footage's own sound under each clip of a transcribed video, so the words heard match the captions."""
    return tuple(AudioTrack(source=c.source, src_start_s=c.src_start_s, src_end_s=c.src_end_s, start_s=c.start_s,
                            end_s=c.end_s) for c in clips if c.kind == "video" and c.source in transcripts)


def _speech_spans(words: Sequence[SpokenWord]) -> tuple[tuple[float, float], ...]:
    """Word spans merged across gaps shorter than ``DUCK_MERGE_S`` (the music stays down between words)."""
    spans: list[list[float]] = []
    for w in words:
        if spans and w.start_s - spans[-1][1] < DUCK_MERGE_S:
            spans[-1][1] = max(spans[-1][1], w.end_s)
        else:
            spans.append([w.start_s, w.end_s])
    return tuple((round(a, 3), round(b, 3)) for a, b in spans)


def _audio(spec: TemplateSpec, grid: BeatGrid, *, music_path: str, words: Sequence[SpokenWord] = ()) -> AudioTrack:
    """The track's window under the draft, faded as the template says (never more than half the draft), ducked
    by ``SPEECH_DUCK_DB`` while the footage speaks."""
    spans = _speech_spans(words)
    return AudioTrack(source=str(music_path), src_start_s=grid.window_s[0],
                      src_end_s=grid.window_s[0] + grid.duration_s, start_s=0.0, end_s=grid.duration_s,
                      fade_in_s=min(spec.music.fade_in_s, grid.duration_s / 2),
                      fade_out_s=min(spec.music.fade_out_s, grid.duration_s / 2), gain_db=spec.music.gain_db,
                      duck_spans_s=spans, duck_db=SPEECH_DUCK_DB if spans else 0.0)


def _reuses(pieces: list[_Piece]) -> int:
    """How many slots show a shot already shown (0 while the footage has enough shots)."""
    seen, reused = set(), 0
    for p in pieces:
        reused += (p.item, p.shot.index) in seen
        seen.add((p.item, p.shot.index))
    return reused


def _check_inputs(footage: Sequence[Footage], music: MusicAnalysis | None, *, music_path: str | None,
                  footage_paths: Sequence[str] | None) -> list[str]:
    """The render source of each footage item, after checking what ``build_timeline`` was given."""
    if isinstance(footage, Footage) or not footage:
        raise TimelineError(f"footage: need a non-empty list of analysed videos or photos, got {footage!r}")
    for f in footage:
        if not isinstance(f, Footage) or not f.shots:
            raise TimelineError(f"footage: {getattr(f, 'path', f)!r} is not analysed footage with shots")
        if f.width <= 0 or f.height <= 0 or not f.duration_s > 0:
            raise TimelineError(f"footage: {f.path!r} has size {f.width}x{f.height} and duration "
                                f"{f.duration_s!r} s; both must be positive")
    if footage_paths is not None and (isinstance(footage_paths, str) or len(footage_paths) != len(footage)):
        raise TimelineError(f"footage_paths: need one path per footage item ({len(footage)}), got {footage_paths!r}")
    if music is not None and not music_path:
        raise TimelineError(f"music_path={music_path!r}: the track's file is needed with its analysis")
    return [str(p) for p in footage_paths] if footage_paths is not None else [f.path for f in footage]


def _usable_footage(footage: Sequence[Footage], grid: BeatGrid) -> tuple[list[int], list[int]]:
    """Indices of the footage that can fill a beat, and of the videos too short to (skipped, listed in meta)."""
    if all(f.kind == "video" for f in footage):
        total_s = sum(f.duration_s for f in footage)
        bar_s = grid.beats_s[grid.bars[1]] - grid.beats_s[grid.bars[0]]
        if total_s + _TOL_S < bar_s:
            raise TimelineError(f"footage: {total_s:.2f} s of video in all, shorter than one bar of the music "
                                f"({bar_s:.2f} s); add footage or a photo")
    usable = [i for i, f in enumerate(footage) if f.kind == "photo" or f.duration_s + _TOL_S >= grid.longest_beat_s]
    if not usable:
        raise TimelineError(f"footage: every video is shorter than one beat ({grid.longest_beat_s:.2f} s)")
    return usable, [i for i in range(len(footage)) if i not in usable]


def _planned_cuts(spec: TemplateSpec, grid: BeatGrid, sections: Sections) -> list[int]:
    """Beat indices where the pacing puts a cut, with 0 and the last beat (the draft's end)."""
    cuts = {0, len(grid.beats_s) - 1, *sections.part_starts()}
    for section, (a_bar, b_bar) in ((spec.pacing.intro, sections.intro_bars), (spec.pacing.body, sections.body_bars),
                                    (spec.pacing.outro, sections.outro_bars)):
        if section.unit == "bar":
            cuts.update(grid.bars[b] for b in range(a_bar, b_bar, section.cut_every))
        else:
            cuts.update(range(grid.bars[a_bar], grid.bars[b_bar], section.cut_every))
    return sorted(cuts)


def _groups(usable: list[int], sections: Sections) -> list[list[int]]:
    """Footage for each labelled part, in order (before/after: the first half of the footage is "before")."""
    n_parts, n = max(1, len(sections.parts)), len(usable)
    if n < n_parts:
        return [[usable[p * n // n_parts]] for p in range(n_parts)]
    return [usable[p * n // n_parts:(p + 1) * n // n_parts] for p in range(n_parts)]


def _group_notes(usable: list[int], sections: Sections) -> list[str]:
    if 0 < len(usable) < len(sections.parts):
        return [f"{len(usable)} usable footage item(s) for {len(sections.parts)} labelled parts: parts share footage"]
    return []


class _ShotPool:
    """Hands out shots: each once in the creator's order, then round again starting from the longest."""

    def __init__(self, items: Sequence[int], footage: Sequence[Footage]) -> None:
        first = [(i, s) for i in items for s in footage[i].shots]
        self._cycle = sorted(first, key=lambda p: -max(p[1].end_s - p[1].start_s, p[1].descriptors.length_s))
        self._queue = deque(first)

    def take(self) -> tuple[int, Shot]:
        if not self._queue:
            self._queue.extend(self._cycle)
        return self._queue.popleft()


def _fill(grid: BeatGrid, cuts: list[int], footage: Sequence[Footage], groups: list[list[int]],
          sections: Sections) -> list[_Piece]:
    """One shot per slot between planned cuts; a video too short for its slot ends on an earlier beat."""
    pools = [_ShotPool(g, footage) for g in groups]
    beats, pieces = grid.beats_s, []
    for start, end in zip(cuts, cuts[1:]):
        first = start
        while first < end:
            item, shot = pools[sections.part_of(first)].take()
            available_s = float("inf") if footage[item].kind == "photo" else footage[item].duration_s
            last = end
            while last > first + 1 and beats[last] - beats[first] > available_s + _TOL_S:
                last -= 1
            pieces.append(_Piece(item=item, shot=shot, first=first, last=last))
            first = last
    return pieces


def _clips(spec: TemplateSpec, grid: BeatGrid, pieces: list[_Piece], footage: Sequence[Footage],
           sources: list[str], transcripts: Mapping[str, object] | None = None) -> list[TimelineClip]:
    clips, photos_seen, pieces = [], 0, list(pieces)
    # Speech-led templates play each video on from where it last stopped, whichever of its shots the slot drew, so
    # the talk runs in order instead of repeating the middle of a long take (or jumping between its shots).
    resume: dict[int, float] | None = {} if spec.caption.mode == "speech" else None
    for n, piece in enumerate(pieces):
        f = footage[piece.item]
        if resume is not None and transcripts and f.kind == "video" and n + 1 < len(pieces) \
                and pieces[n + 1].item != piece.item:
            # the picture and the talk jump here: end the slot on a beat where the speech pauses
            last = pause_beat(transcripts.get(sources[piece.item]), src_start_s=resume.get(piece.item, 0.0),
                              beats_s=grid.beats_s, first=piece.first, last=piece.last, limit=pieces[n + 1].last,
                              max_src_s=f.duration_s)
            piece = pieces[n] = dataclasses.replace(piece, last=last)
            pieces[n + 1] = dataclasses.replace(pieces[n + 1], first=last)
        start_s, end_s = grid.beats_s[piece.first], grid.beats_s[piece.last]
        length_s = end_s - start_s
        if f.kind == "photo":
            src_start_s, motion = 0.0, _photo_motion(spec.photo_motion, photos_seen)
            photos_seen += 1
        else:
            src_start_s, motion = _video_window(f, piece.shot, length_s=length_s), "none"
            if resume is not None:
                src_start_s = _continued_window(f, resume, item=piece.item, length_s=length_s,
                                                fallback_s=src_start_s)
        transition, transition_s = _transition(spec, n, length_s=length_s,
                                               previous_s=clips[-1].end_s - clips[-1].start_s if clips else 0.0)
        clips.append(TimelineClip(source=sources[piece.item], kind=f.kind, src_start_s=src_start_s,
                                  src_end_s=src_start_s + length_s, start_s=start_s, end_s=end_s,
                                  crop=_centre_crop(f, width=spec.width, height=spec.height), motion=motion,
                                  transition_in=transition, transition_s=transition_s, grade=spec.grade,
                                  shot_index=piece.shot.index))
    return clips


def _video_window(footage: Footage, shot: Shot, *, length_s: float) -> float:
    """Where in the video a slot of ``length_s`` seconds starts: centred in the shot, or run on past its end."""
    shot_s = shot.end_s - shot.start_s
    if shot_s >= length_s:
        # The middle of a shot is steadier than its edges, where the camera starts and stops.
        return shot.start_s + (shot_s - length_s) / 2
    return max(0.0, min(shot.start_s, footage.duration_s - length_s))


def _continued_window(footage: Footage, resume: dict[int, float], *, item: int, length_s: float,
                      fallback_s: float) -> float:
    """Where a speech-led slot starts: where this video last stopped (its start the first time);
    ``fallback_s`` once the video is used up. Records where the slot stops."""
    start = resume.get(item, 0.0)
    if start + length_s > footage.duration_s + 1e-6:
        start = fallback_s
    resume[item] = start + length_s
    return start


def _photo_motion(motion: str, photos_seen: int) -> str:
    if motion == "kenburns-alternate":
        return "kenburns-in" if photos_seen % 2 == 0 else "kenburns-out"
    return motion


def _transition(spec: TemplateSpec, n: int, *, length_s: float, previous_s: float) -> tuple[str, float]:
    """The clip's way in; at most half of it and of the clip before, so two transitions never overlap."""
    kind = spec.transition.type
    if kind == "cut" or (n == 0 and kind == "crossfade"):  # the first clip has nothing to crossfade from
        return "cut", 0.0
    limit_s = length_s / 2 if n == 0 else min(length_s, previous_s) / 2
    return kind, min(spec.transition.duration_s, limit_s)


def _centre_crop(footage: Footage, *, width: int, height: int) -> tuple[float, float, float, float]:
    """``(x, y, w, h)`` fractions of the source frame with the output's aspect, centred."""
    source_ar, target_ar = footage.width / footage.height, width / height
    if source_ar > target_ar:
        w = target_ar / source_ar
        return ((1.0 - w) / 2, 0.0, w, 1.0)
    h = source_ar / target_ar
    return (0.0, (1.0 - h) / 2, 1.0, h)


def _reframe_meta(spec: TemplateSpec) -> dict[str, str]:
    if spec.reframe == "centre":
        return {"asked": "centre", "used": "centre", "reason": "the template asks for a centre crop"}
    return {"asked": spec.reframe, "used": "centre", "reason": f"{_REFRAME_REASONS[spec.reframe]}; centre crop"}
