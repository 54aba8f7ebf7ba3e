"""Chart builders are pure functions: check what each figure would show and how much it sends."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from healthdeck.dashboard import charts
from healthdeck.dashboard.data import releases, window_start
from healthdeck.reports.review import is_release

SPAN = pd.Timedelta(days=425)  # 14 months


def _store_like(n: int = 10_000, span: pd.Timedelta = SPAN, seed: int = 1) -> pd.DataFrame:
    """n runs evenly over `span`, a pass rate that improves with noise, one dip a day."""
    rng = np.random.default_rng(seed)
    time = pd.date_range(end=pd.Timestamp("2026-11-01", tz="UTC"), periods=n, freq=span / n)
    rate = np.clip(0.93 + 0.06 * np.arange(n) / n + rng.uniform(-0.01, 0.01, n), 0, 1)
    return pd.DataFrame({"time": time, "sha": [f"{i:08x}" for i in range(n)], "unit": rate,
                         "total": 70 + 15 * np.arange(n) / n, "ruff": rng.integers(0, 40, n)})  # fmt: skip


def _points(fig) -> int:
    return max((len(t.x) for t in fig.data if t.x is not None), default=0)


@pytest.mark.parametrize("view", charts.VIEWS)
def test_every_trace_stays_a_few_hundred_points_at_10_000_runs(view) -> None:
    frame = _store_like()
    figures = [
        charts.pass_rate_trend(frame, ["unit"], {"unit": 0.95}, view=view),
        charts.coverage_trend(frame, [], 80, view=view),
        charts.count_trend(frame, ["ruff"], "ruff", "findings", view=view),
        charts.ruff_trend(frame.assign(E501=frame["ruff"] // 2), ["E501", "other"], view=view),
    ]
    for fig in figures:
        assert 0 < _points(fig) <= 500, (fig.layout.title.text, _points(fig))
    # the same whatever the store holds: ten times the runs, still bounded
    assert _points(charts.pass_rate_trend(_store_like(100_000), ["unit"], {"unit": 0.95}, view=view)) <= 500


def test_daily_view_is_a_median_line_and_a_min_max_band_without_markers() -> None:
    frame = _store_like().iloc[
        :-1
    ]  # the last run fell at midnight, alone on its day: the newest day has many
    fig = charts.pass_rate_trend(frame, ["unit"], {"unit": 0.95}, view="daily")
    low, high, median, newest = fig.data
    assert high.fill == "tonexty" and low.hoverinfo == high.hoverinfo == "skip"
    assert "markers" not in median.mode
    # the newest run, whose figure the card above shows, is one point on the line of medians
    assert newest.mode == "markers" and list(newest.y) == [frame["unit"].iloc[-1] * 100]
    assert newest.hovertemplate.startswith("newest run:") and len(newest.x) == 1
    # at its day's place on the line, not at its time of day past the line's end; named in the legend
    assert newest.x[0] == median.x[-1] and newest.name == "newest run"
    assert all(lo <= me <= hi for lo, me, hi in zip(low.y, median.y, high.y, strict=True))
    day = charts.per_day(frame, "unit")
    assert day["runs"].sum() == len(frame) and len(day) == len(median.x)  # every run counted once
    # the hover names the day's runs and its worst run (lowest pass rate) by commit and time
    busiest = day.iloc[10]
    runs_that_day = frame[frame["time"].dt.floor("D") == busiest["time"]]
    worst = runs_that_day.loc[runs_that_day["unit"].idxmin()]
    hover = median.customdata[10]
    assert f"of {len(runs_that_day)} runs" in hover and f"commit {worst['sha']}" in hover
    assert f"worst {worst['unit'] * 100:.2f} %" in hover and f"{worst['time']:%H:%M} UTC" in hover
    assert fig.layout.xaxis.hoverformat.endswith("(UTC)")


def test_the_newest_run_alone_on_its_day_is_drawn_once() -> None:
    """A day's one run is the day's point already: no second marker for it at its time of day."""
    frame = _store_like()
    assert (frame["time"].dt.floor("D") == frame["time"].iloc[-1].floor("D")).sum() == 1
    traces = charts.pass_rate_trend(frame, ["unit"], {"unit": 0.95}, view="daily").data
    assert [t.hovertemplate.startswith("newest run:") for t in traces if t.hovertemplate] == [False]
    assert traces[2].y[-1] == frame["unit"].iloc[-1] * 100 and "the day's one run" in traces[2].customdata[-1]


def test_more_is_worse_for_counts() -> None:
    frame = _store_like(500, pd.Timedelta(days=5))
    day = charts.per_day(frame, "ruff", worse="higher")
    assert (day["worst"] == day["high"]).all()


def test_aggregates_per_day_above_the_documented_threshold() -> None:
    assert charts.default_view(charts.AGGREGATE_ABOVE) == "each run"
    assert charts.default_view(charts.AGGREGATE_ABOVE + 1) == "daily"
    small = _store_like(30, pd.Timedelta(days=30))
    [trace] = charts.pass_rate_trend(small, ["unit"], {}).data  # each run, with markers, by default
    assert len(trace.x) == 30 and "markers" in trace.mode and "(commit " in trace.customdata[0]


def test_a_window_longer_than_max_buckets_days_goes_weekly() -> None:
    frame = _store_like(20_000, pd.Timedelta(days=3 * 365))
    day = charts.per_day(frame, "unit")
    assert len(day) <= charts.MAX_BUCKETS and day["runs"].sum() == len(frame)
    assert (day["time"].diff().dropna() == pd.Timedelta(days=7)).all()


def test_each_run_view_draws_the_newest_runs() -> None:
    frame = _store_like(2_000, pd.Timedelta(days=90))
    fig = charts.pass_rate_trend(frame, ["unit"], {}, view="each run")
    [trace] = fig.data
    assert len(trace.x) == charts.MAX_RAW and pd.Timestamp(trace.x[-1], tz="UTC") == frame["time"].max()
    assert fig.layout.title.text.endswith(f"the newest {charts.MAX_RAW} runs")  # not the whole window


def test_an_empty_or_one_run_series_says_why() -> None:
    frame = _store_like(50, pd.Timedelta(days=3))
    frame["smoke"] = [None] * 49 + [0.9]
    fig = charts.pass_rate_trend(frame, ["unit", "smoke", "e2e"], {"smoke": 0.95}, scope="main, last 7 days")
    [note] = [a.text for a in fig.layout.annotations if "trend needs two" in a.text]
    assert (
        "smoke: recorded by only one run of main, last 7 days" in note
        and "e2e: recorded by no run of main, last 7 days" in note
    )
    assert not any("unit" in a.text for a in fig.layout.annotations)
    # above the plot, in room made for its three lines: inside, it covered the other series' points
    [placed] = [a for a in fig.layout.annotations if "trend needs two" in a.text]
    assert (placed.yref, placed.y, placed.yanchor) == (
        "paper",
        1,
        "bottom",
    ) and fig.layout.margin.t == 40 + 17 * (note.count("<br>") + 1)
    # cut into lines a half-width chart holds: one line ran past its right edge
    assert max(len(line) for line in note.split("<br>")) <= charts.NOTE_CHARS < len(note)
    # the title at the top, above the notes (plotly centred it in the margin, over them)
    assert (fig.layout.title.y, fig.layout.title.yanchor, fig.layout.title.yref) == (1, "top", "container")
    # series in the same case share a note: a project's first run has every series once
    first = _store_like(1, pd.Timedelta(days=1))
    fig = charts.pass_rate_trend(first, ["unit", "total"], {}, scope="main, last 7 days")
    [note] = [a.text for a in fig.layout.annotations if "trend needs two" in a.text]
    assert note.replace("<br>", " ").startswith(
        "unit, total: recorded by only one run of main, last 7 days, on "
    )


def test_a_figure_recorded_on_one_day_is_drawn_per_day_too() -> None:
    """Per day, a series is a median line: one day of it is a line of one point, which plotly does not
    draw. The each-run view showed the point; the daily view showed an empty chart."""
    frame = _store_like(500, pd.Timedelta(days=30))
    frame["causes"] = [None] * 499 + [4]
    fig = charts.count_trend(frame, ["causes"], "failure causes", "causes", view="daily")
    [median] = [t for t in fig.data if t.hovertemplate == "%{customdata}<extra></extra>"]
    assert median.mode == "markers" and median.y[0] == 4


def test_ruff_by_rule_with_one_run_draws_its_points_and_says_why_there_is_no_line() -> None:
    def runs(n: int) -> pd.DataFrame:
        time = pd.date_range("2026-11-01", periods=n, freq="h", tz="UTC")
        return pd.DataFrame({"time": time, "sha": [f"{i:08x}" for i in range(n)], "total": 5, "E501": 3})

    fig = charts.ruff_trend(runs(1), ["E501", "other"])
    assert any("findings: recorded by only one run of this window" in a.text for a in fig.layout.annotations)
    # the one run is drawn as its stacked points (an area of one point draws nothing), E501 at 3, the
    # other 2 findings on top of it
    assert [(t.name, t.mode, list(t.y)) for t in fig.data] == [
        ("E501", "lines+markers", [3]),
        ("other", "lines+markers", [2]),
    ]
    two = charts.ruff_trend(runs(2), ["E501", "other"])
    assert not two.layout.annotations and {t.mode for t in two.data} == {"lines"}
    # no band of zeros for "other" when the named rules are every finding
    assert [t.name for t in charts.ruff_trend(runs(2).assign(total=3), ["E501", "other"]).data] == ["E501"]


def test_a_single_run_gets_a_day_either_side_ticked_by_date() -> None:
    """plotly spreads one point over a millisecond and ticks it "22:18:46.9995"; the axis says the date."""
    frame = _store_like(1, pd.Timedelta(days=1))
    for view in charts.VIEWS:
        axis = charts.pass_rate_trend(frame, ["unit"], {"unit": 0.95}, view=view).layout.xaxis
        low, high = (pd.Timestamp(t) for t in axis.range)
        run = frame["time"].iloc[0].tz_convert(None)
        assert high - low == pd.Timedelta(days=3) and low < run < high and axis.tickformat == "%Y-%m-%d", view
    two = _store_like(2, pd.Timedelta(days=1))
    assert charts.pass_rate_trend(two, ["unit"], {"unit": 0.95}).layout.xaxis.range is None


def test_top_bars_show_every_bar_with_a_whole_number_count_axis() -> None:
    """The categories are on the y axis: a count axis there clipped the chart to its first bar or two."""
    fig = charts.top_bars(["CPY001", "PLR0917", "ISC004", "UP018"], [55, 16, 7, 1], "Top rules now")
    assert fig.layout.yaxis.range is None and fig.layout.xaxis.tickformat == ",d"
    assert list(fig.data[0].y) == ["UP018", "ISC004", "PLR0917", "CPY001"]  # the largest at the top


def test_long_bar_names_are_cut_on_the_axis_and_whole_in_the_hover() -> None:
    """In a half-width column "UP031 printf-string-formatting" lost its code off the chart's left edge."""
    names = ["UP031 printf-string-formatting", "E501 line-too-long", "F811 redefined-while-unused<b>"]
    fig = charts.top_bars(names, [9, 5, 1], "Top rules now")
    bar = fig.data[0]
    assert list(bar.y) == ["F811 redefined-while-un…", "E501 line-too-long", "UP031 printf-string-for…"]
    assert list(bar.customdata)[::-1] == ["UP031 printf-string-formatting", "E501 line-too-long",
                                          "F811 redefined-while-unused&lt;b&gt;"]  # fmt: skip
    assert max(len(y) for y in bar.y) <= charts.BAR_LABEL_CHARS and fig.layout.yaxis.automargin
    # names alike up to the cut keep their whole names rather than share one bar
    alike = ["tenant-with-a-long-common-prefix-a", "tenant-with-a-long-common-prefix-b"]
    assert list(charts.top_bars(alike, [2, 1], "t").data[0].y) == alike[::-1]


