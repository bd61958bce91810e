"""Typed errors of ``templates``: one root, one subclass per kind of failure."""

from __future__ import annotations


class TemplateError(Exception):
    """Root of every error raised by ``templates`` (a bad spec, timeline or render request)."""


class TemplateSpecError(TemplateError, ValueError):
    """A template spec has a missing, unknown or invalid field; the message names the field and the value."""


class RenderError(TemplateError, RuntimeError):
    """A draft could not be rendered (encoder failure, unreadable source, missing font); nothing is left half-written."""


class RenderCancelled(TemplateError):
    """The render was cancelled through its progress callback; the partial file was removed."""


class TimelineError(TemplateError, ValueError):
    """``build_timeline`` cannot make a draft from its inputs (no footage, footage or music too short, bad length)."""
