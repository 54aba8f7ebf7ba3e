"""Pure plotly figure builders: data in, figure out. No Streamlit, so each is unit-tested.

Trends stay readable at any volume: above `AGGREGATE_ABOVE` runs in the window a trend is drawn per
day (per week past `MAX_BUCKETS` days): the daily median as a line, the day's min–max as a band, no
per-run markers; the hover names the day, how many runs it holds and its worst run. The per-run view
draws the newest `MAX_RAW` runs. Either way no trace sends more than a few hundred points.
Times are UTC and say so; colours are fixed per meaning and readable on light and dark themes.
"""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from healthdeck.collectors.records import Record
from healthdeck.reports.failures import number
from healthdeck.reports.render.md import coverage_pc, display_covered

AGGREGATE_ABOVE = 200  # runs in the window above which trends are drawn per day
MAX_BUCKETS = 500  # days per trace; a longer window is drawn per week
MAX_RAW = 500  # the per-run view draws the newest runs only
SEPARATORS = ". "  # plotly's decimal point and thousands separator: "10 000", as latest.md writes counts
PASS, FAIL, UNKNOWN = "#2da44e", "#cf222e", "#9a6700"
PERMISSIVE, STRICT = "#8250df", "#cf222e"
# Every colour at least 3.4:1 against both the light (#ffffff) and the dark (#0e1117) theme's background
# (WCAG's 3:1 for graphics): GitHub's light palette had a brown at 2.6:1 and several near 3.5 on dark.
SERIES = ["#2f7fd1", "#2e9446", "#c97a00", "#9466e0", "#1f9aa3", "#d9534f", "#a8743e", "#d0508f", "#7d8590"]
OTHER = "#8c959f"  # the "everything else" series is always grey
RELEASE = "#8c959f"
STATUS_COLORS = {
    "GO": PASS,
    "PASS": PASS,
    "NO-GO": FAIL,
    "FAIL": FAIL,
    "INCOMPLETE": UNKNOWN,
    "UNKNOWN": UNKNOWN,
}
View = Literal["daily", "each run"]
VIEWS: tuple[View, ...] = ("daily", "each run")
Worse = Literal["lower", "higher"]


def label(value: object) -> str:
    """A name, category or hover value from the data, shown as text: plotly renders <a>, <b>, <br> in labels."""
    return html.escape(str(value), quote=False)


def labels(values: Iterable[object]) -> list[str]:
    return [label(v) for v in values]


def chart_config(name: str) -> dict:
    """The one plotly `config` every chart uses: a named PNG download and a trimmed toolbar."""
    return {
        "displaylogo": False,
        "modeBarButtonsToRemove": [
            "select2d",
            "lasso2d",
            "autoScale2d",
            "toggleSpikelines",
            "hoverClosestCartesian",
            "hoverCompareCartesian",
        ],
        "toImageButtonOptions": {"format": "png", "filename": f"healthdeck-{name}", "scale": 2},
    }


def default_view(runs: int) -> View:
    return "daily" if runs > AGGREGATE_ABOVE else "each run"


@dataclass(frozen=True)
class Release:
    time: pd.Timestamp
    tag: str


# -- shaping the data --------------------------------------------------------------------------------


def bucket_of(times: pd.Series) -> str:
    """ "D" (a day) unless the window spans more than MAX_BUCKETS days, then "W" (a week)."""
    return _bucket_size(_naive(times))


def _naive(times: pd.Series | pd.Index) -> np.ndarray:
    """Times as naive UTC datetime64, in their own unit (no object array of Timestamps)."""
    return pd.DatetimeIndex(times).tz_convert(None).to_numpy()


def _bucket_size(naive: np.ndarray) -> str:
    if not len(naive):
        return "D"
    days = (naive.max() - naive.min()) // np.timedelta64(1, "D") + 1
    return "D" if days <= MAX_BUCKETS else "W"


def _bucket_keys(naive: np.ndarray) -> np.ndarray:
    """Each naive UTC time's day (00:00), or its week's Monday when the span is long, in its unit."""
    day = naive.astype("datetime64[D]")
    if _bucket_size(naive) == "W":
        day = day - (day.view("int64") + 3) % 7  # 1970-01-01, day 0, was a Thursday
    return day.astype(naive.dtype)


def _bucket(times: pd.Series) -> pd.Series:
    """Each time's day (00:00 UTC), or its week's Monday when the window is long."""
    keys = pd.DatetimeIndex(_bucket_keys(_naive(times))).tz_localize("UTC")
    return pd.Series(keys, index=times.index, name=times.name)


