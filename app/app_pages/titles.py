"""Titles: N candidates with predicted click-through in the default (diversity-aware) order; edit, use, regenerate."""

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
    style, audience, points, platform = widgets.title_controls("titles")
    n = st.slider("How many", min_value=3, max_value=10, value=5)
    restraint = st.select_slider("Plainer titles", options=RESTRAINT_STEPS, value=0.0,
                                 help="How much predicted click-through to give up (log-odds) per clickbait pattern "
                                      "a title has (\"you\", \"this\", hyperbole, !, ?, teasers ...). 0: rank by "
                                      "predicted click-through alone.")
    relevance = st.select_slider("Closer to the brief", options=RELEVANCE_STEPS, value=0.0,
                                 help="How much predicted click-through (log-odds) one unit of similarity to the "
                                      "brief is worth: titles that stay on the post rank above catchier ones about "
                                      "something else. 0: similarity does not count.")
    if st.form_submit_button("Regenerate titles", icon=":material/refresh:"):
        try:
            ctl = actions.controls(style, audience, points, platform)
            with st.spinner("Writing titles ..."):
                st.session_state[key] = actions.titles(data["brief"], ctl, n, restraint, relevance)
            st.session_state[f"{key}_round"] = st.session_state.get(f"{key}_round", 0) + 1
        except state.USER_ERRORS as exc:
            widgets.shown_error(exc)

candidates = st.session_state.get(key, data["titles"])
round_ = st.session_state.get(f"{key}_round", 0)
st.caption("Best first: ranked by predicted click-through (less a penalty per clickbait pattern when you ask for "
           "plainer titles, plus a bonus for similarity to the brief when you ask for titles closer to it), with "
           "near-duplicates moved down. Edit any title in place, then use it.")
for i, cand in enumerate(candidates):
    with st.container(border=True):
        text_key = f"title_{folder.name}_{round_}_{i}"
        text = st.text_input(f"Title {i + 1}", value=cand["text"], key=text_key, label_visibility="collapsed")
        info, button = st.columns([4, 1])
        ctr, sim = cand.get("predicted_ctr"), cand.get("similarity")
        patterns = clickbait_patterns(text)
        info.caption((f"predicted click-through {ctr:.1%}" if ctr is not None else "no click model loaded")
                     + f" · {cand['source']} · "
                     + (f"similarity to the brief {sim:.2f} · " if sim is not None else "")
                     + (f"clickbait patterns: {', '.join(patterns)}" if patterns else "no clickbait patterns"))
        if text == data["picks"]["title"]:
            button.success("in the draft", icon=":material/check:")
        else:
            button.button("Use this title", key=f"use_{text_key}", on_click=_ask_use, args=(text_key,))
