"""Chart builders are pure functions: check what each figure would show."""

from __future__ import annotations

import pandas as pd

from healthdeck.dashboard import charts


def _frame(n: int) -> pd.DataFrame:
    time = pd.date_range("2026-01-01", periods=n, freq="h", tz="UTC")
    return pd.DataFrame(
        {
            "time": time,
            "sha": [f"{i:08x}" for i in range(n)],
            "smoke": [0.9 + (i % 10) / 100 for i in range(n)],
        }
    )


def test_downsample_bounds_points_and_keeps_the_range() -> None:
    frame = _frame(10_000)
    small = charts.downsample(frame, "time", 500)
    assert len(small) <= 500
    assert small["time"].min() >= frame["time"].min() and small["time"].max() == frame["time"].max()
    assert abs(small["smoke"].mean() - frame["smoke"].mean()) < 0.01
    assert charts.downsample(frame.head(10), "time", 500).equals(frame.head(10))


def test_pass_rate_trend_has_threshold_and_percent_axis() -> None:
    fig = charts.pass_rate_trend(_frame(20_000), ["smoke"], 0.95)
    [trace] = fig.data
    assert len(trace.x) <= charts.MAX_POINTS and max(trace.y) <= 100
    assert fig.layout.shapes[0].y0 == 95
    assert fig.layout.yaxis.ticksuffix == " %"


def test_coverage_trend_skips_empty_lanes() -> None:
    frame = pd.DataFrame({"time": pd.date_range("2026-01-01", periods=3, tz="UTC"), "total": [80, 81, 82],
                          "core": [70, None, 72], "empty": [None, None, None]})  # fmt: skip
    fig = charts.coverage_trend(frame, ["core", "empty"], 80)
    assert [t.name for t in fig.data] == ["total", "core"]


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


def test_ruff_trend_stacks_rules() -> None:
    frame = pd.DataFrame(
        {"time": pd.date_range("2026-01-01", periods=2, tz="UTC"), "E501": [3, 2], "F401": [1, None]}
    )
    fig = charts.ruff_trend(frame, ["E501", "F401"])
    assert {t.stackgroup for t in fig.data} == {"ruff"} and list(fig.data[1].y) == [1, 0]


def test_decisions_over_time_and_sparkline() -> None:
    fig = charts.decisions_over_time({"allow": [[1_700_000_000, 5.0]], "would_deny": [[1_700_000_000, 1.0]]})
    assert [t.name for t in fig.data] == ["allow", "would_deny"]
    assert charts.sparkline([1, None, float("nan"), 2], limit=3) == [2]
