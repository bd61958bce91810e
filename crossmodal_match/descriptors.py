"""What footage looks like: per-frame colour, cut and motion measures, faces, and the one-pass shot scan.

The measures are pure functions on ``np.ndarray [shape=(H, W, 3), uint8, RGB]`` frames that the decoder has
already downscaled (about 160 px on the long side for colour, cuts and motion; a few hundred for faces), so each
costs well under a millisecond except the face detector. ``scan_shots`` drives them over a ``VideoReader``
(``crossmodal_match.video``), keeping only the previous frame and one running sum per shot; ``describe_still``
does the same for a photo (decoded by ``crossmodal_match.photo.load_photo``). ``cv2``
(``opencv-python-headless``) is imported inside the functions that need it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from crossmodal_match.errors import ModelLoadError
from crossmodal_match.footage_types import Shot, ShotDescriptors

if TYPE_CHECKING:
    from crossmodal_match.video import VideoReader

# Haar cascade shipped inside the opencv-python-headless wheel (cv2.data.haarcascades); no download needed.
FACE_CASCADE = "haarcascade_frontalface_default.xml"
# Faces smaller than this (in pixels of the frame given to count_faces) are ignored: below it the cascade mostly
# fires on texture.
MIN_FACE_PX = 24


@dataclass(frozen=True)
class FrameStats:
    """Colour measures of one frame; shots average them over their analysis frames.

    Attributes:
        brightness: mean luma (BT.601) in [0, 1].
        saturation: mean HSV saturation in [0, 1].
        warmth: (mean R - mean B) / 255 in [-1, 1]; positive is warm (orange), negative cool (blue).
        contrast: RMS contrast, the standard deviation of luma, in [0, 0.5].
        colourfulness: Hasler-Süsstrunk M on the 0-255 scale, >= 0 (about 15 "slightly", 33 "moderately",
            59 "quite", 82 "highly", 109 "extremely" colourful in the paper's scale).
    """

    brightness: float
    saturation: float
    warmth: float
    contrast: float
    colourfulness: float


class FrameAnalysis:
    """Colour statistics plus the HSV and luma planes that cut detection and motion energy compare.

    Args:
        rgb: np.ndarray [shape=(H, W, 3), uint8, RGB], already downscaled.
    """

    __slots__ = ("hsv", "luma", "stats")

    def __init__(self, rgb: np.ndarray) -> None:
        import cv2

        self.hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)  # H in [0, 180), S and V in [0, 255]
        self.luma = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        self.stats = frame_stats(rgb, hsv=self.hsv, luma=self.luma)


def frame_stats(rgb: np.ndarray, *, hsv: np.ndarray | None = None, luma: np.ndarray | None = None) -> FrameStats:
    """Measure brightness, saturation, warmth, contrast and colourfulness of one frame.

    Args:
        rgb: np.ndarray [shape=(H, W, 3), uint8, RGB].
        hsv: the same frame in OpenCV HSV (uint8, H in [0, 180)), when already computed.
        luma: the same frame's BT.601 luma [shape=(H, W), uint8], when already computed.

    Returns:
        FrameStats with the units documented there.
    """
    import cv2

    if hsv is None:
        hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    if luma is None:
        luma = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    y_mean, y_std = cv2.meanStdDev(luma)
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    return FrameStats(
        brightness=float(y_mean[0, 0]) / 255.0,
        saturation=float(hsv[..., 1].mean()) / 255.0,
        warmth=(float(r.mean()) - float(b.mean())) / 255.0,
        contrast=float(y_std[0, 0]) / 255.0,
        colourfulness=_hasler_susstrunk(r, g, b),
    )


def _hasler_susstrunk(r: np.ndarray, g: np.ndarray, b: np.ndarray) -> float:
    # Hasler & Süsstrunk (2003), "Measuring colourfulness in natural images", metric M (their eq. 3).
    rg = r - g
    yb = 0.5 * (r + g) - b
    std = np.sqrt(rg.var() + yb.var())
    mean = np.sqrt(rg.mean() ** 2 + yb.mean() ** 2)
    return float(std + 0.3 * mean)


def content_difference(prev: FrameAnalysis, cur: FrameAnalysis) -> float:
    """How different two consecutive analysis frames look, for cut detection.

    The mean absolute difference of hue (circular), saturation and value, each scaled to [0, 1] and averaged
    (PySceneDetect's content score, on a 0-1 scale and with hue treated as an angle).

    Args:
        prev, cur: analyses of two frames of the same size.

    Returns:
        float in [0, 1]; 0 for identical frames, about 0.3-0.7 across a hard cut between unrelated shots.
    """
    dh = np.abs(cur.hsv[..., 0].astype(np.int16) - prev.hsv[..., 0].astype(np.int16))
    dh = np.minimum(dh, 180 - dh)  # hue wraps around: 179 and 1 are neighbours
    ds = np.abs(cur.hsv[..., 1].astype(np.int16) - prev.hsv[..., 1].astype(np.int16))
    dv = np.abs(cur.hsv[..., 2].astype(np.int16) - prev.hsv[..., 2].astype(np.int16))
    return float(dh.mean() / 90.0 + ds.mean() / 255.0 + dv.mean() / 255.0) / 3.0


def luma_change(prev: FrameAnalysis, cur: FrameAnalysis) -> float:
    """Mean absolute luma difference between two analysis frames, in [0, 1] (fraction of full scale).

    Args:
        prev, cur: analyses of two frames of the same size.

    Returns:
        float in [0, 1]; 0 for a static picture.
    """
    import cv2

    return float(cv2.absdiff(prev.luma, cur.luma).mean()) / 255.0


@functools.lru_cache(maxsize=1)
def _face_cascade():
    import cv2

    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + FACE_CASCADE)
    if cascade.empty():
        # The XML ships inside the wheel, so an empty cascade means a broken OpenCV install.
        raise ModelLoadError(f"OpenCV could not load {FACE_CASCADE} from {cv2.data.haarcascades}; "
                           "reinstall opencv-python-headless")
    return cascade


def count_faces(rgb: np.ndarray) -> int:
    """Count frontal faces with OpenCV's Haar cascade.

    Args:
        rgb: np.ndarray [shape=(H, W, 3), uint8, RGB]; a few hundred pixels on the long side is enough (faces
            smaller than ``MIN_FACE_PX`` pixels are not found).

    Returns:
        int >= 0, the number of faces found.
    """
    import cv2

    gray = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    faces = _face_cascade().detectMultiScale(gray, scaleFactor=1.2, minNeighbors=5,
                                             minSize=(MIN_FACE_PX, MIN_FACE_PX))
    return int(len(faces))


class ShotAccumulator:
    """Running sums of one shot's frame measures, so a shot is summarised without keeping its frames."""

    __slots__ = ("n", "sums", "motion_sum", "motion_n", "faces", "keyframe_times_s")

    def __init__(self) -> None:
        self.n = 0
        self.sums = np.zeros(5, dtype=np.float64)
        self.motion_sum = 0.0
        self.motion_n = 0
        self.faces = 0
        self.keyframe_times_s: list[float] = []

    def add_frame(self, stats: FrameStats) -> None:
        """Add one analysis frame's colour measures."""
        self.n += 1
        self.sums += (stats.brightness, stats.saturation, stats.warmth, stats.contrast, stats.colourfulness)

    def add_motion(self, change: float) -> None:
        """Add the luma change between this shot's previous and current analysis frame."""
        self.motion_sum += change
        self.motion_n += 1

    def add_keyframe(self, time_s: float, *, face_count: int) -> None:
        """Record a keyframe; the shot's face count is the largest seen on any of its keyframes."""
        self.keyframe_times_s.append(time_s)
        self.faces = max(self.faces, face_count)

    def to_shot(self, index: int, *, start_s: float, end_s: float) -> Shot:
        """Summarise the running measures as a ``Shot`` spanning [start_s, end_s] seconds."""
        brightness, saturation, warmth, contrast, colourfulness = (float(v) for v in self.sums / max(self.n, 1))
        desc = ShotDescriptors(motion_energy=self.motion_sum / self.motion_n if self.motion_n else 0.0,
                               brightness=brightness, saturation=saturation, warmth=warmth, contrast=contrast,
                               colourfulness=colourfulness, face_count=self.faces, length_s=end_s - start_s)
        return Shot(index=index, start_s=start_s, end_s=end_s, keyframe_times_s=tuple(self.keyframe_times_s),
                    descriptors=desc)


class CutDetector:
    """Decides, frame by frame, whether a content difference is a hard cut.

    A cut needs a difference >= ``threshold``, at least ``ADAPTIVE_RATIO`` times the mean of the shot's last
    ``WINDOW`` differences (a fast pan differs a lot from frame to frame without being a cut), and at least
    ``min_shot_s`` seconds since the shot started (a flash is not two cuts).

    Args:
        threshold: content difference in [0, 1] (see ``content_difference``).
        min_shot_s: shortest shot in seconds.
    """

    ADAPTIVE_RATIO = 2.5
    WINDOW = 8

    def __init__(self, *, threshold: float, min_shot_s: float) -> None:
        self.threshold, self.min_shot_s = threshold, min_shot_s
        self.shot_start_s = 0.0
        self._recent: list[float] = []

    def is_cut(self, time_s: float, difference: float) -> bool:
        """Whether the frame at ``time_s`` (seconds), ``difference`` away from the previous one, starts a shot."""
        recent = sum(self._recent) / len(self._recent) if self._recent else 0.0
        cut = (difference >= self.threshold and difference >= self.ADAPTIVE_RATIO * recent
               and time_s - self.shot_start_s >= self.min_shot_s)
        if cut:
            self.shot_start_s, self._recent = time_s, []
        else:
            self._recent = (self._recent + [difference])[-self.WINDOW:]
        return cut


def scan_shots(video: VideoReader, *, analysis_fps: float, cut_threshold: float, min_shot_s: float,
               keyframe_every_s: float | None, analysis_max_side: int = 160,
               face_max_side: int = 480) -> list[Shot]:
    """One decoding pass over a video: cuts, per-shot colour and motion, keyframes with face counts.

    Memory is bounded: only the previous analysis frame and one accumulator per shot are kept.

    Args:
        video: an open reader whose frames have not been read yet.
        analysis_fps: frames/s sampled for cuts, motion and colour.
        cut_threshold, min_shot_s: see ``CutDetector``.
        keyframe_every_s: seconds between keyframes within a shot (the first at the shot's first analysis
            frame); None for no keyframes and no face detection.
        analysis_max_side, face_max_side: long side in pixels of the frames measured and searched for faces.

    Returns:
        the shots in order, the last ending at the end of the decoded stream.
    """
    detector = CutDetector(threshold=cut_threshold, min_shot_s=min_shot_s)
    starts: list[float] = []
    accs: list[ShotAccumulator] = []
    prev: FrameAnalysis | None = None
    prev_s = 0.0
    next_key_s = 0.0
    for time_s, frame in video.sample(every_s=1.0 / analysis_fps):
        cur = FrameAnalysis(video.to_rgb(frame, max_side=analysis_max_side))
        if prev is None or detector.is_cut(time_s, content_difference(prev, cur)):
            starts.append(time_s if starts else 0.0)
            accs.append(ShotAccumulator())
            detector.shot_start_s = next_key_s = time_s
        else:
            # Frames are sampled at their own timestamps (VFR, skipped B-frames), so scale the change to the
            # nominal 1 / analysis_fps gap; this keeps motion comparable between sources of any frame rate.
            gap_s = max(time_s - prev_s, 1e-3)
            accs[-1].add_motion(min(1.0, luma_change(prev, cur) / (gap_s * analysis_fps)))
        accs[-1].add_frame(cur.stats)
        if keyframe_every_s is not None and time_s + 1e-3 >= next_key_s:
            faces = count_faces(video.to_rgb(frame, max_side=face_max_side))
            accs[-1].add_keyframe(time_s, face_count=faces)
            # keyframes sit on a grid from the shot's start, so every shot gets one however short it is
            steps = int((time_s - detector.shot_start_s + 1e-3) / keyframe_every_s) + 1
            next_key_s = detector.shot_start_s + steps * keyframe_every_s
        prev, prev_s = cur, time_s
    ends = starts[1:] + [max(video.end_s, starts[-1])]
    return [acc.to_shot(i, start_s=start, end_s=end) for i, (start, end, acc) in enumerate(zip(starts, ends, accs))]


def describe_still(rgb: np.ndarray, *, duration_s: float, analysis_max_side: int = 160) -> Shot:
    """The single shot of a photo shown for ``duration_s`` seconds.

    Args:
        rgb: np.ndarray [shape=(H, W, 3), uint8, RGB], upright; faces are searched at this size.
        duration_s: how long the still lasts, seconds.
        analysis_max_side: long side in pixels at which colour is measured (as for video).

    Returns:
        Shot 0 over [0, duration_s] with motion_energy 0 and one keyframe at 0.0.
    """
    import cv2

    height, width = rgb.shape[:2]
    scale = min(1.0, analysis_max_side / max(width, height))
    small = cv2.resize(rgb, (max(1, round(width * scale)), max(1, round(height * scale))),
                       interpolation=cv2.INTER_AREA)
    acc = ShotAccumulator()
    acc.add_frame(frame_stats(small))
    acc.add_keyframe(0.0, face_count=count_faces(rgb))
    return acc.to_shot(0, start_s=0.0, end_s=duration_s)
