"""Decoding the source videos of a render: one ffmpeg child per source, read forward, frames kept only while needed.

A beat-cut draft takes dozens of short cuts from a few files, often the same seconds of a file again and again. A
decoder opened per cut decodes, for every cut, from the keyframe before it (seconds of full-size frames for phone
footage with a keyframe every few seconds) and pays a process start; that was most of a preview's time. Here each
source (at one decode size) has one decoder reading forward, and the render tells it up front which frame it will
need at which moment of the timeline (:meth:`Decoders.plan`); a frame passed on the way that a later cut shows again
is kept until that moment, then dropped, so memory holds only frames that are still to be shown.

A request the plan did not foresee (a cover frame, a rounding difference) is still served exactly: read forward
when it is close ahead, else a fresh decoder seeked to it. Frames are those moviepy's ``VideoFileClip`` gives (same
ffmpeg command, same frame numbering, same scaler), so the renderer's pictures do not change with the decoder.

Uses the ffmpeg binary of ``imageio-ffmpeg`` (the one moviepy uses); no moviepy import here.
"""

from __future__ import annotations

import bisect
import heapq
import subprocess
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from templates.encoder import ffmpeg_exe, stderr_tail
from templates.errors import RenderError

# Reading on costs a decode + scale per frame; a fresh decoder costs a process start and a decode from the keyframe
# before the target (phone footage: every 1-2 s). Past this gap of unneeded frames, seeking is the cheaper bet.
SEEK_AHEAD_S = 2.0
# Open decoders at once: each ffmpeg child holds its decoder's frame buffers (tens of MB at 1080p, more at 4K).
# Sources beyond this are closed least recently used first and reopened (seeked) when next needed.
MAX_OPEN_DECODERS = 4
# Frames kept for a later cut, over all sources: a preview keeps hundreds, a 720x1280 render about 90 (3 s at 30 fps);
# past this the frame shown again last is dropped and decoded again for its cut (a seek), so memory stays bounded.
KEEP_BUDGET_BYTES = 256 * 2**20
SCALER = "bicubic"  # moviepy's default, so frames match those of VideoFileClip(target_resolution=...)


@dataclass(frozen=True)
class VideoStream:
    """What a decoder needs to know about a source video.

    Attributes:
        source: path of the file.
        size: (width, height) of the decoded frames, pixels (ffmpeg scales while decoding; rotation applied).
        fps: the stream's frame rate, frames per second (frame ``k`` is shown from ``k / fps`` s).
        duration_s: the stream's length, seconds.
    """

    source: str
    size: tuple[int, int]
    fps: float
    duration_s: float

    def index_at(self, t_s: float) -> int:
        """The frame shown at source time ``t_s`` (clamped to the stream), numbered as moviepy numbers them."""
        last_s = max(0.0, self.duration_s - 1.0 / max(self.fps, 1.0))
        # moviepy's int(fps * t + 1e-5): 3.0 computed as 2.9999999 still means frame 90 at 30 fps
        return int(self.fps * min(max(t_s, 0.0), last_s) + 0.00001)


def reader_command(stream: VideoStream, *, start_index: int) -> list[str]:
    """The ffmpeg command that writes the frames of ``stream`` from frame ``start_index`` as raw RGB to stdout.

    Mirrors moviepy's ``FFMPEG_VideoReader``: input seek to a second before the frame, then an exact output seek of
    the rest (a hair early, so ffmpeg's "skip until t" and moviepy's "frame shown at t" agree), scaled with
    bicubic to ``size``.
    """
    start_s = start_index / stream.fps - 0.00001 if start_index > 0 else 0.0
    offset = min(1.0, start_s)
    seek = ["-ss", f"{start_s - offset:.6f}", "-i", stream.source, "-ss", f"{offset:.6f}"] if start_s else \
        ["-i", stream.source]
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", *seek, "-loglevel", "error", "-f", "image2pipe",
            "-vf", "scale={}:{}".format(*stream.size), "-sws_flags", SCALER, "-pix_fmt", "rgb24",
            "-vcodec", "rawvideo", "-"]


