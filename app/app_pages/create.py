"""Create: footage, a one-line brief and title controls in; one click makes a draft from the top picks."""

import streamlit as st

import actions
import state
import widgets

st.title("Create a draft")
st.caption("Upload clips or photos, say in one line what the post is about, and get a draft cut on the beat.")

draft_id = state.pending_id()


def _use_demo(language: str = "en") -> None:
    """Add the demo footage; the brief becomes the demo brief in ``language`` unless the creator wrote their own."""
    state.add_demo_footage(draft_id)
    if st.session_state.get("brief", "").strip() in ("", *state.DEMO_BRIEFS.values()):
        st.session_state.brief = state.DEMO_BRIEFS[language]


if state.demo_launch() and not st.session_state.get("demo_offered"):
    # Started by app/launch.py: the first draft of a session starts from the demo, one click away.
    st.session_state.demo_offered = True
    _use_demo()

uploads = st.file_uploader("Clips and photos", type=list(state.UPLOAD_TYPES), accept_multiple_files=True,
                           key=f"uploads_{draft_id}", max_upload_size=state.upload_limit_mb(),
                           help=f"Up to {state.upload_limit_mb()} MB a file. Files are stored under new names "
                                "in your session's own folder.")
demo = state.demo_files(draft_id)
if demo:
    names, remove = st.columns([4, 1])
    names.info("Demo footage in this draft: " + ", ".join(state.display_name(p) for p in demo)
               + ". Remove it to use only your own files.", icon=":material/auto_awesome:")
    remove.button("Remove demo", icon=":material/close:", on_click=state.remove_demo_footage,
                  args=(draft_id,), help="Take the demo clips and photo out of this draft")
    demo_brief = {text: language for language, text in state.DEMO_BRIEFS.items()}.get(
        st.session_state.get("brief", "").strip())
    if demo_brief is not None:
        other = "en" if demo_brief == "zh" else "zh"
        remove.button("English brief" if other == "en" else "中文 brief", icon=":material/translate:",
                      on_click=_use_demo, args=(other,), help="The demo brief in the other language: titles are "
                                                              "written in the brief's language")
else:
    english, chinese = st.columns(2)
    english.button("Use demo media", icon=":material/auto_awesome:", on_click=_use_demo,
                   help="Three short synthetic clips, a photo and two drum tracks (made on this machine), with an "
                        "English brief")
    chinese.button("Use demo media (中文 brief)", icon=":material/translate:", on_click=_use_demo, args=("zh",),
                   help="The same demo footage with the brief in Chinese: the titles come out in Chinese")

# No max_chars: the field would silently cut a pasted text; the server says what is wrong instead.
brief = st.text_input("Brief", key="brief", placeholder="e.g. A lazy Sunday picnic by the lake / 周末湖边野餐",
                      help=f"One line, up to {state.BRIEF_MAX_CHARS} characters, in Chinese or English: titles "
                           "follow its language (or the Language under Title style). Left empty, a clip where "
                           "someone talks is its own brief: the gist of what is said")
with st.expander("Title style", expanded=False):
    style, audience, points, platform, language = widgets.title_controls("create")

if st.button("Make my draft", type="primary", icon=":material/bolt:", width="stretch"):
    try:
        state.check_brief(brief)
        footage = [*demo, *(state.save_upload(u, draft_id) for u in uploads or [])]
        ctl = actions.controls(style, audience, points, platform, language)
    except state.USER_ERRORS as exc:
        widgets.shown_error(exc)
    else:
        draft = widgets.run_job("Making your draft", lambda progress: actions.make(
            footage, brief, ctl, draft_id=draft_id, on_progress=progress))
        if draft is not None:
            state.set_current(draft.folder)
            state.next_pending()
            st.session_state.last_made = draft.folder

made = st.session_state.get("last_made")
if made is not None and state.current() == made:
    st.subheader("Your draft")
    video, about = st.columns([2, 3])
    video.video(str(made / "draft.mp4"))
    with about:
        widgets.draft_summary(actions.load(made))
        st.page_link("app_pages/match.py", label="Swap music, template or caption", icon=":material/swap_horiz:")
        st.page_link("app_pages/titles.py", label="Pick another title", icon=":material/title:")
        st.page_link("app_pages/draft.py", label="Edit, render full quality, download", icon=":material/download:")
