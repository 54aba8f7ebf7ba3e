"""Guardian's Prometheus counters, read with prometheus-api-client for one time window.

Queries (names and label keys from `MetricNames`, so the LUKHAS preset works too):
- decisions by decision and mode: `sum by (decision, mode) (increase(decisions[W]))`;
- strict deny minus permissive would-deny, by tenant and by action, keeping series that exist on one
  side only: `B - A or B or -A`;
- top-k rules: an instant `topk(k, sum by (rule_id) (increase(denies[W])))`;
- the would-deny share of each tenant's decisions;
- a decisions-by-decision series over the window for charts (at most `SERIES_POINTS` points).

Every query is pinned to `at` (instant queries otherwise return nothing five minutes after the last
sample), uses a bounded timeout and no retries; any failure is one CollectorError.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ..base import CollectorError
from ..checks import Invalid, array, mapping, number, shown
from ..errors import exception_text
from .format import MODES, WOULD_DENY, MetricNames

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from typing import Any, TypeVar

    T = TypeVar("T")


SOURCE = "prometheus"
SERIES_POINTS = 60
_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_window(window: str) -> timedelta:
    match = _DURATION.match(window.strip())
    if not match:
        raise ValueError(f"window {window!r} is not a Prometheus duration like 30m, 24h or 7d")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


@dataclass(frozen=True)
class Row:
    key: str
    value: float


@dataclass
class PrometheusResult:
    url: str
    window: str
    at: datetime
    decisions: list[dict]  # {decision, mode, value}
    delta_by_tenant: list[Row] | None  # None: the preset has no tenant label
    delta_by_action: list[Row] | None
    top_rules: list[Row] | None
    series: dict[str, list[tuple[float, float]]]  # decision -> [(epoch, increase per step)]
    would_deny_share_by_tenant: list[Row] | None = None  # would-deny ÷ all decisions, per tenant
    warnings: list[str] = field(default_factory=list)  # e.g. non-finite samples treated as missing


def collect_prometheus(
    url: str,
    window: str = "24h",
    *,
    at: datetime | None = None,
    names: MetricNames | None = None,
    timeout: float = 5.0,
    top: int = 5,
) -> PrometheusResult:
    names = names or MetricNames()
    at = (at or datetime.now(UTC)).astimezone(UTC)
    try:
        span = parse_window(window)
    except ValueError as exc:
        raise CollectorError(SOURCE, url, str(exc)) from exc
    client = _Client(url, timeout)
    dec = names.decisions
    decision = names.label("decisions", "decision")
    mode = names.label("decisions", "mode")
    by = ", ".join(label for label in (decision, mode) if label)
    decisions = [
        {
            "decision": metric.get(decision or "", ""),
            "mode": metric.get(mode) if mode else None,
            "value": value,
        }
        for metric, value in client.instant(f"sum by ({by}) (increase({dec}[{window}]))", at)
    ]
    decisions.sort(key=lambda r: (r["mode"] or "", r["decision"]))

    def delta(concept: str) -> list[Row] | None:
        label = names.label("decisions", concept)
        if label is None or decision is None:
            return None
        would = _selector(dec, {decision: WOULD_DENY, **({mode: MODES[0]} if mode else {})})
        denied = _selector(dec, {decision: "deny", **({mode: MODES[1]} if mode else {})})
        a = f"sum by ({label}) (increase({would}[{window}]))"
        b = f"sum by ({label}) (increase({denied}[{window}]))"
        rows = [Row(m.get(label, ""), v) for m, v in client.instant(f"({b}) - ({a}) or ({b}) or -({a})", at)]
        return sorted(rows, key=lambda r: (-abs(r.value), r.key))

    share = None
    tenant = names.label("decisions", "tenant")
    if tenant is not None and decision is not None:
        would = _selector(dec, {decision: WOULD_DENY})
        query = (
            f"sum by ({tenant}) (increase({would}[{window}])) / sum by ({tenant}) (increase({dec}[{window}]))"
        )
        # NaN here is 0 ÷ 0, a tenant without decisions in the window: no share, and nothing missing.
        rows = [(m, v) for m, v in client.instant(query, at, keep_nan=True) if v == v]
        rows = client.finite(query, rows, lambda row: row[1])  # ±Inf is no share: missing, said so
        share = sorted((Row(m.get(tenant, ""), v) for m, v in rows), key=lambda r: -r.value)
    rule = names.label("denies", "rule_id")
    top_rules = None
    if rule is not None:
        query = f"topk({top}, sum by ({rule}) (increase({names.denies}[{window}])))"
        top_rules = sorted(
            (Row(m.get(rule, ""), v) for m, v in client.instant(query, at)), key=lambda r: -r.value
        )
    step = max(int(span.total_seconds() // SERIES_POINTS), 1)
    series: dict[str, list[tuple[float, float]]] = {}
    if decision is not None:
        query = f"sum by ({decision}) (increase({dec}[{step}s]))"
        for metric, points in client.range(query, at - span, at, step):
            series[metric.get(decision, "")] = points
    by_tenant, by_action = delta("tenant"), delta("action")
    return PrometheusResult(
        url, window, at, decisions, by_tenant, by_action, top_rules, series, share, client.warnings
    )


def _selector(metric: str, labels: dict[str, str]) -> str:
    return metric + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


class _Client:
    """prometheus-api-client over a session with a total deadline per request, no retries, and
    answers checked before use; any failure is one CollectorError."""

    def __init__(self, url: str, timeout: float) -> None:
        from prometheus_api_client import PrometheusConnect

        from .http import DeadlineSession

        self.url = url
        self.timeout = timeout
        self.warnings: list[str] = []
        session = DeadlineSession(timeout)
        try:
            self.prom = PrometheusConnect(url=url, disable_ssl=False, session=session, timeout=timeout)
        except (TypeError, ValueError) as exc:
            raise CollectorError(SOURCE, url, f"bad URL: {exc}") from exc
        session.take_over(url)  # PrometheusConnect mounted its own retrying adapter on the URL

    def _call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        import requests
        from prometheus_api_client.exceptions import PrometheusApiClientException

        from .http import AnswerError

        try:
            return fn(*args, **kwargs)
        except AnswerError as exc:
            raise CollectorError(SOURCE, self.url, str(exc)) from exc
        except PrometheusApiClientException as exc:
            raise CollectorError(SOURCE, self.url, f"{_short(what)} failed: {exception_text(exc)}") from exc
        except requests.exceptions.JSONDecodeError as exc:  # a RequestException, but the server did answer
            raise CollectorError(SOURCE, self.url, f"answer to {_short(what)} is not valid JSON") from exc
        except requests.exceptions.RequestException as exc:
            raise CollectorError(
                SOURCE, self.url, f"unreachable within {self.timeout:g}s: {exception_text(exc)}"
            ) from exc
        except RecursionError as exc:
            raise CollectorError(SOURCE, self.url, f"answer to {_short(what)} is nested too deeply") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise CollectorError(
                SOURCE, self.url, f"unexpected answer to {_short(what)}: {exception_text(exc)}"
            ) from exc

    def _checked(self, query: str, read: Callable[[], T]) -> T:
        """Run `read` over an answer; a malformed sample or shape is the server's input error."""
        try:
            return read()
        except (Invalid, KeyError, IndexError, TypeError, AttributeError) as exc:
            reason = (
                str(exc)
                if isinstance(exc, Invalid)
                else f"unexpected shape ({type(exc).__name__}: {exception_text(exc)})"
            )
            raise CollectorError(SOURCE, self.url, f"answer to {_short(query)}: {reason}") from exc

    def instant(self, query: str, at: datetime, *, keep_nan: bool = False) -> list[tuple[dict, float]]:
        """(labels, value) per series. Non-finite values are dropped as missing, with a warning, unless
        `keep_nan` (the caller knows what NaN means for its query)."""
        data = self._call(query, self.prom.custom_query, query, params={"time": at.timestamp()})

        def read() -> list[tuple[dict, float]]:
            if isinstance(data, list) and len(data) == 2 and not isinstance(data[0], dict):
                return [({}, _sample(data[1]))]  # a scalar result is a bare [ts, "v"]
            return [(_labels(item), _sample(_pair(item["value"])[1])) for item in array(data, "result")]

        rows = self._checked(query, read)
        return rows if keep_nan else self.finite(query, rows, lambda row: row[1])

    def range(self, query: str, start: datetime, end: datetime, step: int) -> list[tuple[dict, list]]:
        data = self._call(
            query, self.prom.custom_query_range, query, start_time=start, end_time=end, step=f"{step}s"
        )

        def read() -> list[tuple[dict, list]]:
            return [
                (
                    _labels(item),
                    [(_sample(t), _sample(v)) for t, v in map(_pair, array(item["values"], "values"))],
                )
                for item in array(data, "result")
            ]

        return [
            (labels, self.finite(query, points, lambda p: p[0] + p[1]))
            for labels, points in self._checked(query, read)
        ]

    def finite(self, query: str, rows: list, value: Callable[[Any], float]) -> list:
        kept = [row for row in rows if math.isfinite(value(row))]
        if len(kept) < len(rows):
            self.warnings.append(
                f"{len(rows) - len(kept)} non-finite sample(s) (NaN/Inf) treated as missing in {_short(query)}"
            )
        return kept


def _sample(value: object) -> float:
    return number(value, "sample value")


def _pair(value: object) -> list:
    pair = array(value, "sample")
    if len(pair) != 2:
        raise Invalid(f"sample {shown(pair)} is not a [time, value] pair")
    return pair


def _labels(item: object) -> dict[str, str]:
    labels = mapping(mapping(item, "series").get("metric", {}), "metric")
    if not all(isinstance(v, str) for v in labels.values()):
        raise Invalid(f"labels {shown(labels)} are not all strings")
    return labels


def _short(query: str) -> str:
    return query if len(query) <= 80 else query[:79] + "…"
