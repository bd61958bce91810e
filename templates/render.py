"""The renderer: a :class:`~templates.timeline.Timeline` to an MP4, a cover image and captions.

    render(timeline, "draft.mp4", on_progress=lambda f, stage: print(f"{f:.0%} {stage}"))
    render(timeline, "preview.mp4", preview=True)      # 360 p, <= 15 fps, ultrafast: seconds, same timeline
    render_cover(timeline, "cover.jpg")                # a frame with the title drawn on it
    write_srt(timeline, "draft.srt")                   # the title and captions as SubRip

This is the only module that imports moviepy (inside the functions, so ``import templates`` stays light). moviepy
composes the picture: each timeline clip is a clip of the output size placed with ``with_start``, entering by a cut,
a ``CrossFadeIn`` over the previous clip (which plays on under it for the transition) or a ``FadeIn`` from black;
text overlays are ``ImageClip`` layers rasterised by :mod:`templates.lettering`. Framing (crop, Ken Burns, cover-fit)
is :mod:`templates.framing`, the grade :mod:`templates.grade`, the source decoders :mod:`templates.decoder`, the
soundtrack :mod:`templates.soundtrack`, and the encoding ffmpeg child :mod:`templates.encoder`.

Every output is written to a temp file in its folder and ``os.replace``d, so a reader sees the old file or the new
one, never half of one; failures raise :class:`~templates.errors.RenderError` naming what failed, a cancel raises
:class:`~templates.errors.RenderCancelled`, and both leave no temp file and no ffmpeg child behind.
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from templates.captions import write_srt
from templates.decoder import Decoders, VideoStream
from templates.encoder import EncodeSettings, FrameEncoder, full_settings, preview_settings, temp_path_for
from templates.errors import RenderError, TemplateError
from templates.framing import decode_scale, frame_picture, prepare_photo, read_photo, zoom_at
from templates.grade import grade_function
from templates.lettering import animation_state, draw_overlays, text_image
from templates.progress import Cancel, Progress, ProgressCallback, check_cancelled
from templates.soundtrack import write_soundtrack
from templates.timeline import TextOverlay, Timeline, TimelineClip

__all__ = ["render", "render_cover", "write_srt", "preview_settings", "full_settings"]

COVER_JPEG_QUALITY = 92
# Share of the whole job per stage: opening sources, the soundtrack, the frames, ffmpeg finishing the file.
STAGES = {"open": (0.0, 0.03), "audio": (0.03, 0.08), "video": (0.08, 0.97), "finish": (0.97, 0.99)}


def render(timeline: Timeline, out_path: str | os.PathLike[str], *, preview: bool = False,
           on_progress: ProgressCallback | None = None, cancel: Cancel | None = None) -> Path:
    """Render a timeline to an H.264 (yuv420p, BT.709-tagged) + AAC MP4 with the index up front (fast start).

    Args:
        timeline: the draft.
        out_path: the .mp4 to write; its folder must exist; an existing file is replaced only on success.
        preview: render small and fast (:func:`preview_settings`) instead of full size (:func:`full_settings`).
        on_progress: called as ``on_progress(fraction, stage)`` with fractions in [0, 1] that never go back and end
            with exactly 1.0 (stage ``"done"``) once the file is in place; stages ``open``, ``audio``, ``video``,
            ``finish``, ``done``.
        cancel: a ``threading.Event`` or a callable returning True; checked before every frame.

    Returns:
        ``out_path`` as a Path.

    Raises:
        RenderError: a source or the music cannot be read, a font is missing or lacks glyphs, the encoder failed,
            or the output cannot be written. Nothing is left at ``out_path`` or next to it.
        RenderCancelled: ``cancel`` was set; the partial file was removed.
    """
    out = _checked_out_path(out_path, suffixes=(".mp4",))
    settings = preview_settings(timeline) if preview else full_settings(timeline)
    progress = Progress(on_progress, stages=STAGES)
    temps: list[Path] = []
    try:
        temps += [temp_path_for(out, suffix=".part.mp4"), temp_path_for(out, suffix=".part.wav")]
        _render_to(timeline, settings, video_path=temps[0], audio_path=temps[1], progress=progress, cancel=cancel)
        os.replace(temps[0], out)
    except TemplateError:
        raise
    except Exception as exc:  # moviepy, PIL and numpy raise many types; the caller gets one, naming the step
        raise RenderError(f"rendering {out.name} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        for temp in temps:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
    progress.done()
    return out


def render_cover(timeline: Timeline, out_path: str | os.PathLike[str], *, time_s: float | None = None) -> Path:
    """Save one frame of the draft at full size with its title overlays drawn, as JPEG or PNG (by extension).

    Args:
        timeline: the draft.
        out_path: ``.jpg``/``.jpeg``/``.png`` file; its folder must exist.
        time_s: the moment shown, seconds; default the middle of the first clip (the opening shot, settled).

    Returns:
        ``out_path`` as a Path.

    Raises:
        RenderError: a source cannot be read, a font is missing, or the file cannot be written.
    """
    out = _checked_out_path(out_path, suffixes=(".jpg", ".jpeg", ".png"))
    if time_s is None:
        first = min(timeline.clips, key=lambda c: c.start_s, default=None)
        time_s = (first.start_s + first.end_s) / 2.0 if first else 0.0
    t = min(max(time_s, 0.0), max(0.0, timeline.duration_s - 1.0 / timeline.fps))
    size = (timeline.width, timeline.height)
    shown = [o for o in timeline.overlays if o.kind == "title" and o.text.strip()]
    if not shown:  # templates that put the title on their intro card (listicle, travel montage): draw that card
        cards = [o for o in timeline.overlays if o.kind == "card" and o.text.strip()]
        shown = sorted(cards, key=lambda o: o.start_s)[:1]
    titles = [text_image(o, frame_size=size) for o in shown]
    temp = temp_path_for(out, suffix=".part" + out.suffix)
    try:
        with Sources(timeline, out_size=size) as sources:
            picture = _picture(sources, duration_s=timeline.duration_s)
            sources.building = False
            frame = np.asarray(picture.get_frame(t), dtype=np.uint8)[:, :, :3]
        image = Image.fromarray(draw_overlays(frame, titles))
        if out.suffix.lower() == ".png":
            image.save(temp, format="PNG")
        else:
            image.save(temp, format="JPEG", quality=COVER_JPEG_QUALITY)
        os.replace(temp, out)
    except TemplateError:
        raise
    except Exception as exc:
        raise RenderError(f"cover {out.name} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return out


def _render_to(timeline: Timeline, settings: EncodeSettings, *, video_path: Path, audio_path: Path,
               progress: Progress, cancel: Cancel | None) -> None:
    size = (settings.width, settings.height)
    n_frames = max(1, round(timeline.duration_s * settings.fps))
    with Sources(timeline, out_size=size) as sources:
        sources.open(cancel=cancel, progress=progress)
        sources.plan(fps=settings.fps, n_frames=n_frames)
        layers = [_overlay_layer(o, frame_size=size) for o in timeline.overlays if o.text.strip()]
        music = _probe(timeline.audio.source, stream="audio") if timeline.audio is not None else {}
        write_soundtrack(timeline, audio_path, source_duration_s=music.get("duration"), cancel=cancel,
                         progress=progress)
        composite = _picture(sources, duration_s=timeline.duration_s, overlays=layers)
        sources.building = False
        with FrameEncoder(settings, audio_path=audio_path, out_path=video_path) as encoder:
            for i in range(n_frames):
                check_cancelled(cancel)
                t = i / settings.fps
                encoder.write(np.asarray(composite.get_frame(t), dtype=np.uint8)[:, :, :3])
                sources.release_before(t)
                progress.stage("video", (i + 1) / n_frames)
            check_cancelled(cancel)
            encoder.finish()
        progress.stage("finish", 1.0)


def _picture(sources: Sources, *, duration_s: float, overlays: list[Any] | None = None) -> Any:
    """The composite clip: picture layers in timeline order (later on top), then the overlays."""
    from moviepy import CompositeVideoClip, vfx

    layers = []
    for index, (clip, length_s) in enumerate(sources.spans):
        layer = _clip_layer(sources, index=index).with_start(clip.start_s)
        fade_s = min(clip.transition_s, length_s)
        if clip.transition_in == "fade" and fade_s > 0:
            layer = layer.with_effects([vfx.FadeIn(fade_s)])
        elif clip.transition_in == "crossfade" and fade_s > 0:
            # only the first fade_s seconds carry a mask: full-frame alpha compositing is the costly path
            layers.append(layer.subclipped(0, fade_s).with_effects([vfx.CrossFadeIn(fade_s)])
                          .with_start(clip.start_s))
            layer = layer.subclipped(fade_s).with_start(clip.start_s + fade_s) if length_s > fade_s else None
        if layer is not None:
            layers.append(layer)
    if not layers:
        raise RenderError("the timeline has no clips")
    composite = CompositeVideoClip([*layers, *(overlays or [])], size=sources.out_size, bg_color=(0, 0, 0))
    return composite.with_duration(duration_s)


def _clip_layer(sources: Sources, *, index: int) -> Any:
    """Timeline clip ``index`` as a moviepy clip of the output size, on screen for its span (clip time 0 = start)."""
    from moviepy import VideoClip

    clip, length_s = sources.spans[index]
    grade = grade_function(clip.grade)
    size = sources.out_size
    black = np.zeros((size[1], size[0], 3), dtype=np.uint8)

    def frame(t: float) -> np.ndarray:
        if sources.building:  # moviepy evaluates frame 0 while building; no source needs to open for that
            return black
        zoom = zoom_at(motion=clip.motion, t_s=t, duration_s=clip.end_s - clip.start_s)
        framed = frame_picture(sources.picture(index, t_s=t), crop=clip.crop, out_size=size, zoom=zoom)
        return grade(framed) if grade is not None else framed

    return VideoClip(frame_function=frame, duration=length_s)


def _overlay_layer(overlay: TextOverlay, *, frame_size: tuple[int, int]) -> Any:
    """A text overlay as an ``ImageClip`` with its entry animation (opacity, slide, pop) as functions of time."""
    from moviepy import ImageClip

    image = text_image(overlay, frame_size=frame_size)
    duration = max(overlay.end_s - overlay.start_s, 1e-3)
    h, w = image.rgba.shape[:2]
    anim = overlay.style.animation
    layer = ImageClip(image.rgba, transparent=True, duration=duration).with_start(overlay.start_s)
    if anim == "none":
        return layer.with_position((image.x, image.y))

    def state(t: float) -> tuple[float, float, float]:
        return animation_state(anim, t_s=t, duration_s=duration)

    def scaled(t: float) -> tuple[int, int]:
        s = state(t)[2]
        return max(1, round(w * s)), max(1, round(h * s))

    def position(t: float) -> tuple[int, int]:
        _, drop, _ = state(t)
        sw, sh = scaled(t)
        # grow around the block's centre; slide from below but never past the frame's bottom edge
        y = min(image.y + round(drop * h), frame_size[1] - sh) + (h - sh) // 2
        return image.x + (w - sw) // 2, y

    if anim == "pop":
        layer = layer.resized(new_size=scaled)
    layer = layer.with_mask(layer.mask.transform(lambda get, t: get(t) * state(t)[0]))
    return layer.with_position(position)


def _checked_out_path(out_path: str | os.PathLike[str], *, suffixes: tuple[str, ...]) -> Path:
    out = Path(out_path)
    if out.suffix.lower() not in suffixes:
        raise RenderError(f"output {str(out)!r}: extension must be one of {suffixes}")
    if not out.parent.is_dir():
        raise RenderError(f"output folder {str(out.parent)!r} does not exist")
    return out


def _probe(source: str, *, stream: str) -> dict[str, Any]:
    """moviepy's ffmpeg probe of a source that must have a ``stream`` ("video" or "audio") stream.

    Raises:
        RenderError: the file is missing, unreadable or has no such stream.
    """
    from moviepy.video.io.ffmpeg_reader import ffmpeg_parse_infos

    if not Path(source).is_file():
        raise RenderError(f"{stream} source {source!r} does not exist")
    try:
        info = ffmpeg_parse_infos(source)
    except Exception as exc:  # moviepy raises IOError, IndexError, KeyError... for broken files
        raise RenderError(f"cannot read {stream} source {source!r}: {exc}") from exc
    if not info.get(f"{stream}_found") or (stream == "video" and not info.get("video_size")):
        raise RenderError(f"{stream} source {source!r} has no {stream} stream")
    return info


def _spans(timeline: Timeline) -> list[tuple[TimelineClip, float]]:
    """Each clip (in start order) with how long it is on screen, seconds: to its end, or on under the next clip
    until that one has crossfaded in (so a crossfade never shows black, and cuts stay on their beats)."""
    clips = sorted(timeline.clips, key=lambda c: c.start_s)
    spans = []
    for index, clip in enumerate(clips):
        nxt = clips[index + 1] if index + 1 < len(clips) else None
        tail_end = nxt.start_s + nxt.transition_s if nxt is not None and nxt.transition_in == "crossfade" else 0.0
        spans.append((clip, max(clip.end_s, tail_end) - clip.start_s))
    return spans


class Sources:
    """The pictures of a timeline's clips, each video decoded by one reader per source, not per cut.

    Videos are probed up front (:meth:`open`: a missing or unreadable file fails before anything is encoded).
    Frames come from :class:`~templates.decoder.Decoders`: one ffmpeg child per source file (and decode size),
    reading forward, told by :meth:`plan` which frame each output frame shows, so the many cuts of a beat-cut draft
    that come from one file share its decoder and the frames they repeat are decoded once. ffmpeg decodes each video
    at the scale its framing needs (:func:`~templates.framing.decode_scale`). Photos are read once, EXIF orientation
    applied, and scaled the same way. While ``building`` is True the clips answer black frames: moviepy evaluates
    frame 0 of every clip while it builds the composite, and no source should open for it.

    Args:
        timeline: the draft.
        out_size: output (width, height), pixels.
        decoders: where the video frames come from (default: a new :class:`~templates.decoder.Decoders`).
    """

    def __init__(self, timeline: Timeline, *, out_size: tuple[int, int], decoders: Decoders | None = None) -> None:
        self.building = True
        self.spans = _spans(timeline)
        self.out_size = out_size
        self.decoders = decoders or Decoders()
        self._infos: dict[str, dict[str, Any]] = {}
        self._photos: dict[tuple[str, tuple[float, ...], str], Image.Image] = {}
        self._streams: dict[int, VideoStream] = {}

    def __enter__(self) -> Sources:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def open(self, *, cancel: Cancel | None = None, progress: Progress | None = None) -> None:
        """Probe every video and load every photo.

        Raises:
            RenderError: a source is missing or unreadable (the message names it).
            RenderCancelled: ``cancel`` was set.
        """
        for n, (clip, _) in enumerate(self.spans, start=1):
            check_cancelled(cancel)
            if clip.kind == "photo":
                self._photo(clip)
            else:
                self._info(clip.source)
            if progress is not None:
                progress.stage("open", n / len(self.spans))

    def plan(self, *, fps: float, n_frames: int) -> None:
        """Tell the decoders which source frame each of the ``n_frames`` output frames at ``fps`` shows, and start
        the first ones.

        Times are computed as moviepy computes them when it composes frame ``i`` (``i / fps``, minus the clip's
        start), so the plan names the frames that will be asked for.
        """
        uses = []
        for index, (clip, length_s) in enumerate(self.spans):
            if clip.kind == "photo":
                continue
            stream = self._stream(index)
            first = max(0, math.floor(clip.start_s * fps) - 1)
            for i in range(first, n_frames):
                t = i / fps
                if t >= clip.start_s + length_s:
                    break
                if t >= clip.start_s:
                    uses.append((stream, clip.src_start_s + (t - clip.start_s), t))
        self.decoders.plan(uses)
        self.decoders.start()

    def picture(self, index: int, *, t_s: float) -> np.ndarray | Image.Image:
        """The source picture of clip ``index`` at clip time ``t_s`` (uncropped, any size)."""
        clip, _ = self.spans[index]
        if clip.kind == "photo":
            return self._photo(clip)
        return self.decoders.frame(self._stream(index), clip.src_start_s + t_s, now_s=clip.start_s + t_s)

    def release_before(self, t_s: float) -> None:
        """Drop the frames and readers no clip needs from timeline time ``t_s`` on."""
        self.decoders.release_before(t_s)

    def close(self) -> None:
        """Close every reader (reaping its ffmpeg child) and drop the photos."""
        self.decoders.close()
        self._photos.clear()

    def _info(self, source: str) -> dict[str, Any]:
        if source not in self._infos:
            self._infos[source] = _probe(source, stream="video")
        return self._infos[source]

    def _stream(self, index: int) -> VideoStream:
        """Clip ``index``'s video at the size its framing needs (clips sharing a file and a size share one)."""
        if index not in self._streams:
            clip, _ = self.spans[index]
            info = self._info(clip.source)
            width, height = info["video_size"]
            if abs(info.get("video_rotation", 0)) in (90, 270):
                width, height = height, width
            # ffmpeg scales while decoding, in its own process: the frames arrive at the size framing needs
            scale = decode_scale(source_size=(width, height), crop=clip.crop, out_size=self.out_size,
                                 motion=clip.motion)
            size = (max(2, round(width * scale)), max(2, round(height * scale)))
            self._streams[index] = VideoStream(source=clip.source, size=size, fps=info.get("video_fps") or 1.0,
                                               duration_s=info.get("video_duration") or 0.0)
        return self._streams[index]

    def _photo(self, clip: TimelineClip) -> Image.Image:
        key = (clip.source, tuple(clip.crop), clip.motion)
        if key not in self._photos:
            path = Path(clip.source)
            if not path.is_file():
                raise RenderError(f"photo source {clip.source!r} does not exist")
            try:
                img = read_photo(path)
            except RenderError:
                raise
            except Exception as exc:  # PIL raises OSError, ValueError, DecompressionBombError...
                raise RenderError(f"cannot read photo source {clip.source!r}: {exc}") from exc
            self._photos[key] = prepare_photo(img, crop=clip.crop, out_size=self.out_size, motion=clip.motion)
        return self._photos[key]