def test_count_axes_show_whole_numbers() -> None:
    frame = _store_like(40, pd.Timedelta(days=40)).assign(failures=[0] * 39 + [1])
    fig = charts.count_trend(frame, ["failures"], "compileall failures", "files")
    assert fig.layout.yaxis.tickformat == ",d" and fig.layout.yaxis.dtick == 1
    assert -0.5 < fig.layout.yaxis.range[0] < 0  # a line of zeros is drawn above the axis, not on it
    fig = charts.count_trend(frame.assign(failures=frame["ruff"] * 100), ["failures"], "ruff", "findings")
    axis, top = fig.layout.yaxis, (frame["ruff"] * 100).max()
    # the axis ends at a labelled tick at or above the highest point: nothing is drawn above the last label
    assert axis.tickformat == ",d" and axis.dtick >= 1 and axis.dtick == int(axis.dtick)
    last_tick = -(-top // axis.dtick) * axis.dtick
    assert top <= last_tick <= axis.range[1] and last_tick - top < axis.dtick


def test_a_percent_axis_ends_at_a_tick_above_its_highest_point() -> None:
    """98.08 % over a target of 85 %: ticks every 5 points up to 100 %, not a last tick of 95 % under
    the line."""
    axis = charts._percent_range(85.0, 98.08)
    assert axis["dtick"] == 5 and axis["range"][0] < 85 and 100 <= axis["range"][1] < 105
    tiny = charts._percent_range(99.97, 99.98)
    assert tiny["dtick"] == 0.5 and tiny["range"][1] >= 100


@pytest.mark.parametrize("view", charts.VIEWS)
def test_a_percent_axis_is_never_zoomed_into_a_wobble_and_holds_every_point(view) -> None:
    """Coverage moving by hundredths of a point reads as flat, not as a cliff the chart's height; a pass
    rate at 100 % and the gate's line both stay inside the axis."""
    frame = _store_like(40, pd.Timedelta(days=40)).assign(total=[84.95, 84.98] * 20)
    low, high = charts.coverage_trend(frame, [], None, view=view).layout.yaxis.range
    assert high - low >= charts.MIN_PERCENT_SPAN and low < 84.95 and high > 84.98
    rates = frame.assign(unit=[1.0] * 39 + [0.99])
    low, high = charts.pass_rate_trend(rates, ["unit"], {"unit": 0.95}, view=view).layout.yaxis.range
    assert low < 95 < 100 < high <= 101


def test_releases_are_marked_on_trend_lines() -> None:
    frame = _store_like(300, pd.Timedelta(days=30))
    tags = [charts.Release(frame["time"].iloc[0] - pd.Timedelta(days=9), "v0.9.0")]  # before the window
    tags += [charts.Release(frame["time"].iloc[i], f"v1.{i}.0") for i in (50, 150)]
    fig = charts.coverage_trend(frame, [], 80, releases=tags)
    assert [a.text for a in fig.layout.annotations if a.text.startswith("v")] == ["v1.50.0", "v1.150.0"]
    assert sum(s.line.dash == "dot" for s in fig.layout.shapes) == 2
    # a tag a few hours before a newer one keeps its line, not a label printed over the newer one's
    crowded = [*tags, charts.Release(frame["time"].iloc[152], "v1.152.0")]
    fig = charts.coverage_trend(frame, [], 80, releases=crowded)
    assert [a.text for a in fig.layout.annotations if a.text.startswith("v")] == ["v1.50.0", "v1.152.0"]
    assert sum(s.line.dash == "dot" for s in fig.layout.shapes) == 3
    # each run draws the newest runs only: no release outside them is marked
    fig = charts.coverage_trend(_store_like(2_000, pd.Timedelta(days=90)), [], 80, view="each run",
                                releases=[charts.Release(pd.Timestamp("2026-08-10", tz="UTC"), "v1.0.0")])  # fmt: skip
    assert not fig.layout.shapes or all(s.line.dash != "dot" for s in fig.layout.shapes)
    # more releases than are marked: the chart says how many are left out
    many = [charts.Release(frame["time"].iloc[i], f"v2.{i}.0") for i in range(0, 300, 20)]  # 15 in the window
    fig = charts.coverage_trend(frame, [], 80, releases=many)
    assert sum(s.line.dash == "dot" for s in fig.layout.shapes) == 12
    assert "the newest 12 of 15 releases are marked" in [a.text for a in fig.layout.annotations]


def test_release_tags_from_git_describe() -> None:
    assert is_release("v1.4.0") and is_release("2026.11") and is_release("release-7")
    assert not is_release("v1.4.0-3-gabc1234") and not is_release("v1.4.0-dirty")
    assert not is_release("abc1234") and not is_release(None) and not is_release("")
    runs = pd.DataFrame({"ts": [1, 2, 3, 4], "version": ["v1.0", "v1.0-1-g1234567", "v1.0", "v1.1"]})
    assert list(releases(runs)["ts"]) == [1, 4]  # the first run of each tag
    # the dashboard's column-wide test agrees with is_release on every shape git describe writes
    shapes = ["v1.4.0", "2026.11", "release-7", "v1.4.0-3-gabc1234", "v1.4.0-dirty", "abc1234", "abc1234-dirty",
              None, "", "v2-rc1", "1.0-10-g0123456789abcdef-dirty", "v1.0.0-dirty-x", "deadbeef"]  # fmt: skip
    many = pd.DataFrame({"ts": range(len(shapes)), "version": pd.Series(shapes, dtype=object)})
    assert list(releases(many)["version"]) == [v for v in shapes if is_release(v)]


def test_window_start_is_stable_all_day() -> None:
    morning, night = (
        1_764_000_000 - 1_764_000_000 % 86_400 + 60,
        1_764_000_000 - 1_764_000_000 % 86_400 + 86_000,
    )
    assert window_start(90, morning) == window_start(90, night) == window_start(90, morning + 1)
    assert window_start(90, morning) % 86_400 == 0 and window_start(None, morning) is None


def test_coverage_trend_skips_empty_lanes() -> None:
    frame = pd.DataFrame({"time": pd.date_range("2026-01-01", periods=3, tz="UTC"), "total": [80, 81, 82],
                          "core": [70, None, 72], "empty": [None, None, None]})  # fmt: skip
    fig = charts.coverage_trend(frame, ["core", "empty"], 80)
    # the total is drawn last (on top of a lane equal to it) and listed first
    assert [t.name for t in fig.data] == ["core", "total"] and fig.data[1].legendrank == 1


def test_a_lane_equal_to_the_total_is_named_with_it_not_drawn_under_it() -> None:
    """A project whose one prod lane holds all its code: the lane's line lay exactly under the total's,
    a legend entry with nothing to see. It is named with the total instead; a lane that differs once stays."""
    frame = pd.DataFrame({"time": pd.date_range("2026-01-01", periods=3, tz="UTC"), "total": [80.0, 81.0, 82.004],
                          "lib": [80.0, 81.0, 82.0], "api": [80.0, 79.0, 82.0]})  # fmt: skip
    fig = charts.coverage_trend(frame, ["lib", "api"], 80, view="each run")
    assert sorted(t.name for t in fig.data if t.name) == ["api", "total (= lib)"]


def test_one_config_for_every_chart() -> None:
    config = charts.chart_config("coverage")
    assert config["toImageButtonOptions"] == {"format": "png", "filename": "healthdeck-coverage", "scale": 2}
    assert config["displaylogo"] is False and "lasso2d" in config["modeBarButtonsToRemove"]


def test_alt_text_says_what_and_how_much() -> None:
    frame = _store_like(300, pd.Timedelta(days=30))
    text = charts.describe(frame, "unit", "unit pass rate", "%", 100)
    assert text.startswith("unit pass rate over 300 runs from ") and "(UTC)" in text
    assert f"{frame['unit'].iloc[-1] * 100:.2f} % at the last" in text
    assert (
        charts.describe(frame.iloc[0:0], "unit", "unit pass rate", "%")
        == "unit pass rate: no run in this window."
    )


def test_deny_delta_calls_out_new_in_strict() -> None:
    rows = {
        "R-007": {"would_deny": 0, "denied": 67, "would_deny_per_1000": 0.0, "denied_per_1000": 16.1},
        "R-004": {"would_deny": 251, "denied": 31, "would_deny_per_1000": 31.4, "denied_per_1000": 7.5},
    }
    fig = charts.deny_delta(rows, "rule", {"R-007"})
    permissive, strict = fig.data
    assert list(permissive.x) == ["★ R-007", "R-004"] and list(strict.y) == [16.1, 7.5]
    assert list(strict.customdata) == [67, 31]
    assert fig.layout.barmode == "group"


def test_ruff_trend_stacks_rules_and_the_rest() -> None:
    frame = pd.DataFrame({"time": pd.date_range("2026-01-01", periods=2, tz="UTC"), "total": [10, 5],
                          "E501": [3, 2], "F401": [1, None]})  # fmt: skip
    fig = charts.ruff_trend(frame, ["E501", "F401", "other"])
    assert {t.stackgroup for t in fig.data} == {"ruff"} and list(fig.data[1].y) == [1, 0]
    assert list(fig.data[2].y) == [6, 3]  # total minus the named rules
    assert fig.layout.yaxis.tickformat == ",d"


def test_decisions_over_time_and_recent_range() -> None:
    fig = charts.decisions_over_time({"allow": [[1_700_000_000, 5.0]], "would_deny": [[1_700_000_000, 1.0]]})
    assert [t.name for t in fig.data] == ["allow", "would_deny"]
    assert charts.recent_range([1, None, float("nan"), 2], "count", limit=3) is None  # one run is no range
    assert (
        charts.recent_range([50.0, 99.123, 97.5, 99.996], "percent", limit=3) == "last 3 runs 97.50–99.99 %"
    )
    assert charts.recent_range([1200, 1200], "count") == "last 2 runs 1 200"


def _per_day_by_groupby(frame: pd.DataFrame, column: str, worse: str) -> pd.DataFrame:
    """The plain pandas groupby the per-day aggregation must agree with."""
    data = frame[["time", "sha", column]].dropna(subset=[column])
    grouped = data.groupby(charts._bucket(data["time"]), sort=True)[column]
    worst = data.loc[(grouped.idxmin() if worse == "lower" else grouped.idxmax()).to_numpy()]
    median = grouped.median()
    return pd.DataFrame({"time": median.index, "median": median.to_numpy(), "low": grouped.min().to_numpy(),
                         "high": grouped.max().to_numpy(), "runs": grouped.size().to_numpy(),
                         "worst": worst[column].to_numpy(), "worst_sha": worst["sha"].fillna("").to_numpy(),
                         "worst_time": worst["time"].to_numpy()})  # fmt: skip


@pytest.mark.parametrize(("n", "span"), [(3_000, pd.Timedelta(days=40)), (3_000, pd.Timedelta(days=800))])
@pytest.mark.parametrize("worse", ["lower", "higher"])
def test_per_day_agrees_with_a_pandas_groupby(n, span, worse) -> None:
    """Daily (and weekly, past MAX_BUCKETS days) median, min, max, runs and worst run, with ties (whole
    counts), gaps and runs out of time order: the same figures as pandas' groupby."""
    frame = _store_like(n, span, seed=7).sample(frac=1, random_state=3)  # out of order
    frame.loc[frame.index[::17], "ruff"] = np.nan
    for column in ("unit", "ruff"):
        got, want = charts.per_day(frame, column, worse), _per_day_by_groupby(frame, column, worse)
        assert len(got) == len(want) > 20
        for key in want:
            assert list(got[key]) == list(want[key]), (column, key)
        line = charts.daily_median(frame, column)
        assert list(line["median"]) == list(want["median"]) and list(line["time"]) == list(want["time"])


def test_hovers_round_as_the_report_does() -> None:
    """plotly's ".2f" showed one failure in 100 000 tests as "100.00 %"; counts get the report's separator."""
    assert charts.shown([99.999, 0.001, 100.0, 91.234], "%") == ["99.99 %", "0.01 %", "100.00 %", "91.23 %"]
    assert charts.shown([12345.0, 3], "count") == ["12 345", "3"]
    frame = _store_like(30, pd.Timedelta(days=30))
    frame["unit"] = [0.99999] * 30
    for view in ("each run", "daily"):
        fig = charts.pass_rate_trend(frame, ["unit"], {"unit": 0.95}, view=view)
        hovers = [h for t in fig.data if t.hovertemplate
                  for h in (t.customdata if t.customdata is not None else [t.hovertemplate])]  # fmt: skip
        assert hovers and all("100.00" not in h for h in hovers) and any("99.99 %" in h for h in hovers)


def test_every_series_colour_reads_on_the_light_and_the_dark_theme() -> None:
    def luminance(colour: str) -> float:
        def linear(c: float) -> float:
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (linear(int(colour[i : i + 2], 16) / 255) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    def contrast(a: str, b: str) -> float:
        high, low = sorted((luminance(a), luminance(b)), reverse=True)
        return (high + 0.05) / (low + 0.05)

    for colour in (*charts.SERIES, charts.OTHER, charts.RELEASE):
        assert min(contrast(colour, "#ffffff"), contrast(colour, "#0e1117")) >= 3, colour  # WCAG 1.4.11
