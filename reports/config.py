"""`[tool.healthdeck]` in pyproject.toml, found the way ruff and pytest find theirs (cwd, then upward)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import stat
import zlib
from pathlib import Path

from healthdeck.collectors.checks import DECODED_MB
from healthdeck.collectors.files import read_named, rereadable
from healthdeck.collectors.guardian.format import PRESETS, MetricNames
from healthdeck.collectors.records import Record

from . import DEFAULT_OUT
from .errors import shown_path

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from typing import Any

    from healthdeck.collectors.base import InputLimits


class ConfigError(Exception):
    """The configuration is unusable; the message names the file and the key."""


# The settings are records (named tuples, collectors.records) rather than dataclasses: a dataclass costs
# about 1 ms to define, and gate, comment and badge would define a dozen on every run. A record's default is
# one object shared by all instances, so a setting is never changed in place: `config._replace(...)` makes
# a new one.


class GuardianConfig(Record):
    """[tool.healthdeck.guardian]: metric names/labels (a preset plus overrides) and Prometheus."""

    metrics: MetricNames = MetricNames()
    prometheus_url: str | None = None
    window: str = "24h"
    timeout: float = 5.0


# The team's release checklist: what `healthdeck gate` checks when the project configures nothing.
# A [tool.healthdeck.gates] table adjusts it (an item set to false is dropped, others are added); it never
# starts from an empty list, so a typo or an empty table cannot switch the gate off.
DEFAULT_CHECKLIST = (
    "smoke_pass_rate_min",
    "ruff_prod_max",
    "compileall_prod_max",
    "report_current",
    "openapi_breaking_max",
)


# Checklist items whose threshold is a count: 0.5 findings would read as "at most 0" by accident.
_COUNT_LIMITS = ("ruff_prod_max", "compileall_prod_max", "openapi_breaking_max", "guardian_new_in_strict_max")


class GateConfig(Record):
    """The release checklist: the default items, adjusted by [tool.healthdeck.gates]. None = not checked."""

    smoke_pass_rate_min: float | None = 0.95  # the smoke suite's pass rate, a fraction
    ruff_prod_max: int | None = 0  # ruff findings in the prod lanes (no prod lanes: the whole tree)
    compileall_prod_max: int | None = 0  # files failing to compile in the prod lanes (likewise)
    report_current: bool = True  # made from the checked-out commit; outside git, at most max_age_hours old
    openapi_breaking_max: int | None = 0  # breaking OpenAPI changes
    pass_rate_min: dict[str, float] = {}  # noqa: RUF012 (shared, never changed) suite -> fraction, e.g. {unit = 0.9}
    coverage_min: float | None = None  # percent
    coverage_drop_max: float | None = None  # percentage points versus the baseline
    max_age_hours: float | None = None  # the report must be fresher than this
    no_new_failures: bool = False  # no test failing now that did not fail in the baseline
    guardian_new_in_strict_max: int | None = None
    unknown_blocks: bool = True  # a condition without data blocks the release
    baseline: str = "previous"
    origin: str | None = None  # the file whose [tool.healthdeck.gates] adjusted the default; None: none did
    dropped: tuple[str, ...] = ()  # default items the table set to false
    added: tuple[str, ...] = ()  # conditions the table turned on beyond the default

    def baseline_keys(self) -> list[str]:
        """The settings in force that compare with a baseline run (every other item judges this run alone)."""
        return [key for key, on in (("coverage_drop_max", self.coverage_drop_max is not None),
                                    ("no_new_failures", self.no_new_failures)) if on]  # fmt: skip

    def describe(self, config_file: str | None = None) -> str:
        """Which checklist is in force, for the first line of the gate's output (and the report: its
        config file is named relative to the working directory, so no runner's home lands in it)."""
        if self.origin is None:
            where = f" in {shown_path(config_file)}" if config_file else "; no [tool.healthdeck] found"
            return f"the default release checklist (no [tool.healthdeck.gates] table{where})"
        default = GateConfig()
        changed = [f"{k} = {getattr(self, k)!r}" for k in DEFAULT_CHECKLIST
                   if k not in self.dropped and getattr(self, k) != getattr(default, k)]  # fmt: skip
        changes = [f"{label}: {', '.join(items)}" for label, items in
                   (("dropped", self.dropped), ("changed", changed), ("added", self.added)) if items]  # fmt: skip
        if not self.unknown_blocks:
            changes.append("unknown items do not block")
        return (
            f"the default release checklist as adjusted by [tool.healthdeck.gates] in {shown_path(self.origin)}"
            + (f" ({'; '.join(changes)})" if changes else " (unchanged)")
        )


