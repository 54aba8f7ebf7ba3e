"""The dashboard's verdict banner agrees with `healthdeck gate`: the stored verdict when there is one,
and never GO for a run nobody gated."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from healthdeck.reports.cli import main
from tests import crafted
from tests.test_browser import APP


@pytest.fixture(scope="module")
def passing(tmp_path_factory) -> dict[str, Path]:
    """A healthy run (every crafted test passes) collected into a report and a history, not gated."""
    folder = tmp_path_factory.mktemp("passing")
    (folder / "c.py").write_text(crafted.TEST_FILE.format(ids=["ok"], phish="", terminal=""))
    config = folder / "pyproject.toml"
    config.write_text(
        '[tool.healthdeck]\nout = "out"\n[tool.healthdeck.gates]\npass_rate_min = { smoke = 0.95 }\n'
        # the default checklist minus what this project has no artifacts for (it only runs tests)
        "ruff_prod_max = false\ncompileall_prod_max = false\nopenapi_breaking_max = false\n"
    )
    junit = folder / "junit.xml"
    crafted.run_pytest(folder, junit, passing=True)
    out = folder / "out"
    history = f"sqlite:///{out / 'history.sqlite'}"
    args = ["--config", str(config), "--out", str(out), "--history", history]
    assert main(["collect", "-q", *args, "--junit", f"smoke={junit}"]) == 0
    return {"config": config, "report": out / "latest.json", "history": out / "history.sqlite"}


def _overview(monkeypatch, project: dict[str, Path]) -> AppTest:
    import streamlit as st

    st.cache_data.clear()
    monkeypatch.setenv("HEALTHDECK_REPORT", str(project["report"]))
    monkeypatch.setenv("HEALTHDECK_HISTORY", f"sqlite:///{project['history']}")
    monkeypatch.setenv("HEALTHDECK_CONFIG", str(project["config"]))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_run_nobody_gated_is_never_shown_as_go(monkeypatch, passing) -> None:
    at = _overview(monkeypatch, passing)
    assert not at.success, [s.value for s in at.success]
    banner = at.warning[0].value
    assert "Not gated yet" in banner and "GO" in banner  # what the checklist says now, named as such


def test_once_gated_the_banner_shows_the_gate_verdict(monkeypatch, passing, capsys, tmp_path) -> None:
    shutil.copytree(passing["report"].parent, tmp_path / "out")  # the other test wants it ungated
    passing = {
        **passing,
        "report": tmp_path / "out" / "latest.json",
        "history": tmp_path / "out" / "history.sqlite",
    }
    report, history = str(passing["report"]), f"sqlite:///{passing['history']}"
    code = main(["gate", "--config", str(passing["config"]), "--report", report, "--history", history])
    said = capsys.readouterr().out.splitlines()[-1]  # "verdict: GO"
    at = _overview(monkeypatch, passing)
    assert code == 0 and said == "verdict: GO"
    assert at.success and at.success[0].value.startswith("### :material/check_circle: GO")
    assert not any("Not gated yet" in w.value for w in at.warning)


OPENAPI = Path(__file__).resolve().parents[1] / "reports" / "samples" / "openapi"


@pytest.fixture(scope="module")
def api_change(tmp_path_factory) -> dict[str, Path]:
    """Two runs of FastAPI's own specs: the base against itself (no change), then base → head."""
    folder = tmp_path_factory.mktemp("openapi")
    out, history = folder / "out", f"sqlite:///{folder / 'out' / 'history.sqlite'}"
    now = int(time.time())
    for age, head in ((60, "base.json"), (0, "head.json")):
        os.environ["SOURCE_DATE_EPOCH"] = str(now - age)  # one run a minute after the other
        try:
            assert main(["collect", "-q", "--out", str(out), "--history", history, "--openapi",
                         str(OPENAPI / "base.json"), str(OPENAPI / head)]) == 0  # fmt: skip
        finally:
            del os.environ["SOURCE_DATE_EPOCH"]
    return {"report": out / "latest.json", "history": out / "history.sqlite", "config": folder / "none.toml"}


def test_openapi_breaking_changes_on_the_overview_and_the_review(monkeypatch, api_change) -> None:
    import json

    report = json.loads(api_change["report"].read_text())
    api, changes = report["summary"]["openapi"], report["details"]["openapi"]
    assert api["breaking"] > 0  # the sample's head removes and tightens operations
    api_change["config"].write_text("")
    at = _overview(monkeypatch, api_change)
    [alert] = [e.value for e in at.error if e.value.startswith("**") and "OpenAPI" in e.value]
    assert alert.startswith(
        f"**{api['breaking']} breaking OpenAPI changes**, {api['non_breaking']} non-breaking"
    )
    assert "`head.json`" in alert and str(OPENAPI) not in alert  # file names, not the machine's paths
    [table] = [d.value for d in at.dataframe if "rule" in d.value]
    assert table["rule"].tolist() == [c["rule"] for c in changes]
    assert int(table["breaking"].sum()) == api["breaking"]
    at.switch_page("app_pages/review.py").run()
    assert not at.exception
    [review] = [e.value for e in at.error if e.value.startswith("**") and "OpenAPI" in e.value]
    assert f"**{api['breaking']} breaking OpenAPI changes**" in review and "(baseline: 0 breaking)" in review
    [listed] = [d.value for d in at.dataframe if "rule" in d.value]  # from the run's stored report
    assert listed["rule"].tolist() == [c["rule"] for c in changes]


