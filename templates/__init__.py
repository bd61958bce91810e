"""Declarative templates, the beat-synced timeline, the renderer and ``make_draft`` (issue #5).

    from templates import get_template, build_timeline
    spec = get_template("beat-cut-showcase")           # list_templates() names them all
    timeline = build_timeline(spec, footage, analysis, "Summer drop", "New colours, same fit.",
                              music_path="music/track.mp3")

    from templates import make_draft, rerender, load_draft   # the one composition root
    draft = make_draft(["clip.mp4"], "Summer drop", generator=gen, matcher=matcher, out_dir="drafts")

``import templates`` must stay free of torch: it receives a title generator and a matcher as arguments, and takes
only plain data types from ``crossmodal_match`` (``Footage``, ``MusicAnalysis``, ``TemplateCard``).
"""

from __future__ import annotations

from templates.draft import load_draft, make_draft, rerender
from templates.errors import RenderCancelled, RenderError, TemplateError, TemplateSpecError, TimelineError
from templates.placement import build_timeline
from templates.registry import add_template_dir, get_template, list_templates, template_cards
from templates.spec import TemplateSpec
from templates.timeline import Timeline

__all__ = ["RenderCancelled", "RenderError", "TemplateError", "TemplateSpec", "TemplateSpecError", "Timeline",
           "TimelineError", "add_template_dir", "build_timeline", "get_template", "list_templates",
           "load_draft", "make_draft", "rerender", "template_cards"]
