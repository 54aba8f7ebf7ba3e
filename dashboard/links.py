"""Links a lead can paste into a release thread: every filter lives in the URL under a stable key.

Streamlit's own `bind="query-params"` drops a value equal to the default and silently ignores an
unknown one; a pasted link must do neither. So each control here reads its start value from the URL,
says visibly when the URL asks for something that does not exist, and writes its value back on every
run, default or not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from healthdeck.dashboard.text import md
from healthdeck.reports.visible import visible

SLOT = "healthdeck_link_notices"  # where the notices go: the top of the page


def _start(
    key: str, options: Sequence[str], default: str, what: str, shown: Callable[[Any], str] = str
) -> None:
    """Seed the control from the URL the first time it is drawn in this session."""
    if key in st.session_state and st.session_state[key] in options:
        # Set it again: Streamlit drops a widget's state at a page change when the key recurs on the new
        # page (the trend toggle), and a value set here is kept (Streamlit's documented way).
        st.session_state[key] = st.session_state[key]
        return
    asked = st.query_params.get(key)
    if asked is not None and asked not in options:
        # the fallback as the control names it ("90 days", not `90d`)
        notice(f"The link asks for {what} {md(asked, code=True)}, which is not there; showing "
               f"{md(str(shown(default)))} instead.")  # fmt: skip
        asked = None
    st.session_state[key] = asked if asked is not None else default


def notice(text: str) -> None:
    """What a pasted link asked for and could not get, at the top of the page."""
    (st.session_state.get(SLOT) or st).warning(text, icon=":material/link_off:")


def choice(
    label: str,
    options: Sequence[str],
    key: str,
    default: str,
    *,
    what: str | None = None,
    format_func: Callable[[Any], str] = str,
    control: str = "selectbox",
    container: Any = None,
    help: str | None = None,
) -> str:
    """A selectbox (or segmented control) whose value is `?key=value` in the URL, always."""
    options = list(options)
    if default not in options:
        options.insert(0, default)
    shown = format_func
    # projects and branches come from git and CI: an escape or a direction override in one ("not gated"
    # read "detag ton" after a branch holding U+202E) is dropped from the label, as in every Markdown sink
    format_func = lambda value: visible(str(shown(value)))  # noqa: E731 - one name for both controls
    _start(key, options, default, what or label.lower(), format_func)
    where = container or st
    if control == "segmented":
        value = where.segmented_control(label, options, key=key, format_func=format_func, help=help,
                                        required=True)  # fmt: skip
    else:
        value = where.selectbox(label, options, key=key, format_func=format_func, help=help)
    st.query_params[key] = value
    return value


def notice_area() -> None:
    """Reserve the top of the page for what a pasted link asked for and could not get (any control,
    in the sidebar or on the page, writes there)."""
    st.session_state[SLOT] = st.container()