def test_a_project_without_guardian_or_an_api_sees_neither(monkeypatch, passing) -> None:
    """A project that never gave Guardian logs and dropped the OpenAPI item sees no Guardian card or
    deny-delta notice and no OpenAPI section on the overview or the review."""
    at = _overview(monkeypatch, passing)
    labels = [m.label for m in at.metric]
    assert len(labels) == 3 and not any("Guardian" in label for label in labels), labels
    assert "ruff (all files)" in labels or "ruff (prod lanes)" in labels
    assert not any("Guardian" in i.value for i in at.info)
    assert not any("OpenAPI" in e.label for e in at.expander)
    # nor on any other page: no element of the Tests, Coverage, Lint or Review page names either
    for page in ("tests", "coverage", "lint", "review"):
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
        shown = list(_texts(at.main))
        assert shown and not [t for t in shown if "Guardian" in t or "OpenAPI" in t], page


def _texts(node) -> Iterator[str]:
    """The value and label of every element under `node`, nested ones too."""
    for name in ("value", "label"):
        try:
            found = getattr(node, name, None)
        except Exception:  # a block has no value of its own
            found = None
        if isinstance(found, str):
            yield found
    for child in getattr(node, "children", {}).values():
        yield from _texts(child)


def _two_suites(folder: Path, config_text: str) -> dict[str, Path]:
    """A real pytest run read as two suites, `unit` and `integration`, collected twice (a trend needs two)."""
    (folder / "c.py").write_text(crafted.TEST_FILE.format(ids=["ok"], phish="", terminal=""))
    config = folder / "pyproject.toml"
    config.write_text('[tool.healthdeck]\nout = "out"\n' + config_text)
    junit = folder / "junit.xml"
    crafted.run_pytest(folder, junit, passing=True)
    out = folder / "out"
    args = ["--config", str(config), "--out", str(out), "--history", f"sqlite:///{out / 'history.sqlite'}"]
    for _ in range(2):
        assert (
            main(["collect", "-q", *args, "--junit", f"unit={junit}", "--junit", f"integration={junit}"]) == 0
        )
    return {"config": config, "report": out / "latest.json", "history": out / "history.sqlite"}


def _guides(at: AppTest) -> list[list[str]]:
    """Each chart's dashed guide labels ("gate 80 %")."""
    import json

    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return [[a["text"] for a in s["layout"].get("annotations", []) if "gate" in a["text"]] for s in specs]


def test_the_trend_guides_are_the_checklists_thresholds(monkeypatch, tmp_path) -> None:
    """The overview drew "gate 95 %" whatever smoke_pass_rate_min said, and the Tests page drew no guide
    for the default checklist: the dashboard had its own rule for the threshold."""
    project = _two_suites(tmp_path, 'smoke_suite = "unit"\n[tool.healthdeck.gates]\nsmoke_pass_rate_min = 0.8\n'
                          "pass_rate_min = { integration = 0.9 }\n")  # fmt: skip
    at = _overview(monkeypatch, project)
    assert _guides(at)[0] == ["gate 80 %"]  # the overview's smoke trend
    at.switch_page("app_pages/tests.py").run()
    assert not at.exception
    assert sorted(_guides(at)[0]) == ["gate 80 % (unit)", "gate 90 % (integration)"]


def test_with_several_suites_and_none_called_smoke_no_suite_is_headlined(monkeypatch, tmp_path) -> None:
    """The gate's smoke item is UNKNOWN then; the dashboard headlined the first suite as if it were smoke."""
    project = _two_suites(tmp_path, "")
    at = _overview(monkeypatch, project)
    card = at.metric[0]
    assert (card.label, card.value) == ("pass rate", "—")
    assert "no suite named 'smoke' among integration, unit" in card.help.replace("\\", "")  # Markdown-escaped
    assert "smoke pass rate" in at.warning[0].value  # the banner names the unknown item


def test_a_go_over_new_failures_says_so_in_the_banner(monkeypatch, tmp_path, capsys) -> None:
    """98 of 100 smoke tests pass, two of them newly failing, under a checklist that does not gate new
    failures: the gate says GO, and the banner says what the gate's log and the comment say beside it."""
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.healthdeck]\nout = "out"\n[tool.healthdeck.gates]\n'
                      "ruff_prod_max = false\ncompileall_prod_max = false\nopenapi_breaking_max = false\n")  # fmt: skip
    out, history = tmp_path / "out", f"sqlite:///{tmp_path / 'out' / 'history.sqlite'}"
    for failing in (0, 2):
        junit = tmp_path / f"junit{failing}.xml"
        cases = "".join(f'<testcase classname="t" name="t{i}">' + ("<failure message='boom'/>" if i < failing else "")
                        + "</testcase>" for i in range(100))  # fmt: skip
        junit.write_text(f"<testsuites><testsuite name='pytest'>{cases}</testsuite></testsuites>")
        args = ["--config", str(config), "--out", str(out), "--history", history, "--junit", f"smoke={junit}"]
        assert main(["collect", "-q", *args]) == 0
    assert (
        main(["gate", "--config", str(config), "--report", str(out / "latest.json"), "--history", history])
        == 0
    )
    capsys.readouterr()
    at = _overview(
        monkeypatch, {"config": config, "report": out / "latest.json", "history": out / "history.sqlite"}
    )
    banner = at.success[0].value
    assert banner.startswith("### :material/check_circle: GO")
    assert (
        ":material/warning: 2 new failing tests against the baseline: this checklist does not gate" in banner
    )
