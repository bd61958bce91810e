"""Progress reports and cancellation of long template jobs (renders): what a UI's progress bar and stop button see.

A job is a few stages, each a share of the whole; :class:`Progress` turns "stage, fraction of the stage" into one
overall fraction that a progress bar can show directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from templates.errors import RenderCancelled

ProgressCallback = Callable[[float, str], Any]
# A cancel signal: a callable returning True to cancel, or an object with ``is_set()`` such as threading.Event.
Cancel = Any


class Progress:
    """Overall progress of a staged job, forwarded to ``callback(fraction, stage)``.

    Fractions are clamped to [0, 1] and never go back; 1.0 is sent only by :meth:`done`, exactly once, so a
    caller can treat it as "the output is in place". Reports come at most once per ``min_step`` (and on every stage
    change): a UI redraw per video frame would slow the job down.

    Args:
        callback: ``callback(fraction, stage)`` or None (then nothing is reported).
        stages: stage name -> (start, end) share of the whole, within [0, 1).
        min_step: smallest change of the fraction worth reporting.
    """

    def __init__(self, callback: ProgressCallback | None, *, stages: Mapping[str, tuple[float, float]],
                 min_step: float = 0.01) -> None:
        self._callback = callback
        self._stages = dict(stages)
        self._min_step = min_step
        self._last = 0.0
        self._stage = ""

    def stage(self, stage: str, fraction: float) -> None:
        """Report ``fraction`` (0..1, clamped) of ``stage`` done."""
        low, high = self._stages[stage]
        overall = max(min(low + (high - low) * min(max(fraction, 0.0), 1.0), 0.999), self._last)
        if self._callback is not None and (stage != self._stage or overall - self._last >= self._min_step):
            self._last, self._stage = overall, stage
            self._callback(overall, stage)

    def done(self, stage: str = "done") -> None:
        """Report exactly 1.0: the job is complete."""
        if self._callback is not None:
            self._last, self._stage = 1.0, stage
            self._callback(1.0, stage)


def check_cancelled(cancel: Cancel | None) -> None:
    """Raise if the job was cancelled.

    Args:
        cancel: None, a ``threading.Event`` (cancelled when set) or a callable returning True to cancel.

    Raises:
        RenderCancelled: the signal says cancel.
    """
    if cancel is None:
        return
    is_set = getattr(cancel, "is_set", None)
    if is_set() if callable(is_set) else cancel():
        raise RenderCancelled("render cancelled")
