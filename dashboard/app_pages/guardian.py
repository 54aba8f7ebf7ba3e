"""Guardian: permissive versus strict from the decision logs, the rehearsal's broken tests, and the
live Prometheus panel when a URL is configured (with a bounded timeout, never a hang)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import PureWindowsPath

import pandas as pd
import streamlit as st

from healthdeck.collectors import CollectorError
from healthdeck.collectors.guardian.prometheus import collect_prometheus
from healthdeck.dashboard import charts
from healthdeck.dashboard.context import Ctx
from healthdeck.dashboard.widgets import chart, dataframe, deny_delta, md, missing, table_or
from healthdeck.reports.build import prometheus_summary
from healthdeck.reports.commands import require_extra
from healthdeck.reports.errors import UsageError
from healthdeck.reports.failures import number


@st.cache_data(ttl=60, show_spinner="Asking Prometheus…")
def _prometheus(url: str, window: str, timeout: float, _names: object) -> dict | str:
    try:  # the [dashboard] extra alone has no Prometheus client: one line naming the extra, as collect says
        require_extra("prometheus", "prometheus_api_client", "the live Guardian panel")
        return prometheus_summary(collect_prometheus(url, window, names=_names, timeout=timeout))
    except UsageError as exc:
        return f"Prometheus not read: {exc}"
    except CollectorError as exc:
        return f"Prometheus unreachable: {exc}"


# The report's keys as a lead reads them (per 1 000: of each run's own decisions).
COLUMNS = {"rule_id": "rule", "would_deny": "would-deny", "delta": "Δ (denied − would-deny)",
           "would_deny_per_1000": "would-deny per 1 000", "denied_per_1000": "denied per 1 000",
           "delta_per_1000": "Δ per 1 000", "trace_id": "trace id", "test_id": "test"}  # fmt: skip


def render(ctx: Ctx) -> None:
    st.title("Guardian: permissive → strict")
    g = ctx.summary.get("guardian") or {}
    d = ctx.details.get("guardian") or {}
    if g.get("permissive"):
        perm, strict = g["permissive"], g["strict"]
        cols = st.columns(4)
        # the totals go in the help: "of 8 041" in the label was cut off at a quarter of the page
        cols[0].metric("permissive would-deny", number(perm["would_deny"]), border=True,
                       help=f"of {number(perm['decisions'])} permissive decisions")  # fmt: skip
        cols[1].metric("strict denied", number(strict["denied"]), border=True,
                       help=f"of {number(strict['decisions'])} strict decisions")  # fmt: skip
        cols[2].metric("new in strict", number(g["new_in_strict"]), delta_color="inverse", border=True,
                       help="denied decisions in strict whose rule × tenant × action never would-denied in "
                            "permissive (an estimate from the counts; the exact per-request diff is below "
                            "when the runs share trace ids)")  # fmt: skip
        cols[3].metric("not reproduced", number(g["not_reproduced"]), border=True,
                       help="would-deny decisions in permissive whose rule × tenant × action strict never "
                            "denied (an estimate from the counts)")  # fmt: skip
        if perm["policy_etags"] != strict["policy_etags"]:
            st.warning(f"The policy changed between the runs: {', '.join(md(e, code=True) for e in perm['policy_etags'])}"
                       f" → {', '.join(md(e, code=True) for e in strict['policy_etags'])}.")  # fmt: skip
        deny_delta(ctx, key="guardian")
        left, right = st.columns(2)
        with left:  # half a page each, the count first: on a narrow screen the last column is cut off
            st.subheader("New in strict")
            table_or(d["new_in_strict"], "None.", COLUMNS, ["denied", "rule_id", "tenant", "action"])
        with right:
            st.subheader("Not reproduced")
            table_or(d["not_reproduced"], "None.", COLUMNS, ["would_deny", "rule_id", "tenant", "action"])
        if g.get("rehearsal"):
            st.subheader(f"Tests that break in strict ({md(g['rehearsal']['broken_in_strict'])})")
            broken = d["rehearsal"]["broken_in_strict"]
            table_or(broken, "No smoke test breaks in strict.", COLUMNS)
        else:
            missing(
                "rehearsal test delta", "Give `--rehearsal-permissive` and `--rehearsal-strict` JUnit files."
            )
        if g.get("exact"):
            e = g["exact"]
            st.subheader("Exact per-request diff (by trace id)")
            st.write(f"{number(e['newly_denied'])} requests allowed in permissive are denied in strict; "
                     f"{number(e['no_longer_denied'])} would-denied in permissive are allowed in strict.")  # fmt: skip
            st.caption("Request by request, matched by trace id; the cards above count decisions by rule × "
                       "tenant × action, so the two figures differ where one key covers several requests or "
                       "a request was only in one log.")  # fmt: skip
            dataframe(
                pd.DataFrame(d["exact_samples"]["newly_denied"]), hide_index=True, column_config=COLUMNS
            )
        combos = d["by_rule_tenant_action"]
        total = d.get("by_rule_tenant_action_total")  # schema 1.8+
        more = (f" of {number(total)}" if total is not None else "; the report keeps no more") \
            if d.get("by_rule_tenant_action_truncated") else ""  # fmt: skip
        with st.expander(f"Rule × tenant × action (the {len(combos)} largest{more})"):
            dataframe(pd.DataFrame(combos), hide_index=True, column_config=COLUMNS)
        if g["malformed_lines"]:
            # The file's name only: the folder is the collecting machine's, not the reader's business.
            st.warning(f"{g['malformed_lines']} malformed log lines were not counted: "
                       + "; ".join(f"{md(PureWindowsPath(str(m['file'])).name, code=True)} line {md(m['line'])}: "
                                   f"{md(m['reason'], limit=200)}" for m in d["malformed"]))  # fmt: skip
    else:
        missing(
            "Guardian decision logs",
            "Give `--guardian-permissive` and `--guardian-strict` to `healthdeck collect`.",
        )
    _live(ctx)


def _live(ctx: Ctx) -> None:
    st.subheader("Live (Prometheus)")
    guardian = ctx.src.config.guardian
    url = os.environ.get("HEALTHDECK_PROMETHEUS") or guardian.prometheus_url
    if not url:
        missing("Prometheus URL", "Set `[tool.healthdeck.guardian] prometheus_url` to see live decisions.")
        return
    result = _prometheus(url, guardian.window, guardian.timeout, guardian.metrics)
    if isinstance(result, str):
        st.error(md(result), icon="🔌")
        return
    st.caption(
        f"{md(url)}, last {md(result['window'])} to {md(result['at_iso'])} (UTC now {datetime.now(UTC):%H:%M})"
    )
    chart(
        charts.decisions_over_time(result["series"]),
        "guardian-decisions",
        key="prom_series",
        alt=f"Guardian decisions per step over the last {result['window']}, stacked by decision.",
    )
    share = {r["key"]: r["value"] for r in (result.get("would_deny_share_by_tenant") or [])}
    if share:
        chart(
            charts.share_bars(share, "Would-deny share of each tenant's decisions"),
            "guardian-would-deny-share",
            key="prom_share",
            alt=f"Would-deny share of the decisions of {len(share)} tenants.",
        )
    delta = {r["key"]: r["value"] for r in (result.get("delta_by_tenant") or [])}
    if delta:
        chart(charts.top_bars(list(delta), list(delta.values()), "Strict deny − permissive would-deny, by tenant"),
              "guardian-delta-by-tenant", key="prom_tenants",
              alt=f"Strict denies minus permissive would-denies for {len(delta)} tenants.")  # fmt: skip


render(st.session_state["healthdeck_ctx"])
