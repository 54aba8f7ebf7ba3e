"""A shared history store is written by every runner with its credentials, so what it holds is input:
a row that healthdeck did not write so (mangled, truncated, a compression bomb, NaN) is one line and
exit 3 in every reader, in bounded memory, and a said state on the dashboard, never a traceback."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from healthdeck.reports.cli import EXIT_INPUT, EXIT_OK, main
from healthdeck.reports.history.store import open_store
from tests.conftest import EDGE, REAL

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
READERS = [["gate", "--no-write"], ["comment"], ["badge"], ["review"]]
BOMB = (
    "a bomb"  # stands for 80 MiB of JSON that zlib packs into some 80 kB: past the 64 MiB a report may take
)
# Runs a command in a fresh interpreter and reports its children's peak RSS: Linux carries a process's
# peak over exec, so a command started straight from the test process would report the test's own.
MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps([done.returncode, done.stderr, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024]))
"""

MANGLED = {
    "report is not zlib": ("UPDATE run_reports SET body = ?", [b"not zlib at all"]),
    "report is text": ("UPDATE run_reports SET body = ?", ["text, not bytes"]),
    "report is not JSON": ("UPDATE run_reports SET body = ?", [zlib.compress(b"{'single': 'quotes'}")]),
    "report is a list": ("UPDATE run_reports SET body = ?", [zlib.compress(b"[1, 2, 3]")]),
    "report holds NaN": ("UPDATE run_reports SET body = ?", [None]),  # filled in below from the real report
    "report is a bomb": ("UPDATE run_reports SET body = ?", [BOMB]),
    "summary is not JSON": ("UPDATE runs SET summary_json = ?", ["{not json"]),
    "summary's tests are text": ("UPDATE runs SET summary_json = ?", ['{"tests": "x"}']),
    "time is text": ("UPDATE runs SET ts = ?", ["abc"]),
    "time is out of range": ("UPDATE runs SET ts = ?", [2**62]),
    "metric is text": ("UPDATE metrics SET value = ?", ["abc"]),
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pristine")
    store = folder / "history.sqlite"
    args = ["collect", "-q", "--out", str(folder / "out"), "--history", f"sqlite:///{store}"]
    assert main([*args, "--junit", f"smoke={EDGE / 'xunit2.xml'}"]) == EXIT_OK
    return store


def _mangled(pristine: Path, folder: Path, case: str) -> str:
    store = folder / "history.sqlite"
    store.write_bytes(pristine.read_bytes())
    sql, params = MANGLED[case]
    with sqlite3.connect(store) as db:
        if params == [BOMB]:
            inflate = zlib.compressobj(9)
            packed = inflate.compress(b'{"summary": {"x": "')
            packed += b"".join(inflate.compress(b"x" * (1 << 20)) for _ in range(80))
            params = [packed + inflate.compress(b'"}}') + inflate.flush()]
        if params == [None]:  # the stored report with a NaN where a number was
            [(body,)] = db.execute("SELECT body FROM run_reports").fetchall()
            report = json.loads(zlib.decompress(body))
            report["summary"]["tests"]["smoke"]["pass_rate"] = float("nan")
            params = [zlib.compress(json.dumps(report).encode())]
        db.execute(sql, params)
    return f"sqlite:///{store}"


@pytest.mark.parametrize("case", list(MANGLED))
def test_a_mangled_row_is_one_line_and_exit_3_in_every_reader(
    pristine, tmp_path, monkeypatch, capsys, case
) -> None:
    url = _mangled(pristine, tmp_path, case)
    monkeypatch.chdir(tmp_path)  # no report file: the readers read the store
    # a metric row is read by what lists figures (review, history show); the others never meet it
    readers = (
        [["review"], ["history", "show"]] if case == "metric is text" else [*READERS, ["history", "show"]]
    )
    if case.startswith("report"):  # history show lists summaries, not the stored reports
        readers.remove(["history", "show"])
    for argv in readers:
        code = main([*argv, "--history", url, *(["--out", str(tmp_path / "b")] if argv == ["badge"] else [])])
        err = capsys.readouterr().err
        error = [line for line in err.splitlines() if not line.startswith("healthdeck: note:")]
        assert code == EXIT_INPUT, (argv, err)
        assert len(error) == 1 and error[0].startswith("healthdeck: error: "), (argv, err)


def test_a_compressed_report_bomb_is_refused_within_bounded_memory(pristine, tmp_path) -> None:
    """80 kB in the store, 80 MiB inflated: refused before it is held, well under 300 MB."""
    url = _mangled(pristine, tmp_path, "report is a bomb")
    command = [sys.executable, "-c", "from healthdeck.reports.cli import main; raise SystemExit(main())"]
    done = subprocess.run([sys.executable, "-c", MEASURE, *command, "comment", "--history", url],
                          capture_output=True, text=True, cwd=tmp_path, check=True, timeout=120)  # fmt: skip
    code, stderr, peak = json.loads(done.stdout)
    assert code == EXIT_INPUT and "inflates to more than 64 MiB" in stderr, stderr
    assert peak < 300 * 2**20, peak


@pytest.mark.parametrize("case", ["report is not JSON", "metric is text", "summary's tests are text"])
def test_the_dashboard_says_an_unreadable_store_row_on_every_page(
    pristine, tmp_path, monkeypatch, case
) -> None:
    url = _mangled(pristine, tmp_path, case)
    monkeypatch.setenv("HEALTHDECK_REPORT", str(tmp_path / "no-report.json"))
    monkeypatch.setenv("HEALTHDECK_HISTORY", url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    for page in ["overview", "tests", "coverage", "lint", "review", "projects"]:
        if page != "overview":
            at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
        said = [e.value for e in at.error]
        # the pages that read every such row say so (the others of this one-run store may read none)
        assert page not in ("overview", "tests") or any("unreadable" in e.lower() for e in said), (page, said)


@pytest.mark.parametrize(
    ("argv", "env", "code", "said"),
    [
        (["history", "show", "--history", "sqlite:///" + "a" * 300], {}, 2, "longer than the 255 bytes"),
        (["collect", "--history", "sqlite:///x.sqlite?mode=rw"], {}, 2, "takes no query"),
        (["collect", "--no-history"], {"SOURCE_DATE_EPOCH": "9" * 20}, 2, "not a Unix time"),
        (
            ["collect", "--no-history", "--baseline", "report:loop1"],
            {},
            3,
            "Too many levels of symbolic links",
        ),
        (
            ["history", "prune", "--keep-runs", "1", "--history", "sqlite:///x.sqlite"],
            {},
            3,
            "no history store there",
        ),
    ],
    ids=["long-file-name", "sqlite-query", "epoch-out-of-range", "baseline-symlink-loop", "prune-no-store"],
)
def test_a_bad_store_url_time_or_baseline_link_is_one_line(
    tmp_path, monkeypatch, capsys, argv, env, code, said
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "loop1").symlink_to("loop2")
    (tmp_path / "loop2").symlink_to("loop1")
    inputs = ["--out", "out", "--junit", f"smoke={EDGE / 'xunit2.xml'}"] if argv[0] == "collect" else []
    assert main([*argv, *inputs]) == code
    err = [line for line in capsys.readouterr().err.splitlines() if "warning:" not in line]
    assert len(err) == 1 and said in err[0], err
    assert not list(tmp_path.glob("*.sqlite"))  # no store made by a typo


def test_imports_the_readers_would_refuse_keep_their_figures_only(tmp_path, monkeypatch, capsys) -> None:
    """import-dir stores a report only when it is one a reader accepts (a hand-edited coverage of 101 %
    keeps its figures, not its report), and a console line that did not say every count (errors: None)
    is read by every reader, never an exit 5."""
    source = tmp_path / "in"
    source.mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["collect", "-q", "--no-history", "--out", "o", "--junit", f"smoke={EDGE / 'xunit2.xml'}",
                 "--coverage", str(REAL / "packaging.coverage.xml.gz")]) == EXIT_OK  # fmt: skip
    report = json.loads((tmp_path / "o" / "latest.json").read_text())
    report["summary"]["coverage"]["percent"] = 101
    (source / "edited.json").write_text(json.dumps(report))
    upstream = {"summary": {"ts": 1_700_000_000, "git_sha": "abcdef12",
                            "tests": {"unit": {"summary": "10 passed, 2 failed in 3s"}}}}  # fmt: skip
    (source / "upstream.json").write_text(json.dumps(upstream))
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    capsys.readouterr()
    assert main(["history", "import-dir", str(source), "--history", url]) == EXIT_OK
    out = capsys.readouterr().out
    assert "imported 2 runs" in out and "figures only (its report is not stored)" in out and "101" in out
    for run in open_store(url, readonly=True).runs():
        for argv in (["gate", "--no-write"], ["comment"], ["review"]):
            assert main([*argv, "--history", url, "--run", run.run_key]) in (0, 1), (
                argv,
                capsys.readouterr().err,
            )


def test_a_dangling_baseline_link_is_a_missing_file_and_epoch_0_is_a_time(
    tmp_path, monkeypatch, capsys
) -> None:
    """A link to an artifact that was not downloaded is the first run's missing baseline (said, compared
    with nothing), not an unreadable one; SOURCE_DATE_EPOCH=0 pins the time to 0, not to now."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    (tmp_path / "base.json").symlink_to(tmp_path / "not-downloaded" / "latest.json")
    args = ["collect", "-q", "--no-history", "--out", "o", "--junit", f"smoke={EDGE / 'xunit2.xml'}"]
    assert main([*args, "--baseline", f"report:{tmp_path / 'base.json'}"]) == EXIT_OK
    assert "compared with nothing" in capsys.readouterr().err
    assert json.loads((tmp_path / "o" / "latest.json").read_text())["summary"]["ts"] == 0
