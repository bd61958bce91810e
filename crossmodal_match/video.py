"""Video decoding: open a video file with PyAV, read its metadata, stream its frames with timestamps.

``VideoReader`` is what ``crossmodal_match.footage`` (probing, shot splitting, keyframes) and
``crossmodal_match.descriptors.scan_shots`` decode through. PyAV bundles FFmpeg (H.264, HEVC, VP8/9, AV1, ProRes
... in MP4, MOV, WebM, MKV ...); swscale turns each wanted frame straight from YUV into a small RGB array, so memory
does not grow with the clip's length and an 8K frame never exists in RGB at full size. Rotation metadata is applied
and times come from each frame's pts (variable frame rate is exact).

Only the standard library is imported at import time (PyAV and numpy inside the methods).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crossmodal_match.errors import InvalidMediaError, MatchError
from crossmodal_match.footage_types import ProbeInfo

if TYPE_CHECKING:
    import numpy as np

# Largest decoded video frame accepted: DCI 8K (8192x4320, 35.4 MP). Frames are downscaled inside the decoder's
# colour conversion, but the decoder itself keeps several full-size reference frames; above this they would
# cost gigabytes.
MAX_FRAME_PIXELS = 8192 * 4320
_TIME_TOL_S = 1e-3  # pts -> seconds rounding: a frame at 0.0999999 s counts as the 0.1 s tick


class VideoReader:
    """An open video file: its metadata, its decoded frames with timestamps, and small upright RGB copies.

    Use as a context manager; frames are decoded one at a time (FFmpeg's own threads, frame + slice).

    Args:
        path: an existing, non-empty file (see ``crossmodal_match.footage.check_media_file``).
        max_frame_pixels: largest accepted frame (width * height of the stored frames).

    Raises:
        InvalidMediaError: the container cannot be opened, has no video stream or frames that are too large.
    """

    def __init__(self, path: Path, *, max_frame_pixels: int = MAX_FRAME_PIXELS) -> None:
        import av

        self.path = path
        self._max_frame_pixels = max_frame_pixels
        try:
            # Only local files: a playlist or concat list must not make FFmpeg fetch URLs or other files.
            self._container = av.open(str(path), container_options={"protocol_whitelist": "file"},
                                      metadata_errors="ignore")
        except av.error.FFmpegError as exc:
            raise InvalidMediaError(path, _open_failure_reason(path, exc)) from exc
        try:
            self._stream = self._video_stream()
        except BaseException:
            self._container.close()
            raise
        codec = self._stream.codec_context
        codec.thread_type, codec.thread_count = "AUTO", 0
        sar = self._stream.sample_aspect_ratio
        self._sar = float(sar) if sar and float(sar) > 0 else 1.0
        self.rotation: int | None = None  # counter-clockwise degrees, from the first decoded frame
        self.end_s = 0.0  # end of the last decoded frame, seconds
        self._started = self._finished = False
        self._out_sizes: dict[int, tuple[int, int]] = {}  # max_side -> (width, height) of to_rgb's output

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._container.close()

    def _video_stream(self):
        import av

        streams = [s for s in self._container.streams.video
                   if not s.disposition & av.stream.Disposition.attached_pic]  # cover art is not footage
        if not streams:
            kinds = sorted({"cover art" if s.type == "video" else s.type for s in self._container.streams})
            kinds = kinds or ["none"]
            raise InvalidMediaError(self.path, f"has no video stream (streams found: {', '.join(kinds)})")
        stream = streams[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > self._max_frame_pixels:
            raise InvalidMediaError(self.path, f"frame size {width}x{height} is larger than the supported "
                                               f"maximum of {self._max_frame_pixels / 1e6:.1f} megapixels "
                                               "(8192x4320)")
        return stream

    def probe(self) -> ProbeInfo:
        """Metadata of the file; decodes the first frame if none was decoded yet (for rotation).

        Raises:
            InvalidMediaError: no frame decodes.
        """
        if self.rotation is None:
            next(self.frames(), None)
        stream, codec = self._stream, self._stream.codec_context
        width, height = round(codec.width * self._sar), codec.height
        if self.rotation in (90, 270):
            width, height = height, width
        rate = stream.average_rate or stream.guessed_rate
        if stream.duration is not None:
            duration_s = float(stream.duration * stream.time_base)
        elif self._container.duration:
            duration_s = self._container.duration / 1e6
        else:  # no stated duration: the decoded one if all frames were read, else the packets'
            duration_s = self.end_s if self._finished else self._duration_from_packets()
        return ProbeInfo(path=str(self.path), kind="video", container=self._container.format.name,
                         codec=codec.name, duration_s=duration_s, fps=float(rate) if rate else 0.0,
                         width=width, height=height, rotation=self.rotation or 0,
                         has_audio=bool(self._container.streams.audio))

    def check_complete(self) -> None:
        """After all frames were read: refuse a stream that decoded much shorter than its stated length.

        Raises:
            InvalidMediaError: a cut-off upload whose index survived (e.g. a "faststart" MP4).
        """
        stream = self._stream
        if stream.duration is None or not self._finished:
            return
        stated_s = float(stream.duration * stream.time_base)
        # Edit lists and rounding move the end by a frame or so; a lost tail of seconds means missing data.
        if stated_s - self.end_s > max(2.0, 0.1 * stated_s):
            raise InvalidMediaError(self.path, f"truncated: the file states {stated_s:.2f} s of video but only "
                                               f"{self.end_s:.2f} s could be decoded")

    def _duration_from_packets(self) -> float:
        # Live recordings (browser MediaRecorder WebM) and raw streams state no duration: read the packets'
        # timestamps in a second pass over the file, without decoding.
        import av

        end, total = None, 0  # latest packet end (pts + duration); sum of durations where there is no pts
        with av.open(str(self.path), container_options={"protocol_whitelist": "file"}) as container:
            stream = container.streams[self._stream.index]
            for packet in container.demux(stream):
                total += packet.duration or 0
                if packet.pts is not None:
                    end = max(end or 0, packet.pts + (packet.duration or 0))
            ticks = end - (stream.start_time or 0) if end is not None else total
            return float(ticks * stream.time_base)

    def frames(self) -> Iterator[tuple[float, Any]]:
        """Decode every frame once, in presentation order.

        Yields:
            (time_s, av.VideoFrame): seconds from the stream's start, from the frame's pts (so VFR is exact).

        Raises:
            InvalidMediaError: decoding fails, or the stream has no decodable frame.
        """
        import av

        if self._started:
            raise MatchError(f"{self.path}: VideoReader frames can be read only once")
        self._started = True
        stream = self._stream
        start = stream.start_time or 0
        rate = stream.average_rate or stream.guessed_rate
        step_s = 1.0 / float(rate) if rate else 1.0 / 30.0  # only for frames without a duration
        n, time_s = 0, 0.0
        try:
            for frame in self._container.decode(stream):
                if self.rotation is None:
                    self.rotation = int(round((frame.rotation or 0) / 90.0)) % 4 * 90
                tb = frame.time_base or stream.time_base
                if frame.pts is None:
                    # Raw elementary streams carry no timestamps: frames follow one another by their durations,
                    # so none may be skipped.
                    stream.codec_context.skip_frame = "DEFAULT"
                    time_s = self.end_s
                else:
                    time_s = max(float((frame.pts - start) * tb), 0.0)
                self.end_s = max(self.end_s, time_s + (float(frame.duration * tb) if frame.duration else step_s))
                n += 1
                yield time_s, frame
        except av.error.FFmpegError as exc:
            detail = getattr(exc, "strerror", None) or str(exc)
            raise InvalidMediaError(self.path, f"decoding failed near {time_s:.2f} s ({detail})") from exc
        if n == 0:
            raise InvalidMediaError(self.path, "no video frame could be decoded")
        self._finished = True

    def sample(self, *, every_s: float | None = None,
               times_s: Sequence[float] | None = None) -> Iterator[tuple[float, Any]]:
        """Frames at a regular rate or at given times: the first frame at or after each tick.

        Args:
            every_s: seconds between ticks (0, every_s, 2 * every_s, ...), used when ``times_s`` is None.
            times_s: explicit ticks in seconds; decoding stops after the last one.

        Yields:
            (time_s, av.VideoFrame) with the frame's own time; each frame at most once.
        """
        ticks = iter(sorted(times_s)) if times_s is not None else None
        next_s = next(ticks, None) if ticks is not None else 0.0
        rate, stamped = self._stream.average_rate, self._stream.start_time is not None
        if ticks is None and stamped and rate and every_s * float(rate) >= 2.0:
            # Fewer than half the frames are wanted: let FFmpeg skip non-reference frames (B-frames nothing is
            # predicted from). It saves 30-50% of the decoding of B-frame streams and leaves every other frame
            # exact; a tick then gets a frame at most a frame or two after it. Explicit times (a shot's
            # keyframe times) decode every frame, so they get exactly the frame they name.
            self._stream.codec_context.skip_frame = "NONREF"
        for time_s, frame in self.frames():
            if next_s is None:
                return
            if time_s + _TIME_TOL_S < next_s:
                continue
            yield time_s, frame
            if ticks is None:
                next_s = (int((time_s + _TIME_TOL_S) / every_s) + 1) * every_s
            else:
                while next_s is not None and next_s <= time_s + _TIME_TOL_S:
                    next_s = next(ticks, None)

    def to_rgb(self, frame: Any, *, max_side: int) -> np.ndarray:
        """Convert a decoded frame to upright RGB no larger than ``max_side`` on its long side.

        Scaling happens inside swscale's YUV -> RGB conversion, so no full-size RGB copy is ever made.

        Returns:
            np.ndarray [shape=(H, W, 3), uint8, RGB], as displayed (sample aspect ratio and rotation applied).
        """
        import numpy as np

        if max_side not in self._out_sizes:
            # Fixed per reader from the first frame: a stream that changes resolution midway still gives
            # frames of one shape, which the frame-to-frame measures need.
            width, height = frame.width * self._sar, frame.height
            scale = min(1.0, max_side / max(width, height))
            self._out_sizes[max_side] = max(1, round(width * scale)), max(1, round(height * scale))
        out_w, out_h = self._out_sizes[max_side]
        # AREA averages every source pixel; cheaper filters alias fine texture and inflate motion energy.
        rgb = frame.to_ndarray(width=out_w, height=out_h, format="rgb24", interpolation="AREA")
        if self.rotation:
            rgb = np.ascontiguousarray(np.rot90(rgb, k=self.rotation // 90))
        return rgb


def _open_failure_reason(path: Path, exc: Exception) -> str:
    detail = getattr(exc, "strerror", None) or str(exc)  # FFmpeg's words, without repeating the path
    with open(path, "rb") as fh:
        head = fh.read(12)
    if head[4:8] == b"ftyp":
        # An ISO-BMFF file whose index cannot be read: most often an upload cut off before the moov atom.
        return f"truncated or damaged MP4/MOV: its index (moov atom) is missing or unreadable ({detail})"
    return f"not a video or photo FFmpeg can read ({detail})"
