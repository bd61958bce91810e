"""A small still of each template's look (its aspect, reframing, grade and title style) for the Match page.

The still is the template's own cover (``templates.render.render_cover``) of a timeline built from the demo
footage with a sample title, at thumbnail size, so it shows what the template does rather than a picture drawn
for it. Stills are cached on disk under ``$CREATOR_STUDIO_HOME/thumbnails/``, keyed by the template's spec, so an
edited template gets a new one.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import streamlit as st

import state

WIDTH = 160  # pixels; the height follows the template's aspect
SAMPLE_TITLE = "Your title"
VERSION = 2  # bump when the way stills are made changes (2: card-title templates show their card)


@st.cache_resource(show_spinner=False)
def _demo_footage(clip: str, photo: str) -> tuple[list[Any], list[str]]:
    """The demo's sunset clip and its photo, analysed once per process (well under a second)."""
    from crossmodal_match.footage import analyze_footage

    return [analyze_footage(clip), analyze_footage(photo)], [clip, photo]


def _sample() -> tuple[list[Any], list[str]]:
    media = state.demo_media()
    clip = next((c for c in media["clips"] if "sunset" in Path(c).name), media["clips"][0])
    return _demo_footage(clip, media["photos"][0])


def thumbnail(name: str) -> Path:
    """The still of template ``name`` (made on first use, then read from the disk cache).

    Raises:
        TemplateError: an unknown template, one the sample footage cannot fill, or a render that failed.
    """
    import templates
    from templates.render import render_cover

    spec = templates.get_template(name)
    key = hashlib.sha1(f"{VERSION}{WIDTH}{spec!r}".encode()).hexdigest()[:12]
    path = state.home() / "thumbnails" / f"{name}-{key}.jpg"
    if path.is_file():
        return path
    footage, paths = _sample()
    timeline = templates.build_timeline(spec, footage, None, SAMPLE_TITLE, "", music_path=None,
                                        footage_paths=paths)
    small = dataclasses.replace(timeline, width=WIDTH, height=2 * round(WIDTH * timeline.height / timeline.width / 2))
    path.parent.mkdir(parents=True, exist_ok=True)
    return render_cover(small, path)  # written to a temp file and renamed: two sessions can race safely
