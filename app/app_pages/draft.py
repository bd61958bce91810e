"""Draft: watch it (fast preview first), edit title / caption / template / music and re-render, read and fix what
the footage says (the captions follow), render full, download."""

import zlib

import streamlit as st

import actions
import widgets

st.title("Draft")
folder = widgets.current_or_stop()


def _ask(job: str, **changes) -> None:
    st.session_state.draft_job = (job, changes)


if "draft_job" in st.session_state:
    job, changes = st.session_state.pop("draft_job")
    if job == "full":
        widgets.run_job("Rendering full quality", lambda progress: actions.edit(
            folder, preview=False, on_progress=progress))
    else:
        widgets.run_job("Re-rendering the preview", lambda progress: actions.edit(
            folder, on_progress=progress, **changes))

data = actions.load(folder)
picks = data["picks"]
if picks["template"] not in actions.template_names():
    st.error(f"This draft's template '{picks['template']}' is not installed here (installed: "
             f"{', '.join(actions.template_names())}). The draft and its video are kept: pick a template under Edit "
             "and re-render.")
video, side = st.columns([2, 3])
video.video(str(folder / "draft.mp4"))
with side:
    widgets.draft_summary(data)
    if data.get("preview"):
        st.button("Render full quality", type="primary", icon=":material/hd:", on_click=_ask, args=("full",))
    st.button("Keep this draft", icon=":material/thumb_up:", on_click=actions.record_picks, args=(folder, "kept"),
              help="Tells the matcher these picks worked (used when it is retrained)")

with st.form("edit"):
    st.markdown("**Edit** (re-renders a preview from the stored analyses; nothing is analysed again)")
    title = st.text_input("Title", value=picks["title"], help="Chinese or English; rendered with the template's "
                          "font, which covers Han characters")
    st.caption(f"The draft's title has {actions.title_length(picks['title'])} characters as readers count them (a Han "
               f"character or an emoji is one); platform limits: {actions.platform_limits()}.")
    copy = st.text_area("Caption", value=picks["copy"], height=80)
    names = actions.template_names()
    template = st.selectbox("Template", names, index=names.index(picks["template"]) if picks["template"] in names
                            else 0, format_func=actions.template_label)
    tracks = actions.music_choices(data)
    music = st.selectbox("Music (the footage is re-cut on the new track's beats)", list(tracks),
                         index=list(tracks).index(data["music"]["id"]) if data["music"]["id"] in tracks else 0,
                         format_func=tracks.get, disabled=not tracks)
    if st.form_submit_button("Apply and re-render", icon=":material/refresh:"):
        _ask("edit", title=title, copy=copy, template=template, music_id=music)
        st.rerun()

spoken = actions.transcript_rows(data)
if spoken:
    with st.form("transcript"):
        st.markdown("**What was said** (fix a misheard line and the captions follow it; clear a line that was never "
                    "said; nothing is transcribed again)")
        if not actions.speaks(picks["template"]):
            st.caption(f"The template '{picks['template']}' captions the copy line, not the words; pick "
                       "talking-head-captions to burn these in. The fixes are kept for when you do.")
        fixed = {}
        for n, (path, heading, spans) in enumerate(spoken):
            st.caption(heading)
            for i, (span, text) in enumerate(spans):
                # the key carries the line itself: after a line is removed the ones below move up, and a key by
                # position alone would show a removed line's empty box in place of the next line
                fixed[(path, i)] = st.text_input(span, value=text, key=f"said_{n}_{i}_{zlib.crc32(text.encode())}")
        if st.form_submit_button("Apply fixes and re-render", icon=":material/subtitles:"):
            edits: dict[str, dict[int, str]] = {}
            for (path, i), text in fixed.items():
                if text != spoken[[p for p, _, _ in spoken].index(path)][2][i][1]:
                    edits.setdefault(path, {})[i] = text
            if edits:
                _ask("edit", transcript_edits=edits)
                st.rerun()
            st.info("Nothing changed in what was said.")

st.markdown("**Download**")
files = [("Video (mp4)", "draft.mp4", "video/mp4"), ("Captions (.srt)", "captions.srt", "application/x-subrip"),
         ("Captions (.vtt)", "captions.vtt", "text/vtt"), ("Cover (jpg)", "cover.jpg", "image/jpeg"),
         ("draft.json", "draft.json", "application/json")]
for column, (label, name, mime) in zip(st.columns(len(files)), files):
    path = folder / name
    if path.is_file():
        exported = name in ("draft.mp4", "cover.jpg")
        column.download_button(label, data=path.read_bytes(), file_name=f"{folder.name}-{name}", mime=mime,
                               key=f"download_{name}", icon=":material/download:",
                               on_click=actions.record_picks if exported else "ignore",
                               args=(folder, "exported") if exported else None)
