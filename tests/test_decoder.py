"""Source decoding shared by the cuts of a render: one reader per source, planned frames kept, readers always closed."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import templates.decoder as decoder
from templates.decoder import Decoders, KeepBudget, VideoStream
from templates.errors import RenderCancelled, RenderError
from templates.timeline import Timeline, TimelineClip
from tests import media

STREAM = VideoStream(source="a.mp4", size=(4, 2), fps=10.0, duration_s=10.0)


class FakeReader:
    """Frame k of a stream is filled with k: what a reader hands out can be checked against what was asked."""

    live: list[FakeReader] = []
    most_open = 0

    def __init__(self, stream: VideoStream, start: int) -> None:
        self.stream, self.next_index, self.closed = stream, start, False
        FakeReader.live.append(self)
        FakeReader.most_open = max(FakeReader.most_open, sum(not r.closed for r in FakeReader.live))

    def read(self):
        last = self.stream.index_at(self.stream.duration_s)
        if self.next_index > last:
            return None
        self.next_index += 1
        return np.full((self.stream.size[1], self.stream.size[0], 3), self.next_index - 1, dtype=np.uint8)

    def close(self) -> None:
        self.closed = True

    def errors(self) -> str:
        return "fake"


@pytest.fixture(autouse=True)
def _fresh_fakes():
    FakeReader.live, FakeReader.most_open = [], 0


def _render_like(decoders: Decoders, cuts: list[tuple[VideoStream, float, float, float]], *, fps: float = 10.0):
    """Plan, then ask frame by frame as the renderer does; ``cuts`` = (stream, timeline start, end, source start)."""
    times = [i / fps for i in range(round(max(c[2] for c in cuts) * fps))]
    decoders.plan((s, src + t - a, t) for t in times for s, a, b, src in cuts if a <= t < b)
    decoders.start()
    shown = []
    for t in times:
        for stream, a, b, src in cuts:
            if a <= t < b:
                shown.append((stream.index_at(src + t - a), int(decoders.frame(stream, src + t - a, now_s=t)[0, 0, 0])))
        decoders.release_before(t)
    return shown


def test_many_cuts_from_one_source_open_one_reader_and_get_the_right_frames():
    # 12 cuts of 0.5 s, each showing 3.0 .. 3.5 s or 2.6 .. 3.1 s of the file: backwards jumps, repeated frames
    cuts = [(STREAM, 0.5 * k, 0.5 * (k + 1), 3.0 if k % 2 else 2.6) for k in range(12)]
    with Decoders(open_reader=FakeReader) as decoders:
        shown = _render_like(decoders, cuts)
        assert all(asked == got for asked, got in shown), shown
        assert decoders.opened() == 1 and len(FakeReader.live) == 1
        decoders.release_before(6.1)
        assert decoders._budget.used == 0  # every kept frame is dropped once shown for the last time
    assert all(r.closed for r in FakeReader.live)


def test_past_the_budget_frames_are_decoded_again_not_kept():
    cuts = [(STREAM, 0.5 * k, 0.5 * (k + 1), 3.0 if k % 2 else 2.6) for k in range(6)]
    with Decoders(open_reader=FakeReader) as decoders:
        decoders._budget = KeepBudget(limit=2 * 4 * 2 * 3)  # two frames
        for frames in decoders._sources.values():
            frames._budget = decoders._budget
        shown = _render_like(decoders, cuts)
        assert all(asked == got for asked, got in shown)
        assert decoders.opened() > 1 and decoders._budget.used <= decoders._budget.limit


def test_at_most_max_open_readers_and_each_closed_after_its_last_cut():
    streams = [VideoStream(source=f"{k}.mp4", size=(4, 2), fps=10.0, duration_s=10.0) for k in range(7)]
    cuts = [(streams[k % 7], 0.3 * k, 0.3 * (k + 1), 1.0 + 0.1 * k) for k in range(21)]
    with Decoders(open_reader=FakeReader) as decoders:
        shown = _render_like(decoders, cuts)
        assert all(asked == got for asked, got in shown)
        assert 1 < FakeReader.most_open <= decoder.MAX_OPEN_DECODERS
        decoders.release_before(6.4)
        assert all(r.closed for r in FakeReader.live)  # each closed once past its last cut, before the block ends


def test_unplanned_frames_are_still_exact():
    with Decoders(open_reader=FakeReader) as decoders:
        for src_s in (4.0, 4.05, 4.3, 1.0, 9.0, 9.95, 20.0):
            assert decoders.frame(STREAM, src_s, now_s=0.0)[0, 0, 0] == STREAM.index_at(src_s)


# --- with ffmpeg and the renderer ---------------------------------------------------------------------------------

COLOURS = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 200)]


@pytest.fixture(scope="module")
def four_colours(tmp_path_factory):
    """A 2 s video of four 0.5 s colour segments (96x64, 10 fps)."""
    folder = tmp_path_factory.mktemp("decoder_src")
    return media.colour_segments(folder / "v.mp4", colours=COLOURS, durations_s=[0.5] * 4, size=(96, 64))


def _cuts_timeline(video) -> tuple[Timeline, list[int]]:
    order = [0, 2, 1, 3, 0, 2, 1, 3]  # backwards and forwards through the one file
    clips = tuple(TimelineClip(source=str(video), kind="video", src_start_s=0.5 * seg + 0.1,
                               src_end_s=0.5 * seg + 0.35, start_s=0.25 * k, end_s=0.25 * (k + 1))
                  for k, seg in enumerate(order))
    return Timeline(template="test", width=96, height=64, fps=10.0, duration_s=2.0, clips=clips), order


class CountingReader(decoder.VideoReader):
    made: list[CountingReader] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.closed = False
        CountingReader.made.append(self)

    def close(self) -> None:
        self.closed = True
        super().close()


@pytest.fixture()
def counting(monkeypatch):
    CountingReader.made = []
    monkeypatch.setattr(decoder, "VideoReader", CountingReader)
    return CountingReader.made


def test_render_reads_one_source_once_for_its_eight_cuts(four_colours, tmp_path, counting):
    av = pytest.importorskip("av")
    pytest.importorskip("moviepy")
    from templates.render import render

    timeline, order = _cuts_timeline(four_colours)
    out = render(timeline, tmp_path / "cuts.mp4")
    assert len(counting) == 1 and counting[0].closed
    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    for k, seg in enumerate(order):  # the middle frame of each cut shows its segment's colour
        assert np.allclose(frames[round(2.5 * k) + 1][32, 48], COLOURS[seg], atol=16), (k, seg)


@pytest.mark.parametrize("failure", ["cancel", "encoder"])
def test_readers_are_closed_on_cancel_and_error(four_colours, tmp_path, counting, monkeypatch, failure):
    psutil = pytest.importorskip("psutil")
    pytest.importorskip("moviepy")
    import templates.encoder as encoder
    from templates.render import render

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    timeline, _ = _cuts_timeline(four_colours)
    event = threading.Event()
    if failure == "encoder":
        real = encoder.encoder_command
        monkeypatch.setattr(encoder, "encoder_command",
                            lambda *a, **k: [x if x != "libx264" else "no-such-encoder" for x in real(*a, **k)])
    on_progress = lambda f, stage: event.set() if stage == "video" and f > 0.5 else None  # noqa: E731
    with pytest.raises(RenderCancelled if failure == "cancel" else RenderError):
        render(timeline, tmp_path / "x.mp4", cancel=event, on_progress=on_progress)
    assert counting and all(r.closed for r in counting)
    assert {p.pid for p in psutil.Process().children(recursive=True)} <= before
    assert list(tmp_path.iterdir()) == []


def test_a_full_budget_drops_the_frame_shown_again_last():
    frame_bytes = 4 * 2 * 3
    # frames 0 and 1 (read on the way to 2) come back at 5 s and 1 s; room for one: frame 1, needed sooner, stays
    with Decoders(open_reader=FakeReader) as decoders:
        decoders._budget.limit = frame_bytes
        decoders.plan([(STREAM, 0.0, 0.0), (STREAM, 0.2, 0.1), (STREAM, 0.0, 5.0), (STREAM, 0.1, 1.0)])
        assert decoders.frame(STREAM, 0.0, now_s=0.0)[0, 0, 0] == 0
        decoders.release_before(0.0)
        assert decoders.frame(STREAM, 0.2, now_s=0.1)[0, 0, 0] == 2
        frames = decoders.source(STREAM)
        assert list(frames._kept) == [1] and decoders._budget.used == frame_bytes
        assert decoders.frame(STREAM, 0.1, now_s=1.0)[0, 0, 0] == 1 and decoders.opened() == 1
        assert decoders.frame(STREAM, 0.0, now_s=5.0)[0, 0, 0] == 0 and decoders.opened() == 2  # decoded again