class _Buckets(Record):
    """Rows ordered by day (or week), then by value: each bucket is the slice starts[i]:ends[i]."""

    order: np.ndarray  # positions in the data, bucket by bucket, each bucket's values sorted
    values: np.ndarray  # the values in that order
    starts: np.ndarray
    ends: np.ndarray
    times: pd.Series  # each bucket's first instant, UTC

    def medians(self) -> np.ndarray:
        n = self.ends - self.starts
        return (self.values[self.starts + (n - 1) // 2] + self.values[self.starts + n // 2]) / 2


def _buckets(naive: np.ndarray, raw: np.ndarray, descending: bool = False) -> _Buckets:
    """Values (none missing) at naive UTC times grouped by bucket with one stable sort, numpy's: the
    groupby median, min, max and idxmin/idxmax it replaces cost about 9 ms per chart over 8 000 runs. Ties
    keep the data's order, so a bucket's first row is its first minimum (or maximum) as idxmin finds it."""
    keys = _bucket_keys(naive)
    order = np.lexsort((-raw if descending else raw, keys.view("int64")))
    keys = keys[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    times = pd.Series(pd.DatetimeIndex(keys[starts]).tz_localize("UTC"))
    return _Buckets(order, raw[order], starts, ends, times)


def _present(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """The column's values and the positions of the rows that have one (numpy: a pandas mask and
    slice of the frame cost several times more at 10 000 runs)."""
    values = frame[column].to_numpy(dtype=float, na_value=np.nan)
    return values, np.flatnonzero(~np.isnan(values))


def per_day(frame: pd.DataFrame, column: str, worse: Worse = "lower") -> pd.DataFrame:
    """One row per day (or week) holding runs of `column`: median, min, max, runs, worst run.

    Columns: time (the day, UTC), median, low, high, runs, worst, worst_sha, worst_time.
    """
    values, has = _present(frame, column)
    out = ["time", "median", "low", "high", "runs", "worst", "worst_sha", "worst_time"]
    if not len(has):
        return pd.DataFrame(columns=out)
    # each bucket's worst run first
    b = _buckets(_naive(frame["time"])[has], values[has], descending=worse != "lower")
    low, high = np.minimum.reduceat(b.values, b.starts), np.maximum.reduceat(b.values, b.starts)
    worst = has[b.order[b.starts]]  # the commits only of the worst runs (copying every sha cost more)
    return pd.DataFrame(
        {
            "time": b.times,
            "median": b.medians(),
            "low": low,
            "high": high,
            "runs": b.ends - b.starts,
            "worst": values[worst],
            "worst_sha": frame["sha"].iloc[worst].fillna("").to_numpy(),
            "worst_time": frame["time"].iloc[worst].to_numpy(),
        }
    )


def daily_median(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """time (the day, UTC) and the median of `column` for each day (or week) holding runs of it: the
    line of a series drawn without a band."""
    values, has = _present(frame, column)
    if not len(has):
        return pd.DataFrame(
            {"time": pd.Series(dtype="datetime64[ns, UTC]"), "median": pd.Series(dtype=float)}
        )
    b = _buckets(_naive(frame["time"])[has], values[has])
    return pd.DataFrame({"time": b.times, "median": b.medians()})


def last_per_day(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The last run of each day (or week): for stacked series, whose medians would not add up."""
    if frame.empty:
        return frame.assign(runs=pd.Series(dtype=int))
    ordered = frame.sort_values("time")
    day = _bucket(ordered["time"])
    grouped = ordered.groupby(day.to_numpy(), sort=True)
    last = grouped.last()[["sha", *[c for c in columns if c in ordered]]]
    last["runs"] = grouped.size()
    last.index.name = "time"
    out = last.reset_index()
    out["time"] = pd.to_datetime(out["time"], utc=True)
    return out


def utc_axis(times: pd.Series | pd.Index) -> pd.Series:
    """Times as naive UTC for a plotly axis. plotly checks a timezone-aware series element by element
    (about 3 ms per 400-point trace, a sixth of the overview's first load at 10 000 runs); the axes and
    hovers say UTC, and plotly.js drops an offset anyway."""
    times = pd.to_datetime(pd.Series(times), utc=True)
    return times.dt.tz_convert(None)


def _with_sha(frame: pd.DataFrame) -> pd.DataFrame:
    return frame if "sha" in frame else frame.assign(sha="")


def newest(frame: pd.DataFrame, limit: int = MAX_RAW) -> pd.DataFrame:
    return frame.sort_values("time").tail(limit)


# -- building figures --------------------------------------------------------------------------------


def _layout(fig: go.Figure, title: str, y_title: str, unit: str, view: View, *, marks: Iterable[Marks] = (),
            top: float | None = None, low: float | None = None, drawn: pd.Series | None = None) -> go.Figure:  # fmt: skip
    """Title, size, legend, axes and `marks` in one layout update: plotly re-validates the whole layout
    on every update, which was a tenth of the overview's first load at 10 000 runs. A "count" axis
    shows whole numbers (`top`: its highest value); a "%" axis with `low` and `top` spans at least
    MIN_PERCENT_SPAN; `drawn`: the times on the x axis."""
    yaxis: dict = {"title": {"text": label(y_title)}}
    if unit == "%":
        yaxis["ticksuffix"] = " %"
        yaxis.update(_percent_range(low, top))
    elif unit == "count":
        yaxis.update(_whole_numbers(top))
    if view == "each run" and drawn is not None and len(drawn) >= MAX_RAW:
        # the window says 90 days; the chart says how much of it it draws (the newest runs only)
        title = f"{title} — the newest {MAX_RAW} runs"
    marked = _marked(fig, marks)
    notes = [n for n in marked.get("annotations", ()) if isinstance(n, dict) and n.get("name") == SPARSE_NOTE]
    tagged = any(isinstance(n, dict) and n.get("name") == RELEASE_TAG for n in marked.get("annotations", ()))
    row = RELEASE_ROW if tagged else 0
    noted = sum(n["text"].count("<br>") + 1 for n in notes)
    if notes:  # the notes about what the chart draws, stacked above the plot (and its release tags)
        others = [
            n for n in marked["annotations"] if not (isinstance(n, dict) and n.get("name") == SPARSE_NOTE)
        ]
        marked["annotations"] = [*others, _notes_above("<br>".join(n["text"] for n in notes), row)]
    fig.update_layout(
        # at the top: plotly centres a title in the top margin, which notes above the plot make tall
        title={
            "text": label(title),
            "x": 0,
            "xanchor": "left",
            "y": 1,
            "yref": "container",
            "yanchor": "top",
            "pad": {"t": 12},
        },
        margin={"l": 10, "r": 10, "t": 40 + 17 * noted + row, "b": 10},
        height=320 + 17 * noted + row,
        hovermode="x unified",
        separators=SEPARATORS,
        legend={"orientation": "h", "y": -0.2},
        xaxis={
            "hoverformat": "%Y-%m-%d (UTC)" if view == "daily" else "%Y-%m-%d %H:%M UTC",
            "nticks": 6,  # a half-width chart on a laptop screen stood its dates on end, crowded
            **_one_day(drawn),
        },
        yaxis=yaxis,
        **marked,
    )
    return fig


def _one_day(drawn: pd.Series | None) -> dict:
    """A time axis around a single instant: plotly would spread one point over a millisecond and tick
    it in fractions of a second; a day either side, ticked by date, reads as what it is."""
    if drawn is None or drawn.empty or drawn.nunique() > 1:
        return {}
    day, one = utc_axis(drawn).iloc[0].floor("D"), pd.Timedelta(days=1)
    # labels centred on their day ("period"), so the point sits under its own date, not the next midnight's
    return {"range": [(day - one).isoformat(), (day + 2 * one).isoformat()], "dtick": 86_400_000,
            "tickformat": "%Y-%m-%d", "ticklabelmode": "period"}  # fmt: skip


SPARSE_NOTE = "why-sparse"  # the annotation that says why a series draws one point or none
MIN_PERCENT_SPAN = 2.0  # points: a 0.03-point wobble is drawn as the near-flat line it is, not a cliff


def _percent_range(low: float | None, top: float | None) -> dict:
    """A percent axis that spans at least MIN_PERCENT_SPAN around the values and holds every point whole
    (plotly's autorange zooms a tiny change to the chart's full height), from a tick to a tick: a line
    at 98 % drawn above a last tick of 95 % read as off the scale. {} without values."""
    if low is None or top is None or low != low or top != top:
        return {}
    middle, half = (low + top) / 2, max(top - low, MIN_PERCENT_SPAN) / 2
    lo, hi = middle - half, middle + half
    if lo < 0:
        lo, hi = 0.0, hi - lo
    if hi > 100:
        lo, hi = max(0.0, lo - (hi - 100)), 100.0
    step = _nice_step(hi - lo)
    lo, hi = max(0.0, math.floor(lo / step) * step), min(100.0, math.ceil(hi / step) * step)
    pad = (hi - lo) * 0.06  # a marker at 100 % or 0 % shows whole
    return {"range": [lo - pad, hi + pad], "tick0": 0, "dtick": step}


def _nice_step(span: float, ticks: int = 4) -> float:
    """A tick step of 1, 2, 2.5 or 5 times a power of ten that cuts `span` into about `ticks` parts."""
    rough = span / ticks if span > 0 else 1.0
    power = 10 ** math.floor(math.log10(rough))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= rough)


def _whole_numbers(top: float | None) -> dict:
    """A count axis: whole numbers only, from zero to a tick at or above `top` (a point of 7 above a
    last tick of 6 read as off the scale)."""
    axis: dict = {"tickformat": ",d", "rangemode": "tozero"}
    if top is None or top != top or top < 5:
        # a little below zero: a line of zeros (no compile failures) drawn on the axis itself was invisible
        axis.update(dtick=1, range=[-0.25, max(1, (top or 0) + 0.5)])
    else:
        step = max(1, math.ceil(_nice_step(top)))
        ceiling = math.ceil(top / step) * step
        axis.update(dtick=step, range=[-0.02 * ceiling, ceiling * 1.04])
    return axis


def _add_band(fig: go.Figure, day: pd.DataFrame, name: str, color: str, unit: str, scale: float) -> None:
    """The day's min–max as a band, its median as a line; the hover names the day, runs and worst run."""
    fill = _rgba(color, 0.28)  # visible on a dark background too
    name = label(name)
    x = utc_axis(day["time"])
    fig.add_trace(go.Scatter(x=x, y=_numbers(day["low"], scale), mode="lines", line={"width": 0},
                             hoverinfo="skip", showlegend=False, legendgroup=name))  # fmt: skip
    fig.add_trace(go.Scatter(x=x, y=_numbers(day["high"], scale), mode="lines", line={"width": 0},
                             fill="tonexty", fillcolor=fill, hoverinfo="skip", showlegend=False,
                             legendgroup=name, name=f"{name} min–max"))  # fmt: skip
    # one hover string per day: a list of tuples would cost plotly a validation pass per element
    worst_at = [t[11:16] for t in np.datetime_as_string(_naive(day["worst_time"]), unit="m")]
    hover = [(f"{name}: median {m} of {number(n)} runs<br>worst {w} · " if n > 1 else f"{name}: {m}, the day's one run<br>")
             + f"commit {sha} · {at} UTC"
             for m, n, w, sha, at in zip(shown(day["median"] * scale, unit), day["runs"],
                                         shown(day["worst"] * scale, unit), labels(day["worst_sha"]), worst_at,
                                         strict=True)]  # fmt: skip
    fig.add_trace(go.Scatter(
        x=x, y=_numbers(day["median"], scale), mode="lines" if len(day) > 1 else "markers", name=name,
        legendgroup=name, line={"color": color, "width": 2}, customdata=_texts(hover),
        hovertemplate="%{customdata}<extra></extra>",
    ))  # fmt: skip


def _add_newest(
    fig: go.Figure, frame: pd.DataFrame, column: str, color: str, unit: str, scale: float, at: object
) -> None:
    """The newest run as a point on the per-day line, at its day's place (`at`; at its own time it stood
    past the line's end like another day): the card above shows its figure, which the median may not be."""
    values, has = _present(frame, column)  # not dropna: that copied the whole window
    if not len(has):
        return
    last = int(has[-1])
    y = values[last] * scale
    sha, when = frame["sha"].iloc[last], frame["time"].iloc[last]  # a UTC Timestamp
    [value], [sha] = shown([y], unit), labels([sha if isinstance(sha, str) else ""])
    fig.add_trace(go.Scatter(
        x=_naive(pd.Series([at])), y=[y], mode="markers", name="newest run",
        marker={"color": color, "size": 7, "line": {"width": 1, "color": "white"}},
        hovertemplate=f"newest run: {value} (commit {sha}, {when:%Y-%m-%d %H:%M} UTC)<extra></extra>",
    ))  # fmt: skip


def _add_runs(fig: go.Figure, frame: pd.DataFrame, column: str, name: str, color: str, unit: str,
              scale: float, width: float = 2) -> None:  # fmt: skip
    data = frame.dropna(subset=[column])
    name = label(name)
    hover = [f"{name}: {value} (commit {sha})"
             for value, sha in zip(shown(data[column] * scale, unit), labels(data["sha"].fillna("")), strict=True)]  # fmt: skip
    fig.add_trace(go.Scatter(
        x=utc_axis(data["time"]), y=_numbers(data[column], scale), name=name,
        mode="lines+markers" if len(data) < 120 else "lines",
        line={"color": color, "width": width}, marker={"size": 5}, customdata=_texts(hover),
        hovertemplate="%{customdata}<extra></extra>",
    ))  # fmt: skip


def _numbers(values: pd.Series, scale: float = 1) -> np.ndarray:
    """A trace's figures as numpy: plotly takes a pandas Series through narwhals first (about 0.5 ms a
    trace, a tenth of a chart over 10 000 runs)."""
    return values.to_numpy(dtype=float, na_value=np.nan) * scale


def _texts(values: list[str]) -> np.ndarray:
    """Hover texts as one numpy array: plotly validates a list element by element."""
    return np.array(values, dtype=object)


def shown(values: Iterable[float], unit: str) -> list[str]:
    """Figures as the report writes them: a percent never reads 100.00 while a test failed (plotly's
    ".2f" rounds 99.996 up), counts with the report's thousands separator."""
    if unit == "%":
        return [coverage_pc(v, 2) for v in values]
    return [number(round(v)) for v in values]


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


Marks = tuple[list[dict], list[dict]]  # (shapes, annotations) to add to a figure's layout


def decorate(fig: go.Figure, marks: Iterable[Marks]) -> go.Figure:
    """Add every mark in one layout update: plotly re-validates the shapes and annotations already there
    on each update (and on each add_shape, add_annotation or add_hline call)."""
    if marked := _marked(fig, marks):
        fig.update_layout(marked)
    return fig


def _marked(fig: go.Figure, marks: Iterable[Marks]) -> dict:
    """The figure's shapes and annotations with `marks` added, as layout properties ({} when none)."""
    marks = list(marks)
    shapes = [shape for s, _ in marks for shape in s]
    notes = [note for _, n in marks for note in n]
    if not (shapes or notes):
        return {}
    return {"shapes": [*fig.layout.shapes, *shapes], "annotations": [*fig.layout.annotations, *notes]}


def _why_sparse(frame: pd.DataFrame, columns: Sequence[str], scope: str) -> Marks:
    """An empty or one-run series says so on the chart instead of drawing nothing or a lone dot; the
    series in the same case share one note (a project's first run has them all)."""
    unrecorded, once = [], {}
    for column in columns:
        has = _present(frame, column)[1] if column in frame else ()
        # the runs that recorded this figure, which may be fewer than the runs in the window
        if len(has) == 0:
            unrecorded.append(column)
        elif len(has) == 1:
            once.setdefault(f"{frame['time'].iloc[int(has[0])]:%Y-%m-%d}", []).append(column)
    notes = [f"{', '.join(unrecorded)}: recorded by no run of {scope}"] if unrecorded else []
    notes += [
        f"{', '.join(names)}: recorded by only one run of {scope}, on {day}; a trend needs two"
        for day, names in once.items()
    ]
    # above the plot, under the title (_layout places and stacks them): inside, they covered points
    return [], [{"text": "<br>".join(map(_wrapped, notes)), "name": SPARSE_NOTE}] if notes else []


NOTE_CHARS = 60  # the longest line of a note above a chart: plotly does not wrap, a half-width chart holds 60


def _wrapped(text: str) -> str:
    """A note from the data (series, branch names) escaped and cut into lines a half-width chart holds."""
    lines = textwrap.wrap(text, NOTE_CHARS, break_on_hyphens=False) or [""]
    return "<br>".join(label(line) for line in lines)


def _notes_above(text: str, row: int) -> dict:
    """Notes about what a chart draws, left-aligned above the plot and its row of release tags."""
    return {"text": text, "xref": "paper", "yref": "paper", "x": 0, "y": 1, "xanchor": "left", "yanchor": "bottom",
            "yshift": row, "align": "left", "showarrow": False, "font": {"size": 12}, "name": SPARSE_NOTE}  # fmt: skip


RELEASE_TAG = "release-tag"  # the annotations that name a release above its line
RELEASE_ROW = 14  # px: the row above the plot the release tags stand in
_TAG_PX, _PLOT_PX = 6.5, 320  # a tag's width per character, and the narrowest plot it is thinned for


def _release_marks(releases: Sequence[Release], drawn: pd.Series, limit: int = 12) -> Marks:
    """Releases within the drawn times as dotted vertical lines (the newest `limit`), each tagged in a row
    above the plot, where no data is drawn (inside it the tags covered the highest values). A tag that
    would overlap a newer tag's place keeps its line but not its tag."""
    if drawn.empty:
        return [], []
    first, last = drawn.min(), drawn.max()
    within = [r for r in releases if first <= r.time <= last]
    shown = within[-limit:]
    shapes = [{"type": "line", "x0": r.time.isoformat(), "x1": r.time.isoformat(), "xref": "x", "y0": 0, "y1": 1,
               "yref": "paper", "line": {"color": RELEASE, "dash": "dot", "width": 1}} for r in shown]  # fmt: skip
    span = (last - first) or pd.Timedelta(days=1)
    # each tag's half width, as a fraction of the axis
    half = [(len(r.tag) * _TAG_PX + 8) / _PLOT_PX / 2 for r in shown]
    labelled: list[tuple[Release, float]] = []
    for r, h in reversed(list(zip(shown, half, strict=True))):
        if not labelled or (labelled[-1][0].time - r.time) / span >= labelled[-1][1] + h:
            labelled.append((r, h))
    notes = [{"x": r.time.isoformat(), "xref": "x", "y": 1, "yref": "paper", "yanchor": "bottom", "text": label(r.tag),
              "showarrow": False, "font": {"size": 10, "color": RELEASE}, "name": RELEASE_TAG}
             for r, _ in reversed(labelled)]  # fmt: skip
    if len(within) > limit:  # say that older releases in the window are left out, not only leave them out
        notes.append(
            {"text": f"the newest {limit} of {len(within)} releases are marked", "name": SPARSE_NOTE}
        )
    return shapes, notes


def guide(y: float, text: str) -> Marks:
    """A dashed red line across the chart at `y` (a gate, a target, a floor), labelled at its right end."""
    shape = {"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": y, "y1": y,
             "line": {"color": FAIL, "dash": "dash"}}  # fmt: skip
    note = {"xref": "x domain", "x": 1, "yref": "y", "y": y, "text": label(text), "showarrow": False,
            "xanchor": "right", "yanchor": "top"}  # fmt: skip
    return [shape], [note]


def trend(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    title: str,
    y_title: str,
    unit: str,
    scale: float = 1,
    view: View | None = None,
    worse: Worse = "lower",
    releases: Sequence[Release] = (),
    scope: str = "this window",
    emphasis: str | None = None,
    guides: Sequence[tuple[float, str]] = (),
) -> go.Figure:
    """A trend of one or more series (`frame`: time, sha and one column per series), per day or per run.

    `unit` "%" draws percentages (`scale` 100 turns fractions into them); "count" draws whole numbers.
    Only `emphasis` (else the first series) gets a min–max band, so several series stay readable.
    `guides`: (y, label) of dashed lines across the chart (a gate, a target).
    """
    view = view or default_view(len(frame))
    frame = _with_sha(frame)
    fig = go.Figure()
    present = [c for c in columns if c in frame and frame[c].notna().any()]
    banded = emphasis if emphasis in present else (present[0] if present else None)
    top = low = None
    data = frame if view == "daily" else newest(frame)  # what the chart draws
    # the emphasised series last, so drawn on top (a lane equal to the total hid it), first in the legend
    for i, column in sorted(enumerate(columns), key=lambda ic: ic[1] == banded):
        if column not in present:
            continue
        color = SERIES[i % len(SERIES)]
        if view == "daily":
            if column == banded:
                day = per_day(frame, column, worse)
                _add_band(fig, day, column, color, unit, scale)
                if len(day) and day["runs"].iloc[-1] > 1:  # the day's one run is its point already
                    _add_newest(fig, frame, column, color, unit, scale, day["time"].iloc[-1])
            else:
                line = daily_median(frame, column)
                hover = [f"{label(column)}: median {m}" for m in shown(line["median"] * scale, unit)]
                fig.add_trace(go.Scatter(x=utc_axis(line["time"]), y=_numbers(line["median"], scale), mode="lines",
                                         name=label(column), line={"color": color, "width": 1.5}, customdata=_texts(hover),
                                         hovertemplate="%{customdata}<extra></extra>"))  # fmt: skip
        else:
            _add_runs(fig, data, column, column, color, unit, scale, width=2 if column == banded else 1.5)
        top = max(top or 0, float(data[column].max()) * scale)
        low = min(float(data[column].min()) * scale, top if low is None else low)
    if banded is not None:
        fig.for_each_trace(lambda t: t.update(legendrank=1), selector={"name": label(banded)})
    for y, _ in guides:  # a gate or target line stays on the chart
        top, low = max(top or y, y), min(low if low is not None else y, y)
    drawn = data["time"]
    marks = [_why_sparse(frame, columns, scope), _release_marks(releases, drawn),
             *(guide(y, text) for y, text in guides)]  # fmt: skip
    return _layout(fig, title, y_title, unit, view, marks=marks, top=top, low=low, drawn=drawn)


def pass_rate_trend(frame: pd.DataFrame, suites: Sequence[str], minimums: Mapping[str, float], *,
                    view: View | None = None, releases: Sequence[Release] = (), scope: str = "this window") -> go.Figure:  # fmt: skip
    """`frame`: columns time, sha and one pass-rate fraction column per suite. `minimums`: the pass rate
    the checklist asks of each suite it judges (reports.gate.pass_rate_minimums), one guide per value,
    naming its suites when the chart draws several."""
    judged: dict[float, list[str]] = {}
    for suite in suites:
        if suite in minimums:
            judged.setdefault(minimums[suite], []).append(suite)
    guides = [(value * 100, f"gate {value * 100:g} %" + (f" ({', '.join(names)})" if len(suites) > 1 else ""))
              for value, names in judged.items()]  # fmt: skip
    return trend(frame, suites, title="Pass rate", y_title="pass rate", unit="%", scale=100, view=view,
                 releases=releases, scope=scope, guides=guides)  # fmt: skip


def coverage_trend(frame: pd.DataFrame, lanes: Sequence[str], target: float | None, *,
                   view: View | None = None, releases: Sequence[Release] = (), scope: str = "this window") -> go.Figure:  # fmt: skip
    """`frame`: time, sha, "total" and one percent column per lane; lanes without data are left out, and
    a lane equal to the total in every run is named with it ("total (= lib)"): drawn under the total's
    line it was a legend entry with nothing to see."""
    drawn = [lane for lane in lanes if lane in frame and frame[lane].notna().any()]
    same = [lane for lane in drawn if frame[lane].round(2).equals(frame["total"].round(2))]
    total = f"total (= {', '.join(same)})" if same else "total"
    frame = frame.rename(columns={"total": total})
    columns = [total, *(lane for lane in drawn if lane not in same)]
    guides = [] if target is None else [(target, f"target {target:g} %")]
    return trend(frame, columns, title="Coverage (coverage.py total)", y_title="coverage", unit="%",
                 view=view, releases=releases, scope=scope, emphasis=total, guides=guides)  # fmt: skip


def count_trend(frame: pd.DataFrame, columns: Sequence[str], title: str, y_title: str, *,
                view: View | None = None, releases: Sequence[Release] = (), scope: str = "this window") -> go.Figure:  # fmt: skip
    """Counts where more is worse (findings, files failing to compile)."""
    return trend(frame, columns, title=title, y_title=y_title, unit="count", view=view, worse="higher",
                 releases=releases, scope=scope)  # fmt: skip


def ruff_trend(frame: pd.DataFrame, rules: Sequence[str], *, view: View | None = None,
               releases: Sequence[Release] = (), scope: str = "this window") -> go.Figure:  # fmt: skip
    """Stacked areas, one per rule (the top ones, and "other": `total` minus them); per day it is the
    day's last run, since medians of parts do not add up to the median of the total."""
    view = view or default_view(len(frame))
    frame = _with_sha(frame)
    named = [r for r in rules if r != "other" and r in frame]
    if "other" in rules and "other" not in frame and "total" in frame:
        frame = frame.assign(other=(frame["total"] - frame[named].fillna(0).sum(axis=1)).clip(lower=0))
    data = last_per_day(frame, rules) if view == "daily" else newest(frame)
    runs = data["runs"] if "runs" in data else pd.Series(1, index=data.index)
    fig = go.Figure()
    x = utc_axis(data["time"])
    # one 2-D array for every trace: a list of tuples is validated element by element, once per trace
    said = ["the day's one run" if n == 1 else f"last of {n} runs" for n in runs]
    custom = np.array(list(zip(labels(data["sha"].fillna("")), said, strict=True)), dtype=object).reshape(
        -1, 2
    )
    for i, rule in enumerate(rules):
        if rule in data and (rule != "other" or data[rule].fillna(0).any()):  # no band of zeros for "other"
            fig.add_trace(go.Scatter(
                x=x, y=_numbers(data[rule].fillna(0)), name=label(rule), stackgroup="ruff",
                mode="lines" if len(data) > 1 else "lines+markers",  # an area of one run draws nothing
                line={"width": 0.5, "color": OTHER if rule == "other" else SERIES[i % (len(SERIES) - 1)]},
                customdata=custom,
                hovertemplate=f"{label(rule)}: %{{y:,d}}<extra></extra>" if i else
                              (f"{label(rule)}: %{{y:,d}}" + (" (%{customdata[1]}, commit %{customdata[0]})"
                               if view == "daily" else " (commit %{customdata[0]})") + "<extra></extra>"),
            ))  # fmt: skip
    top = float(data[[r for r in rules if r in data]].fillna(0).sum(axis=1).max()) if len(data) else None
    # one run: its stacked points, and the note the other trends give
    sparse = (
        _why_sparse(frame.assign(findings=frame.get("total")), ["findings"], scope)
        if len(data) < 2
        else ([], [])
    )
    return _layout(fig, "ruff findings by rule", "findings", "count", view,
                   marks=[sparse, _release_marks(releases, data["time"])], top=top, drawn=data["time"])  # fmt: skip


BAR_LABEL_CHARS = 24  # a bar's name on the axis; the hover has it whole


def top_bars(names: Sequence[str], values: Sequence[float], title: str, color: str = SERIES[0]) -> go.Figure:
    """Horizontal bars, largest on top. The names are cut to BAR_LABEL_CHARS and the axis makes room for
    them (automargin): in a half-width column they were cut off at the chart's left edge."""
    short = [n if len(n) <= BAR_LABEL_CHARS else n[: BAR_LABEL_CHARS - 1] + "…" for n in names]
    if len(set(short)) < len(set(names)):  # names alike up to the cut would share one bar
        short = list(names)
    fig = go.Figure(go.Bar(x=list(values)[::-1], y=labels(short)[::-1], orientation="h", marker_color=color,
                           customdata=_texts(labels(names)[::-1]), hovertemplate="%{customdata}: %{x:,}<extra></extra>"))  # fmt: skip
    # the counts are on the x axis: _layout's "count" formatting would clip the category axis to [0, 1]
    fig = _layout(fig, title, "", "", "each run")
    fig.update_layout(height=max(220, 28 * len(names) + 80), hovermode="closest",
                      xaxis={**_whole_numbers(max(values, default=None)), "nticks": 4},  # the bars may get a narrow axis
                      yaxis={"automargin": True})  # fmt: skip
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
                  "per 1 000 decisions", "", "each run")  # fmt: skip
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
                                     line={"color": colors.get(decision, UNKNOWN)},
                                     hovertemplate=f"{label(decision)}: %{{y:,.0f}}<extra></extra>"))  # fmt: skip
    return _layout(fig, "Guardian decisions over time (Prometheus)", "decisions per step", "", "each run")


def share_bars(shares: dict[str, float], title: str) -> go.Figure:
    keys = sorted(shares, key=shares.get, reverse=True)
    fig = go.Figure(go.Bar(x=labels(keys), y=[shares[k] * 100 for k in keys], marker_color=PERMISSIVE,
                           hovertemplate="%{x}: %{y:.2f} %<extra></extra>"))  # fmt: skip
    return _layout(fig, title, "share", "%", "each run")


def recent_range(values: Sequence[float], unit: str, limit: int = 30) -> str | None:
    """ "last 30 runs 97.90–99.80 %": a KPI card's glance at its recent runs, as text (a chart in each
    card would make the browser load and run a second charting library); None under two runs."""
    kept = [v for v in list(values)[-limit:] if v is not None and v == v]
    if len(kept) < 2:
        return None
    # display_covered: a run with a failure never reads 100.00 (nor 0.00 with a pass)
    shown = [display_covered(v, 2) if unit == "percent" else number(round(v)) for v in (min(kept), max(kept))]
    span = shown[0] if shown[0] == shown[1] else "–".join(shown)
    return f"last {len(kept)} runs {span}{' %' if unit == 'percent' else ''}"


def describe(
    frame: pd.DataFrame,
    column: str,
    what: str,
    unit: str,
    scale: float = 1,
    view: View = "daily",
    stacked: bool = False,
) -> str:
    """Alt text for a trend: what it shows, over how many runs, from where to where. `stacked`: ruff's
    areas by rule, which draw each day's last run, not a median and band."""
    data = frame.dropna(subset=[column]) if column in frame else frame.iloc[0:0]
    if data.empty:
        return f"{what}: no run in this window."
    first, last = data.sort_values("time").iloc[[0, -1]][column] * scale
    [first, last] = shown([first, last], unit)
    how = ("each day's last run, stacked by rule" if stacked else "daily median and min–max band") if view == "daily" \
        else "one point per run"  # fmt: skip
    return (f"{what} over {number(len(data))} runs from {data['time'].min():%Y-%m-%d} to {data['time'].max():%Y-%m-%d} "
            f"(UTC), {how}: {first} at the first run, {last} at the last.")  # fmt: skip