class Category(Record):
    """[tool.healthdeck.categories] NAME = {message = "regex", outcome = ["failed", "error"]}.

    A cause belongs to the first category (in file order) whose message regex is found in the cause's
    example message or signature and whose outcomes include one of the cause's; a key left out matches all.
    """

    name: str
    message: re.Pattern[str] | None = None
    outcomes: frozenset[str] = frozenset()
    where: str = ""  # "FILE: [tool.healthdeck.categories] NAME", for errors found while matching


CATEGORY_OUTCOMES = ("failed", "error")


class DashboardConfig(Record):
    """[tool.healthdeck.dashboard]: who may look. Sign-in is on when asked for or when a list is given."""

    sign_in: bool = False
    allowed_domains: tuple[str, ...] = ()  # verified e-mail domains let in
    allowed_groups: tuple[str, ...] = ()  # or members of these groups (the ID token's `groups` claim)
    provider: str | None = None  # an [auth.NAME] section of .streamlit/secrets.toml; default: [auth]
    recheck_seconds: int = 30  # an open page looks for a newly landed run this often; 0: never

    @property
    def requires_sign_in(self) -> bool:
        return self.sign_in or bool(self.allowed_domains or self.allowed_groups)


class Config(Record):
    out: str = DEFAULT_OUT
    root: str = "."  # project root: lanes and file paths are relative to it
    lanes: dict[str, tuple[str, ...]] = {}  # noqa: RUF012 (shared, never changed) lane -> path prefixes
    message_chars: int = 300  # failing-test message excerpt
    slowest: int = 10
    max_failing_listed: int = 200  # per suite, in latest.json/latest.md (counts stay exact)
    cause_tests_listed: int = 20  # test ids listed under each cause (its count stays exact)
    causes_listed: int = 100  # causes listed per suite (summary.tests.<suite>.causes stays exact)
    categories: tuple[Category, ...] = ()
    duration_floor: float = 0.5  # seconds: a test faster than this now is never a duration regression
    duration_ratio: float = 2.0  # a test this many times slower than in the baseline is a regression
    lowest_files: int = 10
    coverage_files_listed: int = (
        10_000  # files in details.coverage.files, lowest covered first (files_total exact)
    )
    findings_listed: int = 50  # ruff findings listed, prod lanes first (the count stays exact)
    guardian_rows_listed: int = 50  # rows per Guardian table, largest first (counts and totals stay exact)
    coverage_precision: int = 2
    coverage_paths_checked: bool = True  # warn when none of a coverage report's first files is under root
    max_input_mb: int = 4096  # a compressed input may not inflate past this (MiB)
    max_token_mb: int = 32  # nor may one XML attribute, text or comment exceed this (MiB)
    max_text_mb: int = 64  # a report read whole (ruff, compileall, coverage JSON, OpenAPI): held in memory
    max_attributes: int = 10_000  # nor may one XML element carry more attributes than this
    max_testcases: int = 1_000_000  # nor may one suite's JUnit files hold more <testcase> elements
    max_decoded_mb: int = (
        DECODED_MB  # nor may JSON decoded at once (a spec, one ruff/coverage entry) take more (MiB)
    )
    guardian: GuardianConfig = GuardianConfig()
    uses_guardian: bool = False  # [tool.healthdeck.guardian] is present: Guardian is expected in every run
    gates: GateConfig = GateConfig()
    dashboard: DashboardConfig = DashboardConfig()
    prod_lanes: tuple[str, ...] = ()  # the lanes the release gate counts lint/compile findings in
    smoke_suite: str = "smoke"  # the suite the comment, badge and dashboard headline
    default_branch: str | None = None  # the dashboard starts on it; default: main or master if seen
    history: str | None = None  # history URL; default: SQLite file history.sqlite in `out`
    history_lock_timeout: int = 60  # seconds a writer waits for a locked history store before giving up
    project: str | None = None  # the project runs belong to (default: GITHUB_REPOSITORY, git remote, folder)
    # metric -> (green at or above, yellow at or above); below is red
    badge_thresholds: dict[str, tuple[float, float]] = {"pass_rate": (0.95, 0.80), "coverage": (80.0, 60.0)}  # noqa: RUF012
    source: str | None = None  # the pyproject.toml it came from
    # the folder its relative paths are read against: the file's own, or the working directory for a
    # config read from a pipe (`--config <(…)` is /dev/fd/63: its folder is no project's)
    base: str | None = None

    def beside_source(self, path: str) -> Path:
        """A path written in pyproject.toml is relative to the folder holding that file, as ruff's and
        pytest's are, so a command run from a subfolder writes and reads the same files; shown relative to
        the working directory, as given on the command line."""
        if not self.source or Path(path).is_absolute():
            return Path(path)
        return Path(os.path.relpath(self._base / path))

    @property
    def _base(self) -> Path:
        return Path(self.base) if self.base else Path(self.source).parent if self.source else Path.cwd()

    @property
    def input_limits(self) -> InputLimits:
        """What one input may hold, for the collectors (see collectors/base.py)."""
        from healthdeck.collectors.base import InputLimits  # local: it loads lxml, which light commands skip

        return InputLimits(
            self.max_input_mb,
            self.max_token_mb,
            self.max_text_mb,
            self.max_attributes,
            self.max_testcases,
            self.max_decoded_mb,
        )

    @property
    def default_branches(self) -> tuple[str, ...]:
        """The branches that can be the default one, in order: the configured one, else main or master."""
        return (self.default_branch,) if self.default_branch else ("main", "master")

    @property
    def out_path(self) -> Path:
        return self.beside_source(self.out)

    @property
    def history_url(self) -> str | None:
        """The configured store; a relative SQLite file is beside pyproject.toml, like `out`."""
        file = (self.history or "").removeprefix("sqlite:///")
        if file == self.history or file in ("", ":memory:") or file.startswith("/"):
            return self.history
        return f"sqlite:///{self.beside_source(file)}"

    @property
    def report_path(self) -> Path:
        """`latest.json` in `out`, relative to the working directory (as messages name it)."""
        return self.out_path / "latest.json"

    @property
    def committed_report(self) -> Path:
        """Where `git:REF` baselines find the report in a commit: `report_path`, made absolute so the
        repository-relative path comes out the same from any folder."""
        return self.report_path.resolve()

    @property
    def root_path(self) -> Path:
        return (self._base / self.root).resolve()


