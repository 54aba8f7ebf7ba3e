"""Who may look: optional sign-in through Streamlit's built-in OpenID Connect (`st.login`, `st.user`).

Off unless `[tool.healthdeck.dashboard]` asks for it:

    [tool.healthdeck.dashboard]
    sign_in = true                       # implied by either list below
    allowed_domains = ["example.com"]    # e-mail domains let in (the provider must verify the address)
    allowed_groups = ["release-leads"]   # or members of these groups (the ID token's `groups` claim)
    provider = "corp"                    # an [auth.corp] section of secrets.toml; default: plain [auth]

The provider itself (client id and secret, `server_metadata_url`, `redirect_uri`, `cookie_secret`) is
configured in `.streamlit/secrets.toml` as Streamlit documents it (docs/deployment.md). When sign-in is
asked for but not configured, the dashboard stays closed and says why: never open by accident.
"""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from healthdeck.dashboard import data
from healthdeck.reports.config import DashboardConfig


def permitted(claims: dict, access: DashboardConfig) -> bool:
    """Is the signed-in person let in? Any signed-in person when no list is given; otherwise a verified
    e-mail address in an allowed domain, or membership of an allowed group."""
    if not access.allowed_domains and not access.allowed_groups:
        return True
    email = str(claims.get("email") or "").lower()
    verified = claims.get("email_verified", True) is not False  # providers that omit the claim verify
    if verified and "@" in email and email.rsplit("@", 1)[1] in access.allowed_domains:
        return True
    groups = claims.get("groups") or []
    return bool(set(_strings(groups)) & set(access.allowed_groups))


def _strings(value: object) -> Iterable[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value] if isinstance(value, list) else []


def allowed() -> bool:
    """Draw the sign-in page (and return False) unless the viewer may see the dashboard."""
    access = data.source().config.dashboard
    if not access.requires_sign_in:
        return True
    auth = st.secrets.get("auth") if st.secrets.load_if_toml_exists() else None
    if not auth:
        st.error("**Sign-in is required** by `[tool.healthdeck.dashboard]`, but `.streamlit/secrets.toml` has no "
                 "`[auth]` section: see docs/deployment.md.", icon=":material/lock:")  # fmt: skip
        return False
    if not st.user.is_logged_in:
        st.title("healthdeck")
        st.write("This dashboard shows the release health of the project to its team. Sign in to see it.")
        st.button("Sign in", on_click=st.login, args=(access.provider,) if access.provider else (),
                  type="primary", icon=":material/login:")  # fmt: skip
        return False
    if not permitted(st.user.to_dict(), access):
        st.error(f"**{st.user.get('email') or 'This account'} may not see this dashboard.** Ask for your "
                 "account's domain or group to be added to `[tool.healthdeck.dashboard]`.", icon=":material/block:")  # fmt: skip
        st.button("Sign out", on_click=st.logout)
        return False
    return True


def sign_out_button() -> None:
    """Who is signed in, and the way out, in the sidebar (only when sign-in is on)."""
    if data.source().config.dashboard.requires_sign_in and st.user.is_logged_in:
        with st.sidebar:
            st.caption(f"Signed in as {st.user.get('email') or st.user.get('name') or 'unknown'}")
            st.button("Sign out", on_click=st.logout, icon=":material/logout:")
