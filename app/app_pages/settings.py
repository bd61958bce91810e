"""Settings: where the title model, CLIP weights, music and copy lines come from, and plainly what is loaded."""

import streamlit as st

import actions
import state
import widgets

st.title("Settings")
current = state.settings()

if st.session_state.pop("settings_applied", False):
    st.success("Settings applied.")

st.subheader("What is loaded")
try:
    for what, description in actions.loaded():
        st.markdown(f"**{what}**: {description}")
except state.USER_ERRORS as exc:
    widgets.shown_error(exc)

with st.expander("Change where the models and catalogues come from", icon=":material/tune:"), \
        st.form("settings", border=False):
    st.markdown("Empty fields use the defaults. Models are loaded once per server process and shared by sessions "
                "with the same settings.")
    base = st.text_input("Title model", value=current.title_base,
                         help=f"'{state.DEFAULT_TITLE_BASE}' (the embedded default: Qwen2.5-Coder-0.5B-Instruct "
                              "with the project's LoRA adapter, Chinese and English), 'qwen2.5-0.5b' (the base alone), "
                              "'minilm-title-decoder' (the former English-only default), or a local folder of a "
                              "seq2seq or decoder-only model")
    adapter = st.text_input("Title LoRA adapter folder", value=current.title_adapter,
                            help="a folder written by `python -m titlegen train`")
    click = st.text_input("Click model", value=current.click_model,
                          help="'default' (shipped), a folder saved by ClickModel.save, or empty for none")
    clip = st.text_input("CLIP weights (optional)", value=current.clip_checkpoint,
                         help="a local open_clip checkpoint file or local-dir:<folder>; nothing is downloaded")
    music = st.text_input("Music folder", value=current.music_dir,
                          help="empty: a soundtrack is composed for each draft")
    copy = st.text_input("Copy library (CSV or JSONL)", value=current.copy_file,
                         help="empty: the bundled example lines")
    if st.form_submit_button("Apply", type="primary"):
        state.set_settings(title_base=base or state.DEFAULT_TITLE_BASE, title_adapter=adapter, click_model=click,
                           clip_checkpoint=clip, music_dir=music, copy_file=copy)
        try:
            state.check_model_paths(state.settings())
            state.matcher()
            state.generator()
        except state.USER_ERRORS as exc:
            state.put_settings(current)
            widgets.shown_error(exc)
            st.warning("The previous settings are kept.")
        else:
            st.session_state.settings_applied = True
            st.rerun()  # "What is loaded" above shows the new settings