# (the field types as written: a record keeps postponed annotations as the strings they are)
_INT_KEYS = {name for name, kind in Config.__annotations__.items() if kind == "int"}
# Bounds for the integer settings: beyond them a value is a typo, and some would stall a run
# (a precision of 10**8 formats every percentage with a hundred million digits).
INT_RANGES: dict[str, tuple[int, int]] = {
    "message_chars": (1, 100_000),
    "slowest": (0, 10_000),
    "max_failing_listed": (0, 1_000_000),
    "cause_tests_listed": (0, 100_000),
    "causes_listed": (0, 100_000),
    "lowest_files": (0, 100_000),
    "coverage_files_listed": (0, 1_000_000),
    "findings_listed": (0, 100_000),
    # eight tables of up to this many rows: at 10 000 the Guardian section stays a few MiB
    "guardian_rows_listed": (0, 10_000),
    "coverage_precision": (0, 10),
    "history_lock_timeout": (0, 86_400),
    "max_input_mb": (1, 1 << 20),
    "max_token_mb": (1, 4096),
    "max_text_mb": (1, 4096),
    # below a few hundred, the byte scanner walks every tag of a chunk (slow); a million is some 300 MB
    "max_attributes": (100, 1_000_000),
    # every test id of a suite is held (0.1 KB, a failing test's message more): a million failing ones with messages of their own near 260 MB
    "max_testcases": (1, 1_000_000_000),
    # estimated before decoding (collectors/checks.py: decoded_size); below 16 MiB real specs are refused
    "max_decoded_mb": (16, 1 << 20),
}
MAX_TIMEOUT = 3600.0  # seconds; [tool.healthdeck.guardian] timeout
MAX_AGE_HOURS = 24 * 366  # [tool.healthdeck.gates] max_age_hours: beyond a year it is no check
MAX_CACHED_TOML = 1024 * 1024  # bytes: a larger pyproject.toml is parsed each time (see _read_toml)


