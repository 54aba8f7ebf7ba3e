"""Hand-written reports in every shape the upstream LUKHAS health report was committed in (formats.md).

Its licence is view-only, so these are re-created from the notes, not copied: `{summary, raw}` with or
without version/git_sha/guardian_rl; `tests.smoke` as counts, as `{summary: "<console tail>"}`, as
null, or with string counts; two versions sharing one timestamp.
"""

from __future__ import annotations

BASE_TS = 1_760_313_600  # 2025-10-13


def _raw(task: str, ok: bool = True) -> dict:
    return {
        task: {"task": task, "ok": ok, "rc": 0 if ok else 1, "stdout": "...", "stderr": "", "parsed": None}
    }


def versions() -> list[tuple[dict, dict]]:
    """[(report, what an importer should read from it)] for 14 commits, oldest first."""
    out = []

    def add(summary: dict, expect: dict, raw: dict | None = None) -> None:
        out.append(({"summary": summary, "raw": raw or _raw("pytest_smoke")}, expect))

    day = 86_400
    add({"ts": BASE_TS, "ruff": {"stats": {"E501": 120, "F401": 30}, "count": {"total": 150}},
         "tests": {"smoke": {"passed": 10, "failed": 2, "maxfail_stopped": False}, "unit_core": None}},
        {"smoke_pass_rate": 10 / 12, "ruff": 150})  # fmt: skip
    add({"ts": BASE_TS + day, "git_sha": "a1b2c3d4",
         "tests": {"smoke": {"summary": "=== 12 passed, 1 failed, 2 skipped in 3.21s ==="}}},
        {"smoke_pass_rate": 12 / 13, "ruff": None})  # fmt: skip
    add({"ts": BASE_TS + 2 * day, "git_sha": "b2c3d4e5", "version": "v0.1.0-3-gb2c3d4e",
         "tests": {"smoke": {"passed": "15", "failed": "0"}}, "ruff": {"stats": {}, "count": {"total": "140"}}},
        {"smoke_pass_rate": 1.0, "ruff": 140})  # fmt: skip
    add({"ts": BASE_TS + 3 * day, "tests": {"smoke": None}, "guardian_rl": {"status": "api_not_running"}},
        {"smoke_pass_rate": None, "ruff": None})  # fmt: skip
    add({"ts": BASE_TS + 4 * day, "git_sha": "c3d4e5f6",
         "tests": {"smoke": {"summary": "....F.....\n(console tail without a summary line)"}}},
        {"smoke_pass_rate": None, "ruff": None})  # fmt: skip
    for i in range(5, 12):
        add({"ts": BASE_TS + i * day, "git_sha": f"{i:02d}d4e5f6", "timestamp_iso": "2025-10-20T00:00:00Z",
             "tests": {"smoke": {"passed": 20 + i, "failed": 12 - i}, "unit_core": {"summary": f"{100 + i} passed in 9s"}},
             "ruff": {"stats": {"E501": 100 - i}, "count": {"total": 100 - i}}, "compat": {}, "openapi": {}},
            {"smoke_pass_rate": (20 + i) / 32, "ruff": 100 - i})  # fmt: skip
    same_ts = BASE_TS + 12 * day  # two commits share this timestamp: the commit is the key, not the time
    for sha in ("12aaaaaa", "12bbbbbb"):
        add({"ts": same_ts, "git_sha": sha, "tests": {"smoke": {"passed": 30, "failed": 1}},
             "ruff": {"stats": {}, "count": {"total": 80}}},
            {"smoke_pass_rate": 30 / 31, "ruff": 80})  # fmt: skip
    return out
