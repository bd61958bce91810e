"""Creator studio: ``streamlit run app/studio.py``. A router of pages; each page only shows widgets."""

import streamlit as st

import state
import widgets

st.set_page_config(page_title="Creator studio", page_icon=":material/movie:", layout="wide")
state.session_id()  # every session gets its own workspace before any page runs
state.sweep_once()  # uploads of drafts never made, left by earlier sessions

pages = [
    st.Page("app_pages/create.py", title="Create", icon=":material/movie:", default=True),
    st.Page("app_pages/match.py", title="Match", icon=":material/queue_music:"),
    st.Page("app_pages/titles.py", title="Titles", icon=":material/title:"),
    st.Page("app_pages/draft.py", title="Draft", icon=":material/play_circle:"),
    st.Page("app_pages/library.py", title="Library", icon=":material/video_library:"),
    st.Page("app_pages/settings.py", title="Settings", icon=":material/settings:"),
]
if state.fake_models():
    st.sidebar.warning("Test mode: fake models (CREATOR_STUDIO_FAKE_MODELS is set).")
widgets.cancelled_notice()
st.navigation(pages).run()
