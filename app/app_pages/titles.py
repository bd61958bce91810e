"""Titles: N ranked candidates, what was dropped and how they were ranked, predicted click-through where the click
model reads the language; edit, use, regenerate."""

import streamlit as st

import actions
import state
import widgets
from titlegen.clickbait import clickbait_patterns

RESTRAINT_STEPS = [0.0, 0.25, 0.5, 1.0, 2.0]
RELEVANCE_STEPS = [0.0, 0.5, 1.0, 2.0]

st.title("Titles")
folder = widgets.current_or_stop()
key = f"titles_{folder.name}"


def _ask_use(text_key: str) -> None:
    st.session_state.use_title = st.session_state[text_key]


if "use_title" in st.session_state:
    title = st.session_state.pop("use_title")
    widgets.run_job("Re-rendering with the new title", lambda progress: actions.edit(
        folder, title=title, on_progress=progress))

data = actions.load(folder)
widgets.draft_summary(data)

with st.expander("Regenerate with other controls", icon=":material/tune:"), st.form("regenerate", border=False):
    style, audience, points, platform, language = widgets.title_controls("titles")
    n = st.slider("How many", min_value=3, max_value=10, value=5)
    restraint = st.select_slider("Plainer titles", options=RESTRAINT_STEPS, value=0.0,
                                 help="How much predicted click-through to give up (log-odds) per clickbait pattern "
                                      "a title has (\"you\", \"this\", hyperbole, !, ?, teasers ...). 0: rank by "
                                      "predicted click-through alone (for Chinese titles: predicted relative "
                                      "engagement, with the Chinese patterns: 震惊, 竟然, 你, ！ ...).")
    relevance = st.select_slider("Closer to the brief", options=RELEVANCE_STEPS, value=0.0,
                                 help="How much predicted click-through (log-odds) one unit of similarity to the "
                                      "brief is worth: titles that stay on the post rank above catchier ones about "
                                      "something else. 0: similarity does not count.")
    if st.form_submit_button("Regenerate titles", icon=":material/refresh:"):
        try:
            ctl = actions.controls(style, audience, points, platform, language)
            with st.spinner("Writing titles ..."):
                result = actions.titles(data["brief"], ctl, n, restraint, relevance)
            st.session_state[key], st.session_state[f"{key}_summary"] = result["titles"], result["summary"]
            st.session_state[f"{key}_round"] = st.session_state.get(f"{key}_round", 0) + 1
        except state.USER_ERRORS as exc:
            widgets.shown_error(exc)

candidates = st.session_state.get(key, data["titles"])
summary = st.session_state.get(f"{key}_summary", actions.titles_summary(data))
round_ = st.session_state.get(f"{key}_round", 0)
st.caption(f"Best first. How they were chosen: {summary}." if summary else "Best first, as ranked when the draft "
           "was made; regenerate to see what was dropped and how they were ranked.")
st.caption("Edit any title in place, then use it. Lengths count characters as readers see them: a Han character "
           f"or an emoji is one (limits: {actions.platform_limits()}).")


def _about(cand: dict, text: str) -> str:
    """One line under a candidate: click-through (only where predicted), source, similarity, length, patterns."""
    ctr, sim = cand.get("predicted_ctr"), cand.get("similarity")
    chinese = actions.title_language(cand) == "zh"
    if ctr is not None:
        parts = [f"relative engagement {ctr:.2f} (chance to out-engage a typical popular title; not a click-through)"
                 if chinese else f"predicted click-through {ctr:.1%}"]
    else:
        parts = ["no calibrated engagement score for Chinese titles" if chinese else "no click model loaded"]
    parts.append(cand["source"])
    if sim is not None:
        parts.append(f"similarity to the brief {sim:.2f}")
    parts.append(f"{actions.title_length(text)} characters")
    patterns = clickbait_patterns(text, language="zh" if chinese else "en")
    parts.append(f"clickbait patterns: {', '.join(patterns)}" if patterns else "no clickbait patterns")
    return " · ".join(parts)


for i, cand in enumerate(candidates):
    with st.container(border=True):
        text_key = f"title_{folder.name}_{round_}_{i}"
        text = st.text_input(f"Title {i + 1}", value=cand["text"], key=text_key, label_visibility="collapsed")
        info, button = st.columns([4, 1])
        info.caption(_about(cand, text))
        if text == data["picks"]["title"]:
            button.success("in the draft", icon=":material/check:")
        else:
            button.button("Use this title", key=f"use_{text_key}", on_click=_ask_use, args=(text_key,))
