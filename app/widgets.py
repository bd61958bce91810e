"""Widgets the pages share: a job with live stage progress, the title controls, the draft header."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import streamlit as st

import actions
import state


def run_job(label: str, job: Callable[[Callable[[float, str], None]], Any]) -> Any:
    """Run ``job(on_progress)`` under ``st.status`` with a bar showing the library's stage names and fractions, and
    a Cancel button.

    Cancel works the way Streamlit does: the click asks for a rerun, so the next progress report (several a second
    while rendering) stops the job from inside its callback; the libraries clean up on the way out (a draft that is
    being made is not kept, a re-render leaves the previous files as they were), and the rerun says so.

    Returns:
        the job's result, or None after showing the message of a library error with ``st.error``.
    """
    error = None
    with st.status(label, expanded=True) as status:
        cancel = st.empty()
        cancel.button("Cancel", key="cancel_job", icon=":material/cancel:", on_click=_cancelled, args=(label,),
                      help="Stop now; nothing is changed")
        bar = st.progress(0.0, text="starting")
        last = {"stage": "", "pct": -1}

        def on_progress(fraction: float, stage: str) -> None:
            pct = int(fraction * 100)
            if stage != last["stage"]:
                st.caption(f"stage: {stage}")
                status.update(label=f"{label}: {stage}", expanded=True)
            if (stage, pct) != (last["stage"], last["pct"]):
                bar.progress(min(max(fraction, 0.0), 1.0), text=f"{stage} · {pct}%")
                last.update(stage=stage, pct=pct)

        try:
            result = job(on_progress)
        except state.USER_ERRORS as exc:
            error = exc
            status.update(label=f"{label}: failed", state="error", expanded=False)
        else:
            status.update(label=f"{label}: done", state="complete", expanded=False)
        finally:
            cancel.empty()
    if error is not None:
        st.error(state.message(error))
        return None
    return result


def _cancelled(label: str) -> None:
    st.session_state.cancelled_job = label


def cancelled_notice() -> None:
    """After a Cancel click: say what was stopped (once)."""
    label = st.session_state.pop("cancelled_job", None)
    if label:
        st.warning(f"{label}: cancelled; nothing was kept or changed.", icon=":material/cancel:")


def shown_error(exc: BaseException) -> None:
    st.error(state.message(exc))


def title_controls(prefix: str) -> tuple[str, str, str, str, str]:
    """Style preset, audience, selling points (comma-separated), platform and language; remembered for the
    session."""
    import titlegen
    from titlegen.language import AUTO, LANGUAGES

    styles, platforms = titlegen.list_styles(), titlegen.list_platforms()
    left, right = st.columns(2)
    style = left.selectbox("Style", styles, index=styles.index("lifestyle"), key=f"{prefix}_style",
                           format_func=lambda s: f"{s}: {titlegen.get_style(s).description}")
    platform = right.selectbox("Platform", platforms, index=platforms.index("generic"), key=f"{prefix}_platform",
                               format_func=lambda p: f"{p} (titles up to {titlegen.get_platform(p).max_chars} "
                                                     "characters)",
                               help="Limits count characters as readers see them: a Han character or an emoji is one")
    audience = left.text_input("Audience", key=f"{prefix}_audience", placeholder="e.g. busy parents / 上班族")
    points = right.text_input("Selling points (comma-separated, up to 5)", key=f"{prefix}_points",
                              placeholder="e.g. waterproof, free shipping / 续航四十小时，主动降噪")
    names = {AUTO: "auto: the brief's language", **{code: f"{code}: {name}" for code, name in LANGUAGES.items()}}
    language = left.selectbox("Language", list(names), key=f"{prefix}_language", format_func=names.get,
                              help="Chinese briefs get Chinese titles and English briefs English ones, unless you "
                                   "ask for a language here")
    return style, audience, points, platform, language


def current_or_stop() -> Path:
    """The session's current draft; without one, a pointer to the Create page and the page stops."""
    folder = state.current()
    if folder is None:
        st.info("No draft yet: make one on the Create page (or open one from the Library).")
        st.page_link("app_pages/create.py", label="Create a draft", icon=":material/movie:")
        st.stop()
    try:
        actions.load(folder)
    except state.USER_ERRORS as exc:
        shown_error(exc)
        st.stop()
    return folder


def draft_summary(data: dict[str, Any]) -> None:
    """The picks of a draft in one block."""
    picks = data["picks"]
    st.markdown(f"**{picks['title']}**")
    st.caption(picks["copy"])
    music = data["music"]["id"] or "no music"
    quality = "fast low-res preview" if data.get("preview") else "full quality"
    st.caption(f"template **{picks['template']}** · music **{music}** · {quality}")
    for note in data.get("notes", []):
        st.caption(f"note: {note}")