class VideoReader:
    """One ffmpeg child decoding one stream forward from a frame; :meth:`close` always reaps it.

    Attributes:
        next_index: the number of the frame the next :meth:`read` returns.
    """

    def __init__(self, stream: VideoStream, *, start_index: int) -> None:
        self.stream = stream
        self.next_index = start_index
        self._nbytes = stream.size[0] * stream.size[1] * 3
        cmd = reader_command(stream, start_index=start_index)
        # stderr to a file: a pipe nobody reads could fill and block ffmpeg while we read its frames
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                          stderr=self._stderr)
        except OSError as exc:
            self._stderr.close()
            raise RenderError(f"cannot start the decoder {cmd[0]!r}: {exc}") from exc

    def read(self) -> np.ndarray | None:
        """The next frame, np.ndarray [shape=(height, width, 3), uint8, RGB], or None past the end."""
        data = self._proc.stdout.read(self._nbytes)
        if len(data) != self._nbytes:
            return None
        self.next_index += 1
        return np.frombuffer(data, dtype=np.uint8).reshape(self.stream.size[1], self.stream.size[0], 3)

    def errors(self) -> str:
        """ffmpeg's messages so far (the tail), for an error report."""
        return stderr_tail(self._stderr)

    def close(self) -> None:
        """Stop ffmpeg (it may be blocked writing frames nobody will read) and wait for it."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.stdout.close()
        self._proc.wait()
        self._stderr.close()


class KeepBudget:
    """Bytes of kept frames, shared by the sources of one render; when full, the frame shown again last goes.

    Dropping the kept frame whose next showing is furthest away (Belady's rule, exact here because the plan says
    when each frame comes back) makes the fewest later cuts decode again.

    Args:
        limit: the most bytes kept at once.
    """

    def __init__(self, limit: int = KEEP_BUDGET_BYTES) -> None:
        self.limit = limit
        self.used = 0
        self._kept: dict[tuple[FrameSource, int], int] = {}  # (source, frame) -> bytes

    def keep(self, owner: FrameSource, index: int, nbytes: int, *, next_use_s: float, now_s: float) -> bool:
        """Reserve ``nbytes`` for frame ``index`` of ``owner``, next shown at ``next_use_s`` (timeline time now
        ``now_s``); False when every kept frame comes back sooner than this one and there is no room."""
        while self.used + nbytes > self.limit:
            victim = max(self._kept, key=lambda k: k[0].next_use(k[1], now_s=now_s), default=None)
            if victim is None or victim[0].next_use(victim[1], now_s=now_s) <= next_use_s:
                return False
            victim[0].drop(victim[1])
        self._kept[(owner, index)] = nbytes
        self.used += nbytes
        return True

    def give(self, owner: FrameSource, index: int) -> None:
        self.used -= self._kept.pop((owner, index), 0)


class FrameSource:
    """The frames of one stream for one render: one reader at a time, plus the frames the plan says come back.

    Args:
        stream: the video and its decode size.
        open_reader: ``open_reader(stream, start_index) -> VideoReader``; the pool passes one that enforces
            ``MAX_OPEN_DECODERS``.
        budget: the render's :class:`KeepBudget`.
    """

    def __init__(self, stream: VideoStream, *, open_reader: Callable[[VideoStream, int], VideoReader],
                 budget: KeepBudget) -> None:
        self.stream = stream
        self._budget = budget
        self.reader: VideoReader | None = None
        self.opened = 0  # readers started so far (a measure of seeking; tests read it)
        self._open_reader = open_reader
        self._uses: dict[int, list[float]] = {}  # frame -> the timeline times it is shown (sorted), from the plan
        self._expiry: list[tuple[float, int]] = []  # heap of (time, frame): release_before drops the past cheaply
        self._kept: dict[int, np.ndarray] = {}  # frames passed that the plan shows again later
        self._latest: np.ndarray | None = None  # the last frame read: asked again, or repeated past the real end
        self._latest_index = -1
        self.last_needed_s = float("-inf")  # the latest timeline time this stream is needed, from the plan
        self.first_needed_s = float("inf")  # the earliest, and the frame then
        self._first_index = 0

    def need(self, index: int, *, at_s: float) -> None:
        """Plan: frame ``index`` is shown at timeline time ``at_s`` seconds."""
        bisect.insort(self._uses.setdefault(index, []), at_s)
        heapq.heappush(self._expiry, (at_s, index))
        self.last_needed_s = max(self.last_needed_s, at_s)
        if at_s < self.first_needed_s:
            self.first_needed_s, self._first_index = at_s, index

    def start(self) -> None:
        """Start the reader at the first planned frame now, so its decoder seeks while other work goes on."""
        if self.reader is None and self._uses:
            self._open(self._first_index, now_s=self.first_needed_s)

    def frame(self, index: int, *, now_s: float) -> np.ndarray:
        """Frame ``index``, np.ndarray [shape=(height, width, 3), uint8, RGB], shown at timeline time ``now_s``.

        Raises:
            RenderError: the stream yields no frame at all from there (a broken or truncated file).
        """
        if index in self._kept:
            return self._kept[index]
        if index == self._latest_index and self._latest is not None:  # a source slower than the output's rate
            return self._latest
        reader = self.reader
        if reader is None or index < reader.next_index or self._seek_is_cheaper(reader.next_index, index, now_s):
            reader = self._open(index, now_s=now_s)
        while reader.next_index <= index:
            at = reader.next_index
            picture = reader.read()
            if picture is None:
                if self._latest is None:
                    raise RenderError(f"cannot decode video source {self.stream.source!r} at "
                                      f"{index / self.stream.fps:.2f} s: {reader.errors()}")
                return self._latest
            self._latest, self._latest_index = picture, at
            later = self._next_use_after(at, now_s)
            if later is not None and at not in self._kept \
                    and self._budget.keep(self, at, picture.nbytes, next_use_s=later, now_s=now_s):
                self._kept[at] = picture
        return self._latest

    def release_before(self, now_s: float) -> None:
        """Forget frames last shown before timeline time ``now_s``; stop the reader once the plan is over."""
        while self._expiry and self._expiry[0][0] < now_s:
            at_s, index = heapq.heappop(self._expiry)
            uses = self._uses[index]
            del uses[bisect.bisect_left(uses, at_s)]
            if not uses:
                del self._uses[index]
                self.drop(index)
        if self.last_needed_s < now_s:
            self.close_reader()

    def close_reader(self) -> None:
        if self.reader is not None:
            reader, self.reader = self.reader, None
            reader.close()

    def close(self) -> None:
        """Stop the reader and drop every frame."""
        self.close_reader()
        for index in list(self._kept):
            self.drop(index)
        self._uses.clear()
        self._expiry.clear()
        self._latest, self._latest_index = None, -1

    def _open(self, index: int, *, now_s: float) -> VideoReader:
        """A new reader for frame ``index``, started earlier when the plan shows frames before it again later (so
        a later cut from a little earlier in the file needs no second decode from the keyframe)."""
        self.close_reader()
        lookback = round(SEEK_AHEAD_S * self.stream.fps)
        start = min([i for i, uses in self._uses.items() if index - lookback <= i < index and uses[-1] >= now_s
                     and i not in self._kept], default=index)
        self.reader = self._open_reader(self.stream, start)
        self.opened += 1
        return self.reader

    def next_use(self, index: int, *, now_s: float) -> float:
        """The next timeline time after ``now_s`` frame ``index`` is shown (inf when never again)."""
        later = self._next_use_after(index, now_s)
        return float("inf") if later is None else later

    def drop(self, index: int) -> None:
        """Forget kept frame ``index`` (a later showing decodes it again)."""
        if self._kept.pop(index, None) is not None:
            self._budget.give(self, index)

    def _next_use_after(self, index: int, now_s: float) -> float | None:
        # a hair past now: the showing being served now (plan and request may differ in the last bit) is not later
        uses = self._uses.get(index)
        if not uses or uses[-1] <= now_s + 1e-6:
            return None
        return uses[bisect.bisect_right(uses, now_s + 1e-6)]

    def _seek_is_cheaper(self, next_index: int, index: int, now_s: float) -> bool:
        if (index - next_index) / self.stream.fps <= SEEK_AHEAD_S:
            return False
        # the gap holds no frame shown later: nothing read on the way would be kept
        return not any(self._uses.get(i, (float("-inf"),))[-1] > now_s for i in range(next_index, index))


class Decoders:
    """The frame sources of one render, one per (file, decode size), with at most ``MAX_OPEN_DECODERS`` readers.

    A context manager: leaving it closes every reader (killing and reaping its ffmpeg child) on success, error and
    cancellation alike.

    Args:
        open_reader: ``open_reader(stream, start_index)``; default :class:`VideoReader` (tests pass a fake).
    """

    def __init__(self, open_reader: Callable[..., VideoReader] | None = None) -> None:
        self._make_reader = open_reader or (lambda stream, start: VideoReader(stream, start_index=start))
        self._sources: dict[VideoStream, FrameSource] = {}
        self._budget = KeepBudget()
        self._open: OrderedDict[VideoStream, None] = OrderedDict()  # sources with a reader, least recent first

    def __enter__(self) -> Decoders:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def source(self, stream: VideoStream) -> FrameSource:
        """The frame source of ``stream`` (made on first use)."""
        if stream not in self._sources:
            self._sources[stream] = FrameSource(stream, open_reader=self._reader_for, budget=self._budget)
        return self._sources[stream]

    def plan(self, uses: Iterable[tuple[VideoStream, float, float]]) -> None:
        """Tell the sources what the render will show: ``(stream, source time s, timeline time s)`` triples."""
        for stream, src_s, at_s in uses:
            self.source(stream).need(stream.index_at(src_s), at_s=at_s)

    def start(self) -> None:
        """Start the readers of the first ``MAX_OPEN_DECODERS`` sources the plan needs, so their ffmpeg children
        decode up to their first frames in parallel (seeking from a keyframe is most of a short draft's decoding)."""
        for frames in sorted(self._sources.values(), key=lambda f: f.first_needed_s)[:MAX_OPEN_DECODERS]:
            frames.start()

    def frame(self, stream: VideoStream, src_s: float, *, now_s: float) -> np.ndarray:
        """The frame of ``stream`` shown at source time ``src_s``, for timeline time ``now_s``."""
        frames = self.source(stream)
        if stream in self._open:
            self._open.move_to_end(stream)
        return frames.frame(stream.index_at(src_s), now_s=now_s)

    def release_before(self, now_s: float) -> None:
        """Drop frames and readers the plan no longer needs by timeline time ``now_s``."""
        for stream, frames in self._sources.items():
            frames.release_before(now_s)
            if frames.reader is None:
                self._open.pop(stream, None)

    def opened(self) -> int:
        """Readers started so far, over all sources."""
        return sum(s.opened for s in self._sources.values())

    def close(self) -> None:
        """Close every reader and drop every frame."""
        for frames in self._sources.values():
            frames.close()
        self._open.clear()

    def _reader_for(self, stream: VideoStream, start_index: int) -> VideoReader:
        self._open.pop(stream, None)
        while len(self._open) >= MAX_OPEN_DECODERS:
            oldest, _ = self._open.popitem(last=False)
            self._sources[oldest].close_reader()
        reader = self._make_reader(stream, start_index)
        self._open[stream] = None
        return reader
