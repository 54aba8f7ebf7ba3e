"""Pure plotly figure builders: data in, figure out. No Streamlit, so each is unit-tested.

Every trend is downsampled to at most `MAX_POINTS` points per series before it reaches the browser.
Colours are fixed per meaning (pass/fail/unknown, permissive/strict) and readable on light and dark.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import pandas as pd
import plotly.graph_objects as go

MAX_POINTS = 1500
PASS, FAIL, UNKNOWN = "#2da44e", "#cf222e", "#9a6700"
PERMISSIVE, STRICT = "#8250df", "#cf222e"
SERIES = ["#0969da", "#1a7f37", "#bf8700", "#8250df", "#bc4c00", "#1b7c83", "#cf222e", "#953800", "#6e7781"]
OTHER = "#8c959f"  # the "everything else" series is always grey
STATUS_COLORS = {
    "GO": PASS,
    "PASS": PASS,
    "NO-GO": FAIL,
    "FAIL": FAIL,
    "INCOMPLETE": UNKNOWN,
    "UNKNOWN": UNKNOWN,
}


def label(value: object) -> str:
    """A name, category or hover value from the data, shown as text: plotly renders <a>, <b>, <br> in labels."""
    return html.escape(str(value), quote=False)


def labels(values: Iterable[object]) -> list[str]:
    return [label(v) for v in values]


def downsample(frame: pd.DataFrame, x: str, max_points: int = MAX_POINTS) -> pd.DataFrame:
    """At most `max_points` rows: equal-width time buckets, numeric columns averaged, others last."""
    if len(frame) <= max_points:
        return frame
    ordered = frame.sort_values(x)
    buckets = pd.cut(ordered[x].astype("int64"), bins=max_points, labels=False)
    numeric = ordered.select_dtypes("number").columns.drop(x, errors="ignore")
    agg = {c: ("mean" if c in numeric else "last") for c in ordered.columns if c != x}
    agg[x] = "last"
    return ordered.groupby(buckets, sort=True).agg(agg).dropna(subset=[x]).reset_index(drop=True)


def _layout(fig: go.Figure, title: str, y_title: str, percent: bool = False) -> go.Figure:
    fig.update_layout(
        title={"text": label(title), "x": 0, "xanchor": "left"},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=320,
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.2},
        yaxis_title=label(y_title),
    )
    if percent:
        fig.update_yaxes(ticksuffix=" %")
    return fig


def pass_rate_trend(frame: pd.DataFrame, suites: Sequence[str], threshold: float | None) -> go.Figure:
    """`frame`: columns time, sha and one pass-rate fraction column per suite."""
    data = downsample(frame, "time")
    fig = go.Figure()
    for i, suite in enumerate(suites):
        if suite in data:
            fig.add_trace(go.Scatter(
                x=data["time"], y=data[suite] * 100, name=label(suite), mode="lines+markers",
                line={"color": SERIES[i % len(SERIES)]},
                customdata=labels(data["sha"].fillna("")) if "sha" in data else None,
                hovertemplate="%{y:.2f} %<extra>%{fullData.name} %{customdata}</extra>",
            ))  # fmt: skip
    if threshold is not None:
        fig.add_hline(y=threshold * 100, line={"color": FAIL, "dash": "dash"},
                      annotation_text=f"gate {threshold * 100:g} %", annotation_position="bottom right")  # fmt: skip
    return _layout(fig, "Pass rate", "pass rate", percent=True)


def coverage_trend(frame: pd.DataFrame, lanes: Sequence[str], target: float | None) -> go.Figure:
    """`frame`: time, "total" and one percent column per lane."""
    data = downsample(frame, "time")
    fig = go.Figure()
    for i, column in enumerate(["total", *lanes]):
        if column in data and data[column].notna().any():
            fig.add_trace(go.Scatter(
                x=data["time"], y=data[column], name=label(column), mode="lines",
                line={"color": SERIES[i % len(SERIES)], "width": 3 if column == "total" else 1.5},
                hovertemplate="%{y:.2f} %<extra>%{fullData.name}</extra>",
            ))  # fmt: skip
    if target is not None:
        fig.add_hline(y=target, line={"color": FAIL, "dash": "dash"}, annotation_text=f"target {target:g} %",
                      annotation_position="bottom right")  # fmt: skip
    return _layout(fig, "Coverage (statements + branches)", "coverage", percent=True)


def ruff_trend(frame: pd.DataFrame, rules: Sequence[str]) -> go.Figure:
    """Stacked areas: one column per rule (already limited to the top ones plus "other")."""
    data = downsample(frame, "time")
    fig = go.Figure()
    for i, rule in enumerate(rules):
        if rule in data:
            fig.add_trace(go.Scatter(
                x=data["time"], y=data[rule].fillna(0), name=label(rule), mode="lines", stackgroup="ruff",
                line={"width": 0.5, "color": OTHER if rule == "other" else SERIES[i % (len(SERIES) - 1)]},
            ))  # fmt: skip
    return _layout(fig, "ruff findings by rule", "findings")


def count_trend(frame: pd.DataFrame, columns: Sequence[str], title: str, y_title: str) -> go.Figure:
    data = downsample(frame, "time")
    fig = go.Figure()
    for i, column in enumerate(columns):
        if column in data:
            fig.add_trace(go.Scatter(x=data["time"], y=data[column], name=label(column), mode="lines+markers",
                                     line={"color": SERIES[i % len(SERIES)]}))  # fmt: skip
    return _layout(fig, title, y_title)


def top_bars(names: Sequence[str], values: Sequence[float], title: str, color: str = SERIES[0]) -> go.Figure:
    fig = go.Figure(go.Bar(x=list(values)[::-1], y=labels(names)[::-1], orientation="h", marker_color=color))
    fig = _layout(fig, title, "")
    fig.update_layout(height=max(220, 28 * len(names) + 80), hovermode="closest")
    return fig


def deny_delta(rows: dict[str, dict], dimension: str, new_in_strict: set[str] = frozenset()) -> go.Figure:
    """Permissive would-deny versus strict deny, per 1 000 decisions of each run, per rule/tenant/action.

    `rows` is summary.guardian.delta.by_<dimension>; keys in `new_in_strict` are called out.
    """
    keys = list(rows)[:25]
    perm = [rows[k]["would_deny_per_1000"] or 0 for k in keys]
    strict = [rows[k]["denied_per_1000"] or 0 for k in keys]
    ticks = [f"★ {label(k)}" if k in new_in_strict else label(k) for k in keys]
    fig = go.Figure([
        go.Bar(name="permissive: would deny", x=ticks, y=perm, marker_color=PERMISSIVE,
               customdata=[rows[k]["would_deny"] for k in keys],
               hovertemplate="%{y:.1f} per 1 000 (%{customdata} requests)<extra>permissive</extra>"),
        go.Bar(name="strict: denied", x=ticks, y=strict, marker_color=STRICT,
               customdata=[rows[k]["denied"] for k in keys],
               hovertemplate="%{y:.1f} per 1 000 (%{customdata} requests)<extra>strict</extra>"),
    ])  # fmt: skip
    fig = _layout(fig, f"Deny rate by {dimension}, permissive vs strict (estimate; ★ new in strict)",
                  "per 1 000 decisions")  # fmt: skip
    fig.update_layout(barmode="group", hovermode="closest")
    return fig


def decisions_over_time(series: dict[str, list[list[float]]]) -> go.Figure:
    """Prometheus decisions per step, stacked by decision (allow / would_deny / deny)."""
    colors = {"allow": PASS, "would_deny": PERMISSIVE, "deny": STRICT}
    fig = go.Figure()
    for decision, points in sorted(series.items()):
        if points:
            x = pd.to_datetime([p[0] for p in points], unit="s", utc=True)
            fig.add_trace(go.Scatter(x=x, y=[p[1] for p in points], name=label(decision), stackgroup="d", mode="lines",
                                     line={"color": colors.get(decision, UNKNOWN)}))  # fmt: skip
    return _layout(fig, "Guardian decisions over time (Prometheus)", "decisions per step")


def share_bars(shares: dict[str, float], title: str) -> go.Figure:
    keys = sorted(shares, key=shares.get, reverse=True)
    fig = go.Figure(go.Bar(x=labels(keys), y=[shares[k] * 100 for k in keys], marker_color=PERMISSIVE))
    return _layout(fig, title, "share", percent=True)


def sparkline(values: Sequence[float], limit: int = 30) -> list[float]:
    """The last `limit` values for st.metric's chart_data (None dropped)."""
    return [v for v in list(values)[-limit:] if v is not None and v == v]
