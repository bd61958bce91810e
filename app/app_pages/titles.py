"""Titles: N candidates with predicted click-through in the default (diversity-aware) order; edit, use, regenerate."""

import streamlit as st

import actions
import state
import widgets

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
    if st.form_submit_button("Regenerate titles", icon=":material/refresh:"):
        try:
            ctl = actions.controls(style, audience, points, platform)
            with st.spinner("Writing titles ..."):
                st.session_state[key] = actions.titles(data["brief"], ctl, n)
            st.session_state[f"{key}_round"] = st.session_state.get(f"{key}_round", 0) + 1
        except state.USER_ERRORS as exc:
            widgets.shown_error(exc)

candidates = st.session_state.get(key, data["titles"])
round_ = st.session_state.get(f"{key}_round", 0)
st.caption("Best first: ranked by predicted click-through, with near-duplicates moved down. Edit any title in "
           "place, then use it.")
for i, cand in enumerate(candidates):
    with st.container(border=True):
        text_key = f"title_{folder.name}_{round_}_{i}"
        text = st.text_input(f"Title {i + 1}", value=cand["text"], key=text_key, label_visibility="collapsed")
        info, button = st.columns([4, 1])
        ctr = cand.get("predicted_ctr")
        info.caption(f"predicted click-through {ctr:.1%} · {cand['source']}" if ctr is not None
                     else f"no click model loaded · {cand['source']}")
        if text == data["picks"]["title"]:
            button.success("in the draft", icon=":material/check:")
        else:
            button.button("Use this title", key=f"use_{text_key}", on_click=_ask_use, args=(text_key,))
