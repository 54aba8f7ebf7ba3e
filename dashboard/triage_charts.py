"""Pure plotly builders for one test's own history: its outcome strip and its duration trend.

Data in, figure out, no Streamlit: unit-tested like charts.py, whose colours and label escaping they use.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import plotly.graph_objects as go

from healthdeck.dashboard.charts import FAIL, PASS, SERIES, UNKNOWN, decorate, guide, label

OUTCOME_COLORS = {"passed": PASS, "failed": FAIL, "error": "#82071e", "flaky": UNKNOWN}
OUTCOME_WORDS = {
    "passed": "passed",
    "failed": "failed",
    "error": "error",
    "flaky": "flaky (passed on a rerun)",
}


def _when(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def _tick(sha: str | None, ts: int) -> str:
    return label(sha or _when(ts))


def outcome_strip(runs: Sequence[dict]) -> go.Figure:
    """One equal cell per run, oldest left; `runs`: {ts, sha, outcome} with outcome passed/failed/error/flaky."""
    ticks = [f"{_tick(r['sha'], r['ts'])}<br>#{i + 1}" for i, r in enumerate(runs)]  # unique per run
    fig = go.Figure(go.Bar(
        x=ticks, y=[1] * len(runs), marker_color=[OUTCOME_COLORS.get(r["outcome"], UNKNOWN) for r in runs],
        customdata=[[OUTCOME_WORDS.get(r["outcome"], label(r["outcome"])), _when(r["ts"]), label(r["sha"] or "—")]
                    for r in runs],
        hovertemplate="%{customdata[0]}<br>%{customdata[2]} · %{customdata[1]} UTC<extra></extra>",
    ))  # fmt: skip
    fig.update_layout(height=140, bargap=0.08, margin={"l": 10, "r": 10, "t": 30, "b": 10}, showlegend=False,
                      title={"text": f"Last {len(runs)} {'run' if len(runs) == 1 else 'runs'} (oldest left)", "x": 0,
                             "xanchor": "left"})  # fmt: skip
    fig.update_yaxes(visible=False, range=[0, 1])
    fig.update_xaxes(showticklabels=len(runs) <= 15, tickfont={"size": 10})
    return fig


def duration_trend(runs: Sequence[dict], floor: float | None) -> go.Figure:
    """Recorded seconds per run (`runs`: {ts, sha, seconds}); a gap where the run kept no duration."""
    fig = go.Figure(go.Scatter(
        x=[datetime.fromtimestamp(r["ts"], UTC) for r in runs], y=[r["seconds"] for r in runs],
        mode="lines+markers", line={"color": SERIES[0]}, connectgaps=False, name="seconds",
        customdata=[label(r["sha"] or "—") for r in runs], hovertemplate="%{y:.2f} s<extra>%{customdata}</extra>",
    ))  # fmt: skip
    if floor is not None:
        decorate(fig, [guide(floor, f"floor {floor:g} s")])
    fig.update_layout(height=240, margin={"l": 10, "r": 10, "t": 40, "b": 10}, yaxis_title="seconds",
                      title={"text": "Duration", "x": 0, "xanchor": "left"}, hovermode="closest")  # fmt: skip
    return fig