def find_pyproject(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(path: str | Path | None = None, start: Path | None = None) -> Config:
    """Read the config from `path`, or from the nearest pyproject.toml; absent section = defaults."""
    source = Path(path) if path else find_pyproject((start or Path.cwd()).resolve())
    if source is None:
        return Config()
    try:
        data = _read_toml(source)
    except OSError as exc:  # strerror alone: the path is already the line's first word
        raise ConfigError(f"{source}: cannot read config: {exc.strerror or exc}") from exc
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{source}: [tool] must be a table, not {type(tool).__name__}")
    section = tool.get("healthdeck")
    if section is None:
        _misspelt_section(data, source)
        return Config(source=str(source), base=_base_of(source)) if path else Config()
    if not isinstance(section, dict):
        raise ConfigError(f"{source}: [tool.healthdeck] must be a table, not {type(section).__name__}")
    config = _parse(section, source)._replace(base=_base_of(source))
    if not config.root_path.is_dir():  # lanes and git would silently match nothing
        raise ConfigError(
            f"{source}: [tool.healthdeck] root = {config.root!r}: no such folder ({config.root_path})"
        )
    return config


def _read_toml(source: Path) -> dict[str, Any]:
    """The parsed pyproject.toml, from the parse cache when the same text was parsed before.

    tomllib costs a sixth of a light command's start-up (it imports typing and compiles its patterns);
    a CI job runs collect, gate, comment and badge on one unchanged pyproject.toml, so collect parses it
    and the others read the parse back as JSON. A cache entry holds the whole text it was parsed from
    and is used only for that exact text, so a stale entry is never used; an unusable one is ignored.
    """
    raw = read_named(source)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: cannot read config: {exc}") from exc
    # Windows editors write one; tomllib (and pip) read it as "Invalid statement"
    if text.startswith("\ufeff"):
        raise ConfigError(f"{source}: cannot read config: it starts with a byte-order mark, which TOML readers "
                          "(pip's too) refuse; save it as UTF-8 without BOM")  # fmt: skip
    entry = _cache_entry(source, len(raw))
    cached = _cached(entry) if entry is not None else None
    if cached is not None and cached.get("toml") == text and isinstance(cached.get("data"), dict):
        return cached["data"]
    import tomllib  # here: a cached parse skips it

    try:
        data = tomllib.loads(text)
    except ValueError as exc:  # TOMLDecodeError, and an integer past Python's 4 300-digit conversion limit
        raise ConfigError(f"{source}: cannot read config: {exc}") from exc
    except RecursionError:  # tomllib reads nested arrays and inline tables recursively
        raise ConfigError(f"{source}: cannot read config: arrays or tables nested too deeply") from None
    if entry is not None:
        _store(entry, text, data)
    return data


def _cached(entry: Path) -> dict | None:
    """The cache entry, or None: absent, torn, foreign, not a plain file (a FIFO would block, a device
    never end), larger than any entry written, or writable by others or owned by another user (an
    entry is trusted as the parse of the text it holds, so only the user's own entries are)."""
    try:
        fd = os.open(entry, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > 4 * MAX_CACHED_TOML or st.st_mode & 0o022:
            return None
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            return None
        with os.fdopen(os.dup(fd), "rb") as fh:
            cached = json.loads(fh.read(4 * MAX_CACHED_TOML + 1))
        return cached if isinstance(cached, dict) else None
    except (OSError, ValueError, RecursionError):
        return None
    finally:
        os.close(fd)


def cache_dir() -> Path | None:
    """HEALTHDECK_CACHE_DIR (empty: no cache), else $XDG_CACHE_HOME/healthdeck, else ~/.cache/healthdeck."""
    chosen = os.environ.get("HEALTHDECK_CACHE_DIR")
    if chosen is not None:
        return Path(chosen) if chosen else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, "healthdeck") if os.path.isabs(base) else None


def _cache_entry(source: Path, size: int) -> Path | None:
    """One entry per pyproject.toml path, replaced when its text changes: the cache does not grow."""
    folder = cache_dir()
    if folder is None or size > MAX_CACHED_TOML:
        return None
    return folder / f"pyproject-{zlib.crc32(os.fsencode(os.path.abspath(source))):08x}.json"


def _store(entry: Path, text: str, data: dict[str, Any]) -> None:
    """Best effort: a read-only home or a TOML date (not JSON) leaves the next run parsing again."""
    try:
        payload = json.dumps({"toml": text, "data": data}, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return
    temp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # the user's alone (0600), as _cached requires: whatever the umask, no one else can change it
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(payload)
        os.replace(temp, entry)  # whole or absent: a parallel job reads the old entry or the new one
    except OSError:
        with contextlib.suppress(OSError):  # the folder may be what failed
            temp.unlink()


def _base_of(source: Path) -> str:
    """The folder a config's relative paths are read against (see Config.base)."""
    return str(source.parent if rereadable(source) else Path.cwd())


def _misspelt_section(data: dict, source: Path) -> None:
    """`[tool.healthdek.gates]` or `[tools.healthdeck]` would leave the project's gates unread and the
    default checklist deciding: a typo must not switch the configured checks off."""
    import difflib  # here: only a pyproject without [tool.healthdeck] pays for it

    tables = {f"{top}.{k}": k for top, sub in data.items() if isinstance(sub, dict) for k in sub}
    tables |= {top: top for top in data}
    for table, name in tables.items():
        if name == "healthdeck" or difflib.get_close_matches(name, ["healthdeck"], cutoff=0.8):
            raise ConfigError(f"{source}: [{table}] is not read; did you mean [tool.healthdeck]?")


_TABLES = {
    "badge_thresholds",
    "categories",
    "dashboard",
    "gates",
    "guardian",
    "lanes",
}  # the [tool.healthdeck.X]


def _parse(section: dict[str, Any], source: Path) -> Config:
    known = set(Config._fields) - {"source", "uses_guardian", "base"}
    values: dict[str, Any] = {"source": str(source)}
    for key, value in section.items():
        if key not in known:
            table = isinstance(value, dict)  # a typo'd table is matched against the tables only
            raise _unknown(key, _TABLES if table else known, f"{source}: [tool.healthdeck]", table=table)
        if key == "lanes":
            values[key] = _lanes(value, source)
        elif key == "guardian":
            values["uses_guardian"] = True
            values[key] = _guardian(value, source)
        elif key == "gates":
            values[key] = _gates(value, source)
        elif key == "dashboard":
            values[key] = _dashboard(value, source)
        elif key == "prod_lanes":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{source}: [tool.healthdeck] prod_lanes must be a list of lane names")
            values[key] = tuple(value)
        elif key == "badge_thresholds":
            values[key] = _thresholds(value, source)
        elif key == "categories":
            values[key] = _categories(value, source)
        elif key == "coverage_paths_checked":
            if not isinstance(value, bool):
                raise ConfigError(f"{source}: [tool.healthdeck] {key} must be true or false")
            values[key] = value
        elif key in ("duration_floor", "duration_ratio"):
            if not _number(value) or value <= 0 or (key == "duration_ratio" and value <= 1):
                limit = "a number above 1" if key == "duration_ratio" else "a positive number of seconds"
                raise ConfigError(f"{source}: [tool.healthdeck] {key} must be {limit}")
            values[key] = float(value)
        elif key in _INT_KEYS:
            low, high = INT_RANGES[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{source}: [tool.healthdeck] {key} must be a non-negative integer")
            if not low <= value <= high:
                raise ConfigError(
                    f"{source}: [tool.healthdeck] {key} must be from {low} to {high}, not {value}"
                )
            values[key] = value
        else:
            if not isinstance(value, str):
                raise ConfigError(f"{source}: [tool.healthdeck] {key} must be a string")
            values[key] = value
    config = Config(**values)
    unknown = [lane for lane in config.prod_lanes if lane not in config.lanes]
    if unknown:  # a misspelt prod lane would silently drop out of the release checklist
        raise ConfigError(
            f"{source}: [tool.healthdeck] prod_lanes names lanes that [tool.healthdeck.lanes] does not define: "
            + ", ".join(unknown)
        )
    return config


def _unknown(key: str, known: set[str] | list[str], where: str, *, table: bool = False) -> ConfigError:
    """A typo must never be ignored (it could switch a check off): name it and the nearest valid name."""
    import difflib  # here: only a configuration with a typo pays for it

    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    prefix = where.rsplit("[", 1)[-1].rstrip("]")
    shown = f"table [{prefix}.{key}]" if table else f"key {key!r}"
    hint = (
        (f"; did you mean [{prefix}.{close[0]}]?" if table else f"; did you mean {close[0]!r}?")
        if close
        else ""
    )
    return ConfigError(f"{where}: unknown {shown}{hint} (valid: {', '.join(sorted(known))})")


def _lanes(value: Any, source: Path) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: [tool.healthdeck.lanes] must be a table of lane = [prefixes]")
    lanes: dict[str, tuple[str, ...]] = {}
    for lane, prefixes in value.items():
        if isinstance(prefixes, str):
            prefixes = [prefixes]
        if not isinstance(prefixes, list) or not all(isinstance(p, str) and p for p in prefixes):
            raise ConfigError(f"{source}: [tool.healthdeck.lanes] {lane} must be a list of path prefixes")
        lanes[lane] = tuple(p if p.endswith("/") else p + "/" for p in prefixes)
    return lanes


_GUARDIAN_KEYS = {"preset", "decisions_metric", "denies_metric", "decision_labels", "deny_labels", "timeout",
                  "prometheus_url", "window"}  # fmt: skip


def _guardian(value: Any, source: Path) -> GuardianConfig:
    where = f"{source}: [tool.healthdeck.guardian]"
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table")
    for key in value:
        if key not in _GUARDIAN_KEYS:
            raise _unknown(key, _GUARDIAN_KEYS, where)
    preset = value.get("preset", "healthdeck")
    if not isinstance(preset, str) or preset not in PRESETS:
        raise ConfigError(f"{where} preset must be one of {', '.join(PRESETS)}, not {preset!r}")
    metrics = PRESETS[preset]
    for key, attr in (("decisions_metric", "decisions"), ("denies_metric", "denies")):
        if key in value:
            metrics = metrics._replace(**{attr: _string(value[key], f"{where} {key}")})
    for key in ("decision_labels", "deny_labels"):
        if key in value:
            labels = value[key]
            if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
                raise ConfigError(f"{where} {key} must map concepts to label keys (strings)")
            metrics = metrics._replace(**{key: {**getattr(metrics, key), **labels}})
    timeout = value.get("timeout", 5.0)
    if not _number(timeout) or not 0 < timeout <= MAX_TIMEOUT:
        raise ConfigError(f"{where} timeout must be a number of seconds above 0, at most {MAX_TIMEOUT:g}")
    url = value.get("prometheus_url")
    return GuardianConfig(
        metrics=metrics,
        prometheus_url=_string(url, f"{where} prometheus_url") if url is not None else None,
        window=_string(value.get("window", "24h"), f"{where} window"),
        timeout=float(timeout),
    )


_GATE_SETTINGS = ("unknown_blocks", "baseline")  # how the checklist decides, not items of it
_GATE_KEYS = tuple(name for name in GateConfig._fields if name not in ("origin", "dropped", "added"))


def _dashboard(value: Any, source: Path) -> DashboardConfig:
    where = f"{source}: [tool.healthdeck.dashboard]"
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table")
    known = set(DashboardConfig._fields)
    values: dict[str, Any] = {}
    for key, item in value.items():
        if key not in known:
            raise _unknown(key, known, where)
        if key == "sign_in":
            if not isinstance(item, bool):
                raise ConfigError(f"{where} sign_in must be true or false")
            values[key] = item
        elif key == "provider":
            values[key] = _string(item, f"{where} provider")
        elif key == "recheck_seconds":
            if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= 3600:
                raise ConfigError(f"{where} recheck_seconds must be a whole number of seconds from 0 to 3600")
            values[key] = item
        else:
            if not isinstance(item, list) or not all(isinstance(v, str) and v.strip("@ ") for v in item):
                raise ConfigError(f"{where} {key} must be a list of non-empty strings")
            values[key] = tuple(
                v.strip().lstrip("@").lower() if key == "allowed_domains" else v for v in item
            )
    return DashboardConfig(**values)


def _gates(value: Any, source: Path) -> GateConfig:
    """The default checklist adjusted by the table: `item = false` drops an item, a value sets or adds it."""
    where = f"{source}: [tool.healthdeck.gates]"
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table")
    default = GateConfig()
    values: dict[str, Any] = {}
    for key, item in value.items():
        if key not in _GATE_KEYS:
            raise _unknown(key, set(_GATE_KEYS), where)
        values[key] = _gate_value(key, item, where)
    off = {k for k, v in values.items() if v is None or v is False or v == {}}  # 0 is a threshold, not off
    dropped = tuple(k for k in DEFAULT_CHECKLIST if k in off)
    added = tuple(
        k
        for k in _GATE_KEYS
        if k not in DEFAULT_CHECKLIST and k not in _GATE_SETTINGS and k in values and k not in off
    )
    return default._replace(**values, origin=str(source), dropped=dropped, added=added)


def _gate_value(key: str, item: Any, where: str) -> Any:
    """One checklist entry, unit-checked. `false` turns any item off (None internally)."""
    if key in ("no_new_failures", "unknown_blocks", "report_current"):
        if not isinstance(item, bool):
            raise ConfigError(f"{where} {key} must be true or false")
        return item
    if key == "baseline":
        return _string(item, f"{where} baseline")
    if item is False:
        return {} if key == "pass_rate_min" else None
    if key == "pass_rate_min":
        if not isinstance(item, dict):
            raise ConfigError(f"{where} pass_rate_min must map suites to fractions, e.g. {{unit = 0.9}}")
        return {str(suite): _fraction(v, f"{where} pass_rate_min.{suite}") for suite, v in item.items()}
    if key == "smoke_pass_rate_min":
        return _fraction(item, f"{where} {key}")
    if not _number(item) or item < 0:
        raise ConfigError(f"{where} {key} must be a non-negative number, or false to drop it")
    if key in _COUNT_LIMITS and (isinstance(item, float) and not item.is_integer()):
        raise ConfigError(
            f"{where} {key} = {item:g}: it counts findings, files or changes; write a whole number"
        )
    if key in _COUNT_LIMITS:
        return int(item)
    if key == "coverage_min":
        _percent(item, f"{where} {key}")
    if key == "coverage_drop_max" and item > 100:
        raise ConfigError(f"{where} {key} = {item}: a coverage drop is in percentage points (0..100)")
    if key == "max_age_hours" and item > MAX_AGE_HOURS:
        raise ConfigError(f"{where} {key} = {item:g}: at most {MAX_AGE_HOURS} hours (a year)")
    return item


def _fraction(value: Any, where: str) -> float:
    """Pass rates are fractions 0..1; 95 is almost certainly meant as 0.95."""
    if not _number(value) or value < 0:
        raise ConfigError(f"{where} must be a fraction between 0 and 1, e.g. 0.95")
    if value > 1:
        hint = f"; for {value:g} % write {value / 100:g}" if value <= 100 else ""
        raise ConfigError(f"{where} = {value:g}: pass rates are fractions between 0 and 1{hint}")
    return float(value)


def _percent(value: float, where: str) -> None:
    """Coverage thresholds are percent 0..100; 0.8 is almost certainly meant as 80 %."""
    if 0 < value < 1:
        raise ConfigError(
            f"{where} = {value:g}: coverage thresholds are percent, not fractions; for {value * 100:g} % "
            f"write {value * 100:g}"
        )
    if value > 100:
        raise ConfigError(f"{where} must be a percentage from 0 to 100, not {value:g}")


def _categories(value: Any, source: Path) -> tuple[Category, ...]:
    where = f"{source}: [tool.healthdeck.categories]"
    if not isinstance(value, dict):
        raise ConfigError(f'{where} must be a table of NAME = {{message = "regex", outcome = [...]}}')
    out = []
    for name, rule in value.items():
        if not isinstance(rule, dict) or not rule:
            raise ConfigError(f"{where} {name} must be a table with message and/or outcome")
        unknown = set(rule) - {"message", "outcome"}
        if unknown:
            raise ConfigError(f"{where} {name}: unknown key {sorted(unknown)[0]!r} (known: message, outcome)")
        pattern = None
        if "message" in rule:
            try:
                pattern = re.compile(_string(rule["message"], f"{where} {name}.message"))
            except (re.error, OverflowError, RecursionError) as exc:  # a{4294967295}: too large to compile
                raise ConfigError(f"{where} {name}.message is not a valid regular expression: {exc}") from exc
        outcomes = rule.get("outcome", [])
        outcomes = [outcomes] if isinstance(outcomes, str) else outcomes
        if not isinstance(outcomes, list) or not all(o in CATEGORY_OUTCOMES for o in outcomes):
            raise ConfigError(f"{where} {name}.outcome must be one or more of {', '.join(CATEGORY_OUTCOMES)}")
        out.append(Category(str(name), pattern, frozenset(outcomes), f"{where} {name}"))
    return tuple(out)


def _thresholds(value: Any, source: Path) -> dict[str, tuple[float, float]]:
    where = f"{source}: [tool.healthdeck.badge_thresholds]"
    out = dict(Config().badge_thresholds)
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table")
    for key, pair in value.items():
        if key not in out:
            raise _unknown(key, set(out), where)
        if not isinstance(pair, list) or len(pair) != 2 or not all(_number(p) for p in pair):
            raise ConfigError(f"{where} {key} must be [green_at_or_above, yellow_at_or_above]")
        for bound in pair:
            if key == "coverage":
                _percent(bound, f"{where} {key}")
            else:
                _fraction(bound, f"{where} {key}")
        if pair[0] < pair[1]:  # green below yellow: a figure between them would be yellow and never green
            raise ConfigError(
                f"{where} {key} = {pair}: the green bound comes first and is not below the yellow one"
            )
        out[key] = (float(pair[0]), float(pair[1]))
    return out


def _number(value: Any) -> bool:
    """A finite number (TOML allows nan and inf, which no threshold means)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where} must be a non-empty string")
    return value


def lane_of(path: str, lanes: dict[str, tuple[str, ...]]) -> str | None:
    """The first lane whose prefix the (project-relative, POSIX) path starts with."""
    for lane, prefixes in lanes.items():
        if path.startswith(prefixes):
            return lane
    return None


def ruff_in_prod(summary: dict, prod_lanes: tuple[str, ...] | list[str]) -> int | None:
    """ruff findings in the prod lanes, as the gate counts them: every finding when no lane is prod; None
    without per-lane counts, or when a prod lane was not a lane when the run was collected (every
    configured lane is in the counts, 0 when clean), so two runs' figures are the same measure or none."""
    ruff = summary.get("ruff")
    if not ruff:
        return None
    if not prod_lanes:
        return ruff["count"]["total"]
    lanes = ruff["count"].get("lanes")
    if lanes is None or any(lane not in lanes for lane in prod_lanes):
        return None
    return sum(lanes[lane] for lane in prod_lanes)
