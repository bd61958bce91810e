"""Match: the ranked music, templates and copy lines behind the draft, why each ranks there, and swapping."""

import streamlit as st

import actions
import state
import thumbnails
import widgets

SHOWN = 5
KIND_LABEL = {"music": "Music", "template": "Templates", "copy": "Copy lines"}

st.title("Match")
folder = widgets.current_or_stop()


def _ask_swap(kind: str, candidate: dict) -> None:
    st.session_state.swap = (kind, candidate)


def _ask_recompose() -> None:
    st.session_state.recompose = (st.session_state.compose_style, int(st.session_state.compose_seed))


if "swap" in st.session_state:
    kind, candidate = st.session_state.pop("swap")
    widgets.run_job(f"Using {candidate['title']}", lambda progress: actions.swap(
        folder, kind, candidate, on_progress=progress))
if "recompose" in st.session_state:
    style, seed = st.session_state.pop("recompose")
    widgets.run_job(f"Composing a {style} soundtrack (seed {seed})", lambda progress: actions.recompose(
        folder, style=style, seed=seed, on_progress=progress))

data = actions.load(folder)
picked = actions.picks(data)
widgets.draft_summary(data)


def _features(candidate: dict) -> None:
    rows = {"feature": list(candidate["features"]), "fit": list(candidate["features"].values())}
    st.dataframe(rows, hide_index=True, width="stretch", column_config={
        "fit": st.column_config.ProgressColumn("fit", min_value=0.0, max_value=1.0, format="%.2f")})


def _candidate(kind: str, candidate: dict) -> None:
    with st.container(border=True):
        head, button = st.columns([4, 1])
        head.markdown(f"**#{candidate['rank']} {candidate['title']}** · score {candidate['score']:.3f}")
        if picked[kind] == candidate["id"]:
            button.success("in the draft", icon=":material/check:")
        else:
            button.button("Use this", key=f"use_{kind}_{candidate['id']}", on_click=_ask_swap,
                          args=(kind, candidate))
        st.caption(candidate["reason"])
        if kind == "template":
            still, about = st.columns([1, 4])
            try:
                still.image(str(thumbnails.thumbnail(candidate["id"])), width=110,
                            caption="its look, on demo footage")
            except state.USER_ERRORS as exc:
                still.caption(f"no preview still: {state.message(exc)}")
            about.write(actions.template_description(candidate["id"]))
        if kind == "music" and candidate.get("origin") == "composed":
            if picked[kind] == candidate["id"]:
                st.audio(data["music"]["path"])
                st.caption("composed for this draft: its length, tempo and sections; free to use (CC0)")
            else:
                st.caption("composed when you use it, for this draft's length and tempo (a second or two)")
        elif kind == "music":
            path, moment = actions.track_file(candidate["id"]), candidate.get("moment_s")
            if path is None:
                st.caption("not in the current music folder")
            else:
                start, end = (moment or (0.0, None))
                st.audio(path, start_time=int(start), end_time=int(end) + 1 if end else None)
                if moment:
                    st.caption(f"preview: its strongest part, {start:.0f}-{end:.0f} s")
        with st.expander("Score breakdown"):
            _features(candidate)


def _composer_controls() -> None:
    """Another take of the composed soundtrack: another style or seed, composed for this draft."""
    base = actions.composed_base(data)
    if base is None:
        return
    composed = data["music"].get("composed")
    with st.container(border=True):
        st.markdown("**Composed soundtrack**" + (f" · {composed['style']}, {composed['bpm']:.0f} bpm, "
                                                 f"{composed['key']}, seed {composed['seed']}" if composed else ""))
        styles = list(actions.compose_styles())
        style_col, seed_col, go = st.columns([2, 1, 1], vertical_alignment="bottom")
        style_col.selectbox("Style", styles, index=styles.index(base["style"]), key="compose_style")
        seed_col.number_input("Seed", min_value=0, max_value=2 ** 32 - 1, value=base["seed"] + 1 if composed else 0,
                              step=1, key="compose_seed")
        go.button("Compose again" if composed else "Compose one", key="compose_again", on_click=_ask_recompose,
                  type="primary")
        st.caption("Composed offline on this machine to the draft's length, tempo and mood, cut on its exact beats; "
                   "every sound is synthesised by the studio, so the music is yours to publish (CC0).")


for tab, kind in zip(st.tabs([KIND_LABEL[k] for k in actions.KINDS]), actions.KINDS):
    with tab:
        if kind == "music":
            _composer_controls()
        ranked = data["match"][kind]
        if not ranked:
            st.info(f"Nothing ranked. {' '.join(data.get('notes', []))}")
        for candidate in ranked[:SHOWN]:
            _candidate(kind, candidate)
