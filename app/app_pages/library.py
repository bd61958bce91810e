"""Library: this session's drafts; re-open, duplicate, delete (after a confirmation)."""

import time

import streamlit as st

import actions
import state
import widgets

st.title("Library")
st.caption(f"Drafts of this session, in {state.workspace()}")


def _ask(job: str, folder) -> None:
    st.session_state.library_job = (job, folder)


def _confirm(name: str | None) -> None:
    st.session_state.confirm_delete = name


def _open(folder) -> None:
    state.set_current(folder)
    st.session_state.open_draft = True


if st.session_state.pop("open_draft", False):
    st.switch_page("app_pages/draft.py")

if "library_job" in st.session_state:
    job, folder = st.session_state.pop("library_job")
    if job == "duplicate":
        copy = widgets.run_job("Duplicating", lambda progress: actions.duplicate(folder, on_progress=progress))
        if copy is not None:
            st.success(f"Duplicated as {copy.draft_id}.")
    elif job == "delete":
        st.session_state.pop("confirm_delete", None)
        try:
            state.delete_draft(folder)
            st.success(f"Deleted {folder.name}.")
        except state.USER_ERRORS as exc:
            widgets.shown_error(exc)

drafts = state.list_drafts()
if not drafts:
    st.info("No drafts yet in this session.")
    st.page_link("app_pages/create.py", label="Create a draft", icon=":material/movie:")
for folder, data, problem in drafts:
    with st.container(border=True):
        cover, about, buttons = st.columns([1, 3, 1])
        if data is None:
            about.warning(f"{folder.name}: {problem}")
        else:
            if (folder / "cover.jpg").is_file():
                cover.image(str(folder / "cover.jpg"), width=120)
            about.markdown(f"**{data['picks']['title']}**")
            about.caption(f"{data['brief']} · {data['picks']['template']} · "
                          f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(data.get('updated_at', 0)))}"
                          f"{' · current' if state.current() == folder else ''}")
            buttons.button("Open", key=f"open_{folder.name}", on_click=_open, args=(folder,))
            buttons.button("Duplicate", key=f"dup_{folder.name}", on_click=_ask, args=("duplicate", folder))
        if st.session_state.get("confirm_delete") == folder.name:
            about.warning("Delete this draft and its footage? This cannot be undone.")
            yes, no = about.columns(2)
            yes.button("Yes, delete", key=f"yes_{folder.name}", type="primary", on_click=_ask,
                       args=("delete", folder))
            no.button("Cancel", key=f"no_{folder.name}", on_click=_confirm, args=(None,))
        else:
            buttons.button("Delete", key=f"del_{folder.name}", on_click=_confirm,
                           args=(folder.name,))
